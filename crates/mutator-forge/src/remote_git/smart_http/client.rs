//! The HTTP exchanges of a push: ref discovery (`GET info/refs?service=git-receive-pack`) and
//! the update (`POST git-receive-pack`), with one client per remote so the connection (and
//! its TLS session) is reused between them and between pushes. Statuses and transport
//! failures become [`ForgeError`]s here; nothing that leaves this file carries credentials.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode, redirect};
use secrecy::ExposeSecret;

use super::advertisement::{self, Advertisement};
use crate::error::ForgeError;
use crate::remote_git::Shared;
use crate::remote_git::settings::{RemoteAuth, RemoteUrl};
use crate::remote_git::transport::scrub;

const ADVERTISEMENT: &str = "application/x-git-receive-pack-advertisement";
const REQUEST: &str = "application/x-git-receive-pack-request";
const RESULT: &str = "application/x-git-receive-pack-result";

/// Refs of a large repository take a few MB; anything far beyond is not an advertisement.
const MAX_ADVERTISEMENT: usize = 64 << 20;
/// A report is a few lines plus whatever the hooks print.
const MAX_REPORT: usize = 16 << 20;
/// Redirects followed. git follows those of ref discovery and sends the update where
/// discovery ended up; so does [`service_url`]. Credentials are dropped on a redirect to
/// another host (reqwest's rule), so such a remote answers 401.
const MAX_REDIRECTS: usize = 5;

/// Where a remote's `receive-pack` is reached over HTTP(S).
pub(crate) struct Remote {
    client: reqwest::Client,
    /// The repository URL without user information or a trailing slash.
    base: String,
}

/// What ref discovery found.
pub(crate) struct Discovery {
    pub advertisement: Advertisement,
    /// Where to send the update: next to where discovery ended up after redirects.
    pub service_url: String,
}

