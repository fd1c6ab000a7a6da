//! End-to-end tests: the real binary, a real bare git repository, real HTTP over loopback.

// Test helpers panic with a message on anything unexpected: that is the failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod backends;
mod bad_input;
mod environments;
mod git;
// The smart-HTTP test server is shared with the remote git backend's own tests.
#[path = "../../crates/mutator-forge/tests/support/git_http.rs"]
mod git_http;
mod github;
mod gitlab;
mod harness;
mod image_update;
mod lanes;
mod lifecycle;
mod policy;
mod promotions;
mod remote_git;
mod render_cli;
mod review_rounds;
mod rollbacks;
mod scaffold;
#[path = "../../crates/mutator-forge/tests/support/tls.rs"]
mod tls;
