//! Promotions through each environment's policy: production by pull/merge request (a review
//! branch on plain git), reused while it is open.

use serde_json::{Value, json};

use crate::git;
use crate::harness::{Options, Server, expect_json};

fn scaffold(server: &Server) {
    expect_json(
        server.post(
            "/v1/scaffold",
            &json!({ "template": "application",
                     "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } }),
        ),
        201,
    );
}

fn promote() -> Value {
    json!({ "application": "payments", "from": "staging", "to": "production" })
}

fn stage(server: &Server, tag: &str) {
    expect_json(
        server.post("/v1/image-updates", &json!({ "application": "payments", "environment": "staging", "image": { "tag": tag } })),
        201,
    );
}

#[test]
fn on_plain_git_a_promotion_waits_on_its_review_branch() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold(&server);
    stage(&server, "1.1.0");
    let main_before = git::head(&repo);
    let body = expect_json(server.post("/v1/promotions", &promote()), 201);
    assert_eq!(body["status"], "review-requested");
    assert_eq!(body["review"]["branch"], "gitops/payments/production");
    assert_eq!(
        git::head(&repo),
        main_before,
        "main is untouched until the review is merged"
    );
    let branch_head = git::cli(&repo, &["rev-parse", "gitops/payments/production"]);
    let values = git::file(
        &repo,
        branch_head.trim(),
        "apps/payments/environments/production/values.yaml",
    )
    .unwrap();
    assert!(values.contains("tag: \"1.1.0\""), "{values}");
    let message = git::message(&repo, branch_head.trim());
    assert!(
        message.starts_with(
            "gitops(payments/production): promote image tag 1.1.0 from staging [skip ci]"
        ),
        "{message}"
    );
    assert!(message.contains("Gitops-Kind: promotion"), "{message}");

    // A second promotion before the merge goes onto the same branch.
    stage(&server, "1.2.0");
    let body = expect_json(server.post("/v1/promotions", &promote()), 201);
    assert_eq!(body["review"]["branch"], "gitops/payments/production");
    let branch_head = git::cli(&repo, &["rev-parse", "gitops/payments/production"]);
    let parent = git::cli(&repo, &["rev-parse", &format!("{}^", branch_head.trim())]);
    assert_eq!(
        parent.trim(),
        git::cli(&repo, &["rev-parse", &format!("{}^", branch_head.trim())]).trim()
    );
    let values = git::file(
        &repo,
        branch_head.trim(),
        "apps/payments/environments/production/values.yaml",
    )
    .unwrap();
    assert!(values.contains("tag: \"1.2.0\""), "{values}");

    // Staging is direct: a promotion into it commits to main.
    let direct = expect_json(
        server.post(
            "/v1/promotions",
            &json!({ "application": "payments", "from": "staging", "to": "development" }),
        ),
        201,
    );
    assert_eq!(direct["status"], "committed");
    assert_eq!(git::head(&repo), direct["commit"]["sha"].as_str().unwrap());
    expect_json(
        server.post(
            "/v1/promotions",
            &json!({ "application": "payments", "from": "staging", "to": "staging" }),
        ),
        400,
    );
}

#[test]
fn on_github_a_promotion_opens_one_pull_request_and_updates_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = forge_sim::GithubSim::start().unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    sim.add_token("ghp_promotions", "ci-bot");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: github\n    owner: acme\n    name: gitops\n    apiUrl: {}\n    auth: {{ tokenEnv: E2E_GH }}\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![("E2E_GH", "ghp_promotions")],
            ..Options::default()
        },
    );
    scaffold(&server);
    stage(&server, "2.0.0");
    let first = expect_json(server.post("/v1/promotions", &promote()), 201);
    assert_eq!(first["status"], "review-requested");
    assert!(
        first["review"]["url"].as_str().unwrap().contains("/pull/"),
        "{first}"
    );
    assert_eq!(first["review"]["reused"], false);
    // On GitHub, review commits run CI: a skipped required check would block the merge.
    assert!(
        !first["commit"]["message"]
            .as_str()
            .unwrap()
            .contains("[skip ci]"),
        "{first}"
    );
    stage(&server, "2.0.1");
    let second = expect_json(server.post("/v1/promotions", &promote()), 201);
    assert_eq!(second["review"]["number"], first["review"]["number"]);
    assert_eq!(second["review"]["reused"], true);
    assert_eq!(
        sim.stats().route("POST", "/repos/{owner}/{repo}/pulls"),
        1,
        "one pull request, updated"
    );
    // Merging the pull request brings production up to the promoted image.
    sim.merge_pull(
        "acme",
        "gitops",
        second["review"]["number"].as_u64().unwrap(),
    )
    .unwrap();
    let envs = expect_json(
        server.get(
            "/v1/applications/payments/environments",
            Some(crate::harness::TOKEN),
        ),
        200,
    );
    assert_eq!(envs["environments"][2]["image"]["tag"], "2.0.1", "{envs}");
    assert_eq!(envs["productionLagsStaging"], false);
}

#[test]
fn on_gitlab_a_promotion_opens_one_merge_request() {
    let dir = tempfile::tempdir().unwrap();
    let sim = forge_sim::GitlabSim::start().unwrap();
    sim.create_project("team-a/gitops", "main").unwrap();
    sim.add_token("glpat-promotions", "ci-bot", &["api"]);
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: gitlab\n    project: team-a/gitops\n    apiUrl: {}\n    auth: {{ tokenEnv: E2E_GL }}\n",
            sim.api_url()
        ),
    )
    .unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![("E2E_GL", "glpat-promotions")],
            ..Options::default()
        },
    );
    scaffold(&server);
    stage(&server, "3.0.0");
    let first = expect_json(server.post("/v1/promotions", &promote()), 201);
    assert_eq!(first["status"], "review-requested");
    assert!(
        first["review"]["url"]
            .as_str()
            .unwrap()
            .contains("merge_requests"),
        "{first}"
    );
    stage(&server, "3.0.1");
    let second = expect_json(server.post("/v1/promotions", &promote()), 201);
    assert_eq!(second["review"]["number"], first["review"]["number"]);
    assert_eq!(second["review"]["reused"], true);
}
