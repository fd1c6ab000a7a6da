//! Value types that only the skeleton kinds need. Each is checked once while the values are
//! parsed, and its error says what a valid value looks like, so a caller can fix the request
//! without reading our code.
//!
//! Several checks are stricter than the systems that consume the value: a value that is legal
//! for Kubernetes but surprising in a GitOps repository (credentials in a URL, control
//! characters in a description) is refused here rather than committed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(String);

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses `value`, saying what a valid one looks like when it is refused.
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                $check(&value)?;
                Ok(Self(value))
            }

            /// The checked text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
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
    };
}

/// Quotes a refused value for an error message without letting it break the message.
fn shown(value: &str) -> String {
    let mut short: String = value.chars().take(80).collect();
    if short.len() < value.len() {
        short.push('…');
    }
    format!("{short:?}")
}

fn is_dns_label(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

checked_string!(
    /// A Kubernetes namespace: a DNS-1123 label.
    Namespace,
    check_namespace
);

fn check_namespace(v: &str) -> Result<(), InvalidValue> {
    if is_dns_label(v) {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "namespace {} is not a DNS-1123 label: use 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        shown(v)
    )))
}

checked_string!(
    /// The name of an Argo CD AppProject: a DNS-1123 subdomain, as for any Kubernetes object.
    ProjectName,
    check_project
);

fn check_project(v: &str) -> Result<(), InvalidValue> {
    let ok = v.len() <= 253 && !v.is_empty() && v.split('.').all(is_dns_label);
    if ok {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "Argo CD project {} is not a DNS-1123 subdomain: use lowercase letters, digits, '-' and '.', such as default or team-payments",
        shown(v)
    )))
}

/// `host` or `host:port`, as it may appear in a URL we write.
fn is_host_port(v: &str) -> bool {
    let (host, port) = match v.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (v, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    port_ok && host_ok
}

/// A URL path we are willing to commit: no query, fragment, spaces or escapes that could hide
/// something, no `..` that could leave the repository.
fn is_url_path(v: &str, allow_empty: bool) -> bool {
    if v.is_empty() {
        return allow_empty;
    }
    v.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._~/-".contains(&b))
        && !v.split('/').any(|s| s == "..")
}

checked_string!(
    /// An `https://` URL of a Kubernetes API server, as Argo CD's `destination.server` takes it.
    ServerUrl,
    check_server_url
);

fn check_server_url(v: &str) -> Result<(), InvalidValue> {
    let ok = v.len() <= 2048
        && v.strip_prefix("https://").is_some_and(|rest| {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            is_host_port(host) && is_url_path(path, true)
        });
    if ok {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "server {} is invalid: use an https:// URL without credentials, query or fragment, such as https://kubernetes.default.svc",
        shown(v)
    )))
}

checked_string!(
    /// Where a git repository lives: `https://host/path`, `ssh://[user@]host[:port]/path` or the
    /// scp-like `user@host:path`. Credentials never belong in a committed manifest, so a password
    /// in the URL is refused.
    GitUrl,
    check_git_url
);

fn check_git_url(v: &str) -> Result<(), InvalidValue> {
    if v.len() <= 2048 && is_git_url(v) {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "git URL {} is invalid: use https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git, without a password, query or fragment",
        shown(v)
    )))
}

fn is_user(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn is_git_url(v: &str) -> bool {
    let host_and_path = |rest: &str| {
        rest.split_once('/')
            .is_some_and(|(host, path)| is_host_port(host) && is_url_path(path, false))
    };
    if let Some(rest) = v.strip_prefix("https://") {
        return host_and_path(rest);
    }
    if let Some(rest) = v.strip_prefix("ssh://") {
        let rest = match rest.split_once('@') {
            Some((user, rest)) if is_user(user) => rest,
            Some(_) => return false,
            None => rest,
        };
        return host_and_path(rest);
    }
    // scp-like syntax: git decides it is one when there is a ':' before any '/'.
    let Some((user, rest)) = v.split_once('@') else {
        return false;
    };
    let Some((host, path)) = rest.split_once(':') else {
        return false;
    };
    is_user(user)
        && is_host_port(host)
        && !host.contains(':')
        && is_url_path(path, false)
        && !path.starts_with('/')
}

checked_string!(
    /// Where a Helm chart lives: a git repository ([`GitUrl`] forms), a Helm repository
    /// (`https://…`) or an OCI registry (`oci://host/path`).
    ChartRepoUrl,
    check_chart_repo_url
);

fn check_chart_repo_url(v: &str) -> Result<(), InvalidValue> {
    let oci = v.strip_prefix("oci://").is_some_and(|rest| {
        rest.split_once('/')
            .is_some_and(|(host, path)| is_host_port(host) && is_url_path(path, false))
    });
    let https_root = v
        .strip_prefix("https://")
        .is_some_and(|rest| is_host_port(rest.trim_end_matches('/')));
    if v.len() <= 2048 && (oci || https_root || is_git_url(v)) {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "chart repository URL {} is invalid: use a git URL (https://host/owner/repo.git, git@host:owner/repo.git), a Helm repository (https://charts.example.com) or an OCI registry (oci://ghcr.io/acme/charts), without credentials",
        shown(v)
    )))
}

