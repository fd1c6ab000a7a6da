use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use mutator_render::RenderTarget;

use super::outcome_response;
use crate::api::{MutationResponse, ScaffoldRequest};
use crate::app::Limits;
use crate::auth::Principal;
use crate::extract::{ApiJson, IdempotencyKey};
use crate::policy::{Action, Policy, Subject};
use crate::problem::Problem;
use crate::service::{Caller, Intent, Mutator};

/// Render a template and commit its files.
#[utoipa::path(
    post,
    path = "/v1/scaffold",
    tag = "mutations",
    request_body = ScaffoldRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first answer without a second commit (1 to 255 printable ASCII characters)")),
    responses(
        (status = 201, description = "Committed", body = MutationResponse),
        (status = 200, description = "Noop, dry run or idempotent replay", body = MutationResponse),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The policy does not allow this caller to make this change", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown template, repository or branch", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflict that retries could not resolve", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Render failure or reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Repository unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The request took longer than the configured timeout", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn scaffold(
    State(mutator): State<Arc<Mutator>>,
    State(policy): State<Arc<Policy>>,
    State(limits): State<Limits>,
    Extension(principal): Extension<Principal>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson { body, digest }: ApiJson<ScaffoldRequest>,
) -> Result<Response, Problem> {
    let repo = mutator.repository(body.target.repository.as_ref())?;
    let branch = body
        .target
        .branch
        .clone()
        .unwrap_or_else(|| repo.settings.branch.clone());
    let target = RenderTarget {
        repo_url: repo.settings.pull_url.clone(),
        revision: branch.to_string(),
    };
    let rendered = mutator
        .catalog()
        .render(&body.template, &body.values, &target)
        .map_err(crate::service::ServiceError::from)?;
    let subject = Subject {
        action: Action::Scaffold,
        repository: repo.settings.name.to_string(),
        application: Some(rendered.name.to_string()),
        environment: None,
        template: Some(body.template.clone()),
    };
    let allowed = policy
        .decide(&principal, &subject)
        .map_err(Problem::forbidden)?;
    let intent = Intent::Scaffold {
        template: body.template,
        rendered,
    };
    let caller = Caller {
        requested_by: allowed.requested_by(&principal),
        key,
    };
    let work = mutator.apply(repo, &branch, intent, &caller, &digest, body.dry_run);
    let outcome = tokio::time::timeout(limits.request_timeout, work).await.map_err(|_| {
        Problem::timeout(
            "the change did not finish in time; it was committed whole or not at all: retry with the same Idempotency-Key to learn which",
        )
    })??;
    Ok(outcome_response(outcome))
}
