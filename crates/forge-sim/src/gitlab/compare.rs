//! `GET /projects/:id/repository/compare?from=&to=&straight=`: what `to` has that `from` lacks.
//!
//! As GitLab's `Gitlab::Git::Compare`: `commits` are those reachable from `to` and not from
//! `from` (`git log from..to`), oldest first, and complete even when the diff is cut short;
//! `diffs` go from the merge base of the two to `to`, or from `from` itself with
//! `straight=true`; the same commit on both sides gives `compare_same_ref: true` and no commits.
//! `commit` is `to`'s commit (null when there are no commits). An unknown `from` or `to`
//! answers `404 Ref Not Found` (`lib/api/repositories.rb`). Not simulated: GitLab's one-minute
//! answer cache, its diff size limits (`compare_timeout` is always false) and `from_project_id`
//! (forks).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use git2::{Oid, Repository};
use serde_json::{Value, json};

use super::diffs::diff_items;
use super::error::GlError;
use super::history::resolve_ref;
use super::json::commit_json;
use super::params;
use super::server::{GlState, blocking};
use crate::error::json_response;
use crate::git_store;

pub(crate) async fn compare(
    State(state): State<GlState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let q = params::parse_form(query.as_deref().unwrap_or(""));
    let [from, to]: [String; 2] = params::required(&q, &["from", "to"])?
        .try_into()
        .map_err(|_| GlError::internal("parameter count"))?;
    let straight = params::boolean(&q, "straight")?.unwrap_or(false);
    let base = state.base_url();
    blocking(move || {
        let repo = project.open()?;
        let ref_not_found = || GlError::not_found("Ref");
        let from = resolve_ref(&repo, &from)?.ok_or_else(ref_not_found)?;
        let to = resolve_ref(&repo, &to)?.ok_or_else(ref_not_found)?;
        let same = from == to;
        let commits: Vec<Value> = if same {
            Vec::new()
        } else {
            git_store::range_oldest_first(&repo, from, to)?
                .into_iter()
                .map(|oid| Ok(commit_json(&base, &project, &repo.find_commit(oid)?)))
                .collect::<Result<_, git2::Error>>()?
        };
        let diffs = diffs(&repo, from, to, straight)?;
        let newest = if commits.is_empty() {
            Value::Null
        } else {
            commit_json(&base, &project, &repo.find_commit(to)?)
        };
        let body = json!({
            "commit": newest,
            "commits": commits,
            "diffs": diffs,
            "compare_timeout": false,
            "compare_same_ref": same,
            "web_url": format!("{}/-/compare/{from}...{to}", project.web_url(&base)),
        });
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

/// The diff from the merge base (or from `from` itself when `straight`) to `to`.
fn diffs(repo: &Repository, from: Oid, to: Oid, straight: bool) -> Result<Vec<Value>, GlError> {
    let start = if straight {
        Some(from)
    } else {
        // Unrelated histories have no merge base: everything in `to` is new.
        match repo.merge_base(from, to) {
            Ok(base) => Some(base),
            Err(e) if e.code() == git2::ErrorCode::NotFound => None,
            Err(e) => return Err(e.into()),
        }
    };
    let old = start.map(|c| repo.find_commit(c)?.tree()).transpose()?;
    let new = repo.find_commit(to)?.tree()?;
    Ok(diff_items(repo, old.as_ref(), &new)?)
}
