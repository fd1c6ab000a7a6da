use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

fn commit_on(env: &Env, branch: &str, actions: Value) -> Reply {
    env.commit(json!({ "branch": branch, "commit_message": "m", "actions": actions }))
}

fn assert_400(r: &Reply, message: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json());
    assert_eq!(r.json(), json!({ "message": message }));
}

#[test]
fn stale_last_commit_id_is_400_on_update_delete_and_move() {
    let env = env();
    let read = env.seed(&[("a.yaml", "1\n"), ("b.yaml", "b\n"), ("c.yaml", "c\n")]);
    env.seed(&[
        ("a.yaml", "changed\n"),
        ("b.yaml", "changed\n"),
        ("c.yaml", "changed\n"),
    ]);
    let head = env.head("main");
    for (action, extra) in [
        ("update", json!({ "file_path": "a.yaml", "content": "2\n" })),
        ("delete", json!({ "file_path": "b.yaml" })),
        (
            "move",
            json!({ "file_path": "d.yaml", "previous_path": "c.yaml" }),
        ),
    ] {
        let mut a = json!({ "action": action, "last_commit_id": read });
        a.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let path = if action == "move" {
            "c.yaml"
        } else {
            a["file_path"].as_str().unwrap()
        };
        let r = commit_on(&env, "main", json!([a]));
        assert_400(
            &r,
            &format!("The file has changed since you started editing it: {path}"),
        );
    }
    assert_eq!(env.head("main"), head);
    assert_eq!(env.sim.stats().commits_created, 0);
}

#[test]
fn path_existence_errors() {
    let env = env();
    let r = commit_on(
        &env,
        "main",
        json!([{ "action": "create", "file_path": "README.md", "content": "x" }]),
    );
    assert_400(&r, "A file with this name already exists");
    let r = commit_on(
        &env,
        "main",
        json!([{ "action": "update", "file_path": "nope", "content": "x" }]),
    );
    assert_400(&r, "A file with this name doesn't exist");
    let r = commit_on(
        &env,
        "main",
        json!([{ "action": "delete", "file_path": "nope" }]),
    );
    assert_400(&r, "A file with this name doesn't exist");
    // Atomic: a failing second action leaves nothing behind.
    let head = env.head("main");
    let r = commit_on(
        &env,
        "main",
        json!([
            { "action": "create", "file_path": "fresh.txt", "content": "x" },
            { "action": "delete", "file_path": "nope" },
        ]),
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(env.head("main"), head);
    assert_eq!(env.read("main", "fresh.txt"), None);
}

#[test]
fn validation_errors() {
    let env = env();
    let r = commit_on(
        &env,
        "main",
        json!([{ "action": "rename", "file_path": "a" }]),
    );
    assert_400(
        &r,
        "actions[0][action] must be one of: create, update, move, delete, chmod",
    );
    let r = commit_on(
        &env,
        "main",
        json!([{ "action": "update", "file_path": "README.md" }]),
    );
    assert_400(&r, "actions[0][content] is required for update action");
    let r = commit_on(
        &env,
        "nope",
        json!([{ "action": "create", "file_path": "a", "content": "x" }]),
    );
    assert_400(
        &r,
        "You can only create or edit files when you are on a branch",
    );
    let r = env.commit(json!({ "branch": "main", "commit_message": "m" }));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({ "error": "actions is missing" }));
}

#[test]
fn start_point_errors() {
    let env = env();
    let head = env.head("main");
    env.sim.create_branch(PROJECT, "feature/x", "main").unwrap();
    let actions = json!([{ "action": "create", "file_path": "a", "content": "x" }]);
    let r = env.commit(json!({
        "branch": "feature/x", "commit_message": "m", "start_branch": "main", "start_sha": head, "actions": actions
    }));
    assert_400(&r, "start_branch, start_sha are mutually exclusive");
    for start in [
        json!({ "start_branch": "main" }),
        json!({ "start_sha": head }),
    ] {
        let mut body = json!({ "branch": "feature/x", "commit_message": "m", "actions": actions });
        body.as_object_mut()
            .unwrap()
            .extend(start.as_object().unwrap().clone());
        let r = env.commit(body);
        assert_400(
            &r,
            "A branch called 'feature/x' already exists. Switch to that branch in order to make changes",
        );
    }
    let r = env.commit(json!({ "branch": "new", "commit_message": "m", "start_branch": "nope", "actions": actions }));
    assert_400(
        &r,
        "You can only create or edit files when you are on a branch",
    );
    assert_eq!(env.head("feature/x"), head);
}

#[test]
fn read_api_token_cannot_commit() {
    let env = env();
    let r = env.call_as(
        Some(READ),
        Method::POST,
        &env.project_url("/repository/commits"),
        Body::Json(json!({ "branch": "main", "commit_message": "m", "actions": [{ "action": "delete", "file_path": "README.md" }] })),
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "insufficient_scope");
    assert!(env.read("main", "README.md").is_some());
}
