//! Reading commits with libgit2, shared by the local and the remote git backends.

use git2::{ErrorCode, Oid, Repository, Sort};
use mutator_core::{FileAction, RepoPath};

use crate::forge::{CommitId, CommitInfo};

/// A commit as the forge trait reports it.
pub(crate) fn info(commit: &git2::Commit<'_>) -> CommitInfo {
    CommitInfo {
        id: CommitId(commit.id().to_string()),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        parent: commit.parent_ids().next().map(|p| CommitId(p.to_string())),
        merged: commit
            .parent_ids()
            .skip(1)
            .map(|p| CommitId(p.to_string()))
            .collect(),
        url: None,
        verified: None,
    }
}

/// Whether `commit` is `base` or one of its ancestors.
pub(crate) fn contains(repo: &Repository, base: Oid, commit: Oid) -> Result<bool, git2::Error> {
    Ok(base == commit || repo.graph_descendant_of(base, commit)?)
}

/// Up to `limit` commits along first parents from `from` (inclusive), newest first. Reading a
/// commit object reads its message and parents, never its tree.
pub(crate) fn first_parents(
    repo: &Repository,
    from: Oid,
    limit: usize,
) -> Result<Vec<CommitInfo>, git2::Error> {
    let mut out = Vec::new();
    let mut next = Some(repo.find_commit(from)?);
    while let Some(commit) = next {
        if out.len() >= limit {
            break;
        }
        next = commit.parents().next();
        out.push(info(&commit));
    }
    Ok(out)
}

/// Up to `limit` commits that merge commit `merge` brought in (reachable from its other
/// parents, not from its first), newest first.
pub(crate) fn merged_commits(
    repo: &Repository,
    merge: Oid,
    limit: usize,
) -> Result<Vec<CommitInfo>, git2::Error> {
    let commit = repo.find_commit(merge)?;
    let mut parents = commit.parent_ids();
    let Some(first) = parents.next() else {
        return Ok(Vec::new());
    };
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    let mut any = false;
    for other in parents {
        walk.push(other)?;
        any = true;
    }
    if !any {
        return Ok(Vec::new());
    }
    walk.hide(first)?;
    walk.take(limit)
        .map(|oid| Ok(info(&repo.find_commit(oid?)?)))
        .collect()
}

/// Every path that differs between the trees of `from` and `to`, when `to` descends from
/// `from` (or is it); `None` when it does not (the history was rewritten).
pub(crate) fn changed_between(
    repo: &Repository,
    from: Oid,
    to: Oid,
) -> Result<Option<Vec<RepoPath>>, git2::Error> {
    if from != to && !repo.graph_descendant_of(to, from)? {
        return Ok(None);
    }
    let old_tree = repo.find_commit(from)?.tree()?;
    let new_tree = repo.find_commit(to)?.tree()?;
    let diff = repo.diff_tree_to_tree(Some(&old_tree), Some(&new_tree), None)?;
    let mut out = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path().and_then(|p| p.to_str())
                && let Ok(path) = RepoPath::parse(path)
                && !out.contains(&path)
            {
                out.push(path);
            }
        }
    }
    Ok(Some(out))
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
