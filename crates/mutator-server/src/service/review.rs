//! Changes to an environment in `review` mode: committed on the branch
//! `gitops/<application>/<environment>`, brought first to where the change belongs (see
//! [`super::review_branch`]), with a pull or merge request into the base branch, reused while
//! it is open. Forges without pull requests (plain git) keep the review branch and say so.

use std::sync::Arc;

use mutator_core::{AppName, BranchName, EnvName};
use mutator_forge::{CommitId, ForgeError, ReviewState};

use super::review_branch::{self, Restarted};
use super::{Caller, Intent, Mutator, Outcome, Repository, ServiceError};
use crate::api::{EndedReview, MutationStatus, RestartView, ReviewView};

/// Who asks for what, where.
pub struct Change<'a> {
    pub repo: &'a Arc<Repository>,
    pub base: &'a BranchName,
    pub app: &'a AppName,
    pub env: &'a EnvName,
    pub caller: &'a Caller,
    pub digest: &'a str,
}

impl Mutator {
    pub(super) async fn apply_by_review(
        &self,
        change: Change<'_>,
        intent: Intent,
        dry_run: bool,
    ) -> Result<Outcome, ServiceError> {
        let Change {
            repo,
            base,
            app,
            env,
            caller,
            digest,
        } = change;
        let forge = repo.forge.as_ref();
        let review = BranchName::parse(format!("gitops/{app}/{env}"))
            .map_err(|e| ServiceError::Forge(ForgeError::Rejected(e.to_string())))?;
        let base_head = repo.head(base).await?;
        if dry_run {
            // Nothing moves for a dry run: plan where the change would land.
            let step = review_branch::decide(forge, &review, base, &base_head).await?;
            let on = if step.starts_at_base() { base } else { &review };
            return self.apply(repo, on, intent, caller, digest, true).await;
        }
        let _one_at_a_time = self.review_locks.lock(&repo.settings.name, &review).await?;
        // A repeated Idempotency-Key is answered from the branch as it is, before anything
        // moves it: after a merge, its commit is no longer on the branch's first parents.
        let (mut outcome, restarted) = match self
            .replayed(repo, &review, &intent, caller, digest)
            .await?
        {
            Some(mut replayed) => {
                let commit = CommitId(replayed.response.commit.sha.clone());
                if forge.contains(&base_head, &commit).await? {
                    // Merged since: it waits on no review, and none is opened for it.
                    replayed.response.review = Some(ReviewView {
                        branch: review.to_string(),
                        url: None,
                        number: None,
                        reused: None,
                        restarted: None,
                    });
                    return Ok(replayed);
                }
                (replayed, None)
            }
            None => {
                let restarted = review_branch::prepare(forge, &review, base, &base_head).await?;
                let skip_ci = repo.settings.skip_ci_on_review;
                let outcome = self
                    .submit(repo, &review, skip_ci, intent, caller, digest)
                    .await?;
                (outcome, restarted)
            }
        };
        let restarted = restarted.map(restart_view);
        if outcome.response.status == MutationStatus::Noop
            && outcome.response.commit.sha == base_head.0
        {
            // The base already holds the requested state and nothing waits on the branch:
            // there is nothing to review (GitHub would refuse a pull request without commits).
            outcome.response.review = Some(ReviewView {
                branch: review.to_string(),
                url: None,
                number: None,
                reused: None,
                restarted,
            });
            return Ok(outcome);
        }
        let title = outcome
            .response
            .commit
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .replace(" [skip ci]", "");
        let body = format!(
            "Requested through gitops-mutator for {app} in {env}.\n\nMerging this applies the change; closing it drops it."
        );
        let request = match forge.open_review(&review, base, &title, &body).await {
            Ok(r) => Some(r),
            // Plain git has no pull requests: the branch is the review.
            Err(ForgeError::Rejected(_)) => None,
            Err(e) => return Err(e.into()),
        };
        outcome.response.status = MutationStatus::ReviewRequested;
        outcome.response.review = Some(ReviewView {
            branch: review.to_string(),
            url: request.as_ref().map(|r| r.url.clone()),
            number: request.as_ref().map(|r| r.number),
            reused: request.as_ref().map(|r| r.reused),
            restarted,
        });
        Ok(outcome)
    }
}

fn restart_view(restarted: Restarted) -> RestartView {
    RestartView {
        previous_head: restarted.previous_head.0,
        number: restarted.review.number,
        url: restarted.review.url,
        state: match restarted.review.state {
            ReviewState::Merged => EndedReview::Merged,
            // Only an ended review starts a branch afresh; an open one cannot get here.
            ReviewState::Closed | ReviewState::Open => EndedReview::Closed,
        },
    }
}