impl Remote {
    /// The client for `url` (an `http://` or `https://` URL). TLS uses reqwest's rustls with
    /// the platform's trust store, as the service's other HTTP clients do.
    pub fn new(url: &RemoteUrl, timeout: Duration) -> Result<Remote, ForgeError> {
        let base = url.redacted.trim_end_matches('/').to_owned();
        reqwest::Url::parse(&base).map_err(|e| {
            ForgeError::Rejected(format!("remote URL {} is not usable: {e}", url.redacted))
        })?;
        let client = reqwest::Client::builder()
            // Some servers only speak the smart protocol to user agents that look like git;
            // libgit2 announces itself the same way.
            .user_agent(concat!(
                "git/2.0 (gitops-mutator/",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            // The update is one small body; without this its last segment can wait for the
            // server's delayed ACK (reqwest's default, stated because it matters here).
            .tcp_nodelay(true)
            .connect_timeout(timeout)
            .redirect(redirect::Policy::custom(|attempt| {
                let downgrade = attempt.url().scheme() == "http"
                    && attempt.previous().iter().any(|u| u.scheme() == "https");
                if downgrade {
                    attempt.error("refusing to follow a redirect from https to http")
                } else if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| ForgeError::Unavailable {
                repo: url.redacted.clone(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Remote { client, base })
    }

    /// Asks for the remote's refs and `receive-pack` capabilities.
    pub async fn discover(
        &self,
        shared: &Shared,
        deadline: Instant,
    ) -> Result<Discovery, ForgeError> {
        let what = "ref discovery";
        let url = format!("{}/info/refs?service=git-receive-pack", self.base);
        let request = self.client.get(&url).header(CACHE_CONTROL, "no-cache");
        let response = send(request, shared, deadline, what).await?;
        expect_type(&response, ADVERTISEMENT, shared, what)?;
        let service_url = service_url(response.url(), &self.base);
        let body = read(response, MAX_ADVERTISEMENT, shared, deadline, what).await?;
        let advertisement = advertisement::parse(&body).map_err(|e| match e {
            advertisement::AdvertisementError::ObjectFormat(_) => {
                ForgeError::Rejected(format!("{}: {e}", shared.url.redacted))
            }
            _ => ForgeError::Transient(format!(
                "{}: the answer to {what} is not git's protocol: {e}",
                shared.url.redacted
            )),
        })?;
        Ok(Discovery {
            advertisement,
            service_url,
        })
    }

    /// Sends the update (commands and pack); returns the raw response body.
    pub async fn receive_pack(
        &self,
        shared: &Shared,
        service_url: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Vec<u8>, ForgeError> {
        let what = "the push";
        let request = self
            .client
            .post(service_url)
            .header(CONTENT_TYPE, REQUEST)
            .header(ACCEPT, RESULT)
            .body(body);
        let response = send(request, shared, deadline, what).await?;
        expect_type(&response, RESULT, shared, what)?;
        read(response, MAX_REPORT, shared, deadline, what).await
    }
}

/// `…/git-receive-pack` next to the `info/refs` that discovery was answered from.
fn service_url(answered: &reqwest::Url, base: &str) -> String {
    let mut url = answered.clone();
    url.set_query(None);
    let path = url.path().to_owned();
    match path.strip_suffix("/info/refs") {
        Some(repo) => {
            url.set_path(&format!("{repo}/git-receive-pack"));
            url.to_string()
        }
        None => format!("{base}/git-receive-pack"),
    }
}

/// Sends with the configured credentials (up front: the server will ask for them anyway,
/// and asking costs a round trip) and within the deadline; maps failure statuses.
async fn send(
    mut request: RequestBuilder,
    shared: &Shared,
    deadline: Instant,
    what: &str,
) -> Result<Response, ForgeError> {
    if let RemoteAuth::Basic { username, password } = &shared.auth {
        // reqwest marks the header sensitive, so it is left out of its debug output.
        request = request.basic_auth(username.expose_secret(), Some(password.expose_secret()));
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(timed_out(shared, what));
    }
    let response = request
        .timeout(left)
        .send()
        .await
        .map_err(|e| transport_error(e, shared, what))?;
    let basic = matches!(shared.auth, RemoteAuth::Basic { .. });
    let status = response.status();
    match status_error(
        status,
        retry_after(&response),
        &shared.url.redacted,
        basic,
        what,
    ) {
        Some(e) => Err(e),
        None => Ok(response),
    }
}

async fn read(
    mut response: Response,
    max: usize,
    shared: &Shared,
    deadline: Instant,
    what: &str,
) -> Result<Vec<u8>, ForgeError> {
    let mut body = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .map_err(|_| timed_out(shared, what))?
            .map_err(|e| transport_error(e, shared, what))?;
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if body.len() + chunk.len() > max {
            return Err(ForgeError::Transient(format!(
                "{}: the answer to {what} is larger than {max} bytes",
                shared.url.redacted
            )));
        }
        body.extend_from_slice(&chunk);
    }
}

/// A smart server says what it sends; anything else (a login page, a dumb server's file)
/// cannot be pushed to.
fn expect_type(
    response: &Response,
    expected: &str,
    shared: &Shared,
    what: &str,
) -> Result<(), ForgeError> {
    let found = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if found.split(';').next().map(str::trim) == Some(expected) {
        return Ok(());
    }
    Err(ForgeError::Rejected(format!(
        "{}: the answer to {what} has Content-Type {found:?}, not {expected:?}: the server does \
         not speak git's smart HTTP protocol at this URL",
        shared.url.redacted
    )))
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

/// What a non-success status means for the caller; `None` for success.
fn status_error(
    status: StatusCode,
    retry_after: Option<Duration>,
    url: &str,
    basic: bool,
    what: &str,
) -> Option<ForgeError> {
    Some(match status {
        s if s.is_success() => return None,
        StatusCode::UNAUTHORIZED if basic => ForgeError::Unauthorized(format!(
            "{url}: the remote refused the configured user and password (HTTP 401 to {what})"
        )),
        StatusCode::UNAUTHORIZED => ForgeError::Unauthorized(format!(
            "{url}: the remote asks for credentials, but none are configured (HTTP 401 to {what})"
        )),
        StatusCode::FORBIDDEN => ForgeError::Unauthorized(format!(
            "{url}: the remote does not let the configured credentials push (HTTP 403 to {what})"
        )),
        StatusCode::NOT_FOUND => ForgeError::NotFound(format!(
            "there is no git repository at {url} (HTTP 404 to {what})"
        )),
        StatusCode::TOO_MANY_REQUESTS => ForgeError::RateLimited {
            retry_after,
            message: format!("{url}: HTTP 429 to {what}"),
        },
        s if s.is_server_error() => {
            ForgeError::Transient(format!("{url}: HTTP {} to {what}", s.as_u16()))
        }
        s => ForgeError::Rejected(format!("{url}: unexpected HTTP {s} to {what}")),
    })
}

fn timed_out(shared: &Shared, what: &str) -> ForgeError {
    ForgeError::Transient(format!(
        "{what} on {} did not finish within {:?}",
        shared.url.redacted, shared.timeout
    ))
}

fn transport_error(e: reqwest::Error, shared: &Shared, what: &str) -> ForgeError {
    if e.is_timeout() {
        return timed_out(shared, what);
    }
    let redirect = e.is_redirect();
    // reqwest's own message is terse ("error sending request"); the causes say what failed.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    let message = scrub(&message, &shared.auth);
    let url = &shared.url.redacted;
    if redirect {
        ForgeError::Rejected(format!("{url}: {what}: {message}"))
    } else {
        ForgeError::Transient(format!("{url}: {what} failed: {message}"))
    }
}

// The TLS test server shared with the integration tests (a path attribute inside the
// `tests` module would be resolved against a directory that does not exist).
#[cfg(test)]
#[path = "../../../tests/support/tls.rs"]
mod test_tls;

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_tls as tls;

    #[tokio::test]
    async fn a_server_whose_certificate_is_not_trusted_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Signed by an authority that is in no trust store; the upstream is never reached.
        let certificates = tls::certificates(&dir.path().join("tls"));
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream = closed.local_addr().unwrap();
        drop(closed);
        let proxy = tls::TlsProxy::start(&certificates, upstream);
        let url = RemoteUrl::parse(&proxy.url("gitops.git")).unwrap();
        let shared = Shared {
            url: url.clone(),
            mirror_dir: dir.path().join("mirror"),
            auth: RemoteAuth::Basic {
                username: "bot".into(),
                password: "pw-tls-never-print".into(),
            },
            timeout: Duration::from_secs(10),
            http: None,
        };
        let remote = Remote::new(&url, shared.timeout).unwrap();
        let deadline = Instant::now() + shared.timeout;
        let Err(err) = remote.discover(&shared, deadline).await else {
            panic!("an untrusted certificate was accepted");
        };
        let text = err.to_string();
        assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
        assert!(text.contains("certificate"), "{text}");
        assert!(!text.contains("pw-tls-never-print"), "{text}");
    }

    #[test]
    fn statuses_map_to_what_the_caller_acts_on() {
        let url = "https://git.example.com/r.git";
        let map = |s: u16, basic: bool| {
            status_error(
                StatusCode::from_u16(s).unwrap(),
                None,
                url,
                basic,
                "the push",
            )
        };
        assert!(map(200, true).is_none());
        assert!(
            matches!(map(401, true), Some(ForgeError::Unauthorized(m)) if m.contains("refused the configured"))
        );
        assert!(
            matches!(map(401, false), Some(ForgeError::Unauthorized(m)) if m.contains("none are configured"))
        );
        assert!(matches!(map(403, true), Some(ForgeError::Unauthorized(_))));
        assert!(matches!(map(404, true), Some(ForgeError::NotFound(_))));
        assert!(matches!(map(500, true), Some(ForgeError::Transient(_))));
        assert!(matches!(map(503, true), Some(ForgeError::Transient(_))));
        assert!(matches!(map(400, true), Some(ForgeError::Rejected(_))));
        let limited = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(7)),
            url,
            true,
            "the push",
        );
        assert!(matches!(
            limited,
            Some(ForgeError::RateLimited { retry_after: Some(d), .. }) if d == Duration::from_secs(7)
        ));
    }

    #[test]
    fn the_update_goes_next_to_where_discovery_landed() {
        let base = "https://git.example.com/acme/gitops";
        let same = reqwest::Url::parse(
            "https://git.example.com/acme/gitops/info/refs?service=git-receive-pack",
        )
        .unwrap();
        assert_eq!(
            service_url(&same, base),
            "https://git.example.com/acme/gitops/git-receive-pack"
        );
        let moved = reqwest::Url::parse(
            "https://git.example.com/acme/gitops.git/info/refs?service=git-receive-pack",
        )
        .unwrap();
        assert_eq!(
            service_url(&moved, base),
            "https://git.example.com/acme/gitops.git/git-receive-pack"
        );
        let odd = reqwest::Url::parse("https://sso.example.com/login").unwrap();
        assert_eq!(
            service_url(&odd, base),
            "https://git.example.com/acme/gitops/git-receive-pack"
        );
    }
}
