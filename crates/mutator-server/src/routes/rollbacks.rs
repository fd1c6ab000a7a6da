use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use mutator_core::{AppName, EnvName};
use mutator_forge::CommitId;

use super::outcome_response;
use crate::api::{MutationResponse, Pins, PinsQuery, RollbackRequest, RollbackTo};
use crate::app::Limits;
use crate::auth::Principal;
use crate::extract::{ApiJson, IdempotencyKey};
use crate::policy::{Action, Policy, Subject};
use crate::problem::Problem;
use crate::service::{Caller, Intent, Mutator, Repository, ServiceError, history, pins};

/// How many changes of the environment a rollback by `previous` or `tag` looks back over.
const LOOKBACK: usize = 200;

/// Restore an environment's image values as they were, as a new commit (or pull request), and
/// pin the environment.
#[utoipa::path(
    post,
    path = "/v1/rollbacks",
    tag = "environments",
    request_body = RollbackRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request return the first answer without a second commit")),
    responses(
        (status = 201, description = "Rolled back (or waiting for review)", body = MutationResponse),
        (status = 200, description = "Already in that state, dry run, or replay", body = MutationResponse),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The policy does not allow this rollback", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such earlier state", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The request took longer than the configured timeout", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn rollback(
    State(mutator): State<Arc<Mutator>>,
    State(policy): State<Arc<Policy>>,
    State(limits): State<Limits>,
    Extension(principal): Extension<Principal>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson { body, digest }: ApiJson<RollbackRequest>,
) -> Result<Response, Problem> {
    let repo = mutator.repository(body.target.repository.as_ref())?;
    let branch = body
        .target
        .branch
        .clone()
        .unwrap_or_else(|| repo.settings.branch.clone());
    let subject = Subject {
        action: Action::Rollback,
        repository: repo.settings.name.to_string(),
        application: Some(body.application.to_string()),
        environment: Some(body.environment.to_string()),
        template: None,
    };
    let allowed = policy
        .decide(&principal, &subject)
        .map_err(Problem::forbidden)?;
    let requested_by = allowed.requested_by(&principal);
    let (restore, description) = source(
        repo,
        &branch,
        &body.application,
        &body.environment,
        &body.to,
    )
    .await?;
    let description = match &body.reason {
        Some(reason) => format!("{description}: {}", reason.replace(['\n', '\r'], " ")),
        None => description,
    };
    let intent = Intent::Rollback {
        application: body.application.clone(),
        environment: body.environment.clone(),
        restore,
        description,
        by: requested_by.clone(),
    };
    let caller = Caller { requested_by, key };
    let work = mutator.apply_to_environment(
        repo,
        &branch,
        &body.application,
        &body.environment,
        intent,
        &caller,
        &digest,
        body.dry_run,
    );
    let outcome = tokio::time::timeout(limits.request_timeout, work).await.map_err(|_| {
        Problem::timeout("the rollback did not finish in time; retry with the same Idempotency-Key to learn whether it landed")
    })??;
    Ok(outcome_response(outcome))
}

