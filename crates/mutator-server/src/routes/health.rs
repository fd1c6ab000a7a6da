use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::api::Readiness;
use crate::service::Mutator;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Every configured repository can be read.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness))
)]
pub async fn readyz(State(mutator): State<Arc<Mutator>>) -> (StatusCode, Json<Readiness>) {
    let mut ready = true;
    let mut repositories = std::collections::BTreeMap::new();
    for repo in mutator.repositories() {
        let state = match repo.forge.head(&repo.settings.branch).await {
            Ok(Some(_)) => "ok".to_owned(),
            Ok(None) => format!("branch {} does not exist", repo.settings.branch),
            Err(e) => {
                tracing::warn!(repository = %repo.settings.name, error = %e, "not ready");
                "unavailable".to_owned()
            }
        };
        ready &= state == "ok";
        repositories.insert(repo.settings.name.to_string(), state);
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { repositories }))
}
