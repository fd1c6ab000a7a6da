//! The pure heart of gitops-mutator.
//!
//! Domain types are parsed once at the edge and cannot hold bad values ([`names`], [`image`],
//! [`path`]); change sets describe what one request writes ([`change`]); image edits plan the
//! surgical change of a values file ([`image_edit`]); commit messages carry the trailers that make
//! git the journal ([`message`]).
//!
//! This crate must stay pure: no I/O, no async, no forge, no HTTP. Everything here is a function
//! from values to values, so it can be tested exhaustively and re-applied on a newer head.

pub mod change;
pub mod diff;
pub mod image;
pub mod image_edit;
pub mod layout;
pub mod message;
pub mod names;
pub mod path;

pub use change::{ChangeSet, FileAction, FileChange, FileOp};
pub use image::{ImageDigest, ImageRepository, ImageTag};
pub use layout::{ImageFormat, ImageKeys, NameTemplate, PathTemplate, ValuesLayout};
pub use message::{CommitMessage, Trailer};
pub use names::{AppName, BranchName, EnvName, MutationId, RepoName};
pub use path::RepoPath;
