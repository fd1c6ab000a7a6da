//! The pack a push sends: exactly the objects a new commit adds to its parent.
//!
//! A commit written by [`write_commit`](super::mirror::write_commit) differs from its parent
//! only along the changed paths, so the new objects are found by comparing the two trees
//! and descending only into subtrees whose ids differ. Everything else the new trees name
//! is the parent's, and the remote has all of the parent (it is the head it advertised). The
//! cost follows the size of the change and of the directories on its paths, not of the
//! repository.

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository, Tree};

/// The commit, every tree on a path whose content changed, and the blobs at changed paths.
/// With no parent: the commit and its whole tree.
pub(crate) fn added_objects(repo: &Repository, commit: Oid) -> Result<Vec<Oid>, git2::Error> {
    let commit = repo.find_commit(commit)?;
    let parent_tree = match commit.parent_ids().next() {
        Some(parent) => Some(repo.find_commit(parent)?.tree()?),
        None => None,
    };
    let mut added = Added::default();
    added.push(commit.id());
    added.tree(repo, &commit.tree()?, parent_tree.as_ref())?;
    Ok(added.ids)
}

/// A pack of `objects` (non-thin: every object whole or as a delta against another object
/// in the same pack, as libgit2's own push sends).
pub(crate) fn build(repo: &Repository, objects: &[Oid]) -> Result<Vec<u8>, git2::Error> {
    let mut builder = repo.packbuilder()?;
    for &id in objects {
        builder.insert_object(id, None)?;
    }
    let mut buf = git2::Buf::new();
    builder.write_buf(&mut buf)?;
    Ok(buf.to_vec())
}

#[derive(Default)]
struct Added {
    ids: Vec<Oid>,
    seen: HashSet<Oid>,
}

impl Added {
    fn push(&mut self, id: Oid) {
        if self.seen.insert(id) {
            self.ids.push(id);
        }
    }

    /// Adds `new` and what it holds that `old` (the tree at the same path in the parent)
    /// does not hold at the same name.
    fn tree(
        &mut self,
        repo: &Repository,
        new: &Tree<'_>,
        old: Option<&Tree<'_>>,
    ) -> Result<(), git2::Error> {
        if old.is_some_and(|old| old.id() == new.id()) {
            return Ok(());
        }
        self.push(new.id());
        for entry in new.iter() {
            let before = old.and_then(|old| old.get_name_bytes(entry.name_bytes()));
            if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
                continue;
            }
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let subtree = repo.find_tree(entry.id())?;
                    let old_subtree = match before {
                        Some(b) if b.kind() == Some(ObjectType::Tree) => {
                            Some(repo.find_tree(b.id())?)
                        }
                        _ => None,
                    };
                    self.tree(repo, &subtree, old_subtree.as_ref())?;
                }
                Some(ObjectType::Blob) => self.push(entry.id()),
                // A gitlink (submodule) names a commit of another repository: not ours to send.
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
