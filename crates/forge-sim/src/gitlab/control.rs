//! [`GitlabControl`]: the handle tests use to seed projects, register tokens, switch limits and
//! faults, read counters and merge merge requests. Every method is synchronous and needs no
//! runtime. A `project` argument is a numeric id or a `path_with_namespace`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;

use super::merge_requests::{self, MergeRequest};
use super::state::{GitlabState, Project};
use super::stats::GitlabStats;
use crate::error::SimError;
use crate::faults::{FaultTiming, ForeignPush};
use crate::git_store::{self, Change};

/// A simulated GitLab: shared state behind a cheap, cloneable handle.
#[derive(Clone)]
pub struct GitlabControl {
    state: Arc<GitlabState>,
}

impl GitlabControl {
    /// A simulator over `data_dir` (projects under `<data_dir>/projects` are served again with
    /// their ids), or over a temporary directory removed when the last handle is dropped.
    pub fn new(data_dir: Option<PathBuf>) -> Result<GitlabControl, SimError> {
        Ok(GitlabControl {
            state: Arc::new(GitlabState::new(data_dir)?),
        })
    }

    pub(crate) fn from_state(state: Arc<GitlabState>) -> GitlabControl {
        GitlabControl { state }
    }

    pub(crate) fn state(&self) -> &Arc<GitlabState> {
        &self.state
    }

    /// `http://127.0.0.1:<port>` once serving (web URLs hang below it).
    pub fn base_url(&self) -> String {
        self.state.base_url()
    }

