//! Many callers, one repository: group commit through the lane, nothing lost.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use crate::git;
use crate::harness::{Server, expect_json};

const APPS: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
// Production takes changes by review by default; these tests are about direct commits.
const ENVS: [&str; 2] = ["development", "staging"];

fn scaffold_all(server: &Server) {
    for app in APPS {
        expect_json(
            server.post(
                "/v1/scaffold",
                &json!({ "template": "application",
                         "values": { "name": app, "image": { "repository": format!("ghcr.io/acme/{app}"), "tag": "0.0.0" } } }),
            ),
            201,
        );
    }
}

/// Fires `count` updates from `clients` threads; returns (request, status, body) per update.
fn fire(server: &Server, count: usize, clients: usize) -> Vec<(Value, u16, Value)> {
    let requests: Vec<Value> = (0..count)
        .map(|i| {
            json!({ "application": APPS[i % APPS.len()], "environment": ENVS[(i / APPS.len()) % ENVS.len()],
                    "image": { "tag": format!("1.0.{i}") } })
        })
        .collect();
    let chunks: Vec<Vec<Value>> = (0..clients)
        .map(|c| requests.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|req| {
                            let resp = server.post("/v1/image-updates", &req);
                            let status = resp.status().as_u16();
                            (req, status, resp.json::<Value>().unwrap())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn tag_at(repo: &std::path::Path, sha: &str, app: &str, env: &str) -> String {
    let text = git::file(
        repo,
        sha,
        &format!("apps/{app}/environments/{env}/values.yaml"),
    )
    .unwrap();
    let doc: Value = yaml_serde::from_str(&text).unwrap();
    doc["image"]["tag"].as_str().unwrap().to_owned()
}

#[test]
fn concurrent_updates_share_commits_and_none_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold_all(&server);
    let before = git::commit_count(&repo);

    let results = fire(&server, 120, 24);
    let mut commits = HashSet::new();
    for (req, status, body) in &results {
        assert_eq!(*status, 201, "{body}");
        let sha = body["commit"]["sha"].as_str().unwrap();
        commits.insert(sha.to_owned());
        // The commit that answered holds this request's change.
        let app = req["application"].as_str().unwrap();
        let env = req["environment"].as_str().unwrap();
        let message = git::message(&repo, sha);
        assert!(
            message.contains(&format!(
                "Gitops-Mutation-Id: {}",
                body["mutationId"].as_str().unwrap()
            )),
            "{message}"
        );
        let _ = tag_at(&repo, sha, app, env);
    }
    let made = git::commit_count(&repo) - before;
    assert_eq!(made, commits.len(), "every commit answered someone");
    assert!(
        made < results.len(),
        "waiting requests shared commits: {made} commits for {} updates",
        results.len()
    );

    // No mutation id twice in the history; every answered id is there.
    let log = git::cli(&repo, &["log", "--format=%B", "main"]);
    let ids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("Gitops-Mutation-Id: "))
        .collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a mutation id appears twice");
    for (_, _, body) in &results {
        assert!(unique.contains(&body["mutationId"].as_str().unwrap()));
    }

    // The final state equals the last applied request per file: the newest commit that answered
    // a request for it, and within that commit the last such request (the body lists them in
    // arrival order).
    let order: Vec<String> = git::cli(&repo, &["rev-list", "--reverse", "--first-parent", "main"])
        .lines()
        .map(str::to_owned)
        .collect();
    let position = |sha: &str| order.iter().position(|s| s == sha).unwrap();
    let mut newest: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (req, _, body) in &results {
        let key = (
            req["application"].as_str().unwrap().to_owned(),
            req["environment"].as_str().unwrap().to_owned(),
        );
        let at = position(body["commit"]["sha"].as_str().unwrap());
        let slot = newest.entry(key).or_insert(at);
        *slot = (*slot).max(at);
    }
    let head = git::head(&repo);
    for ((app, env), at) in newest {
        let message = git::message(&repo, &order[at]);
        let prefix = format!("gitops({app}/{env}): image tag ");
        let expected = message
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|rest| rest.trim_end_matches(" [skip ci]"))
            .next_back()
            .unwrap_or_else(|| panic!("commit {} does not list {app}/{env}: {message}", order[at]));
        assert_eq!(tag_at(&repo, &head, &app, &env), expected, "{app}/{env}");
        assert!(
            results.iter().any(|(r, s, _)| *s == 201
                && r["application"] == app.as_str()
                && r["environment"] == env.as_str()
                && r["image"]["tag"] == expected),
            "the final tag {expected} was requested"
        );
    }
}

