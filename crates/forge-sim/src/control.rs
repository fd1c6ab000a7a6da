//! The `/_sim/...` HTTP control surface: the same switches as [`crate::Sim`], as JSON, so a
//! simulator running as a process (demos, manual testing) can be driven with curl.
//!
//! It has no authentication, by design of a local test tool: bind the process to loopback.
//! Control requests are not counted in the stats and are never rate-limited or faulted.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{SimError, json_response};
use crate::faults::FaultTiming;
use crate::limits::{PrimaryLimit, Resource};
use crate::server::AppState;
use crate::sim::Sim;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_sim/stats", get(stats).delete(reset_stats))
        .route("/_sim/repos", post(create_repo))
        .route(
            "/_sim/repos/{owner}/{repo}/pulls/{number}/merge",
            post(merge_pull),
        )
        .route(
            "/_sim/repos/{owner}/{repo}/pulls/{number}/close",
            post(close_pull),
        )
        .route("/_sim/tokens", post(add_token))
        .route("/_sim/apps", post(add_app))
        .route("/_sim/jwt-claims", get(jwt_claims))
        .route("/_sim/installation-tokens", get(installation_tokens))
        .route("/_sim/limits/primary", put(set_primary))
        .route(
            "/_sim/limits/secondary",
            put(set_secondary).delete(clear_secondary),
        )
        .route("/_sim/faults", put(set_faults).delete(clear_faults))
        .route("/_sim/foreign-push", post(foreign_push))
}

/// A control-surface failure: `{"message": ...}` with 400, 404 or 409.
struct ControlError(StatusCode, String);

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        let status = match &e {
            SimError::UnknownRepo(_) | SimError::UnknownBranch(_) | SimError::UnknownPull(_) => {
                StatusCode::NOT_FOUND
            }
            SimError::RepoExists(_) | SimError::NotMergeable(_) => StatusCode::CONFLICT,
            SimError::Invalid(_) => StatusCode::BAD_REQUEST,
            SimError::Io(_) | SimError::Git(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ControlError(status, e.to_string())
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        json_response(self.0, &json!({ "message": self.1 }))
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| ControlError(StatusCode::BAD_REQUEST, e.to_string()))
}

fn sim(state: AppState) -> Sim {
    Sim::from_state(state)
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(state): State<AppState>) -> Response {
    let body = serde_json::to_value(sim(state).stats()).unwrap_or(Value::Null);
    json_response(StatusCode::OK, &body)
}

async fn reset_stats(State(state): State<AppState>) -> Response {
    sim(state).reset_stats();
    no_content()
}

#[derive(Deserialize)]
struct NewRepo {
    owner: String,
    name: String,
    #[serde(default = "main_branch")]
    default_branch: String,
    #[serde(default)]
    empty: bool,
}

fn main_branch() -> String {
    "main".to_owned()
}

async fn create_repo(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let req: NewRepo = parse(&body)?;
    let sim = sim(state);
    let path = if req.empty {
        sim.create_empty_repo(&req.owner, &req.name, &req.default_branch)?
    } else {
        sim.create_repo(&req.owner, &req.name, &req.default_branch)?
    };
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "full_name": format!("{}/{}", req.owner, req.name), "path": path.display().to_string() }),
    ))
}

