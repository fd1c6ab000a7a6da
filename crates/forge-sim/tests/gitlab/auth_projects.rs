use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

const RATE_HEADERS: [&str; 6] = [
    "ratelimit-limit",
    "ratelimit-observed",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-resettime",
    "x-request-id",
];

fn assert_rate_headers(r: &Reply) {
    for h in RATE_HEADERS {
        assert!(r.header(h).is_some(), "missing {h} on {}", r.status);
    }
}

#[test]
fn user_answers_for_private_token_and_bearer() {
    let env = env();
    let r = env.get("/user");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["username"], "alice");
    assert!(r.json()["id"].as_u64().is_some());
    assert_rate_headers(&r);
    assert_eq!(r.header("ratelimit-limit").as_deref(), Some("2000"));

    let r = env
        .http
        .get(format!("{}/user", env.sim.api_url()))
        .header("authorization", format!("Bearer {READ}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["username"], "bob");
}

#[test]
fn missing_or_unknown_tokens_are_401() {
    let env = env();
    for token in [None, Some("nope")] {
        let r = env.call_as(token, Method::GET, "/user", Body::None);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json(), json!({ "message": "401 Unauthorized" }));
        assert_rate_headers(&r);
        assert_eq!(
            r.header("ratelimit-name").as_deref(),
            Some("throttle_unauthenticated_api")
        );
    }
    assert_eq!(env.sim.stats().by_token.get("anonymous"), Some(&2));
}

#[test]
fn project_by_id_and_by_encoded_path() {
    let env = env();
    let by_path = env.get(&env.project_url(""));
    assert_eq!(by_path.status, StatusCode::OK);
    let v = by_path.json();
    assert_eq!(v["id"], env.id);
    assert_eq!(v["path_with_namespace"], PROJECT);
    assert_eq!(v["default_branch"], "main");
    assert_eq!(v["web_url"], format!("{}/{PROJECT}", env.sim.base_url()));
    let by_id = env.get(&format!("/projects/{}", env.id));
    assert_eq!(by_id.json(), v);
    // Paths are case-insensitive, as GitLab finds them.
    assert_eq!(
        env.get("/projects/ACME%2Fplatform%2FGitOps").status,
        StatusCode::OK
    );
}

#[test]
fn unknown_projects_are_404() {
    let env = env();
    for path in ["/projects/acme%2Fnope", "/projects/999999"] {
        let r = env.get(path);
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({ "message": "404 Project Not Found" }));
        assert_rate_headers(&r);
    }
    // An unencoded `/` does not match the route at all.
    let r = env.get("/projects/acme/platform/gitops");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[test]
fn read_api_tokens_read_but_cannot_write() {
    let env = env();
    let r = env.call_as(Some(READ), Method::GET, &env.project_url(""), Body::None);
    assert_eq!(r.status, StatusCode::OK);
    let r = env.call_as(
        Some(READ),
        Method::POST,
        &env.project_url("/repository/branches"),
        Body::Json(json!({ "branch": "x", "ref": "main" })),
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let v = r.json();
    assert_eq!(v["error"], "insufficient_scope");
    assert_eq!(v["scope"], "api");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("higher privileges")
    );
    assert!(env.sim.branch_head(PROJECT, "x").unwrap().is_none());

    env.sim.add_token("glpat-none", "carol", &["read_user"]);
    let r = env.call_as(Some("glpat-none"), Method::GET, "/user", Body::None);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