    /// `{base_url}/api/v4`: what a GitLab client is configured with.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.state.base_url(), super::server::API_PREFIX)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.state.data_dir().to_path_buf()
    }

    // ---- projects -------------------------------------------------------------------------

    /// Creates project `group/.../name` with one commit (`README.md`) on `default_branch`;
    /// returns its id and the path of its bare repository.
    pub fn create_project(
        &self,
        path_with_namespace: &str,
        default_branch: &str,
    ) -> Result<(u64, PathBuf), SimError> {
        let project = self
            .state
            .create_project(path_with_namespace, default_branch)?;
        Ok((project.id, project.git_dir.clone()))
    }

    /// Id of a project given by path (or id).
    pub fn project_id(&self, project: &str) -> Option<u64> {
        self.state.project(project).map(|p| p.id)
    }

    /// Path of a project's bare repository.
    pub fn project_git_dir(&self, project: &str) -> Option<PathBuf> {
        self.state.project(project).map(|p| p.git_dir.clone())
    }

    fn project(&self, project: &str) -> Result<Arc<Project>, SimError> {
        self.state.project_or_err(project)
    }

    /// Current commit of `branch`, if it exists.
    pub fn branch_head(&self, project: &str, branch: &str) -> Result<Option<String>, SimError> {
        let repo = self.project(project)?.open()?;
        Ok(git_store::branch_head(&repo, branch)?.map(|o| o.to_string()))
    }

    /// Bytes of `path` at `reference` (branch, tag, SHA or `HEAD`); `None` when absent.
    pub fn read_file(
        &self,
        project: &str,
        reference: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, SimError> {
        let repo = self.project(project)?.open()?;
        let Some(commit) = super::history::resolve_ref(&repo, reference)? else {
            return Ok(None);
        };
        match git_store::entry_at(&repo, commit, path)? {
            Some(e) if e.kind == git_store::EntryKind::File => {
                Ok(Some(git_store::read_blob(&repo, e.oid)?))
            }
            _ => Ok(None),
        }
    }

    /// Creates `branch` at `from` (branch, tag or SHA); returns the SHA.
    pub fn create_branch(
        &self,
        project: &str,
        branch: &str,
        from: &str,
    ) -> Result<String, SimError> {
        let project = self.project(project)?;
        let _guard = project.lock_writes();
        let repo = project.open()?;
        let oid = super::history::resolve_ref(&repo, from)?
            .ok_or_else(|| SimError::UnknownBranch(from.to_owned()))?;
        repo.reference(
            &format!("refs/heads/{branch}"),
            oid,
            false,
            "forge-sim gitlab: create branch",
        )?;
        Ok(oid.to_string())
    }

    /// A foreign commit (by `forge-sim`) on `branch` putting (`Some`) or deleting (`None`)
    /// each path; returns the new head. The branch must exist.
    pub fn commit_files(
        &self,
        project: &str,
        branch: &str,
        files: &[(&str, Option<&[u8]>)],
        message: &str,
    ) -> Result<String, SimError> {
        let project = self.project(project)?;
        let _guard = project.lock_writes();
        let repo = project.open()?;
        let head = git_store::branch_head(&repo, branch)?
            .ok_or_else(|| SimError::UnknownBranch(branch.to_owned()))?;
        let base = repo.find_commit(head)?.tree()?;
        let changes: BTreeMap<String, Change> = files
            .iter()
            .map(|(p, c)| {
                (
                    (*p).to_owned(),
                    c.map_or(Change::Delete, |b| Change::Put(b.to_vec())),
                )
            })
            .collect();
        if let Some(problem) = git_store::check_changes(Some(&base), &changes)? {
            return Err(SimError::Invalid(format!("{problem:?}")));
        }
        let tree = git_store::build_tree(&repo, Some(&base), &changes)?;
        let person = git_store::sim_person();
        let oid = git_store::write_commit(&repo, tree, &[head], &person, &person, message, None)?;
        git_store::cas_ref(
            &repo,
            &format!("refs/heads/{branch}"),
            oid,
            Some(head),
            "forge-sim gitlab: seed",
        )
        .map_err(|_| SimError::Invalid(format!("branch {branch} moved while seeding")))?;
        Ok(oid.to_string())
    }

    // ---- credentials ----------------------------------------------------------------------

    /// Registers `token` for `username` with `scopes` (`api` read-write, `read_api` read-only).
    pub fn add_token(&self, token: &str, username: &str, scopes: &[&str]) {
        self.state.tokens().add(token, username, scopes);
    }

    // ---- limits and faults ----------------------------------------------------------------

    /// The next `n` API requests answer 429 with `Retry-After: retry_after_secs` and the
    /// `RateLimit-*` headers (remaining 0, reset `retry_after_secs` from now).
    pub fn set_rate_limit(&self, n: u64, retry_after_secs: u64) {
        self.state.limits().set_forced(n, retry_after_secs);
    }

    /// Authenticated requests admitted per token and minute (default 2,000, GitLab.com's).
    pub fn set_rate_limit_per_minute(&self, limit: u64) {
        self.state.limits().set_per_minute(limit);
    }

    /// Delay added to every API request.
    pub fn set_latency(&self, latency: Duration) {
        self.state.faults().latency = latency;
    }

    /// Answers every `n`-th API request (counted from now; `0` turns it off) with `status`,
    /// before the handler runs or after it ran (the write happened, the client sees a 5xx).
    pub fn set_fault(&self, n: u64, status: u16, timing: FaultTiming) -> Result<(), SimError> {
        let code = StatusCode::from_u16(status)
            .map_err(|_| SimError::Invalid(format!("HTTP status {status}")))?;
        self.state.faults().set_fault_every(n, code, timing);
        Ok(())
    }

    /// Arms a foreign push: right after the next served files or branch read of `branch`,
    /// another author commits `content` to `path` on it, so an update of `path` with the
    /// `last_commit_id` just read fails with 400.
    pub fn arm_foreign_push(
        &self,
        project: &str,
        branch: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<(), SimError> {
        let project = self.project(project)?;
        self.state.faults().arm_foreign(ForeignPush {
            repo_key: project.key(),
            branch: branch.to_owned(),
            path: path.to_owned(),
            content: content.into(),
        });
        Ok(())
    }

    /// Someone else pushes to `branch` now, not waiting for a read: a commit by the foreign
    /// author that writes `content` to `path`. Counted like the armed ones.
    pub fn push_foreign_now(
        &self,
        project: &str,
        branch: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<(), SimError> {
        self.arm_foreign_push(project, branch, path, content)?;
        let project = self.project(project)?;
        super::foreign::fire_now(&self.state, &project, branch);
        Ok(())
    }

    /// Foreign pushes armed but not yet fired.
    pub fn foreign_pushes_pending(&self) -> usize {
        self.state.faults().foreign_pending()
    }

    /// Turns off latency, 5xx injection, armed foreign pushes and forced 429s.
    pub fn clear_faults(&self) {
        self.state.faults().clear();
        self.state.limits().set_forced(0, 1);
    }

    // ---- counters and merge requests ------------------------------------------------------

    pub fn stats(&self) -> GitlabStats {
        self.state.stats().clone()
    }

    pub fn reset_stats(&self) {
        *self.state.stats() = GitlabStats::default();
    }

    /// Merge request `!iid` of `project`, if any.
    pub fn merge_request(&self, project: &str, iid: u64) -> Option<MergeRequest> {
        let project = self.state.project(project)?;
        self.state.merge_requests().get(project.id, iid)
    }

    /// Merges `!iid` into its target with a merge commit; returns the target's new head.
    pub fn merge_merge_request(&self, project: &str, iid: u64) -> Result<String, SimError> {
        let project = self.project(project)?;
        merge_requests::merge(&self.state, &project, iid)
    }

    /// Closes `!iid` without merging it; its source branch stays as it is.
    pub fn close_merge_request(&self, project: &str, iid: u64) -> Result<(), SimError> {
        let project = self.project(project)?;
        merge_requests::close(&self.state, &project, iid)
    }
}
