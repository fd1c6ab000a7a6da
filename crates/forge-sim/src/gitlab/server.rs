//! The GitLab HTTP surface: routes under `/api/v4`, and the gate every API request passes
//! (order documented in the module root).
//!
//! Routes are matched by axum on the raw request path, so an encoded `%2F` stays inside one
//! segment (`{id}`, `{file_path}`, `{branch}`) and is decoded by the `Path` extractor after
//! matching.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::control::GitlabControl;
use super::error::GlError;
use super::limits::{RateInfo, http_date};
use super::state::GitlabState;
use super::{
    auth, branches, commit_create, commits, compare, files, http_control, merge_requests, projects,
};
use crate::error::json_response;
use crate::faults::FaultTiming;

pub(crate) type GlState = Arc<GitlabState>;

/// Prefix of every API route; stats keys leave it out.
pub(crate) const API_PREFIX: &str = "/api/v4";

/// Largest request body accepted (a commit carries whole files).
const MAX_BODY: usize = 160 * 1024 * 1024;

pub(crate) fn router(state: GlState) -> Router {
    let api = Router::new()
        .route("/api/v4/user", get(projects::current_user))
        .route("/api/v4/projects/{id}", get(projects::get_project))
        .route(
            "/api/v4/projects/{id}/repository/branches",
            post(branches::create_branch),
        )
        .route(
            "/api/v4/projects/{id}/repository/branches/{branch}",
            get(branches::get_branch).delete(branches::delete_branch),
        )
        .route(
            "/api/v4/projects/{id}/repository/compare",
            get(compare::compare),
        )
        .route(
            "/api/v4/projects/{id}/repository/files/{file_path}",
            get(files::get_file),
        )
        .route(
            "/api/v4/projects/{id}/repository/files/{file_path}/raw",
            get(files::get_raw),
        )
        .route(
            "/api/v4/projects/{id}/repository/commits",
            get(commits::list).post(commit_create::create),
        )
        .route(
            "/api/v4/projects/{id}/repository/commits/{sha}",
            get(commits::get_one),
        )
        .route(
            "/api/v4/projects/{id}/repository/commits/{sha}/diff",
            get(commits::diff),
        )
        .route(
            "/api/v4/projects/{id}/merge_requests",
            get(merge_requests::list).post(merge_requests::create),
        )
        .route(
            "/api/v4/projects/{id}/merge_requests/{iid}",
            get(merge_requests::get_one),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), gate));
    api.merge(http_control::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn not_found() -> GlError {
    GlError::new(StatusCode::NOT_FOUND, json!({ "error": "404 Not Found" }))
}

fn fault_response(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Server Error");
    json_response(
        status,
        &json!({ "message": format!("{} {reason}", status.as_u16()) }),
    )
}

/// Rack::Attack's refusal: 429, plain text, `Retry-After`.
fn throttled(retry_after: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain")),
            (header::RETRY_AFTER, HeaderValue::from(retry_after)),
        ],
        "Retry later\n",
    )
        .into_response()
}

const REQUEST_ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `X-Request-Id`: 26 characters of Crockford base32, like GitLab's correlation ids.
fn request_id() -> String {
    crate::ids::random_bytes::<26>()
        .iter()
        .map(|b| {
            let idx = usize::from(*b) % REQUEST_ID_ALPHABET.len();
            char::from(REQUEST_ID_ALPHABET.get(idx).copied().unwrap_or(b'0'))
        })
        .collect()
}

async fn gate(State(state): State<GlState>, req: Request, next: Next) -> Response {
    state.next_request_seq();
    let request_id = request_id();
    let method = req.method().clone();
    let template = req.extensions().get::<MatchedPath>().map_or_else(
        || "<unmatched>".to_owned(),
        |m| {
            let t = m.as_str();
            t.strip_prefix(API_PREFIX).unwrap_or(t).to_owned()
        },
    );
    let write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    let latency = state.faults().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let now = crate::clock::now_epoch();
    let caller = auth::authenticate(&state, req.headers());
    let key = caller
        .as_ref()
        .map_or_else(|_| "anonymous".to_owned(), auth::GlCaller::label);
    {
        let mut stats = state.stats();
        stats.total_requests += 1;
        *stats
            .by_route
            .entry(format!("{method} {template}"))
            .or_default() += 1;
        *stats.by_token.entry(key.clone()).or_default() += 1;
        if write {
            stats.writes += 1;
        }
    }

    let forced = state.limits().take_forced();
    if let Some(retry_after) = forced {
        state.stats().rate_limited += 1;
        let info = state.limits().forced_info(now, retry_after);
        return finish(throttled(retry_after), &info, &request_id);
    }

    let (rate, over) = state.limits().charge(&key, caller.is_ok(), now);
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return finish(e.into_response(), &rate, &request_id),
    };
    if over {
        state.stats().rate_limited += 1;
        let retry_after = u64::try_from((rate.reset - now).max(1)).unwrap_or(1);
        return finish(throttled(retry_after), &rate, &request_id);
    }
    if !caller.allows(write) {
        let scope = if write { "api" } else { "api read_api" };
        return finish(
            GlError::insufficient_scope(scope).into_response(),
            &rate,
            &request_id,
        );
    }

    let fault = state.faults().next_fault();
    if let Some((status, FaultTiming::BeforeHandler)) = fault {
        state.stats().faults_injected += 1;
        return finish(fault_response(status), &rate, &request_id);
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

/// Stamps the headers GitLab puts on API responses (forge-facts §G.5).
fn finish(mut resp: Response, rate: &RateInfo, request_id: &str) -> Response {
    let h = resp.headers_mut();
    h.insert("ratelimit-name", HeaderValue::from_static(rate.name()));
    h.insert("ratelimit-limit", HeaderValue::from(rate.limit));
    h.insert("ratelimit-observed", HeaderValue::from(rate.observed));
    h.insert("ratelimit-remaining", HeaderValue::from(rate.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(rate.reset));
    if let Ok(v) = HeaderValue::from_str(&http_date(rate.reset)) {
        h.insert("ratelimit-resettime", v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    resp
}

/// Runs blocking git work off the async workers.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, GlError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, GlError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(GlError::internal)?
}

/// Serves the simulated GitLab on `listener` until `signal` completes.
pub(crate) async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    control: GitlabControl,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    control
        .state()
        .set_base_url(crate::server::base_url_for(addr));
    let app = router(Arc::clone(control.state()));
    axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await
}
