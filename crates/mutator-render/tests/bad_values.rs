//! Requests that cannot be rendered say which template or field is wrong and how.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use mutator_render::RenderError;
use serde_json::json;

#[test]
fn unknown_template_lists_the_known_ones() {
    match render_err("helm-chart", &json!({})) {
        RenderError::UnknownTemplate { name, known } => {
            assert_eq!(name, "helm-chart");
            assert_eq!(known, ["application", "cicd-pipeline"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_names_are_refused_for_both_kinds() {
    for (template, base) in [
        ("cicd-pipeline", cicd_values()),
        ("application", application_values()),
    ] {
        for bad in ["Payments", "../x", "", "a_b"] {
            let (field, message) = field_error(render_err(
                template,
                &with(base.clone(), json!({"name": bad})),
            ));
            assert_eq!(field, "values.name", "{template} {bad:?}");
            assert!(message.contains("DNS-1123"), "{message}");
        }
    }
}

#[test]
fn unknown_fields_are_named() {
    let (field, message) = field_error(render_err(
        "cicd-pipeline",
        &with(cicd_values(), json!({"foo": 1})),
    ));
    assert_eq!(field, "values.foo");
    assert!(message.starts_with("unknown field"), "{message}");
    assert!(
        message.contains("sourceRepoUrl"),
        "the valid names are listed: {message}"
    );

    let values = with(
        application_values(),
        json!({"image": {"repository": "ghcr.io/acme/x", "tag": "1", "digest": "x"}}),
    );
    let (field, _) = field_error(render_err("application", &values));
    assert_eq!(field, "values.image.digest");
}

#[test]
fn missing_required_fields_are_named() {
    for required in ["name", "owner", "sourceRepoUrl", "awsRegion"] {
        let mut values = cicd_values();
        values.as_object_mut().unwrap().remove(required);
        let (field, message) = field_error(render_err("cicd-pipeline", &values));
        assert_eq!(field, format!("values.{required}"));
        assert_eq!(message, "this field is required");
    }
    let values = with(
        application_values(),
        json!({"image": {"repository": "ghcr.io/acme/x"}}),
    );
    let (field, _) = field_error(render_err("application", &values));
    assert_eq!(field, "values.image.tag");
}

#[test]
fn invalid_values_say_what_a_valid_one_looks_like() {
    let cases = [
        (
            "cicd-pipeline",
            json!({"awsRegion": "Ireland"}),
            "values.awsRegion",
            "eu-west-1",
        ),
        (
            "cicd-pipeline",
            json!({"sourceRepoUrl": "https://user:token@github.com/acme/x.git"}),
            "values.sourceRepoUrl",
            "without a password",
        ),
        (
            "cicd-pipeline",
            json!({"owner": "component:x"}),
            "values.owner",
            "group",
        ),
        (
            "cicd-pipeline",
            json!({"destinationServer": "http://k8s"}),
            "values.destinationServer",
            "https://",
        ),
        (
            "cicd-pipeline",
            json!({"lifecycle": "beta"}),
            "values.lifecycle",
            "experimental",
        ),
        (
            "cicd-pipeline",
            json!({"name": 5}),
            "values.name",
            "invalid type",
        ),
        (
            "application",
            json!({"image": {"repository": "ghcr.io/acme/x", "tag": "{{ x }}"}}),
            "values.image.tag",
            "image tag",
        ),
    ];
    for (template, extra, field, hint) in cases {
        let base = if template == "application" {
            application_values()
        } else {
            cicd_values()
        };
        let (got, message) = field_error(render_err(template, &with(base, extra)));
        assert_eq!(got, field);
        assert!(message.contains(hint), "{field}: {message}");
    }
}

#[test]
fn values_must_be_an_object() {
    let (field, message) = field_error(render_err("cicd-pipeline", &json!(["payments"])));
    assert_eq!(field, "values");
    assert!(
        message.contains("an object with the cicd-pipeline values"),
        "{message}"
    );
}

#[test]
fn the_error_message_names_the_field() {
    let err = render_err(
        "cicd-pipeline",
        &with(cicd_values(), json!({"name": "Payments"})),
    );
    assert!(
        err.to_string().starts_with("invalid values: values.name: "),
        "{err}"
    );
}

#[test]
fn a_pipeline_name_leaves_room_for_the_application_suffix() {
    render(
        "cicd-pipeline",
        &with(cicd_values(), json!({"name": "a".repeat(58)})),
    );
    let (field, message) = field_error(render_err(
        "cicd-pipeline",
        &with(cicd_values(), json!({"name": "a".repeat(59)})),
    ));
    assert_eq!(field, "values.name");
    assert!(message.contains("at most 58"), "{message}");
}
