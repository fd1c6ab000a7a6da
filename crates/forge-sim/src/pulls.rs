//! Pull requests: list, create, get (forge-facts §C), and the test hook that closes one
//! without merging. The hooks that merge one live in [`crate::pull_merge`].
//!
//! Pull requests live in memory only (they are not git objects); their head SHA is read from
//! the head branch whenever an open one is shown, as GitHub follows pushes to the head branch.
//! A merged or closed one keeps the head it had then: GitHub stops following the branch (a
//! closed pull request whose branch moved on cannot be reopened). List items carry
//! `merged_at` and `closed_at` (null until then), as GitHub's `pull-request-simple` does.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, SimError, json_response};
use crate::git_store;
use crate::rest::{api_repo_url, html_repo_url};
use crate::server::{AppState, blocking, parse_body};
use crate::state::{RepoEntry, SimState};

const DOC_CREATE: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";
const DOC_GET: &str = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request";

#[derive(Debug, Clone)]
pub(crate) struct PullRequest {
    id: u64,
    pub(crate) number: u64,
    pub(crate) title: String,
    body: Option<String>,
    pub(crate) head_ref: String,
    pub(crate) base_ref: String,
    /// Last head SHA seen; shown when the head branch is gone.
    head_sha: String,
    pub(crate) open: bool,
    merged: bool,
    merge_commit_sha: Option<String>,
    /// Epoch seconds, once merged.
    merged_at: Option<i64>,
    /// Epoch seconds, once merged or closed.
    closed_at: Option<i64>,
    draft: bool,
    user: String,
    created_at: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Pulls {
    by_repo: BTreeMap<String, Vec<PullRequest>>,
    next_id: u64,
}

impl Pulls {
    /// Pull request `number` of the repository with key `repo`.
    pub(crate) fn get(&self, repo: &str, number: u64) -> Option<PullRequest> {
        self.by_repo
            .get(repo)
            .and_then(|v| v.iter().find(|p| p.number == number).cloned())
    }

    /// Records that `number` was merged: closed, with its last head and the commit that
    /// landed it on the base.
    pub(crate) fn set_merged(&mut self, repo: &str, number: u64, head: String, landed: String) {
        if let Some(p) = self
            .by_repo
            .get_mut(repo)
            .and_then(|v| v.iter_mut().find(|p| p.number == number))
        {
            let now = crate::clock::now_epoch();
            p.open = false;
            p.merged = true;
            p.head_sha = head;
            p.merge_commit_sha = Some(landed);
            p.merged_at = Some(now);
            p.closed_at = Some(now);
        }
    }

    /// Closes `number` without merging, keeping `head` as its last head.
    pub(crate) fn set_closed(&mut self, repo: &str, number: u64, head: String) {
        if let Some(p) = self
            .by_repo
            .get_mut(repo)
            .and_then(|v| v.iter_mut().find(|p| p.number == number))
        {
            p.open = false;
            p.head_sha = head;
            p.closed_at = Some(crate::clock::now_epoch());
        }
    }
}

/// Closes pull request `number` without merging it, as its "Close pull request" button does.
pub(crate) fn close_pull(
    state: &SimState,
    owner: &str,
    repo: &str,
    number: u64,
) -> Result<(), SimError> {
    let entry = state
        .repo(owner, repo)
        .ok_or_else(|| SimError::UnknownRepo(format!("{owner}/{repo}")))?;
    let pr = state
        .pulls()
        .get(&entry.key(), number)
        .ok_or(SimError::UnknownPull(number))?;
    if !pr.open {
        return Err(SimError::Invalid(format!("#{number} is not open")));
    }
    let _guard = entry.lock_writes();
    let git = git_store::open(&entry.path)?;
    // The head as of closing; a branch deleted before is shown with its last known head.
    let head =
        git_store::branch_head(&git, &pr.head_ref)?.map_or(pr.head_sha.clone(), |h| h.to_string());
    state.pulls().set_closed(&entry.key(), number, head);
    Ok(())
}

fn pr_json(
    base: &str,
    entry: &RepoEntry,
    pr: &PullRequest,
    head_sha: &str,
    base_sha: &str,
) -> Value {
    let api = api_repo_url(base, entry);
    let html = html_repo_url(base, entry);
    let repo = json!({ "full_name": entry.full_name(), "name": entry.name, "owner": { "login": entry.owner } });
    json!({
        "id": pr.id,
        "node_id": crate::ids::node_id("PR", &format!("{}#{}", entry.full_name(), pr.number)),
        "number": pr.number,
        "url": format!("{api}/pulls/{}", pr.number),
        "html_url": format!("{html}/pull/{}", pr.number),
        "state": if pr.open { "open" } else { "closed" },
        "title": pr.title,
        "body": pr.body,
        "draft": pr.draft,
        "merged": pr.merged,
        "merged_at": pr.merged_at.map(crate::clock::rfc3339),
        "closed_at": pr.closed_at.map(crate::clock::rfc3339),
        "merge_commit_sha": pr.merge_commit_sha,
        "user": { "login": pr.user },
        "created_at": crate::clock::rfc3339(pr.created_at),
        "updated_at": crate::clock::rfc3339(pr.created_at),
        "head": { "label": format!("{}:{}", entry.owner, pr.head_ref), "ref": pr.head_ref, "sha": head_sha, "repo": repo },
        "base": { "label": format!("{}:{}", entry.owner, pr.base_ref), "ref": pr.base_ref, "sha": base_sha, "repo": repo },
    })
}

/// The PR's JSON with head and base SHAs read from the branches now.
fn render(git: &git2::Repository, base: &str, entry: &RepoEntry, pr: &PullRequest) -> Value {
    let head = match (pr.open, git_store::branch_head(git, &pr.head_ref)) {
        (true, Ok(Some(oid))) => oid.to_string(),
        _ => pr.head_sha.clone(),
    };
    let base_sha = git_store::branch_head(git, &pr.base_ref)
        .ok()
        .flatten()
        .map(|o| o.to_string())
        .unwrap_or_default();
    pr_json(base, entry, pr, &head, &base_sha)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    head: Option<String>,
    base: Option<String>,
    state: Option<String>,
}

/// `head` as `owner:branch` or `branch`; the owner part must be the repository's (forks are
/// not simulated).
fn split_head<'a>(entry: &RepoEntry, head: &'a str) -> Option<&'a str> {
    match head.split_once(':') {
        Some((owner, branch)) if owner.eq_ignore_ascii_case(&entry.owner) => Some(branch),
        Some(_) => None,
        None => Some(head),
    }
}

