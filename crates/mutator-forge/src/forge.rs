//! The one trait every backend implements.

use std::fmt;

use async_trait::async_trait;
use mutator_core::{BranchName, ChangeSet, FileAction, RepoPath};

use crate::error::ForgeError;

/// A commit id as the forge names it (a hex SHA for git).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitId(pub String);

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Author and committer of the commits the service makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
}

/// A commit as reported back to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: CommitId,
    pub message: String,
    /// The first parent, if any.
    pub parent: Option<CommitId>,
    /// The parents after the first: set on a merge commit, whose other parents bring in the
    /// commits of the merged branch (a pull/merge request's review branch).
    pub merged: Vec<CommitId>,
    /// Where a person can look at the commit, when the forge has a web view.
    pub url: Option<String>,
    /// Whether the forge reports the commit's signature as verified (GitHub), when it says.
    pub verified: Option<bool>,
}

/// A pull or merge request that carries a change for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequest {
    pub number: u64,
    pub url: String,
    /// An open one for the same branch was found and reused.
    pub reused: bool,
}

/// Where a pull or merge request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// Still waiting for a decision: commits pushed to its branch join it.
    Open,
    /// Merged into its base (by a merge commit, a squash or a rebase).
    Merged,
    /// Closed without merging: its change was dropped.
    Closed,
}

/// A pull or merge request of a branch, in whatever state it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewStatus {
    pub number: u64,
    pub url: String,
    pub state: ReviewState,
    /// The head commit it shows: the branch head while it is open, the head it was merged or
    /// closed with afterwards (the forges stop following the branch then).
    pub head: Option<CommitId>,
}

/// The pull or merge request through which a commit reached its branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedReview {
    pub number: u64,
    /// Its web page.
    pub url: String,
}

/// One commit to make: all files of `changes`, on top of `parent`, moving `branch` only if
/// its head is still `parent` (`None`: the branch must not exist yet).
#[derive(Debug, Clone, Copy)]
pub struct CommitRequest<'a> {
    pub branch: &'a BranchName,
    pub parent: Option<&'a CommitId>,
    pub changes: &'a ChangeSet,
    pub message: &'a str,
    pub author: &'a Signature,
}

/// A place commits land. Implementations must make [`Forge::commit`] atomic (all files or none)
/// and compare-and-swap on the branch head; that is the only coordination between replicas.
#[async_trait]
pub trait Forge: Send + Sync {
    /// Whether [`Forge::commit`] lands only on exactly its `parent`, so that everything the
    /// caller read at the parent is confirmed by the commit. GitLab's Commits API builds on
    /// whatever the head is and locks only the files it changes, so there it is `false`.
    fn commits_on_exact_parent(&self) -> bool {
        true
    }

    /// Waits until the forge's write budget allows one more commit and sets it aside for the
    /// caller's next write, so that the wait comes before the caller reads the branch rather
    /// than between that read and its compare-and-swap write. No budget by default.
    async fn reserve_write(&self) {}

    /// The head of `branch`, or `None` when the branch does not exist.
    async fn head(&self, branch: &BranchName) -> Result<Option<CommitId>, ForgeError>;

    /// The bytes of `path` at exactly `at`, or `None` when the file does not exist there.
    async fn read_file(
        &self,
        at: &CommitId,
        path: &RepoPath,
    ) -> Result<Option<Vec<u8>>, ForgeError>;

