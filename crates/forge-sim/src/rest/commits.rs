//! Commit reads: the paged history (`commits`), one commit with its files (`commits/{ref}`), and
//! the Git Data view (`git/commits/{sha}`) with `tree.sha` and `verification`.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use git2::{Commit, Oid, Repository};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, json_response};
use crate::git_store::{self, SigningKey};
use crate::rest::{api_repo_url, html_repo_url, parent_json};
use crate::server::{AppState, blocking};
use crate::state::RepoEntry;

const DOC_LIST: &str = "https://docs.github.com/rest/commits/commits#list-commits";
const DOC_GET: &str = "https://docs.github.com/rest/commits/commits#get-a-commit";
const DOC_GIT: &str = "https://docs.github.com/rest/git/commits#get-a-commit-object";

fn person_json(sig: &git2::Signature<'_>) -> Value {
    json!({
        "name": String::from_utf8_lossy(sig.name_bytes()),
        "email": String::from_utf8_lossy(sig.email_bytes()),
        "date": crate::clock::rfc3339(sig.when().seconds()),
    })
}

fn verification_json(git: &Repository, oid: Oid, key: &SigningKey) -> Value {
    let v = git_store::verify(git, oid, key);
    json!({
        "verified": v.verified,
        "reason": v.reason,
        "signature": v.signature,
        "payload": v.payload,
        "verified_at": if v.verified { Value::String(crate::clock::rfc3339(crate::clock::now_epoch())) } else { Value::Null },
    })
}

fn message_of(c: &Commit<'_>) -> String {
    String::from_utf8_lossy(c.message_bytes()).into_owned()
}

/// The "commit" resource of the commits API (as listed, without files).
pub(crate) fn commit_item(
    base: &str,
    entry: &RepoEntry,
    git: &Repository,
    c: &Commit<'_>,
    key: &SigningKey,
) -> Value {
    let api = api_repo_url(base, entry);
    let html = html_repo_url(base, entry);
    let sha = c.id().to_string();
    json!({
        "sha": sha,
        "node_id": crate::ids::node_id("C", &format!("{}:{sha}", entry.full_name())),
        "url": format!("{api}/commits/{sha}"),
        "html_url": format!("{html}/commit/{sha}"),
        "commit": {
            "message": message_of(c),
            "author": person_json(&c.author()),
            "committer": person_json(&c.committer()),
            "tree": { "sha": c.tree_id().to_string(), "url": format!("{api}/git/trees/{}", c.tree_id()) },
            "url": format!("{api}/git/commits/{sha}"),
            "comment_count": 0,
            "verification": verification_json(git, c.id(), key),
        },
        "author": null,
        "committer": null,
        "parents": c.parent_ids().map(|p| parent_json(base, entry, &p.to_string())).collect::<Vec<_>>(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    sha: Option<String>,
    path: Option<String>,
    per_page: Option<usize>,
    page: Option<usize>,
}

/// True when `path` differs between `c` and its first parent (the history filter of `?path=`).
fn touches(git: &Repository, c: &Commit<'_>, path: &str) -> Result<bool, git2::Error> {
    let here = git_store::entry_at(git, c.id(), path)?.map(|e| e.oid);
    let before = match c.parent_ids().next() {
        Some(p) => git_store::entry_at(git, p, path)?.map(|e| e.oid),
        None => None,
    };
    Ok(here != before)
}

/// `GET /repos/{owner}/{repo}/commits?sha=&path=&per_page=&page=`: every commit reachable from
/// `sha`, newest first, with a `link: rel="next"` header when more pages follow. Like GitHub's,
/// the list holds the commits a merge brought in, not only the first-parent chain. With
/// `path`, only first-parent commits that changed it (a simplification of git's history
/// simplification that no client here relies on).
pub(crate) async fn list_commits(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let base = state.base_url();
    let key = state.signing_key;
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        let start_name = q
            .sha
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| git_store::default_branch(&git))
            .unwrap_or_default();
        let start = git_store::resolve_commitish(&git, &start_name)?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Not Found", DOC_LIST))?;
        let skip = (page - 1) * per_page;
        let (oids, more) = match q
            .path
            .as_deref()
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
        {
            None => git_store::history_page(&git, start, skip, per_page)?,
            Some(path) => {
                let (all, _) = git_store::first_parent_history(&git, start, 0, usize::MAX)?;
                let mut matching = Vec::new();
                for oid in all {
                    if touches(&git, &git.find_commit(oid)?, path)? {
                        matching.push(oid);
                    }
                }
                let more = matching.len() > skip + per_page;
                (
                    matching.into_iter().skip(skip).take(per_page).collect(),
                    more,
                )
            }
        };
        let mut items = Vec::with_capacity(oids.len());
        for oid in oids {
            items.push(commit_item(
                &base,
                &entry,
                &git,
                &git.find_commit(oid)?,
                &key,
            ));
        }
        let mut resp = json_response(StatusCode::OK, &Value::Array(items));
        if more {
            let mut next = format!(
                "{}/commits?sha={start_name}&per_page={per_page}&page={}",
                api_repo_url(&base, &entry),
                page + 1
            );
            if let Some(p) = &q.path {
                next.push_str(&format!("&path={p}"));
            }
            if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
                resp.headers_mut().insert(header::LINK, v);
            }
        }
        Ok(resp)
    })
    .await
}

