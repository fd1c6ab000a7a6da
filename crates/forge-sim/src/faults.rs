//! Injected trouble: latency, deterministic 5xx answers, and "someone else pushed between your
//! read and your write".
//!
//! Nothing here is random: a 5xx comes on every n-th request by a counter, so a failing test
//! fails the same way every run.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::git_store::{self, Change, Person};
use crate::state::RepoEntry;

/// When an injected 5xx is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTiming {
    /// Instead of running the request: nothing changed on the "server".
    #[default]
    BeforeHandler,
    /// After running the request: the write may have happened although the client sees a 5xx
    /// (GitHub's GraphQL timeouts behave like this, forge-facts §B.2).
    AfterHandler,
}

/// A commit by "someone else" waiting for the next read of a branch.
#[derive(Debug, Clone)]
pub(crate) struct ForeignPush {
    pub(crate) repo_key: String,
    pub(crate) branch: String,
    pub(crate) path: String,
    pub(crate) content: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) latency: Duration,
    every: u64,
    status: Option<StatusCode>,
    timing: FaultTiming,
    counter: u64,
    foreign: Vec<ForeignPush>,
}

impl Faults {
    pub(crate) fn set_fault_every(&mut self, every: u64, status: StatusCode, timing: FaultTiming) {
        self.every = every;
        self.status = Some(status);
        self.timing = timing;
        self.counter = 0;
    }

    /// Counts one API request; says whether it is the n-th that must fail, and how.
    pub(crate) fn next_fault(&mut self) -> Option<(StatusCode, FaultTiming)> {
        if self.every == 0 {
            return None;
        }
        self.counter += 1;
        if self.counter.is_multiple_of(self.every) {
            self.status.map(|s| (s, self.timing))
        } else {
            None
        }
    }

    pub(crate) fn arm_foreign(&mut self, push: ForeignPush) {
        self.foreign.push(push);
    }

    pub(crate) fn foreign_pending(&self) -> usize {
        self.foreign.len()
    }

    /// Removes and returns the first armed push for this branch, if any.
    pub(crate) fn take_foreign(&mut self, repo_key: &str, branch: &str) -> Option<ForeignPush> {
        let idx = self
            .foreign
            .iter()
            .position(|f| f.repo_key == repo_key && f.branch == branch)?;
        Some(self.foreign.remove(idx))
    }

    /// Branches of `repo_key` that have an armed push.
    pub(crate) fn armed_branches(&self, repo_key: &str) -> Vec<String> {
        self.foreign
            .iter()
            .filter(|f| f.repo_key == repo_key)
            .map(|f| f.branch.clone())
            .collect()
    }

    pub(crate) fn clear(&mut self) {
        *self = Faults::default();
    }
}

/// The author of foreign pushes: clearly not the backend under test.
pub(crate) fn foreign_author() -> Person {
    Person::new("foreign-writer", "foreign@sim.invalid")
}

/// Commits `push` on top of its branch (plain, unsigned, like a developer's `git push`).
/// Returns the new head, or `None` when the branch no longer exists.
pub(crate) fn apply_foreign_push(
    entry: &RepoEntry,
    push: &ForeignPush,
) -> Result<Option<git2::Oid>, git2::Error> {
    let _guard = entry.lock_writes();
    let repo = git_store::open(&entry.path)?;
    let Some(head) = git_store::branch_head(&repo, &push.branch)? else {
        return Ok(None);
    };
    let base = repo.find_commit(head)?.tree()?;
    let mut changes = BTreeMap::new();
    changes.insert(push.path.clone(), Change::Put(push.content.clone()));
    if git_store::check_changes(Some(&base), &changes)?.is_some() {
        return Err(git2::Error::from_str(
            "foreign push path collides with a directory",
        ));
    }
    let tree = git_store::build_tree(&repo, Some(&base), &changes)?;
    let author = foreign_author();
    let oid = git_store::write_commit(
        &repo,
        tree,
        &[head],
        &author,
        &author,
        &format!("Foreign change to {}", push.path),
        None,
    )?;
    match git_store::cas_ref(
        &repo,
        &format!("refs/heads/{}", push.branch),
        oid,
        Some(head),
        "forge-sim: foreign push",
    ) {
        Ok(()) => Ok(Some(oid)),
        Err(git_store::CasError::Stale) => Ok(None),
        Err(git_store::CasError::Git(e)) => Err(e),
    }
}
