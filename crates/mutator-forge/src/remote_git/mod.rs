//! The remote git backend: any git server reached over `http(s)://`, `ssh://` or `file://`.
//!
//! A bare mirror in the service's data directory holds what was fetched. Each operation
//! fetches only the branch it concerns (`+refs/heads/<b>:refs/remotes/origin/<b>`, so only
//! new objects travel), builds the new tree in the object database from the parent's tree
//! plus the changed paths, and pushes without force. The push is the compare-and-swap: it
//! goes through only if the remote's head is still the one that was read (see [`push`]).
//! Nothing is cloned per request and no working tree is ever checked out, so the cost of a
//! change does not grow with the size of the repository.
//!
//! libgit2 must not fetch into one repository from two threads, so every operation on the
//! mirror holds its lock; the lock is waited for asynchronously and the git work runs on the
//! blocking pool.
//!
//! Timeouts: the caller gets an answer within [`RemoteGitSettings::timeout`] (waiting for the
//! lock included); a transfer still running at the deadline is cancelled from libgit2's
//! progress callbacks, except the very first fetch into an empty mirror, which may go on in
//! the background so a large repository can be mirrored at all. libgit2 itself has no read
//! timeout unless `git2::opts::set_server_timeout_in_milliseconds` is called, which is
//! `unsafe` and so not done here: a server that accepts and then never answers keeps the
//! mirror locked (later calls fail as transient) until the connection drops.
//!
//! This build's libgit2 has neither TLS nor libssh2 unless the crate's `https` / `ssh`
//! features are on; [`RemoteGit::open`] refuses URLs it could not reach.

mod auth;
mod known_hosts;
mod mirror;
mod push;
mod settings;
mod transport;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use git2::{Oid, Repository};
use mutator_core::{BranchName, FileAction, RepoPath};
use tokio::sync::Mutex;

pub use settings::{RemoteAuth, RemoteGitSettings};

use crate::error::ForgeError;
use crate::forge::{CommitId, CommitInfo, CommitRequest, Forge};
use crate::git_objects;
use settings::{RemoteUrl, Scheme, check_supported};

/// A remote git repository, written through a local bare mirror.
#[derive(Clone)]
pub struct RemoteGit {
    shared: Arc<Shared>,
    mirror: Arc<Mutex<Repository>>,
}

/// What the blocking work needs besides the repository.
pub(crate) struct Shared {
    url: RemoteUrl,
    mirror_dir: PathBuf,
    auth: RemoteAuth,
    timeout: Duration,
}

impl Shared {
    /// A failure of the mirror itself (disk, corrupt data), not of the remote.
    fn local(&self, e: git2::Error) -> ForgeError {
        ForgeError::Unavailable {
            repo: self.url.redacted.clone(),
            message: format!("mirror {}: {}", self.mirror_dir.display(), e.message()),
        }
    }
}

impl fmt::Debug for RemoteGit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteGit")
            .field("url", &self.shared.url.redacted)
            .field("mirror_dir", &self.shared.mirror_dir)
            .field("auth", &self.shared.auth)
            .field("timeout", &self.shared.timeout)
            .finish()
    }
}

impl RemoteGit {
    /// Checks the settings and opens the mirror, creating it when absent. Does not touch the
    /// network: an unreachable remote shows up on the first operation.
    pub fn open(settings: RemoteGitSettings) -> Result<RemoteGit, ForgeError> {
        let url = RemoteUrl::parse(&settings.url)?;
        check_supported(&url, &settings.auth)?;
        if settings.timeout.is_zero() {
            return Err(ForgeError::Rejected(format!(
                "the timeout for {} must be more than zero",
                url.redacted
            )));
        }
        if url.scheme == Scheme::Http
            && matches!(settings.auth, RemoteAuth::Basic { .. })
            && !is_loopback(&url.host)
        {
            tracing::warn!(
                url = %url.redacted,
                "the password for this remote travels unencrypted over http://; use https://"
            );
        }
        let shared = Shared {
            url,
            mirror_dir: settings.mirror_dir,
            auth: settings.auth,
            timeout: settings.timeout,
        };
        let repo =
            mirror::open_or_init(&shared.mirror_dir, &settings.url).map_err(|e| shared.local(e))?;
        Ok(RemoteGit {
            shared: Arc::new(shared),
            mirror: Arc::new(Mutex::new(repo)),
        })
    }

    /// Where the mirror lives.
    pub fn mirror_dir(&self) -> &Path {
        &self.shared.mirror_dir
    }

