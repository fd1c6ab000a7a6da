//! Shared state of the GitLab simulator: projects, tokens, merge requests, limits, faults and
//! counters, each behind its own mutex (held briefly, never across an `.await`).
//!
//! Projects live in `<data_dir>/projects/<group>/.../<name>.git`; a project's numeric id is
//! stored in the bare repository's config (`forgesim.projectid`), so a data directory served
//! again keeps its ids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::auth::Tokens;
use super::error::GlError;
use super::limits::RateLimits;
use super::merge_requests::MergeRequests;
use super::stats::GitlabStats;
use crate::error::SimError;
use crate::faults::Faults;
use crate::git_store;
use crate::state::lock;

const ID_CONFIG_KEY: &str = "forgesim.projectid";
/// First project id handed out: far from 1 so an id is never mistaken for a merge request iid.
const FIRST_PROJECT_ID: u64 = 1001;
/// How deep nested groups are searched when a data directory is loaded.
const MAX_DEPTH: usize = 20;

/// One project (one bare repository).
#[derive(Debug)]
pub(crate) struct Project {
    pub(crate) id: u64,
    /// `path_with_namespace` as created (`group/sub/name`).
    pub(crate) path: String,
    pub(crate) git_dir: PathBuf,
    /// Serialises "read the tip, check, write, move the branch" sequences in this process;
    /// the ref compare-and-swap still guards against writers outside it.
    write_lock: Mutex<()>,
}

impl Project {
    /// Registry key: GitLab finds projects by path case-insensitively.
    pub(crate) fn key(&self) -> String {
        self.path.to_ascii_lowercase()
    }

    pub(crate) fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub(crate) fn namespace(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(ns, _)| ns)
    }

    pub(crate) fn web_url(&self, base: &str) -> String {
        format!("{base}/{}", self.path)
    }

    pub(crate) fn lock_writes(&self) -> MutexGuard<'_, ()> {
        lock(&self.write_lock)
    }

    pub(crate) fn open(&self) -> Result<git2::Repository, git2::Error> {
        git_store::open(&self.git_dir)
    }
}

/// `group/name` or deeper; each segment a GitLab-style path that does not end in `.git`.
pub(crate) fn valid_project_path(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    segments.len() >= 2
        && segments
            .iter()
            .all(|s| crate::state::valid_name(s) && !s.ends_with(".git"))
}

#[derive(Debug)]
struct Registry {
    by_id: BTreeMap<u64, Arc<Project>>,
    by_key: BTreeMap<String, u64>,
    next_id: u64,
}

impl Registry {
    fn insert(&mut self, id: u64, path: &str, git_dir: PathBuf) -> Arc<Project> {
        let project = Arc::new(Project {
            id,
            path: path.to_owned(),
            git_dir,
            write_lock: Mutex::new(()),
        });
        self.by_key.insert(project.key(), id);
        self.by_id.insert(id, Arc::clone(&project));
        self.next_id = self.next_id.max(id + 1);
        project
    }
}

pub(crate) struct GitlabState {
    base_url: RwLock<String>,
    data_dir: PathBuf,
    /// Keeps a temporary data directory alive as long as the simulator.
    _temp: Option<tempfile::TempDir>,
    registry: Mutex<Registry>,
    tokens: Mutex<Tokens>,
    merge_requests: Mutex<MergeRequests>,
    limits: Mutex<RateLimits>,
    faults: Mutex<Faults>,
    stats: Mutex<GitlabStats>,
    request_seq: AtomicU64,
}

impl GitlabState {
    /// State over `data_dir` (projects already under `projects/` are served again), or over a
    /// fresh temporary directory.
    pub(crate) fn new(data_dir: Option<PathBuf>) -> Result<Self, SimError> {
        let (data_dir, temp) = match data_dir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("forge-sim-gitlab-")
                    .tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(data_dir.join("projects"))?;
        let state = GitlabState {
            base_url: RwLock::new(String::from("http://127.0.0.1")),
            data_dir,
            _temp: temp,
            registry: Mutex::new(Registry {
                by_id: BTreeMap::new(),
                by_key: BTreeMap::new(),
                next_id: FIRST_PROJECT_ID,
            }),
            tokens: Mutex::new(Tokens::default()),
            merge_requests: Mutex::new(MergeRequests::default()),
            limits: Mutex::new(RateLimits::default()),
            faults: Mutex::new(Faults::default()),
            stats: Mutex::new(GitlabStats::default()),
            request_seq: AtomicU64::new(0),
        };
        state.load_existing()?;
        Ok(state)
    }

    fn load_existing(&self) -> Result<(), SimError> {
        let mut found = Vec::new();
        find_repos(&self.projects_root(), &mut Vec::new(), &mut found)?;
        let mut registry = lock(&self.registry);
        let mut without_id = Vec::new();
        for (path, dir) in found {
            let repo = git_store::open(&dir)?;
            let id = repo
                .config()
                .and_then(|c| c.get_i64(ID_CONFIG_KEY))
                .ok()
                .and_then(|v| u64::try_from(v).ok())
                .filter(|id| !registry.by_id.contains_key(id));
            match id {
                Some(id) => {
                    registry.insert(id, &path, dir);
                }
                None => without_id.push((path, dir, repo)),
            }
        }
        for (path, dir, repo) in without_id {
            let id = registry.next_id;
            write_id(&repo, id)?;
            registry.insert(id, &path, dir);
        }
        Ok(())
    }

