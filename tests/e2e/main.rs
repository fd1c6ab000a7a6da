//! End-to-end tests: the real binary, a real bare git repository, real HTTP over loopback.

mod auth;
mod bad_input;
mod git;
mod harness;
mod image_update;
mod scaffold;
