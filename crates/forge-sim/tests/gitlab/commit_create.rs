use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[test]
fn json_multi_action_commit() {
    let env = env();
    let seeded = env.seed(&[
        ("a.yaml", "a: 1\n"),
        ("b.yaml", "b\n"),
        ("old/c.yaml", "c\n"),
        ("run.sh", "echo\n"),
    ]);
    let r = env.commit(json!({
        "branch": "main",
        "commit_message": "Update things\n\nGitops-Mutation-Id: abc",
        "actions": [
            { "action": "update", "file_path": "a.yaml", "content": "a: 2\n", "last_commit_id": seeded },
            { "action": "create", "file_path": "new/d.yaml", "content": "ZDogNAo=", "encoding": "base64" },
            { "action": "delete", "file_path": "b.yaml", "last_commit_id": seeded },
            { "action": "move", "file_path": "moved/c.yaml", "previous_path": "old/c.yaml" },
            { "action": "chmod", "file_path": "run.sh", "execute_filemode": true },
        ]
    }));
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(env.head("main"), id);
    assert_eq!(v["short_id"], &id[..8]);
    assert_eq!(v["title"], "Update things");
    assert_eq!(v["message"], "Update things\n\nGitops-Mutation-Id: abc");
    assert_eq!(v["parent_ids"], json!([seeded]));
    assert_eq!(
        v["web_url"],
        format!("{}/{PROJECT}/-/commit/{id}", env.sim.base_url())
    );
    assert_eq!(v["author_name"], "alice");
    assert!(v["author_email"].as_str().unwrap().starts_with("alice@"));
    assert!(v["created_at"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(v["stats"]["additions"], 2);
    assert_eq!(v["stats"]["deletions"], 2);
    assert_eq!(v["stats"]["total"], 4);

    assert_eq!(env.read("main", "a.yaml").as_deref(), Some("a: 2\n"));
    assert_eq!(env.read("main", "new/d.yaml").as_deref(), Some("d: 4\n"));
    assert_eq!(env.read("main", "b.yaml"), None);
    assert_eq!(env.read("main", "old/c.yaml"), None);
    assert_eq!(env.read("main", "moved/c.yaml").as_deref(), Some("c\n"));
    let s = env.sim.stats();
    assert_eq!(s.commits_created, 1);
    assert_eq!(s.route("POST", "/projects/{id}/repository/commits"), 1);
    assert_eq!(s.by_token.get("token:alice"), Some(&1));
}

#[test]
fn form_encoded_commit_like_the_gitlab_crate() {
    let env = env();
    let seeded = env.seed(&[("apps/web/values.yaml", "replicas: 1\n"), ("gone.txt", "x")]);
    // Repeated `actions[][action]` keys, each starting a new action; every key and value
    // percent-encoded as the `gitlab` crate's `FormParams` does.
    let r = env.post_form(
        &format!("/projects/{}/repository/commits", env.id),
        &[
            ("branch", "main"),
            ("commit_message", "form commit & more"),
            ("actions[][action]", "update"),
            ("actions[][file_path]", "apps/web/values.yaml"),
            ("actions[][content]", "replicas: 3\n"),
            ("actions[][encoding]", "text"),
            ("actions[][last_commit_id]", &seeded),
            ("actions[][action]", "delete"),
            ("actions[][file_path]", "gone.txt"),
            ("actions[][action]", "create"),
            ("actions[][file_path]", "bin/blob"),
            ("actions[][content]", "AAEC/w=="),
            ("actions[][encoding]", "base64"),
            ("author_name", "Mutator Bot"),
            ("author_email", "bot@example.com"),
            ("stats", "true"),
        ],
    );
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let v = r.json();
    assert_eq!(v["title"], "form commit & more");
    assert_eq!(v["author_name"], "Mutator Bot");
    assert_eq!(v["author_email"], "bot@example.com");
    assert_eq!(v["committer_name"], "alice");
    assert_eq!(
        env.read("main", "apps/web/values.yaml").as_deref(),
        Some("replicas: 3\n")
    );
    assert_eq!(env.read("main", "gone.txt"), None);
    assert_eq!(
        env.sim.read_file(PROJECT, "main", "bin/blob").unwrap(),
        Some(vec![0, 1, 2, 255])
    );
}

#[test]
fn without_a_start_point_the_commit_builds_on_the_current_tip() {
    let env = env();
    let read_head = env.seed(&[("mine.yaml", "1\n")]);
    // Someone else commits after our read; our commit touches a different path.
    let foreign = env.seed(&[("theirs.yaml", "t\n")]);
    let r = env.commit(json!({
        "branch": "main", "commit_message": "mine",
        "actions": [{ "action": "update", "file_path": "mine.yaml", "content": "2\n", "last_commit_id": read_head }]
    }));
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    // parent_ids[0] differs from the head we read: nothing lost, but the race is visible.
    assert_eq!(r.json()["parent_ids"], json!([foreign]));
    assert_eq!(env.read("main", "theirs.yaml").as_deref(), Some("t\n"));
    assert_eq!(env.read("main", "mine.yaml").as_deref(), Some("2\n"));
}

#[test]
fn new_branches_from_start_branch_or_start_sha_and_force() {
    let env = env();
    let base = env.head("main");
    let create = |branch: &str, extra: serde_json::Value| {
        let mut body = json!({
            "branch": branch, "commit_message": format!("on {branch}"),
            "actions": [{ "action": "create", "file_path": format!("{}.txt", branch.replace('/', "-")), "content": "x" }]
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        env.commit(body)
    };
    let r = create("mutation/one", json!({ "start_branch": "main" }));
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(r.json()["parent_ids"], json!([base]));
    assert_eq!(env.head("main"), base);

    let r = create("mutation/two", json!({ "start_sha": base }));
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(env.head("mutation/two"), r.json()["id"].as_str().unwrap());

    // `force` overwrites the existing branch with a commit on the start point.
    let r = create(
        "mutation/one",
        json!({ "start_branch": "main", "force": true }),
    );
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(r.json()["parent_ids"], json!([base]));
    assert_eq!(env.head("mutation/one"), r.json()["id"].as_str().unwrap());
}

#[test]
fn concurrent_commits_without_start_point_lose_nothing() {
    let env = env();
    let before = env.head("main");
    let statuses: Vec<StatusCode> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let env = &env;
                s.spawn(move || {
                    env.commit(json!({
                        "branch": "main", "commit_message": format!("c{i}"),
                        "actions": [{ "action": "create", "file_path": format!("f/{i}.txt"), "content": "x" }]
                    }))
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    for i in 0..6 {
        assert!(
            env.read("main", &format!("f/{i}.txt")).is_some(),
            "f/{i}.txt lost"
        );
    }
    let list = env
        .get(&env.project_url("/repository/commits?per_page=100"))
        .json();
    assert_eq!(list.as_array().unwrap().len(), 7);
    assert_eq!(list[6]["id"], before);
}
