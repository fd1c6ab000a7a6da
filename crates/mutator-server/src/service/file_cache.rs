//! What a lane remembers of its branch between batches: the files it read or wrote, as of one
//! head. A lane is the branch's main writer, so after its own commit it knows the new head's
//! content of every file it touched without asking; when someone else moved the branch, the
//! commits in between say which files to forget. Without this, every attempt re-reads every
//! file its batch touches, and on a slow forge the attempt outlives the head it read.

use std::collections::HashSet;

use mutator_core::RepoPath;
use mutator_forge::{CommitId, Forge, retry_read};

use super::snapshot::Files;

/// Files remembered at most; past that the cache starts again (a lane touches the few files of
/// its applications, so this is never reached in normal use).
const MAX_FILES: usize = 4096;
/// Bytes remembered at most, for the same reason.
const MAX_BYTES: usize = 32 << 20;
/// Commits by others that are walked to carry the cache forward; more, and it starts again.
const MAX_FOREIGN_COMMITS: usize = 16;
/// The backends list one page of a commit's files (GitLab's diff page holds 100, GitHub's
/// commit up to 300): a commit that may have more is treated as having changed everything.
const MAX_FILES_PER_COMMIT: usize = 90;

/// File contents (`None`: absent) at one head.
#[derive(Default)]
pub struct FileCache {
    head: Option<CommitId>,
    files: Files,
}

impl FileCache {
    /// Moves the cache to `head`, keeping every file no commit since the cached head touched.
    /// Any doubt (history rewritten, too many commits, a failed read) empties it: the cache
    /// only ever saves reads, it never decides what a file holds.
    pub async fn advance(&mut self, forge: &dyn Forge, head: &CommitId) {
        let Some(cached) = self.head.clone() else {
            self.reset(head);
            return;
        };
        if cached == *head || self.files.is_empty() {
            self.head = Some(head.clone());
            return;
        }
        match changed_since(forge, &cached, head).await {
            Some(paths) => {
                self.files.retain(|path, _| !paths.contains(path));
                self.head = Some(head.clone());
                tracing::debug!(%head, forgotten = paths.len(), "file cache carried forward");
            }
            None => self.reset(head),
        }
    }

    /// The head the cache is at (the lane's last commit, or the last head it read).
    pub fn head(&self) -> Option<&CommitId> {
        self.head.as_ref()
    }

    /// The remembered files, as the base of a snapshot at the cache's head.
    pub fn files(&self) -> Files {
        self.files.clone()
    }

    /// Remembers `files` as the content at `head` (a commit this lane just made, or the head
    /// a batch read without changing anything).
    pub fn remember(&mut self, head: &CommitId, files: Files) {
        let bytes: usize = files.values().flatten().map(|b| b.len()).sum();
        if files.len() > MAX_FILES || bytes > MAX_BYTES {
            self.reset(head);
            return;
        }
        self.head = Some(head.clone());
        self.files = files;
    }

    fn reset(&mut self, head: &CommitId) {
        self.head = Some(head.clone());
        self.files.clear();
    }
}

/// Every path changed after `from` up to `to`; `None` when `from` is not an ancestor that the
/// forge can compare (or, commit by commit, not among the last few first-parent commits of
/// `to`) or any step cannot be read completely.
async fn changed_since(
    forge: &dyn Forge,
    from: &CommitId,
    to: &CommitId,
) -> Option<HashSet<RepoPath>> {
    // One step where the forge can compare two commits (GitHub, git); else commit by commit.
    if let Ok(Some(paths)) = retry_read("changed paths", || forge.changed_between(from, to)).await {
        return Some(paths.into_iter().collect());
    }
    let commits = retry_read("recent commits", || {
        forge.recent_commits(to, MAX_FOREIGN_COMMITS + 1)
    })
    .await
    .ok()?;
    let mut paths = HashSet::new();
    for commit in commits {
        if commit.id == *from {
            return Some(paths);
        }
        let files = retry_read("changed files", || forge.changed_files(&commit.id))
            .await
            .ok()?;
        if files.len() >= MAX_FILES_PER_COMMIT {
            return None;
        }
        paths.extend(files.into_iter().map(|(path, _)| path));
    }
    None
}
