use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

fn open_pr(env: &Env, head: &str, base: &str) -> crate::common::Reply {
    env.call(
        Method::POST,
        "/repos/acme/gitops/pulls",
        Some(json!({ "title": "Promote payments", "head": head, "base": base, "body": "why" })),
    )
}

#[test]
fn create_list_and_the_documented_422s() {
    let env = env();
    env.sim
        .create_branch(OWNER, REPO, "promote/payments", "main")
        .unwrap();

    // Nothing to merge yet.
    let r = open_pr(&env, "acme:promote/payments", "main");
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.message(), "Validation Failed");
    assert_eq!(
        r.json()["errors"][0]["message"],
        "No commits between main and promote/payments"
    );

    let head = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "promote/payments",
            &[("p.yaml", Some(b"tag: 2\n".as_slice()))],
            "bump",
        )
        .unwrap();
    let r = open_pr(&env, "acme:promote/payments", "main");
    assert_eq!(r.status, StatusCode::CREATED);
    let pr = r.json();
    assert_eq!(pr["number"], 1);
    assert_eq!(pr["state"], "open");
    assert_eq!(pr["head"]["ref"], "promote/payments");
    assert_eq!(pr["head"]["sha"], head);
    assert_eq!(pr["base"]["ref"], "main");
    assert!(
        pr["html_url"]
            .as_str()
            .unwrap()
            .ends_with("/acme/gitops/pull/1")
    );

    let r = open_pr(&env, "acme:promote/payments", "main");
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = &r.json()["errors"][0];
    assert_eq!(e["resource"], "PullRequest");
    assert_eq!(e["code"], "custom");
    assert_eq!(
        e["message"],
        "A pull request already exists for acme:promote/payments."
    );

    let r = open_pr(&env, "acme:missing", "main");
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["errors"][0],
        json!({ "resource": "PullRequest", "field": "head", "code": "invalid" })
    );

    let r = open_pr(&env, "promote/payments", "no-base");
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "base");

    let list = env
        .get("/repos/acme/gitops/pulls?head=acme:promote/payments&base=main&state=open")
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["number"], 1);
    let none = env
        .get("/repos/acme/gitops/pulls?head=acme:other&base=main&state=open")
        .json();
    assert!(none.as_array().unwrap().is_empty());

    // The head SHA follows the branch.
    let newer = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "promote/payments",
            &[("p.yaml", Some(b"tag: 3\n".as_slice()))],
            "bump",
        )
        .unwrap();
    assert_eq!(
        env.get("/repos/acme/gitops/pulls/1").json()["head"]["sha"],
        newer
    );
    assert_eq!(
        env.get("/repos/acme/gitops/pulls/9").status,
        StatusCode::NOT_FOUND
    );
}

/// The parents and message of commit `sha`.
fn commit_of(env: &Env, sha: &str) -> (Vec<String>, String) {
    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    let c = repo.find_commit(git2::Oid::from_str(sha).unwrap()).unwrap();
    (
        c.parent_ids().map(|p| p.to_string()).collect(),
        c.message().unwrap().to_owned(),
    )
}

#[test]
fn merge_hook_always_makes_a_merge_commit_with_githubs_message() {
    let env = env();
    env.sim.create_branch(OWNER, REPO, "ff", "main").unwrap();
    let main_before = env.head("main");
    let ff_head = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "ff",
            &[("ff.txt", Some(b"1".as_slice()))],
            "ff",
        )
        .unwrap();
    assert_eq!(open_pr(&env, "ff", "main").status, StatusCode::CREATED);
    // Even where main could fast-forward, GitHub's merge button merges with --no-ff.
    let merged = env.sim.merge_pull(OWNER, REPO, 1).unwrap();
    assert_eq!(env.head("main"), merged);
    let (parents, message) = commit_of(&env, &merged);
    assert_eq!(parents, [main_before, ff_head]);
    assert_eq!(
        message,
        "Merge pull request #1 from acme/ff\n\nPromote payments"
    );
    let pr = env.get("/repos/acme/gitops/pulls/1").json();
    assert_eq!(pr["state"], "closed");
    assert_eq!(pr["merged"], true);
    assert_eq!(pr["merge_commit_sha"], merged);
    assert!(
        env.sim.merge_pull(OWNER, REPO, 1).is_err(),
        "already merged"
    );

    env.sim.create_branch(OWNER, REPO, "side", "main").unwrap();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "side",
            &[("side.txt", Some(b"s".as_slice()))],
            "side",
        )
        .unwrap();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("main.txt", Some(b"m".as_slice()))],
            "main moves",
        )
        .unwrap();
    assert_eq!(open_pr(&env, "side", "main").json()["number"], 2);
    let merged = env.sim.merge_pull(OWNER, REPO, 2).unwrap();
    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    assert_eq!(
        repo.find_commit(git2::Oid::from_str(&merged).unwrap())
            .unwrap()
            .parent_count(),
        2
    );
    assert!(
        env.sim
            .read_file(OWNER, REPO, "main", "side.txt")
            .unwrap()
            .is_some()
    );
    assert!(
        env.sim
            .read_file(OWNER, REPO, "main", "main.txt")
            .unwrap()
            .is_some()
    );
    let closed = env.get("/repos/acme/gitops/pulls?state=closed").json();
    assert_eq!(closed.as_array().unwrap().len(), 2);
}

