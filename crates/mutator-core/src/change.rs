//! What one request writes: a set of whole-file changes that land in one commit or not at all.

use serde::Serialize;

use crate::path::RepoPath;

/// The new state of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    /// Create or replace the file with these bytes.
    Put(Vec<u8>),
    /// Remove the file.
    Delete,
}

/// One file of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: RepoPath,
    pub op: FileOp,
}

/// All files of one request. Paths are unique: a later change to the same path replaces the
/// earlier one, so a change set can never hold two opinions about one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    files: Vec<FileChange>,
}

impl ChangeSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates or replaces `path` with `content`.
    pub fn put(&mut self, path: RepoPath, content: impl Into<Vec<u8>>) {
        self.upsert(FileChange {
            path,
            op: FileOp::Put(content.into()),
        });
    }

    /// Deletes `path`.
    pub fn delete(&mut self, path: RepoPath) {
        self.upsert(FileChange {
            path,
            op: FileOp::Delete,
        });
    }

    fn upsert(&mut self, change: FileChange) {
        match self.files.iter_mut().find(|f| f.path == change.path) {
            Some(existing) => *existing = change,
            None => self.files.push(change),
        }
    }

    pub fn files(&self) -> &[FileChange] {
        &self.files
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// What a commit did to one file, as reported to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    Create,
    Update,
    Delete,
    Unchanged,
}

impl FileAction {
    /// Classifies a change against the file's current content (`None` when absent).
    pub fn classify(current: Option<&[u8]>, op: &FileOp) -> FileAction {
        match (current, op) {
            (None, FileOp::Put(_)) => FileAction::Create,
            (Some(old), FileOp::Put(new)) if old == new.as_slice() => FileAction::Unchanged,
            (Some(_), FileOp::Put(_)) => FileAction::Update,
            (Some(_), FileOp::Delete) => FileAction::Delete,
            (None, FileOp::Delete) => FileAction::Unchanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_change_to_same_path_wins() {
        let p = RepoPath::parse("a.yaml").unwrap();
        let mut cs = ChangeSet::new();
        cs.put(p.clone(), "1");
        cs.put(p.clone(), "2");
        assert_eq!(cs.files().len(), 1);
        assert_eq!(cs.files()[0].op, FileOp::Put(b"2".to_vec()));
        cs.delete(p);
        assert_eq!(cs.files()[0].op, FileOp::Delete);
    }

    #[test]
    fn classify() {
        let put = FileOp::Put(b"x".to_vec());
        assert_eq!(FileAction::classify(None, &put), FileAction::Create);
        assert_eq!(
            FileAction::classify(Some(b"x"), &put),
            FileAction::Unchanged
        );
        assert_eq!(FileAction::classify(Some(b"y"), &put), FileAction::Update);
        assert_eq!(
            FileAction::classify(Some(b"y"), &FileOp::Delete),
            FileAction::Delete
        );
        assert_eq!(
            FileAction::classify(None, &FileOp::Delete),
            FileAction::Unchanged
        );
    }
}
