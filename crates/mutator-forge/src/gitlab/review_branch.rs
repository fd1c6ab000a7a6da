//! What a review branch needs besides commits: whether its head is already in the target
//! branch, moving it, and its newest merge request.
//!
//! - Containment: `GET repository/compare?from=<base>&to=<head>` lists in `commits` what `to`
//!   has and `from` lacks (GitLab's `Gitlab::Git::Compare#commits`, `git log from..to`), so
//!   an empty list means `head` is contained. Both sides are commit ids: the endpoint caches
//!   its answer for a minute per parameters, which is harmless only for immutable names.
//! - Moving: GitLab's REST API has no reference update, so the branch is deleted
//!   (`DELETE repository/branches/:branch`) and created again at the new commit. Neither call
//!   takes the head it expects: the head is read just before the delete, which leaves one
//!   round trip in which another writer's commit could be dropped. The create refuses an
//!   existing branch, so two movers never both win.

use http::{Method, StatusCode};
use mutator_core::BranchName;
use serde::Deserialize;

use super::GitLab;
use super::client::{encode_segment, status_error};
use crate::error::ForgeError;
use crate::forge::{CommitId, Forge, ReviewState, ReviewStatus};

#[derive(Deserialize)]
struct Comparison {
    #[serde(default)]
    commits: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct MergeRequest {
    iid: u64,
    web_url: String,
    state: String,
    sha: Option<String>,
}

pub(super) async fn contains(
    gl: &GitLab,
    base: &CommitId,
    commit: &CommitId,
) -> Result<bool, ForgeError> {
    if base == commit {
        return Ok(true);
    }
    let reply = gl
        .get(&format!("/repository/compare?from={base}&to={commit}"))
        .await?;
    if reply.status != StatusCode::OK {
        return Err(status_error(
            &reply,
            &format!("comparing {commit} with {base}"),
        ));
    }
    Ok(reply.json::<Comparison>("comparison")?.commits.is_empty())
}

/// Whether the move may drop commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Move {
    FastForward,
    Reset,
}

pub(super) async fn move_branch(
    gl: &GitLab,
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
    // Delete-and-create would drop anything `to` lacks: a fast-forward must check that itself.
    if how == Move::FastForward && !contains(gl, to, from).await? {
        return Err(ForgeError::Rejected(format!(
            "moving {branch} from {from} to {to} is not a fast-forward"
        )));
    }
    let now = gl.head(branch).await?;
    if now.as_ref() != Some(from) {
        return Err(moved(
            now.map_or_else(|| "(no branch)".to_owned(), |c| c.to_string()),
        ));
    }
    if from == to {
        return Ok(());
    }
    let path = gl.client.project_path(&format!(
        "/repository/branches/{}",
        encode_segment(branch.as_str())
    ));
    let reply = gl.client.send(Method::DELETE, &path, None).await?;
    match reply.status {
        // 204 today; older GitLab answered 200 with the branch name.
        StatusCode::NO_CONTENT | StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Err(moved("(no branch)".to_owned())),
        _ => return Err(status_error(&reply, &format!("deleting branch {branch}"))),
    }
    match gl.create_branch(branch, to).await {
        Ok(()) => Ok(()),
        Err(ForgeError::Conflict { .. }) => Err(moved("(created again by another writer)".into())),
        Err(e) => {
            // The branch is gone and could not be created again: say exactly what was lost.
            tracing::error!(%branch, head = %from, error = %e, "a review branch was deleted and could not be created again");
            Err(e)
        }
    }
}

/// The newest merge request from `head` into `base`: GitLab lists them newest first by
/// default (`order_by=created_at`, `sort=desc`), so one item is enough.
pub(super) async fn latest_review(
    gl: &GitLab,
    head: &BranchName,
    base: &BranchName,
) -> Result<Option<ReviewStatus>, ForgeError> {
    let find = format!(
        "/merge_requests?source_branch={}&target_branch={}&state=all&order_by=created_at&sort=desc&per_page=1",
        encode_segment(head.as_str()),
        encode_segment(base.as_str())
    );
    let reply = gl.get(&find).await?;
    if reply.status != StatusCode::OK {
        return Err(status_error(&reply, "listing merge requests"));
    }
    let found: Vec<MergeRequest> = reply.json("merge request list")?;
    Ok(found.into_iter().next().map(|m| ReviewStatus {
        number: m.iid,
        url: m.web_url,
        state: match m.state.as_str() {
            "merged" => ReviewState::Merged,
            "closed" => ReviewState::Closed,
            // `opened`, and `locked` while a merge is under way.
            _ => ReviewState::Open,
        },
        head: m.sha.map(CommitId),
    }))
}