/// `GET /repos/{owner}/{repo}/pulls?head=&base=&state=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let prs = state
        .pulls()
        .by_repo
        .get(&entry.key())
        .cloned()
        .unwrap_or_default();
    let base = state.base_url();
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        let wanted_state = q.state.as_deref().unwrap_or("open");
        let head_filter = q.head.as_deref().map(|h| split_head(&entry, h));
        let items: Vec<Value> = prs
            .iter()
            .rev()
            .filter(|pr| match wanted_state {
                "closed" => !pr.open,
                "all" => true,
                _ => pr.open,
            })
            .filter(|pr| match head_filter {
                None => true,
                Some(None) => false,
                Some(Some(branch)) => pr.head_ref == branch,
            })
            .filter(|pr| q.base.as_deref().is_none_or(|b| pr.base_ref == b))
            .map(|pr| render(&git, &base, &entry, pr))
            .collect();
        Ok(json_response(StatusCode::OK, &Value::Array(items)))
    })
    .await
}

/// `GET /repos/{owner}/{repo}/pulls/{number}`.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let pr = state
        .pulls()
        .by_repo
        .get(&entry.key())
        .and_then(|v| v.iter().find(|p| p.number == number).cloned())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Not Found", DOC_GET))?;
    let base = state.base_url();
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        Ok(json_response(
            StatusCode::OK,
            &render(&git, &base, &entry, &pr),
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct CreatePull {
    title: Option<String>,
    head: Option<String>,
    base: Option<String>,
    body: Option<String>,
    #[serde(default)]
    draft: bool,
}

fn field_error(field: &str, code: &str) -> ApiError {
    ApiError::validation_failed(
        vec![json!({ "resource": "PullRequest", "field": field, "code": code })],
        DOC_CREATE,
    )
}

fn custom_error(message: String) -> ApiError {
    ApiError::validation_failed(
        vec![json!({ "resource": "PullRequest", "code": "custom", "message": message })],
        DOC_CREATE,
    )
}

/// `POST /repos/{owner}/{repo}/pulls`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let req: CreatePull = parse_body(&body, DOC_CREATE)?;
    let title = req
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| field_error("title", "missing_field"))?;
    let head_spec = req
        .head
        .ok_or_else(|| field_error("head", "missing_field"))?;
    let base_ref = req
        .base
        .ok_or_else(|| field_error("base", "missing_field"))?;
    let head_ref = split_head(&entry, &head_spec)
        .ok_or_else(|| field_error("head", "invalid"))?
        .to_owned();
    let base_url = state.base_url();
    let user = caller.login();
    let st = state.clone();
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        let head_sha = git_store::branch_head(&git, &head_ref)?
            .ok_or_else(|| field_error("head", "invalid"))?;
        let base_sha = git_store::branch_head(&git, &base_ref)?
            .ok_or_else(|| field_error("base", "invalid"))?;
        let mut pulls = st.pulls();
        let existing = pulls.by_repo.get(&entry.key()).is_some_and(|v| {
            v.iter()
                .any(|p| p.open && p.head_ref == head_ref && p.base_ref == base_ref)
        });
        if existing {
            return Err(custom_error(format!(
                "A pull request already exists for {}:{head_ref}.",
                entry.owner
            )));
        }
        if head_sha == base_sha || git.graph_descendant_of(base_sha, head_sha)? {
            return Err(custom_error(format!(
                "No commits between {base_ref} and {head_ref}"
            )));
        }
        pulls.next_id += 1;
        let id = pulls.next_id;
        let list = pulls.by_repo.entry(entry.key()).or_default();
        let pr = PullRequest {
            id,
            number: list.len() as u64 + 1,
            title,
            body: req.body,
            head_ref,
            base_ref,
            head_sha: head_sha.to_string(),
            open: true,
            merged: false,
            merge_commit_sha: None,
            merged_at: None,
            closed_at: None,
            draft: req.draft,
            user,
            created_at: crate::clock::now_epoch(),
        };
        list.push(pr.clone());
        drop(pulls);
        let body = pr_json(
            &base_url,
            &entry,
            &pr,
            &head_sha.to_string(),
            &base_sha.to_string(),
        );
        let mut resp = json_response(StatusCode::CREATED, &body);
        if let Some(url) = body["url"].as_str()
            && let Ok(v) = HeaderValue::from_str(url)
        {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        Ok(resp)
    })
    .await
}
