use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::api::TemplateList;
use crate::problem::Problem;
use crate::service::Mutator;

/// The template kinds, each with the JSON Schema of its `values`.
#[utoipa::path(
    get,
    path = "/v1/templates",
    tag = "templates",
    responses(
        (status = 200, body = TemplateList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(State(mutator): State<Arc<Mutator>>) -> Json<TemplateList> {
    Json(TemplateList {
        templates: mutator.catalog().templates(),
    })
}
