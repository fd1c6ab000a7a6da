//! The mutation service: turns an intent ("scaffold payments", "staging runs 1.4.2") into at
//! most one commit. An intent is re-planned on the newest head whenever the branch moved, so a
//! concurrent writer's change is kept, never overwritten.

mod error;
mod file_cache;
pub mod history;
mod intent;
mod lane;
mod orders;
pub mod pins;
mod replay;
mod review;
mod review_branch;
mod snapshot;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mutator_core::message::MUTATION_ID;
use mutator_core::{AppName, BranchName, EnvName, MutationId, RepoName};
use mutator_forge::{Forge, Signature};
use mutator_render::Catalog;

pub use error::ServiceError;
pub use intent::{Intent, UpdateKind};

use self::lane::{JobParts, Lanes};
use self::review_branch::ReviewLocks;
use self::snapshot::Snapshot;

use crate::api::{CommitView, MutationResponse, MutationStatus};
use crate::config::{EnvMode, RepositorySettings};

/// How far back the branch history is searched for an Idempotency-Key.
const REPLAY_WINDOW: usize = 1000;

/// A configured repository and the forge that writes it.
pub struct Repository {
    pub settings: RepositorySettings,
    pub forge: Arc<dyn Forge>,
}

impl Repository {
    /// The head of `branch`; a branch that does not exist is an error that names it.
    pub async fn head(&self, branch: &BranchName) -> Result<mutator_forge::CommitId, ServiceError> {
        self.forge
            .head(branch)
            .await?
            .ok_or_else(|| ServiceError::UnknownBranch {
                repository: self.settings.name.to_string(),
                branch: branch.to_string(),
            })
    }
}

/// Who asked, and under which key.
pub struct Caller {
    /// Who asked, on what grounds: the `Gitops-Requested-By` trailer.
    pub requested_by: String,
    pub key: Option<MutationId>,
}

/// A finished mutation.
pub struct Outcome {
    pub response: MutationResponse,
    /// A commit was made by this request (HTTP 201).
    pub created: bool,
    /// The answer was found in history for a repeated Idempotency-Key.
    pub replayed: bool,
}

pub struct Mutator {
    repos: BTreeMap<RepoName, Arc<Repository>>,
    default_repo: RepoName,
    catalog: Catalog,
    lanes: Lanes,
    review_locks: ReviewLocks,
}

