//! The bare mirror: created once, fetched into incrementally, read like any local repository.
//!
//! Remote branches land in `refs/remotes/origin/<branch>`; the mirror never has a working
//! tree and never keeps branches of its own.

use std::path::Path;
use std::time::{Duration, Instant};

use git2::{
    AutotagOption, ErrorCode, FetchOptions, FetchPrune, FileMode, ObjectType, Oid, Repository,
    Sort, build::TreeUpdateBuilder,
};
use mutator_core::message::has_trailer;

pub(crate) use crate::git_objects::{changed_files, info};
use mutator_core::{BranchName, ChangeSet, FileOp, RepoPath};

use super::Shared;
use super::transport::{OpState, callbacks, classify};
use crate::error::ForgeError;
use crate::forge::{CommitInfo, Signature};

pub(crate) const REMOTE: &str = "origin";

/// How long the very first fetch into an empty mirror may run. It outlives the caller's
/// timeout on purpose: the caller gets a transient error and retries, while the initial
/// transfer of a large repository goes on holding the mirror's lock, instead of being
/// cancelled and restarted from nothing on every retry.
const INITIAL_FETCH: Duration = Duration::from_secs(30 * 60);

/// Opens the mirror at `dir`, or creates it (a bare repository with remote `origin`).
/// Points `origin` at `url` when it was configured differently before. No network.
pub(crate) fn open_or_init(dir: &Path, url: &str) -> Result<Repository, git2::Error> {
    let has_content = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    let repo = if has_content {
        Repository::open_bare(dir)?
    } else {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                git2::Error::from_str(&format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        Repository::init_bare(dir)?
    };
    match repo.find_remote(REMOTE) {
        Ok(remote) if remote.url() == Ok(url) => {}
        Ok(_) => repo.remote_set_url(REMOTE, url)?,
        Err(e) if e.code() == ErrorCode::NotFound => {
            repo.remote(REMOTE, url)?;
        }
        Err(e) => return Err(e),
    }
    Ok(repo)
}

pub(crate) fn tracking_ref(branch: &str) -> String {
    format!("refs/remotes/{REMOTE}/{branch}")
}

fn refspec(branch: &str) -> String {
    format!("+refs/heads/{branch}:{}", tracking_ref(branch))
}

/// Fetches `branch` (only it) into its remote-tracking ref; removes that ref when the remote
/// no longer has the branch. Only objects the mirror lacks are transferred.
pub(crate) fn fetch_branch(
    repo: &Repository,
    shared: &Shared,
    branch: &BranchName,
    deadline: Instant,
) -> Result<(), ForgeError> {
    fetch(repo, shared, &[refspec(branch.as_str())], deadline)
}

/// Fetches every branch the mirror already tracks (all branches when it tracks none yet):
/// used when a caller names a commit the mirror has not seen.
pub(crate) fn fetch_tracked(
    repo: &Repository,
    shared: &Shared,
    deadline: Instant,
) -> Result<(), ForgeError> {
    let prefix = tracking_ref("");
    let mut specs = Vec::new();
    let refs = repo
        .references_glob(&format!("{prefix}*"))
        .map_err(|e| shared.local(e))?;
    for reference in refs {
        let reference = reference.map_err(|e| shared.local(e))?;
        if let Some(branch) = reference.name().ok().and_then(|n| n.strip_prefix(&prefix)) {
            specs.push(refspec(branch));
        }
    }
    if specs.is_empty() {
        specs.push(format!("+refs/heads/*:{prefix}*"));
    }
    fetch(repo, shared, &specs, deadline)
}

fn fetch(
    repo: &Repository,
    shared: &Shared,
    specs: &[String],
    deadline: Instant,
) -> Result<(), ForgeError> {
    let empty = repo
        .references_glob(&format!("{}*", tracking_ref("")))
        .map(|mut refs| refs.next().is_none())
        .unwrap_or(false);
    let deadline = if empty {
        deadline.max(Instant::now() + INITIAL_FETCH)
    } else {
        deadline
    };
    let state = OpState::default();
    let mut remote = repo.find_remote(REMOTE).map_err(|e| shared.local(e))?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks(shared, &state, deadline))
        .prune(FetchPrune::On)
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    remote
        .fetch(specs, Some(&mut options), Some("gitops-mutator: fetch"))
        .map_err(|e| classify(&e, &state, shared))
}

