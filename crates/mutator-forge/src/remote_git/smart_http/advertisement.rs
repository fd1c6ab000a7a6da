//! The answer to `GET info/refs?service=git-receive-pack`: the remote's refs and what its
//! `receive-pack` can do (`gitprotocol-http`, "Smart Server Response").

use std::collections::HashMap;

use git2::Oid;

use super::pkt_line::{self, Pkt, PktError, Reader};

const SHA1_HEX: usize = 40;

/// A ref advertisement that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AdvertisementError {
    #[error(transparent)]
    Pkt(#[from] PktError),
    #[error("the answer does not start with `# service=git-receive-pack`")]
    NotReceivePack,
    #[error("the ref list is not closed by a flush packet")]
    Unterminated,
    #[error("the ref line {0:?} is malformed")]
    BadRef(String),
    #[error("the repository uses object format {0}; only sha1 is supported")]
    ObjectFormat(String),
}

/// The remote's refs and `receive-pack` capabilities.
#[derive(Debug, Default)]
pub(crate) struct Advertisement {
    refs: HashMap<String, Oid>,
    capabilities: Vec<String>,
}

impl Advertisement {
    /// Where `refname` points on the remote; `None` when it does not exist.
    pub fn head(&self, refname: &str) -> Option<Oid> {
        self.refs.get(refname).copied()
    }

    /// Whether the server offers the capability `name` (with or without a value).
    pub fn offers(&self, name: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c == name || c.strip_prefix(name).is_some_and(|v| v.starts_with('=')))
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.capabilities
            .iter()
            .find_map(|c| c.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Parses a smart-HTTP `receive-pack` advertisement.
pub(crate) fn parse(body: &[u8]) -> Result<Advertisement, AdvertisementError> {
    let mut reader = Reader::new(body);
    match reader.next_pkt()? {
        Some(Pkt::Data(line)) if pkt_line::text_line(line) == b"# service=git-receive-pack" => {}
        _ => return Err(AdvertisementError::NotReceivePack),
    }
    // Servers close the service line with a flush; the specification's grammar has it.
    let mut first = reader.next_pkt()?;
    if first == Some(Pkt::Flush) {
        first = reader.next_pkt()?;
    }
    // "version 1" appears only when asked for with `Git-Protocol: version=1`; tolerate it.
    if let Some(Pkt::Data(line)) = first
        && pkt_line::text_line(line) == b"version 1"
    {
        first = reader.next_pkt()?;
    }
    let mut out = Advertisement::default();
    let mut next = first;
    let mut is_first = true;
    loop {
        let line = match next {
            Some(Pkt::Flush) => break,
            None => return Err(AdvertisementError::Unterminated),
            Some(Pkt::Data(line)) => pkt_line::text_line(line),
        };
        let bad = || AdvertisementError::BadRef(String::from_utf8_lossy(line).into_owned());
        let (reference, capabilities) = match line.iter().position(|&b| b == 0) {
            Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
            None => (line, None),
        };
        if let Some(capabilities) = capabilities
            && is_first
        {
            out.capabilities = String::from_utf8_lossy(capabilities)
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect();
            if let Some(format) = out.value("object-format")
                && format != "sha1"
            {
                return Err(AdvertisementError::ObjectFormat(format.to_owned()));
            }
        }
        is_first = false;
        let text = std::str::from_utf8(reference).map_err(|_| bad())?;
        let (hex, name) = text.split_once(' ').ok_or_else(bad)?;
        // `Oid::from_str` would accept an abbreviation and pad it with zeros.
        if hex.len() != SHA1_HEX {
            return Err(bad());
        }
        let id = Oid::from_str(hex).map_err(|_| bad())?;
        // `capabilities^{}` stands in for the refs of an empty repository, `.have` lines
        // name objects of alternates, `^{}` lines peel tags: none is a branch.
        if name != "capabilities^{}" && name != ".have" && !name.ends_with("^{}") {
            out.refs.insert(name.to_owned(), id);
        }
        next = reader.next_pkt()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(lines: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            if line.is_empty() {
                pkt_line::flush(&mut out);
            } else {
                pkt_line::write(&mut out, line).unwrap();
            }
        }
        out
    }

    const A: &str = "74730d410fcb6603ace96f1dc55ea6196122532d";
    const B: &str = "7d1665144a3a975c05f1f43902ddaf084e784dbe";

    #[test]
    fn reads_refs_and_capabilities() {
        let first = format!(
            "{A} refs/heads/main\0report-status side-band-64k quiet ofs-delta object-format=sha1 agent=git/2.47.3\n"
        );
        let second = format!("{B} refs/heads/release\n");
        let tag = format!("{A} refs/tags/v1^{{}}\n");
        let body = stream(&[
            b"# service=git-receive-pack\n",
            b"",
            first.as_bytes(),
            second.as_bytes(),
            tag.as_bytes(),
            b"",
        ]);
        let ad = parse(&body).unwrap();
        assert_eq!(ad.head("refs/heads/main"), Some(Oid::from_str(A).unwrap()));
        assert_eq!(
            ad.head("refs/heads/release"),
            Some(Oid::from_str(B).unwrap())
        );
        assert_eq!(ad.head("refs/heads/nope"), None);
        assert_eq!(ad.head("refs/tags/v1^{}"), None);
        assert!(ad.offers("side-band-64k") && ad.offers("agent") && ad.offers("report-status"));
        assert!(!ad.offers("side-band") && !ad.offers("atomic"));
    }

    #[test]
    fn an_empty_repository_has_capabilities_and_no_refs() {
        let line = format!(
            "{} capabilities^{{}}\0report-status delete-refs\n",
            "0".repeat(40)
        );
        let body = stream(&[b"# service=git-receive-pack\n", b"", line.as_bytes(), b""]);
        let ad = parse(&body).unwrap();
        assert_eq!(ad.head("capabilities^{}"), None);
        assert!(ad.offers("report-status"));
    }

    #[test]
    fn refuses_what_is_not_a_receive_pack_advertisement() {
        assert_eq!(
            parse(b"<html>login</html>").unwrap_err(),
            AdvertisementError::Pkt(PktError::BadLength("<htm".into()))
        );
        let upload = stream(&[b"# service=git-upload-pack\n", b""]);
        assert_eq!(
            parse(&upload).unwrap_err(),
            AdvertisementError::NotReceivePack
        );
        let line = format!("{A} refs/heads/main\0report-status\n");
        let open = stream(&[b"# service=git-receive-pack\n", b"", line.as_bytes()]);
        assert_eq!(parse(&open).unwrap_err(), AdvertisementError::Unterminated);
        let bad = stream(&[
            b"# service=git-receive-pack\n",
            b"",
            b"xyz refs/heads/main\n",
            b"",
        ]);
        assert!(matches!(
            parse(&bad).unwrap_err(),
            AdvertisementError::BadRef(_)
        ));
        let sha256 = format!("{A} refs/heads/main\0report-status object-format=sha256\n");
        let body = stream(&[b"# service=git-receive-pack\n", b"", sha256.as_bytes(), b""]);
        assert_eq!(
            parse(&body).unwrap_err(),
            AdvertisementError::ObjectFormat("sha256".into())
        );
    }
}
