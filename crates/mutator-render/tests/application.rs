//! The application kind: one Argo CD Application and one values file per environment, with
//! automated sync everywhere except production.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use serde_json::{Value, json};

const ENVS: [&str; 3] = ["development", "staging", "production"];

fn app(rendered: &mutator_render::Rendered, env: &str) -> Value {
    doc(rendered, &format!("apps/payments/argocd/{env}.yaml"))
}

#[test]
fn writes_an_application_and_a_values_file_per_default_environment() {
    let rendered = render("application", &application_values());
    assert_eq!(rendered.name.as_str(), "payments");
    assert_eq!(
        paths(&rendered),
        [
            "apps/payments/argocd/development.yaml",
            "apps/payments/argocd/production.yaml",
            "apps/payments/argocd/staging.yaml",
            "apps/payments/environments/development/values.yaml",
            "apps/payments/environments/production/values.yaml",
            "apps/payments/environments/staging/values.yaml",
        ]
    );
}

#[test]
fn each_application_deploys_the_in_repo_chart_with_its_environment_values() {
    let rendered = render("application", &application_values());
    for env in ENVS {
        let a = app(&rendered, env);
        assert_eq!(a["apiVersion"], "argoproj.io/v1alpha1");
        assert_eq!(a["kind"], "Application");
        assert_eq!(a["metadata"]["name"], format!("payments-{env}"));
        assert_eq!(a["metadata"]["namespace"], "argocd");
        assert_eq!(
            a["metadata"]["finalizers"],
            json!(["resources-finalizer.argocd.argoproj.io"])
        );
        assert_eq!(a["spec"]["project"], "default");
        assert_eq!(
            a["spec"]["source"],
            json!({
                "repoURL": GITOPS_URL,
                "targetRevision": "main",
                "path": "apps/payments/chart",
                "helm": {
                    "releaseName": "payments",
                    "valueFiles": [format!("../environments/{env}/values.yaml")],
                },
            })
        );
        assert!(a["spec"].get("sources").is_none());
        assert_eq!(
            a["spec"]["destination"],
            json!({"server": "https://kubernetes.default.svc", "namespace": format!("payments-{env}")})
        );
        assert_eq!(
            a["spec"]["ignoreDifferences"],
            json!([{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}])
        );
        let options = a["spec"]["syncPolicy"]["syncOptions"].as_array().unwrap();
        assert!(
            options.contains(&json!("RespectIgnoreDifferences=true")),
            "{options:?}"
        );
    }
}

#[test]
fn only_non_production_environments_sync_automatically() {
    let rendered = render("application", &application_values());
    for env in ["development", "staging"] {
        let policy = &app(&rendered, env)["spec"]["syncPolicy"];
        assert_eq!(
            policy["automated"],
            json!({"prune": true, "selfHeal": true}),
            "{env}"
        );
    }
    let production = app(&rendered, "production");
    assert!(
        production["spec"]["syncPolicy"].get("automated").is_none(),
        "{production}"
    );
}

#[test]
fn values_files_hold_the_image_with_a_string_tag() {
    let values = with(
        application_values(),
        json!({"image": {"repository": "ghcr.io/acme/payments", "tag": "1.10"}}),
    );
    let rendered = render("application", &values);
    for env in ENVS {
        let path = format!("apps/payments/environments/{env}/values.yaml");
        let text = content(&rendered, &path);
        assert!(
            text.starts_with('#') && text.contains("gitops-mutator manages image.tag"),
            "{text}"
        );
        assert!(text.contains("tag: \"1.10\""), "{text}");
        assert_eq!(
            doc(&rendered, &path),
            json!({"image": {"repository": "ghcr.io/acme/payments", "tag": "1.10"}})
        );
    }
}

#[test]
fn custom_environments_and_namespace() {
    let values = with(
        application_values(),
        json!({"environments": ["qa", "production"], "namespace": "payments"}),
    );
    let rendered = render("application", &values);
    assert_eq!(rendered.files.len(), 4);
    let qa = app(&rendered, "qa");
    assert_eq!(qa["metadata"]["name"], "payments-qa");
    assert_eq!(qa["spec"]["destination"]["namespace"], "payments");
    assert!(qa["spec"]["syncPolicy"].get("automated").is_some());
    assert!(
        app(&rendered, "production")["spec"]["syncPolicy"]
            .get("automated")
            .is_none()
    );
}

