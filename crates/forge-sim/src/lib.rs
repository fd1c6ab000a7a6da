//! A stateful simulator of the part of GitHub's REST and GraphQL APIs that gitops-mutator's
//! GitHub backend uses, backed by real bare git repositories.
//!
//! **Development and test only.** Nothing in a production code path may depend on this crate:
//! it has no real security (tokens are whatever the test registers, the `/_sim` control surface
//! is unauthenticated) and it imitates GitHub's documented behaviour, not its implementation.
//! It depends on no other workspace crate, so the backend it tests cannot leak into it.
//!
//! What it serves (see `../shared/forge-facts.md` §A–E for the facts followed):
//! - refs: `GET git/ref/{ref}`, `POST git/refs`, `PATCH`/`DELETE git/refs/{ref}` with GitHub's
//!   404/409/422 rules (a missing ref on PATCH is 422, non-fast-forward is 422);
//! - `GET contents/{path}` (raw, JSON with wrapped base64, `encoding: "none"` above 1 MB);
//! - `GET commits` (every reachable commit, as GitHub lists them), `GET commits/{ref}`,
//!   `GET git/commits/{sha}` with `verification`, `GET compare/{BASE...HEAD}`;
//! - `POST /graphql` `createCommitOnBranch` with `STALE_DATA`, coercion and deletion errors;
//!   commits by app installation tokens are "signed" and verify, others do not;
//! - pull requests (list, create, get; `merged_at`/`closed_at`; a merged or closed one keeps
//!   the head it ended with; test hooks merge with a merge commit or squash, or close);
//! - GitHub App JWT verification, installation look-up and installation tokens.
//!
//! A GitLab REST API v4 simulator over the same storage is in [`GitlabSim`] (module
//! `gitlab`, forge-facts §G).
//!
//! Every response carries the `x-ratelimit-*` and `x-github-request-id` headers. Primary and
//! secondary rate limits, latency, deterministic 5xx answers and "foreign pushes" between a
//! read and a write are switched at run time through [`Sim`] (or `/_sim/...` over HTTP).
//!
//! ```no_run
//! let sim = forge_sim::GithubSim::start()?;
//! sim.create_repo("acme", "gitops", "main")?;
//! sim.add_token("t0k3n", "alice");
//! // point the backend at sim.base_url() ...
//! sim.set_secondary_limit(1, Some(0)); // the next write gets a secondary-limit 403
//! # Ok::<(), forge_sim::SimError>(())
//! ```

mod apps;
mod auth;
mod clock;
mod control;
mod error;
mod faults;
mod git_store;
mod gitlab;
mod graphql;
mod ids;
mod limits;
mod process;
mod pull_merge;
mod pulls;
mod rest;
mod running;
mod server;
mod sim;
mod state;
mod stats;

pub use error::SimError;
pub use faults::FaultTiming;
pub use gitlab::{
    GITLAB_USAGE, GitlabControl, GitlabProcessArgs, GitlabSim, GitlabSimBuilder, GitlabStats,
    MergeRequest, MergeRequestState, RunningGitlabSim, gitlab_main_like, gitlab_parse_args,
    gitlab_run_blocking,
};
pub use limits::{PrimaryLimit, Resource};
pub use process::{ProcessArgs, USAGE, main_like, parse_args, run_blocking};
pub use pull_merge::MergeMethod;
pub use running::{GithubSim, RunningSim, SimBuilder};
pub use server::{serve, serve_with_shutdown};
pub use sim::Sim;
pub use stats::Stats;
