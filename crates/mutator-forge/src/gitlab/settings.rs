//! How to reach one GitLab project. Built by the server from its configuration file.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

/// The credentials the backend presents.
pub enum GitlabAuth {
    /// A personal, project or group access token (`PRIVATE-TOKEN` header).
    Token(SecretString),
    /// An OAuth 2 access token (`Authorization: Bearer`).
    Bearer(SecretString),
}

impl fmt::Debug for GitlabAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitlabAuth::Token(_) => f.write_str("Token(<redacted>)"),
            GitlabAuth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// One project on gitlab.com or a self-managed GitLab.
#[derive(Debug)]
pub struct GitlabSettings {
    /// `https://gitlab.com/api/v4`, `https://HOST/api/v4`, or a simulator's.
    pub api_url: String,
    /// `group/sub/name`, or the numeric project id.
    pub project: String,
    pub auth: GitlabAuth,
    /// The longest one request may take.
    pub timeout: Duration,
}

/// The API of gitlab.com.
pub const GITLAB_API: &str = "https://gitlab.com/api/v4";

/// Where the API lives, split the way the `gitlab` crate wants it: a protocol and a host
/// (which may carry a port or a path prefix) under which it adds `/api/v4/`.
pub(crate) fn host_of(api_url: &str) -> Result<(bool, String), String> {
    let trimmed = api_url.trim_end_matches('/');
    let (secure, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!(
            "GitLab API URL {api_url:?} must start with https:// or http://"
        ));
    };
    let host = rest
        .strip_suffix("/api/v4")
        .ok_or_else(|| format!("GitLab API URL {api_url:?} must end with /api/v4"))?;
    if host.is_empty() {
        return Err(format!("GitLab API URL {api_url:?} has no host"));
    }
    Ok((secure, host.to_owned()))
}

/// The web root of the GitLab behind `api_url` (`https://gitlab.com` for its API).
pub(crate) fn web_root(api_url: &str) -> &str {
    let trimmed = api_url.trim_end_matches('/');
    trimmed.strip_suffix("/api/v4").unwrap_or(trimmed)
}

/// The project's web address, for Argo CD's `repoURL` (`…/group/name.git`).
pub fn clone_url(api_url: &str, project: &str) -> String {
    format!("{}/{project}.git", web_root(api_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://gitlab.com/api/v4").unwrap(),
            (true, "gitlab.com".to_owned())
        );
        assert_eq!(
            host_of("http://127.0.0.1:8080/api/v4/").unwrap(),
            (false, "127.0.0.1:8080".to_owned())
        );
        assert_eq!(
            host_of("https://example.com/gitlab/api/v4").unwrap(),
            (true, "example.com/gitlab".to_owned())
        );
        assert!(host_of("gitlab.com/api/v4").is_err());
        assert!(host_of("https://gitlab.com").is_err());
    }

    #[test]
    fn clone_urls() {
        assert_eq!(
            clone_url(GITLAB_API, "team-a/gitops"),
            "https://gitlab.com/team-a/gitops.git"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        assert!(
            !format!(
                "{:?}",
                GitlabAuth::Token(SecretString::from("glpat-secret"))
            )
            .contains("secret")
        );
    }
}
