//! Names that appear in paths, URLs and commit messages: each is checked once, here.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused; the message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

/// Checks RFC 1123 label rules as Kubernetes applies them to names and namespaces.
fn check_dns_label(value: &str, what: &str) -> Result<(), NameError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(NameError(format!(
            "{what} {value:?} is not a DNS-1123 label: use 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit"
        )))
    }
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses `value`, refusing anything that is not a valid
            #[doc = stringify!($name)]
            pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                let check: fn(&str) -> Result<(), NameError> = $check;
                check(&value)?;
                Ok(Self(value))
            }

            /// The checked text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_newtype;

string_newtype!(
    /// An application name: a DNS-1123 label, so it is safe as a Kubernetes name and a path segment.
    AppName,
    |v| check_dns_label(v, "application name")
);

string_newtype!(
    /// An environment name (`development`, `staging`, `production`, …): a DNS-1123 label.
    EnvName,
    |v| check_dns_label(v, "environment name")
);

string_newtype!(
    /// The name of a configured repository (a key of `repositories:` in the configuration).
    RepoName,
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 100
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !v.starts_with('.');
        if ok {
            Ok(())
        } else {
            Err(NameError(format!(
                "repository name {v:?} is invalid: use 1 to 100 letters, digits, '-', '_' or '.', not starting with '.'"
            )))
        }
    }
);

string_newtype!(
    /// A branch name that git accepts as `refs/heads/<name>` (git check-ref-format rules).
    BranchName,
    check_branch
);

fn check_branch(v: &str) -> Result<(), NameError> {
    let bad = |why: &str| Err(NameError(format!("branch name {v:?} is invalid: {why}")));
    if v.is_empty() || v.len() > 200 {
        return bad("use 1 to 200 characters");
    }
    if v.bytes()
        .any(|b| b < 0x20 || b == 0x7f || b" ~^:?*[\\".contains(&b))
    {
        return bad("spaces, control characters and any of ~ ^ : ? * [ \\ are not allowed");
    }
    if v.contains("..") || v.contains("@{") || v.contains("//") || v == "@" {
        return bad("'..', '@{', '//' and a lone '@' are not allowed");
    }
    if v.starts_with('/') || v.ends_with('/') || v.ends_with('.') || v.starts_with('-') {
        return bad("it may not start with '/' or '-', nor end with '/' or '.'");
    }
    if v.split('/')
        .any(|part| part.starts_with('.') || part.ends_with(".lock"))
    {
        return bad("no path component may start with '.' or end with '.lock'");
    }
    Ok(())
}

string_newtype!(
    /// The id of one mutation: the caller's `Idempotency-Key` or a generated one. It is written
    /// as a commit trailer, so it is one line of printable ASCII (inner spaces allowed, as HTTP
    /// strips the outer ones).
    MutationId,
    |v| {
        let ok = !v.is_empty()
            && v.len() <= 255
            && v.bytes().all(|b| (0x20..=0x7e).contains(&b))
            && !v.starts_with(' ')
            && !v.ends_with(' ');
        if ok {
            Ok(())
        } else {
            Err(NameError(
                "Idempotency-Key must be 1 to 255 printable ASCII characters".to_owned(),
            ))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(AppName::parse("payments").is_ok());
        assert!(AppName::parse("a-1").is_ok());
        for bad in [
            "",
            "Payments",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "../x",
            &"a".repeat(64),
        ] {
            assert!(AppName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn branches() {
        for ok in ["main", "release/1.2", "gitops/payments/production"] {
            assert!(BranchName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a..b", "/a", "a/", "a.lock", "a b", "a:b", ".hidden", "x/.y", "a@{1}",
        ] {
            assert!(BranchName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn mutation_ids() {
        assert!(MutationId::parse("build-123/attempt-1").is_ok());
        assert!(MutationId::parse("a b").is_ok());
        assert!(MutationId::parse(" a").is_err());
        assert!(MutationId::parse("ä").is_err());
        assert!(MutationId::parse("a\nb").is_err());
        assert!(MutationId::parse("x".repeat(256)).is_err());
    }

    #[test]
    fn serde_refuses_bad_values() {
        let err = serde_json::from_str::<AppName>("\"Bad Name\"").unwrap_err();
        assert!(err.to_string().contains("DNS-1123"), "{err}");
    }
}
