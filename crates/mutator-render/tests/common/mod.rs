//! Helpers shared by the integration tests; each test binary uses a different subset.
#![allow(dead_code)]

pub mod structural;

use mutator_render::{Catalog, RenderError, RenderTarget, Rendered};
use serde_json::{Value, json};

pub const GITOPS_URL: &str = "https://git.example.com/platform/gitops.git";

pub fn catalog() -> Catalog {
    Catalog::embedded().unwrap()
}

pub fn target() -> RenderTarget {
    RenderTarget {
        repo_url: GITOPS_URL.to_owned(),
        revision: "main".to_owned(),
    }
}

pub fn cicd_values() -> Value {
    json!({
        "name": "payments",
        "owner": "group:default/team-payments",
        "sourceRepoUrl": "https://github.com/acme/payments.git",
        "awsRegion": "eu-west-1",
    })
}

pub fn application_values() -> Value {
    json!({
        "name": "payments",
        "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.2" },
    })
}

/// `base` with the fields of `extra` added or replaced.
pub fn with(base: Value, extra: Value) -> Value {
    let mut base = base;
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

pub fn render(template: &str, values: &Value) -> Rendered {
    catalog().render(template, values, &target()).unwrap()
}

pub fn render_err(template: &str, values: &Value) -> RenderError {
    match catalog().render(template, values, &target()) {
        Ok(r) => panic!(
            "expected an error, rendered {:?}",
            r.files
                .iter()
                .map(|f| f.path.to_string())
                .collect::<Vec<_>>()
        ),
        Err(e) => e,
    }
}

pub fn paths(rendered: &Rendered) -> Vec<String> {
    rendered.files.iter().map(|f| f.path.to_string()).collect()
}

pub fn content<'a>(rendered: &'a Rendered, path: &str) -> &'a str {
    match rendered.files.iter().find(|f| f.path.as_str() == path) {
        Some(f) => &f.content,
        None => panic!("{path} not rendered; got {:?}", paths(rendered)),
    }
}

/// The file parsed as YAML, as JSON for easy comparison.
pub fn doc(rendered: &Rendered, path: &str) -> Value {
    yaml_serde::from_str(content(rendered, path)).unwrap()
}

/// The single field error of an InvalidValues error.
pub fn field_error(err: RenderError) -> (String, String) {
    match err {
        RenderError::InvalidValues(errors) if errors.len() == 1 => {
            (errors[0].field.clone(), errors[0].message.clone())
        }
        other => panic!("expected one field error, got {other:?}"),
    }
}
