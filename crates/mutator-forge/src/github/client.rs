//! One HTTP exchange with GitHub, and what its status means. octocrab carries the requests
//! (and, for GitHub Apps, signs JWTs and caches installation tokens); statuses, rate-limit
//! headers and bodies are read here so that every failure gets the right [`ForgeError`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, StatusCode, header};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use secrecy::ExposeSecret;
use tokio::sync::OnceCell;

use super::pacing::Pacer;
use super::settings::{Endpoints, GithubAuth, GithubSettings};
use crate::error::ForgeError;

const API_VERSION: &str = "2022-11-28";
pub(crate) const JSON: &str = "application/vnd.github+json";
pub(crate) const RAW: &str = "application/vnd.github.raw+json";
/// Waiting this long is GitHub's advice for a secondary limit that names no time.
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A finished exchange.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, ForgeError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ForgeError::Transient(format!("{what}: unexpected response from GitHub: {e}"))
        })
    }

    /// GitHub's `message` field, if the body has one.
    pub fn message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_default()
    }

    /// The `errors[].message` texts of a validation failure.
    pub fn error_messages(&self) -> Vec<String> {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("errors").and_then(|e| e.as_array()).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .collect()
    }
}

/// How many requests this backend sent, for logs and benchmarks.
#[derive(Debug, Default)]
pub struct RequestCounts {
    pub total: AtomicU64,
    /// POST/PATCH/PUT/DELETE and GraphQL mutations: what GitHub's content-creation limit counts.
    pub content_creating: AtomicU64,
}

impl RequestCounts {
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.total.load(Ordering::Relaxed),
            self.content_creating.load(Ordering::Relaxed),
        )
    }
}

pub(crate) struct Client {
    endpoints: Endpoints,
    /// The client for a token, or the app client that mints installation clients.
    root: Octocrab,
    app: Option<AppInstallation>,
    installation: OnceCell<Octocrab>,
    pub counts: RequestCounts,
    pub(super) pacer: Pacer,
    owner: String,
    name: String,
}

struct AppInstallation {
    installation_id: Option<u64>,
}

impl Client {
    pub fn new(settings: &GithubSettings) -> Result<Client, ForgeError> {
        let endpoints = Endpoints::from_api_url(&settings.api_url);
        let bad_url = |e: octocrab::Error| {
            ForgeError::Rejected(format!(
                "GitHub API URL {:?} is invalid: {e}",
                endpoints.base
            ))
        };
        let timeout = Some(settings.timeout);
        let b = Octocrab::builder()
            .set_connect_timeout(timeout)
            .set_read_timeout(timeout)
            .base_uri(endpoints.base.as_str())
            .map_err(bad_url)?;
        let (root, app) = match &settings.auth {
            GithubAuth::Token(token) => (
                b.personal_token(token.expose_secret().to_owned())
                    .build()
                    .map_err(|e| {
                        ForgeError::Rejected(format!("cannot build the GitHub client: {e}"))
                    })?,
                None,
            ),
            GithubAuth::App {
                app_id,
                private_key_pem,
                installation_id,
            } => (
                b.app_from_rsa_pem(AppId(*app_id), private_key_pem.expose_secret().as_bytes())
                    .map_err(|_| {
                        ForgeError::Rejected(
                            "the GitHub App private key is not a valid RSA PEM key".to_owned(),
                        )
                    })?
                    .build()
                    .map_err(|e| {
                        ForgeError::Rejected(format!("cannot build the GitHub client: {e}"))
                    })?,
                Some(AppInstallation {
                    installation_id: *installation_id,
                }),
            ),
        };
        Ok(Client {
            endpoints,
            root,
            app,
            installation: OnceCell::new(),
            counts: RequestCounts::default(),
            pacer: Pacer::github(),
            owner: settings.owner.clone(),
            name: settings.name.clone(),
        })
    }

