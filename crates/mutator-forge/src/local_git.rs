//! The embedded backend: a bare git repository on local disk, written with libgit2.
//!
//! No working tree is ever checked out. Trees are built in the object database from the
//! parent's tree plus the change set, and the branch moves with a reference update that
//! names the old head (libgit2's `reference_matching`), so two writers can never overwrite
//! each other's commit.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use git2::{ErrorCode, FileMode, ObjectType, Oid, Repository, Sort, build::TreeUpdateBuilder};
use mutator_core::message::has_trailer;
use mutator_core::{BranchName, FileAction, FileOp, RepoPath};

use crate::error::ForgeError;
use crate::forge::{CommitId, CommitInfo, CommitRequest, Forge, Signature};
use crate::git_objects::{self, changed_files, info};

mod moves;
use moves::{Move, move_branch};

/// A bare repository on local disk.
#[derive(Debug, Clone)]
pub struct LocalGit {
    path: PathBuf,
}

impl LocalGit {
    /// Uses the existing bare repository at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, ForgeError> {
        let path = path.into();
        let this = Self { path };
        this.repo()?;
        Ok(this)
    }

    /// Opens the bare repository at `path`, or creates it with one initial commit on `branch`
    /// (a README) when there is none. Returns whether it was created.
    pub fn open_or_init(
        path: impl Into<PathBuf>,
        branch: &BranchName,
        author: &Signature,
    ) -> Result<(Self, bool), ForgeError> {
        let path = path.into();
        if path.exists() {
            return Ok((Self::open(path)?, false));
        }
        let repo = Repository::init_bare(&path).map_err(|e| unavailable(&path, e))?;
        let refname = format!("refs/heads/{branch}");
        repo.set_head(&refname).map_err(|e| unavailable(&path, e))?;
        let blob = repo
            .blob(INITIAL_README.as_bytes())
            .map_err(|e| unavailable(&path, e))?;
        let mut tree = repo.treebuilder(None).map_err(|e| unavailable(&path, e))?;
        tree.insert("README.md", blob, FileMode::Blob.into())
            .map_err(|e| unavailable(&path, e))?;
        let tree_id = tree.write().map_err(|e| unavailable(&path, e))?;
        let tree = repo.find_tree(tree_id).map_err(|e| unavailable(&path, e))?;
        let sig = signature(author).map_err(|e| unavailable(&path, e))?;
        repo.commit(
            Some(&refname),
            &sig,
            &sig,
            "gitops: initialise repository [skip ci]\n",
            &tree,
            &[],
        )
        .map_err(|e| unavailable(&path, e))?;
        Ok((Self { path }, true))
    }

    /// Where the repository lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn repo(&self) -> Result<Repository, ForgeError> {
        Repository::open_bare(&self.path).map_err(|e| unavailable(&self.path, e))
    }

    /// Runs blocking libgit2 work off the async executor.
    async fn blocking<T, F>(&self, work: F) -> Result<T, ForgeError>
    where
        T: Send + 'static,
        F: FnOnce(&LocalGit, &Repository) -> Result<T, ForgeError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let repo = this.repo()?;
            work(&this, &repo)
        })
        .await
        .map_err(|e| ForgeError::Unavailable {
            repo: self.path.display().to_string(),
            message: format!("git task failed: {e}"),
        })?
    }

    fn err(&self, e: git2::Error) -> ForgeError {
        unavailable(&self.path, e)
    }
}

const INITIAL_README: &str = "# GitOps repository\n\nWritten by gitops-mutator. Each change is one commit whose trailers say who asked for it.\n";

fn unavailable(path: &Path, e: git2::Error) -> ForgeError {
    ForgeError::Unavailable {
        repo: path.display().to_string(),
        message: e.message().to_owned(),
    }
}

fn signature(author: &Signature) -> Result<git2::Signature<'static>, git2::Error> {
    git2::Signature::now(&author.name, &author.email)
}

fn oid(id: &CommitId) -> Result<Oid, ForgeError> {
    Oid::from_str(&id.0).map_err(|_| ForgeError::NotFound(format!("{:?} is not a commit id", id.0)))
}

