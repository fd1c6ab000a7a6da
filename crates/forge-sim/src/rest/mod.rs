//! REST endpoints of the Git Data, contents, commits, compare and repository APIs.
//!
//! Each file serves one resource. Handlers resolve the repository (404 when the caller may not
//! see it), then do their git work in `spawn_blocking` through [`crate::git_store`].

pub(crate) mod commits;
pub(crate) mod compare;
pub(crate) mod contents;
pub(crate) mod refs;
pub(crate) mod repos;

use serde_json::{Value, json};

use crate::state::RepoEntry;

/// `{base}/repos/{owner}/{repo}`: prefix of every API URL of a repository.
pub(crate) fn api_repo_url(base: &str, entry: &RepoEntry) -> String {
    format!("{base}/repos/{}", entry.full_name())
}

/// `{base}/{owner}/{repo}`: prefix of every "web" URL of a repository.
pub(crate) fn html_repo_url(base: &str, entry: &RepoEntry) -> String {
    format!("{base}/{}", entry.full_name())
}

/// `{sha, url, html_url}` as GitHub lists a commit's parents.
pub(crate) fn parent_json(base: &str, entry: &RepoEntry, sha: &str) -> Value {
    json!({
        "sha": sha,
        "url": format!("{}/git/commits/{sha}", api_repo_url(base, entry)),
        "html_url": format!("{}/commit/{sha}", html_repo_url(base, entry)),
    })
}
