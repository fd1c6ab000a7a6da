//! `GET /projects/:id/repository/branches/:branch`, `POST /projects/:id/repository/branches`
//! (forge-facts §G.3) and `DELETE /projects/:id/repository/branches/:branch`.
//!
//! Delete follows `lib/api/branches.rb`: an unknown branch is `404 Branch Not Found` (its
//! `find_branch!`), success is `204` with no body. The default branch answers 405 `Cannot
//! remove HEAD branch`, as GitLab's delete service did before default branches became
//! protected by default (today's answer for a protected branch is also a refusal; its exact
//! text is a guess). The `If-Unmodified-Since` precondition is not simulated.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use git2::{Oid, Repository};
use serde_json::{Value, json};

use super::error::GlError;
use super::json::commit_json;
use super::params;
use super::server::{GlState, blocking};
use super::state::Project;
use crate::error::json_response;
use crate::git_store;

fn branch_json(
    base: &str,
    project: &Project,
    repo: &Repository,
    name: &str,
    head: Oid,
) -> Result<Value, git2::Error> {
    let commit = repo.find_commit(head)?;
    let default = git_store::default_branch(repo);
    Ok(json!({
        "name": name,
        "commit": commit_json(base, project, &commit),
        "merged": false,
        "protected": false,
        "default": default.as_deref() == Some(name),
        "developers_can_push": false,
        "developers_can_merge": false,
        "can_push": true,
        "web_url": format!("{}/-/tree/{name}", project.web_url(base)),
    }))
}

/// `GET .../repository/branches/:branch` (`%2F` in the name arrives decoded).
pub(crate) async fn get_branch(
    State(state): State<GlState>,
    Path((id, branch)): Path<(String, String)>,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let base = state.base_url();
    let st = Arc::clone(&state);
    blocking(move || {
        let repo = project.open()?;
        let head =
            git_store::branch_head(&repo, &branch)?.ok_or_else(|| GlError::not_found("Branch"))?;
        let body = branch_json(&base, &project, &repo, &branch, head)?;
        super::foreign::fire_for_read(&st, &project, &repo, &branch, head);
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

/// `POST .../repository/branches` with `branch` and `ref` (query, form or JSON).
pub(crate) async fn create_branch(
    State(state): State<GlState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let p = params::parse_request(query.as_deref(), &headers, &body)?;
    let [branch, reference]: [String; 2] = params::required(&p, &["branch", "ref"])?
        .try_into()
        .map_err(|_| GlError::internal("parameter count"))?;
    let base = state.base_url();
    blocking(move || {
        let _guard = project.lock_writes();
        let repo = project.open()?;
        if !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
            return Err(GlError::bad_request("Branch name is invalid"));
        }
        if git_store::branch_head(&repo, &branch)?.is_some() {
            return Err(GlError::bad_request("Branch already exists"));
        }
        let target = super::history::resolve_ref(&repo, &reference)?
            .ok_or_else(|| GlError::bad_request(format!("Invalid reference name: {reference}")))?;
        match git_store::cas_ref(
            &repo,
            &format!("refs/heads/{branch}"),
            target,
            None,
            "forge-sim gitlab: create branch",
        ) {
            Ok(()) => {}
            Err(git_store::CasError::Stale) => {
                return Err(GlError::bad_request("Branch already exists"));
            }
            Err(git_store::CasError::Git(e)) => return Err(e.into()),
        }
        let body = branch_json(&base, &project, &repo, &branch, target)?;
        Ok(json_response(StatusCode::CREATED, &body))
    })
    .await
}

/// `DELETE .../repository/branches/:branch` → 204.
pub(crate) async fn delete_branch(
    State(state): State<GlState>,
    Path((id, branch)): Path<(String, String)>,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    blocking(move || {
        let _guard = project.lock_writes();
        let repo = project.open()?;
        git_store::branch_head(&repo, &branch)?.ok_or_else(|| GlError::not_found("Branch"))?;
        if git_store::default_branch(&repo).as_deref() == Some(branch.as_str()) {
            return Err(GlError::message(
                StatusCode::METHOD_NOT_ALLOWED,
                "Cannot remove HEAD branch",
            ));
        }
        repo.find_reference(&format!("refs/heads/{branch}"))?
            .delete()?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}
