//! What can go wrong at a forge, told apart so the layer above knows what to retry.

use std::time::Duration;

/// A forge failure. Messages never contain credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ForgeError {
    /// The branch moved since it was read (compare-and-swap failed): re-read and re-apply.
    #[error("branch {branch} moved: expected head {expected}, found {actual}")]
    Conflict {
        branch: String,
        expected: String,
        actual: String,
    },
    /// The repository, branch or object does not exist (or the credentials cannot see it).
    #[error("{0}")]
    NotFound(String),
    /// The forge asks us to slow down; `retry_after` is how long it said to wait, if it said.
    #[error("rate limited by the forge: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// A failure that may pass: a 5xx, a timeout, a dropped connection.
    #[error("the forge failed transiently: {0}")]
    Transient(String),
    /// The credentials were refused. Retrying will not help.
    #[error("the forge refused the credentials: {0}")]
    Unauthorized(String),
    /// The repository is there but could not be read or written (local I/O, corrupt data).
    #[error("repository {repo} is unavailable: {message}")]
    Unavailable { repo: String, message: String },
    /// The forge refused the change for a reason retrying will not fix.
    #[error("{0}")]
    Rejected(String),
}

impl ForgeError {
    /// Whether re-reading and trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ForgeError::Conflict { .. } | ForgeError::RateLimited { .. } | ForgeError::Transient(_)
        )
    }
}
