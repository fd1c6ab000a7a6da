//! The remote git backend: any git server reached over `http(s)://`, `ssh://` or `file://`.
//!
//! A bare mirror in the service's data directory holds what was fetched. Each operation
//! fetches only the branch it concerns (`+refs/heads/<b>:refs/remotes/origin/<b>`, so only
//! new objects travel), builds the new tree in the object database from the parent's tree
//! plus the changed paths, and pushes without force. The push is the compare-and-swap: it
//! goes through only if the remote's head is still the one that was read. Nothing is cloned
//! per request and no working tree is ever checked out, so the cost of a change does not
//! grow with the size of the repository.
//!
//! Commits to `http(s)://` remotes are pushed by [`smart_http`], which sends exactly the
//! objects the commit adds ([`pack`]) in two HTTP requests; libgit2's push (see [`push`])
//! walks the whole parent tree first. `ssh://` and `file://` remotes, and new branches
//! (whose commit the remote may or may not have), go through libgit2's push.
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
mod pack;
mod push;
mod settings;
mod smart_http;
mod transport;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use git2::{Oid, Repository};
use mutator_core::{BranchName, ChangeSet, FileAction, RepoPath};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use settings::{RemoteAuth, RemoteGitSettings};

use crate::error::ForgeError;
use crate::forge::{CommitId, CommitInfo, CommitRequest, Forge, Signature};
use crate::git_objects;
use settings::{RemoteUrl, Scheme, check_supported};

/// The mirror, locked for one operation.
type Locked = OwnedMutexGuard<Repository>;

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
    /// How commits are pushed to an `http(s)://` remote; `None` for other schemes.
    http: Option<smart_http::Remote>,
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
        let http = match url.scheme {
            Scheme::Http | Scheme::Https => Some(smart_http::Remote::new(&url, settings.timeout)?),
            Scheme::File | Scheme::Ssh => None,
        };
        let shared = Shared {
            url,
            mirror_dir: settings.mirror_dir,
            auth: settings.auth,
            timeout: settings.timeout,
            http,
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
        let (repo, deadline) = self.lock().await?;
        let (_repo, out) = self.on_mirror(repo, deadline, work).await?;
        Ok(out)
    }

    /// Locks the mirror for one operation; the operation's deadline starts now.
    async fn lock(&self) -> Result<(Locked, Instant), ForgeError> {
        let deadline = Instant::now() + self.shared.timeout;
        let repo = tokio::time::timeout(self.shared.timeout, self.mirror.clone().lock_owned())
            .await
            .map_err(|_| self.timed_out())?;
        Ok((repo, deadline))
    }

    /// Runs `work` on the blocking pool with the locked mirror and hands the lock back, so an
    /// operation can go on with asynchronous work (a push) and return to the mirror after.
    async fn on_mirror<T, F>(
        &self,
        repo: Locked,
        deadline: Instant,
        work: F,
    ) -> Result<(Locked, T), ForgeError>
    where
        T: Send + 'static,
        F: FnOnce(&Shared, &Repository, Instant) -> Result<T, ForgeError> + Send + 'static,
    {
        let shared = self.shared.clone();
        let task = tokio::task::spawn_blocking(move || {
            let out = work(&shared, &repo, deadline);
            out.map(|out| (repo, out))
        });
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, task).await {
            Err(_) => Err(self.timed_out()),
            Ok(Err(e)) => Err(ForgeError::Unavailable {
                repo: self.shared.url.redacted.clone(),
                message: format!("git task failed: {e}"),
            }),
            Ok(Ok(result)) => result,
        }
    }

    fn timed_out(&self) -> ForgeError {
        ForgeError::Transient(format!(
            "git operation on {} did not finish within {:?}",
            self.shared.url.redacted, self.shared.timeout
        ))
    }

    /// A commit to an `http(s)://` remote: written into the mirror, pushed by [`smart_http`]
    /// with exactly its new objects, recorded as the remote's head once accepted.
    async fn commit_over_http(
        &self,
        remote: &smart_http::Remote,
        commit: NewCommit,
    ) -> Result<CommitInfo, ForgeError> {
        let branch = commit.branch.clone();
        let parent = commit.parent;
        let (repo, deadline) = self.lock().await?;
        // Ref discovery is a round trip the commit does not depend on: overlap the two.
        let prepare = self.on_mirror(repo, deadline, move |shared, repo, deadline| {
            let new = commit.write(shared, repo, deadline)?;
            let objects = pack::added_objects(repo, new).map_err(|e| shared.local(e))?;
            let pack = pack::build(repo, &objects).map_err(|e| shared.local(e))?;
            Ok((new, pack))
        });
        let discover = remote.discover(&self.shared, deadline);
        let (prepared, found) = tokio::join!(prepare, discover);
        let (repo, (new, pack)) = prepared?;
        let update = smart_http::Update {
            branch: branch.as_str(),
            expected: parent,
            new,
            pack: &pack,
        };
        let outcome = smart_http::push(&self.shared, remote, found?, update, deadline).await?;
        match outcome {
            push::Outcome::Pushed => {
                // The change has landed: recording it gets its own time rather than what is
                // left of the push's, so a slow push is not reported as a failed one.
                let record = Instant::now() + self.shared.timeout;
                let (_repo, info) = self
                    .on_mirror(repo, record, move |shared, repo, _| {
                        mirror::set_tracking(repo, branch.as_str(), new)
                            .map_err(|e| shared.local(e))?;
                        let commit = repo.find_commit(new).map_err(|e| shared.local(e))?;
                        Ok(mirror::info(&commit))
                    })
                    .await?;
                Ok(info)
            }
            push::Outcome::Moved(now) => Err(conflict(&branch, parent, now)),
            push::Outcome::Refused(why) => Err(ForgeError::Rejected(why)),
        }
    }
}

