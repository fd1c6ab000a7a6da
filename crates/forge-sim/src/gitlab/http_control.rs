//! The GitLab simulator's `/_sim/...` control surface: the switches of [`GitlabControl`] as
//! JSON, for a simulator running as a process. Unauthenticated by design (bind to loopback);
//! not counted, rate-limited or faulted.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::control::GitlabControl;
use super::server::GlState;
use crate::error::{SimError, json_response};
use crate::faults::FaultTiming;

pub(crate) fn router() -> Router<GlState> {
    Router::new()
        .route("/_sim/stats", get(stats).delete(reset_stats))
        .route("/_sim/projects", post(create_project))
        .route("/_sim/projects/{project}/commits", post(commit_files))
        .route(
            "/_sim/projects/{project}/merge_requests/{iid}",
            get(merge_request),
        )
        .route(
            "/_sim/projects/{project}/merge_requests/{iid}/merge",
            post(merge),
        )
        .route(
            "/_sim/projects/{project}/merge_requests/{iid}/close",
            post(close),
        )
        .route("/_sim/tokens", post(add_token))
        .route("/_sim/rate-limit", put(set_rate_limit))
        .route("/_sim/faults", put(set_faults).delete(clear_faults))
        .route("/_sim/foreign-push", post(foreign_push))
}

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

fn control(state: GlState) -> GitlabControl {
    GitlabControl::from_state(state)
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(state): State<GlState>) -> Response {
    let body = serde_json::to_value(control(state).stats()).unwrap_or(Value::Null);
    json_response(StatusCode::OK, &body)
}

async fn reset_stats(State(state): State<GlState>) -> Response {
    control(state).reset_stats();
    no_content()
}

fn main_branch() -> String {
    "main".to_owned()
}

#[derive(Deserialize)]
struct NewProject {
    path: String,
    #[serde(default = "main_branch")]
    default_branch: String,
}

async fn create_project(
    State(state): State<GlState>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let req: NewProject = parse(&body)?;
    let (id, git_dir) = control(state).create_project(&req.path, &req.default_branch)?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "id": id, "path_with_namespace": req.path, "git_dir": git_dir.display().to_string() }),
    ))
}

#[derive(Deserialize)]
struct NewCommit {
    #[serde(default = "main_branch")]
    branch: String,
    /// path → content, `null` deletes.
    files: std::collections::BTreeMap<String, Option<String>>,
    #[serde(default = "seed_message")]
    message: String,
}

fn seed_message() -> String {
    "Seed".to_owned()
}

async fn commit_files(
    State(state): State<GlState>,
    Path(project): Path<String>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let req: NewCommit = parse(&body)?;
    let files: Vec<(&str, Option<&[u8]>)> = req
        .files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_deref().map(str::as_bytes)))
        .collect();
    let sha = control(state).commit_files(&project, &req.branch, &files, &req.message)?;
    Ok(json_response(StatusCode::CREATED, &json!({ "sha": sha })))
}

async fn merge_request(
    State(state): State<GlState>,
    Path((project, iid)): Path<(String, u64)>,
) -> Result<Response, ControlError> {
    let mr = control(state)
        .merge_request(&project, iid)
        .ok_or(SimError::UnknownPull(iid))?;
    let body = serde_json::to_value(mr).unwrap_or(Value::Null);
    Ok(json_response(StatusCode::OK, &body))
}

async fn merge(
    State(state): State<GlState>,
    Path((project, iid)): Path<(String, u64)>,
) -> Result<Response, ControlError> {
    let sha = control(state).merge_merge_request(&project, iid)?;
    Ok(json_response(StatusCode::OK, &json!({ "sha": sha })))
}

async fn close(
    State(state): State<GlState>,
    Path((project, iid)): Path<(String, u64)>,
) -> Result<Response, ControlError> {
    control(state).close_merge_request(&project, iid)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn api_scope() -> Vec<String> {
    vec!["api".to_owned()]
}

#[derive(Deserialize)]
struct NewToken {
    token: String,
    username: String,
    #[serde(default = "api_scope")]
    scopes: Vec<String>,
}

async fn add_token(State(state): State<GlState>, body: Bytes) -> Result<Response, ControlError> {
    let req: NewToken = parse(&body)?;
    let scopes: Vec<&str> = req.scopes.iter().map(String::as_str).collect();
    control(state).add_token(&req.token, &req.username, &scopes);
    Ok(no_content())
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
struct RateLimitRequest {
    #[serde(default)]
    next: Option<u64>,
    #[serde(default = "one")]
    retry_after: u64,
    #[serde(default)]
    per_minute: Option<u64>,
}

async fn set_rate_limit(
    State(state): State<GlState>,
    body: Bytes,
) -> Result<Response, ControlError> {
    let req: RateLimitRequest = parse(&body)?;
    let c = control(state);
    if let Some(n) = req.next {
        c.set_rate_limit(n, req.retry_after);
    }
    if let Some(limit) = req.per_minute {
        c.set_rate_limit_per_minute(limit);
    }
    Ok(no_content())
}

fn bad_gateway() -> u16 {
    502
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

async fn set_faults(State(state): State<GlState>, body: Bytes) -> Result<Response, ControlError> {
    let req: FaultRequest = parse(&body)?;
    let c = control(state);
    if let Some(ms) = req.latency_ms {
        c.set_latency(Duration::from_millis(ms));
    }
    if let Some(n) = req.every {
        c.set_fault(n, req.status, req.timing)?;
    }
    Ok(no_content())
}

async fn clear_faults(State(state): State<GlState>) -> Response {
    control(state).clear_faults();
    no_content()
}

#[derive(Deserialize)]
struct ForeignPushRequest {
    project: String,
    #[serde(default = "main_branch")]
    branch: String,
    path: String,
    content: String,
}

async fn foreign_push(State(state): State<GlState>, body: Bytes) -> Result<Response, ControlError> {
    let req: ForeignPushRequest = parse(&body)?;
    control(state).arm_foreign_push(&req.project, &req.branch, &req.path, req.content)?;
    Ok(no_content())
}
