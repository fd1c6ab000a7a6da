//! Walking a branch's history through the REST API, reading commit messages only.
//!
//! GitHub's commit list (`GET commits?sha=`) holds every commit reachable from `sha`, those of
//! merged pull requests included, in GitHub's own order and with no first-parent option. The
//! first-parent chain is therefore followed by parent ids across as many pages as it takes;
//! commits off the chain are skipped there and reached, when wanted, through the compare API
//! ("equivalent to `git log BASE..HEAD`", oldest first, the newest 250 without paging).

use std::collections::HashMap;

use http::StatusCode;
use serde::Deserialize;

use super::GitHub;
use super::client::{JSON, status_error};
use crate::error::ForgeError;
use crate::forge::{CommitId, CommitInfo};

/// Commits per listed page (GitHub's maximum).
const PAGE: usize = 100;

#[derive(Deserialize)]
pub(super) struct ListedCommit {
    sha: String,
    html_url: Option<String>,
    commit: ListedCommitBody,
    #[serde(default)]
    parents: Vec<Sha>,
}

#[derive(Deserialize)]
struct ListedCommitBody {
    message: String,
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct Comparison {
    #[serde(default)]
    commits: Vec<ListedCommit>,
}

impl ListedCommit {
    pub(super) fn message(&self) -> &str {
        &self.commit.message
    }

    pub(super) fn into_info(self) -> CommitInfo {
        let mut parents = self.parents.into_iter().map(|p| CommitId(p.sha));
        CommitInfo {
            id: CommitId(self.sha),
            message: self.commit.message,
            parent: parents.next(),
            merged: parents.collect(),
            url: self.html_url,
            verified: None,
        }
    }
}

/// One page of the commit list from `start` (a branch name, already encoded, or a SHA).
pub(super) async fn list_page(
    gh: &GitHub,
    start: &str,
    page: usize,
) -> Result<Option<Vec<ListedCommit>>, ForgeError> {
    let reply = gh
        .get(
            &format!("/commits?sha={start}&per_page={PAGE}&page={page}"),
            JSON,
        )
        .await?;
    match reply.status {
        StatusCode::OK => Ok(Some(reply.json("commit list")?)),
        // 404: no such branch; 409: the repository is empty.
        StatusCode::NOT_FOUND | StatusCode::CONFLICT => Ok(None),
        _ => Err(status_error(&reply, "listing commits")),
    }
}

/// Up to `limit` commits along first parents from `from`, newest first.
pub(super) async fn first_parents(
    gh: &GitHub,
    from: &CommitId,
    limit: usize,
) -> Result<Vec<CommitInfo>, ForgeError> {
    let mut listed: HashMap<String, ListedCommit> = HashMap::new();
    let mut out = Vec::new();
    let mut wanted = Some(from.0.clone());
    let mut page = 1;
    let mut exhausted = false;
    while let Some(sha) = wanted.take() {
        if out.len() >= limit {
            break;
        }
        if let Some(commit) = listed.remove(&sha) {
            let info = commit.into_info();
            wanted = info.parent.as_ref().map(|p| p.0.clone());
            out.push(info);
            continue;
        }
        // The chain's next commit has not been listed yet: read on. A listing that ends
        // without it (a history rewritten meanwhile) ends the walk.
        if exhausted {
            break;
        }
        let Some(commits) = list_page(gh, &from.0, page).await? else {
            break;
        };
        page += 1;
        exhausted = commits.len() < PAGE;
        listed.extend(commits.into_iter().map(|c| (c.sha.clone(), c)));
        wanted = Some(sha);
    }
    Ok(out)
}

/// Up to `limit` commits that `merge` brought in, newest first: for each parent after the
/// first, what it reaches and the first parent does not.
pub(super) async fn merged_commits(
    gh: &GitHub,
    merge: &CommitInfo,
    limit: usize,
) -> Result<Vec<CommitInfo>, ForgeError> {
    let Some(first) = &merge.parent else {
        return Ok(Vec::new());
    };
    let mut out: Vec<CommitInfo> = Vec::new();
    for other in &merge.merged {
        if out.len() >= limit {
            break;
        }
        let reply = gh
            .get(&format!("/compare/{}...{}", first.0, other.0), JSON)
            .await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(
                &reply,
                &format!("comparing {first} with {other}"),
            ));
        }
        let comparison: Comparison = reply.json("comparison")?;
        for commit in comparison.commits.into_iter().rev() {
            // Two merged parents may share commits; each is listed once.
            if out.len() < limit && out.iter().all(|o| o.id.0 != commit.sha) {
                out.push(commit.into_info());
            }
        }
    }
    Ok(out)
}
