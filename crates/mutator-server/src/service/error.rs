//! Why a mutation failed, and the one place where that becomes an HTTP problem.

use mutator_core::image_edit::ImageEditError;
use mutator_forge::ForgeError;
use mutator_render::RenderError;

use crate::problem::{FieldError, Problem};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("unknown repository {name:?}; configured: {known}")]
    UnknownRepository { name: String, known: String },
    #[error("branch {branch} does not exist in repository {repository}")]
    UnknownBranch { repository: String, branch: String },
    #[error(
        "{path} does not exist on branch {branch}: scaffold the application first or fix the repository's layout.values"
    )]
    ValuesFileMissing { path: String, branch: String },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("{path}: {source}")]
    Edit {
        path: String,
        // Boxed: the YAML error is large, and every Result of the service carries this enum.
        source: Box<ImageEditError>,
    },
    #[error("the request needs image.tag or image.digest")]
    NothingToSet,
    #[error(
        "Idempotency-Key {key:?} was already used for a different request (commit {commit}); use a new key"
    )]
    KeyReused { key: String, commit: String },
    #[error(
        "branch {branch} kept moving while this change was applied ({attempts} attempts); try again"
    )]
    TooManyConflicts { branch: String, attempts: u32 },
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error("the repository's queue is full or shutting down; try again shortly")]
    Busy,
    #[error(
        "{target} is pinned by {by} ({reason}); lift the pin with DELETE /v1/pins/{target}, or send \"force\": true if the policy allows you to roll back there"
    )]
    Pinned {
        target: String,
        by: String,
        reason: String,
    },
    #[error("{0}")]
    RollbackSource(String),
    #[error(
        "{target} already runs a change with order {last}; order {order} is older and was not applied"
    )]
    Superseded {
        target: String,
        order: u64,
        last: u64,
    },
}

impl ServiceError {
    /// The same failure for another request of the batch it ended.
    pub fn duplicate(&self) -> ServiceError {
        match self {
            ServiceError::Forge(e) => ServiceError::Forge(e.clone()),
            ServiceError::UnknownBranch { repository, branch } => ServiceError::UnknownBranch {
                repository: repository.clone(),
                branch: branch.clone(),
            },
            ServiceError::Busy => ServiceError::Busy,
            ServiceError::Pinned { target, by, reason } => ServiceError::Pinned {
                target: target.clone(),
                by: by.clone(),
                reason: reason.clone(),
            },
            other => ServiceError::Forge(ForgeError::Rejected(other.to_string())),
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        let detail = e.to_string();
        match e {
            ServiceError::UnknownRepository { .. } => {
                Problem::not_found("unknown-repository", detail)
            }
            ServiceError::UnknownBranch { .. } => Problem::not_found("unknown-branch", detail),
            ServiceError::ValuesFileMissing { .. } => {
                Problem::not_found("values-file-missing", detail)
            }
            ServiceError::Render(RenderError::UnknownTemplate { .. }) => {
                Problem::not_found("unknown-template", detail)
            }
            ServiceError::Render(RenderError::InvalidValues(errors)) => Problem::invalid(
                "the template values are invalid",
                errors
                    .into_iter()
                    .map(|f| FieldError {
                        field: f.field,
                        message: f.message,
                    })
                    .collect(),
            ),
            ServiceError::Render(RenderError::Template { .. }) => {
                Problem::unprocessable("render-failed", detail)
            }
            ServiceError::Edit { source, .. }
                if matches!(*source, ImageEditError::PreconditionFailed { .. }) =>
            {
                Problem::conflict("precondition-failed", detail)
            }
            ServiceError::Edit { .. } => Problem::unprocessable("values-file-unsupported", detail),
            ServiceError::NothingToSet => {
                Problem::invalid_field("image", "give image.tag or image.digest")
            }
            ServiceError::KeyReused { .. } => {
                Problem::unprocessable("idempotency-key-reused", detail)
            }
            ServiceError::TooManyConflicts { .. } => Problem::conflict("conflict", detail),
            ServiceError::Forge(ForgeError::Conflict { .. }) => {
                Problem::conflict("conflict", detail)
            }
            ServiceError::Forge(ForgeError::NotFound(_)) => Problem::not_found("not-found", detail),
            ServiceError::Forge(ForgeError::Unavailable { .. }) => {
                tracing::error!(error = %detail, "forge unavailable");
                Problem::unavailable("the repository could not be reached; try again later")
            }
            ServiceError::Forge(ForgeError::Rejected(_)) => {
                Problem::unprocessable("rejected", detail)
            }
            ServiceError::Superseded { .. } => Problem::conflict("superseded", detail),
            ServiceError::Pinned { .. } => Problem::locked(detail),
            ServiceError::RollbackSource(_) => {
                Problem::not_found("rollback-source-missing", detail)
            }
            ServiceError::Busy => {
                let mut p = Problem::unavailable(detail);
                p.retry_after = Some(1);
                p
            }
            ServiceError::Forge(ForgeError::RateLimited { retry_after, .. }) => {
                Problem::rate_limited(detail, retry_after.map_or(60, |d| d.as_secs().max(1)))
            }
            ServiceError::Forge(ForgeError::Transient(_)) => {
                tracing::error!(error = %detail, "forge failed");
                Problem::bad_gateway(
                    "forge-failed",
                    "the repository's forge failed; try again later",
                )
            }
            ServiceError::Forge(ForgeError::Unauthorized(_)) => {
                tracing::error!(error = %detail, "forge refused the service's credentials");
                Problem::bad_gateway(
                    "forge-unauthorized",
                    "the forge refused this service's credentials for the repository; an operator must fix its auth",
                )
            }
        }
    }
}