#[test]
fn a_helm_repository_chart_takes_its_values_from_a_second_source() {
    let values = with(
        application_values(),
        json!({"chart": {"repoUrl": "oci://ghcr.io/acme/charts", "name": "payments", "targetRevision": "2.1.0"}}),
    );
    let rendered = render("application", &values);
    let a = app(&rendered, "staging");
    assert!(a["spec"].get("source").is_none());
    assert_eq!(
        a["spec"]["sources"],
        json!([
            {
                "repoURL": "oci://ghcr.io/acme/charts",
                "targetRevision": "2.1.0",
                "chart": "payments",
                "helm": {
                    "releaseName": "payments",
                    "valueFiles": ["$values/apps/payments/environments/staging/values.yaml"],
                },
            },
            {"repoURL": GITOPS_URL, "targetRevision": "main", "ref": "values"},
        ])
    );
}

#[test]
fn a_chart_in_another_git_repository_uses_its_path() {
    let values = with(
        application_values(),
        json!({"chart": {"repoUrl": "git@github.com:acme/charts.git", "path": "charts/payments", "targetRevision": "v3"}}),
    );
    let source = &app(&render("application", &values), "development")["spec"]["sources"][0];
    assert_eq!(source["repoURL"], "git@github.com:acme/charts.git");
    assert_eq!(source["path"], "charts/payments");
    assert!(source.get("chart").is_none());
    assert_eq!(
        source["helm"]["valueFiles"],
        json!(["$values/apps/payments/environments/development/values.yaml"])
    );
}

#[test]
fn a_chart_elsewhere_in_the_gitops_repository_gets_relative_value_files() {
    let values = with(
        application_values(),
        json!({"chart": {"path": "charts/payments"}}),
    );
    let source = &app(&render("application", &values), "staging")["spec"]["source"];
    assert_eq!(source["repoURL"], GITOPS_URL);
    assert_eq!(source["path"], "charts/payments");
    assert_eq!(
        source["helm"]["valueFiles"],
        json!(["../../apps/payments/environments/staging/values.yaml"])
    );
}

#[test]
fn chart_combinations_that_cannot_work_are_refused() {
    let cases = [
        (json!({"name": "payments"}), "values.chart.repoUrl"),
        (
            json!({"path": "a", "name": "b", "repoUrl": "https://charts.example.com", "targetRevision": "1"}),
            "values.chart.name",
        ),
        (json!({}), "values.chart.path"),
        (
            json!({"repoUrl": "oci://ghcr.io/acme/charts", "name": "payments"}),
            "values.chart.targetRevision",
        ),
        (
            json!({"path": "charts/payments", "targetRevision": "v1"}),
            "values.chart.targetRevision",
        ),
        (
            json!({"repoUrl": "git@github.com:acme/charts.git", "name": "payments", "targetRevision": "1"}),
            "values.chart.repoUrl",
        ),
    ];
    for (chart, field) in cases {
        let (got, message) = field_error(render_err(
            "application",
            &with(application_values(), json!({"chart": chart.clone()})),
        ));
        assert_eq!(got, field, "{chart}: {message}");
    }
}

#[test]
fn environment_lists_are_checked() {
    let (field, message) = field_error(render_err(
        "application",
        &with(application_values(), json!({"environments": []})),
    ));
    assert_eq!(field, "values.environments");
    assert!(message.contains("at least one"), "{message}");

    let (field, _) = field_error(render_err(
        "application",
        &with(
            application_values(),
            json!({"environments": ["qa", "prod", "qa"]}),
        ),
    ));
    assert_eq!(field, "values.environments[2]");

    let (field, message) = field_error(render_err(
        "application",
        &with(
            application_values(),
            json!({"environments": ["qa", "Prod"]}),
        ),
    ));
    assert_eq!(field, "values.environments[1]");
    assert!(message.contains("DNS-1123"), "{message}");
}

#[test]
fn application_names_must_stay_labels() {
    let name = "a".repeat(53);
    // 53 + "-development" = 65 characters: too long; 53 + "-qa" fits.
    let (field, message) = field_error(render_err(
        "application",
        &with(application_values(), json!({"name": name})),
    ));
    assert_eq!(field, "values.name");
    assert!(message.contains("63"), "{message}");
    render(
        "application",
        &with(
            application_values(),
            json!({"name": name, "environments": ["qa"]}),
        ),
    );
}
