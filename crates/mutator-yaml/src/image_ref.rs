//! Container image references, `[registry[:port]/]path[:tag][@digest]`, split into the three
//! parts an image update changes independently.
//!
//! Only as much of the reference grammar is checked as is needed to split it safely: a registry
//! port (`host:5000/app`) must never be mistaken for a tag, and a part given by a caller must
//! not smuggle in a separator that would change how the whole reference splits.

use std::fmt;

use crate::error::EditError;

/// A parsed image reference. `Display` writes it back as `repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference {
    /// Everything before the tag and digest, registry and port included
    /// (`registry.k8s.io/ingress-nginx/controller`, `localhost:5000/app`).
    pub repository: String,
    /// The tag, without its `:`.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), without its `@`.
    pub digest: Option<String>,
}

fn invalid(reference: &str, reason: impl Into<String>) -> EditError {
    EditError::InvalidImageReference {
        reference: reference.to_owned(),
        reason: reason.into(),
    }
}

impl ImageReference {
    /// Splits `reference`. The digest follows the `@`; the tag follows the last `:` that comes
    /// after the last `/`, so `host:5000/x/y:1.0` has repository `host:5000/x/y` and tag `1.0`.
    pub fn parse(reference: &str) -> Result<ImageReference, EditError> {
        let (name, digest) = match reference.split_once('@') {
            Some((name, digest)) => {
                check_digest(digest).map_err(|why| invalid(reference, why))?;
                (name, Some(digest.to_owned()))
            }
            None => (reference, None),
        };
        let after_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[after_slash..].rfind(':') {
            Some(i) => {
                let colon = after_slash + i;
                let tag = &name[colon + 1..];
                check_tag(tag).map_err(|why| invalid(reference, why))?;
                (&name[..colon], Some(tag.to_owned()))
            }
            None => (name, None),
        };
        check_repository(repository).map_err(|why| invalid(reference, why))?;
        Ok(ImageReference {
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The repository part: non-empty `/`-separated components, no whitespace, and nothing that
/// would read as a tag (a `:` after the last `/`) or a digest (`@`).
pub(crate) fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("the repository is empty".into());
    }
    if let Some(c) = repository
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '@')
    {
        return Err(format!("the repository contains {c:?}"));
    }
    if repository.split('/').any(str::is_empty) {
        return Err("the repository has an empty path component".into());
    }
    // Only a registry host (the first of several components) may hold a `:`, before its port;
    // anywhere else a `:` would read as a tag separator.
    let mut components = repository.split('/');
    let first = components.next().unwrap_or_default();
    let has_more = repository.contains('/');
    if components.any(|c| c.contains(':')) || (!has_more && first.contains(':')) {
        return Err("a ':' outside the registry's port would read as a tag".into());
    }
    if let Some((host, port)) = first.split_once(':')
        && (host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{first:?} is not a registry host:port"));
    }
    Ok(())
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn check_tag(tag: &str) -> Result<(), String> {
    let mut chars = tag.chars();
    match chars.next() {
        None => return Err("the tag is empty".into()),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {}
        Some(c) => return Err(format!("a tag cannot start with {c:?}")),
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))) {
        return Err(format!("a tag cannot contain {c:?}"));
    }
    if tag.len() > 128 {
        return Err("a tag is at most 128 characters".into());
    }
    Ok(())
}

/// `algorithm:encoded`, e.g. `sha256:` and 64 hex digits; the OCI grammar, loosely.
pub(crate) fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return Err("a digest looks like algorithm:hex (sha256:…)".into());
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')
        });
    let encoded_ok = !encoded.is_empty()
        && encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-'));
    if algorithm_ok && encoded_ok {
        Ok(())
    } else {
        Err("a digest looks like algorithm:hex (sha256:…)".into())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parts(s: &str) -> (String, Option<String>, Option<String>) {
        let r = ImageReference::parse(s).unwrap();
        assert_eq!(r.to_string(), s, "display round-trips");
        (r.repository, r.tag, r.digest)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn splits_tag_and_digest_after_the_last_slash() {
        assert_eq!(parts("nginx"), ("nginx".into(), None, None));
        assert_eq!(
            parts("redis:alpine"),
            ("redis".into(), some("alpine"), None)
        );
        assert_eq!(
            parts("host:5000/x/y:tag"),
            ("host:5000/x/y".into(), some("tag"), None)
        );
        assert_eq!(parts("host:5000/x/y"), ("host:5000/x/y".into(), None, None));
        assert_eq!(
            parts("busybox:1.38.0@sha256:fd8d9aa6"),
            ("busybox".into(), some("1.38.0"), some("sha256:fd8d9aa6"))
        );
        assert_eq!(
            parts("localhost:5443/a/b@sha256:d562"),
            ("localhost:5443/a/b".into(), None, some("sha256:d562"))
        );
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "nginx:",
            "nginx@",
            "nginx@sha256",
            "nginx@a@b",
            "a//b",
            "/a",
            "a b:1",
            "nginx:1.0:2",
            "x:-bad",
            "x:a/b",
            "{{ .Values.image }}",
        ] {
            assert!(ImageReference::parse(bad).is_err(), "{bad:?} should fail");
        }
        assert!(check_repository("host:5000").is_err());
        assert!(check_repository("host:5000/app").is_ok());
        assert!(check_repository("app:1").is_err());
        assert!(check_tag(&"a".repeat(129)).is_err());
    }
}
