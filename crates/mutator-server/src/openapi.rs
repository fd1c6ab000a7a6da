//! The OpenAPI description, generated from the handlers and types. `openapi/openapi.yaml`
//! is this document; a test fails when the two drift apart.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::problem;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gitops-mutator",
        description = "The one writer of GitOps repositories: scaffolds manifests and updates image tags as atomic [skip ci] commits.",
        license(name = "Apache-2.0")
    ),
    paths(
        routes::scaffold::scaffold,
        routes::image_updates::image_update,
        routes::promotions::promote,
        routes::rollbacks::rollback,
        routes::rollbacks::list_pins,
        routes::rollbacks::unpin,
        routes::templates::list,
        routes::history::list,
        routes::history::environments,
        routes::health::healthz,
        routes::health::readyz,
    ),
    components(schemas(
        api::ScaffoldRequest,
        api::ImageUpdateRequest,
        api::PromotionRequest,
        api::MutationResponse,
        api::TemplateList,
        api::Readiness,
        api::History,
        api::Environments,
        problem::Problem,
        problem::FieldError,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as YAML, exactly as committed in `openapi/openapi.yaml`.
pub fn yaml() -> Result<String, String> {
    let mut doc = ApiDoc::openapi();
    // The version is the API's, not the crate's, so a release does not churn the file.
    doc.info.version = "v1".to_owned();
    doc.to_yaml().map_err(|e| e.to_string())
}

/// The document as JSON, for `GET /openapi.json`.
pub fn json() -> serde_json::Value {
    let mut doc = ApiDoc::openapi();
    doc.info.version = "v1".to_owned();
    serde_json::to_value(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_openapi_yaml_matches_the_code() {
        let committed = include_str!("../../../openapi/openapi.yaml");
        let generated = super::yaml().unwrap();
        assert!(
            committed == generated,
            "openapi/openapi.yaml is out of date: run `cargo run -p gitops-mutator -- openapi > openapi/openapi.yaml` and commit it"
        );
    }
}