/// `GET /repos/{owner}/{repo}/commits/{ref}`: one commit with its changed files.
pub(crate) async fn get_commit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let base = state.base_url();
    let key = state.signing_key;
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        let oid = git_store::resolve_commitish(&git, &reference)?.ok_or_else(|| {
            ApiError::unprocessable(format!("No commit found for SHA: {reference}"), DOC_GET)
        })?;
        let c = git.find_commit(oid)?;
        let mut body = commit_item(&base, &entry, &git, &c, &key);
        let html = html_repo_url(&base, &entry);
        let files = git_store::changed_files(&git, oid)?;
        let (mut adds, mut dels) = (0usize, 0usize);
        let files: Vec<Value> = files
            .into_iter()
            .map(|f| {
                adds += f.additions;
                dels += f.deletions;
                let mut v = json!({
                    "sha": f.sha,
                    "filename": f.filename,
                    "status": f.status,
                    "additions": f.additions,
                    "deletions": f.deletions,
                    "changes": f.additions + f.deletions,
                    "blob_url": format!("{html}/blob/{oid}/{}", f.filename),
                });
                if let Some(prev) = f.previous_filename {
                    v["previous_filename"] = json!(prev);
                }
                v
            })
            .collect();
        body["files"] = Value::Array(files);
        body["stats"] = json!({ "total": adds + dels, "additions": adds, "deletions": dels });
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

/// `GET /repos/{owner}/{repo}/git/commits/{sha}`: the Git Data commit object.
pub(crate) async fn get_git_commit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let base = state.base_url();
    let key = state.signing_key;
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "Not Found", DOC_GIT);
        if !git_store::is_full_sha(&sha) {
            return Err(not_found());
        }
        let oid = Oid::from_str(&sha).map_err(|_| not_found())?;
        let c = git.find_commit(oid).map_err(|_| not_found())?;
        let api = api_repo_url(&base, &entry);
        let html = html_repo_url(&base, &entry);
        let body = json!({
            "sha": sha,
            "node_id": crate::ids::node_id("C", &format!("{}:{sha}", entry.full_name())),
            "url": format!("{api}/git/commits/{sha}"),
            "html_url": format!("{html}/commit/{sha}"),
            "author": person_json(&c.author()),
            "committer": person_json(&c.committer()),
            "message": message_of(&c),
            "tree": { "sha": c.tree_id().to_string(), "url": format!("{api}/git/trees/{}", c.tree_id()) },
            "parents": c.parent_ids().map(|p| parent_json(&base, &entry, &p.to_string())).collect::<Vec<_>>(),
            "verification": verification_json(&git, oid, &key),
        });
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}
