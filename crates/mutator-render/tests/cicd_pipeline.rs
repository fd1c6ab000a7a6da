//! The cicd-pipeline kind renders the four files the design names, with the fields Argo CD,
//! kro and Backstage rely on.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use serde_json::json;

const NAMESPACE: &str = "apps/payments/manifests/namespace.yaml";
const PIPELINE: &str = "apps/payments/manifests/kro-cicd-pipeline.yaml";
const APPLICATION: &str = "apps/payments/argocd/application.yaml";
const COMPONENT: &str = "apps/payments/catalog-info.yaml";

#[test]
fn writes_the_four_files_sorted_by_path() {
    let rendered = render("cicd-pipeline", &cicd_values());
    assert_eq!(rendered.name.as_str(), "payments");
    assert_eq!(
        paths(&rendered),
        [APPLICATION, COMPONENT, PIPELINE, NAMESPACE]
    );
}

#[test]
fn namespace_comes_first_with_a_string_wave() {
    let ns = doc(&render("cicd-pipeline", &cicd_values()), NAMESPACE);
    assert_eq!(ns["apiVersion"], "v1");
    assert_eq!(ns["kind"], "Namespace");
    assert_eq!(ns["metadata"]["name"], "payments");
    // json!("0") is a string; an unquoted 0 would parse as a number and fail this.
    assert_eq!(
        ns["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        json!("0")
    );
}

#[test]
fn pipeline_follows_in_wave_one_with_the_values() {
    let values = with(
        cicd_values(),
        json!({"imageRepository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments"}),
    );
    let p = doc(&render("cicd-pipeline", &values), PIPELINE);
    assert_eq!(p["apiVersion"], "kro.run/v1alpha1");
    assert_eq!(p["kind"], "CICDPipeline");
    assert_eq!(p["metadata"]["name"], "payments");
    assert_eq!(p["metadata"]["namespace"], "payments");
    assert_eq!(
        p["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        json!("1")
    );
    assert_eq!(
        p["spec"],
        json!({
            "name": "payments",
            "namespace": "payments",
            "aws": {"region": "eu-west-1"},
            "source": {"repoUrl": "https://github.com/acme/payments.git", "branch": "main"},
            "application": {"name": "payments", "dockerfilePath": ".", "deploymentPath": "deployment"},
            "image": {"repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments"},
        })
    );
    let without_image = doc(&render("cicd-pipeline", &cicd_values()), PIPELINE);
    assert!(without_image["spec"].get("image").is_none());
}

#[test]
fn application_syncs_the_manifests_from_the_gitops_repository() {
    let app = doc(&render("cicd-pipeline", &cicd_values()), APPLICATION);
    assert_eq!(app["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(app["kind"], "Application");
    assert_eq!(app["metadata"]["name"], "payments-cicd");
    assert_eq!(app["metadata"]["namespace"], "argocd");
    assert_eq!(
        app["metadata"]["finalizers"],
        json!(["resources-finalizer.argocd.argoproj.io"])
    );
    assert_eq!(app["spec"]["project"], "default");
    assert_eq!(
        app["spec"]["source"],
        json!({"repoURL": GITOPS_URL, "targetRevision": "main", "path": "apps/payments/manifests"})
    );
    assert_eq!(
        app["spec"]["destination"],
        json!({"server": "https://kubernetes.default.svc", "namespace": "payments"})
    );
    assert_eq!(
        app["spec"]["ignoreDifferences"],
        json!([{"group": "kro.run", "kind": "CICDPipeline", "jsonPointers": ["/status"]}])
    );
    assert_eq!(
        app["spec"]["syncPolicy"]["automated"],
        json!({"prune": true, "selfHeal": true})
    );
    let options = app["spec"]["syncPolicy"]["syncOptions"].as_array().unwrap();
    assert!(
        options.contains(&json!("CreateNamespace=false")),
        "{options:?}"
    );
    assert!(
        options.contains(&json!("RespectIgnoreDifferences=true")),
        "{options:?}"
    );
}

#[test]
fn component_points_backstage_at_the_application() {
    let values = with(
        cicd_values(),
        json!({"description": "Builds payments", "lifecycle": "production"}),
    );
    let c = doc(&render("cicd-pipeline", &values), COMPONENT);
    assert_eq!(c["apiVersion"], "backstage.io/v1alpha1");
    assert_eq!(c["kind"], "Component");
    assert_eq!(c["metadata"]["name"], "payments");
    assert_eq!(c["metadata"]["description"], "Builds payments");
    assert_eq!(
        c["metadata"]["annotations"]["argocd/app-name"],
        "payments-cicd"
    );
    assert_eq!(
        c["spec"],
        json!({"type": "service", "lifecycle": "production", "owner": "group:default/team-payments"})
    );
}

#[test]
fn explicit_values_replace_the_defaults() {
    let values = with(
        cicd_values(),
        json!({
            "namespace": "ci-payments",
            "sourceBranch": "release/2",
            "argocdProject": "team-payments",
            "destinationServer": "https://10.0.0.1:6443",
            "dockerfilePath": "docker",
        }),
    );
    let rendered = render("cicd-pipeline", &values);
    let app = doc(&rendered, APPLICATION);
    assert_eq!(app["spec"]["project"], "team-payments");
    assert_eq!(
        app["spec"]["destination"],
        json!({"server": "https://10.0.0.1:6443", "namespace": "ci-payments"})
    );
    assert_eq!(doc(&rendered, NAMESPACE)["metadata"]["name"], "ci-payments");
    let p = doc(&rendered, PIPELINE);
    assert_eq!(p["metadata"]["namespace"], "ci-payments");
    assert_eq!(p["spec"]["source"]["branch"], "release/2");
    assert_eq!(p["spec"]["application"]["dockerfilePath"], "docker");
    assert!(
        doc(&rendered, COMPONENT)["metadata"]
            .get("description")
            .is_none()
    );
}

#[test]
fn files_are_tidy() {
    let rendered = render(
        "cicd-pipeline",
        &with(cicd_values(), json!({"description": "x"})),
    );
    for file in &rendered.files {
        let text = &file.content;
        assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "{}: {text:?}",
            file.path
        );
        assert!(!text.starts_with('\n'), "{}", file.path);
        for line in text.lines() {
            assert!(
                !line.is_empty() && line.trim_end() == line && !line.contains('\t'),
                "{}: {line:?}",
                file.path
            );
        }
    }
}
