//! The simulator's shared state: registered repositories, credentials, apps, pull requests,
//! limits, faults and counters.
//!
//! Each part has its own mutex so a slow git operation never blocks a counter update. Locks are
//! held only for short, synchronous sections, never across an `.await`. A poisoned lock (a
//! panic in another request) is recovered rather than propagated: the data are counters and
//! maps that stay consistent, and a test tool that wedges itself helps nobody.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use crate::apps::Apps;
use crate::auth::{Caller, Tokens};
use crate::error::{ApiError, SimError};
use crate::faults::Faults;
use crate::git_store::{self, SigningKey};
use crate::limits::Limits;
use crate::pulls::Pulls;
use crate::stats::Stats;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One bare repository the simulator serves.
#[derive(Debug)]
pub(crate) struct RepoEntry {
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    /// Serialises writers inside this process; libgit2's ref locking still guards the CAS
    /// itself, this only keeps "check then write" sequences (fast-forward test, then move)
    /// from interleaving.
    write_lock: Mutex<()>,
}

impl RepoEntry {
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub(crate) fn key(&self) -> String {
        repo_key(&self.owner, &self.name)
    }

    pub(crate) fn lock_writes(&self) -> MutexGuard<'_, ()> {
        lock(&self.write_lock)
    }
}

/// Registry key of a repository; GitHub owner and repository names are case-insensitive.
pub(crate) fn repo_key(owner: &str, name: &str) -> String {
    format!(
        "{}/{}",
        owner.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

/// Owner and repository names as GitHub allows them (letters, digits, `-`, `_`, `.`).
pub(crate) fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub(crate) struct SimState {
    base_url: RwLock<String>,
    data_dir: PathBuf,
    /// Keeps the temporary data directory alive as long as the simulator.
    _temp: Option<tempfile::TempDir>,
    repos: Mutex<BTreeMap<String, Arc<RepoEntry>>>,
    tokens: Mutex<Tokens>,
    apps: Mutex<Apps>,
    pulls: Mutex<Pulls>,
    limits: Mutex<Limits>,
    faults: Mutex<Faults>,
    stats: Mutex<Stats>,
    pub(crate) signing_key: SigningKey,
    request_seq: AtomicU64,
}

impl SimState {
    /// State over `data_dir` (repositories found under `repos/<owner>/<name>.git` are served
    /// again), or over a fresh temporary directory.
    pub(crate) fn new(data_dir: Option<PathBuf>) -> Result<Self, SimError> {
        let (data_dir, temp) = match data_dir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::Builder::new().prefix("forge-sim-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(data_dir.join("repos"))?;
        let state = SimState {
            base_url: RwLock::new(String::from("http://127.0.0.1")),
            data_dir,
            _temp: temp,
            repos: Mutex::new(BTreeMap::new()),
            tokens: Mutex::new(Tokens::default()),
            apps: Mutex::new(Apps::default()),
            pulls: Mutex::new(Pulls::default()),
            limits: Mutex::new(Limits::default()),
            faults: Mutex::new(Faults::default()),
            stats: Mutex::new(Stats::default()),
            signing_key: crate::ids::random_bytes::<32>(),
            request_seq: AtomicU64::new(0),
        };
        state.load_existing()?;
        Ok(state)
    }

    fn load_existing(&self) -> Result<(), SimError> {
        let root = self.data_dir.join("repos");
        for owner in std::fs::read_dir(&root)? {
            let owner = owner?;
            if !owner.file_type()?.is_dir() {
                continue;
            }
            let owner_name = owner.file_name().to_string_lossy().into_owned();
            for repo in std::fs::read_dir(owner.path())? {
                let repo = repo?;
                let file_name = repo.file_name().to_string_lossy().into_owned();
                let Some(name) = file_name.strip_suffix(".git") else {
                    continue;
                };
                if valid_name(&owner_name)
                    && valid_name(name)
                    && git_store::open(&repo.path()).is_ok()
                {
                    self.register(&owner_name, name, repo.path());
                }
            }
        }
        Ok(())
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_base_url(&self, url: String) {
        *self
            .base_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = url;
    }

    pub(crate) fn next_request_seq(&self) -> u64 {
        self.request_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn register(&self, owner: &str, name: &str, path: PathBuf) -> Arc<RepoEntry> {
        let entry = Arc::new(RepoEntry {
            owner: owner.to_owned(),
            name: name.to_owned(),
            path,
            write_lock: Mutex::new(()),
        });
        lock(&self.repos).insert(entry.key(), Arc::clone(&entry));
        entry
    }

    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<Arc<RepoEntry>> {
        lock(&self.repos).get(&repo_key(owner, name)).cloned()
    }

    /// The repository if `caller` may see it; 404 otherwise, as GitHub hides private repos.
    pub(crate) fn repo_for(
        &self,
        caller: &Caller,
        owner: &str,
        name: &str,
    ) -> Result<Arc<RepoEntry>, ApiError> {
        let entry = self.repo(owner, name).ok_or_else(ApiError::not_found)?;
        caller.check_repo(&entry.key())?;
        Ok(entry)
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub(crate) fn apps(&self) -> MutexGuard<'_, Apps> {
        lock(&self.apps)
    }

    pub(crate) fn pulls(&self) -> MutexGuard<'_, Pulls> {
        lock(&self.pulls)
    }

    pub(crate) fn limits(&self) -> MutexGuard<'_, Limits> {
        lock(&self.limits)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    /// Runs an armed foreign push for `branch` of `entry`, if one is waiting. Called right after
    /// a read of that branch was served, so the reader's next compare-and-swap write is stale.
    pub(crate) fn fire_foreign_push(&self, entry: &RepoEntry, branch: &str) {
        let Some(push) = self.faults().take_foreign(&entry.key(), branch) else {
            return;
        };
        match crate::faults::apply_foreign_push(entry, &push) {
            Ok(Some(oid)) => {
                tracing::info!(repo = %entry.full_name(), branch, %oid, "forge-sim: foreign push");
                self.stats().foreign_pushes += 1;
            }
            Ok(None) => {
                tracing::warn!(repo = %entry.full_name(), branch, "forge-sim: foreign push found no branch");
            }
            Err(e) => tracing::error!(error = %e, "forge-sim: foreign push failed"),
        }
    }

    /// Fires a foreign push if the read that was just served looked at an armed branch: by name,
    /// or by the commit that branch points to (a read at `ref=<head sha>`).
    pub(crate) fn fire_foreign_push_for_read(
        &self,
        entry: &RepoEntry,
        repo: &git2::Repository,
        read_ref: &str,
        served: git2::Oid,
    ) {
        let armed = self.faults().armed_branches(&entry.key());
        for branch in armed {
            let by_name = read_ref == branch
                || read_ref.strip_prefix("heads/") == Some(branch.as_str())
                || read_ref.strip_prefix("refs/heads/") == Some(branch.as_str());
            let by_sha = matches!(git_store::branch_head(repo, &branch), Ok(Some(h)) if h == served)
                && git_store::is_full_sha(read_ref);
            if by_name || by_sha {
                self.fire_foreign_push(entry, &branch);
                return;
            }
        }
    }
}
