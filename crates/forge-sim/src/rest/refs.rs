//! `git/ref` and `git/refs`: read, create, move (compare-and-swap) and delete references.
//!
//! Status codes follow forge-facts §A.1 and §C: reads answer 404 for a missing ref; every
//! write problem (missing ref, not a fast-forward, unknown object, existing ref) is 422, and
//! an empty repository is 409.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use git2::{ObjectType, Oid, Reference};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, json_response};
use crate::git_store::{self, CasError};
use crate::rest::api_repo_url;
use crate::server::{AppState, blocking, parse_body};
use crate::state::RepoEntry;

const DOC_GET: &str = "https://docs.github.com/rest/git/refs#get-a-reference";
const DOC_CREATE: &str = "https://docs.github.com/rest/git/refs#create-a-reference";
const DOC_UPDATE: &str = "https://docs.github.com/rest/git/refs#update-a-reference";
const DOC_DELETE: &str = "https://docs.github.com/rest/git/refs#delete-a-reference";

/// The ref object GitHub answers: `{ref, node_id, url, object: {type, sha, url}}`.
pub(crate) fn ref_json(
    base: &str,
    entry: &RepoEntry,
    full_ref: &str,
    sha: &str,
    kind: &str,
) -> Value {
    let api = api_repo_url(base, entry);
    let short = full_ref.strip_prefix("refs/").unwrap_or(full_ref);
    let object_path = if kind == "tag" { "tags" } else { "commits" };
    json!({
        "ref": full_ref,
        "node_id": crate::ids::node_id("REF", &format!("{}:{full_ref}", entry.full_name())),
        "url": format!("{api}/git/refs/{short}"),
        "object": {
            "type": kind,
            "sha": sha,
            "url": format!("{api}/git/{object_path}/{sha}"),
        }
    })
}

fn object_kind(repo: &git2::Repository, oid: Oid) -> &'static str {
    match repo.find_object(oid, None).ok().and_then(|o| o.kind()) {
        Some(ObjectType::Tag) => "tag",
        Some(ObjectType::Tree) => "tree",
        Some(ObjectType::Blob) => "blob",
        _ => "commit",
    }
}

fn direct_target(r: &Reference<'_>) -> Option<Oid> {
    r.resolve().ok().and_then(|r| r.target())
}

/// `GET /repos/{owner}/{repo}/git/ref/{ref}` (`ref` = `heads/<branch>` or `tags/<tag>`).
pub(crate) async fn get_ref(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let base = state.base_url();
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        let full = format!("refs/{reference}");
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "Not Found", DOC_GET);
        let found = match git.find_reference(&full) {
            Ok(r) => direct_target(&r),
            Err(_) => None,
        };
        let oid = found.ok_or_else(not_found)?;
        let body = ref_json(
            &base,
            &entry,
            &full,
            &oid.to_string(),
            object_kind(&git, oid),
        );
        // The read is served; an armed foreign push lands now, before the reader can write.
        if let Some(branch) = reference.strip_prefix("heads/") {
            state.fire_foreign_push(&entry, branch);
        }
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct CreateRef {
    #[serde(rename = "ref")]
    reference: Option<String>,
    sha: Option<String>,
}

fn object_exists(git: &git2::Repository, sha: &str) -> bool {
    git_store::is_full_sha(sha)
        && Oid::from_str(sha)
            .ok()
            .and_then(|oid| git.odb().ok().map(|odb| odb.exists(oid)))
            .unwrap_or(false)
}