    /// The client requests go through: the token client, or the installation client (found
    /// once, then reused; octocrab refreshes its token before it expires).
    async fn client(&self) -> Result<&Octocrab, ForgeError> {
        let Some(app) = &self.app else {
            return Ok(&self.root);
        };
        self.installation
            .get_or_try_init(|| async {
                let id = match app.installation_id {
                    Some(id) => id,
                    None => self.find_installation().await?,
                };
                self.root
                    .installation(InstallationId(id))
                    .map_err(|e| ForgeError::Rejected(format!("GitHub App installation {id}: {e}")))
            })
            .await
    }

    async fn find_installation(&self) -> Result<u64, ForgeError> {
        #[derive(serde::Deserialize)]
        struct Installation {
            id: u64,
        }
        let path = format!("/repos/{}/{}/installation", self.owner, self.name);
        let reply = self
            .exchange(&self.root, Method::GET, &self.rest(&path), JSON, None)
            .await?;
        if !reply.status.is_success() {
            return Err(status_error(&reply, "finding the GitHub App installation"));
        }
        Ok(reply.json::<Installation>("installation")?.id)
    }

    /// A REST path under this API (`/repos/...`).
    pub fn rest(&self, path: &str) -> String {
        format!("{}{path}", self.endpoints.rest_prefix)
    }

    /// The repository's REST path with `suffix`.
    pub fn repo_path(&self, suffix: &str) -> String {
        self.rest(&format!("/repos/{}/{}{suffix}", self.owner, self.name))
    }

    pub fn graphql_path(&self) -> &str {
        &self.endpoints.graphql_path
    }

    pub fn name_with_owner(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Sends one request and returns whatever status came back; transport failures are
    /// [`ForgeError::Transient`], refused credentials [`ForgeError::Unauthorized`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ForgeError> {
        let client = self.client().await?;
        self.exchange(client, method, path, accept, body).await
    }

    async fn exchange(
        &self,
        client: &Octocrab,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, ForgeError> {
        let creates = method != Method::GET && method != Method::HEAD;
        if creates {
            self.pacer.slot().await;
        }
        self.counts.total.fetch_add(1, Ordering::Relaxed);
        if creates {
            self.counts.content_creating.fetch_add(1, Ordering::Relaxed);
        }
        let request = http::Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::ACCEPT, accept)
            .header("x-github-api-version", API_VERSION);
        let request = client
            .build_request(request, body)
            .map_err(|e| transport(&method, path, &e))?;
        let response = client
            .execute(request)
            .await
            .map_err(|e| transport(&method, path, &e))?;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| {
                ForgeError::Transient(format!("{method} {path}: reading the response failed: {e}"))
            })?
            .to_bytes();
        tracing::debug!(%method, path, status = parts.status.as_u16(), "github request");
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: bytes.to_vec(),
        })
    }
}

/// octocrab reports token minting failures (a refused app JWT) as GitHub errors; everything
/// else that fails before a status is a transport problem.
fn transport(method: &Method, path: &str, e: &octocrab::Error) -> ForgeError {
    if let octocrab::Error::GitHub { source, .. } = e {
        let status = source.status_code;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return ForgeError::Unauthorized(format!("{method} {path}: {}", source.message));
        }
        if status.is_server_error() {
            return ForgeError::Transient(format!("{method} {path}: HTTP {status}"));
        }
        return ForgeError::Rejected(format!(
            "{method} {path}: HTTP {status}: {}",
            source.message
        ));
    }
    ForgeError::Transient(format!("{method} {path}: {e}"))
}

