//! Applying commit actions, one after the other, to a flat view of a commit's tree
//! (`path → (mode, object id)`), then writing the resulting trees.
//!
//! Actions see the effects of the ones before them, as Gitaly's `UserCommitFiles` does. The
//! failure texts are Gitaly's index errors (forge-facts §G.2).

use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use super::commit_request::{Action, ActionKind};
use super::error::GlError;

const MODE_FILE: i32 = 0o100644;
const MODE_EXECUTABLE: i32 = 0o100755;
const MODE_TREE: i32 = 0o040000;

pub(crate) const FILE_EXISTS: &str = "A file with this name already exists";
pub(crate) const FILE_MISSING: &str = "A file with this name doesn't exist";
pub(crate) const DIRECTORY_EXISTS: &str = "A directory with this name already exists";

/// Every non-directory entry of a tree, by full path.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlatTree {
    entries: BTreeMap<String, (i32, Oid)>,
}

/// Checks one path the way Gitaly does before touching the index.
fn check_path(path: &str) -> Result<(), GlError> {
    if path.is_empty() {
        return Err(GlError::bad_request("You must provide a file path"));
    }
    if path.split('/').any(|c| c == "..") {
        return Err(GlError::bad_request(
            "Path cannot include directory traversal",
        ));
    }
    if path.starts_with('/')
        || path.ends_with('/')
        || path.contains("//")
        || path.contains('\0')
        || path.split('/').any(|c| c == "." || c == ".git")
    {
        return Err(GlError::bad_request(format!("invalid path: '{path}'")));
    }
    Ok(())
}

impl FlatTree {
    pub(crate) fn load(tree: &Tree<'_>) -> Result<Self, git2::Error> {
        let mut entries = BTreeMap::new();
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() != Some(ObjectType::Tree) {
                let name = String::from_utf8_lossy(entry.name_bytes());
                entries.insert(format!("{root}{name}"), (entry.filemode(), entry.id()));
            }
            TreeWalkResult::Ok
        })?;
        Ok(FlatTree { entries })
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.entries
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// True when a leading part of `path` is a file (so `path` cannot be created).
    fn under_file(&self, path: &str) -> bool {
        path.match_indices('/')
            .any(|(i, _)| path.get(..i).is_some_and(|p| self.entries.contains_key(p)))
    }

    fn check_free(&self, path: &str) -> Result<(), GlError> {
        if self.entries.contains_key(path) || self.under_file(path) {
            return Err(GlError::bad_request(FILE_EXISTS));
        }
        if self.is_dir(path) {
            return Err(GlError::bad_request(DIRECTORY_EXISTS));
        }
        Ok(())
    }

    fn existing(&self, path: &str) -> Result<(i32, Oid), GlError> {
        self.entries
            .get(path)
            .copied()
            .ok_or_else(|| GlError::bad_request(FILE_MISSING))
    }

    fn blob(repo: &Repository, content: Option<&Vec<u8>>) -> Result<Option<Oid>, git2::Error> {
        content.map(|c| repo.blob(c)).transpose()
    }

    /// Applies one action; a refusal is the 400 GitLab answers for the whole commit.
    pub(crate) fn apply(&mut self, repo: &Repository, action: &Action) -> Result<(), GlError> {
        let path = action.file_path.as_str();
        check_path(path)?;
        match action.kind {
            ActionKind::Create => {
                self.check_free(path)?;
                let blob = Self::blob(repo, action.content.as_ref())?
                    .ok_or_else(|| GlError::internal("create without content"))?;
                self.entries.insert(path.to_owned(), (MODE_FILE, blob));
            }
            ActionKind::Update => {
                let (mode, _) = self.existing(path)?;
                let blob = Self::blob(repo, action.content.as_ref())?
                    .ok_or_else(|| GlError::internal("update without content"))?;
                self.entries.insert(path.to_owned(), (mode, blob));
            }
            ActionKind::Delete => {
                self.existing(path)?;
                self.entries.remove(path);
            }
            ActionKind::Move => {
                let previous = action.previous_path.as_deref().unwrap_or(path);
                check_path(previous)?;
                let (mode, old_blob) = self.existing(previous)?;
                if previous != path {
                    self.entries.remove(previous);
                    if let Err(e) = self.check_free(path) {
                        self.entries.insert(previous.to_owned(), (mode, old_blob));
                        return Err(e);
                    }
                }
                let blob = Self::blob(repo, action.content.as_ref())?.unwrap_or(old_blob);
                self.entries.insert(path.to_owned(), (mode, blob));
            }
            ActionKind::Chmod => {
                let (_, blob) = self.existing(path)?;
                let mode = if action.execute_filemode == Some(true) {
                    MODE_EXECUTABLE
                } else {
                    MODE_FILE
                };
                self.entries.insert(path.to_owned(), (mode, blob));
            }
        }
        Ok(())
    }

    /// Writes the trees and returns the root tree id.
    pub(crate) fn write(&self, repo: &Repository) -> Result<Oid, git2::Error> {
        let list: Vec<(&str, i32, Oid)> = self
            .entries
            .iter()
            .map(|(p, (m, o))| (p.as_str(), *m, *o))
            .collect();
        write_dir(repo, &list)
    }
}

