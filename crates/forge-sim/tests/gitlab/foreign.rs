use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

fn update(env: &Env, last_commit_id: &str) -> Reply {
    env.commit(json!({
        "branch": "main", "commit_message": "mine",
        "actions": [{ "action": "update", "file_path": "apps/values.yaml", "content": "mine\n", "last_commit_id": last_commit_id }]
    }))
}

#[test]
fn foreign_push_after_a_file_read_makes_the_update_stale() {
    let env = env();
    env.seed(&[("apps/values.yaml", "v1\n")]);
    env.sim
        .arm_foreign_push(PROJECT, "main", "apps/values.yaml", "theirs\n")
        .unwrap();
    assert_eq!(env.sim.foreign_pushes_pending(), 1);
    let read = env.file("apps/values.yaml", "main").json();
    // The read itself shows the state before the foreign push.
    assert_eq!(read["content"], "djEK");
    assert_eq!(env.sim.foreign_pushes_pending(), 0);
    assert_eq!(env.sim.stats().foreign_pushes, 1);
    assert_ne!(env.head("main"), read["commit_id"].as_str().unwrap());

    let r = update(&env, read["last_commit_id"].as_str().unwrap());
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        "The file has changed since you started editing it: apps/values.yaml"
    );
    assert_eq!(
        env.read("main", "apps/values.yaml").as_deref(),
        Some("theirs\n")
    );

    // Re-reading gives the new last_commit_id and the update goes through.
    let again = env.file("apps/values.yaml", "main").json();
    let r = update(&env, again["last_commit_id"].as_str().unwrap());
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
}

#[test]
fn foreign_push_fires_on_branch_reads_and_sha_reads_of_that_branch_only() {
    let env = env();
    env.seed(&[("apps/values.yaml", "v1\n")]);
    env.sim.create_branch(PROJECT, "other", "main").unwrap();
    env.sim
        .arm_foreign_push(PROJECT, "main", "apps/values.yaml", "theirs\n")
        .unwrap();
    // Reads of another branch leave it armed.
    env.get(&env.project_url("/repository/branches/other"));
    env.file("apps/values.yaml", "other");
    assert_eq!(env.sim.foreign_pushes_pending(), 1);

    let head = env.head("main");
    let file_read = env.file("apps/values.yaml", &head).json();
    assert_eq!(env.sim.foreign_pushes_pending(), 0);
    let r = update(&env, file_read["last_commit_id"].as_str().unwrap());
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A branch read fires too.
    env.sim
        .arm_foreign_push(PROJECT, "main", "apps/values.yaml", "third\n")
        .unwrap();
    let before = env
        .get(&env.project_url("/repository/branches/main"))
        .json();
    assert_eq!(env.sim.foreign_pushes_pending(), 0);
    assert_ne!(before["commit"]["id"].as_str().unwrap(), env.head("main"));
    assert_eq!(env.sim.stats().foreign_pushes, 2);
}
