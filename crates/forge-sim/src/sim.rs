//! [`Sim`]: the control handle tests use to seed repositories, register credentials, switch
//! limits and faults on and off, and read counters.
//!
//! Every method is synchronous and safe to call from a plain `#[test]` or from inside an async
//! test: none of them needs the server's runtime.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;

use crate::error::SimError;
use crate::faults::{FaultTiming, ForeignPush};
use crate::git_store::{self, Change};
use crate::limits::{PrimaryLimit, Resource};
use crate::pull_merge::MergeMethod;
use crate::state::{SimState, repo_key, valid_name};
use crate::stats::Stats;

/// A simulated GitHub: shared state behind a cheap, cloneable handle.
#[derive(Clone)]
pub struct Sim {
    state: Arc<SimState>,
}

fn status(code: u16) -> Result<StatusCode, SimError> {
    StatusCode::from_u16(code).map_err(|_| SimError::Invalid(format!("HTTP status {code}")))
}

impl Sim {
    /// A simulator over `data_dir` (existing `repos/<owner>/<name>.git` are served again), or
    /// over a temporary directory removed when the last handle is dropped.
    pub fn new(data_dir: Option<PathBuf>) -> Result<Sim, SimError> {
        Ok(Sim {
            state: Arc::new(SimState::new(data_dir)?),
        })
    }

    pub(crate) fn from_state(state: Arc<SimState>) -> Sim {
        Sim { state }
    }

    pub(crate) fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// Base URL of the API (`apiUrl` of the backend); GraphQL is at `{base_url}/graphql`.
    pub fn base_url(&self) -> String {
        self.state.base_url()
    }

    /// Where repositories are stored: `<data_dir>/repos/<owner>/<name>.git`.
    pub fn data_dir(&self) -> PathBuf {
        self.state.data_dir().to_path_buf()
    }

    // ---- repositories -------------------------------------------------------------------

    /// Creates a bare repository with one commit (`README.md`) on `default_branch` and returns
    /// its path.
    pub fn create_repo(
        &self,
        owner: &str,
        name: &str,
        default_branch: &str,
    ) -> Result<PathBuf, SimError> {
        self.create(owner, name, default_branch, false)
    }

    /// Creates a bare repository with no commit at all (GitHub's "Git Repository is empty.").
    pub fn create_empty_repo(
        &self,
        owner: &str,
        name: &str,
        default_branch: &str,
    ) -> Result<PathBuf, SimError> {
        self.create(owner, name, default_branch, true)
    }

    fn create(
        &self,
        owner: &str,
        name: &str,
        default_branch: &str,
        empty: bool,
    ) -> Result<PathBuf, SimError> {
        if !valid_name(owner) || !valid_name(name) {
            return Err(SimError::Invalid(format!("repository name {owner}/{name}")));
        }
        if !git2::Reference::is_valid_name(&format!("refs/heads/{default_branch}")) {
            return Err(SimError::Invalid(format!("branch name {default_branch}")));
        }
        if self.state.repo(owner, name).is_some() {
            return Err(SimError::RepoExists(format!("{owner}/{name}")));
        }
        let path = self
            .state
            .data_dir()
            .join("repos")
            .join(owner)
            .join(format!("{name}.git"));
        git_store::init_bare(&path, name, default_branch, empty)?;
        self.state.register(owner, name, path.clone());
        Ok(path)
    }

    /// Path of a registered repository.
    pub fn repo_path(&self, owner: &str, name: &str) -> Option<PathBuf> {
        self.state.repo(owner, name).map(|e| e.path.clone())
    }

    /// Current commit of `branch`, if the branch exists.
    pub fn branch_head(
        &self,
        owner: &str,
        name: &str,
        branch: &str,
    ) -> Result<Option<String>, SimError> {
        let entry = self.entry(owner, name)?;
        let git = git_store::open(&entry.path)?;
        Ok(git_store::branch_head(&git, branch)?.map(|o| o.to_string()))
    }

