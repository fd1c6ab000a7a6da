//! Foreign pushes for the GitLab simulator: an armed push fires right after a files or branch
//! read of its branch was served, so the reader's `last_commit_id` for the touched path is stale.
//!
//! The armed list and its bookkeeping are the GitHub simulator's ([`crate::faults::Faults`]),
//! keyed by the project's lower-case path.

use std::collections::BTreeMap;

use git2::{Oid, Repository};

use super::state::{GitlabState, Project};
use crate::faults::{ForeignPush, foreign_author};
use crate::git_store::{self, CasError, Change};

/// Fires the armed push, if any, whose branch the read just served looked at: by name (also
/// `refs/heads/<b>`, or `HEAD` for the default branch), or by that branch's current head SHA.
pub(crate) fn fire_for_read(
    state: &GitlabState,
    project: &Project,
    repo: &Repository,
    read_ref: &str,
    served: Oid,
) {
    let armed = state.faults().armed_branches(&project.key());
    if armed.is_empty() {
        return;
    }
    let default = git_store::default_branch(repo);
    for branch in armed {
        let by_name = read_ref == branch
            || read_ref.strip_prefix("refs/heads/") == Some(branch.as_str())
            || (read_ref == "HEAD" && default.as_deref() == Some(branch.as_str()));
        let by_sha = git_store::is_full_sha(read_ref)
            && matches!(git_store::branch_head(repo, &branch), Ok(Some(h)) if h == served);
        if by_name || by_sha {
            fire_now(state, project, &branch);
            return;
        }
    }
}

/// Fires the push armed for `branch` of `project`, if there is one.
pub(crate) fn fire_now(state: &GitlabState, project: &Project, branch: &str) {
    let push = state.faults().take_foreign(&project.key(), branch);
    let Some(push) = push else {
        return;
    };
    match apply(project, &push) {
        Ok(Some(oid)) => {
            tracing::info!(project = %project.path, %branch, %oid, "forge-sim gitlab: foreign push");
            state.stats().foreign_pushes += 1;
        }
        Ok(None) => {
            tracing::warn!(project = %project.path, %branch, "forge-sim gitlab: foreign push found no branch");
        }
        Err(e) => {
            tracing::error!(error = %e, "forge-sim gitlab: foreign push failed");
        }
    }
}

/// Commits `push` on top of its branch as a foreign author. `None` when the branch is gone.
fn apply(project: &Project, push: &ForeignPush) -> Result<Option<Oid>, git2::Error> {
    let _guard = project.lock_writes();
    let repo = project.open()?;
    let Some(head) = git_store::branch_head(&repo, &push.branch)? else {
        return Ok(None);
    };
    let base = repo.find_commit(head)?.tree()?;
    let mut changes = BTreeMap::new();
    changes.insert(push.path.clone(), Change::Put(push.content.clone()));
    if git_store::check_changes(Some(&base), &changes)?.is_some() {
        return Err(git2::Error::from_str(
            "foreign push path collides with a directory or file",
        ));
    }
    let tree = git_store::build_tree(&repo, Some(&base), &changes)?;
    let author = foreign_author();
    let oid = git_store::write_commit(
        &repo,
        tree,
        &[head],
        &author,
        &author,
        &format!("Foreign change to {}", push.path),
        None,
    )?;
    match git_store::cas_ref(
        &repo,
        &format!("refs/heads/{}", push.branch),
        oid,
        Some(head),
        "forge-sim gitlab: foreign push",
    ) {
        Ok(()) => Ok(Some(oid)),
        Err(CasError::Stale) => Ok(None),
        Err(CasError::Git(e)) => Err(e),
    }
}
