//! The branch at one head, as the requests of one batch see it: files are read from the forge
//! once and cached, and each planned request's changes are laid over them, so the next request
//! in the batch plans on top of the previous one.

use std::collections::BTreeMap;
use std::sync::Arc;

use mutator_core::{ChangeSet, FileOp, RepoPath};
use mutator_forge::{CommitId, Forge, ForgeError, retry_read};

/// File contents at one head (`None`: absent). Shared, so that a lane's remembered files seed
/// each batch's snapshot without copying their bytes.
pub type Files = BTreeMap<RepoPath, Option<Arc<[u8]>>>;

pub struct Snapshot<'a> {
    forge: &'a dyn Forge,
    pub head: CommitId,
    /// Files as the head holds them, for the paths read so far.
    base: Files,
    /// Files as the planned requests left them.
    overlay: BTreeMap<RepoPath, Option<Vec<u8>>>,
}

impl<'a> Snapshot<'a> {
    pub fn new(forge: &'a dyn Forge, head: CommitId) -> Self {
        Self::with_known(forge, head, Files::new())
    }

    /// A snapshot that already knows these files' content at `head`.
    pub fn with_known(forge: &'a dyn Forge, head: CommitId, known: Files) -> Self {
        Self {
            forge,
            head,
            base: known,
            overlay: BTreeMap::new(),
        }
    }

    /// Whether the batch's plans rest on `path`: read from the head or written by a plan.
    pub fn rests_on(&self, path: &RepoPath) -> bool {
        self.base.contains_key(path) || self.overlay.contains_key(path)
    }

    /// Every file the snapshot knows, as the planned requests left them: the content of the
    /// commit that carries [`Snapshot::changes`] on top of the head. With `applied` false,
    /// the files as the head holds them.
    pub fn into_files(self, applied: bool) -> Files {
        let mut files = self.base;
        if applied {
            files.extend(
                self.overlay
                    .into_iter()
                    .map(|(path, content)| (path, content.map(Arc::from))),
            );
        }
        files
    }

    /// The file as the batch sees it now.
    pub async fn read(&mut self, path: &RepoPath) -> Result<Option<Vec<u8>>, ForgeError> {
        if let Some(current) = self.overlay.get(path) {
            return Ok(current.clone());
        }
        if let Some(current) = self.base.get(path) {
            return Ok(current.as_deref().map(<[u8]>::to_vec));
        }
        let current = retry_read(path.as_str(), || self.forge.read_file(&self.head, path)).await?;
        self.base
            .insert(path.clone(), current.as_deref().map(Arc::from));
        Ok(current)
    }

    /// Lays a planned request's changes over the files.
    pub fn apply(&mut self, changes: &ChangeSet) {
        for file in changes.files() {
            let content = match &file.op {
                FileOp::Put(bytes) => Some(bytes.clone()),
                FileOp::Delete => None,
            };
            self.overlay.insert(file.path.clone(), content);
        }
    }

    /// Everything the batch changed against the head: what one commit must carry. A file that
    /// one request changed and a later one changed back is not in it.
    pub fn changes(&self) -> ChangeSet {
        let mut out = ChangeSet::new();
        for (path, content) in &self.overlay {
            if self.base.get(path).map(Option::as_deref) == Some(content.as_deref()) {
                continue;
            }
            match content {
                Some(bytes) => out.put(path.clone(), bytes.clone()),
                None => out.delete(path.clone()),
            }
        }
        out
    }
}