/// The remote-tracking head of `branch` as of the last fetch or push.
pub(crate) fn tracking_head(repo: &Repository, branch: &str) -> Result<Option<Oid>, git2::Error> {
    match repo.refname_to_id(&tracking_ref(branch)) {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Records what the remote now has after a successful push.
pub(crate) fn set_tracking(repo: &Repository, branch: &str, id: Oid) -> Result<(), git2::Error> {
    repo.reference(&tracking_ref(branch), id, true, "gitops-mutator: push")
        .map(drop)
}

/// Makes sure `id` is in the mirror, fetching the tracked branches once if it is not.
pub(crate) fn ensure_commit(
    repo: &Repository,
    shared: &Shared,
    id: Oid,
    deadline: Instant,
) -> Result<(), ForgeError> {
    if has_commit(repo, id) {
        return Ok(());
    }
    fetch_tracked(repo, shared, deadline)?;
    if has_commit(repo, id) {
        Ok(())
    } else {
        Err(ForgeError::NotFound(format!(
            "commit {id} is not on any branch of {}",
            shared.url.redacted
        )))
    }
}

pub(crate) fn has_commit(repo: &Repository, id: Oid) -> bool {
    repo.find_commit(id).is_ok()
}

/// Writes a commit holding `changes` on top of `parent` into the object database, touching
/// only the trees on the changed paths. No reference moves.
pub(crate) fn write_commit(
    repo: &Repository,
    parent: Option<Oid>,
    changes: &ChangeSet,
    message: &str,
    author: &Signature,
) -> Result<Oid, git2::Error> {
    let parent = parent.map(|p| repo.find_commit(p)).transpose()?;
    let base = match &parent {
        Some(commit) => commit.tree()?,
        None => {
            let empty = repo.treebuilder(None)?.write()?;
            repo.find_tree(empty)?
        }
    };
    let mut update = TreeUpdateBuilder::new();
    for file in changes.files() {
        match &file.op {
            FileOp::Put(bytes) => {
                let blob = repo.blob(bytes)?;
                update.upsert(file.path.as_str(), blob, FileMode::Blob);
            }
            FileOp::Delete => {
                update.remove(file.path.as_str());
            }
        }
    }
    let tree = repo.find_tree(update.create_updated(repo, &base)?)?;
    let sig = git2::Signature::now(&author.name, &author.email)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(None, &sig, &sig, message, &tree, &parents)
}

pub(crate) fn read_file(
    repo: &Repository,
    at: Oid,
    path: &RepoPath,
) -> Result<Option<Vec<u8>>, ReadError> {
    let tree = repo.find_commit(at)?.tree()?;
    let entry = match tree.get_path(Path::new(path.as_str())) {
        Ok(entry) => entry,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if entry.kind() != Some(ObjectType::Blob) {
        return Err(ReadError::NotAFile);
    }
    Ok(Some(repo.find_blob(entry.id())?.content().to_vec()))
}

/// Why a file could not be read.
pub(crate) enum ReadError {
    Git(git2::Error),
    NotAFile,
}

impl From<git2::Error> for ReadError {
    fn from(e: git2::Error) -> Self {
        ReadError::Git(e)
    }
}

/// The newest of the last `window` first-parent commits from `head` carrying `key: value`.
pub(crate) fn find_by_trailer(
    repo: &Repository,
    head: Oid,
    key: &str,
    value: &str,
    window: usize,
) -> Result<Option<CommitInfo>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.simplify_first_parent()?;
    walk.push(head)?;
    for id in walk.take(window) {
        let commit = repo.find_commit(id?)?;
        let message = String::from_utf8_lossy(commit.message_bytes());
        if has_trailer(&message, key, value) {
            return Ok(Some(info(&commit)));
        }
    }
    Ok(None)
}
