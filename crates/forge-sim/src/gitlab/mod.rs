//! A stateful simulator of the part of GitLab's REST API v4 that gitops-mutator's GitLab backend
//! uses, backed by real bare git repositories (the same storage code as the GitHub simulator,
//! [`crate::git_store`]). **Development and test only**, like the rest of this crate.
//!
//! ```no_run
//! let gl = forge_sim::GitlabSim::start()?;
//! let (id, _git_dir) = gl.create_project("acme/platform/gitops", "main")?;
//! gl.add_token("glpat-write", "alice", &["api"]);
//! // point the backend at gl.api_url() (`http://127.0.0.1:PORT/api/v4`) ...
//! gl.set_rate_limit(1, 2); // the next request answers 429 with `Retry-After: 2`
//! # let _ = id;
//! # Ok::<(), forge_sim::SimError>(())
//! ```
//!
//! # What it serves, and which facts each behaviour follows
//!
//! References are to `../shared/forge-facts.md`. "Guess" marks what no fact pins down.
//!
//! - **Routing** (§G.1): `:id` is the numeric id or the URL-encoded `group%2Fsub%2Fname`; file
//!   paths and branch names arrive with `%2F`. axum matches routes on the *raw* request path,
//!   so `%2F` never splits a segment; each segment is percent-decoded only after matching.
//!   An unencoded `/` in a file path or branch therefore does not match (as behind a decoding
//!   proxy) and answers `404 {"error":"404 Not Found"}` (body shape: guess).
//! - **Auth** (§G.1): `PRIVATE-TOKEN` or `Authorization: Bearer`; missing or unknown → 401
//!   `{"message":"401 Unauthorized"}`; scope `api` may do anything, `read_api` only GET/HEAD,
//!   otherwise 403 `{"error":"insufficient_scope",...,"scope":"api"}`. Every token sees every
//!   project (no membership model); a token's `error_description` text is GitLab's OAuth one.
//! - **Rate limits** (§G.5): every response carries `RateLimit-Limit/-Observed/-Remaining/-Reset/
//!   -ResetTime/-Name` and `X-Request-Id`. Budgets are fixed one-minute windows per token
//!   (2,000/min authenticated, 500/min anonymous, as on GitLab.com). A throttled request answers
//!   429 `Retry later\n` (text, as Rack::Attack does) with `Retry-After`. The GitLab.com
//!   exemption of the Projects/Users API from these headers is not modelled.
//! - **Commits API** (§G.2, §0 item 8): no start point → the commit is built on the branch tip
//!   read under the project's write lock and the branch moves by compare-and-swap, so commits
//!   by others are built upon, never overwritten. `start_branch`/`start_sha` for an existing
//!   `branch` without `force` → 400 "A branch called ... already exists"; `force` overwrites.
//!   `last_commit_id` is checked for update/move/delete/chmod (move: against `previous_path`)
//!   against the start commit; every failure is 400 `{"message": ...}`; success is 201.
//!   Guesses: a lost CAS says "Could not update refs/heads/<b>. Please refresh and try again.";
//!   "create" under a path whose parent is a file says "A file with this name already exists";
//!   bad base64 says "actions[i][content] is not valid base64"; an invalid new branch name says
//!   "Branch name is invalid"; a commit into a project with no commit at all is refused.
//!   Missing required parameters answer Grape's `400 {"error":"<p> is missing"}` (GitLab's
//!   parameter validation shape, not stated in the facts).
//! - **Form bodies**: `application/x-www-form-urlencoded` is parsed with Rack's nesting rules:
//!   `actions[][k]` adds `k` to the last action unless it already has `k`, which then starts a
//!   new action (so each `actions[][action]` of the `gitlab` crate starts one); `actions[0][k]`
//!   indexes explicitly. Query-string parameters are merged under body parameters, as in Rack.
//! - **Files** (§G.3): `last_commit_id` is the newest commit on the first-parent chain of `ref`
//!   whose entry (blob and mode) for the path differs from its parent's; GitLab walks the full
//!   history, which differs only when a path changed on a merged side branch (guess that no
//!   client relies on that). A bad `ref` answers `404 Commit Not Found` (GitLab's handler).
//!   `HEAD` answers the same `X-Gitlab-*` headers without a body; `raw` defaults `ref` to HEAD.
//! - **Branches** (§G.3): create answers 201; "Branch already exists", "Invalid reference name:
//!   <ref>" are 400. Delete answers 204, `404 Branch Not Found`, and 405 "Cannot remove HEAD
//!   branch" for the default branch.
//! - **Compare**: `commits` are `git log from..to` (GitLab's `Gitlab::Git::Compare`), oldest
//!   first; `diffs` from the merge base (or `from` with `straight=true`); unknown refs are
//!   `404 Ref Not Found`. No answer cache, no size limits.
//! - **Commit lists**: newest first over the whole history (topological, then time), with
//!   `X-Page`, `X-Per-Page`, `X-Next-Page` (empty on the last page), `X-Prev-Page`; `per_page`
//!   is clamped to 1..=100. `ref_name` may be a range `FROM..TO`; `first_parent=true` follows
//!   only first parents at merges (both documented parameters of the Commits API). An unknown
//!   `ref_name` lists nothing (guess).
//! - **Merge requests** (§G.4): duplicate open MR for the same source and target → 409 with a
//!   `message` **array**; "Source branch \"x\" does not exist", "Target branch ...", "You must
//!   select different branches" are `base` errors, which GitLab's `handle_merge_request_errors!`
//!   answers 422 with a message array. The list's default `state` is `all`, as on GitLab.
//!   [`GitlabControl::merge_merge_request`] always writes a merge commit (GitLab's default
//!   merge method) with GitLab's default merge commit template: `Merge branch 'SOURCE' into
//!   'TARGET'`, the title, and `See merge request GROUP/PROJECT!IID` (the full reference since
//!   GitLab 10.0); the template's `%{issues}` line is left out (no issues are simulated).
//!   [`GitlabControl::close_merge_request`] closes one without merging. A merged or closed
//!   merge request keeps the `sha` it had then; an open one shows its branch's head.
//! - **Faults**: latency, a deterministic n-th-request 5xx before or after the handler
//!   (body `{"message":"<code> <reason>"}`), and foreign pushes fired right after a files or
//!   branch read of the armed branch (by name, `HEAD` for the default branch, or the branch's
//!   current head SHA), exactly as the GitHub simulator's.
//!
//! Gate order for each API request: count → latency → forced 429 → authenticate (401) →
//! per-minute budget (429) → scope (403) → 5xx before → handler → 5xx after → headers.

mod auth;
mod branches;
mod commit_create;
mod commit_request;
mod commits;
mod compare;
mod control;
mod diffs;
mod error;
mod files;
mod foreign;
mod history;
mod http_control;
mod json;
mod limits;
mod merge_requests;
mod params;
mod process;
mod projects;
mod running;
mod server;
mod state;
mod stats;
mod tree_edit;

pub use control::GitlabControl;
pub use merge_requests::{MergeRequest, MergeRequestState};
pub use process::{
    GITLAB_USAGE, GitlabProcessArgs, gitlab_main_like, gitlab_parse_args, gitlab_run_blocking,
};
pub use running::{GitlabSim, GitlabSimBuilder, RunningGitlabSim};
pub use stats::GitlabStats;