    /// Makes one commit with every change and moves the branch to it by compare-and-swap.
    async fn commit(&self, request: CommitRequest<'_>) -> Result<CommitInfo, ForgeError>;

    /// The newest commit among the last `window` commits of `branch` whose message carries
    /// trailer `key` with `value`.
    async fn find_by_trailer(
        &self,
        branch: &BranchName,
        key: &str,
        value: &str,
        window: usize,
    ) -> Result<Option<CommitInfo>, ForgeError>;

    /// The files a commit changed against its first parent, with what happened to each.
    async fn changed_files(
        &self,
        commit: &CommitId,
    ) -> Result<Vec<(RepoPath, FileAction)>, ForgeError>;

    /// Every path that differs between `from` and its descendant `to`, when the forge can list
    /// them completely in one step; `Ok(None)` when it cannot say (too many files, `to` does not
    /// descend from `from`, or no such API), and the caller must assume anything changed.
    async fn changed_between(
        &self,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Option<Vec<RepoPath>>, ForgeError> {
        let _ = (from, to);
        Ok(None)
    }

    /// One commit, by id.
    async fn commit_info(&self, commit: &CommitId) -> Result<CommitInfo, ForgeError>;

    /// Up to `limit` commits along first parents from `from` (inclusive), newest first.
    async fn recent_commits(
        &self,
        from: &CommitId,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        let _ = (from, limit);
        Err(ForgeError::Rejected(
            "this repository kind cannot list history yet".to_owned(),
        ))
    }

    /// The commits merge commit `merge` brought in: reachable from its other parents but not
    /// from its first, newest first, at most `limit`; none for an ordinary commit. Like
    /// [`Forge::recent_commits`] this reads commit messages, never trees.
    async fn merged_commits(
        &self,
        merge: &CommitInfo,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        if merge.merged.is_empty() {
            return Ok(Vec::new());
        }
        let _ = limit;
        Err(ForgeError::Rejected(
            "this repository kind cannot list what a merge brought in".to_owned(),
        ))
    }

    /// The pull or merge request that `commit`, a commit of a branch's first-parent chain,
    /// landed, as the forge's default merge or squash message names it, with the review's web
    /// page as this forge builds it. Reads the message only (no request); `None` where the
    /// forge has no pull or merge requests (plain git).
    fn landed_review(&self, commit: &CommitInfo) -> Option<LandedReview> {
        let _ = commit;
        None
    }

    /// Creates `branch` at `at`; fails with [`ForgeError::Conflict`] when it already exists.
    async fn create_branch(&self, branch: &BranchName, at: &CommitId) -> Result<(), ForgeError>;

    /// Whether `commit` is contained in `base`: it is `base` or one of its ancestors, so a
    /// branch at `commit` holds nothing that `base` lacks.
    async fn contains(&self, base: &CommitId, commit: &CommitId) -> Result<bool, ForgeError> {
        // A forge that cannot compare knows only the obvious case. Answering "not contained"
        // otherwise is the safe side: the caller then leaves the branch's commits where they are.
        Ok(base == commit)
    }

    /// Moves `branch` forward from `from` to `to`, a commit that contains `from`, so that no
    /// commit leaves the branch (a fast-forward: never forced). Fails with
    /// [`ForgeError::Conflict`] when the branch is no longer where the move can be a
    /// fast-forward (someone committed on it, or deleted it, since it was read).
    async fn fast_forward(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        let _ = (branch, from, to);
        Err(ForgeError::Rejected(
            "this repository kind cannot move branches".to_owned(),
        ))
    }

    /// Points `branch` at `to` although its head `from` has commits that `to` lacks: those
    /// commits leave the branch. For a review branch whose review was closed or squashed,
    /// never for one that waits. Fails with [`ForgeError::Conflict`] when the branch is no
    /// longer at `from`; backends whose forge has no compare-and-swap for this check the head
    /// just before the move, and say so.
    async fn reset_branch(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        let _ = (branch, from, to);
        Err(ForgeError::Rejected(
            "this repository kind cannot move branches".to_owned(),
        ))
    }

    /// The newest pull/merge request from `head` into `base`, in any state; `None` when there
    /// is none, and always on forges without pull or merge requests (plain git).
    async fn latest_review(
        &self,
        head: &BranchName,
        base: &BranchName,
    ) -> Result<Option<ReviewStatus>, ForgeError> {
        let _ = (head, base);
        Ok(None)
    }

    /// Opens a pull/merge request from `head` into `base`, or returns the open one.
    async fn open_review(
        &self,
        head: &BranchName,
        base: &BranchName,
        title: &str,
        body: &str,
    ) -> Result<ReviewRequest, ForgeError> {
        let _ = (head, base, title, body);
        Err(ForgeError::Rejected(
            "this repository kind has no pull or merge requests".to_owned(),
        ))
    }
}
