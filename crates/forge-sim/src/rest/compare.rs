//! `GET /repos/{owner}/{repo}/compare/{BASE...HEAD}`: the commits reachable from `HEAD` but not
//! from `BASE`. GitHub's description: "equivalent to running the `git log BASE..HEAD` command;
//! however, commits are returned in chronological order"; without paging parameters the list
//! is limited to 250 commits, "the last commit in the list is the most recent of the entire
//! comparison"; with `per_page`/`page` it is paged (github/rest-api-description, "Compare two
//! commits"; github.blog changelog 2021-03-22). `files` holds the paths that differ between
//! the merge base and `HEAD` (at most 300, GitHub's cap), with `filename`, `status` and, for a
//! rename, `previous_filename`; patches are not simulated.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::error::{ApiError, json_response};
use crate::git_store;
use crate::rest::commits::commit_item;
use crate::server::{AppState, blocking};

const DOC: &str = "https://docs.github.com/rest/commits/commits#compare-two-commits";
/// Commits listed when no paging parameter is given.
const UNPAGED: usize = 250;
/// Files listed at most (GitHub's documented cap for a comparison).
const FILES_CAP: usize = 300;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CompareQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

pub(crate) async fn compare(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, basehead)): Path<(String, String, String)>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let base_url = state.base_url();
    let key = state.signing_key;
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "Not Found", DOC);
        let (base, head) = basehead.split_once("...").ok_or_else(not_found)?;
        let base = git_store::resolve_commitish(&git, base)?.ok_or_else(not_found)?;
        let head = git_store::resolve_commitish(&git, head)?.ok_or_else(not_found)?;
        let ahead = git_store::range_oldest_first(&git, base, head)?;
        let behind = git_store::range_oldest_first(&git, head, base)?;
        let merge_base = git.merge_base(base, head)?;
        let shown: &[git2::Oid] = match (q.per_page, q.page) {
            (None, None) => &ahead[ahead.len().saturating_sub(UNPAGED)..],
            (per_page, page) => {
                let per_page = per_page.unwrap_or(30).clamp(1, 100);
                let skip = (page.unwrap_or(1).max(1) - 1) * per_page;
                let start = skip.min(ahead.len());
                &ahead[start..(start + per_page).min(ahead.len())]
            }
        };
        let item = |oid: git2::Oid| -> Result<serde_json::Value, git2::Error> {
            Ok(commit_item(
                &base_url,
                &entry,
                &git,
                &git.find_commit(oid)?,
                &key,
            ))
        };
        let commits = shown
            .iter()
            .map(|o| item(*o))
            .collect::<Result<Vec<_>, _>>()?;
        let status = match (ahead.is_empty(), behind.is_empty()) {
            (true, true) => "identical",
            (false, true) => "ahead",
            (true, false) => "behind",
            (false, false) => "diverged",
        };
        let files: Vec<serde_json::Value> =
            git_store::changed_paths(&git, merge_base, head, FILES_CAP)?
                .into_iter()
                .map(|f| {
                    let mut v = json!({ "sha": f.sha, "filename": f.filename, "status": f.status });
                    if let Some(prev) = f.previous_filename {
                        v["previous_filename"] = json!(prev);
                    }
                    v
                })
                .collect();
        let body = json!({
            "files": files,
            "base_commit": item(base)?,
            "merge_base_commit": item(merge_base)?,
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind.len(),
            "total_commits": ahead.len(),
            "commits": commits,
        });
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}
