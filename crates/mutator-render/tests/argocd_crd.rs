//! Every rendered Argo CD Application must be accepted by the Application CRD, both the
//! released one and upstream master, checked with a validator that refuses unknown fields.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::structural::{crd_schema, object_meta_schema, validate};
use common::*;
use serde_json::{Value, json};

/// The corpus lives next to the repository, never inside it.
fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/argocd"
    ));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "Argo CD CRD corpus not found at {}; CI must provide it",
            dir.display()
        );
    }
    eprintln!("SKIPPED: Argo CD CRD corpus not found at {}", dir.display());
    None
}

/// Application schemas by file, with ObjectMeta filled in for `metadata`.
fn schemas(dir: &Path) -> Vec<(String, Value)> {
    [
        "application-crd.yaml",
        "upstream-master/application-crd.yaml",
    ]
    .into_iter()
    .map(|file| {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let crd: Value = yaml_serde::from_str(&text).unwrap();
        let mut schema =
            crd_schema(&crd, "v1alpha1").unwrap_or_else(|| panic!("{file}: no v1alpha1 schema"));
        schema["properties"]["metadata"] = object_meta_schema();
        (file.to_owned(), schema)
    })
    .collect()
}

/// Every Application the kinds can produce, across the chart variants.
fn rendered_applications() -> Vec<(String, Value)> {
    let variants = [
        ("cicd-pipeline", cicd_values()),
        (
            "cicd-pipeline",
            with(
                cicd_values(),
                json!({"description": "x: {{ y }}\n#z", "namespace": "ci"}),
            ),
        ),
        (
            "application",
            with(application_values(), json!({"description": "Payments"})),
        ),
        (
            "application",
            with(
                application_values(),
                json!({"chart": {"path": "charts/payments"}}),
            ),
        ),
        (
            "application",
            with(
                application_values(),
                json!({"chart": {"repoUrl": "oci://ghcr.io/acme/charts", "name": "payments", "targetRevision": "2.1.0"}}),
            ),
        ),
        (
            "application",
            with(
                application_values(),
                json!({"chart": {"repoUrl": "https://github.com/acme/charts.git", "path": "charts/payments", "targetRevision": "v3"}}),
            ),
        ),
    ];
    let mut out = Vec::new();
    for (template, values) in variants {
        for file in render(template, &values).files {
            let doc: Value = yaml_serde::from_str(&file.content).unwrap();
            if doc["kind"] == "Application" && doc["apiVersion"] == "argoproj.io/v1alpha1" {
                out.push((file.path.to_string(), doc));
            }
        }
    }
    out
}

#[test]
fn every_rendered_application_fits_the_application_crd() {
    let Some(dir) = corpus_dir() else { return };
    let applications = rendered_applications();
    assert_eq!(applications.len(), 2 + 4 * 3);
    for (file, schema) in schemas(&dir) {
        for (path, app) in &applications {
            let errors = validate(&schema, app);
            assert!(errors.is_empty(), "{path} against {file}: {errors:#?}");
        }
    }
}

#[test]
fn the_validator_accepts_the_upstream_reference_application() {
    let Some(dir) = corpus_dir() else { return };
    let example =
        dir.join("../argocd-apps/argoproj__argo-cd__docs__operator-manual__application.yaml");
    let app: Value = yaml_serde::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    for (file, schema) in schemas(&dir) {
        assert_eq!(validate(&schema, &app), Vec::<String>::new(), "{file}");
    }
}

/// Turns a valid Application into one the CRD must refuse.
type Breakage = fn(&mut Value);

#[test]
fn the_validator_rejects_broken_applications() {
    let Some(dir) = corpus_dir() else { return };
    let (_, good) = rendered_applications().remove(0);
    let breakages: [(&str, Breakage); 7] = [
        ("spec.sourc: unknown field", |a| {
            a["spec"]["sourc"] = a["spec"]["source"].clone()
        }),
        ("spec.syncPolicy.automated.selfheal: unknown field", |a| {
            a["spec"]["syncPolicy"]["automated"]["selfheal"] = json!(true)
        }),
        ("spec.destination: required field is missing", |a| {
            a["spec"].as_object_mut().unwrap().remove("destination");
        }),
        (
            "spec.syncPolicy.automated.prune: expected \"boolean\"",
            |a| a["spec"]["syncPolicy"]["automated"]["prune"] = json!("true"),
        ),
        (
            "metadata.annotations.argocd.argoproj.io/sync-wave: expected \"string\"",
            |a| {
                a["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-wave": 1});
            },
        ),
        (
            "spec.ignoreDifferences[0].jsonPointers: expected \"array\"",
            |a| a["spec"]["ignoreDifferences"][0]["jsonPointers"] = json!("/status"),
        ),
        ("metadata.finalizer: unknown field", |a| {
            a["metadata"]["finalizer"] = json!(["x"])
        }),
    ];
    for (file, schema) in schemas(&dir) {
        assert!(validate(&schema, &good).is_empty());
        for (expected, mut_fn) in &breakages {
            let mut broken = good.clone();
            mut_fn(&mut broken);
            let errors = validate(&schema, &broken);
            assert!(
                errors.iter().any(|e| e.starts_with(expected)),
                "{file}: wanted {expected:?}, got {errors:#?}"
            );
        }
    }
}