/// The values file bytes to restore, and what they are.
async fn source(
    repo: &Repository,
    branch: &mutator_core::BranchName,
    app: &AppName,
    env: &EnvName,
    to: &RollbackTo,
) -> Result<(Vec<u8>, String), Problem> {
    let path = Intent::values_path(repo, app, env)?;
    let forge = repo.forge.as_ref();
    let target = format!("{app}/{env}");
    let (at, what) = match (to.previous, &to.commit, &to.tag) {
        (Some(n), None, None) => {
            if n == 0 {
                return Err(Problem::invalid_field(
                    "to.previous",
                    "use 1 or more (1 undoes the last change)",
                ));
            }
            let entries = history::history(repo, branch, &target, n as usize).await?;
            let entry = entries.get(n as usize - 1).ok_or_else(|| {
                ServiceError::RollbackSource(format!(
                    "{target} has fewer than {n} recorded changes"
                ))
            })?;
            let parent = forge
                .commit_info(&CommitId(entry.commit.clone()))
                .await
                .map_err(ServiceError::from)?
                .parent
                .ok_or_else(|| {
                    ServiceError::RollbackSource(format!("commit {} has no parent", entry.commit))
                })?;
            (
                parent,
                format!(
                    "roll back {n} change(s) of {target} (before {})",
                    short(&entry.commit)
                ),
            )
        }
        (None, Some(commit), None) => {
            let valid = commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return Err(Problem::invalid_field(
                    "to.commit",
                    "give a full commit id (40 hex digits)",
                ));
            }
            (
                CommitId(commit.to_ascii_lowercase()),
                format!("restore {target} as of {}", short(commit)),
            )
        }
        (None, None, Some(tag)) => {
            let entries = history::history(repo, branch, &target, LOOKBACK).await?;
            let entry = entries
                .iter()
                .find(|e| e.tag_after.as_deref() == Some(tag.as_str()))
                .ok_or_else(|| {
                    ServiceError::RollbackSource(format!(
                        "no change of {target} in its last {LOOKBACK} set tag {tag}"
                    ))
                })?;
            (
                CommitId(entry.commit.clone()),
                format!(
                    "restore {target} to tag {tag} (as of {})",
                    short(&entry.commit)
                ),
            )
        }
        _ => {
            return Err(Problem::invalid_field(
                "to",
                "give exactly one of previous, commit or tag",
            ));
        }
    };
    let bytes = forge
        .read_file(&at, &path)
        .await
        .map_err(|e| match e {
            mutator_forge::ForgeError::NotFound(_) => {
                ServiceError::RollbackSource(format!("commit {} is not in the repository", at.0))
            }
            other => ServiceError::from(other),
        })?
        .ok_or_else(|| {
            ServiceError::RollbackSource(format!("{path} did not exist at {}", short(&at.0)))
        })?;
    Ok((bytes, what))
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The pinned environments.
#[utoipa::path(
    get,
    path = "/v1/pins",
    tag = "environments",
    params(PinsQuery),
    responses((status = 200, body = Pins), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_pins(
    State(mutator): State<Arc<Mutator>>,
    query: Result<Query<PinsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Pins>, Problem> {
    let Query(query) = query.map_err(|e| {
        Problem::invalid(
            format!("the query is invalid: {}", e.body_text()),
            Vec::new(),
        )
    })?;
    let repo = mutator.repository(query.repository.as_ref())?;
    let branch = query
        .branch
        .clone()
        .unwrap_or_else(|| repo.settings.branch.clone());
    let forge = repo.forge.as_ref();
    let head = repo.head(&branch).await?;
    let path = pins::pins_path().map_err(Problem::internal)?;
    let bytes = forge
        .read_file(&head, &path)
        .await
        .map_err(ServiceError::from)?;
    let pins =
        pins::parse(bytes.as_deref()).map_err(|e| Problem::unprocessable("pins-unreadable", e))?;
    Ok(Json(Pins { pins }))
}

/// Lift the pin of an environment.
#[utoipa::path(
    delete,
    path = "/v1/pins/{application}/{environment}",
    tag = "environments",
    params(("application" = String, Path), ("environment" = String, Path)),
    responses(
        (status = 201, description = "The pin was lifted", body = MutationResponse),
        (status = 200, description = "There was no pin", body = MutationResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn unpin(
    State(mutator): State<Arc<Mutator>>,
    State(policy): State<Arc<Policy>>,
    Extension(principal): Extension<Principal>,
    Path((application, environment)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let app = AppName::parse(application)
        .map_err(|e| Problem::invalid_field("application", e.to_string()))?;
    let env = EnvName::parse(environment)
        .map_err(|e| Problem::invalid_field("environment", e.to_string()))?;
    let repo = mutator.repository(None)?;
    let subject = Subject {
        action: Action::Rollback,
        repository: repo.settings.name.to_string(),
        application: Some(app.to_string()),
        environment: Some(env.to_string()),
        template: None,
    };
    let allowed = policy
        .decide(&principal, &subject)
        .map_err(Problem::forbidden)?;
    let caller = Caller {
        requested_by: allowed.requested_by(&principal),
        key: None,
    };
    let branch = repo.settings.branch.clone();
    let digest = format!("unpin {app}/{env}");
    let outcome = mutator
        .apply(
            repo,
            &branch,
            Intent::Unpin {
                application: app,
                environment: env,
            },
            &caller,
            &digest,
            false,
        )
        .await?;
    Ok(outcome_response(outcome))
}
