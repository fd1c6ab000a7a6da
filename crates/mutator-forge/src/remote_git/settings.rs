//! How to reach one remote repository, and what this build of libgit2 can reach at all.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::error::ForgeError;

/// One git remote written through a local bare mirror.
pub struct RemoteGitSettings {
    /// `http://`, `https://`, `ssh://` (or `user@host:path`) or `file://`. Credentials go in
    /// [`RemoteGitSettings::auth`]: a URL carrying a password is refused.
    pub url: String,
    /// Where the bare mirror lives (inside the service's data directory); created when absent.
    pub mirror_dir: PathBuf,
    pub auth: RemoteAuth,
    /// The longest one operation (waiting for the mirror, fetch, push) may take.
    pub timeout: Duration,
}

impl fmt::Debug for RemoteGitSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteGitSettings")
            .field("url", &redact_url(&self.url))
            .field("mirror_dir", &self.mirror_dir)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The credentials presented to the remote.
pub enum RemoteAuth {
    /// Anonymous (and `file://`).
    None,
    /// HTTP Basic: a user and a password or access token.
    Basic {
        username: SecretString,
        password: SecretString,
    },
    /// An unencrypted private key; the server's host key must be listed in `known_hosts_file`.
    Ssh {
        key_file: PathBuf,
        known_hosts_file: PathBuf,
    },
}

impl fmt::Debug for RemoteAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteAuth::None => f.write_str("None"),
            RemoteAuth::Basic { .. } => f.write_str("Basic(<redacted>)"),
            RemoteAuth::Ssh {
                key_file,
                known_hosts_file,
            } => f
                .debug_struct("Ssh")
                .field("key_file", key_file)
                .field("known_hosts_file", known_hosts_file)
                .finish(),
        }
    }
}

/// The transport a URL needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    File,
    Http,
    Https,
    Ssh,
}

/// A parsed remote URL: what is needed to pick a transport, check a host key, and print it.
#[derive(Debug, Clone)]
pub(crate) struct RemoteUrl {
    pub scheme: Scheme,
    /// Host name as written (no brackets), empty for `file://`.
    pub host: String,
    pub port: Option<u16>,
    /// The user name written in the URL (`ssh://git@host/...`), if any.
    pub username: Option<String>,
    /// The URL without any user information: safe to print.
    pub redacted: String,
}

impl RemoteUrl {
    pub fn parse(url: &str) -> Result<RemoteUrl, ForgeError> {
        let invalid = |why: &str| {
            ForgeError::Rejected(format!(
                "remote URL {} is not usable: {why}",
                redact_url(url)
            ))
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return scp_like(url)
                .ok_or_else(|| invalid("write it as http://, https://, ssh:// or file://"));
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "file" => Scheme::File,
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "ssh" | "git+ssh" | "ssh+git" => Scheme::Ssh,
            _ => return Err(invalid("the scheme is not one of http, https, ssh or file")),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let username = match userinfo {
            Some(info) if info.contains(':') => {
                return Err(invalid(
                    "it carries a password; give credentials in the auth settings instead",
                ));
            }
            Some(info) => Some(info.to_owned()),
            None => None,
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| invalid("bad port"))?;
        if scheme != Scheme::File && host.is_empty() {
            return Err(invalid("it names no host"));
        }
        Ok(RemoteUrl {
            scheme,
            host,
            port,
            username,
            redacted: format!("{}://{hostport}{path}", scheme_text(url)),
        })
    }
}

fn scheme_text(url: &str) -> &str {
    url.split_once("://").map_or("", |(s, _)| s)
}

/// `user@host:path`, the scp-like form of an ssh URL.
fn scp_like(url: &str) -> Option<RemoteUrl> {
    let (before, _path) = url.split_once(':')?;
    if before.contains('/') || before.is_empty() {
        return None;
    }
    let (username, host) = match before.rsplit_once('@') {
        Some((user, host)) => (Some(user.to_owned()), host),
        None => (None, before),
    };
    if host.is_empty() {
        return None;
    }
    Some(RemoteUrl {
        scheme: Scheme::Ssh,
        host: host.to_owned(),
        port: None,
        username,
        redacted: url.to_owned(),
    })
}

fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), Some(port.parse().ok()?))),
        None => Some((hostport.to_owned(), None)),
    }
}

/// `url` with any `user[:password]@` removed from its authority, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, hostport)) => format!("{scheme}://{hostport}{path}"),
        None => url.to_owned(),
    }
}

