use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

const REF_PATH: &str = "/repos/acme/gitops/git/ref/heads/main";

#[test]
fn get_ref_answers_the_head_and_rate_limit_headers() {
    let env = env();
    let r = env.get(REF_PATH);
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["ref"], "refs/heads/main");
    assert_eq!(body["object"]["type"], "commit");
    assert_eq!(body["object"]["sha"], env.head("main"));
    assert!(body["node_id"].is_string());
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with("/repos/acme/gitops/git/refs/heads/main")
    );
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-used",
        "x-ratelimit-reset",
        "x-github-request-id",
    ] {
        assert!(r.header(h).is_some(), "missing {h}");
    }
    assert_eq!(r.header("x-ratelimit-resource").as_deref(), Some("core"));
    assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("5000"));
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("4999"));
    assert_eq!(r.header("x-ratelimit-used").as_deref(), Some("1"));
}

#[test]
fn branch_names_may_contain_slashes() {
    let env = env();
    let sha = env
        .sim
        .create_branch(OWNER, REPO, "feature/deep/x", "main")
        .unwrap();
    let r = env.get("/repos/acme/gitops/git/ref/heads/feature/deep/x");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["object"]["sha"], sha);
    assert_eq!(r.json()["ref"], "refs/heads/feature/deep/x");
    // Only exact matches: a prefix of an existing branch is not found.
    assert_eq!(
        env.get("/repos/acme/gitops/git/ref/heads/feature").status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn missing_ref_is_404_and_empty_repository_is_409() {
    let env = env();
    let r = env.get("/repos/acme/gitops/git/ref/heads/nope");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.message(), "Not Found");
    assert!(r.json()["documentation_url"].is_string());

    env.sim.create_empty_repo(OWNER, "empty", "main").unwrap();
    let r = env.get("/repos/acme/empty/git/ref/heads/main");
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.message(), "Git Repository is empty.");
}

#[test]
fn credentials_are_checked_and_hidden_repositories_are_404() {
    let env = env();
    let r = env.call_as(None, Method::GET, REF_PATH, None);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.message(), "Requires authentication");
    assert!(r.header("x-ratelimit-limit").is_some());

    let r = env.call_as(Some("ghp_unknown"), Method::GET, REF_PATH, None);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.message(), "Bad credentials");

    // The old `token` scheme is accepted as well.
    let r = env
        .http
        .get(env.url(REF_PATH))
        .header("authorization", format!("token {TOKEN}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    assert_eq!(
        env.get("/repos/acme/unknown/git/ref/heads/main").status,
        StatusCode::NOT_FOUND
    );
    // Owner and repository names are case-insensitive.
    assert_eq!(
        env.get("/repos/ACME/GitOps/git/ref/heads/main").status,
        StatusCode::OK
    );

    env.sim.create_repo(OWNER, "other", "main").unwrap();
    env.sim
        .add_scoped_token("ghp_scoped", "bob", &["acme/other"]);
    let r = env.call_as(Some("ghp_scoped"), Method::GET, REF_PATH, None);
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = env.call_as(
        Some("ghp_scoped"),
        Method::GET,
        "/repos/acme/other/git/ref/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::OK);
}

#[test]
fn create_ref_and_its_422s() {
    let env = env();
    let head = env.head("main");
    let r = env.call(
        Method::POST,
        "/repos/acme/gitops/git/refs",
        Some(json!({ "ref": "refs/heads/topic/a", "sha": head })),
    );
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["ref"], "refs/heads/topic/a");
    assert_eq!(r.json()["object"]["sha"], head);
    assert!(r.header("location").is_some());
    assert_eq!(
        env.sim
            .branch_head(OWNER, REPO, "topic/a")
            .unwrap()
            .as_deref(),
        Some(head.as_str())
    );

    let r = env.call(
        Method::POST,
        "/repos/acme/gitops/git/refs",
        Some(json!({ "ref": "refs/heads/topic/a", "sha": head })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Reference already exists");

    let r = env.call(
        Method::POST,
        "/repos/acme/gitops/git/refs",
        Some(json!({ "ref": "refs/heads/b", "sha": "0123456789012345678901234567890123456789" })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Object does not exist");

    for bad in ["heads/b", "refs/b", "b"] {
        let r = env.call(
            Method::POST,
            "/repos/acme/gitops/git/refs",
            Some(json!({ "ref": bad, "sha": head })),
        );
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // `topic/a/b` cannot exist next to `topic/a`.
    let r = env.call(
        Method::POST,
        "/repos/acme/gitops/git/refs",
        Some(json!({ "ref": "refs/heads/topic/a/b", "sha": head })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Reference update failed");

    let r = env.call(
        Method::POST,
        "/repos/acme/gitops/git/refs",
        Some(json!({ "ref": "refs/heads/c" })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = env.call_as(
        Some(TOKEN),
        Method::POST,
        "/repos/acme/gitops/git/refs",
        None,
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "Problems parsing JSON");

    env.sim.create_empty_repo(OWNER, "empty", "main").unwrap();
    let r = env.call(
        Method::POST,
        "/repos/acme/empty/git/refs",
        Some(json!({ "ref": "refs/heads/x", "sha": head })),
    );
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[test]
fn update_ref_is_compare_and_swap_with_fast_forward_rule() {
    let env = env();
    let base = env.head("main");
    env.sim.create_branch(OWNER, REPO, "work", "main").unwrap();
    let ahead = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "work",
            &[("a.txt", Some(b"a".as_slice()))],
            "a",
        )
        .unwrap();

    // Fast-forward main to work's head.
    let r = env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": ahead, "force": false })),
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["object"]["sha"], ahead);
    assert_eq!(env.head("main"), ahead);

    // Back to the old commit is not a fast-forward.
    let r = env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": base })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Update is not a fast forward");
    assert_eq!(env.head("main"), ahead);

    // Unless forced.
    let r = env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": base, "force": true })),
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(env.head("main"), base);

    // A missing ref is 422 on PATCH, not 404 (forge-facts §0.1); so is `refs/` twice.
    for path in [
        "/repos/acme/gitops/git/refs/heads/missing",
        "/repos/acme/gitops/git/refs/refs/heads/main",
    ] {
        let r = env.call(Method::PATCH, path, Some(json!({ "sha": base })));
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(r.message(), "Reference does not exist");
    }

    let r = env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": "ffffffffffffffffffffffffffffffffffffffff" })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Object does not exist");
}

#[test]
fn delete_ref_then_it_is_gone() {
    let env = env();
    env.sim.create_branch(OWNER, REPO, "old", "main").unwrap();
    let r = env.call(
        Method::DELETE,
        "/repos/acme/gitops/git/refs/heads/old",
        None,
    );
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        env.get("/repos/acme/gitops/git/ref/heads/old").status,
        StatusCode::NOT_FOUND
    );
    let r = env.call(
        Method::DELETE,
        "/repos/acme/gitops/git/refs/heads/old",
        None,
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Reference does not exist");
    let r = env.call(
        Method::DELETE,
        "/repos/acme/gitops/git/refs/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn repository_resource_tells_the_default_branch() {
    let env = env();
    env.sim.create_repo(OWNER, "trunky", "trunk").unwrap();
    let r = env.get("/repos/acme/trunky");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["default_branch"], "trunk");
    assert_eq!(r.json()["full_name"], "acme/trunky");
    assert_eq!(env.get("/no/such/route").status, StatusCode::NOT_FOUND);
}