impl Mutator {
    pub fn new(
        repos: BTreeMap<RepoName, Repository>,
        default_repo: RepoName,
        catalog: Catalog,
        author: Signature,
    ) -> Self {
        Self {
            repos: repos.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            default_repo,
            catalog,
            lanes: Lanes::new(author),
            review_locks: ReviewLocks::default(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn repositories(&self) -> impl Iterator<Item = &Repository> {
        self.repos.values().map(|r| r.as_ref())
    }

    /// The repository a request names, or the default one.
    pub fn repository(&self, name: Option<&RepoName>) -> Result<&Arc<Repository>, ServiceError> {
        let name = name.unwrap_or(&self.default_repo);
        self.repos
            .get(name)
            .ok_or_else(|| ServiceError::UnknownRepository {
                name: name.to_string(),
                known: self
                    .repos
                    .keys()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Applies `intent` to `branch` of `repo`: a dry run plans on the current head; anything
    /// else goes through the lane of (repository, branch) and lands in at most one commit,
    /// possibly shared with other requests. `digest` fingerprints the request so a reused
    /// Idempotency-Key with another body is refused.
    pub async fn apply(
        &self,
        repo: &Arc<Repository>,
        branch: &BranchName,
        intent: Intent,
        caller: &Caller,
        digest: &str,
        dry_run: bool,
    ) -> Result<Outcome, ServiceError> {
        if dry_run {
            return self
                .dry_run(repo, branch, &intent, mutation_id(caller))
                .await;
        }
        if let Some(replayed) = self.replayed(repo, branch, &intent, caller, digest).await? {
            return Ok(replayed);
        }
        self.submit(repo, branch, true, intent, caller, digest)
            .await
    }

    /// The answer already in `branch`'s history for the caller's Idempotency-Key, if any.
    async fn replayed(
        &self,
        repo: &Arc<Repository>,
        branch: &BranchName,
        intent: &Intent,
        caller: &Caller,
        digest: &str,
    ) -> Result<Option<Outcome>, ServiceError> {
        let Some(key) = &caller.key else {
            return Ok(None);
        };
        match repo
            .forge
            .find_by_trailer(branch, MUTATION_ID, key.as_str(), REPLAY_WINDOW)
            .await?
        {
            Some(found) => replay::answer(repo, branch, intent, found, key, digest)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// Queues the change on the lane of (repository, branch) and waits for its commit.
    async fn submit(
        &self,
        repo: &Arc<Repository>,
        branch: &BranchName,
        skip_ci: bool,
        intent: Intent,
        caller: &Caller,
        digest: &str,
    ) -> Result<Outcome, ServiceError> {
        let job = JobParts {
            intent,
            requested_by: caller.requested_by.clone(),
            digest: digest.to_owned(),
            mutation_id: mutation_id(caller),
        };
        self.lanes.submit(repo, branch, skip_ci, job).await
    }

    /// Applies a change to one environment the way its policy says: committed to `base`
    /// (`direct`), or on its review branch with a pull or merge request into `base`
    /// (`review`, see [`review`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_to_environment(
        &self,
        repo: &Arc<Repository>,
        base: &BranchName,
        app: &AppName,
        env: &EnvName,
        intent: Intent,
        caller: &Caller,
        digest: &str,
        dry_run: bool,
    ) -> Result<Outcome, ServiceError> {
        if repo.settings.mode(env) == EnvMode::Direct {
            return self
                .apply(repo, base, intent, caller, digest, dry_run)
                .await;
        }
        let change = review::Change {
            repo,
            base,
            app,
            env,
            caller,
            digest,
        };
        self.apply_by_review(change, intent, dry_run).await
    }

    async fn dry_run(
        &self,
        repo: &Repository,
        branch: &BranchName,
        intent: &Intent,
        mutation_id: String,
    ) -> Result<Outcome, ServiceError> {
        let forge = repo.forge.as_ref();
        let head = repo.head(branch).await?;
        let mut snapshot = Snapshot::new(forge, head.clone());
        let plan = intent.plan(repo, branch, &mut snapshot, true).await?;
        let status = if plan.changes.is_empty() {
            MutationStatus::Noop
        } else {
            MutationStatus::DryRun
        };
        let head_info = forge.commit_info(&head).await?;
        Ok(Outcome {
            response: MutationResponse {
                status,
                commit: view(branch, head_info),
                files: plan.files,
                previous: plan.previous,
                diff: Some(plan.diff),
                review: None,
                mutation_id,
            },
            created: false,
            replayed: false,
        })
    }
}

/// The caller's Idempotency-Key, or a new id for a request without one.
fn mutation_id(caller: &Caller) -> String {
    match &caller.key {
        Some(key) => key.to_string(),
        None => uuid::Uuid::now_v7().to_string(),
    }
}

/// Exponential backoff from 5 ms, capped at 500 ms, with jitter so that writers that collided
/// once do not collide again. The jitter mixes the mutation id with the clock.
fn backoff(attempt: u32, seed: &str) -> Duration {
    let base = 5u64.saturating_mul(1 << attempt.min(7)).min(500);
    let seed = seed
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    Duration::from_millis(base / 2 + (seed ^ nanos) % (base / 2 + 1))
}

fn view(branch: &BranchName, info: mutator_forge::CommitInfo) -> CommitView {
    CommitView {
        sha: info.id.0,
        branch: branch.to_string(),
        message: info.message,
        url: info.url,
        verified: info.verified,
    }
}
