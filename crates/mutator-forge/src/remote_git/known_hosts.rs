//! Checks an ssh server's host key against an OpenSSH `known_hosts` file.
//!
//! Understood: comma-separated host patterns with `*` and `?`, negated patterns (`!host`),
//! `[host]:port` for servers not on port 22, hashed host names (`|1|salt|hash`, as written by
//! `ssh-keyscan -H` or `HashKnownHosts yes`) and `@revoked` keys. `@cert-authority` lines are
//! skipped: host certificates are not supported, so such hosts need a plain key line.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// What the file says about a host and the key it presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A line for this host lists exactly this key.
    Known,
    /// The host is listed, but with other keys: the key changed or someone is in between.
    Changed,
    /// The host is not listed.
    Unknown,
    /// The key is marked `@revoked`.
    Revoked,
}

#[derive(Debug)]
enum Hosts {
    Patterns(Vec<String>),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Debug)]
struct Line {
    revoked: bool,
    hosts: Hosts,
    key: Vec<u8>,
}

/// The parsed file. Lines it cannot read are skipped, as OpenSSH does.
#[derive(Debug, Default)]
pub(crate) struct KnownHosts {
    lines: Vec<Line>,
}

impl KnownHosts {
    pub fn parse(text: &str) -> KnownHosts {
        let lines = text.lines().filter_map(parse_line).collect();
        KnownHosts { lines }
    }

    /// Looks up `host` (as the URL names it) on `port` presenting `key` (the key blob as sent
    /// on the wire, which is what the base64 field of a line holds).
    pub fn check(&self, host: &str, port: u16, key: &[u8]) -> Verdict {
        let name = if port == 22 {
            host.to_ascii_lowercase()
        } else {
            format!("[{}]:{port}", host.to_ascii_lowercase())
        };
        if self.lines.iter().any(|l| l.revoked && l.key == key) {
            return Verdict::Revoked;
        }
        let mut listed = false;
        for line in self.lines.iter().filter(|l| !l.revoked) {
            if line.hosts.matches(&name) {
                if line.key == key {
                    return Verdict::Known;
                }
                listed = true;
            }
        }
        if listed {
            Verdict::Changed
        } else {
            Verdict::Unknown
        }
    }
}

fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let mut revoked = false;
    if let Some(marker) = first.strip_prefix('@') {
        match marker {
            "revoked" => revoked = true,
            _ => return None,
        }
        first = fields.next()?;
    }
    let _key_type = fields.next()?;
    let key = STANDARD.decode(fields.next()?).ok()?;
    let hosts = match first.strip_prefix("|1|") {
        Some(hashed) => {
            let (salt, hash) = hashed.split_once('|')?;
            Hosts::Hashed {
                salt: STANDARD.decode(salt).ok()?,
                hash: STANDARD.decode(hash).ok()?,
            }
        }
        None => Hosts::Patterns(first.split(',').map(str::to_ascii_lowercase).collect()),
    };
    Some(Line {
        revoked,
        hosts,
        key,
    })
}

impl Hosts {
    fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
            Hosts::Patterns(patterns) => {
                let mut hit = false;
                for pattern in patterns {
                    match pattern.strip_prefix('!') {
                        Some(negated) if wildcard(negated.as_bytes(), name.as_bytes()) => {
                            return false;
                        }
                        Some(_) => {}
                        None => hit |= wildcard(pattern.as_bytes(), name.as_bytes()),
                    }
                }
                hit
            }
        }
    }
}

/// `*` matches any run of characters, `?` exactly one.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys made with ssh-keygen for this test; the hashed lines are `ssh-keygen -H` of the plain
    // ones, so the HMAC is checked against OpenSSH's own output.
    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFkiD/1JsRe5DiDLnPbrLeW7/QcmksJfhUx8AwwMU/rS";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIGRMNVFvguw0tchJzRtymMK1ShH2CsD5x8jypeZ0kH54";
    const HASHED: &str = "\
|1|lbFsHOlldxxjexkiFMO5WJCy640=|gLbCGeWZhpYEkPPesmoc9zJnByI= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkiD/1JsRe5DiDLnPbrLeW7/QcmksJfhUx8AwwMU/rS
|1|pO1zVpLQzRJcwOZZnXw2xTBH2vo=|/qE6tbo92h62/IBwyfi8gUlsb/Q= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkiD/1JsRe5DiDLnPbrLeW7/QcmksJfhUx8AwwMU/rS
";

    fn key(b64: &str) -> Vec<u8> {
        STANDARD.decode(b64).unwrap()
    }

    #[test]
    fn plain_lines() {
        let kh = KnownHosts::parse(&format!(
            "# comment\n\ngit.example.com,10.0.0.1 ssh-ed25519 {KEY}\n[git.example.com]:2222 ssh-ed25519 {OTHER}\ngarbage\n"
        ));
        assert_eq!(kh.check("git.example.com", 22, &key(KEY)), Verdict::Known);
        assert_eq!(kh.check("GIT.example.com", 22, &key(KEY)), Verdict::Known);
        assert_eq!(kh.check("10.0.0.1", 22, &key(KEY)), Verdict::Known);
        assert_eq!(
            kh.check("git.example.com", 22, &key(OTHER)),
            Verdict::Changed
        );
        assert_eq!(
            kh.check("git.example.com", 2222, &key(OTHER)),
            Verdict::Known
        );
        assert_eq!(
            kh.check("git.example.com", 2222, &key(KEY)),
            Verdict::Changed
        );
        assert_eq!(
            kh.check("other.example.com", 22, &key(KEY)),
            Verdict::Unknown
        );
    }

    #[test]
    fn hashed_lines_from_ssh_keygen() {
        let kh = KnownHosts::parse(HASHED);
        assert_eq!(kh.check("git.example.com", 22, &key(KEY)), Verdict::Known);
        assert_eq!(kh.check("git.example.com", 2222, &key(KEY)), Verdict::Known);
        assert_eq!(
            kh.check("git.example.com", 22, &key(OTHER)),
            Verdict::Changed
        );
        assert_eq!(kh.check("git.example.org", 22, &key(KEY)), Verdict::Unknown);
    }

    #[test]
    fn wildcards_negation_and_revocation() {
        let kh = KnownHosts::parse(&format!(
            "*.example.com,!evil.example.com ssh-ed25519 {KEY}\n@cert-authority *.example.com ssh-ed25519 {OTHER}\n"
        ));
        assert_eq!(kh.check("git.example.com", 22, &key(KEY)), Verdict::Known);
        assert_eq!(
            kh.check("evil.example.com", 22, &key(KEY)),
            Verdict::Unknown
        );
        assert_eq!(kh.check("git.example.net", 22, &key(KEY)), Verdict::Unknown);
        let kh = KnownHosts::parse(&format!(
            "git.example.com ssh-ed25519 {KEY}\n@revoked * ssh-ed25519 {KEY}\n"
        ));
        assert_eq!(kh.check("git.example.com", 22, &key(KEY)), Verdict::Revoked);
    }

    #[test]
    fn wildcard_matching() {
        assert!(wildcard(b"*", b"anything"));
        assert!(wildcard(b"git?.example.com", b"git1.example.com"));
        assert!(!wildcard(b"git?.example.com", b"git.example.com"));
        assert!(wildcard(b"*.example.*", b"a.b.example.org"));
        assert!(!wildcard(b"*.example.com", b"example.com"));
    }
}
