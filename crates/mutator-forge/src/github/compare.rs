//! Which files changed between two commits, in one request: the compare API's `files` list
//! (`GET /repos/{owner}/{repo}/compare/{BASE...HEAD}`). GitHub lists at most 300 files there,
//! so a comparison that may hold more is reported as unknown.

use http::StatusCode;
use mutator_core::RepoPath;
use serde::Deserialize;

use super::GitHub;
use super::client::{JSON, status_error};
use crate::error::ForgeError;
use crate::forge::CommitId;

/// GitHub's cap on the `files` of one comparison.
const MAX_FILES: usize = 300;

#[derive(Deserialize)]
struct Comparison {
    status: String,
    #[serde(default)]
    files: Vec<ChangedFile>,
}

#[derive(Deserialize)]
struct ChangedFile {
    filename: String,
    previous_filename: Option<String>,
}

pub(super) async fn changed_between(
    gh: &GitHub,
    from: &CommitId,
    to: &CommitId,
) -> Result<Option<Vec<RepoPath>>, ForgeError> {
    // Only the first page of commits is needed to get the files; ask for the smallest.
    let reply = gh
        .get(&format!("/compare/{}...{}?per_page=1", from.0, to.0), JSON)
        .await?;
    match reply.status {
        StatusCode::OK => {}
        // A commit GitHub does not know (the history was rewritten): nothing to compare.
        StatusCode::NOT_FOUND => return Ok(None),
        _ => return Err(status_error(&reply, &format!("comparing {from} with {to}"))),
    }
    let comparison: Comparison = reply.json("comparison")?;
    if !matches!(comparison.status.as_str(), "ahead" | "identical")
        || comparison.files.len() >= MAX_FILES
    {
        return Ok(None);
    }
    let mut out = Vec::new();
    for file in comparison.files {
        let names = std::iter::once(file.filename).chain(file.previous_filename);
        out.extend(names.filter_map(|name| RepoPath::parse(name).ok()));
    }
    Ok(Some(out))
}
