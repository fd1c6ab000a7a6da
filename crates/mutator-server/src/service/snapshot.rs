//! The branch at one head, as the requests of one batch see it: files are read from the forge
//! once and cached, and each planned request's changes are laid over them, so the next request
//! in the batch plans on top of the previous one.

use std::collections::BTreeMap;

use mutator_core::{ChangeSet, FileOp, RepoPath};
use mutator_forge::{CommitId, Forge, ForgeError};

/// How often one read is tried when the forge fails transiently. Reads are safe to repeat, and
/// retrying one read is far cheaper than re-planning a whole batch.
const READ_ATTEMPTS: u32 = 3;

/// Runs the read `read` again (after 10, then 20 ms) while it fails transiently.
pub async fn retry_read<T, F, Fut>(what: &str, mut read: F) -> Result<T, ForgeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ForgeError>>,
{
    let mut attempt = 1;
    loop {
        match read().await {
            Err(ForgeError::Transient(reason)) if attempt < READ_ATTEMPTS => {
                tracing::debug!(what, attempt, %reason, "retrying a read");
                tokio::time::sleep(std::time::Duration::from_millis(10 * u64::from(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

pub struct Snapshot<'a> {
    forge: &'a dyn Forge,
    pub head: CommitId,
    /// Files as the head holds them (`None`: absent), for the paths read so far.
    base: BTreeMap<RepoPath, Option<Vec<u8>>>,
    /// Files as the planned requests left them.
    overlay: BTreeMap<RepoPath, Option<Vec<u8>>>,
}

impl<'a> Snapshot<'a> {
    pub fn new(forge: &'a dyn Forge, head: CommitId) -> Self {
        Self::with_known(forge, head, BTreeMap::new())
    }

    /// A snapshot that already knows these files' content at `head`.
    pub fn with_known(
        forge: &'a dyn Forge,
        head: CommitId,
        known: BTreeMap<RepoPath, Option<Vec<u8>>>,
    ) -> Self {
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
    pub fn into_files(self, applied: bool) -> BTreeMap<RepoPath, Option<Vec<u8>>> {
        let mut files = self.base;
        if applied {
            files.extend(self.overlay);
        }
        files
    }

    /// The file as the batch sees it now.
    pub async fn read(&mut self, path: &RepoPath) -> Result<Option<Vec<u8>>, ForgeError> {
        if let Some(current) = self.overlay.get(path) {
            return Ok(current.clone());
        }
        if let Some(current) = self.base.get(path) {
            return Ok(current.clone());
        }
        let current = retry_read(path.as_str(), || self.forge.read_file(&self.head, path)).await?;
        self.base.insert(path.clone(), current.clone());
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
            if self.base.get(path) == Some(content) {
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