/// Maps a non-success reply to an error. A 403 is only a permission problem when it is not a
/// rate limit (GitHub uses 403 for both).
pub(crate) fn status_error(reply: &Reply, what: &str) -> ForgeError {
    let status = reply.status;
    let message = reply.message();
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && is_rate_limit(reply, &message))
    {
        return ForgeError::RateLimited {
            retry_after: Some(retry_after(&reply.headers)),
            message: format!("{what}: {message}"),
        };
    }
    match status {
        StatusCode::UNAUTHORIZED => ForgeError::Unauthorized(format!("{what}: {message}")),
        StatusCode::FORBIDDEN => ForgeError::Rejected(format!("{what}: forbidden: {message}")),
        StatusCode::NOT_FOUND => ForgeError::NotFound(format!(
            "{what}: not found (or the credentials cannot see it)"
        )),
        s if s.is_server_error() => ForgeError::Transient(format!("{what}: HTTP {s}")),
        s => ForgeError::Rejected(format!("{what}: HTTP {s}: {message}")),
    }
}

fn is_rate_limit(reply: &Reply, message: &str) -> bool {
    header_str(&reply.headers, "x-ratelimit-remaining") == Some("0")
        || reply.headers.contains_key(header::RETRY_AFTER)
        || message.to_ascii_lowercase().contains("rate limit")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How long GitHub asks us to wait: `retry-after`, else until `x-ratelimit-reset` when the
/// primary limit is spent, else a minute (its advice for secondary limits).
pub(crate) fn retry_after(headers: &HeaderMap) -> Duration {
    if let Some(secs) =
        header_str(headers, "retry-after").and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Duration::from_secs(secs);
    }
    if header_str(headers, "x-ratelimit-remaining") == Some("0")
        && let Some(reset) =
            header_str(headers, "x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())
    {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        return Duration::from_secs(reset.saturating_sub(now));
    }
    SECONDARY_LIMIT_WAIT
}

/// Percent-encodes each segment of a repository path for use in a URL, keeping the slashes.
pub(crate) fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
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
    fn a_403_is_a_rate_limit_only_when_github_says_so() {
        let secondary = reply(
            403,
            &[("retry-after", "7")],
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        );
        match status_error(&secondary, "x") {
            ForgeError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)))
            }
            other => panic!("{other:?}"),
        }
        let primary = reply(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "0")],
            r#"{"message":"API rate limit exceeded"}"#,
        );
        assert!(matches!(
            status_error(&primary, "x"),
            ForgeError::RateLimited { .. }
        ));
        let no_minute = reply(
            403,
            &[],
            r#"{"message":"You have exceeded a secondary rate limit"}"#,
        );
        match status_error(&no_minute, "x") {
            ForgeError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(SECONDARY_LIMIT_WAIT))
            }
            other => panic!("{other:?}"),
        }
        let forbidden = reply(
            403,
            &[("x-ratelimit-remaining", "4999")],
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        assert!(matches!(
            status_error(&forbidden, "x"),
            ForgeError::Rejected(_)
        ));
        assert!(matches!(
            status_error(&reply(429, &[], "{}"), "x"),
            ForgeError::RateLimited { .. }
        ));
    }

    #[test]
    fn other_statuses() {
        assert!(matches!(
            status_error(&reply(401, &[], r#"{"message":"Bad credentials"}"#), "x"),
            ForgeError::Unauthorized(_)
        ));
        assert!(matches!(
            status_error(&reply(404, &[], "{}"), "x"),
            ForgeError::NotFound(_)
        ));
        assert!(matches!(
            status_error(&reply(502, &[], ""), "x"),
            ForgeError::Transient(_)
        ));
        assert!(matches!(
            status_error(&reply(422, &[], "{}"), "x"),
            ForgeError::Rejected(_)
        ));
        assert!(!status_error(&reply(401, &[], "{}"), "x").is_retryable());
        assert!(!status_error(&reply(404, &[], "{}"), "x").is_retryable());
    }

    #[test]
    fn paths_are_encoded_per_segment() {
        assert_eq!(encode_path("apps/a b/v#1.yaml"), "apps/a%20b/v%231.yaml");
        assert_eq!(
            encode_path("gitops/payments/production"),
            "gitops/payments/production"
        );
    }
}
