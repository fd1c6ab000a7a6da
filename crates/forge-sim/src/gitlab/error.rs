//! [`GlError`]: one HTTP error answer of the simulated GitLab, with GitLab's body shapes:
//! `{"message": "..."}` for API errors, `{"message": [...]}` for model validation errors,
//! `{"error": "..."}` for Grape parameter validation and OAuth scope errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::json_response;

#[derive(Debug, Clone)]
pub(crate) struct GlError {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl GlError {
    pub(crate) fn new(status: StatusCode, body: Value) -> Self {
        GlError { status, body }
    }

    /// `{"message": "<text>"}`.
    pub(crate) fn message(status: StatusCode, text: impl Into<String>) -> Self {
        let text: String = text.into();
        Self::new(status, json!({ "message": text }))
    }

    /// 400 `{"message": "<text>"}`: every commit failure (forge-facts §G.2).
    pub(crate) fn bad_request(text: impl Into<String>) -> Self {
        Self::message(StatusCode::BAD_REQUEST, text)
    }

    /// 404 `{"message": "404 <what> Not Found"}`.
    pub(crate) fn not_found(what: &str) -> Self {
        Self::message(StatusCode::NOT_FOUND, format!("404 {what} Not Found"))
    }

    /// 400 `{"error": "<text>"}`: Grape's parameter validation answer.
    pub(crate) fn param(text: impl Into<String>) -> Self {
        let text: String = text.into();
        Self::new(StatusCode::BAD_REQUEST, json!({ "error": text }))
    }

    pub(crate) fn unauthorized() -> Self {
        Self::message(StatusCode::UNAUTHORIZED, "401 Unauthorized")
    }

    /// 403 for a token whose scopes do not cover the request (forge-facts §G.1).
    pub(crate) fn insufficient_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": scope,
            }),
        )
    }

    /// Model validation errors: `{"message": ["..."]}` with 409 or 422 (forge-facts §G.4).
    pub(crate) fn messages(status: StatusCode, texts: Vec<String>) -> Self {
        Self::new(status, json!({ "message": texts }))
    }

    /// Something broke inside the simulator itself.
    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "forge-sim (gitlab) internal error");
        Self::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("500 Internal Server Error: {what}"),
        )
    }
}

impl From<git2::Error> for GlError {
    fn from(e: git2::Error) -> Self {
        GlError::internal(e)
    }
}

impl IntoResponse for GlError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}