async fn merge_pull(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Response, ControlError> {
    let sha = sim(state).merge_pull(&owner, &repo, number)?;
    Ok(json_response(StatusCode::OK, &json!({ "sha": sha })))
}

async fn close_pull(
    State(state): State<AppState>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Response, ControlError> {
    sim(state).close_pull(&owner, &repo, number)?;
    Ok(no_content())
}

#[derive(Deserialize)]
struct NewToken {
    token: String,
    user: String,
    #[serde(default)]
    repos: Option<Vec<String>>,
}

async fn add_token(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let req: NewToken = parse(&body)?;
    let sim = sim(state);
    match &req.repos {
        None => sim.add_token(&req.token, &req.user),
        Some(repos) => {
            let refs: Vec<&str> = repos.iter().map(String::as_str).collect();
            sim.add_scoped_token(&req.token, &req.user, &refs);
        }
    }
    Ok(no_content())
}

#[derive(Deserialize)]
struct NewInstallation {
    id: u64,
    repos: Vec<String>,
}

#[derive(Deserialize)]
struct NewApp {
    app_id: u64,
    #[serde(default)]
    client_id: String,
    public_key_pem: String,
    #[serde(default)]
    installations: Vec<NewInstallation>,
}

async fn add_app(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let req: NewApp = parse(&body)?;
    let pairs: Vec<(u64, &str)> = req
        .installations
        .iter()
        .flat_map(|i| i.repos.iter().map(move |r| (i.id, r.as_str())))
        .collect();
    sim(state).add_app(req.app_id, &req.client_id, &req.public_key_pem, &pairs)?;
    Ok(no_content())
}

async fn jwt_claims(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &Value::Array(sim(state).jwt_claims_seen()))
}

async fn installation_tokens(State(state): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "issued": sim(state).installation_tokens_issued() }),
    )
}

#[derive(Deserialize)]
struct PrimaryRequest {
    #[serde(default)]
    default_limit: Option<u64>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    credential: Option<String>,
    #[serde(default = "core")]
    resource: Resource,
    #[serde(default)]
    limit: Option<PrimaryLimit>,
}

fn core() -> Resource {
    Resource::Core
}

async fn set_primary(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let req: PrimaryRequest = parse(&body)?;
    let sim = sim(state);
    if let Some(d) = req.default_limit {
        sim.set_default_primary_limit(d);
    }
    if let Some(s) = req.status {
        sim.set_primary_limit_status(s)?;
    }
    if let (Some(cred), Some(limit)) = (req.credential, req.limit) {
        sim.set_primary_limit(&cred, req.resource, limit);
    }
    Ok(no_content())
}

#[derive(Deserialize)]
struct WindowRequest {
    max: u32,
    per_ms: u64,
    #[serde(default)]
    retry_after: Option<u64>,
}

#[derive(Deserialize)]
struct SecondaryRequest {
    #[serde(default)]
    next: Option<u64>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    window: Option<WindowRequest>,
    #[serde(default)]
    status: Option<u16>,
}

async fn set_secondary(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let req: SecondaryRequest = parse(&body)?;
    let sim = sim(state);
    if let Some(n) = req.next {
        sim.set_secondary_limit(n, req.retry_after);
    }
    if let Some(w) = req.window {
        sim.set_secondary_window(w.max, Duration::from_millis(w.per_ms), w.retry_after);
    }
    if let Some(s) = req.status {
        sim.set_secondary_limit_status(s)?;
    }
    Ok(no_content())
}

async fn clear_secondary(State(state): State<AppState>) -> Response {
    sim(state).clear_secondary_limit();
    no_content()
}

#[derive(Deserialize)]
struct FaultRequest {
    #[serde(default)]
    latency_ms: Option<u64>,
    #[serde(default)]
    every: Option<u64>,
    #[serde(default = "bad_gateway")]
    status: u16,
    #[serde(default)]
    timing: FaultTiming,
}

fn bad_gateway() -> u16 {
    502
}

async fn set_faults(State(state): State<AppState>, body: Bytes) -> Result<Response, ControlError> {
    let req: FaultRequest = parse(&body)?;
    let sim = sim(state);
    if let Some(ms) = req.latency_ms {
        sim.set_latency(Duration::from_millis(ms));
    }
    if let Some(n) = req.every {
        sim.set_fault(n, req.status, req.timing)?;
    }
    Ok(no_content())
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    sim(state).clear_faults();
    no_content()
}

#[derive(Deserialize)]
struct ForeignPushRequest {
    owner: String,
    repo: String,
    branch: String,
    path: String,
    content: String,
}

async fn foreign_push(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let req: ForeignPushRequest = parse(&body)?;
    sim(state).arm_foreign_push(&req.owner, &req.repo, &req.branch, &req.path, req.content)?;
    Ok(no_content())
}