checked_string!(
    /// An AWS region code such as `eu-west-1`, `us-gov-west-1` or `ap-southeast-2`.
    AwsRegion,
    check_region
);

fn check_region(v: &str) -> Result<(), InvalidValue> {
    let parts: Vec<&str> = v.split('-').collect();
    let letters = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let ok = (3..=4).contains(&parts.len())
        && parts[0].len() == 2
        && letters(parts[0])
        && parts[1..parts.len() - 1].iter().all(|p| letters(p))
        && parts
            .last()
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "AWS region {} is invalid: use a region code such as eu-west-1 or us-gov-west-1",
        shown(v)
    )))
}

checked_string!(
    /// A Backstage reference to the owning group or user: `[group:|user:][namespace/]name`, such
    /// as `team-payments`, `group:default/team-payments` or `user:jdoe`.
    OwnerRef,
    check_owner
);

fn check_owner(v: &str) -> Result<(), InvalidValue> {
    let (kind, rest) = match v.split_once(':') {
        Some((kind, rest)) => (Some(kind), rest),
        None => (None, v),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, rest),
    };
    let kind_ok =
        kind.is_none_or(|k| k.eq_ignore_ascii_case("group") || k.eq_ignore_ascii_case("user"));
    let namespace_ok = namespace.is_none_or(is_dns_label);
    if kind_ok && namespace_ok && is_backstage_name(name) {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "owner {} is not a Backstage group or user reference: use [group:|user:][namespace/]name, such as team-payments or group:default/team-payments",
        shown(v)
    )))
}

/// Backstage's entity name rule: alphanumeric runs separated by single `-`, `_` or `.`.
fn is_backstage_name(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
        && !b
            .windows(2)
            .any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
}

checked_string!(
    /// Free text for people. Any printable text including line breaks and tabs is kept exactly;
    /// other control characters are refused because they are invisible in review.
    Description,
    check_description
);

/// Long enough for a paragraph, short enough that a manifest stays readable.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;

fn check_description(v: &str) -> Result<(), InvalidValue> {
    let count = v.chars().count();
    if count == 0 || count > DESCRIPTION_MAX_CHARS {
        return Err(InvalidValue(format!(
            "description must be 1 to {DESCRIPTION_MAX_CHARS} characters (it has {count})"
        )));
    }
    if let Some(c) = v
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(InvalidValue(format!(
            "description contains the control character {:?}: use printable text, line breaks and tabs only",
            c
        )));
    }
    Ok(())
}

checked_string!(
    /// A directory or file inside the source repository: `.` or a relative path without `..`.
    SourcePath,
    check_source_path
);

fn check_source_path(v: &str) -> Result<(), InvalidValue> {
    if v == "." || mutator_core::RepoPath::parse(v).is_ok() {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "path {} is invalid: use '.' or a relative path inside the source repository such as deploy/k8s, without '..' or a leading '/'",
        shown(v)
    )))
}

checked_string!(
    /// A Helm chart name, as `helm create` accepts it: lowercase letters, digits, `-`, `_`, `.`.
    ChartName,
    check_chart_name
);

fn check_chart_name(v: &str) -> Result<(), InvalidValue> {
    let b = v.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !b.is_empty()
        && b.len() <= 128
        && b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
        && b.iter().all(|c| alnum(c) || b"-_.".contains(c));
    if ok {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "chart name {} is invalid: use lowercase letters, digits, '-', '_' or '.', such as payments or ingress-nginx",
        shown(v)
    )))
}

