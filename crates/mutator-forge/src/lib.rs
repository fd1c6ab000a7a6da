//! Where commits land: the [`Forge`] trait and its backends.
//!
//! A forge reads a branch head and files at an exact commit, and moves a branch by
//! compare-and-swap onto a new commit holding a whole change set. Nothing else: rendering,
//! editing and policy live above, so every backend (local git, GitHub, GitLab) stays small
//! and can be tested against a real repository or a simulator.
//!
//! This crate must not depend on the HTTP server, the renderer or any configuration format;
//! credentials arrive as values, never as file names or environment variables.

mod error;
mod forge;
mod git_objects;
pub mod github;
pub mod gitlab;
mod local_git;
mod remote_git;
mod retry;

pub use error::ForgeError;
pub use forge::{
    CommitId, CommitInfo, CommitRequest, Forge, LandedReview, ReviewRequest, ReviewState,
    ReviewStatus, Signature,
};
pub use github::GitHub;
pub use gitlab::GitLab;
pub use local_git::LocalGit;
pub use remote_git::{RemoteAuth, RemoteGit, RemoteGitSettings};
pub use retry::retry_read;
