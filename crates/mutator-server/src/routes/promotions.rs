use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use mutator_core::image_edit::{ImageChange, read_image_state};
use mutator_core::{ImageDigest, ImageRepository, ImageTag};

use super::outcome_response;
use crate::api::{MutationResponse, PromotionRequest};
use crate::app::Limits;
use crate::auth::Principal;
use crate::extract::{ApiJson, IdempotencyKey};
use crate::policy::{Action, Policy, Subject};
use crate::problem::Problem;
use crate::service::{Caller, Intent, Mutator, ServiceError, UpdateKind};

/// Copy the image of one environment to another, through the target environment's policy.
#[utoipa::path(
    post,
    path = "/v1/promotions",
    tag = "environments",
    request_body = PromotionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first answer without a second commit")),
    responses(
        (status = 201, description = "Committed, or committed for review", body = MutationResponse),
        (status = 200, description = "Noop, dry run, idempotent replay, or already waiting for review", body = MutationResponse),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The policy does not allow this promotion", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A values file is missing", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A conflict that retries could not resolve", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A values file cannot be read or edited safely", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The request took longer than the configured timeout", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn promote(
    State(mutator): State<Arc<Mutator>>,
    State(policy): State<Arc<Policy>>,
    State(limits): State<Limits>,
    Extension(principal): Extension<Principal>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson { body, digest }: ApiJson<PromotionRequest>,
) -> Result<Response, Problem> {
    if body.from == body.to {
        return Err(Problem::invalid_field(
            "to",
            "promote to another environment than `from`",
        ));
    }
    let repo = mutator.repository(body.target.repository.as_ref())?;
    let branch = body
        .target
        .branch
        .clone()
        .unwrap_or_else(|| repo.settings.branch.clone());
    let subject = Subject {
        action: Action::Promote,
        repository: repo.settings.name.to_string(),
        application: Some(body.application.to_string()),
        environment: Some(body.to.to_string()),
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

    // The source image is read from the base branch now: the promotion carries that image,
    // whatever staging runs by the time the change lands.
    let forge = repo.forge.as_ref();
    let head = repo.head(&branch).await?;
    let source_path = Intent::values_path(repo, &body.application, &body.from)?;
    let bytes = forge
        .read_file(&head, &source_path)
        .await
        .map_err(ServiceError::from)?
        .ok_or_else(|| ServiceError::ValuesFileMissing {
            path: source_path.to_string(),
            branch: branch.to_string(),
        })?;
    let source = read_image_state(&bytes, &repo.settings.layout.format, &body.application)
        .map_err(|source| ServiceError::Edit {
            path: source_path.to_string(),
            source: Box::new(source),
        })?;
    let unusable = |what: &str, e: String| {
        Problem::unprocessable(
            "source-image-invalid",
            format!(
                "{source_path}: the {what} of {} cannot be promoted: {e}",
                body.from
            ),
        )
    };
    let change = ImageChange {
        tag: source
            .tag
            .map(ImageTag::parse)
            .transpose()
            .map_err(|e| unusable("tag", e.to_string()))?,
        repository: source
            .repository
            .map(ImageRepository::parse)
            .transpose()
            .map_err(|e| unusable("repository", e.to_string()))?,
        digest: source
            .digest
            .map(ImageDigest::parse)
            .transpose()
            .map_err(|e| unusable("digest", e.to_string()))?,
    };
    if change.tag.is_none() && change.digest.is_none() {
        return Err(unusable(
            "image",
            "it has neither a tag nor a digest".to_owned(),
        ));
    }
    let (app, env) = (body.application.clone(), body.to.clone());
    let intent = Intent::ImageUpdate {
        application: body.application,
        environment: body.to,
        change,
        expected: None,
        order: None,
        kind: UpdateKind::Promotion { from: body.from },
        force: body.force,
    };
    let caller = Caller {
        requested_by: allowed.requested_by(&principal),
        key,
    };
    let work = mutator.apply_to_environment(
        repo,
        &branch,
        &app,
        &env,
        intent,
        &caller,
        &digest,
        body.dry_run,
    );
    let outcome = tokio::time::timeout(limits.request_timeout, work).await.map_err(|_| {
        Problem::timeout("the promotion did not finish in time; retry with the same Idempotency-Key to learn whether it landed")
    })??;
    Ok(outcome_response(outcome))
}
