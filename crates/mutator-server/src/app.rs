//! The router: public health and OpenAPI routes, token-protected `/v1`, request ids and
//! tracing on every request, problem documents for every error.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Uri};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{Authenticator, require_token};
use crate::extract::BODY_LIMIT;
use crate::policy::Policy;
use crate::problem::Problem;
use crate::routes;
use crate::service::Mutator;

/// What handlers share.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub mutator: Arc<Mutator>,
    pub policy: Arc<Policy>,
    pub limits: Limits,
}

/// Per-request bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request that takes longer is answered 504. Its change was then either committed whole
    /// or not at all; a retry with the same Idempotency-Key tells which.
    pub request_timeout: std::time::Duration,
}

pub fn router(state: AppState, auth: Arc<Authenticator>) -> Router {
    let v1 = Router::new()
        .route("/v1/scaffold", post(routes::scaffold::scaffold))
        .route(
            "/v1/image-updates",
            post(routes::image_updates::image_update),
        )
        .route("/v1/promotions", post(routes::promotions::promote))
        .route("/v1/rollbacks", post(routes::rollbacks::rollback))
        .route("/v1/pins", get(routes::rollbacks::list_pins))
        .route(
            "/v1/pins/{application}/{environment}",
            axum::routing::delete(routes::rollbacks::unpin),
        )
        .route("/v1/templates", get(routes::templates::list))
        .route("/v1/history", get(routes::history::list))
        .route(
            "/v1/applications/{application}/environments",
            get(routes::history::environments),
        )
        .route_layer(middleware::from_fn_with_state(auth, require_token));
    Router::new()
        .merge(v1)
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/openapi.json", get(|| async { Json(crate::openapi::json()) }))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            })
            // One access line per request, with status and latency, at the default level.
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(
        "no-route",
        format!("there is no route {}; see /openapi.json", uri.path()),
    )
}
