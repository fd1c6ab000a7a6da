//! Renders the manifest trees under `skeleton/` for gitops-mutator.
//!
//! The skeleton is embedded at compile time (include_dir) and parsed once by
//! [`Catalog::embedded`]. Each kind's values are typed Rust structs: they are validated with
//! field-level errors ([`RenderError::InvalidValues`]), they give the JSON Schema the API
//! publishes ([`TemplateInfo::schema`]), and their defaults are resolved before any template
//! runs. Templates only lay values out.
//!
//! Values are data, never template code: every interpolated value is written as one YAML
//! scalar (plain when unambiguous, double-quoted otherwise), so `{{ … }}`, `: #`, quotes or
//! line breaks in a value reach the file literally and cannot change its structure. Each
//! rendered file is parsed as YAML before it is returned.
//!
//! This crate is pure: no I/O at run time, no async, no forges, no HTTP.

mod catalog;
mod engine;
mod error;
mod fields;
mod kinds;
mod skeleton;
mod target;
mod values;
mod yaml_scalar;

pub use catalog::{Catalog, Rendered, RenderedFile, TemplateInfo};
pub use error::{FieldError, RenderError};
pub use target::RenderTarget;
