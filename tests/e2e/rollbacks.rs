//! Rollbacks restore the exact old bytes, pin the environment, and show in the history.

use serde_json::{Value, json};

use crate::git;
use crate::harness::{Server, TOKEN, expect_json};

const VALUES: &str = "apps/payments/environments/staging/values.yaml";

fn update(server: &Server, tag: &str) -> Value {
    expect_json(
        server.post("/v1/image-updates", &json!({ "application": "payments", "environment": "staging", "image": { "tag": tag } })),
        201,
    )
}

#[test]
fn rollback_by_previous_tag_and_commit_restores_bytes_and_pins() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    expect_json(
        server.post(
            "/v1/scaffold",
            &json!({ "template": "application",
                     "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } }),
        ),
        201,
    );
    let a = update(&server, "1.1.0")["commit"]["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = update(&server, "1.2.0")["commit"]["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    update(&server, "1.3.0");
    let bytes_at = |sha: &str| git::file(&repo, sha, VALUES).unwrap();

    // Undo the last change: the bytes as they were before it.
    let rolled = expect_json(
        server.post("/v1/rollbacks", &json!({ "application": "payments", "environment": "staging", "to": { "previous": 1 }, "reason": "1.3.0 crashes" })),
        201,
    );
    let sha = rolled["commit"]["sha"].as_str().unwrap();
    assert_eq!(bytes_at(sha), bytes_at(&b));
    assert_eq!(rolled["previous"]["tag"], "1.3.0");
    let pins = expect_json(server.get("/v1/pins", Some(TOKEN)), 200);
    assert_eq!(pins["pins"][0]["environment"], "staging");
    assert_eq!(pins["pins"][0]["by"], "token:embedded");
    assert!(
        pins["pins"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("1.3.0 crashes")
    );

    // Automation is refused while pinned, with the holder and the reason, and changes nothing.
    let head = git::head(&repo);
    let refused = expect_json(
        server.post("/v1/image-updates", &json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.4.0" } })),
        423,
    );
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("token:embedded"),
        "{refused}"
    );
    assert_eq!(git::head(&repo), head);

    // By tag and by commit, each to the exact old bytes; to the current state is a noop.
    let by_tag = expect_json(
        server.post("/v1/rollbacks", &json!({ "application": "payments", "environment": "staging", "to": { "tag": "1.1.0" } })),
        201,
    );
    assert_eq!(
        bytes_at(by_tag["commit"]["sha"].as_str().unwrap()),
        bytes_at(&a)
    );
    let by_commit = expect_json(
        server.post(
            "/v1/rollbacks",
            &json!({ "application": "payments", "environment": "staging", "to": { "commit": b } }),
        ),
        201,
    );
    assert_eq!(
        bytes_at(by_commit["commit"]["sha"].as_str().unwrap()),
        bytes_at(&b)
    );
    let same = expect_json(
        server.post(
            "/v1/rollbacks",
            &json!({ "application": "payments", "environment": "staging", "to": { "commit": b } }),
        ),
        200,
    );
    assert_eq!(same["status"], "noop");
    expect_json(
        server.post("/v1/rollbacks", &json!({ "application": "payments", "environment": "staging", "to": { "tag": "9.9.9" } })),
        404,
    );
    expect_json(
        server.post("/v1/rollbacks", &json!({ "application": "payments", "environment": "staging", "to": { "previous": 1, "tag": "1.1.0" } })),
        400,
    );

    // The history names each rollback and who asked.
    let history = expect_json(
        server.get(
            "/v1/history?application=payments&environment=staging&limit=3",
            Some(TOKEN),
        ),
        200,
    );
    let kinds: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rollback", "rollback", "rollback"]);
    assert_eq!(history["entries"][1]["tagAfter"], "1.1.0");

    // force overrides the pin (the embedded token may do everything); lifting it frees the lane.
    expect_json(
        server.post(
            "/v1/image-updates",
            &json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.4.0" }, "force": true }),
        ),
        201,
    );
    let lifted = server.client_delete("/v1/pins/payments/staging");
    assert_eq!(lifted, 201);
    assert_eq!(
        expect_json(server.get("/v1/pins", Some(TOKEN)), 200)["pins"],
        json!([])
    );
    update(&server, "1.5.0");
}
