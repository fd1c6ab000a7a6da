//! Request counters, so tests can assert how many calls (and which) a backend made.

use std::collections::BTreeMap;

use serde::Serialize;

/// A snapshot of the simulator's counters since start or the last reset.
///
/// Route keys are `"METHOD template"` with axum's route template, e.g.
/// `"GET /repos/{owner}/{repo}/git/ref/{*ref}"` or `"POST /graphql"`; unknown paths count as
/// `"METHOD <unmatched>"`. Credential keys are `token:<login>` for static tokens,
/// `installation:<id>#<n>` for the n-th installation token issued, `app:<id>` for app JWTs and
/// `anonymous` for requests without valid credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Every API request (the `/_sim` control surface is not counted).
    pub total_requests: u64,
    /// Requests per `"METHOD template"`.
    pub by_route: BTreeMap<String, u64>,
    /// Requests per credential.
    pub by_credential: BTreeMap<String, u64>,
    /// Content-creating requests: REST POST/PATCH/PUT/DELETE (app token endpoints excluded) and
    /// GraphQL mutations, whether admitted or refused.
    pub content_creating: u64,
    /// GraphQL documents that were mutations.
    pub graphql_mutations: u64,
    /// Requests refused by the primary limit.
    pub primary_limited: u64,
    /// Requests refused by the secondary limit.
    pub secondary_limited: u64,
    /// Requests answered (or overwritten) by an injected 5xx.
    pub faults_injected: u64,
    /// Foreign commits pushed by an armed foreign push.
    pub foreign_pushes: u64,
    /// Commits created through the API (`createCommitOnBranch`).
    pub commits_created: u64,
}

impl Stats {
    /// Count for one route, e.g. `stats.route("PATCH", "/repos/{owner}/{repo}/git/refs/{*ref}")`.
    pub fn route(&self, method: &str, template: &str) -> u64 {
        self.by_route
            .get(&format!("{method} {template}"))
            .copied()
            .unwrap_or(0)
    }

    /// Sum over every route whose key contains `needle` (e.g. `"/git/ref/"`).
    pub fn routes_matching(&self, needle: &str) -> u64 {
        self.by_route
            .iter()
            .filter(|(k, _)| k.contains(needle))
            .map(|(_, v)| *v)
            .sum()
    }
}
