//! Who may change what, through the real binary: static named tokens and the policy.

use std::process::Command;

use serde_json::json;

use crate::git;
use crate::harness::{Options, Server, expect_json, sha256_hex};

const BACKSTAGE: &str = "backstage-secret-0123456789";
const DEPLOYER: &str = "deployer-secret-0123456789";

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "tokens:\n  - name: backstage\n    sha256: {}\n  - name: deployer\n    sha256: {}\npolicy:\n  - name: backstage-scaffolds\n    token: backstage\n    allow: {{ actions: [scaffold], templates: [application, cicd-pipeline] }}\n  - name: deployer-staging\n    token: deployer\n    allow: {{ actions: [image-update], applications: [payments], environments: [development, staging] }}\n",
            sha256_hex(BACKSTAGE),
            sha256_hex(DEPLOYER)
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_policy_decides_and_a_denial_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            ..Options::default()
        },
    );
    let repo = server.repo_path();
    let scaffold = json!({ "template": "application",
        "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } });
    let update = |env: &str| json!({ "application": "payments", "environment": env, "image": { "tag": "1.0.1" } });

    // The embedded token is off once a policy exists.
    expect_json(server.post("/v1/scaffold", &scaffold), 401);
    let body = expect_json(
        server.request("/v1/scaffold", &scaffold, Some(BACKSTAGE), None),
        201,
    );
    let message = git::message(&repo, body["commit"]["sha"].as_str().unwrap());
    assert!(
        message.contains("Gitops-Requested-By: token:backstage (rule backstage-scaffolds)"),
        "{message}"
    );

    let head = git::head(&repo);
    let body = expect_json(
        server.request(
            "/v1/image-updates",
            &update("staging"),
            Some(BACKSTAGE),
            None,
        ),
        403,
    );
    assert_eq!(body["type"], "urn:gitops-mutator:problem:forbidden");
    assert!(
        body["detail"].as_str().unwrap().contains("image-update"),
        "{body}"
    );
    let body = expect_json(
        server.request(
            "/v1/image-updates",
            &update("production"),
            Some(DEPLOYER),
            None,
        ),
        403,
    );
    assert!(
        body["detail"].as_str().unwrap().contains("production"),
        "{body}"
    );
    assert_eq!(git::head(&repo), head, "a denied request commits nothing");

    expect_json(
        server.request(
            "/v1/image-updates",
            &update("staging"),
            Some(DEPLOYER),
            None,
        ),
        201,
    );
    let logs = server.logs();
    assert!(
        !logs.contains(BACKSTAGE) && !logs.contains(DEPLOYER),
        "tokens never appear in logs"
    );
}

#[test]
fn policy_check_explains_offline() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let claims = dir.path().join("claims.json");
    std::fs::write(&claims, r#"{"token": "deployer"}"#).unwrap();
    let request = dir.path().join("request.json");
    let run = |req: &str| {
        std::fs::write(&request, req).unwrap();
        Command::new(env!("CARGO_BIN_EXE_gitops-mutator"))
            .args(["policy", "check", "--config"])
            .arg(&config)
            .arg("--token-claims")
            .arg(&claims)
            .arg("--request")
            .arg(&request)
            .output()
            .unwrap()
    };
    let out = run(
        r#"{"action": "image-update", "repository": "default", "application": "payments", "environment": "staging"}"#,
    );
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("allowed: token:deployer (rule deployer-staging)")
    );
    let out = run(
        r#"{"action": "image-update", "repository": "default", "application": "payments", "environment": "production"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("denied:") && text.contains("environment \"production\""),
        "{text}"
    );
}
