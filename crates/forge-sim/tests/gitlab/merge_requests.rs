use forge_sim::MergeRequestState;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

fn mr_url(env: &Env) -> String {
    env.project_url("/merge_requests")
}

fn branch_with_change(env: &Env, branch: &str) {
    env.sim.create_branch(PROJECT, branch, "main").unwrap();
    env.sim
        .commit_files(
            PROJECT,
            branch,
            &[("change.txt", Some(&b"c\n"[..]))],
            "change",
        )
        .unwrap();
}

#[test]
fn create_list_and_duplicate_409_with_array_message() {
    let env = env();
    branch_with_change(&env, "mutation/abc");
    let r = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "mutation/abc", "target_branch": "main", "title": "Mutate", "description": "why" }),
    );
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let v = r.json();
    assert_eq!(v["iid"], 1);
    assert_eq!(v["state"], "opened");
    assert_eq!(v["source_branch"], "mutation/abc");
    assert_eq!(v["target_branch"], "main");
    assert_eq!(v["title"], "Mutate");
    assert_eq!(v["sha"], env.head("mutation/abc"));
    assert_eq!(
        v["web_url"],
        format!("{}/{PROJECT}/-/merge_requests/1", env.sim.base_url())
    );

    let r = env.post_form(
        &mr_url(&env),
        &[
            ("source_branch", "mutation/abc"),
            ("target_branch", "main"),
            ("title", "again"),
        ],
    );
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.json(),
        json!({ "message": ["Another open merge request already exists for this source branch: !1"] })
    );

    let list = env.get(&format!(
        "{}?source_branch=mutation%2Fabc&target_branch=main&state=opened",
        mr_url(&env)
    ));
    assert_eq!(list.status, StatusCode::OK);
    let items = list.json();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["iid"], 1);
    assert_eq!(items[0]["id"], v["id"]);
    let none = env.get(&format!(
        "{}?source_branch=other&state=opened",
        mr_url(&env)
    ));
    assert_eq!(none.json(), json!([]));
    assert_eq!(env.get(&format!("{}/1", mr_url(&env))).json()["iid"], 1);
    assert_eq!(
        env.get(&format!("{}/9", mr_url(&env))).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(env.sim.stats().merge_requests_created, 1);
}

#[test]
fn validation_errors() {
    let env = env();
    let r = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "missing", "target_branch": "main", "title": "t" }),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json(),
        json!({ "message": ["Source branch \"missing\" does not exist"] })
    );
    let r = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "main", "target_branch": "main", "title": "t" }),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["message"][0], "You must select different branches");
    let r = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "main", "target_branch": "x" }),
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({ "error": "title is missing" }));
}

#[test]
fn merging_through_the_control_handle() {
    let env = env();
    branch_with_change(&env, "feature");
    env.seed(&[("main-only.txt", "m")]);
    let main_before = env.head("main");
    let source = env.head("feature");
    env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "feature", "target_branch": "main", "title": "Feature" }),
    );
    let merged = env.sim.merge_merge_request(PROJECT, 1).unwrap();
    assert_eq!(env.head("main"), merged);
    let mr = env.sim.merge_request(PROJECT, 1).unwrap();
    assert_eq!(mr.state, MergeRequestState::Merged);
    assert_eq!(mr.merge_commit_sha.as_deref(), Some(merged.as_str()));
    let commit = env
        .get(&env.project_url(&format!("/repository/commits/{merged}")))
        .json();
    assert_eq!(commit["parent_ids"], json!([main_before, source]));
    assert_eq!(env.read("main", "change.txt").as_deref(), Some("c\n"));
    assert!(env.sim.merge_merge_request(PROJECT, 1).is_err());
    let listed = env.get(&format!("{}?state=merged", mr_url(&env))).json();
    assert_eq!(listed[0]["merge_commit_sha"], merged);
    // After the merge a new MR for the same branches may be opened again.
    env.sim
        .commit_files(PROJECT, "feature", &[("more.txt", Some(&b"m"[..]))], "more")
        .unwrap();
    let r = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "feature", "target_branch": "main", "title": "Again" }),
    );
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["iid"], 2);
}

#[test]
fn a_closed_merge_request_keeps_the_sha_it_had() {
    let env = env();
    branch_with_change(&env, "gitops/a/production");
    let closed_head = env.head("gitops/a/production");
    let created = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "gitops/a/production", "target_branch": "main", "title": "Promote" }),
    );
    assert_eq!(created.json()["sha"], closed_head);
    env.sim.close_merge_request(PROJECT, 1).unwrap();
    assert!(env.sim.close_merge_request(PROJECT, 1).is_err());
    assert!(env.sim.merge_merge_request(PROJECT, 1).is_err());
    env.sim
        .commit_files(
            PROJECT,
            "gitops/a/production",
            &[("later.txt", Some(&b"l"[..]))],
            "later",
        )
        .unwrap();
    let later = env.head("gitops/a/production");
    let listed = env
        .get(&format!(
            "{}?source_branch=gitops%2Fa%2Fproduction&target_branch=main&state=all",
            mr_url(&env)
        ))
        .json();
    assert_eq!(listed[0]["state"], "closed");
    assert_eq!(
        listed[0]["sha"], closed_head,
        "no longer follows the branch"
    );
    assert_eq!(
        env.sim.merge_request(PROJECT, 1).unwrap().state,
        MergeRequestState::Closed
    );

    // A merged one keeps the head it was merged with.
    let r = env.post_json(
        &mr_url(&env),
        json!({ "source_branch": "gitops/a/production", "target_branch": "main", "title": "Again" }),
    );
    assert_eq!(r.json()["iid"], 2);
    env.sim.merge_merge_request(PROJECT, 2).unwrap();
    env.sim
        .commit_files(
            PROJECT,
            "gitops/a/production",
            &[("after.txt", Some(&b"a"[..]))],
            "after",
        )
        .unwrap();
    let merged = env.get(&env.project_url("/merge_requests/2")).json();
    assert_eq!(merged["state"], "merged");
    assert_eq!(merged["sha"], later);
    assert_ne!(env.head("gitops/a/production"), later);

    let http = reqwest::blocking::Client::new();
    let url = format!(
        "{}/_sim/projects/{PROJECT_ENC}/merge_requests/2/close",
        env.sim.base_url()
    );
    assert_eq!(
        http.post(url).send().unwrap().status(),
        StatusCode::BAD_REQUEST,
        "a merged merge request cannot be closed"
    );
}
