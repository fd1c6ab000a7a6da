//! `GET /user` and `GET /projects/:id`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::auth::GlCaller;
use super::error::GlError;
use super::json::{project_json, user_json};
use super::server::{GlState, blocking};
use crate::error::json_response;
use crate::git_store;

/// `GET /user`: the token's user (clients call it first to check the token).
pub(crate) async fn current_user(
    State(state): State<GlState>,
    Extension(caller): Extension<GlCaller>,
) -> Response {
    json_response(StatusCode::OK, &user_json(&state.base_url(), &caller))
}

/// `GET /projects/:id`.
pub(crate) async fn get_project(
    State(state): State<GlState>,
    Path(id): Path<String>,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let base = state.base_url();
    blocking(move || {
        let repo = project.open()?;
        let default = git_store::default_branch(&repo);
        let empty = git_store::is_empty(&repo)?;
        Ok(json_response(
            StatusCode::OK,
            &project_json(&base, &project, default.as_deref(), empty),
        ))
    })
    .await
}
