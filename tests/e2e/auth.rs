use serde_json::json;

use crate::git;
use crate::harness::{Options, Server, TOKEN, expect_json};

#[test]
fn v1_needs_the_token_and_health_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let head = git::head(&server.repo_path());
    let req = json!({ "template": "cicd-pipeline", "values": {} });
    let body = expect_json(server.request("/v1/scaffold", &req, None, None), 401);
    assert_eq!(body["type"], "urn:gitops-mutator:problem:unauthorized");
    expect_json(
        server.request("/v1/scaffold", &req, Some("wrong"), None),
        401,
    );
    expect_json(server.get("/v1/templates", None), 401);
    assert_eq!(git::head(&server.repo_path()), head);

    assert_eq!(server.get("/healthz", None).status().as_u16(), 200);
    let ready = expect_json(server.get("/readyz", None), 200);
    assert_eq!(ready["repositories"]["default"], "ok");
    let openapi = expect_json(server.get("/openapi.json", None), 200);
    assert!(openapi["paths"]["/v1/image-updates"]["post"].is_object());
    assert!(
        !server.logs().contains(TOKEN),
        "the token must never be logged"
    );
}

#[test]
fn a_generated_token_is_stored_0600_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with(
        &data,
        Options {
            token: None,
            ..Options::default()
        },
    );
    let token_file = data.join("token");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(token.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        server.get("/v1/templates", Some(&token)).status().as_u16(),
        200
    );
    expect_json(server.get("/v1/templates", Some(TOKEN)), 401);
    let logs = server.logs();
    assert!(
        logs.contains("token"),
        "the token file's location is told: {logs}"
    );
    assert!(!logs.contains(&token), "the token itself is never printed");
    server.stop();
    // A restart reuses the stored token.
    let server = Server::start_with(
        &data,
        Options {
            token: None,
            ..Options::default()
        },
    );
    assert_eq!(
        server.get("/v1/templates", Some(&token)).status().as_u16(),
        200
    );
}
