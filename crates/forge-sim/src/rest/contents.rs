//! `GET /repos/{owner}/{repo}/contents/{path}?ref=`: files (raw or JSON) and directory listings.
//!
//! Size rules from forge-facts §A.4: up to 1 MB the JSON carries the base64 content (wrapped
//! every 60 characters, like GitHub's); 1–100 MB only raw bytes, and the JSON says
//! `encoding: "none"` with empty content; above 100 MB nothing.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, json_response};
use crate::git_store::{self, Entry, EntryKind};
use crate::rest::{api_repo_url, html_repo_url};
use crate::server::{AppState, blocking};
use crate::state::RepoEntry;

const DOC: &str = "https://docs.github.com/rest/repos/contents#get-repository-content";
const INLINE_LIMIT: u64 = 1024 * 1024;
const RAW_LIMIT: u64 = 100 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContentsQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Json,
    Raw,
    Object,
}

fn media(headers: &HeaderMap) -> Media {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if accept.contains("vnd.github.raw") || accept.contains("vnd.github.v3.raw") {
        Media::Raw
    } else if accept.contains("vnd.github.object") || accept.contains("vnd.github.v3.object") {
        Media::Object
    } else {
        Media::Json
    }
}

/// Base64 wrapped at 60 characters per line, each line ending in `\n`, as GitHub sends it.
fn wrapped_base64(bytes: &[u8]) -> String {
    let flat = STANDARD.encode(bytes);
    let mut out = String::with_capacity(flat.len() + flat.len() / 60 + 1);
    for chunk in flat.as_bytes().chunks(60) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "file",
        EntryKind::Dir => "dir",
        EntryKind::Symlink => "symlink",
        EntryKind::Submodule => "submodule",
    }
}

/// The fields every contents item has, without `content`.
fn item_json(base: &str, entry: &RepoEntry, reference: &str, path: &str, item: &Entry) -> Value {
    let api = api_repo_url(base, entry);
    let html = html_repo_url(base, entry);
    let sha = item.oid.to_string();
    let url = format!("{api}/contents/{path}?ref={reference}");
    let git_url = match item.kind {
        EntryKind::Dir => format!("{api}/git/trees/{sha}"),
        _ => format!("{api}/git/blobs/{sha}"),
    };
    let html_url = match item.kind {
        EntryKind::Dir => format!("{html}/tree/{reference}/{path}"),
        _ => format!("{html}/blob/{reference}/{path}"),
    };
    let download_url = match item.kind {
        EntryKind::File => Value::String(format!(
            "{base}/raw/{}/{reference}/{path}",
            entry.full_name()
        )),
        _ => Value::Null,
    };
    json!({
        "type": kind_name(item.kind),
        "size": item.size,
        "name": item.name,
        "path": path,
        "sha": sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": download_url,
        "_links": { "self": url, "git": git_url, "html": html_url },
    })
}

fn too_large() -> ApiError {
    let mut e = ApiError::new(
        StatusCode::FORBIDDEN,
        "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.",
        DOC,
    );
    if let Some(obj) = e.body.as_object_mut() {
        obj.insert(
            "errors".into(),
            json!([{ "resource": "Blob", "field": "data", "code": "too_large" }]),
        );
    }
    e
}

/// `GET /repos/{owner}/{repo}/contents` (the root directory).
pub(crate) async fn get_root(
    state: State<AppState>,
    caller: Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    query: Query<ContentsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_contents(state, caller, owner, repo, String::new(), query.0, &headers).await
}

/// `GET /repos/{owner}/{repo}/contents/{path}`.
pub(crate) async fn get_contents(
    state: State<AppState>,
    caller: Extension<Caller>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    query: Query<ContentsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_contents(state, caller, owner, repo, path, query.0, &headers).await
}

async fn serve_contents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    owner: String,
    repo: String,
    path: String,
    query: ContentsQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let entry = state.repo_for(&caller, &owner, &repo)?;
    let media = media(headers);
    let base = state.base_url();
    let path = path.trim_matches('/').to_owned();
    blocking(move || {
        let git = git_store::open(&entry.path)?;
        if git_store::is_empty(&git)? {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "This repository is empty.",
                DOC,
            ));
        }
        let reference = match query.reference.filter(|r| !r.is_empty()) {
            Some(r) => r,
            None => git_store::default_branch(&git).unwrap_or_else(|| "main".to_owned()),
        };
        let commit = git_store::resolve_commitish(&git, &reference)?.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No commit found for the ref {reference}"),
                DOC,
            )
        })?;
        let item = git_store::entry_at(&git, commit, &path)?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Not Found", DOC))?;

        let resp = match item.kind {
            EntryKind::Dir => {
                let children = git_store::list_dir(&git, item.oid)?;
                let list: Vec<Value> = children
                    .iter()
                    .map(|c| {
                        let child_path = if path.is_empty() {
                            c.name.clone()
                        } else {
                            format!("{path}/{}", c.name)
                        };
                        item_json(&base, &entry, &reference, &child_path, c)
                    })
                    .collect();
                if media == Media::Object {
                    let mut obj = item_json(&base, &entry, &reference, &path, &item);
                    obj["entries"] = Value::Array(list);
                    json_response(StatusCode::OK, &obj)
                } else {
                    json_response(StatusCode::OK, &Value::Array(list))
                }
            }
            EntryKind::File if media == Media::Raw => {
                if item.size > RAW_LIMIT {
                    return Err(too_large());
                }
                let bytes = git_store::read_blob(&git, item.oid)?;
                let mut resp = (StatusCode::OK, bytes).into_response();
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/vnd.github.raw"),
                );
                resp
            }
            EntryKind::File => {
                if item.size > RAW_LIMIT {
                    return Err(too_large());
                }
                let mut obj = item_json(&base, &entry, &reference, &path, &item);
                if item.size > INLINE_LIMIT {
                    obj["encoding"] = json!("none");
                    obj["content"] = json!("");
                } else {
                    let bytes = git_store::read_blob(&git, item.oid)?;
                    obj["encoding"] = json!("base64");
                    obj["content"] = json!(wrapped_base64(&bytes));
                }
                json_response(StatusCode::OK, &obj)
            }
            EntryKind::Symlink => {
                let target = git_store::read_blob(&git, item.oid)?;
                let mut obj = item_json(&base, &entry, &reference, &path, &item);
                obj["target"] = json!(String::from_utf8_lossy(&target));
                json_response(StatusCode::OK, &obj)
            }
            EntryKind::Submodule => {
                let mut obj = item_json(&base, &entry, &reference, &path, &item);
                obj["submodule_git_url"] = Value::Null;
                json_response(StatusCode::OK, &obj)
            }
        };
        state.fire_foreign_push_for_read(&entry, &git, &reference, commit);
        Ok(resp)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_base64_every_sixty_characters() {
        let s = wrapped_base64(&[b'a'; 100]);
        let lines: Vec<&str> = s.split_terminator('\n').collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[..2].iter().all(|l| l.len() == 60));
        assert!(s.ends_with('\n'));
        assert_eq!(wrapped_base64(b""), "");
    }
}