#[test]
fn a_failing_request_fails_alone_in_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    scaffold_all(&server);
    let good = |i: usize| json!({ "application": "alpha", "environment": "staging", "image": { "tag": format!("2.0.{i}") } });
    let bad = json!({ "application": "beta", "environment": "staging", "image": { "tag": "9.9.9" }, "expected": { "tag": "nope" } });
    let results: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 0..8 {
            let req = if i == 4 { bad.clone() } else { good(i) };
            let server = &server;
            handles.push(scope.spawn(move || {
                let resp = server.post("/v1/image-updates", &req);
                (resp.status().as_u16(), resp.json::<Value>().unwrap())
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 409).count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 201).count(),
        7,
        "{results:?}"
    );
    let head = git::head(&server.repo_path());
    assert_eq!(
        tag_at(&server.repo_path(), &head, "beta", "staging"),
        "0.0.0"
    );
}

#[test]
fn batching_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("gitops.git");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: git\n    url: {}\n    batchSize: 1\n",
            repo.display()
        ),
    )
    .unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        crate::harness::Options {
            config: Some(&config),
            ..Default::default()
        },
    );
    scaffold_all(&server);
    let before = git::commit_count(&repo);
    let results = fire(&server, 24, 8);
    assert!(results.iter().all(|(_, s, _)| *s == 201));
    assert_eq!(
        git::commit_count(&repo) - before,
        24,
        "one commit per request"
    );
}

#[test]
fn an_older_order_never_overwrites_a_newer_image_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let repo = server.repo_path();
    scaffold_all(&server);
    let update = |tag: &str, order: u64| json!({ "application": "alpha", "environment": "staging", "image": { "tag": tag }, "order": order });
    let body = expect_json(server.post("/v1/image-updates", &update("2.0.0", 20)), 201);
    let message = git::message(&repo, body["commit"]["sha"].as_str().unwrap());
    assert!(
        message.contains("Gitops-Order: alpha/staging=20"),
        "{message}"
    );
    let head = git::head(&repo);
    let refused = expect_json(server.post("/v1/image-updates", &update("1.9.0", 19)), 409);
    assert_eq!(refused["type"], "urn:gitops-mutator:problem:superseded");
    assert_eq!(git::head(&repo), head);
    // Other environments and applications have their own order.
    expect_json(
        server.post(
            "/v1/image-updates",
            &json!({ "application": "alpha", "environment": "production", "image": { "tag": "1.0.0" }, "order": 1 }),
        ),
        201,
    );
    server.stop();

    // The guard is read back from git after a restart, past a foreign commit.
    git::foreign_commit(&repo, &dir.path().join("work"), "docs/readme.md", "hello\n");
    let server = Server::start(&data);
    expect_json(server.post("/v1/image-updates", &update("1.9.9", 15)), 409);
    expect_json(server.post("/v1/image-updates", &update("2.1.0", 21)), 201);
    let head = git::head(&repo);
    assert_eq!(tag_at(&repo, &head, "alpha", "staging"), "2.1.0");
}

#[test]
fn two_processes_on_one_repository_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shared.git");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: git\n    url: {}\n",
            repo.display()
        ),
    )
    .unwrap();
    let options = || crate::harness::Options {
        config: Some(&config),
        ..Default::default()
    };
    let a = Server::start_with(&dir.path().join("a"), options());
    let b = Server::start_with(&dir.path().join("b"), options());
    scaffold_all(&a);
    let (ra, rb) = std::thread::scope(|scope| {
        let ha = scope.spawn(|| fire(&a, 40, 8));
        let hb = scope.spawn(|| fire(&b, 40, 8));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    let all: Vec<_> = ra.iter().chain(rb.iter()).collect();
    assert!(
        all.iter()
            .all(|(_, s, body)| *s == 201 || body["status"] == "noop"),
        "every update landed"
    );
    let log = git::cli(&repo, &["log", "--format=%B", "main"]);
    let ids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("Gitops-Mutation-Id: "))
        .collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no mutation id twice");
    for (_, status, body) in &all {
        if *status == 201 {
            assert!(
                unique.contains(&body["mutationId"].as_str().unwrap()),
                "{body}"
            );
        }
    }
}