/// `POST /repos/{owner}/{repo}/git/refs` `{"ref": "refs/heads/x", "sha": ...}`.
pub(crate) async fn create_ref(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let req: CreateRef = parse_body(&body, DOC_CREATE)?;
    let reference = req.reference.ok_or_else(|| {
        ApiError::unprocessable("Invalid request.\n\n\"ref\" wasn't supplied.", DOC_CREATE)
    })?;
    let sha = req.sha.ok_or_else(|| {
        ApiError::unprocessable("Invalid request.\n\n\"sha\" wasn't supplied.", DOC_CREATE)
    })?;
    // "If it doesn't start with 'refs' and have at least two slashes, it will be rejected."
    if !reference.starts_with("refs/") || reference.matches('/').count() < 2 {
        return Err(ApiError::unprocessable(
            "Reference name must contain at least three slash-separated components.",
            DOC_CREATE,
        ));
    }
    if !git2::Reference::is_valid_name(&reference) {
        return Err(ApiError::unprocessable(
            format!("{reference} is not a valid ref name."),
            DOC_CREATE,
        ));
    }
    let base = state.base_url();
    blocking(move || {
        let _guard = entry.lock_writes();
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        if !object_exists(&git, &sha) {
            return Err(ApiError::unprocessable("Object does not exist", DOC_CREATE));
        }
        let oid = Oid::from_str(&sha)
            .map_err(|_| ApiError::unprocessable("Object does not exist", DOC_CREATE))?;
        if git.find_reference(&reference).is_ok() {
            return Err(ApiError::unprocessable(
                "Reference already exists",
                DOC_CREATE,
            ));
        }
        // A name clash such as `foo/bar` next to an existing `foo` fails here.
        git.reference(&reference, oid, false, "forge-sim: create ref")
            .map_err(|_| ApiError::unprocessable("Reference update failed", DOC_CREATE))?;
        let body = ref_json(&base, &entry, &reference, &sha, object_kind(&git, oid));
        let location = body["url"].as_str().unwrap_or_default().to_owned();
        let mut resp = json_response(StatusCode::CREATED, &body);
        if let Ok(v) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        Ok(resp)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct UpdateRef {
    sha: Option<String>,
    #[serde(default)]
    force: Option<bool>,
}

/// `PATCH /repos/{owner}/{repo}/git/refs/{ref}` `{"sha": ..., "force": false}`.
pub(crate) async fn update_ref(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let req: UpdateRef = parse_body(&body, DOC_UPDATE)?;
    let sha = req.sha.ok_or_else(|| {
        ApiError::unprocessable("Invalid request.\n\n\"sha\" wasn't supplied.", DOC_UPDATE)
    })?;
    let force = req.force.unwrap_or(false);
    let base = state.base_url();
    blocking(move || {
        let _guard = entry.lock_writes();
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        // `refs/` in the URL path (`git/refs/refs/heads/x`) names a ref that does not exist,
        // which is exactly what GitHub answers for it.
        let full = format!("refs/{reference}");
        let current = git
            .find_reference(&full)
            .ok()
            .and_then(|r| direct_target(&r))
            .ok_or_else(|| ApiError::unprocessable("Reference does not exist", DOC_UPDATE))?;
        if !object_exists(&git, &sha) {
            return Err(ApiError::unprocessable("Object does not exist", DOC_UPDATE));
        }
        let new = Oid::from_str(&sha)
            .map_err(|_| ApiError::unprocessable("Object does not exist", DOC_UPDATE))?;
        if !force && new != current && !git.graph_descendant_of(new, current).unwrap_or(false) {
            return Err(ApiError::unprocessable(
                "Update is not a fast forward",
                DOC_UPDATE,
            ));
        }
        match git_store::cas_ref(&git, &full, new, Some(current), "forge-sim: update ref") {
            Ok(()) => {}
            Err(CasError::Stale) => {
                return Err(ApiError::unprocessable(
                    "Reference cannot be updated",
                    DOC_UPDATE,
                ));
            }
            Err(CasError::Git(e)) => return Err(e.into()),
        }
        let body = ref_json(&base, &entry, &full, &sha, object_kind(&git, new));
        Ok(json_response(StatusCode::OK, &body))
    })
    .await
}

/// `DELETE /repos/{owner}/{repo}/git/refs/{ref}` → 204.
pub(crate) async fn delete_ref(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, reference)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    blocking(move || {
        let _guard = entry.lock_writes();
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::empty_repository());
        }
        let full = format!("refs/{reference}");
        if reference.strip_prefix("heads/") == git_store::default_branch(&git).as_deref() {
            return Err(ApiError::unprocessable(
                "Cannot delete the default branch",
                DOC_DELETE,
            ));
        }
        let mut r = git
            .find_reference(&full)
            .map_err(|_| ApiError::unprocessable("Reference does not exist", DOC_DELETE))?;
        r.delete()?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}
