//! How to reach one GitHub repository. Built by the server from its configuration file; this
//! crate never reads files or environment variables itself.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

/// The credentials the backend presents.
pub enum GithubAuth {
    /// A personal, fine-grained or `GITHUB_TOKEN`-style token.
    Token(SecretString),
    /// A GitHub App: the backend signs app JWTs and uses short-lived installation tokens.
    App {
        app_id: u64,
        private_key_pem: SecretString,
        /// Looked up from the repository when absent.
        installation_id: Option<u64>,
    },
}

impl fmt::Debug for GithubAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GithubAuth::Token(_) => f.write_str("Token(<redacted>)"),
            GithubAuth::App {
                app_id,
                installation_id,
                ..
            } => f
                .debug_struct("App")
                .field("app_id", app_id)
                .field("installation_id", installation_id)
                .finish_non_exhaustive(),
        }
    }
}

/// One repository on github.com or a GitHub Enterprise Server.
#[derive(Debug)]
pub struct GithubSettings {
    /// `https://api.github.com`, `https://HOST/api/v3` (Enterprise Server), or a simulator's base.
    pub api_url: String,
    pub owner: String,
    pub name: String,
    pub auth: GithubAuth,
    /// Connect and read timeout of each request.
    pub timeout: Duration,
}

/// The default API of github.com.
pub const GITHUB_API: &str = "https://api.github.com";

/// Where REST and GraphQL live for an API URL. Enterprise Server serves REST under `/api/v3`
/// and GraphQL at `/api/graphql`, so the two cannot share one base path.
pub(crate) struct Endpoints {
    pub base: String,
    pub rest_prefix: String,
    pub graphql_path: String,
}

impl Endpoints {
    pub fn from_api_url(api_url: &str) -> Endpoints {
        let trimmed = api_url.trim_end_matches('/');
        match trimmed.strip_suffix("/api/v3") {
            Some(host) => Endpoints {
                base: format!("{host}/api"),
                rest_prefix: "/v3".to_owned(),
                graphql_path: "/graphql".to_owned(),
            },
            None => Endpoints {
                base: trimmed.to_owned(),
                rest_prefix: String::new(),
                graphql_path: "/graphql".to_owned(),
            },
        }
    }
}

/// The web page of a repository behind `api_url` (github.com, an Enterprise Server, or a
/// simulator that serves both under one base).
pub fn web_url(api_url: &str, owner: &str, name: &str) -> String {
    let trimmed = api_url.trim_end_matches('/');
    if trimmed == GITHUB_API {
        format!("https://github.com/{owner}/{name}")
    } else if let Some(host) = trimmed.strip_suffix("/api/v3") {
        format!("{host}/{owner}/{name}")
    } else {
        format!("{trimmed}/{owner}/{name}")
    }
}

/// The clone URL people and Argo CD use for a repository behind `api_url`.
pub fn clone_url(api_url: &str, owner: &str, name: &str) -> String {
    format!("{}.git", web_url(api_url, owner, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_for_github_and_enterprise() {
        let e = Endpoints::from_api_url("https://api.github.com/");
        assert_eq!(
            (e.base.as_str(), e.rest_prefix.as_str()),
            ("https://api.github.com", "")
        );
        let e = Endpoints::from_api_url("https://ghe.example.com/api/v3");
        assert_eq!(e.base, "https://ghe.example.com/api");
        assert_eq!(e.rest_prefix, "/v3");
        assert_eq!(e.graphql_path, "/graphql");
    }

    #[test]
    fn web_urls() {
        assert_eq!(
            web_url(GITHUB_API, "acme", "gitops"),
            "https://github.com/acme/gitops"
        );
        assert_eq!(
            web_url("https://ghe.example.com/api/v3/", "acme", "gitops"),
            "https://ghe.example.com/acme/gitops"
        );
    }

    #[test]
    fn clone_urls() {
        assert_eq!(
            clone_url(GITHUB_API, "acme", "gitops"),
            "https://github.com/acme/gitops.git"
        );
        assert_eq!(
            clone_url("https://ghe.example.com/api/v3", "acme", "gitops"),
            "https://ghe.example.com/acme/gitops.git"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let auth = GithubAuth::Token(SecretString::from("ghp_supersecret"));
        assert!(!format!("{auth:?}").contains("supersecret"));
        let auth = GithubAuth::App {
            app_id: 1,
            private_key_pem: SecretString::from("-----BEGIN PRIVATE KEY-----"),
            installation_id: None,
        };
        assert!(!format!("{auth:?}").contains("BEGIN"));
    }
}