fn branch_head(repo: &Repository, branch: &BranchName) -> Result<Option<Oid>, git2::Error> {
    match repo.refname_to_id(&format!("refs/heads/{branch}")) {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Forge for LocalGit {
    async fn head(&self, branch: &BranchName) -> Result<Option<CommitId>, ForgeError> {
        let branch = branch.clone();
        self.blocking(move |this, repo| {
            Ok(branch_head(repo, &branch)
                .map_err(|e| this.err(e))?
                .map(|id| CommitId(id.to_string())))
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
        self.blocking(move |this, repo| {
            let commit = repo.find_commit(at).map_err(|e| this.err(e))?;
            let tree = commit.tree().map_err(|e| this.err(e))?;
            let entry = match tree.get_path(Path::new(path.as_str())) {
                Ok(entry) => entry,
                Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
                Err(e) => return Err(this.err(e)),
            };
            if entry.kind() != Some(ObjectType::Blob) {
                return Err(ForgeError::Rejected(format!(
                    "{path} is a directory, not a file"
                )));
            }
            let blob = repo.find_blob(entry.id()).map_err(|e| this.err(e))?;
            Ok(Some(blob.content().to_vec()))
        })
        .await
    }

    async fn commit(&self, request: CommitRequest<'_>) -> Result<CommitInfo, ForgeError> {
        let branch = request.branch.clone();
        let parent = request.parent.map(oid).transpose()?;
        let changes = request.changes.clone();
        let message = request.message.to_owned();
        let author = request.author.clone();
        self.blocking(move |this, repo| {
            let refname = format!("refs/heads/{branch}");
            let actual = branch_head(repo, &branch).map_err(|e| this.err(e))?;
            if actual != parent {
                return Err(conflict(&branch, parent, actual));
            }
            let parent_commit = parent
                .map(|p| repo.find_commit(p))
                .transpose()
                .map_err(|e| this.err(e))?;
            let base_tree = match &parent_commit {
                Some(c) => c.tree().map_err(|e| this.err(e))?,
                None => {
                    let empty = repo
                        .treebuilder(None)
                        .and_then(|b| b.write())
                        .map_err(|e| this.err(e))?;
                    repo.find_tree(empty).map_err(|e| this.err(e))?
                }
            };
            let mut update = TreeUpdateBuilder::new();
            for file in changes.files() {
                match &file.op {
                    FileOp::Put(bytes) => {
                        let blob = repo.blob(bytes).map_err(|e| this.err(e))?;
                        update.upsert(file.path.as_str(), blob, FileMode::Blob);
                    }
                    FileOp::Delete => {
                        update.remove(file.path.as_str());
                    }
                }
            }
            let tree_id = update
                .create_updated(repo, &base_tree)
                .map_err(|e| this.err(e))?;
            let tree = repo.find_tree(tree_id).map_err(|e| this.err(e))?;
            let sig = signature(&author).map_err(|e| this.err(e))?;
            let parents: Vec<&git2::Commit<'_>> = parent_commit.iter().collect();
            // Written without a ref so that moving the branch is one separate, checked step.
            let new_id = repo
                .commit(None, &sig, &sig, &message, &tree, &parents)
                .map_err(|e| this.err(e))?;
            let log = format!(
                "gitops-mutator: {}",
                message.lines().next().unwrap_or_default()
            );
            let moved = match parent {
                Some(old) => repo.reference_matching(&refname, new_id, true, old, &log),
                None => repo.reference(&refname, new_id, false, &log),
            };
            if let Err(e) = moved {
                // Lost the race between our read and the update: someone else moved the branch.
                if matches!(
                    e.code(),
                    ErrorCode::Modified | ErrorCode::Exists | ErrorCode::Locked
                ) {
                    let now = branch_head(repo, &branch).map_err(|e| this.err(e))?;
                    return Err(conflict(&branch, parent, now));
                }
                return Err(this.err(e));
            }
            let commit = repo.find_commit(new_id).map_err(|e| this.err(e))?;
            Ok(info(&commit))
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
        self.blocking(move |this, repo| {
            let Some(head) = branch_head(repo, &branch).map_err(|e| this.err(e))? else {
                return Ok(None);
            };
            let mut walk = repo.revwalk().map_err(|e| this.err(e))?;
            walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
                .map_err(|e| this.err(e))?;
            walk.simplify_first_parent().map_err(|e| this.err(e))?;
            walk.push(head).map_err(|e| this.err(e))?;
            for id in walk.take(window) {
                let commit = repo
                    .find_commit(id.map_err(|e| this.err(e))?)
                    .map_err(|e| this.err(e))?;
                let message = String::from_utf8_lossy(commit.message_bytes());
                if has_trailer(&message, &key, &value) {
                    return Ok(Some(info(&commit)));
                }
            }
            Ok(None)
        })
        .await
    }

    async fn changed_files(
        &self,
        commit: &CommitId,
    ) -> Result<Vec<(RepoPath, FileAction)>, ForgeError> {
        let id = oid(commit)?;
        self.blocking(move |this, repo| changed_files(repo, id).map_err(|e| this.err(e)))
            .await
    }

    async fn changed_between(
        &self,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Option<Vec<RepoPath>>, ForgeError> {
        let (from, to) = (oid(from)?, oid(to)?);
        self.blocking(move |this, repo| {
            git_objects::changed_between(repo, from, to).map_err(|e| this.err(e))
        })
        .await
    }

    async fn create_branch(&self, branch: &BranchName, at: &CommitId) -> Result<(), ForgeError> {
        let at = oid(at)?;
        let branch = branch.clone();
        self.blocking(move |this, repo| {
            repo.find_commit(at).map_err(|e| this.err(e))?;
            let refname = format!("refs/heads/{branch}");
            match repo.reference(&refname, at, false, "gitops-mutator: create branch") {
                Ok(_) => Ok(()),
                Err(e) if e.code() == ErrorCode::Exists => {
                    let now = branch_head(repo, &branch).map_err(|e| this.err(e))?;
                    Err(conflict(&branch, None, now))
                }
                Err(e) => Err(this.err(e)),
            }
        })
        .await
    }

    async fn contains(&self, base: &CommitId, commit: &CommitId) -> Result<bool, ForgeError> {
        let (base, commit) = (oid(base)?, oid(commit)?);
        self.blocking(move |this, repo| {
            git_objects::contains(repo, base, commit).map_err(|e| this.err(e))
        })
        .await
    }

    async fn fast_forward(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        let (branch, from, to) = (branch.clone(), oid(from)?, oid(to)?);
        self.blocking(move |this, repo| {
            move_branch(this, repo, &branch, from, to, Move::FastForward)
        })
        .await
    }

    async fn reset_branch(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        let (branch, from, to) = (branch.clone(), oid(from)?, oid(to)?);
        self.blocking(move |this, repo| move_branch(this, repo, &branch, from, to, Move::Reset))
            .await
    }

    async fn recent_commits(
        &self,
        from: &CommitId,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        let from = oid(from)?;
        self.blocking(move |this, repo| {
            git_objects::first_parents(repo, from, limit).map_err(|e| this.err(e))
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
        self.blocking(move |this, repo| {
            git_objects::merged_commits(repo, id, limit).map_err(|e| this.err(e))
        })
        .await
    }

    async fn commit_info(&self, commit: &CommitId) -> Result<CommitInfo, ForgeError> {
        let id = oid(commit)?;
        self.blocking(move |this, repo| {
            let commit = repo.find_commit(id).map_err(|e| this.err(e))?;
            Ok(info(&commit))
        })
        .await
    }
}

fn conflict(branch: &BranchName, expected: Option<Oid>, actual: Option<Oid>) -> ForgeError {
    let show = |o: Option<Oid>| o.map_or_else(|| "(no branch)".to_owned(), |o| o.to_string());
    ForgeError::Conflict {
        branch: branch.to_string(),
        expected: show(expected),
        actual: show(actual),
    }
}

#[cfg(test)]
mod tests;
