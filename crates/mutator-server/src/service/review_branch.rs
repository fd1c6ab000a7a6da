//! Getting a review branch (`gitops/<application>/<environment>`) ready for the next change.
//!
//! The branch outlives its pull/merge request: after a merge it still points at what was
//! reviewed, which may be far behind the base branch. A change planned there would read stale
//! files, report a wrong previous tag, and open a review that conflicts with what the base did
//! since. So before each change the branch is brought to where the change belongs:
//!
//! | the branch                                                 | step                           |
//! |------------------------------------------------------------|--------------------------------|
//! | does not exist                                             | create it at the base head     |
//! | is the base head, or holds nothing the base lacks (merged) | fast-forward it to the base head |
//! | has commits the base lacks, and an open review             | keep it: the change joins the review |
//! | has commits the base lacks, exactly the head its newest review ended with (closed, or merged by squash/rebase) | start afresh at the base head; the answer and the log name the head that left the branch |
//! | has commits the base lacks that no review has seen         | keep it (a change in flight, or pushed by hand): the next review carries them |
//!
//! Plain git has no reviews, so there only the first, second and last rows apply: the branch is
//! the review until it is merged.
//!
//! Only the "start afresh" step drops commits, and only commits a review already decided on. A
//! fast-forward never drops any. Every step names the head it read and fails with a conflict
//! when the branch moved; the decision is then taken again. Within one process, the changes to
//! one review branch go one at a time ([`ReviewLocks`]), so no step here races a commit of this
//! process on the same branch. Across replicas, GitHub's reset and GitLab's delete-and-create
//! have no compare-and-swap: the head is checked one round trip before the move.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mutator_core::{BranchName, RepoName};
use mutator_forge::{CommitId, Forge, ForgeError, ReviewState, ReviewStatus};
use tokio::sync::OwnedMutexGuard;

use super::ServiceError;

/// How often the branch is looked at again after a step lost a race.
const ATTEMPTS: u32 = 4;

/// What the branch needs before the next change is planned on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// It does not exist: create it at the base head.
    Create,
    /// Use it as it is: it is the base head, or holds work that waits for review.
    Keep,
    /// Everything on it is in the base: move it forward to the base head.
    FastForward { from: CommitId },
    /// Its newest review ended with exactly this head, which the base lacks: point it at the
    /// base head again.
    Restart {
        from: CommitId,
        review: ReviewStatus,
    },
}

impl Step {
    /// Whether the change is planned on the base head (a dry run plans there without moving
    /// anything).
    pub fn starts_at_base(&self) -> bool {
        !matches!(self, Step::Keep)
    }
}

/// The head that left the branch when it was started afresh, and the review that ended with it.
#[derive(Debug, Clone)]
pub struct Restarted {
    pub previous_head: CommitId,
    pub review: ReviewStatus,
}

/// Decides what `review` needs, given the base branch's head.
pub async fn decide(
    forge: &dyn Forge,
    review: &BranchName,
    base: &BranchName,
    base_head: &CommitId,
) -> Result<Step, ForgeError> {
    let Some(head) = forge.head(review).await? else {
        return Ok(Step::Create);
    };
    if head == *base_head {
        return Ok(Step::Keep);
    }
    if forge.contains(base_head, &head).await? {
        return Ok(Step::FastForward { from: head });
    }
    match forge.latest_review(review, base).await? {
        Some(latest)
            if latest.state != ReviewState::Open && latest.head.as_ref() == Some(&head) =>
        {
            Ok(Step::Restart {
                from: head,
                review: latest,
            })
        }
        _ => Ok(Step::Keep),
    }
}

/// Brings `review` to where the next change belongs (see the module documentation). Returns
/// what left the branch, if it was started afresh.
pub async fn prepare(
    forge: &dyn Forge,
    review: &BranchName,
    base: &BranchName,
    base_head: &CommitId,
) -> Result<Option<Restarted>, ServiceError> {
    for attempt in 1..=ATTEMPTS {
        let step = decide(forge, review, base, base_head).await?;
        let moved = match &step {
            Step::Keep => return Ok(None),
            Step::Create => forge.create_branch(review, base_head).await,
            Step::FastForward { from } => forge.fast_forward(review, from, base_head).await,
            Step::Restart { from, .. } => forge.reset_branch(review, from, base_head).await,
        };
        match moved {
            Ok(()) => return Ok(report(review, base_head, step)),
            // Someone else created or moved the branch since it was read: look again.
            Err(ForgeError::Conflict { actual, .. }) => {
                tracing::debug!(%review, attempt, %actual, "review branch moved while it was prepared");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::TooManyConflicts {
        branch: review.to_string(),
        attempts: ATTEMPTS,
    })
}

fn report(review: &BranchName, base_head: &CommitId, step: Step) -> Option<Restarted> {
    match step {
        Step::Keep | Step::Create => None,
        Step::FastForward { from } => {
            tracing::info!(%review, %from, to = %base_head, "review branch fast-forwarded to the base: its previous review was merged");
            None
        }
        Step::Restart {
            from,
            review: ended,
        } => {
            // Commits leave the branch here: say which, and why, where operators look.
            tracing::warn!(
                %review,
                previous_head = %from,
                to = %base_head,
                review_number = ended.number,
                review_state = ?ended.state,
                review_url = %ended.url,
                "review branch started afresh from the base: its review ended with commits the base lacks, which are no longer on the branch"
            );
            Some(Restarted {
                previous_head: from,
                review: ended,
            })
        }
    }
}

/// One lock per (repository, review branch): a process prepares and changes a review branch
/// for one request at a time, so preparing it never races this process's own commit on it.
/// Entries stay for the life of the process; there is one per application environment in
/// review mode, which is a small, configured number.
#[derive(Default)]
pub struct ReviewLocks {
    locks: Mutex<HashMap<(RepoName, String), BranchLock>>,
}

type BranchLock = Arc<tokio::sync::Mutex<()>>;

impl ReviewLocks {
    pub async fn lock(
        &self,
        repo: &RepoName,
        branch: &BranchName,
    ) -> Result<OwnedMutexGuard<()>, ServiceError> {
        let lock = {
            let mut locks = self.locks.lock().map_err(|_| ServiceError::Busy)?;
            locks
                .entry((repo.clone(), branch.to_string()))
                .or_default()
                .clone()
        };
        Ok(lock.lock_owned().await)
    }
}
