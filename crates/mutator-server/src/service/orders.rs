//! The supersession guard: per application environment, the highest `order` applied so far,
//! read from the `Gitops-Order` trailers of the branch history. It is caught up with the head
//! before each batch that needs it, so it holds across restarts and across replicas.

use std::collections::HashMap;

use mutator_core::message::{ORDER, trailer_values};
use mutator_forge::{CommitId, Forge, ForgeError};

/// How far back the history is read the first time (or when the branch was rewritten).
const FULL_SCAN: usize = 1000;
/// How many commits are read first when catching up; most of the time the last scanned head
/// is among them.
const SHORT_SCAN: usize = 20;

#[derive(Default)]
pub struct OrderBook {
    scanned: Option<CommitId>,
    orders: HashMap<String, u64>,
}

impl OrderBook {
    /// The last applied order of `target` (`app/env`).
    pub fn last(&self, target: &str) -> Option<u64> {
        self.orders.get(target).copied()
    }

    /// Reads the commits between the last scanned head and `head`.
    pub async fn catch_up(&mut self, forge: &dyn Forge, head: &CommitId) -> Result<(), ForgeError> {
        if self.scanned.as_ref() == Some(head) {
            return Ok(());
        }
        let mut commits = forge.recent_commits(head, SHORT_SCAN).await?;
        let found = |commits: &[mutator_forge::CommitInfo], scanned: &Option<CommitId>| {
            scanned
                .as_ref()
                .and_then(|s| commits.iter().position(|c| &c.id == s))
        };
        let mut stop = found(&commits, &self.scanned);
        if stop.is_none() && commits.len() == SHORT_SCAN {
            commits = forge.recent_commits(head, FULL_SCAN).await?;
            stop = found(&commits, &self.scanned);
        }
        if stop.is_none() {
            // The last scanned head is not an ancestor within reach: start over.
            self.orders.clear();
        }
        for commit in commits.iter().take(stop.unwrap_or(commits.len())) {
            for value in trailer_values(&commit.message, ORDER) {
                if let Some((target, order)) = value.rsplit_once('=')
                    && let Ok(order) = order.parse::<u64>()
                {
                    let slot = self.orders.entry(target.to_owned()).or_insert(order);
                    *slot = (*slot).max(order);
                }
            }
        }
        self.scanned = Some(head.clone());
        Ok(())
    }

    /// Records what a commit of ours applied, on top of the head it was built on.
    pub fn record(&mut self, parent: &CommitId, commit: &CommitId, applied: &HashMap<String, u64>) {
        if self.scanned.as_ref() != Some(parent) {
            return;
        }
        for (target, order) in applied {
            let slot = self.orders.entry(target.clone()).or_insert(*order);
            *slot = (*slot).max(*order);
        }
        self.scanned = Some(commit.clone());
    }
}
