//! The GitLab simulator over real HTTP on loopback: each route's success and documented error
//! answers, form-encoded commits, `last_commit_id` conflicts, foreign pushes, rate limits,
//! scopes, `%2F` paths and the merge request 409.

// Shared helpers are not `#[test]` functions, so clippy.toml's test allowance does not reach
// them; a failed unwrap there is still a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod auth_projects;
mod branches;
mod commit_create;
mod commit_errors;
mod commits_read;
mod compare;
mod control;
mod files;
mod foreign;
mod limits_faults;
mod merge_requests;
