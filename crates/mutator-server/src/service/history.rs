//! The history of one application environment, read from the trailers of the branch: no
//! database, and no tree is read, only commit messages.
//!
//! The walk follows the branch's first parents. A change that arrived through a pull/merge
//! request was committed on its review branch, so its trailers sit on the commits a merge
//! brought in: at a merge commit those are read too, and listed where the merge landed them,
//! with the review the forge reads from the merge (or squash) commit's message.

use mutator_core::BranchName;
use mutator_core::message::{KIND, MUTATION_ID, REQUESTED_BY, TAG, TARGET, trailer_values};
use mutator_forge::CommitInfo;

use super::{Repository, ServiceError};
use crate::api::{HistoryEntry, HistoryReview};

/// How many commits one look at the history reads at most, merged ones included.
const WINDOW: usize = 10_000;
/// How many commits are fetched at a time.
const CHUNK: usize = 200;
/// How many commits one merge may bring into the walk (a review branch holds a few).
const MERGED: usize = 100;

/// The changes to `target` (`app/env`), newest first, at most `limit`.
pub async fn history(
    repo: &Repository,
    branch: &BranchName,
    target: &str,
    limit: usize,
) -> Result<Vec<HistoryEntry>, ServiceError> {
    let forge = repo.forge.as_ref();
    let Some(mut from) = forge.head(branch).await? else {
        return Err(ServiceError::UnknownBranch {
            repository: repo.settings.name.to_string(),
            branch: branch.to_string(),
        });
    };
    let mut entries = Vec::new();
    let mut read = 0;
    while read < WINDOW && entries.len() < limit {
        let commits = forge
            .recent_commits(&from, CHUNK.min(WINDOW - read))
            .await?;
        read += commits.len();
        for commit in &commits {
            let review = forge.landed_review(commit).map(|r| HistoryReview {
                number: r.number,
                url: r.url,
                landed_by: commit.id.0.clone(),
            });
            entries.extend(entries_of(commit, target, review.as_ref()));
            if !commit.merged.is_empty() && read < WINDOW {
                let merged = forge
                    .merged_commits(commit, MERGED.min(WINDOW - read))
                    .await?;
                read += merged.len();
                for brought in &merged {
                    entries.extend(entries_of(brought, target, review.as_ref()));
                }
            }
            if entries.len() >= limit {
                break;
            }
        }
        match commits.last().and_then(|c| c.parent.clone()) {
            Some(parent) if commits.len() == CHUNK => from = parent,
            _ => break,
        }
    }
    entries.truncate(limit);
    Ok(entries)
}

/// The entries one commit holds for `target` (a group commit may hold several), landed on the
/// branch through `review` if any.
fn entries_of(
    commit: &CommitInfo,
    target: &str,
    review: Option<&HistoryReview>,
) -> Vec<HistoryEntry> {
    let targets = trailer_values(&commit.message, TARGET);
    let ids = trailer_values(&commit.message, MUTATION_ID);
    let by = trailer_values(&commit.message, REQUESTED_BY);
    let kinds = trailer_values(&commit.message, KIND);
    let tags = trailer_values(&commit.message, TAG);
    targets
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == target || target.split_once('/').is_some_and(|(app, _)| **t == app))
        .map(|(i, _)| {
            let (before, after) = tags
                .get(i)
                .and_then(|t| t.split_once(" -> "))
                .unwrap_or(("-", "-"));
            let tag = |t: &str| (t != "-").then(|| t.to_owned());
            HistoryEntry {
                commit: commit.id.0.clone(),
                url: commit.url.clone(),
                mutation_id: ids.get(i).map(|s| (*s).to_owned()),
                requested_by: by.get(i).map(|s| (*s).to_owned()),
                kind: kinds.get(i).map(|s| (*s).to_owned()).unwrap_or_default(),
                tag_before: tag(before),
                tag_after: tag(after),
                review: review.cloned(),
            }
        })
        .collect()
}
