use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn errors(body: &Value) -> &Vec<Value> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
}

#[test]
fn create_commit_on_branch_commits_and_moves_the_branch() {
    let env = env();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("old.txt", Some(b"old".as_slice()))],
            "seed",
        )
        .unwrap();
    let head = env.head("main");
    let r = env.commit(
        "main",
        &head,
        &[("apps/a/values.yaml", b"tag: \"1.10\"\n"), ("b.txt", b"b")],
        &["old.txt"],
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ratelimit-resource").as_deref(), Some("graphql"));
    let body = r.json();
    assert!(body.get("errors").is_none(), "{body}");
    let payload = &body["data"]["createCommitOnBranch"];
    let oid = payload["commit"]["oid"].as_str().unwrap().to_owned();
    assert_eq!(env.head("main"), oid);
    assert_eq!(payload["ref"]["name"], "refs/heads/main");
    assert!(
        payload["commit"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/acme/gitops/commit/{oid}"))
    );
    // A user token's commit is not signed.
    assert!(payload["commit"]["signature"].is_null());

    assert_eq!(
        env.sim
            .read_file(OWNER, REPO, "main", "apps/a/values.yaml")
            .unwrap()
            .unwrap(),
        b"tag: \"1.10\"\n"
    );
    assert!(
        env.sim
            .read_file(OWNER, REPO, "main", "old.txt")
            .unwrap()
            .is_none()
    );

    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    let c = repo
        .find_commit(git2::Oid::from_str(&oid).unwrap())
        .unwrap();
    assert_eq!(
        c.message().unwrap(),
        "Update things\n\nGitops-Mutation-Id: abc"
    );
    assert_eq!(c.author().name().unwrap(), "alice");
    assert_eq!(c.committer().name().unwrap(), "GitHub");
    assert_eq!(c.committer().email().unwrap(), "noreply@github.com");
    assert_eq!(c.parent_id(0).unwrap().to_string(), head);

    let v = env.get(&format!("/repos/acme/gitops/commits/{oid}")).json();
    assert_eq!(v["commit"]["verification"]["verified"], false);
    assert_eq!(env.sim.stats().commits_created, 1);
    assert_eq!(env.sim.stats().graphql_mutations, 1);
}

#[test]
fn stale_expected_head_is_stale_data_with_http_200() {
    let env = env();
    let old = env.head("main");
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("other.txt", Some(b"x".as_slice()))],
            "someone",
        )
        .unwrap();
    let current = env.head("main");
    let r = env.commit("main", &old, &[("a.txt", b"a")], &[]);
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert!(body["data"]["createCommitOnBranch"].is_null());
    let e = &errors(&body)[0];
    assert_eq!(e["type"], "STALE_DATA");
    assert_eq!(e["path"], json!(["createCommitOnBranch"]));
    assert_eq!(
        e["message"],
        format!("Expected branch to point to \"{old}\" but it did not.  Pull and try again.")
    );
    assert_eq!(env.head("main"), current, "nothing committed");
}

#[test]
fn missing_expected_head_is_a_coercion_error() {
    let env = env();
    let mut body = commit_body("main", "x", &[("a", b"a")], &[]);
    body["variables"]["input"]
        .as_object_mut()
        .unwrap()
        .remove("expectedHeadOid");
    let r = env.graphql_as(TOKEN, body);
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert!(body.get("data").is_none());
    let msg = errors(&body)[0]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains(
            "was provided invalid value for expectedHeadOid (Expected value to not be null)"
        ),
        "{msg}"
    );

    let mut null_oid = commit_body("main", "x", &[], &[]);
    null_oid["variables"]["input"]["expectedHeadOid"] = Value::Null;
    let body = env.graphql_as(TOKEN, null_oid).json();
    assert!(
        errors(&body)[0]["message"]
            .as_str()
            .unwrap()
            .contains("expectedHeadOid")
    );
}

