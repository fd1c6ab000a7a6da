//! Errors: [`SimError`] for the library's own API, [`ApiError`] for what the simulated GitHub
//! answers over HTTP.
//!
//! `ApiError` is built once per failure with GitHub's status and JSON body, so every handler
//! answers errors the same way and the body shape (`message`, `documentation_url`, optional
//! `errors`) is decided in one place.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Documentation link used when no more specific page applies.
pub(crate) const DOC_REST: &str = "https://docs.github.com/rest";

/// Failures of the simulator's control API (starting, seeding repositories, configuring).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file system operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// libgit2 refused an operation on a bare repository.
    #[error("git error: {0}")]
    Git(#[from] git2::Error),
    /// The named repository is not registered in the simulator.
    #[error("unknown repository {0}")]
    UnknownRepo(String),
    /// A repository with that name already exists.
    #[error("repository {0} already exists")]
    RepoExists(String),
    /// A branch needed by the operation does not exist.
    #[error("unknown branch {0}")]
    UnknownBranch(String),
    /// The pull request number is not known for that repository.
    #[error("unknown pull request #{0}")]
    UnknownPull(u64),
    /// The pull request cannot be merged (already merged, closed, nothing to merge, conflicts).
    #[error("cannot merge pull request: {0}")]
    NotMergeable(String),
    /// An argument given to the control API is invalid (bad PEM key, bad name, bad address).
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// One HTTP error answer of the simulated GitHub.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// The common `{"message", "documentation_url", "status"}` body.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>, doc: &str) -> Self {
        let message: String = message.into();
        ApiError {
            status,
            body: json!({
                "message": message,
                "documentation_url": doc,
                "status": status.as_u16().to_string(),
            }),
            headers: Vec::new(),
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found", DOC_REST)
    }

    pub(crate) fn bad_credentials() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Bad credentials", DOC_REST)
    }

    pub(crate) fn requires_authentication() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
            DOC_REST,
        )
    }

    pub(crate) fn unprocessable(message: impl Into<String>, doc: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message, doc)
    }

    /// 422 `Validation Failed` with an `errors` array, as the pulls endpoints answer.
    pub(crate) fn validation_failed(errors: Vec<Value>, doc: &str) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed", doc);
        if let Some(obj) = e.body.as_object_mut() {
            obj.insert("errors".into(), Value::Array(errors));
        }
        e
    }

    pub(crate) fn empty_repository() -> Self {
        Self::new(StatusCode::CONFLICT, "Git Repository is empty.", DOC_REST)
    }

    /// Something broke inside the simulator itself; reported as GitHub's 500.
    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "forge-sim internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("forge-sim internal error: {what}"),
            DOC_REST,
        )
    }

    /// `400 Problems parsing JSON` for syntactically broken bodies, `422 Invalid request` for
    /// well-formed JSON of the wrong shape (GitHub distinguishes the two the same way).
    pub(crate) fn from_json_error(err: &serde_json::Error, doc: &str) -> Self {
        match err.classify() {
            serde_json::error::Category::Data => {
                Self::unprocessable(format!("Invalid request.\n\n{err}"), doc)
            }
            _ => Self::new(StatusCode::BAD_REQUEST, "Problems parsing JSON", doc),
        }
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<git2::Error> for ApiError {
    fn from(e: git2::Error) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, json_body(&self.body)).into_response();
        for (name, value) in self.headers {
            resp.headers_mut().insert(name, value);
        }
        resp
    }
}

/// A JSON response with GitHub's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, json_body(body)).into_response()
}

fn json_body(body: &Value) -> ([(HeaderName, HeaderValue); 1], String) {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body.to_string(),
    )
}
