//! forge-sim over real HTTP on loopback: every endpoint's success and documented error
//! answers, limits, faults and the GitHub App flow.

// The shared helpers are not `#[test]` functions, so clippy.toml's test allowance does not
// reach them; a failed unwrap there is still a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod apps;
mod commits;
mod contents;
mod control;
mod graphql;
mod limits_faults;
mod pulls;
mod refs;
