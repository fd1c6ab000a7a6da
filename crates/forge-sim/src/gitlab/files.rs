//! `GET`/`HEAD /projects/:id/repository/files/:file_path?ref=` and `.../raw` (forge-facts §G.3).
//!
//! Both answer the `X-Gitlab-*` headers; axum serves `HEAD` through the `GET` handler and drops
//! the body. A served read fires an armed foreign push for the branch it looked at.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::GlError;
use super::history::{last_commit_for_path, resolve_ref};
use super::params;
use super::server::{GlState, blocking};
use crate::error::json_response;
use crate::git_store::{self, EntryKind};

/// One file as read at a ref.
struct FileRead {
    file_name: String,
    file_path: String,
    reference: String,
    content: Vec<u8>,
    blob_id: String,
    commit_id: String,
    last_commit_id: String,
    executable: bool,
}

impl FileRead {
    fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.content))
    }

    fn json(&self) -> Value {
        json!({
            "file_name": self.file_name,
            "file_path": self.file_path,
            "size": self.content.len(),
            "encoding": "base64",
            "content": STANDARD.encode(&self.content),
            "content_sha256": self.sha256(),
            "ref": self.reference,
            "blob_id": self.blob_id,
            "commit_id": self.commit_id,
            "last_commit_id": self.last_commit_id,
            "execute_filemode": self.executable,
        })
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let pairs = [
            ("x-gitlab-blob-id", self.blob_id.clone()),
            ("x-gitlab-commit-id", self.commit_id.clone()),
            ("x-gitlab-content-sha256", self.sha256()),
            ("x-gitlab-encoding", "base64".to_owned()),
            ("x-gitlab-file-name", self.file_name.clone()),
            ("x-gitlab-file-path", self.file_path.clone()),
            ("x-gitlab-last-commit-id", self.last_commit_id.clone()),
            ("x-gitlab-ref", self.reference.clone()),
            ("x-gitlab-size", self.content.len().to_string()),
            ("x-gitlab-execute-filemode", self.executable.to_string()),
        ];
        pairs
            .into_iter()
            .filter_map(|(name, value)| {
                HeaderValue::from_str(&value)
                    .ok()
                    .map(|v| (HeaderName::from_static(name), v))
            })
            .collect()
    }
}

/// Reads `file_path` at `reference` of project `id`, then fires a foreign push if one waits.
async fn read(
    state: GlState,
    id: &str,
    file_path: String,
    reference: String,
) -> Result<FileRead, GlError> {
    let project = state.project_or_404(id)?;
    let st = Arc::clone(&state);
    blocking(move || {
        let repo = project.open()?;
        let commit = resolve_ref(&repo, &reference)?.ok_or_else(|| GlError::not_found("Commit"))?;
        let entry = git_store::entry_at(&repo, commit, &file_path)?
            .filter(|e| matches!(e.kind, EntryKind::File | EntryKind::Symlink))
            .ok_or_else(|| GlError::not_found("File"))?;
        let content = git_store::read_blob(&repo, entry.oid)?;
        let last = last_commit_for_path(&repo, commit, &file_path)?.unwrap_or(commit);
        let executable = repo
            .find_commit(commit)?
            .tree()?
            .get_path(std::path::Path::new(file_path.trim_matches('/')))
            .map(|e| e.filemode() == 0o100755)
            .unwrap_or(false);
        let read = FileRead {
            file_name: entry.name,
            file_path,
            reference: reference.clone(),
            content,
            blob_id: entry.oid.to_string(),
            commit_id: commit.to_string(),
            last_commit_id: last.to_string(),
            executable,
        };
        super::foreign::fire_for_read(&st, &project, &repo, &reference, commit);
        Ok(read)
    })
    .await
}

/// `GET .../files/:file_path?ref=` (`ref` required) → JSON with base64 content.
pub(crate) async fn get_file(
    State(state): State<GlState>,
    Path((id, file_path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, GlError> {
    let q = params::parse_form(query.as_deref().unwrap_or(""));
    let [reference]: [String; 1] = params::required(&q, &["ref"])?
        .try_into()
        .map_err(|_| GlError::internal("parameter count"))?;
    let file = read(state, &id, file_path, reference).await?;
    let mut resp = json_response(StatusCode::OK, &file.json());
    resp.headers_mut().extend(file.headers());
    Ok(resp)
}

/// `GET .../files/:file_path/raw?ref=` (`ref` defaults to `HEAD`) → the bytes.
pub(crate) async fn get_raw(
    State(state): State<GlState>,
    Path((id, file_path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, GlError> {
    let q = params::parse_form(query.as_deref().unwrap_or(""));
    let reference = params::text(&q, "ref")
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "HEAD".to_owned());
    let file = read(state, &id, file_path, reference).await?;
    let headers = file.headers();
    let mut resp = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        file.content,
    )
        .into_response();
    resp.headers_mut().extend(headers);
    Ok(resp)
}
