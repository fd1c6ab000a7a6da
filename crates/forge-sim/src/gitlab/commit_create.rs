//! `POST /projects/:id/repository/commits`: an atomic multi-action commit (forge-facts §G.2).
//!
//! Everything from reading the start point to moving the branch happens under the project's
//! write lock, and the branch moves by compare-and-swap against the value the commit was
//! planned on, so no start point means "on the current tip, atomically".

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use git2::{Oid, Repository};

use super::auth::GlCaller;
use super::commit_request::CommitRequest;
use super::error::GlError;
use super::history::last_commit_for_path;
use super::json::commit_detail_json;
use super::params;
use super::server::{GlState, blocking};
use super::state::Project;
use super::tree_edit::FlatTree;
use crate::error::json_response;
use crate::git_store::{self, CasError, Person};

const NOT_ON_BRANCH: &str = "You can only create or edit files when you are on a branch";

/// Where the commit goes: its parent, and what the branch must hold when it moves.
#[derive(Debug, Clone, Copy)]
struct Plan {
    parent: Oid,
    /// `None`: the branch must not exist yet.
    expected: Option<Oid>,
}

fn resolve_start_sha(repo: &Repository, sha: &str) -> Result<Oid, GlError> {
    let hex = sha.len() >= 7 && sha.len() <= 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(GlError::bad_request(format!("Invalid start_sha '{sha}'")));
    }
    git_store::resolve_commitish(repo, sha)?
        .ok_or_else(|| GlError::bad_request(format!("Cannot find start_sha '{sha}'")))
}

fn plan(repo: &Repository, req: &CommitRequest) -> Result<Plan, GlError> {
    let tip = git_store::branch_head(repo, &req.branch)?;
    let different_branch =
        req.start_sha.is_some() || req.start_branch.as_ref().is_some_and(|s| *s != req.branch);
    if !different_branch {
        let tip = tip.ok_or_else(|| GlError::bad_request(NOT_ON_BRANCH))?;
        return Ok(Plan {
            parent: tip,
            expected: Some(tip),
        });
    }
    let start_branch_head = match &req.start_branch {
        Some(b) => Some(
            git_store::branch_head(repo, b)?.ok_or_else(|| GlError::bad_request(NOT_ON_BRANCH))?,
        ),
        None => None,
    };
    if tip.is_some() && !req.force {
        return Err(GlError::bad_request(format!(
            "A branch called '{}' already exists. Switch to that branch in order to make changes",
            req.branch
        )));
    }
    if tip.is_none() && !git2::Reference::is_valid_name(&format!("refs/heads/{}", req.branch)) {
        return Err(GlError::bad_request("Branch name is invalid"));
    }
    let parent = match (&req.start_sha, start_branch_head) {
        (Some(sha), _) => resolve_start_sha(repo, sha)?,
        (None, Some(head)) => head,
        (None, None) => return Err(GlError::bad_request(NOT_ON_BRANCH)),
    };
    // With `force` the expected old value is the current tip: an overwrite (forge-facts §G.2).
    Ok(Plan {
        parent,
        expected: tip,
    })
}

/// Builds and records the commit; returns its id.
fn commit_actions(
    project: &Project,
    req: &CommitRequest,
    caller: &GlCaller,
) -> Result<Oid, GlError> {
    let _guard = project.lock_writes();
    let repo = project.open()?;
    let plan = plan(&repo, req)?;
    let start = repo.find_commit(plan.parent)?;
    let mut tree = FlatTree::load(&start.tree()?)?;
    for action in &req.actions {
        if let (true, Some(given)) = (action.kind.checks_last_commit(), &action.last_commit_id) {
            let path = action.checked_path();
            if let Some(last) = last_commit_for_path(&repo, plan.parent, path)?
                && !last.to_string().eq_ignore_ascii_case(given)
            {
                return Err(GlError::bad_request(format!(
                    "The file has changed since you started editing it: {path}"
                )));
            }
        }
        tree.apply(&repo, action)?;
    }
    let tree_id = tree.write(&repo)?;
    let committer = caller.person();
    let author = Person::new(
        req.author_name.as_deref().unwrap_or(&committer.name),
        req.author_email.as_deref().unwrap_or(&committer.email),
    );
    let oid = git_store::write_commit(
        &repo,
        tree_id,
        &[plan.parent],
        &author,
        &committer,
        &req.message,
        None,
    )?;
    match git_store::cas_ref(
        &repo,
        &format!("refs/heads/{}", req.branch),
        oid,
        plan.expected,
        "forge-sim gitlab: commit",
    ) {
        Ok(()) => Ok(oid),
        Err(CasError::Stale) => Err(GlError::bad_request(format!(
            "Could not update refs/heads/{}. Please refresh and try again.",
            req.branch
        ))),
        Err(CasError::Git(e)) => Err(e.into()),
    }
}

/// `POST .../repository/commits` (JSON or form body) → 201 with the commit.
pub(crate) async fn create(
    State(state): State<GlState>,
    Extension(caller): Extension<GlCaller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let p = params::parse_request(query.as_deref(), &headers, &body)?;
    let req = CommitRequest::from_params(&p)?;
    let base = state.base_url();
    let st = Arc::clone(&state);
    blocking(move || {
        let oid = commit_actions(&project, &req, &caller)?;
        st.stats().commits_created += 1;
        let repo = project.open()?;
        let commit = repo.find_commit(oid)?;
        let body = commit_detail_json(&base, &project, &repo, &commit, req.stats)?;
        Ok(json_response(StatusCode::CREATED, &body))
    })
    .await
}
