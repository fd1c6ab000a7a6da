//! The mutation service: turns an intent ("scaffold payments", "staging runs 1.4.2") into at
//! most one commit. An intent is re-planned on the newest head whenever the branch moved, so a
//! concurrent writer's change is kept, never overwritten.

mod error;
mod intent;
mod replay;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mutator_core::message::{MUTATION_ID, REQUEST_DIGEST, REQUESTED_BY};
use mutator_core::{BranchName, MutationId, RepoName};
use mutator_forge::{CommitRequest, Forge, ForgeError, Signature};
use mutator_render::Catalog;

pub use error::ServiceError;
pub use intent::Intent;

use crate::api::{CommitView, MutationResponse, MutationStatus};
use crate::config::RepositorySettings;

/// How many times an intent is re-planned when the branch moves under it.
const MAX_ATTEMPTS: u32 = 8;
/// How far back the branch history is searched for an Idempotency-Key.
const REPLAY_WINDOW: usize = 1000;
/// How far back a commit that failed transiently is looked for (it may have landed).
const LANDED_WINDOW: usize = 20;
/// How long a rate limit that names no time is waited out (GitHub's advice: a minute).
const RATE_LIMIT_DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// The longest one request waits in total for rate limits and backoff before it gives up.
const MAX_TOTAL_WAIT: Duration = Duration::from_secs(120);

/// A configured repository and the forge that writes it.
pub struct Repository {
    pub settings: RepositorySettings,
    pub forge: Arc<dyn Forge>,
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
    repos: BTreeMap<RepoName, Repository>,
    default_repo: RepoName,
    catalog: Catalog,
    author: Signature,
}

impl Mutator {
    pub fn new(
        repos: BTreeMap<RepoName, Repository>,
        default_repo: RepoName,
        catalog: Catalog,
        author: Signature,
    ) -> Self {
        Self {
            repos,
            default_repo,
            catalog,
            author,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn repositories(&self) -> impl Iterator<Item = &Repository> {
        self.repos.values()
    }

    /// The repository a request names, or the default one.
    pub fn repository(&self, name: Option<&RepoName>) -> Result<&Repository, ServiceError> {
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

    /// Applies `intent` to `branch` of `repo` as one commit (or none), re-planning on conflicts.
    /// `digest` fingerprints the request so a reused Idempotency-Key with another body is refused.
    pub async fn apply(
        &self,
        repo: &Repository,
        branch: &BranchName,
        intent: &Intent,
        caller: &Caller,
        digest: &str,
        dry_run: bool,
    ) -> Result<Outcome, ServiceError> {
        let forge = repo.forge.as_ref();
        let mutation_id = match &caller.key {
            Some(key) => key.to_string(),
            None => uuid::Uuid::now_v7().to_string(),
        };
        if let Some(key) = &caller.key
            && !dry_run
            && let Some(found) = forge
                .find_by_trailer(branch, MUTATION_ID, key.as_str(), REPLAY_WINDOW)
                .await?
        {
            return replay::answer(repo, branch, intent, found, key, digest).await;
        }
        let mut waited = Duration::ZERO;
        let mut last_error = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let error = match self
                .attempt(repo, branch, intent, caller, digest, dry_run, &mutation_id)
                .await
            {
                Ok(outcome) => {
                    if outcome.created {
                        tracing::info!(commit = %outcome.response.commit.sha, %branch, mutation_id, attempt, "committed");
                    }
                    return Ok(outcome);
                }
                Err(ServiceError::Forge(e)) if e.is_retryable() => e,
                Err(e) => return Err(e),
            };
            let wait = match &error {
                ForgeError::RateLimited { retry_after, .. } => {
                    retry_after.unwrap_or(RATE_LIMIT_DEFAULT_WAIT)
                }
                _ => backoff(attempt, &mutation_id),
            };
            if waited + wait > MAX_TOTAL_WAIT {
                return Err(error.into());
            }
            tracing::warn!(%branch, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying after a retryable forge error");
            tokio::time::sleep(wait).await;
            waited += wait;
            last_error = Some(error);
        }
        // Out of attempts: say what kept failing. Only a branch that kept moving is a conflict.
        match last_error {
            Some(ForgeError::Conflict { .. }) | None => Err(ServiceError::TooManyConflicts {
                branch: branch.to_string(),
                attempts: MAX_ATTEMPTS,
            }),
            Some(other) => Err(other.into()),
        }
    }
}

impl Mutator {
    /// Plans the intent on the current head and commits it once.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        repo: &Repository,
        branch: &BranchName,
        intent: &Intent,
        caller: &Caller,
        digest: &str,
        dry_run: bool,
        mutation_id: &str,
    ) -> Result<Outcome, ServiceError> {
        let forge = repo.forge.as_ref();
        let head = forge
            .head(branch)
            .await?
            .ok_or_else(|| ServiceError::UnknownBranch {
                repository: repo.settings.name.to_string(),
                branch: branch.to_string(),
            })?;
        let plan = intent.plan(repo, branch, &head, dry_run).await?;
        if plan.changes.is_empty() || dry_run {
            let status = if plan.changes.is_empty() {
                MutationStatus::Noop
            } else {
                MutationStatus::DryRun
            };
            let head_info = forge.commit_info(&head).await?;
            return Ok(Outcome {
                response: MutationResponse {
                    status,
                    commit: view(branch, head_info),
                    files: plan.files,
                    previous: plan.previous,
                    diff: dry_run.then_some(plan.diff),
                    mutation_id: mutation_id.to_owned(),
                },
                created: false,
                replayed: false,
            });
        }
        let message = plan
            .message
            .trailer(MUTATION_ID, mutation_id)
            .trailer(REQUESTED_BY, &caller.requested_by)
            .trailer(REQUEST_DIGEST, digest)
            .render();
        let request = CommitRequest {
            branch,
            parent: Some(&head),
            changes: &plan.changes,
            message: &message,
            author: &self.author,
        };
        let info = match forge.commit(request).await {
            Ok(info) => info,
            // A write that failed on the way back (a 5xx, a timeout) may still have landed:
            // the trailer says so, and then it must not be made twice.
            Err(ForgeError::Transient(reason)) => match forge
                .find_by_trailer(branch, MUTATION_ID, mutation_id, LANDED_WINDOW)
                .await
            {
                Ok(Some(found)) => {
                    tracing::info!(commit = %found.id, mutation_id, "the commit landed despite the error");
                    found
                }
                _ => return Err(ForgeError::Transient(reason).into()),
            },
            Err(e) => return Err(e.into()),
        };
        Ok(Outcome {
            response: MutationResponse {
                status: MutationStatus::Committed,
                commit: view(branch, info),
                files: plan.files,
                previous: plan.previous,
                diff: None,
                mutation_id: mutation_id.to_owned(),
            },
            created: true,
            replayed: false,
        })
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