/// Refuses a URL whose transport this build of libgit2 lacks, or that cannot be used safely
/// with the configured credentials.
pub(crate) fn check_supported(url: &RemoteUrl, auth: &RemoteAuth) -> Result<(), ForgeError> {
    let version = git2::Version::get();
    match url.scheme {
        Scheme::Https if !version.https() => Err(ForgeError::Rejected(format!(
            "remote URL {} needs HTTPS support, which this build lacks: libgit2 was built without \
             TLS (build with the `mutator-forge/https` feature, or use http:// or file://)",
            url.redacted
        ))),
        Scheme::Ssh if !version.ssh() => Err(ForgeError::Rejected(format!(
            "remote URL {} needs SSH support, which this build lacks: libgit2 was built without \
             libssh2 (build with the `mutator-forge/ssh` feature, or use http:// or file://)",
            url.redacted
        ))),
        Scheme::Ssh if !matches!(auth, RemoteAuth::Ssh { .. }) => {
            Err(ForgeError::Rejected(format!(
                "remote URL {} is ssh: configure an ssh key and a known_hosts file for it",
                url.redacted
            )))
        }
        Scheme::Http | Scheme::Https | Scheme::File if matches!(auth, RemoteAuth::Ssh { .. }) => {
            Err(ForgeError::Rejected(format!(
                "remote URL {} is not ssh, but ssh credentials were configured for it",
                url.redacted
            )))
        }
        Scheme::File if matches!(auth, RemoteAuth::Basic { .. }) => {
            Err(ForgeError::Rejected(format!(
                "remote URL {} is a local path, but a user and password were configured for it",
                url.redacted
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_redact() {
        let u = RemoteUrl::parse("http://127.0.0.1:8080/repo.git").unwrap();
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", Some(8080)));
        assert_eq!(u.redacted, "http://127.0.0.1:8080/repo.git");

        let u = RemoteUrl::parse("ssh://git@git.example.com:2222/acme/gitops.git").unwrap();
        assert_eq!(u.scheme, Scheme::Ssh);
        assert_eq!(u.username.as_deref(), Some("git"));
        assert_eq!(u.port, Some(2222));
        assert_eq!(u.redacted, "ssh://git.example.com:2222/acme/gitops.git");

        let u = RemoteUrl::parse("git@github.com:acme/gitops.git").unwrap();
        assert_eq!(u.scheme, Scheme::Ssh);
        assert_eq!(u.host, "github.com");

        let u = RemoteUrl::parse("file:///srv/git/r.git").unwrap();
        assert_eq!(u.scheme, Scheme::File);
        assert_eq!(u.host, "");

        let u = RemoteUrl::parse("https://[::1]:8443/r.git").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", Some(8443)));
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_echoing_it() {
        let err = RemoteUrl::parse("https://bot:hunter22@git.example.com/r.git").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("password"), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
        assert!(text.contains("https://git.example.com/r.git"), "{text}");
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(RemoteUrl::parse("ftp://x/r.git").is_err());
        assert!(RemoteUrl::parse("/just/a/path").is_err());
        assert!(RemoteUrl::parse("http:///nohost").is_err());
    }

    #[test]
    fn redact_strips_userinfo() {
        assert_eq!(
            redact_url("https://u:p@h.example/x/y.git"),
            "https://h.example/x/y.git"
        );
        assert_eq!(redact_url("http://h:1/a"), "http://h:1/a");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn settings_debug_redacts_the_url_too() {
        let settings = RemoteGitSettings {
            url: "https://bot:hunter22@h.example/r.git".into(),
            mirror_dir: "/m".into(),
            auth: RemoteAuth::None,
            timeout: Duration::from_secs(1),
        };
        let text = format!("{settings:?}");
        assert!(
            !text.contains("hunter22") && text.contains("h.example"),
            "{text}"
        );
    }

    #[test]
    fn debug_redacts_basic_credentials() {
        let auth = RemoteAuth::Basic {
            username: SecretString::from("bot"),
            password: SecretString::from("hunter22"),
        };
        let text = format!("{auth:?}");
        assert!(
            !text.contains("hunter22") && !text.contains("bot"),
            "{text}"
        );
    }

    #[test]
    fn transports_missing_from_this_build_are_refused_by_name() {
        let version = git2::Version::get();
        let https = RemoteUrl::parse("https://git.example.com/r.git").unwrap();
        match check_supported(&https, &RemoteAuth::None) {
            Ok(()) => assert!(version.https()),
            Err(e) => {
                assert!(!version.https());
                assert!(e.to_string().contains("HTTPS support"), "{e}");
            }
        }
        let ssh = RemoteUrl::parse("ssh://git@git.example.com/r.git").unwrap();
        let key = RemoteAuth::Ssh {
            key_file: "/k".into(),
            known_hosts_file: "/kh".into(),
        };
        match check_supported(&ssh, &key) {
            Ok(()) => assert!(version.ssh()),
            Err(e) => {
                assert!(!version.ssh());
                assert!(e.to_string().contains("SSH support"), "{e}");
            }
        }
    }
}
