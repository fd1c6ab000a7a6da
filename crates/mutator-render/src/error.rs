//! What can go wrong while rendering, split by who has to act: the caller (unknown template,
//! invalid values) or whoever maintains the skeleton (a template that fails).

use serde::Serialize;

/// One value that was refused, named by its path in the request (`values.image.tag`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the value in the request body, such as `values.name` or `values.environments[1]`.
    pub field: String,
    /// What is wrong and what a valid value looks like.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No kind of that name exists; `known` lists the ones that do.
    #[error("unknown template {name:?}; known templates: {}", known.join(", "))]
    UnknownTemplate { name: String, known: Vec<String> },
    /// The values do not fit the kind's schema; one entry per refused value.
    #[error("invalid values: {}", summary(.0))]
    InvalidValues(Vec<FieldError>),
    /// The skeleton itself is broken: a template failed, or its output is not valid YAML.
    #[error("template {file} failed: {message}")]
    Template { file: String, message: String },
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl RenderError {
    pub(crate) fn template(file: impl Into<String>, message: impl ToString) -> Self {
        Self::Template {
            file: file.into(),
            message: message.to_string(),
        }
    }
}