    fn projects_root(&self) -> PathBuf {
        self.data_dir.join("projects")
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

    /// Creates the bare repository of a new project (one commit on `default_branch`).
    pub(crate) fn create_project(
        &self,
        path: &str,
        default_branch: &str,
    ) -> Result<Arc<Project>, SimError> {
        if !valid_project_path(path) {
            return Err(SimError::Invalid(format!("project path {path}")));
        }
        if !git2::Reference::is_valid_name(&format!("refs/heads/{default_branch}")) {
            return Err(SimError::Invalid(format!("branch name {default_branch}")));
        }
        let mut registry = lock(&self.registry);
        if registry.by_key.contains_key(&path.to_ascii_lowercase()) {
            return Err(SimError::RepoExists(path.to_owned()));
        }
        let git_dir = self.projects_root().join(format!("{path}.git"));
        if git_dir.exists() {
            return Err(SimError::RepoExists(git_dir.display().to_string()));
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        git_store::init_bare(&git_dir, name, default_branch, false)?;
        let id = registry.next_id;
        write_id(&git_store::open(&git_dir)?, id)?;
        Ok(registry.insert(id, path, git_dir))
    }

    /// A project by numeric id or by (decoded) `path_with_namespace`.
    pub(crate) fn project(&self, id_or_path: &str) -> Option<Arc<Project>> {
        let registry = lock(&self.registry);
        let id = match id_or_path.parse::<u64>() {
            Ok(id) => id,
            Err(_) => *registry.by_key.get(&id_or_path.to_ascii_lowercase())?,
        };
        registry.by_id.get(&id).cloned()
    }

    /// The project or GitLab's `404 Project Not Found`.
    pub(crate) fn project_or_404(&self, id_or_path: &str) -> Result<Arc<Project>, GlError> {
        self.project(id_or_path)
            .ok_or_else(|| GlError::not_found("Project"))
    }

    /// The project or [`SimError::UnknownRepo`], for the control API.
    pub(crate) fn project_or_err(&self, id_or_path: &str) -> Result<Arc<Project>, SimError> {
        self.project(id_or_path)
            .ok_or_else(|| SimError::UnknownRepo(id_or_path.to_owned()))
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub(crate) fn merge_requests(&self) -> MutexGuard<'_, MergeRequests> {
        lock(&self.merge_requests)
    }

    pub(crate) fn limits(&self) -> MutexGuard<'_, RateLimits> {
        lock(&self.limits)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, GitlabStats> {
        lock(&self.stats)
    }
}

fn write_id(repo: &git2::Repository, id: u64) -> Result<(), git2::Error> {
    let value = i64::try_from(id).map_err(|_| git2::Error::from_str("project id too large"))?;
    repo.config()?.set_i64(ID_CONFIG_KEY, value)
}

/// Every `*.git` directory below `dir` that opens as a bare repository, with its project path.
fn find_repos(
    dir: &Path,
    prefix: &mut Vec<String>,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), SimError> {
    if prefix.len() > MAX_DEPTH {
        return Ok(());
    }
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        if !item.file_type()?.is_dir() {
            continue;
        }
        let file_name = item.file_name().to_string_lossy().into_owned();
        match file_name.strip_suffix(".git") {
            Some(name) => {
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{}/{name}", prefix.join("/"))
                };
                if valid_project_path(&path) && git_store::open(&item.path()).is_ok() {
                    out.push((path, item.path()));
                }
            }
            None => {
                prefix.push(file_name);
                find_repos(&item.path(), prefix, out)?;
                prefix.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_project_paths() {
        assert!(valid_project_path("acme/gitops"));
        assert!(valid_project_path("acme/platform/gitops.io"));
        assert!(!valid_project_path("gitops"));
        assert!(!valid_project_path("acme//gitops"));
        assert!(!valid_project_path("acme/x.git"));
        assert!(!valid_project_path("acme/../x"));
    }

    #[test]
    fn ids_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let first = GitlabState::new(Some(dir.path().to_path_buf())).unwrap();
        let a = first.create_project("acme/a", "main").unwrap();
        let b = first.create_project("acme/deep/b", "trunk").unwrap();
        assert_eq!((a.id, b.id), (FIRST_PROJECT_ID, FIRST_PROJECT_ID + 1));
        assert!(matches!(
            first.create_project("ACME/A", "main"),
            Err(SimError::RepoExists(_))
        ));
        drop(first);
        let again = GitlabState::new(Some(dir.path().to_path_buf())).unwrap();
        assert_eq!(again.project("acme/deep/b").unwrap().id, b.id);
        assert_eq!(again.project(&a.id.to_string()).unwrap().path, "acme/a");
        assert_eq!(
            again.create_project("acme/c", "main").unwrap().id,
            FIRST_PROJECT_ID + 2
        );
    }
}
