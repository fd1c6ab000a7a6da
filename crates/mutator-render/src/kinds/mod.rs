//! The template kinds. A kind's values are Rust types, so its schema, its validation and its
//! defaults live here; its manifests live in `skeleton/<kind>/`. The catalog refuses to start
//! when the two do not match.

mod application;
mod cicd_pipeline;

use mutator_core::{AppName, EnvName};
use serde::{Deserialize, Serialize};
use utoipa::PartialSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::error::RenderError;
use crate::fields::{ProjectName, ServerUrl};
use crate::target::RenderTarget;
use crate::values;

/// Every kind this build knows; each needs a `skeleton/<name>/` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CicdPipeline,
    Application,
}

/// A kind's validated values, ready for its templates.
#[derive(Debug)]
pub struct Plan {
    pub name: AppName,
    /// What every template of the kind sees.
    pub context: serde_json::Value,
    /// One entry per environment, for templates whose path holds `{environment}`; each is
    /// visible to those templates as `environment`.
    pub environments: Vec<(EnvName, serde_json::Value)>,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::CicdPipeline, Kind::Application];

    /// The template name callers use and the folder under `skeleton/`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::CicdPipeline => "cicd-pipeline",
            Kind::Application => "application",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind renders some files once per environment.
    pub fn has_environments(self) -> bool {
        matches!(self, Kind::Application)
    }

    /// JSON Schema of the kind's `values`.
    pub fn schema(self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Kind::CicdPipeline => serde_json::to_value(cicd_pipeline::Values::schema()),
            Kind::Application => serde_json::to_value(application::Values::schema()),
        }
    }

    /// Parses and checks `values`, resolving every default.
    pub fn plan(
        self,
        values: &serde_json::Value,
        target: &RenderTarget,
    ) -> Result<Plan, RenderError> {
        match self {
            Kind::CicdPipeline => {
                let parsed =
                    values::parse(values).map_err(|e| RenderError::InvalidValues(vec![e]))?;
                let (name, context) =
                    cicd_pipeline::plan(parsed).map_err(RenderError::InvalidValues)?;
                Ok(Plan {
                    name,
                    context: to_context(&context, target)?,
                    environments: Vec::new(),
                })
            }
            Kind::Application => {
                let parsed =
                    values::parse(values).map_err(|e| RenderError::InvalidValues(vec![e]))?;
                let (name, context, environments) =
                    application::plan(parsed, target).map_err(RenderError::InvalidValues)?;
                let environments = environments
                    .into_iter()
                    .map(|env| {
                        let value = serde_json::to_value(&env)
                            .map_err(|e| RenderError::template(self.name(), e))?;
                        Ok((env.name().clone(), value))
                    })
                    .collect::<Result<_, RenderError>>()?;
                Ok(Plan {
                    name,
                    context: to_context(&context, target)?,
                    environments,
                })
            }
        }
    }
}

/// Adds `target` (where the GitOps repository is) to a kind's context.
fn to_context<T: Serialize>(
    context: &T,
    target: &RenderTarget,
) -> Result<serde_json::Value, RenderError> {
    let mut value =
        serde_json::to_value(context).map_err(|e| RenderError::template("context", e))?;
    let target = serde_json::json!({ "repoUrl": target.repo_url, "revision": target.revision });
    match value.as_object_mut() {
        Some(map) => {
            map.insert("target".to_owned(), target);
            Ok(value)
        }
        None => Err(RenderError::template(
            "context",
            "a kind's context must be an object",
        )),
    }
}

/// Backstage's well-known lifecycle stages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    #[default]
    Experimental,
    Production,
    Deprecated,
}

impl Lifecycle {
    const ALL: [Lifecycle; 3] = [
        Lifecycle::Experimental,
        Lifecycle::Production,
        Lifecycle::Deprecated,
    ];

    /// Written by hand because utoipa wraps an inlined enum that has a field description or a
    /// default in an `allOf` with `type: object`, which no string can satisfy.
    fn schema() -> Object {
        let name = |l: Lifecycle| serde_json::to_value(l).unwrap_or_default();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Lifecycle::ALL.map(name)))
            .default(Some(name(Lifecycle::default())))
            .description(Some("Backstage lifecycle stage of the component."))
            .build()
    }
}

/// Where a rendered Argo CD Application belongs and deploys to.
#[derive(Debug, Serialize)]
pub struct ArgoCd {
    project: String,
    server: String,
}

/// Argo CD's own defaults; also written as `default` in the values schemas.
const DEFAULT_PROJECT: &str = "default";
const DEFAULT_SERVER: &str = "https://kubernetes.default.svc";

impl ArgoCd {
    fn new(project: Option<ProjectName>, server: Option<ServerUrl>) -> Self {
        Self {
            project: project.map_or_else(|| DEFAULT_PROJECT.to_owned(), String::from),
            server: server.map_or_else(|| DEFAULT_SERVER.to_owned(), String::from),
        }
    }
}

/// `<name><suffix>`, refused when longer than 63 characters: Argo CD writes the Application
/// name into a label value when it tracks resources by label, and label values stop at 63.
fn application_name(name: &AppName, suffix: &str) -> Result<String, String> {
    let full = format!("{name}{suffix}");
    if full.len() <= 63 {
        return Ok(full);
    }
    Err(format!(
        "{name:?} is too long: the Argo CD Application name {full:?} would exceed 63 characters; use at most {} characters",
        63 - suffix.len()
    ))
}
