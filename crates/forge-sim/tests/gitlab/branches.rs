use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[test]
fn get_branch_with_slash_in_its_name() {
    let env = env();
    let head = env.head("main");
    env.sim.create_branch(PROJECT, "feature/x", "main").unwrap();
    let r = env.get(&env.project_url("/repository/branches/feature%2Fx"));
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["name"], "feature/x");
    assert_eq!(v["commit"]["id"], head);
    assert_eq!(v["commit"]["short_id"], &head[..8]);
    assert_eq!(v["commit"]["title"], "Initial commit");
    assert_eq!(v["commit"]["parent_ids"], json!([]));
    assert_eq!(v["protected"], false);
    assert_eq!(v["default"], false);
    assert_eq!(
        env.get(&env.project_url("/repository/branches/main"))
            .json()["default"],
        true
    );
}

#[test]
fn unknown_branch_is_404() {
    let env = env();
    let r = env.get(&env.project_url("/repository/branches/nope"));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({ "message": "404 Branch Not Found" }));
}

#[test]
fn create_branch_from_json_form_and_query() {
    let env = env();
    let head = env.head("main");
    let url = env.project_url("/repository/branches");
    let r = env.post_json(&url, json!({ "branch": "a", "ref": "main" }));
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["name"], "a");
    assert_eq!(r.json()["commit"]["id"], head);

    let r = env.post_form(&url, &[("branch", "team/b"), ("ref", &head)]);
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(env.head("team/b"), head);

    let r = env.call_as(
        Some(WRITE),
        Method::POST,
        &format!("{url}?branch=c&ref=main"),
        Body::None,
    );
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(env.head("c"), head);
}

#[test]
fn create_branch_errors() {
    let env = env();
    let url = env.project_url("/repository/branches");
    let r = env.post_json(&url, json!({ "branch": "main", "ref": "main" }));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({ "message": "Branch already exists" }));

    let r = env.post_json(&url, json!({ "branch": "new", "ref": "nowhere" }));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({ "message": "Invalid reference name: nowhere" })
    );

    let r = env.post_json(&url, json!({ "branch": "new" }));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({ "error": "ref is missing" }));
    assert!(env.sim.branch_head(PROJECT, "new").unwrap().is_none());
}

#[test]
fn delete_branch_then_it_is_gone_and_can_be_created_again() {
    let env = env();
    let head = env.head("main");
    env.sim
        .create_branch(PROJECT, "gitops/a/production", "main")
        .unwrap();
    let url = env.project_url("/repository/branches/gitops%2Fa%2Fproduction");
    let r = env.call_as(Some(READ), Method::DELETE, &url, Body::None);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "read_api cannot delete");
    let r = env.call_as(Some(WRITE), Method::DELETE, &url, Body::None);
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.bytes.is_empty());
    assert!(
        env.sim
            .branch_head(PROJECT, "gitops/a/production")
            .unwrap()
            .is_none()
    );
    let r = env.call_as(Some(WRITE), Method::DELETE, &url, Body::None);
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({ "message": "404 Branch Not Found" }));
    let r = env.post_json(
        &env.project_url("/repository/branches"),
        json!({ "branch": "gitops/a/production", "ref": head }),
    );
    assert_eq!(r.status, StatusCode::CREATED);

    let r = env.call_as(
        Some(WRITE),
        Method::DELETE,
        &env.project_url("/repository/branches/main"),
        Body::None,
    );
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.message(), "Cannot remove HEAD branch");
    assert_eq!(env.head("main"), head);
}
