//! Commit reads: `GET .../repository/commits` (paged), `GET .../commits/:sha`,
//! `GET .../commits/:sha/diff`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use git2::{Oid, Repository};
use serde_json::Value;

use super::diffs::diff_items;
use super::error::GlError;
use super::history::{Walk, commit_page, resolve_ref};
use super::json::{commit_detail_json, commit_json};
use super::params;
use super::server::{GlState, blocking};
use crate::error::json_response;

const DEFAULT_PER_PAGE: usize = 20;
const MAX_PER_PAGE: usize = 100;

fn number(q: &params::Params, key: &str, default: usize) -> usize {
    params::text(q, key)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(default)
}

fn header(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `GET .../repository/commits?ref_name=&first_parent=&per_page=&page=`: newest first.
/// `ref_name` may be a range `FROM..TO` (commits reachable from `TO`, not from `FROM`), and
/// `first_parent=true` follows only first parents at merges (GitLab Commits API docs).
pub(crate) async fn list(
    State(state): State<GlState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let q = params::parse_form(query.as_deref().unwrap_or(""));
    let per_page = number(&q, "per_page", DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE);
    let page = number(&q, "page", 1).max(1);
    let ref_name = params::text(&q, "ref_name").filter(|r| !r.is_empty());
    let first_parent = params::text(&q, "first_parent").is_some_and(|v| v == "true");
    let base = state.base_url();
    blocking(move || {
        let repo = project.open()?;
        let wanted = ref_name.as_deref().unwrap_or("HEAD");
        // A ref that names nothing lists nothing (as does a range with such an end).
        let walk = match wanted.split_once("..") {
            Some((from, to)) => match (resolve_ref(&repo, from)?, resolve_ref(&repo, to)?) {
                (Some(from), Some(to)) => Walk {
                    start: Some(to),
                    hide: Some(from),
                    first_parent,
                },
                _ => Walk::default(),
            },
            None => Walk {
                start: resolve_ref(&repo, wanted)?,
                hide: None,
                first_parent,
            },
        };
        let (oids, more) = commit_page(&repo, &walk, page, per_page)?;
        let items = oids
            .iter()
            .map(|oid| Ok(commit_json(&base, &project, &repo.find_commit(*oid)?)))
            .collect::<Result<Vec<Value>, git2::Error>>()?;
        let mut resp = json_response(StatusCode::OK, &Value::Array(items));
        let h = resp.headers_mut();
        h.insert("x-page", HeaderValue::from(page));
        h.insert("x-per-page", HeaderValue::from(per_page));
        let next = if more {
            (page + 1).to_string()
        } else {
            String::new()
        };
        h.insert("x-next-page", header(&next));
        let prev = if page > 1 {
            (page - 1).to_string()
        } else {
            String::new()
        };
        h.insert("x-prev-page", header(&prev));
        Ok(resp)
    })
    .await
}

fn find(repo: &Repository, sha: &str) -> Result<Oid, GlError> {
    resolve_ref(repo, sha)?.ok_or_else(|| GlError::not_found("Commit"))
}

/// `GET .../repository/commits/:sha` (a SHA, branch or tag) with `stats` unless `stats=false`.
pub(crate) async fn get_one(
    State(state): State<GlState>,
    Path((id, sha)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let q = params::parse_form(query.as_deref().unwrap_or(""));
    let with_stats = params::boolean(&q, "stats")?.unwrap_or(true);
    let base = state.base_url();
    blocking(move || {
        let repo = project.open()?;
        let commit = repo.find_commit(find(&repo, &sha)?)?;
        let body = commit_detail_json(&base, &project, &repo, &commit, with_stats)?;
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

/// `GET .../repository/commits/:sha/diff`: changes against the first parent, renames detected.
pub(crate) async fn diff(
    State(state): State<GlState>,
    Path((id, sha)): Path<(String, String)>,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    blocking(move || {
        let repo = project.open()?;
        let commit = repo.find_commit(find(&repo, &sha)?)?;
        let parent_tree = match commit.parents().next() {
            Some(p) => Some(p.tree()?),
            None => None,
        };
        let items = diff_items(&repo, parent_tree.as_ref(), &commit.tree()?)?;
        Ok(json_response(StatusCode::OK, &Value::Array(items)))
    })
    .await
}
