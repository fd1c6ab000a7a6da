use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[test]
fn http_control_surface_drives_the_simulator() {
    let env = env();
    let c = |method: Method, path: &str, body: Option<serde_json::Value>| {
        env.call_as(None, method, path, body)
    };

    let r = c(
        Method::POST,
        "/_sim/repos",
        Some(json!({ "owner": "demo", "name": "cfg", "default_branch": "trunk" })),
    );
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(std::path::Path::new(r.json()["path"].as_str().unwrap()).exists());
    assert_eq!(
        c(
            Method::POST,
            "/_sim/repos",
            Some(json!({ "owner": "demo", "name": "cfg" }))
        )
        .status,
        StatusCode::CONFLICT
    );

    assert_eq!(
        c(
            Method::POST,
            "/_sim/tokens",
            Some(json!({ "token": "demo-token", "user": "dora" }))
        )
        .status,
        StatusCode::NO_CONTENT
    );
    let r = env.call_as(
        Some("demo-token"),
        Method::GET,
        "/repos/demo/cfg/git/ref/heads/trunk",
        None,
    );
    assert_eq!(r.status, StatusCode::OK);

    assert_eq!(
        c(
            Method::PUT,
            "/_sim/limits/secondary",
            Some(json!({ "next": 1, "retry_after": 0 }))
        )
        .status,
        StatusCode::NO_CONTENT
    );
    let head = env.head("main");
    let r = env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": head })),
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    assert_eq!(
        c(
            Method::PUT,
            "/_sim/faults",
            Some(json!({ "every": 1, "status": 503 }))
        )
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.get("/repos/acme/gitops").status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        c(Method::DELETE, "/_sim/faults", None).status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(env.get("/repos/acme/gitops").status, StatusCode::OK);

    let stats = c(Method::GET, "/_sim/stats", None).json();
    assert_eq!(stats["secondary_limited"], 1);
    assert_eq!(stats["faults_injected"], 1);
    assert_eq!(
        c(Method::DELETE, "/_sim/stats", None).status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c(Method::GET, "/_sim/stats", None).json()["total_requests"],
        0
    );

    assert_eq!(
        c(Method::POST, "/_sim/foreign-push", Some(json!({ "owner": "acme", "repo": "gitops", "branch": "main", "path": "f.txt", "content": "f" }))).status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(env.sim.foreign_pushes_pending(), 1);
    assert_eq!(
        c(Method::POST, "/_sim/repos/acme/gitops/pulls/5/merge", None).status,
        StatusCode::NOT_FOUND
    );
}

/// The simulator also starts and stops from inside an async test, and `serve` runs on a
/// caller's listener.
#[tokio::test]
async fn works_from_async_tests_and_with_serve() {
    let running = forge_sim::GithubSim::start().unwrap();
    running.create_repo("acme", "gitops", "main").unwrap();
    running.add_token("t", "alice");
    let client = reqwest::Client::new();
    let r = client
        .get(format!(
            "{}/repos/acme/gitops/git/ref/heads/main",
            running.base_url()
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(running);

    let sim = forge_sim::Sim::new(None).unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    sim.add_token("t", "alice");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(forge_sim::serve_with_shutdown(
        listener,
        sim.clone(),
        async {
            let _ = rx.await;
        },
    ));
    let r = client
        .get(format!("http://{addr}/repos/acme/gitops"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}

#[test]
fn data_dir_is_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let sim = forge_sim::GithubSim::builder()
            .data_dir(dir.path())
            .start()
            .unwrap();
        sim.create_repo("acme", "kept", "main").unwrap();
        sim.branch_head("acme", "kept", "main").unwrap().unwrap()
    };
    let sim = forge_sim::GithubSim::builder()
        .data_dir(dir.path())
        .start()
        .unwrap();
    assert_eq!(
        sim.branch_head("acme", "kept", "main").unwrap().unwrap(),
        head
    );
}
