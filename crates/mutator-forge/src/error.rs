//! What can go wrong at a forge, told apart so the layer above knows what to retry.

/// A forge failure. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The branch moved since it was read (compare-and-swap failed): re-read and re-apply.
    #[error("branch {branch} moved: expected head {expected}, found {actual}")]
    Conflict {
        branch: String,
        expected: String,
        actual: String,
    },
    /// The repository or branch does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The repository is there but could not be read or written.
    #[error("repository {repo} is unavailable: {message}")]
    Unavailable { repo: String, message: String },
    /// The forge refused the change for a reason retrying will not fix.
    #[error("{0}")]
    Rejected(String),
}

impl ForgeError {
    /// Whether re-reading and trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ForgeError::Conflict { .. })
    }
}
