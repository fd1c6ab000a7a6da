use serde_json::{Value, json};

use crate::git;
use crate::harness::{Server, expect_json};

fn assert_field(body: &Value, field: &str) {
    let fields: Vec<&str> = body["errors"].as_array().map_or(Vec::new(), |e| {
        e.iter().map(|f| f["field"].as_str().unwrap()).collect()
    });
    assert!(
        fields.contains(&field),
        "expected an error naming {field}: {body}"
    );
}

#[test]
fn bad_requests_are_named_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    let head = git::head(&repo);

    let body = expect_json(
        server.post("/v1/scaffold", &json!({ "template": "nope", "values": {} })),
        404,
    );
    assert_eq!(body["type"], "urn:gitops-mutator:problem:unknown-template");
    assert!(
        body["detail"].as_str().unwrap().contains("cicd-pipeline"),
        "lists the known templates: {body}"
    );

    let cicd = |name: &str| {
        json!({ "template": "cicd-pipeline", "values": { "name": name, "owner": "team-a",
            "sourceRepoUrl": "https://gitlab.example.com/team-a/payments.git", "awsRegion": "eu-west-1" } })
    };
    for bad in ["Payments", "../etc", "a/b", "", "x\ny"] {
        let body = expect_json(server.post("/v1/scaffold", &cicd(bad)), 400);
        assert_field(&body, "values.name");
    }
    let mut unknown = cicd("payments");
    unknown["values"]["colour"] = json!("blue");
    assert_field(
        &expect_json(server.post("/v1/scaffold", &unknown), 400),
        "values.colour",
    );
    let mut top = cicd("payments");
    top["dryrun"] = json!(true);
    assert_field(
        &expect_json(server.post("/v1/scaffold", &top), 400),
        "dryrun",
    );

    let update = |app: &str, env: &str, tag: &str| json!({ "application": app, "environment": env, "image": { "tag": tag } });
    assert_field(
        &expect_json(
            server.post("/v1/image-updates", &update("../x", "staging", "1")),
            400,
        ),
        "application",
    );
    assert_field(
        &expect_json(
            server.post("/v1/image-updates", &update("a", "/etc", "1")),
            400,
        ),
        "environment",
    );
    assert_field(
        &expect_json(
            server.post("/v1/image-updates", &update("a", ".git", "1")),
            400,
        ),
        "environment",
    );
    for tag in ["1.0\n", "a b", "-x", "\u{7}", "x".repeat(129).as_str()] {
        assert_field(
            &expect_json(
                server.post("/v1/image-updates", &update("a", "staging", tag)),
                400,
            ),
            "image.tag",
        );
    }
    let no_image = json!({ "application": "a", "environment": "staging", "image": {} });
    assert_field(
        &expect_json(server.post("/v1/image-updates", &no_image), 400),
        "image",
    );
    let bad_digest = json!({ "application": "a", "environment": "staging", "image": { "digest": "sha256:xyz" } });
    assert_field(
        &expect_json(server.post("/v1/image-updates", &bad_digest), 400),
        "image.digest",
    );
    let unknown_repo = json!({ "application": "a", "environment": "s", "image": { "tag": "1" }, "target": { "repository": "other" } });
    expect_json(server.post("/v1/image-updates", &unknown_repo), 404);

    let body = expect_json(
        server.post_raw("/v1/image-updates", b"{not json".to_vec()),
        400,
    );
    assert!(body["detail"].as_str().unwrap().contains("JSON"), "{body}");
    let mut big = br#"{"application":"a","environment":"s","image":{"tag":"1"},"x":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 10));
    big.extend(br#""}"#);
    let body = expect_json(server.post_raw("/v1/image-updates", big), 413);
    assert_eq!(body["type"], "urn:gitops-mutator:problem:body-too-large");
    let body = expect_json(
        server.request(
            "/v1/image-updates",
            &update("a", "s", "1"),
            Some(crate::harness::TOKEN),
            Some("k".repeat(256).as_str()),
        ),
        400,
    );
    assert_field(&body, "Idempotency-Key");

    assert_eq!(git::head(&repo), head, "no bad request may commit anything");
    assert_eq!(git::commit_count(&repo), 1);
}
