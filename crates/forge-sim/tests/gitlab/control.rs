use forge_sim::GitlabSim;
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::common::*;

fn sim_call(
    env: &Env,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = env
        .http
        .request(method, format!("{}{path}", env.sim.base_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().unwrap();
    let status = r.status();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn http_control_surface() {
    use reqwest::Method;
    let env = env();
    let (s, v) = sim_call(
        &env,
        Method::POST,
        "/_sim/projects",
        Some(json!({ "path": "acme/other", "default_branch": "trunk" })),
    );
    assert_eq!(s, StatusCode::CREATED);
    let other_id = v["id"].as_u64().unwrap();
    let (s, _) = sim_call(
        &env,
        Method::POST,
        "/_sim/projects",
        Some(json!({ "path": "acme/other" })),
    );
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = sim_call(
        &env,
        Method::POST,
        "/_sim/tokens",
        Some(json!({ "token": "t2", "username": "dave", "scopes": ["read_api"] })),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    let r = env.call_as(
        Some("t2"),
        Method::GET,
        &format!("/projects/{other_id}"),
        Body::None,
    );
    assert_eq!(r.json()["default_branch"], "trunk");

    let (s, v) = sim_call(
        &env,
        Method::POST,
        "/_sim/projects/acme%2Fother/commits",
        Some(json!({ "branch": "trunk", "files": { "a.txt": "a" } })),
    );
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        env.sim.branch_head("acme/other", "trunk").unwrap().unwrap(),
        v["sha"].as_str().unwrap()
    );

    sim_call(
        &env,
        Method::PUT,
        "/_sim/rate-limit",
        Some(json!({ "next": 1, "retry_after": 3 })),
    );
    assert_eq!(env.get("/user").status, StatusCode::TOO_MANY_REQUESTS);
    sim_call(
        &env,
        Method::PUT,
        "/_sim/faults",
        Some(json!({ "every": 1, "status": 500 })),
    );
    assert_eq!(env.get("/user").status, StatusCode::INTERNAL_SERVER_ERROR);
    sim_call(&env, Method::DELETE, "/_sim/faults", None);
    assert_eq!(env.get("/user").status, StatusCode::OK);

    let (s, _) = sim_call(
        &env,
        Method::POST,
        "/_sim/foreign-push",
        Some(json!({ "project": PROJECT, "path": "f.txt", "content": "f" })),
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(env.sim.foreign_pushes_pending(), 1);

    let (s, v) = sim_call(&env, Method::GET, "/_sim/stats", None);
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total_requests"], 4);
    assert_eq!(v["rate_limited"], 1);
    sim_call(&env, Method::DELETE, "/_sim/stats", None);
    assert_eq!(env.sim.stats().total_requests, 0);

    let (s, _) = sim_call(
        &env,
        Method::POST,
        "/_sim/projects/acme%2Fother/merge_requests/1/merge",
        None,
    );
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[test]
fn a_data_dir_is_served_again_with_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let first = GitlabSim::builder().data_dir(dir.path()).start().unwrap();
    let (id, git_dir) = first
        .create_project("acme/platform/gitops", "main")
        .unwrap();
    assert!(git_dir.starts_with(dir.path()));
    first.shutdown();
    let again = GitlabSim::builder().data_dir(dir.path()).start().unwrap();
    again.add_token("t", "alice", &["api"]);
    assert_eq!(again.project_id(PROJECT), Some(id));
    assert!(again.api_url().ends_with("/api/v4"));
    let r = Client::new()
        .get(format!("{}/projects/{id}", again.api_url()))
        .header("PRIVATE-TOKEN", "t")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
