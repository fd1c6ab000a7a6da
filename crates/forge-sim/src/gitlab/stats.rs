//! Request counters of the GitLab simulator.

use std::collections::BTreeMap;

use serde::Serialize;

/// A snapshot of the GitLab simulator's counters since start or the last reset.
///
/// Route keys are `"METHOD template"` with the route template below `/api/v4`, e.g.
/// `"POST /projects/{id}/repository/commits"` or `"HEAD /projects/{id}/repository/files/{file_path}"`;
/// unknown paths count as `"METHOD <unmatched>"`. Token keys are `token:<username>` for valid
/// tokens and `anonymous` for requests without a valid one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GitlabStats {
    /// Every API request (the `/_sim` control surface is not counted).
    pub total_requests: u64,
    /// Requests per `"METHOD template"`.
    pub by_route: BTreeMap<String, u64>,
    /// Requests per token.
    pub by_token: BTreeMap<String, u64>,
    /// Requests with a method other than GET/HEAD/OPTIONS, admitted or not.
    pub writes: u64,
    /// Commits created through `POST /projects/:id/repository/commits`.
    pub commits_created: u64,
    /// Merge requests created through the API.
    pub merge_requests_created: u64,
    /// Requests answered 429 (forced by `set_rate_limit` or over the per-minute budget).
    pub rate_limited: u64,
    /// Requests answered (or overwritten) by an injected 5xx.
    pub faults_injected: u64,
    /// Foreign commits pushed by an armed foreign push.
    pub foreign_pushes: u64,
}

impl GitlabStats {
    /// Count for one route, e.g. `stats.route("POST", "/projects/{id}/repository/commits")`.
    pub fn route(&self, method: &str, template: &str) -> u64 {
        self.by_route
            .get(&format!("{method} {template}"))
            .copied()
            .unwrap_or(0)
    }

    /// Sum over every route whose key contains `needle` (e.g. `"/repository/files/"`).
    pub fn routes_matching(&self, needle: &str) -> u64 {
        self.by_route
            .iter()
            .filter(|(k, _)| k.contains(needle))
            .map(|(_, v)| *v)
            .sum()
    }
}
