//! `GET /repos/{owner}/{repo}`: enough of the repository resource to learn its default branch.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::auth::Caller;
use crate::error::{ApiError, json_response};
use crate::git_store;
use crate::rest::{api_repo_url, html_repo_url};
use crate::server::{AppState, blocking};

pub(crate) async fn get_repo(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let base = state.base_url();
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        let default_branch = git_store::default_branch(&git).unwrap_or_else(|| "main".to_owned());
        let body = json!({
            "id": repo_id(&entry.key()),
            "node_id": crate::ids::node_id("R", &entry.key()),
            "name": entry.name,
            "full_name": entry.full_name(),
            "private": true,
            "owner": { "login": entry.owner, "type": "Organization" },
            "html_url": html_repo_url(&base, &entry),
            "url": api_repo_url(&base, &entry),
            "default_branch": default_branch,
            "permissions": { "admin": false, "maintain": false, "push": true, "triage": true, "pull": true },
        });
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

/// A stable numeric id derived from the name (GitHub ids are numbers; ours only need to be
/// stable and distinct enough for a test).
fn repo_id(key: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes) >> 12
}