    /// The remote's URL without user information.
    pub fn url(&self) -> &str {
        &self.shared.url.redacted
    }

    /// Runs `work` on the blocking pool with the mirror locked, within the timeout.
    async fn run<T, F>(&self, work: F) -> Result<T, ForgeError>
    where
        T: Send + 'static,
        F: FnOnce(&Shared, &Repository, Instant) -> Result<T, ForgeError> + Send + 'static,
    {
        let timeout = self.shared.timeout;
        let deadline = Instant::now() + timeout;
        let timed_out = || {
            ForgeError::Transient(format!(
                "git operation on {} did not finish within {timeout:?}",
                self.shared.url.redacted
            ))
        };
        let repo = tokio::time::timeout(timeout, self.mirror.clone().lock_owned())
            .await
            .map_err(|_| timed_out())?;
        let shared = self.shared.clone();
        let task = tokio::task::spawn_blocking(move || work(&shared, &repo, deadline));
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, task).await {
            Err(_) => Err(timed_out()),
            Ok(Err(e)) => Err(ForgeError::Unavailable {
                repo: self.shared.url.redacted.clone(),
                message: format!("git task failed: {e}"),
            }),
            Ok(Ok(result)) => result,
        }
    }
}

impl RemoteGit {
    /// Pushes `to` onto `branch` if the remote's head is still `from`: the moves of
    /// [`Forge::fast_forward`] and [`Forge::reset_branch`].
    async fn move_branch(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
        mode: push::Mode,
    ) -> Result<(), ForgeError> {
        let (branch, from, to) = (branch.clone(), oid(from)?, oid(to)?);
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, from, deadline)?;
            mirror::ensure_commit(repo, shared, to, deadline)?;
            let forward = git_objects::contains(repo, to, from).map_err(|e| shared.local(e))?;
            if mode == push::Mode::FastForward && !forward {
                return Err(ForgeError::Rejected(format!(
                    "moving {branch} from {from} to {to} is not a fast-forward"
                )));
            }
            match push::push(
                repo,
                shared,
                branch.as_str(),
                to,
                Some(from),
                mode,
                deadline,
            )? {
                push::Outcome::Pushed => {
                    mirror::set_tracking(repo, branch.as_str(), to).map_err(|e| shared.local(e))
                }
                push::Outcome::Moved(now) => Err(conflict(&branch, Some(from), now)),
                push::Outcome::Refused(why) => Err(ForgeError::Rejected(why)),
            }
        })
        .await
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn oid(id: &CommitId) -> Result<Oid, ForgeError> {
    Oid::from_str(&id.0).map_err(|_| ForgeError::NotFound(format!("{:?} is not a commit id", id.0)))
}

fn show(id: Option<Oid>) -> String {
    id.map_or_else(|| "(no branch)".to_owned(), |id| id.to_string())
}

fn conflict(branch: &BranchName, expected: Option<Oid>, actual: Option<Option<Oid>>) -> ForgeError {
    ForgeError::Conflict {
        branch: branch.to_string(),
        expected: show(expected),
        actual: actual.map_or_else(|| "(moved; re-read it)".to_owned(), show),
    }
}

#[async_trait]
impl Forge for RemoteGit {
    async fn head(&self, branch: &BranchName) -> Result<Option<CommitId>, ForgeError> {
        let branch = branch.clone();
        self.run(move |shared, repo, deadline| {
            mirror::fetch_branch(repo, shared, &branch, deadline)?;
            let head = mirror::tracking_head(repo, branch.as_str()).map_err(|e| shared.local(e))?;
            Ok(head.map(|id| CommitId(id.to_string())))
        })
        .await
    }

