//! History and the current image of each environment, answered from git.

use serde_json::{Value, json};

use crate::harness::{Server, TOKEN, expect_json};

#[test]
fn history_and_environments_come_from_the_trailers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    expect_json(
        server.post(
            "/v1/scaffold",
            &json!({ "template": "application",
                     "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } }),
        ),
        201,
    );
    let update = |env: &str, tag: &str| json!({ "application": "payments", "environment": env, "image": { "tag": tag } });
    let first = expect_json(
        server.post_with_key("/v1/image-updates", &update("staging", "1.1.0"), "build-1"),
        201,
    );
    expect_json(
        server.post("/v1/image-updates", &update("staging", "1.2.0")),
        201,
    );
    expect_json(
        server.post("/v1/image-updates", &update("production", "1.1.0")),
        201,
    );

    let body = expect_json(
        server.get(
            "/v1/history?application=payments&environment=staging",
            Some(TOKEN),
        ),
        200,
    );
    let entries = body["entries"].as_array().unwrap();
    let summary: Vec<(String, Value, Value)> = entries
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["tagBefore"].clone(),
                e["tagAfter"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("image-update".to_owned(), json!("1.1.0"), json!("1.2.0")),
            ("image-update".to_owned(), json!("1.0.0"), json!("1.1.0")),
            ("scaffold".to_owned(), Value::Null, Value::Null),
        ]
    );
    assert_eq!(entries[1]["commit"], first["commit"]["sha"]);
    assert_eq!(entries[1]["mutationId"], "build-1");
    assert_eq!(entries[1]["requestedBy"], "token:embedded");
    let limited = expect_json(
        server.get(
            "/v1/history?application=payments&environment=staging&limit=1",
            Some(TOKEN),
        ),
        200,
    );
    assert_eq!(limited["entries"].as_array().unwrap().len(), 1);
    expect_json(
        server.get(
            "/v1/history?application=Bad&environment=staging",
            Some(TOKEN),
        ),
        400,
    );
    expect_json(
        server.get("/v1/history?application=payments&environment=staging", None),
        401,
    );

    let envs = expect_json(
        server.get("/v1/applications/payments/environments", Some(TOKEN)),
        200,
    );
    let tags: Vec<(String, Value)> = envs["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["image"]["tag"].clone(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        vec![
            ("development".to_owned(), json!("1.0.0")),
            ("staging".to_owned(), json!("1.2.0")),
            ("production".to_owned(), json!("1.0.0")),
        ]
    );
    assert_eq!(envs["productionLagsStaging"], true);
    let missing = expect_json(
        server.get(
            "/v1/applications/orders/environments?environments=staging",
            Some(TOKEN),
        ),
        200,
    );
    assert!(missing["environments"][0].get("image").is_none());
}
