use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use mutator_core::image_edit::read_image_state;
use mutator_core::{AppName, EnvName};

use crate::api::{EnvironmentImage, Environments, EnvironmentsQuery, History, HistoryQuery};
use crate::problem::Problem;
use crate::service::{Intent, Mutator, ServiceError, history};

/// The changes to one environment, newest first, from the branch's commit trailers.
#[utoipa::path(
    get,
    path = "/v1/history",
    tag = "environments",
    params(HistoryQuery),
    responses(
        (status = 200, body = History),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(mutator): State<Arc<Mutator>>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<History>, Problem> {
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
    let target = format!("{}/{}", query.application, query.environment);
    let limit = query.limit.unwrap_or(20).clamp(1, 500);
    let entries = history::history(repo, &branch, &target, limit).await?;
    Ok(Json(History { entries }))
}

/// The image each environment of an application runs now.
#[utoipa::path(
    get,
    path = "/v1/applications/{application}/environments",
    tag = "environments",
    params(("application" = String, Path, description = "The application"), EnvironmentsQuery),
    responses(
        (status = 200, body = Environments),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn environments(
    State(mutator): State<Arc<Mutator>>,
    Path(application): Path<String>,
    query: Result<Query<EnvironmentsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Environments>, Problem> {
    let Query(query) = query.map_err(|e| {
        Problem::invalid(
            format!("the query is invalid: {}", e.body_text()),
            Vec::new(),
        )
    })?;
    let app = AppName::parse(application)
        .map_err(|e| Problem::invalid_field("application", e.to_string()))?;
    let names = query
        .environments
        .as_deref()
        .unwrap_or("development,staging,production");
    let envs = names
        .split(',')
        .map(|n| {
            EnvName::parse(n.trim())
                .map_err(|e| Problem::invalid_field("environments", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let repo = mutator.repository(query.repository.as_ref())?;
    let branch = query
        .branch
        .clone()
        .unwrap_or_else(|| repo.settings.branch.clone());
    let forge = repo.forge.as_ref();
    let head = repo.head(&branch).await?;
    let mut environments = Vec::new();
    for env in &envs {
        let path = Intent::values_path(repo, &app, env)?;
        let image = match forge
            .read_file(&head, &path)
            .await
            .map_err(ServiceError::from)?
        {
            Some(bytes) => Some(
                read_image_state(&bytes, &repo.settings.layout.format, &app).map_err(|source| {
                    ServiceError::Edit {
                        path: path.to_string(),
                        source: Box::new(source),
                    }
                })?,
            ),
            None => None,
        };
        environments.push(EnvironmentImage {
            name: env.to_string(),
            image,
        });
    }
    let image_of = |name: &str| {
        environments
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.image.as_ref())
    };
    let production_lags_staging = match (image_of("staging"), image_of("production")) {
        (Some(staging), Some(production)) => {
            Some(staging.tag != production.tag || staging.digest != production.digest)
        }
        _ => None,
    };
    Ok(Json(Environments {
        application: app.to_string(),
        commit: head.0,
        environments,
        production_lags_staging,
    }))
}