    async fn read_file(
        &self,
        at: &CommitId,
        path: &RepoPath,
    ) -> Result<Option<Vec<u8>>, ForgeError> {
        let at = oid(at)?;
        let path = path.clone();
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, at, deadline)?;
            mirror::read_file(repo, at, &path).map_err(|e| match e {
                mirror::ReadError::Git(e) => shared.local(e),
                mirror::ReadError::NotAFile => {
                    ForgeError::Rejected(format!("{path} is a directory, not a file"))
                }
            })
        })
        .await
    }

    async fn commit(&self, request: CommitRequest<'_>) -> Result<CommitInfo, ForgeError> {
        let branch = request.branch.clone();
        let parent = request.parent.map(oid).transpose()?;
        let changes = request.changes.clone();
        let message = request.message.to_owned();
        let author = request.author.clone();
        self.run(move |shared, repo, deadline| {
            if let Some(p) = parent
                && !mirror::has_commit(repo, p)
            {
                // Read elsewhere (another replica): the remote may have it.
                mirror::fetch_branch(repo, shared, &branch, deadline)?;
                if !mirror::has_commit(repo, p) {
                    let now = mirror::tracking_head(repo, branch.as_str())
                        .map_err(|e| shared.local(e))?;
                    return Err(conflict(&branch, parent, Some(now)));
                }
            }
            let new = mirror::write_commit(repo, parent, &changes, &message, &author)
                .map_err(|e| shared.local(e))?;
            match push::push(
                repo,
                shared,
                branch.as_str(),
                new,
                parent,
                push::Mode::FastForward,
                deadline,
            )? {
                push::Outcome::Pushed => {
                    mirror::set_tracking(repo, branch.as_str(), new)
                        .map_err(|e| shared.local(e))?;
                    let commit = repo.find_commit(new).map_err(|e| shared.local(e))?;
                    Ok(mirror::info(&commit))
                }
                push::Outcome::Moved(now) => Err(conflict(&branch, parent, now)),
                push::Outcome::Refused(why) => Err(ForgeError::Rejected(why)),
            }
        })
        .await
    }

    async fn find_by_trailer(
        &self,
        branch: &BranchName,
        key: &str,
        value: &str,
        window: usize,
    ) -> Result<Option<CommitInfo>, ForgeError> {
        let branch = branch.clone();
        let key = key.to_owned();
        let value = value.to_owned();
        self.run(move |shared, repo, deadline| {
            mirror::fetch_branch(repo, shared, &branch, deadline)?;
            let Some(head) =
                mirror::tracking_head(repo, branch.as_str()).map_err(|e| shared.local(e))?
            else {
                return Ok(None);
            };
            mirror::find_by_trailer(repo, head, &key, &value, window).map_err(|e| shared.local(e))
        })
        .await
    }

    async fn changed_files(
        &self,
        commit: &CommitId,
    ) -> Result<Vec<(RepoPath, FileAction)>, ForgeError> {
        let id = oid(commit)?;
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, id, deadline)?;
            mirror::changed_files(repo, id).map_err(|e| shared.local(e))
        })
        .await
    }

    async fn contains(&self, base: &CommitId, commit: &CommitId) -> Result<bool, ForgeError> {
        let (base, commit) = (oid(base)?, oid(commit)?);
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, base, deadline)?;
            mirror::ensure_commit(repo, shared, commit, deadline)?;
            git_objects::contains(repo, base, commit).map_err(|e| shared.local(e))
        })
        .await
    }

    async fn fast_forward(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        self.move_branch(branch, from, to, push::Mode::FastForward)
            .await
    }

    async fn reset_branch(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        self.move_branch(branch, from, to, push::Mode::Forced).await
    }

    async fn recent_commits(
        &self,
        from: &CommitId,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        let id = oid(from)?;
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, id, deadline)?;
            git_objects::first_parents(repo, id, limit).map_err(|e| shared.local(e))
        })
        .await
    }

    async fn merged_commits(
        &self,
        merge: &CommitInfo,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        if merge.merged.is_empty() {
            return Ok(Vec::new());
        }
        let id = oid(&merge.id)?;
        self.run(move |shared, repo, deadline| {
            // A fetch of the branch brings every parent of its commits, merged ones included.
            mirror::ensure_commit(repo, shared, id, deadline)?;
            git_objects::merged_commits(repo, id, limit).map_err(|e| shared.local(e))
        })
        .await
    }

    async fn commit_info(&self, commit: &CommitId) -> Result<CommitInfo, ForgeError> {
        let id = oid(commit)?;
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, id, deadline)?;
            let commit = repo.find_commit(id).map_err(|e| shared.local(e))?;
            Ok(mirror::info(&commit))
        })
        .await
    }

    async fn create_branch(&self, branch: &BranchName, at: &CommitId) -> Result<(), ForgeError> {
        let at = oid(at)?;
        let branch = branch.clone();
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, at, deadline)?;
            match push::push(
                repo,
                shared,
                branch.as_str(),
                at,
                None,
                push::Mode::FastForward,
                deadline,
            )? {
                push::Outcome::Pushed => {
                    mirror::set_tracking(repo, branch.as_str(), at).map_err(|e| shared.local(e))
                }
                push::Outcome::Moved(now) => Err(conflict(&branch, None, now)),
                push::Outcome::Refused(why) => Err(ForgeError::Rejected(why)),
            }
        })
        .await
    }
}