checked_string!(
    /// What Argo CD should check out: a git branch, tag or commit, or a Helm chart version or
    /// version constraint such as `1.4.2` or `>=1.2.0 <2.0.0`.
    TargetRevision,
    check_revision
);

fn check_revision(v: &str) -> Result<(), InvalidValue> {
    let ok = !v.is_empty()
        && v.len() <= 255
        && v.bytes().all(|b| (0x20..0x7f).contains(&b))
        && v.trim() == v;
    if ok {
        return Ok(());
    }
    Err(InvalidValue(format!(
        "target revision {} is invalid: use 1 to 255 printable ASCII characters without leading or trailing spaces, such as main, v1.4.2 or 1.4.2",
        shown(v)
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn namespaces_and_projects() {
        assert!(Namespace::parse("payments-dev").is_ok());
        for bad in ["", "Payments", "a.b", "-a", "a".repeat(64).as_str()] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ProjectName::parse("team.payments").is_ok());
        for bad in ["", "Team", "a..b", "a_b"] {
            assert!(ProjectName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_urls() {
        for ok in [
            "https://kubernetes.default.svc",
            "https://10.0.0.1:6443",
            "https://k8s.example.com/clusters/a",
        ] {
            assert!(ServerUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://k8s",
            "https://",
            "https://u:p@k8s",
            "https://k8s?x=1",
            "https://k8s/#a",
            "kubernetes",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn git_urls() {
        for ok in [
            "https://github.com/acme/payments.git",
            "https://gitlab.example.com:8443/group/sub/repo",
            "ssh://git@github.com/acme/payments.git",
            "ssh://github.com:2222/acme/payments",
            "git@github.com:acme/payments.git",
        ] {
            assert!(GitUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "github.com/acme/payments",
            "https://github.com",
            "https://user:token@github.com/acme/x.git",
            "https://github.com/acme/x.git?ref=main",
            "https://github.com/acme/../x",
            "git@github.com:/abs",
            "ftp://host/x",
            "https://github.com/acme/x y",
            "oci://ghcr.io/acme/charts",
        ] {
            assert!(GitUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn chart_repo_urls() {
        for ok in [
            "oci://ghcr.io/acme/charts",
            "https://charts.bitnami.com",
            "https://charts.example.com/",
            "git@github.com:acme/charts.git",
        ] {
            assert!(ChartRepoUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "oci://ghcr.io",
            "s3://bucket/x",
            "https://u:p@charts.example.com",
        ] {
            assert!(ChartRepoUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn regions() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "il-central-1",
            "cn-north-1",
        ] {
            assert!(AwsRegion::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "eu-west",
            "EU-WEST-1",
            "eu-west-100",
            "europe-west-1",
            "eu--1",
            "eu-west-1a",
        ] {
            assert!(AwsRegion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn owners() {
        for ok in [
            "team-payments",
            "group:default/team-payments",
            "user:jdoe",
            "Group:Team_A",
            "default/a.b",
        ] {
            assert!(OwnerRef::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "component:x",
            "group:",
            "a--b",
            "-a",
            "Default/x",
            "a b",
            "group:default/",
        ] {
            assert!(OwnerRef::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions() {
        assert!(Description::parse("Line one\n\tline two: {{ x }} # \"q\"").is_ok());
        assert!(Description::parse("").is_err());
        assert!(Description::parse("bell\u{7}").is_err());
        assert!(Description::parse("x".repeat(DESCRIPTION_MAX_CHARS + 1)).is_err());
        assert!(Description::parse("é".repeat(DESCRIPTION_MAX_CHARS)).is_ok());
    }

    #[test]
    fn source_paths_and_charts() {
        for ok in [".", "deploy/k8s", "Dockerfile"] {
            assert!(SourcePath::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "./x", "../x", "/abs", "a//b"] {
            assert!(SourcePath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ChartName::parse("ingress-nginx").is_ok());
        for bad in ["", "Chart", "-a", "a/b"] {
            assert!(ChartName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TargetRevision::parse(">=1.2.0 <2.0.0").is_ok());
        for bad in ["", " main", "a\nb", "x".repeat(256).as_str()] {
            assert!(TargetRevision::parse(bad).is_err(), "{bad:?}");
        }
    }
}