fn write_dir(repo: &Repository, entries: &[(&str, i32, Oid)]) -> Result<Oid, git2::Error> {
    let mut builder = repo.treebuilder(None)?;
    let mut subdirs: BTreeMap<&str, Vec<(&str, i32, Oid)>> = BTreeMap::new();
    for (path, mode, oid) in entries {
        match path.split_once('/') {
            None => {
                builder.insert(path, *oid, *mode)?;
            }
            Some((dir, rest)) => subdirs.entry(dir).or_default().push((rest, *mode, *oid)),
        }
    }
    for (dir, sub) in subdirs {
        let oid = write_dir(repo, &sub)?;
        builder.insert(dir, oid, MODE_TREE)?;
    }
    builder.write()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git_store;

    fn action(kind: ActionKind, path: &str, content: Option<&str>) -> Action {
        Action {
            kind,
            file_path: path.to_owned(),
            previous_path: None,
            content: content.map(|c| c.as_bytes().to_vec()),
            last_commit_id: None,
            execute_filemode: None,
        }
    }

    fn err(r: Result<(), GlError>) -> String {
        r.unwrap_err().body["message"].as_str().unwrap().to_owned()
    }

    #[test]
    fn applies_actions_in_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.git");
        git_store::init_bare(&path, "r", "main", false).unwrap();
        let repo = git_store::open(&path).unwrap();
        let head = git_store::branch_head(&repo, "main").unwrap().unwrap();
        let mut t = FlatTree::load(&repo.find_commit(head).unwrap().tree().unwrap()).unwrap();

        t.apply(&repo, &action(ActionKind::Create, "a/b.yaml", Some("1")))
            .unwrap();
        t.apply(&repo, &action(ActionKind::Update, "a/b.yaml", Some("2")))
            .unwrap();
        assert_eq!(
            err(t.apply(&repo, &action(ActionKind::Create, "a/b.yaml", Some("x")))),
            FILE_EXISTS
        );
        assert_eq!(
            err(t.apply(&repo, &action(ActionKind::Create, "a", Some("x")))),
            DIRECTORY_EXISTS
        );
        assert_eq!(
            err(t.apply(&repo, &action(ActionKind::Create, "README.md/x", Some("x")))),
            FILE_EXISTS
        );
        assert_eq!(
            err(t.apply(&repo, &action(ActionKind::Delete, "nope", None))),
            FILE_MISSING
        );
        assert_eq!(
            err(t.apply(&repo, &action(ActionKind::Create, "a/../x", Some("x")))),
            "Path cannot include directory traversal"
        );
        let mut mv = action(ActionKind::Move, "c/moved.yaml", None);
        mv.previous_path = Some("a/b.yaml".to_owned());
        t.apply(&repo, &mv).unwrap();
        let mut chmod = action(ActionKind::Chmod, "c/moved.yaml", None);
        chmod.execute_filemode = Some(true);
        t.apply(&repo, &chmod).unwrap();

        let tree = repo.find_tree(t.write(&repo).unwrap()).unwrap();
        assert!(tree.get_path(std::path::Path::new("a")).is_err());
        let moved = tree.get_path(std::path::Path::new("c/moved.yaml")).unwrap();
        assert_eq!(moved.filemode(), MODE_EXECUTABLE);
        let blob = repo.find_blob(moved.id()).unwrap();
        assert_eq!(blob.content(), b"2");
        assert!(tree.get_path(std::path::Path::new("README.md")).is_ok());
    }
}
