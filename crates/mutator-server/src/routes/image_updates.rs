use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use mutator_core::image_edit::ImageChange;

use super::outcome_response;
use crate::api::{ImageUpdateRequest, MutationResponse};
use crate::app::Limits;
use crate::auth::Principal;
use crate::extract::{ApiJson, IdempotencyKey};
use crate::policy::{Action, Policy, Subject};
use crate::problem::Problem;
use crate::service::{Caller, Intent, Mutator, ServiceError};

/// Set the image of one application environment in its values file.
#[utoipa::path(
    post,
    path = "/v1/image-updates",
    tag = "mutations",
    request_body = ImageUpdateRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first answer without a second commit (1 to 255 printable ASCII characters)")),
    responses(
        (status = 201, description = "Committed", body = MutationResponse),
        (status = 200, description = "Noop, dry run or idempotent replay", body = MutationResponse),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The policy does not allow this caller to make this change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown repository or branch, or missing values file", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "expected.tag differs from the current tag, or a conflict retries could not resolve", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The values file cannot be edited safely, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Repository unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The request took longer than the configured timeout", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn image_update(
    State(mutator): State<Arc<Mutator>>,
    State(policy): State<Arc<Policy>>,
    State(limits): State<Limits>,
    Extension(principal): Extension<Principal>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson { body, digest }: ApiJson<ImageUpdateRequest>,
) -> Result<Response, Problem> {
    if body.image.tag.is_none() && body.image.digest.is_none() {
        return Err(ServiceError::NothingToSet.into());
    }
    let repo = mutator.repository(body.target.repository.as_ref())?;
    let branch = body
        .target
        .branch
        .clone()
        .unwrap_or_else(|| repo.settings.branch.clone());
    let subject = Subject {
        action: Action::ImageUpdate,
        repository: repo.settings.name.to_string(),
        application: Some(body.application.to_string()),
        environment: Some(body.environment.to_string()),
        template: None,
    };
    let allowed = policy
        .decide(&principal, &subject)
        .map_err(Problem::forbidden)?;
    if body.force {
        // Overriding a pin is as strong as rolling back: it needs that permission.
        let rollback = Subject {
            action: Action::Rollback,
            ..subject.clone()
        };
        policy.decide(&principal, &rollback).map_err(|e| {
            Problem::forbidden(format!("\"force\" needs the rollback permission: {e}"))
        })?;
    }
    let (app, env) = (body.application.clone(), body.environment.clone());
    let intent = Intent::ImageUpdate {
        application: body.application,
        environment: body.environment,
        change: ImageChange {
            tag: body.image.tag,
            repository: body.image.repository,
            digest: body.image.digest,
        },
        expected: body.expected.tag,
        order: body.order,
        kind: crate::service::UpdateKind::Update,
        force: body.force,
    };
    let caller = Caller {
        requested_by: allowed.requested_by(&principal),
        key,
    };
    // A request that names its branch commits there; otherwise the environment's policy decides.
    let work = async {
        if body.target.branch.is_some() {
            mutator
                .apply(repo, &branch, intent, &caller, &digest, body.dry_run)
                .await
        } else {
            mutator
                .apply_to_environment(
                    repo,
                    &branch,
                    &app,
                    &env,
                    intent,
                    &caller,
                    &digest,
                    body.dry_run,
                )
                .await
        }
    };
    let outcome = tokio::time::timeout(limits.request_timeout, work).await.map_err(|_| {
        Problem::timeout(
            "the change did not finish in time; it was committed whole or not at all: retry with the same Idempotency-Key to learn which",
        )
    })??;
    Ok(outcome_response(outcome))
}