#[test]
fn squash_hook_lands_one_commit_with_githubs_default_message() {
    let env = env();
    env.sim.create_branch(OWNER, REPO, "one", "main").unwrap();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "one",
            &[("a.txt", Some(b"a".as_slice()))],
            "Add a\n\nBecause.\n\nTrailer-Key: v\n",
        )
        .unwrap();
    open_pr(&env, "one", "main");
    let main_before = env.head("main");
    let squashed = env
        .sim
        .merge_pull_with(OWNER, REPO, 1, forge_sim::MergeMethod::Squash)
        .unwrap();
    let (parents, message) = commit_of(&env, &squashed);
    assert_eq!(parents, [main_before]);
    // One commit: its own title and body, the title suffixed with the number.
    assert_eq!(message, "Add a (#1)\n\nBecause.\n\nTrailer-Key: v\n");
    assert_eq!(
        env.sim
            .read_file(OWNER, REPO, "main", "a.txt")
            .unwrap()
            .as_deref(),
        Some(b"a".as_slice())
    );

    env.sim.create_branch(OWNER, REPO, "two", "main").unwrap();
    for (file, msg) in [("b.txt", "Add b"), ("c.txt", "Add c")] {
        env.sim
            .commit_files(OWNER, REPO, "two", &[(file, Some(b"x".as_slice()))], msg)
            .unwrap();
    }
    open_pr(&env, "two", "main");
    let squashed = env
        .sim
        .merge_pull_with(OWNER, REPO, 2, forge_sim::MergeMethod::Squash)
        .unwrap();
    let (parents, message) = commit_of(&env, &squashed);
    assert_eq!(parents.len(), 1);
    // More: the pull request's title, then every commit's message, oldest first.
    assert_eq!(message, "Promote payments (#2)\n\n* Add b\n\n* Add c\n");
    assert_eq!(env.get("/repos/acme/gitops/pulls/2").json()["merged"], true);
}

#[test]
fn a_closed_pull_request_keeps_the_head_it_had_and_lists_when_it_ended() {
    let env = env();
    env.sim
        .create_branch(OWNER, REPO, "review", "main")
        .unwrap();
    let bump = |tag: &str| {
        env.sim
            .commit_files(
                OWNER,
                REPO,
                "review",
                &[("p.yaml", Some(format!("tag: {tag}\n").as_bytes()))],
                "bump",
            )
            .unwrap()
    };
    let closed_head = bump("2");
    assert_eq!(open_pr(&env, "review", "main").status, StatusCode::CREATED);
    let open = &env.get("/repos/acme/gitops/pulls?state=open").json()[0];
    assert_eq!(open["merged_at"], serde_json::Value::Null);
    assert_eq!(open["closed_at"], serde_json::Value::Null);

    env.sim.close_pull(OWNER, REPO, 1).unwrap();
    assert!(
        env.sim.close_pull(OWNER, REPO, 1).is_err(),
        "already closed"
    );
    assert!(env.sim.merge_pull(OWNER, REPO, 1).is_err(), "closed");
    // The branch moves on; the closed pull request no longer follows it.
    let later = bump("3");
    let all = env
        .get("/repos/acme/gitops/pulls?head=acme:review&base=main&state=all")
        .json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    let pr = &all[0];
    assert_eq!(pr["state"], "closed");
    assert_eq!(pr["merged"], false);
    assert_eq!(pr["merged_at"], serde_json::Value::Null);
    assert!(pr["closed_at"].as_str().unwrap().ends_with('Z'), "{pr}");
    assert_eq!(pr["head"]["sha"], closed_head);
    assert_eq!(env.head("review"), later);

    // A new one from the same branch, merged: newest first in the list, with `merged_at`.
    assert_eq!(open_pr(&env, "review", "main").json()["number"], 2);
    env.sim.merge_pull(OWNER, REPO, 2).unwrap();
    let all = env
        .get("/repos/acme/gitops/pulls?head=acme:review&base=main&state=all")
        .json();
    assert_eq!(all[0]["number"], 2);
    assert_eq!(all[0]["head"]["sha"], later);
    assert!(all[0]["merged_at"].is_string(), "{}", all[0]);
    assert_eq!(all[0]["merged_at"], all[0]["closed_at"]);
    assert_eq!(all[1]["number"], 1);

    // The control surface closes too, and refuses what it cannot close.
    let http = reqwest::blocking::Client::new();
    let close = |n: u64| {
        http.post(env.url(&format!("/_sim/repos/acme/gitops/pulls/{n}/close")))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(close(2), StatusCode::BAD_REQUEST, "merged");
    assert_eq!(close(7), StatusCode::NOT_FOUND);
}