/// What [`Forge::commit`] writes, owned so it can move to the blocking pool.
struct NewCommit {
    branch: BranchName,
    parent: Option<Oid>,
    changes: ChangeSet,
    message: String,
    author: Signature,
}

impl NewCommit {
    /// Writes the commit into the mirror. A parent the mirror lacks was read elsewhere
    /// (another replica), so the branch is fetched once; if the parent is still unknown the
    /// branch has moved past it.
    fn write(
        &self,
        shared: &Shared,
        repo: &Repository,
        deadline: Instant,
    ) -> Result<Oid, ForgeError> {
        if let Some(p) = self.parent
            && !mirror::has_commit(repo, p)
        {
            mirror::fetch_branch(repo, shared, &self.branch, deadline)?;
            if !mirror::has_commit(repo, p) {
                let now = mirror::tracking_head(repo, self.branch.as_str())
                    .map_err(|e| shared.local(e))?;
                return Err(conflict(&self.branch, self.parent, Some(now)));
            }
        }
        mirror::write_commit(
            repo,
            self.parent,
            &self.changes,
            &self.message,
            &self.author,
        )
        .map_err(|e| shared.local(e))
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
        let commit = NewCommit {
            branch: request.branch.clone(),
            parent: request.parent.map(oid).transpose()?,
            changes: request.changes.clone(),
            message: request.message.to_owned(),
            author: request.author.clone(),
        };
        if let Some(remote) = &self.shared.http {
            return self.commit_over_http(remote, commit).await;
        }
        self.run(move |shared, repo, deadline| {
            let new = commit.write(shared, repo, deadline)?;
            let (branch, parent) = (&commit.branch, commit.parent);
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
                push::Outcome::Moved(now) => Err(conflict(branch, parent, now)),
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

    async fn changed_between(
        &self,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Option<Vec<RepoPath>>, ForgeError> {
        let (from, to) = (oid(from)?, oid(to)?);
        self.run(move |shared, repo, deadline| {
            mirror::ensure_commit(repo, shared, to, deadline)?;
            // An unknown `from` (a mirror that started after it) cannot be compared.
            if repo.find_commit(from).is_err() {
                return Ok(None);
            }
            crate::git_objects::changed_between(repo, from, to).map_err(|e| shared.local(e))
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