    /// Bytes of `path` at `reference` (branch, tag or SHA); `None` when absent or not a file.
    pub fn read_file(
        &self,
        owner: &str,
        name: &str,
        reference: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, SimError> {
        let entry = self.entry(owner, name)?;
        let git = git_store::open(&entry.path)?;
        let Some(commit) = git_store::resolve_commitish(&git, reference)? else {
            return Ok(None);
        };
        match git_store::entry_at(&git, commit, path)? {
            Some(e) if e.kind == git_store::EntryKind::File => {
                Ok(Some(git_store::read_blob(&git, e.oid)?))
            }
            _ => Ok(None),
        }
    }

    /// Seeds content: one commit by `forge-sim` on `branch` putting (`Some(bytes)`) or deleting
    /// (`None`) each path. Returns the new head. The branch must exist.
    pub fn commit_files(
        &self,
        owner: &str,
        name: &str,
        branch: &str,
        files: &[(&str, Option<&[u8]>)],
        message: &str,
    ) -> Result<String, SimError> {
        let entry = self.entry(owner, name)?;
        let _guard = entry.lock_writes();
        let git = git_store::open(&entry.path)?;
        let head = git_store::branch_head(&git, branch)?
            .ok_or_else(|| SimError::UnknownBranch(branch.to_owned()))?;
        let base = git.find_commit(head)?.tree()?;
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
        let tree = git_store::build_tree(&git, Some(&base), &changes)?;
        let person = git_store::sim_person();
        let oid = git_store::write_commit(&git, tree, &[head], &person, &person, message, None)?;
        git_store::cas_ref(
            &git,
            &format!("refs/heads/{branch}"),
            oid,
            Some(head),
            "forge-sim: seed",
        )
        .map_err(|_| SimError::Invalid(format!("branch {branch} moved while seeding")))?;
        Ok(oid.to_string())
    }

    /// Creates `branch` at `from` (a branch, tag or SHA). Returns the SHA it points to.
    pub fn create_branch(
        &self,
        owner: &str,
        name: &str,
        branch: &str,
        from: &str,
    ) -> Result<String, SimError> {
        let entry = self.entry(owner, name)?;
        let _guard = entry.lock_writes();
        let git = git_store::open(&entry.path)?;
        let oid = git_store::resolve_commitish(&git, from)?
            .ok_or_else(|| SimError::UnknownBranch(from.to_owned()))?;
        git.reference(
            &format!("refs/heads/{branch}"),
            oid,
            false,
            "forge-sim: create branch",
        )?;
        Ok(oid.to_string())
    }

    fn entry(&self, owner: &str, name: &str) -> Result<Arc<crate::state::RepoEntry>, SimError> {
        self.state
            .repo(owner, name)
            .ok_or_else(|| SimError::UnknownRepo(format!("{owner}/{name}")))
    }

    // ---- credentials --------------------------------------------------------------------

    /// Registers a static token acting as `user`, with access to every repository.
    pub fn add_token(&self, token: &str, user: &str) {
        self.state.tokens().add_static(token, user, None);
    }

    /// Registers a static token acting as `user`, limited to `repos` (`owner/name`); other
    /// repositories answer 404 as on GitHub.
    pub fn add_scoped_token(&self, token: &str, user: &str, repos: &[&str]) {
        let set = repos
            .iter()
            .filter_map(|r| r.split_once('/').map(|(o, n)| repo_key(o, n)))
            .collect();
        self.state.tokens().add_static(token, user, Some(set));
    }

    /// Registers a GitHub App: JWTs must be RS256-signed by the private half of
    /// `public_key_pem` (PKCS#1 or SPKI PEM) with `iss` = `app_id` or `client_id`.
    /// `installations` lists `(installation_id, "owner/name")` pairs; repeat an id to give an
    /// installation several repositories.
    pub fn add_app(
        &self,
        app_id: u64,
        client_id: &str,
        public_key_pem: &str,
        installations: &[(u64, &str)],
    ) -> Result<(), SimError> {
        self.state
            .apps()
            .add(app_id, client_id, public_key_pem, installations)
    }

    /// Lifetime of installation tokens issued from now on (default one hour).
    pub fn set_installation_token_ttl(&self, ttl: Duration) {
        self.state.tokens().ttl = ttl;
    }

    /// How many installation tokens were issued so far.
    pub fn installation_tokens_issued(&self) -> usize {
        self.state.tokens().issued_count
    }

    /// Claims of every JWT presented so far (decoded before verification, so rejected ones are
    /// included).
    pub fn jwt_claims_seen(&self) -> Vec<Value> {
        self.state.apps().claims_seen.clone()
    }

    // ---- limits -------------------------------------------------------------------------

    /// Primary budget for credentials not configured with [`Sim::set_primary_limit`]
    /// (default 5000 per hour).
    pub fn set_default_primary_limit(&self, limit: u64) {
        self.state.limits().set_default_limit(limit);
    }

    /// Sets one credential's primary budget. `credential` is a static token string,
    /// `installation:<id>` (shared by every token of that installation) or `app:<id>`.
    pub fn set_primary_limit(&self, credential: &str, resource: Resource, limit: PrimaryLimit) {
        self.state
            .limits()
            .set_primary(credential, resource, limit, crate::clock::now_epoch());
    }

    /// HTTP status of a REST primary refusal: 403 (default) or 429. GraphQL always answers 200
    /// with a `RATE_LIMITED` error, as GitHub does.
    pub fn set_primary_limit_status(&self, code: u16) -> Result<(), SimError> {
        self.state.limits().primary_status = status(code)?;
        Ok(())
    }

    /// Refuses the next `n` content-creating requests with the secondary-limit 403, sending
    /// `retry-after: <secs>` when `retry_after_secs` is `Some`.
    pub fn set_secondary_limit(&self, n: u64, retry_after_secs: Option<u64>) {
        self.state.limits().set_secondary_next(n, retry_after_secs);
    }

    /// Admits at most `max` content-creating requests per sliding window `per`; further ones
    /// are refused. `retry_after_secs: None` sends the seconds until the window frees a slot.
    pub fn set_secondary_window(&self, max: u32, per: Duration, retry_after_secs: Option<u64>) {
        self.state
            .limits()
            .set_window(Some((max, per, retry_after_secs)));
    }

    /// HTTP status of secondary refusals: 403 (default) or 429.
    pub fn set_secondary_limit_status(&self, code: u16) -> Result<(), SimError> {
        self.state.limits().secondary_status = status(code)?;
        Ok(())
    }

    /// Turns off the secondary limit switch and window.
    pub fn clear_secondary_limit(&self) {
        self.state.limits().clear_secondary();
    }

    // ---- faults -------------------------------------------------------------------------

    /// Delay added to every API request.
    pub fn set_latency(&self, latency: Duration) {
        self.state.faults().latency = latency;
    }

    /// Answers every `n`-th API request (counted from now; `0` turns it off) with `status`
    /// instead of running it.
    pub fn set_fault_every(&self, n: u64, status_code: u16) -> Result<(), SimError> {
        self.set_fault(n, status_code, FaultTiming::BeforeHandler)
    }

    /// Like [`Sim::set_fault_every`], choosing whether the request still runs
    /// ([`FaultTiming::AfterHandler`]: the write happens, the client sees the 5xx).
    pub fn set_fault(&self, n: u64, status_code: u16, timing: FaultTiming) -> Result<(), SimError> {
        let code = status(status_code)?;
        self.state.faults().set_fault_every(n, code, timing);
        Ok(())
    }

    /// Arms a "foreign push": right after the next served read of `branch` (its ref, or a
    /// contents read at that branch or at its head SHA), another author commits `content` to
    /// `path` on it, so the reader's next compare-and-swap write is stale.
    pub fn arm_foreign_push(
        &self,
        owner: &str,
        repo: &str,
        branch: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<(), SimError> {
        let entry = self.entry(owner, repo)?;
        self.state.faults().arm_foreign(ForeignPush {
            repo_key: entry.key(),
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
        owner: &str,
        repo: &str,
        branch: &str,
        path: &str,
        content: impl Into<Vec<u8>>,
    ) -> Result<(), SimError> {
        self.arm_foreign_push(owner, repo, branch, path, content)?;
        let entry = self.entry(owner, repo)?;
        self.state.fire_foreign_push(&entry, branch);
        Ok(())
    }

    /// Foreign pushes armed but not yet fired.
    pub fn foreign_pushes_pending(&self) -> usize {
        self.state.faults().foreign_pending()
    }

    /// Turns off latency, 5xx injection, armed foreign pushes and secondary limits.
    pub fn clear_faults(&self) {
        self.state.faults().clear();
        self.state.limits().clear_secondary();
    }

    // ---- counters and hooks -------------------------------------------------------------

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.state.stats().clone()
    }

    /// Sets every counter back to zero.
    pub fn reset_stats(&self) {
        *self.state.stats() = Stats::default();
    }

    /// Merges pull request `number` with a merge commit, as GitHub's default merge button
    /// does, and returns the new head of its base branch.
    pub fn merge_pull(&self, owner: &str, repo: &str, number: u64) -> Result<String, SimError> {
        self.merge_pull_with(owner, repo, number, MergeMethod::Merge)
    }

    /// Closes pull request `number` without merging it; its branch stays as it is.
    pub fn close_pull(&self, owner: &str, repo: &str, number: u64) -> Result<(), SimError> {
        crate::pulls::close_pull(&self.state, owner, repo, number)
    }

    /// Merges pull request `number` by `method` and returns the new head of its base branch.
    pub fn merge_pull_with(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        method: MergeMethod,
    ) -> Result<String, SimError> {
        crate::pull_merge::merge_pull(&self.state, owner, repo, number, method)
    }
}
