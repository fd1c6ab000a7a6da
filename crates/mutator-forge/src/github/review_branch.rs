//! What a review branch needs besides commits: whether its head is already in the base branch
//! (the compare API), moving it (a ref update) and its newest pull request.
//!
//! - Containment: `GET compare/{base}...{head}` answers `status` `identical`, `behind`, `ahead`
//!   or `diverged`; the first two mean every commit of `head` is in `base`. Both sides are
//!   commit ids, never branch names, so the answer is about exactly what the caller read.
//! - A fast-forward is `PATCH git/refs/heads/{branch}` with `force: false`: GitHub refuses with
//!   422 `Update is not a fast forward` when the branch is not an ancestor of the new commit,
//!   and with 422 `Reference does not exist` when it is gone (forge-facts §A.1). Both mean the
//!   branch is not where it was read.
//! - A reset (`force: true`) has no compare-and-swap on GitHub's REST API: the head is read
//!   just before the update, which leaves one round trip in which another writer's commit
//!   could be dropped.

use http::{Method, StatusCode};
use mutator_core::BranchName;
use serde::Deserialize;
use serde_json::json;

use super::GitHub;
use super::client::{JSON, encode_path, status_error};
use crate::error::ForgeError;
use crate::forge::{CommitId, Forge, ReviewState, ReviewStatus};

#[derive(Deserialize)]
struct Comparison {
    status: String,
}

#[derive(Deserialize)]
struct Pull {
    number: u64,
    html_url: String,
    state: String,
    merged_at: Option<String>,
    head: PullHead,
}

#[derive(Deserialize)]
struct PullHead {
    sha: Option<String>,
}

pub(super) async fn contains(
    gh: &GitHub,
    base: &CommitId,
    commit: &CommitId,
) -> Result<bool, ForgeError> {
    if base == commit {
        return Ok(true);
    }
    // One commit per page: only the status is wanted, not the list.
    let reply = gh
        .get(&format!("/compare/{base}...{commit}?per_page=1"), JSON)
        .await?;
    if reply.status != StatusCode::OK {
        return Err(status_error(
            &reply,
            &format!("comparing {commit} with {base}"),
        ));
    }
    let status = reply.json::<Comparison>("comparison")?.status;
    Ok(matches!(status.as_str(), "identical" | "behind"))
}

/// Whether the update may drop commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Move {
    FastForward,
    Reset,
}

pub(super) async fn move_branch(
    gh: &GitHub,
    branch: &BranchName,
    from: &CommitId,
    to: &CommitId,
    how: Move,
) -> Result<(), ForgeError> {
    let moved = |actual: String| ForgeError::Conflict {
        branch: branch.to_string(),
        expected: from.to_string(),
        actual,
    };
    if how == Move::Reset {
        let now = gh.head(branch).await?;
        if now.as_ref() != Some(from) {
            return Err(moved(
                now.map_or_else(|| "(no branch)".to_owned(), |c| c.to_string()),
            ));
        }
    }
    let path = gh
        .client
        .repo_path(&format!("/git/refs/heads/{}", encode_path(branch.as_str())));
    let body = json!({ "sha": to.0, "force": how == Move::Reset });
    let reply = gh
        .client
        .send(Method::PATCH, &path, JSON, Some(&body))
        .await?;
    match reply.status {
        StatusCode::OK => Ok(()),
        // Both 422s name the branch's state (forge-facts §A.1): not where it was read.
        StatusCode::UNPROCESSABLE_ENTITY
            if reply.message().contains("not a fast forward")
                || reply.message().contains("does not exist") =>
        {
            Err(moved(reply.message()))
        }
        _ => Err(status_error(&reply, &format!("moving branch {branch}"))),
    }
}

/// The newest pull request from `head` into `base`: GitHub lists them newest first by default
/// (`sort=created`, `direction=desc`), so one item is enough.
pub(super) async fn latest_review(
    gh: &GitHub,
    head: &BranchName,
    base: &BranchName,
) -> Result<Option<ReviewStatus>, ForgeError> {
    let owner = gh.client.name_with_owner();
    let owner = owner.split('/').next().unwrap_or_default().to_owned();
    let find = format!(
        "/pulls?head={}&base={}&state=all&sort=created&direction=desc&per_page=1",
        encode_path(&format!("{owner}:{head}")).replace('/', "%2F"),
        encode_path(base.as_str()).replace('/', "%2F")
    );
    let reply = gh.get(&find, JSON).await?;
    if reply.status != StatusCode::OK {
        return Err(status_error(&reply, "listing pull requests"));
    }
    let pulls: Vec<Pull> = reply.json("pull request list")?;
    Ok(pulls.into_iter().next().map(|p| ReviewStatus {
        number: p.number,
        url: p.html_url,
        state: match (p.state.as_str(), p.merged_at) {
            ("open", _) => ReviewState::Open,
            (_, Some(_)) => ReviewState::Merged,
            _ => ReviewState::Closed,
        },
        head: p.head.sha.map(CommitId),
    }))
}
