//! Container image references as the OCI distribution spec defines them.

use serde::{Deserialize, Serialize};

use crate::names::{NameError, string_newtype};
use std::fmt;

string_newtype!(
    /// An image tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` (OCI distribution spec). It never holds
    /// spaces, newlines or YAML syntax, but may look like a number (`1.10`), which the YAML
    /// editor quotes.
    ImageTag,
    |v| {
        let mut bytes = v.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if first_ok && rest_ok && v.len() <= 128 {
            Ok(())
        } else {
            Err(NameError(format!(
                "image tag {:?} is invalid: use 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
                v.escape_debug().to_string()
            )))
        }
    }
);

string_newtype!(
    /// An image digest: `sha256:` and 64 lowercase hex digits.
    ImageDigest,
    |v| {
        let ok = v.strip_prefix("sha256:").is_some_and(|hex| {
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(())
        } else {
            Err(NameError(format!(
                "image digest {:?} is invalid: use 'sha256:' followed by 64 lowercase hex digits",
                v.escape_debug().to_string()
            )))
        }
    }
);

string_newtype!(
    /// An image repository such as `ghcr.io/acme/payments` or `registry:5000/team/app`: an
    /// optional registry host (with port) and lowercase path components (OCI distribution spec).
    ImageRepository,
    check_repository
);

fn check_repository(v: &str) -> Result<(), NameError> {
    let err = || {
        NameError(format!(
            "image repository {:?} is invalid: use [registry[:port]/]path with lowercase path components such as ghcr.io/acme/payments",
            v.escape_debug().to_string()
        ))
    };
    if v.is_empty() || v.len() > 255 {
        return Err(err());
    }
    let mut parts: Vec<&str> = v.split('/').collect();
    // The first part is a registry host only when it looks like one (as docker decides it).
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            if !is_host(first) {
                return Err(err());
            }
            parts.remove(0);
        }
    }
    if parts.iter().all(|p| is_path_component(p)) {
        Ok(())
    } else {
        Err(err())
    }
}

fn is_host(v: &str) -> bool {
    let (host, port) = match v.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (v, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    port_ok && host_ok
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(v: &str) -> bool {
    let b = v.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = sep == b"." || sep == b"_" || sep == b"__" || sep.iter().all(|&c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for ok in ["1.4.2", "v1", "_x", "1.10", "latest", &"a".repeat(128)] {
            assert!(ImageTag::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".x",
            "-x",
            "a b",
            "a\nb",
            "a:b",
            "{{x}}",
            &"a".repeat(129),
        ] {
            assert!(ImageTag::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digests() {
        let hex = "a".repeat(64);
        assert!(ImageDigest::parse(format!("sha256:{hex}")).is_ok());
        assert!(ImageDigest::parse(format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(ImageDigest::parse(format!("sha512:{hex}")).is_err());
        assert!(ImageDigest::parse("sha256:abc").is_err());
    }

    #[test]
    fn repositories() {
        for ok in [
            "nginx",
            "ghcr.io/acme/payments",
            "registry:5000/team/app",
            "localhost/x",
            "a__b/c-d/e.f",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments",
        ] {
            assert!(ImageRepository::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "Nginx", "a//b", "/a", "a/", "ghcr.io/", "a b", "a:b", "x/-y", "a___b",
        ] {
            assert!(ImageRepository::parse(bad).is_err(), "{bad:?}");
        }
    }
}
