//! Values are data: whatever text a value holds is written so that it reads back exactly,
//! is never evaluated as a template, and cannot change the structure of the file.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use mutator_render::{Catalog, RenderTarget};
use serde_json::json;

const TRICKY: &str = "{{ x }} {% raw %}not raw{% endraw %} {# c #} : # \"double\" 'single'\nsecond: line *alias &anchor !tag\n- item\n";

#[test]
fn template_syntax_and_yaml_syntax_in_a_description_are_written_literally() {
    let rendered = render(
        "cicd-pipeline",
        &with(cicd_values(), json!({"description": TRICKY})),
    );
    let component = doc(&rendered, "apps/payments/catalog-info.yaml");
    assert_eq!(component["metadata"]["description"], TRICKY);
    // Nothing else moved: the keys after the description are still where they belong.
    assert_eq!(component["spec"]["owner"], "group:default/team-payments");
    assert_eq!(
        component["metadata"]["annotations"]["argocd/app-name"],
        "payments-cicd"
    );

    let rendered = render(
        "application",
        &with(application_values(), json!({"description": TRICKY})),
    );
    let app = doc(&rendered, "apps/payments/argocd/staging.yaml");
    assert_eq!(
        app["metadata"]["annotations"]["gitops-mutator/description"],
        TRICKY
    );
    assert_eq!(app["spec"]["project"], "default");
}

#[test]
fn tags_that_look_like_other_types_stay_strings() {
    for tag in [
        "1.10",
        "1e3",
        "0x1F",
        "010",
        "true",
        "null",
        "1_000",
        "2024-01-01",
    ] {
        let values = with(
            application_values(),
            json!({"image": {"repository": "ghcr.io/acme/payments", "tag": tag}}),
        );
        let rendered = render("application", &values);
        let file = doc(
            &rendered,
            "apps/payments/environments/production/values.yaml",
        );
        assert_eq!(file["image"]["tag"], json!(tag), "{tag}");
    }
}

#[test]
fn names_that_look_like_numbers_stay_strings() {
    let rendered = render(
        "cicd-pipeline",
        &with(cicd_values(), json!({"name": "1234"})),
    );
    assert_eq!(
        doc(&rendered, "apps/1234/manifests/namespace.yaml")["metadata"]["name"],
        json!("1234")
    );
    assert_eq!(
        doc(&rendered, "apps/1234/argocd/application.yaml")["metadata"]["name"],
        json!("1234-cicd")
    );
}

#[test]
fn the_render_target_is_escaped_too() {
    let target = RenderTarget {
        repo_url: "https://git.example.com/a b: #c".to_owned(),
        revision: "1.10".to_owned(),
    };
    let rendered = Catalog::embedded()
        .unwrap()
        .render("cicd-pipeline", &cicd_values(), &target)
        .unwrap();
    let app = doc(&rendered, "apps/payments/argocd/application.yaml");
    assert_eq!(
        app["spec"]["source"]["repoURL"],
        "https://git.example.com/a b: #c"
    );
    assert_eq!(app["spec"]["source"]["targetRevision"], json!("1.10"));
}
