//! Moving a branch of the local repository to another commit: forward only, or back onto a
//! commit that lacks some of its commits. Both are one reference update that names the head
//! that was read (libgit2's `reference_matching`), so a writer that moved the branch in between
//! is never overwritten.

use git2::{ErrorCode, Oid, Repository};
use mutator_core::BranchName;

use super::{LocalGit, branch_head, conflict};
use crate::error::ForgeError;
use crate::git_objects;

/// Whether a move may drop commits from the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Move {
    FastForward,
    Reset,
}

/// Moves `branch` from exactly `from` to `to`.
pub(super) fn move_branch(
    this: &LocalGit,
    repo: &Repository,
    branch: &BranchName,
    from: Oid,
    to: Oid,
    how: Move,
) -> Result<(), ForgeError> {
    let now = branch_head(repo, branch).map_err(|e| this.err(e))?;
    if now != Some(from) {
        return Err(conflict(branch, Some(from), now));
    }
    repo.find_commit(to).map_err(|e| this.err(e))?;
    if how == Move::FastForward
        && !git_objects::contains(repo, to, from).map_err(|e| this.err(e))?
    {
        return Err(ForgeError::Rejected(format!(
            "moving {branch} from {from} to {to} is not a fast-forward"
        )));
    }
    if from == to {
        return Ok(());
    }
    let log = match how {
        Move::FastForward => "gitops-mutator: fast-forward review branch",
        Move::Reset => "gitops-mutator: start review branch afresh",
    };
    let refname = format!("refs/heads/{branch}");
    match repo.reference_matching(&refname, to, true, from, log) {
        Ok(_) => Ok(()),
        // Lost the race between the read above and the update.
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::Modified | ErrorCode::Exists | ErrorCode::Locked | ErrorCode::NotFound
            ) =>
        {
            let now = branch_head(repo, branch).map_err(|e| this.err(e))?;
            Err(conflict(branch, Some(from), now))
        }
        Err(e) => Err(this.err(e)),
    }
}