#[test]
fn deleting_a_missing_path_aborts_the_whole_commit() {
    let env = env();
    let head = env.head("main");
    let r = env.commit("main", &head, &[("a.txt", b"a")], &["does/not/exist.yaml"]);
    let body = r.json();
    assert!(body["data"]["createCommitOnBranch"].is_null());
    let e = &errors(&body)[0];
    assert_eq!(e["type"], "UNPROCESSABLE");
    assert!(e["message"].as_str().unwrap().contains("does not exist"));
    assert_eq!(env.head("main"), head);
    assert!(
        env.sim
            .read_file(OWNER, REPO, "main", "a.txt")
            .unwrap()
            .is_none()
    );
}

#[test]
fn duplicate_paths_and_bad_base64_are_refused() {
    let env = env();
    let head = env.head("main");
    let body = env
        .commit("main", &head, &[("README.md", b"x")], &["README.md"])
        .json();
    assert_eq!(errors(&body)[0]["type"], "UNPROCESSABLE");
    assert!(
        errors(&body)[0]["message"]
            .as_str()
            .unwrap()
            .contains("Duplicate")
    );

    let mut bad = commit_body("main", &head, &[("a.txt", b"a")], &[]);
    bad["variables"]["input"]["fileChanges"]["additions"][0]["contents"] = json!("not base64!");
    let body = env.graphql_as(TOKEN, bad).json();
    assert!(body.get("data").is_none());
    assert!(
        errors(&body)[0]["message"]
            .as_str()
            .unwrap()
            .contains("contents")
    );

    for path in ["/abs.txt", "a//b", "../x", "dir/"] {
        let body = env.commit("main", &head, &[(path, b"a")], &[]).json();
        assert_eq!(errors(&body)[0]["type"], "UNPROCESSABLE", "{path}");
    }
    // A file cannot become a directory.
    let body = env
        .commit("main", &head, &[("README.md/x", b"a")], &[])
        .json();
    assert_eq!(errors(&body)[0]["type"], "UNPROCESSABLE");
    assert_eq!(env.head("main"), head);
}

#[test]
fn missing_branch_or_repository_is_not_found() {
    let env = env();
    let head = env.head("main");
    let body = env.commit("nope", &head, &[("a", b"a")], &[]).json();
    assert_eq!(errors(&body)[0]["type"], "NOT_FOUND");
    assert!(body["data"]["createCommitOnBranch"].is_null());

    let mut other = commit_body("main", &head, &[("a", b"a")], &[]);
    other["variables"]["input"]["branch"]["repositoryNameWithOwner"] = json!("acme/missing");
    let body = env.graphql_as(TOKEN, other).json();
    assert_eq!(errors(&body)[0]["type"], "NOT_FOUND");
    assert!(
        errors(&body)[0]["message"]
            .as_str()
            .unwrap()
            .contains("acme/missing")
    );
}

#[test]
fn empty_change_set_makes_an_empty_commit_and_refs_prefix_is_accepted() {
    let env = env();
    let head = env.head("main");
    let body = env.commit("refs/heads/main", &head, &[], &[]).json();
    let oid = body["data"]["createCommitOnBranch"]["commit"]["oid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(env.head("main"), oid);
    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    let c = repo
        .find_commit(git2::Oid::from_str(&oid).unwrap())
        .unwrap();
    assert_eq!(c.tree_id(), c.parent(0).unwrap().tree_id());
}

#[test]
fn other_documents_are_unsupported() {
    let env = env();
    let r = env.graphql_as(TOKEN, json!({ "query": "query { viewer { login } }" }));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["errors"][0]["message"], "unsupported by forge-sim");
    assert_eq!(env.sim.stats().graphql_mutations, 0);

    let r = env
        .http
        .post(env.url("/graphql"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = env.call_as(
        Some("bad"),
        reqwest::Method::POST,
        "/graphql",
        Some(json!({ "query": MUTATION })),
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.message(), "Bad credentials");
}
