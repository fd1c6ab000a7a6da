//! Reading commits with libgit2, shared by the local and the remote git backends.

use git2::{ErrorCode, Oid, Repository};
use mutator_core::{FileAction, RepoPath};

use crate::forge::{CommitId, CommitInfo};

/// A commit as the forge trait reports it.
pub(crate) fn info(commit: &git2::Commit<'_>) -> CommitInfo {
    CommitInfo {
        id: CommitId(commit.id().to_string()),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        parent: commit.parent_ids().next().map(|p| CommitId(p.to_string())),
        url: None,
        verified: None,
    }
}

/// What `id` changed against its first parent.
pub(crate) fn changed_files(
    repo: &Repository,
    id: Oid,
) -> Result<Vec<(RepoPath, FileAction)>, git2::Error> {
    let commit = repo.find_commit(id)?;
    let new_tree = commit.tree()?;
    let old_tree = match commit.parent(0) {
        Ok(parent) => Some(parent.tree()?),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(e),
    };
    let diff = repo.diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let action = match delta.status() {
            git2::Delta::Added => FileAction::Create,
            git2::Delta::Deleted => FileAction::Delete,
            _ => FileAction::Update,
        };
        let file = if action == FileAction::Delete {
            delta.old_file()
        } else {
            delta.new_file()
        };
        let Some(path) = file.path().and_then(|p| p.to_str()) else {
            continue;
        };
        if let Ok(path) = RepoPath::parse(path) {
            out.push((path, action));
        }
    }
    Ok(out)
}
