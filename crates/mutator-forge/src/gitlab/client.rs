//! One HTTP exchange with GitLab and what its status means. The `gitlab` crate carries the
//! requests (TLS, auth headers, the token check at start); statuses, rate-limit headers and
//! bodies are read here so that every failure becomes the right [`ForgeError`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitlab::api::{self, AsyncClient, RestClient};
use gitlab::{AsyncGitlab, GitlabBuilder};
use http::{HeaderMap, Method, StatusCode, header};
use secrecy::ExposeSecret;
use tokio::sync::OnceCell;

use super::settings::{GitlabAuth, GitlabSettings, host_of};
use crate::error::ForgeError;

/// A finished exchange.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, ForgeError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ForgeError::Transient(format!("{what}: unexpected response from GitLab: {e}"))
        })
    }

    /// GitLab's `message` (a string, or an array of strings for some validations).
    pub fn message(&self) -> String {
        let value: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        match value.get("message").or_else(|| value.get("error")) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }
}

pub(crate) struct Client {
    secure: bool,
    host: String,
    token: String,
    bearer: bool,
    timeout: Duration,
    api: OnceCell<AsyncGitlab>,
    project: String,
}

impl Client {
    pub fn new(settings: &GitlabSettings) -> Result<Client, ForgeError> {
        let (secure, host) = host_of(&settings.api_url).map_err(ForgeError::Rejected)?;
        let (token, bearer) = match &settings.auth {
            GitlabAuth::Token(t) => (t.expose_secret().to_owned(), false),
            GitlabAuth::Bearer(t) => (t.expose_secret().to_owned(), true),
        };
        Ok(Client {
            secure,
            host,
            token,
            bearer,
            timeout: settings.timeout,
            api: OnceCell::new(),
            project: encode_segment(&settings.project),
        })
    }

    /// The client, built on first use: building checks the token against `/user`, which
    /// should not stop the service from starting while GitLab is down.
    async fn api(&self) -> Result<&AsyncGitlab, ForgeError> {
        self.api
            .get_or_try_init(|| async {
                let mut builder = GitlabBuilder::new(self.host.clone(), self.token.clone());
                if !self.secure {
                    builder.insecure();
                }
                if self.bearer {
                    builder.oauth2_token();
                }
                tokio::time::timeout(self.timeout, builder.build_async())
                    .await
                    .map_err(|_| {
                        ForgeError::Transient("connecting to GitLab timed out".to_owned())
                    })?
                    .map_err(build_error)
            })
            .await
    }

    /// `projects/<id>/<suffix>` under the API.
    pub fn project_path(&self, suffix: &str) -> String {
        format!("projects/{}{suffix}", self.project)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ForgeError> {
        let api = self.api().await?;
        let url = api
            .rest_endpoint(path)
            .map_err(|e| ForgeError::Rejected(format!("{method} {path}: {e}")))?;
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(url.as_str());
        let bytes = match body {
            Some(b) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                serde_json::to_vec(b)
                    .map_err(|e| ForgeError::Rejected(format!("{method} {path}: {e}")))?
            }
            None => Vec::new(),
        };
        let response = tokio::time::timeout(self.timeout, api.rest_async(request, bytes))
            .await
            .map_err(|_| ForgeError::Transient(format!("{method} {path}: timed out")))?
            .map_err(|e| ForgeError::Transient(format!("{method} {path}: {e}")))?;
        let (parts, body) = response.into_parts();
        tracing::debug!(%method, path, status = parts.status.as_u16(), "gitlab request");
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        })
    }
}

fn build_error(e: gitlab::GitlabError) -> ForgeError {
    if let gitlab::GitlabError::Api { source } = &e {
        let status = match source {
            api::ApiError::GitlabWithStatus { status, .. }
            | api::ApiError::GitlabObjectWithStatus { status, .. }
            | api::ApiError::GitlabUnrecognizedWithStatus { status, .. }
            | api::ApiError::GitlabService { status, .. } => Some(*status),
            _ => None,
        };
        match status {
            Some(s) if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => {
                return ForgeError::Unauthorized(format!("GitLab refused the token (HTTP {s})"));
            }
            Some(s) if s == StatusCode::TOO_MANY_REQUESTS => {
                return ForgeError::RateLimited {
                    retry_after: None,
                    message: "GitLab rate limit".to_owned(),
                };
            }
            Some(s) if s.is_server_error() => {
                return ForgeError::Transient(format!("GitLab answered HTTP {s}"));
            }
            _ => {}
        }
    }
    match e {
        gitlab::GitlabError::Communication { .. } => {
            ForgeError::Transient(format!("connecting to GitLab: {e}"))
        }
        other => ForgeError::Rejected(format!("cannot use GitLab: {other}")),
    }
}

/// Maps a non-success reply to an error.
pub(crate) fn status_error(reply: &Reply, what: &str) -> ForgeError {
    let message = reply.message();
    match reply.status {
        StatusCode::TOO_MANY_REQUESTS => ForgeError::RateLimited {
            retry_after: Some(retry_after(&reply.headers)),
            message: format!("{what}: {message}"),
        },
        StatusCode::UNAUTHORIZED => ForgeError::Unauthorized(format!("{what}: {message}")),
        StatusCode::FORBIDDEN => ForgeError::Rejected(format!("{what}: forbidden: {message}")),
        StatusCode::NOT_FOUND => ForgeError::NotFound(format!("{what}: {message}")),
        s if s.is_server_error() => ForgeError::Transient(format!("{what}: HTTP {s}")),
        s => ForgeError::Rejected(format!("{what}: HTTP {s}: {message}")),
    }
}

/// `Retry-After`, else until `RateLimit-Reset` (epoch seconds), else a minute.
fn retry_after(headers: &HeaderMap) -> Duration {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(secs) = value("retry-after") {
        return Duration::from_secs(secs);
    }
    if let Some(reset) = value("ratelimit-reset") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        return Duration::from_secs(reset.saturating_sub(now));
    }
    Duration::from_secs(60)
}

/// GitLab takes project paths, file paths and branch names as one URL-encoded segment.
pub(crate) fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses() {
        match status_error(&reply(429, &[("retry-after", "3")], "{}"), "x") {
            ForgeError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(3)))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status_error(&reply(401, &[], r#"{"message":"401 Unauthorized"}"#), "x"),
            ForgeError::Unauthorized(_)
        ));
        assert!(matches!(
            status_error(&reply(403, &[], r#"{"error":"insufficient_scope"}"#), "x"),
            ForgeError::Rejected(_)
        ));
        assert!(matches!(
            status_error(&reply(404, &[], "{}"), "x"),
            ForgeError::NotFound(_)
        ));
        assert!(matches!(
            status_error(&reply(503, &[], ""), "x"),
            ForgeError::Transient(_)
        ));
    }

    #[test]
    fn array_messages_are_joined() {
        let r = reply(
            409,
            &[],
            r#"{"message":["Another open merge request already exists for this source branch: !3"]}"#,
        );
        assert!(r.message().contains("!3"));
    }

    #[test]
    fn segments_are_encoded_whole() {
        assert_eq!(encode_segment("group/sub/name"), "group%2Fsub%2Fname");
        assert_eq!(encode_segment("apps/a b.yaml"), "apps%2Fa%20b.yaml");
    }
}
