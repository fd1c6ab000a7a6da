//! The catalog lists every kind with a JSON Schema that matches what rendering accepts.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use serde_json::{Value, json};

fn schema_of(name: &str) -> Value {
    catalog()
        .templates()
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.schema)
        .unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn strings(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    s.sort();
    s
}

#[test]
fn lists_both_kinds_sorted_with_descriptions() {
    let templates = catalog().templates();
    let names: Vec<_> = templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["application", "cicd-pipeline"]);
    assert!(templates.iter().all(|t| t.description.len() > 20));
}

#[test]
fn cicd_pipeline_schema_has_every_field_and_the_required_ones() {
    let schema = schema_of("cicd-pipeline");
    assert_eq!(schema["type"], "object");
    assert_eq!(
        keys(&schema["properties"]),
        [
            "argocdProject",
            "awsRegion",
            "deploymentPath",
            "description",
            "destinationServer",
            "dockerfilePath",
            "imageRepository",
            "lifecycle",
            "name",
            "namespace",
            "owner",
            "sourceBranch",
            "sourceRepoUrl",
        ]
    );
    assert_eq!(
        strings(&schema["required"]),
        ["awsRegion", "name", "owner", "sourceRepoUrl"]
    );
    assert_eq!(schema["properties"]["name"]["type"], "string");
    assert_eq!(
        schema["properties"]["name"]["pattern"],
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    );
    assert_eq!(schema["properties"]["name"]["maxLength"], 58);
    assert!(
        schema["properties"]["name"]["description"]
            .as_str()
            .unwrap()
            .contains("DNS-1123")
    );
    let lifecycle = &schema["properties"]["lifecycle"];
    assert_eq!(lifecycle["type"], "string");
    assert_eq!(
        strings(&lifecycle["enum"]),
        ["deprecated", "experimental", "production"]
    );
}

#[test]
fn application_schema_has_every_field_and_the_required_ones() {
    let schema = schema_of("application");
    assert_eq!(
        keys(&schema["properties"]),
        [
            "argocdProject",
            "chart",
            "description",
            "destinationServer",
            "environments",
            "image",
            "name",
            "namespace"
        ]
    );
    assert_eq!(strings(&schema["required"]), ["image", "name"]);
    let image = &schema["properties"]["image"];
    assert_eq!(keys(&image["properties"]), ["repository", "tag"]);
    assert_eq!(strings(&image["required"]), ["repository", "tag"]);
    assert_eq!(
        schema["properties"]["environments"]["default"],
        json!(["development", "staging", "production"])
    );
}

/// Every default the schema advertises is the one rendering applies: rendering with the
/// default written out gives the same files as leaving it out.
#[test]
fn schema_defaults_are_the_defaults_rendering_uses() {
    let mut checked = 0;
    for (name, minimal) in [
        ("cicd-pipeline", cicd_values()),
        ("application", application_values()),
    ] {
        let schema = schema_of(name);
        let without = render(name, &minimal);
        for (field, property) in schema["properties"].as_object().unwrap() {
            let Some(default) = property.get("default") else {
                continue;
            };
            let explicit = with(minimal.clone(), json!({ field.clone(): default.clone() }));
            assert_eq!(
                render(name, &explicit),
                without,
                "{name}.{field} default {default}"
            );
            checked += 1;
        }
    }
    // sourceBranch, dockerfilePath, deploymentPath, argocdProject x2, destinationServer x2,
    // lifecycle, environments.
    assert_eq!(checked, 9);
}
