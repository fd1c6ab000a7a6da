//! HTTP handlers. Each one parses, calls the service, and shapes the answer; nothing more.

pub mod health;
pub mod history;
pub mod image_updates;
pub mod promotions;
pub mod rollbacks;
pub mod scaffold;
pub mod templates;

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::service::Outcome;

/// Set on answers that come from an earlier commit with the same Idempotency-Key.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// 201 for a new commit; 200 for noop, dry-run and replays.
pub fn outcome_response(outcome: Outcome) -> Response {
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(outcome.response)).into_response();
    if outcome.replayed {
        response.headers_mut().insert(
            HeaderName::from_static(REPLAYED_HEADER),
            HeaderValue::from_static("true"),
        );
    }
    response
}
