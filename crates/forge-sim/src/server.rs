//! The HTTP surface: routes, and the one middleware ("gate") every API request passes.
//!
//! The gate does, in order: count the request, add latency, authenticate, charge the primary
//! budget, inject a 5xx, apply the secondary limit to content-creating requests, run the
//! handler, and stamp the rate-limit and request-id headers on whatever comes back. Keeping all
//! of that in one function makes the order (which matters for what a test observes) visible.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

use crate::auth::{self, Caller};
use crate::error::{ApiError, json_response};
use crate::faults::FaultTiming;
use crate::limits::{RateInfo, Resource};
use crate::sim::Sim;
use crate::state::SimState;
use crate::{apps, control, graphql, pulls, rest};

pub(crate) type AppState = Arc<SimState>;

/// Largest request body accepted: GraphQL commits carry whole files in base64, and GitHub's
/// own ceiling for one `createCommitOnBranch` is around 40 MB (forge-facts §B.4).
pub(crate) const MAX_BODY: usize = 160 * 1024 * 1024;

const SECONDARY_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const SECONDARY_DOC: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
const PRIMARY_DOC: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit";

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/repos/{owner}/{repo}", get(rest::repos::get_repo))
        .route(
            "/repos/{owner}/{repo}/git/ref/{*ref}",
            get(rest::refs::get_ref),
        )
        .route(
            "/repos/{owner}/{repo}/git/refs",
            post(rest::refs::create_ref),
        )
        .route(
            "/repos/{owner}/{repo}/git/refs/{*ref}",
            patch(rest::refs::update_ref).delete(rest::refs::delete_ref),
        )
        .route(
            "/repos/{owner}/{repo}/git/commits/{sha}",
            get(rest::commits::get_git_commit),
        )
        .route(
            "/repos/{owner}/{repo}/contents",
            get(rest::contents::get_root),
        )
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(rest::contents::get_contents),
        )
        .route(
            "/repos/{owner}/{repo}/commits",
            get(rest::commits::list_commits),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{*ref}",
            get(rest::commits::get_commit),
        )
        .route(
            "/repos/{owner}/{repo}/compare/{*basehead}",
            get(rest::compare::compare),
        )
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(pulls::list).post(pulls::create),
        )
        .route("/repos/{owner}/{repo}/pulls/{number}", get(pulls::get_one))
        .route(
            "/repos/{owner}/{repo}/installation",
            get(apps::repo_installation),
        )
        .route(
            "/app/installations/{installation_id}/access_tokens",
            post(apps::create_access_token),
        )
        .route("/graphql", post(graphql::handle))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), gate));
    api.merge(control::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Whether a GraphQL body is a mutation (content-creating, forge-facts §D.2).
fn graphql_is_mutation(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let Some(query) = v.get("query").and_then(Value::as_str) else {
        return false;
    };
    let mut text = query.trim_start();
    // Skip leading `# comment` lines.
    while let Some(rest) = text.strip_prefix('#') {
        text = rest
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    text.starts_with("mutation")
}

fn fault_response(status: StatusCode) -> Response {
    json_response(
        status,
        &json!({ "message": status.canonical_reason().unwrap_or("Server Error") }),
    )
}

async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let seq = state.next_request_seq();
    let request_id = crate::ids::request_id(seq);
    let method = req.method().clone();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |m| m.as_str().to_owned());
    let is_graphql = template == "/graphql";
    let resource = if is_graphql {
        Resource::Graphql
    } else {
        Resource::Core
    };

    // GraphQL mutations are content-creating; seeing that needs the body, so buffer it here and
    // hand the handler an identical request.
    let (req, mutation) = if is_graphql && method == Method::POST {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body too large",
                    crate::error::DOC_REST,
                )
                .into_response();
            }
        };
        let mutation = graphql_is_mutation(&bytes);
        (Request::from_parts(parts, Body::from(bytes)), mutation)
    } else {
        (req, false)
    };
    let content_creating = mutation
        || (!is_graphql
            && matches!(method, Method::POST | Method::PATCH | Method::PUT | Method::DELETE)
            // Token requests have their own budget at GitHub, not the content-creation one.
            && !template.starts_with("/app/"));

    let latency = state.faults().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let now = crate::clock::now_epoch();
    let caller = auth::authenticate(&state, req.headers(), now);
    {
        let mut stats = state.stats();
        stats.total_requests += 1;
        *stats
            .by_route
            .entry(format!("{method} {template}"))
            .or_default() += 1;
        let label = caller
            .as_ref()
            .map_or_else(|_| "anonymous".to_owned(), Caller::label);
        *stats.by_credential.entry(label).or_default() += 1;
        if content_creating {
            stats.content_creating += 1;
        }
        if mutation {
            stats.graphql_mutations += 1;
        }
    }
    let caller = match caller {
        Ok(c) => c,
        Err(e) => {
            return finish(
                e.into_response(),
                &RateInfo::anonymous(resource, now),
                &request_id,
            );
        }
    };

    let rate = state.limits().charge(&caller.bucket(), resource, now);
    if rate.exhausted {
        state.stats().primary_limited += 1;
        let message = format!("API rate limit exceeded for {}.", caller.limit_subject());
        let resp = if is_graphql {
            // GraphQL reports primary exhaustion as HTTP 200 with an error (forge-facts §D.3).
            json_response(
                StatusCode::OK,
                &json!({ "errors": [{ "type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message }] }),
            )
        } else {
            let status = state.limits().primary_status;
            ApiError::new(status, message, PRIMARY_DOC).into_response()
        };
        return finish(resp, &rate, &request_id);
    }

    let fault = state.faults().next_fault();
    if let Some((status, FaultTiming::BeforeHandler)) = fault {
        state.stats().faults_injected += 1;
        return finish(fault_response(status), &rate, &request_id);
    }

    if content_creating {
        let refusal = state.limits().check_secondary(Instant::now());
        if let Some(refusal) = refusal {
            state.stats().secondary_limited += 1;
            let status = state.limits().secondary_status;
            let mut err = ApiError::new(status, SECONDARY_MESSAGE, SECONDARY_DOC);
            if let Some(secs) = refusal.retry_after {
                err = err.with_header(
                    HeaderName::from_static("retry-after"),
                    HeaderValue::from(secs),
                );
            }
            return finish(err.into_response(), &rate, &request_id);
        }
    }

    let mut req = req;
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    if let Some((status, FaultTiming::AfterHandler)) = fault {
        state.stats().faults_injected += 1;
        resp = fault_response(status);
    }
    finish(resp, &rate, &request_id)
}

/// Stamps the headers GitHub puts on every API response.
fn finish(mut resp: Response, rate: &RateInfo, request_id: &str) -> Response {
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
    h.insert("x-ratelimit-used", HeaderValue::from(rate.used()));
    h.insert("x-ratelimit-reset", HeaderValue::from(rate.reset));
    h.insert(
        "x-ratelimit-resource",
        HeaderValue::from_static(rate.resource.as_str()),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-github-request-id", v);
    }
    h.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    h.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    resp
}

/// Serves the simulated GitHub on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, sim: Sim) -> std::io::Result<()> {
    serve_with_shutdown(listener, sim, std::future::pending()).await
}

/// Serves until `signal` completes, then shuts down gracefully.
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    sim: Sim,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    sim.state().set_base_url(base_url_for(addr));
    let app = router(Arc::clone(sim.state()));
    axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await
}

/// The URL clients use for a bound address (an unspecified bind address is reached on
/// loopback).
pub(crate) fn base_url_for(addr: std::net::SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            std::net::SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            std::net::SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        addr.ip()
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// Runs blocking git work off the async workers.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// Parses a JSON request body the way GitHub reports problems with it.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    doc: &str,
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::from_json_error(&e, doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_mutations() {
        assert!(graphql_is_mutation(
            br#"{"query":"mutation($input: X!) { a }"}"#
        ));
        assert!(graphql_is_mutation(
            br##"{"query":"# c\n mutation { a }"}"##
        ));
        assert!(!graphql_is_mutation(
            br#"{"query":"query { viewer { login } }"}"#
        ));
        assert!(!graphql_is_mutation(b"not json"));
    }

    #[test]
    fn unspecified_bind_is_reached_on_loopback() {
        let addr: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(base_url_for(addr), "http://127.0.0.1:8080");
    }
}
