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
use mutator_forge::{CommitId, CommitRequest, Forge, Signature};
use mutator_render::Catalog;

pub use error::ServiceError;
pub use intent::Intent;

use crate::api::{CommitView, MutationResponse, MutationStatus};
use crate::auth::Principal;
use crate::config::RepositorySettings;

/// How many times an intent is re-planned when the branch moves under it.
const MAX_ATTEMPTS: u32 = 8;
/// How far back the branch history is searched for an Idempotency-Key.
const REPLAY_WINDOW: usize = 1000;

/// A configured repository and the forge that writes it.
pub struct Repository {
    pub settings: RepositorySettings,
    pub forge: Arc<dyn Forge>,
}

/// Who asked, and under which key.
pub struct Caller {
    pub principal: Principal,
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
        for attempt in 1..=MAX_ATTEMPTS {
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
                let diff = dry_run.then_some(plan.diff);
                return Ok(Outcome {
                    response: MutationResponse {
                        status,
                        commit: view(branch, head_info),
                        files: plan.files,
                        previous: plan.previous,
                        diff,
                        mutation_id,
                    },
                    created: false,
                    replayed: false,
                });
            }
            let message = plan
                .message
                .trailer(MUTATION_ID, &mutation_id)
                .trailer(REQUESTED_BY, &caller.principal.0)
                .trailer(REQUEST_DIGEST, digest)
                .render();
            let request = CommitRequest {
                branch,
                parent: Some(&head),
                changes: &plan.changes,
                message: &message,
                author: &self.author,
            };
            match forge.commit(request).await {
                Ok(info) => {
                    tracing::info!(commit = %info.id, %branch, mutation_id, attempt, "committed");
                    return Ok(Outcome {
                        response: MutationResponse {
                            status: MutationStatus::Committed,
                            commit: view(branch, info),
                            files: plan.files,
                            previous: plan.previous,
                            diff: None,
                            mutation_id,
                        },
                        created: true,
                        replayed: false,
                    });
                }
                Err(e) if e.is_retryable() => {
                    tracing::warn!(%branch, attempt, error = %e, "branch moved; re-planning");
                    tokio::time::sleep(backoff(attempt, &head)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::TooManyConflicts {
            branch: branch.to_string(),
            attempts: MAX_ATTEMPTS,
        })
    }
}

/// Exponential backoff from 5 ms, capped at 500 ms, with jitter so that writers that collided
/// once do not collide again. The jitter is drawn from the head id, which differs per race.
fn backoff(attempt: u32, head: &CommitId) -> Duration {
    let base = 5u64.saturating_mul(1 << attempt.min(7)).min(500);
    let seed = head
        .0
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
    }
}
