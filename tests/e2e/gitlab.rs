//! The real binary with a `gitlab` repository, against the GitLab simulator.

use std::path::{Path, PathBuf};

use forge_sim::{GitlabSim, RunningGitlabSim};
use serde_json::{Value, json};

use crate::harness::{Options, Server, expect_json};

const GL_TOKEN: &str = "glpat-e2eSecretThatMustNeverBeLogged";
const TOKEN_ENV: &str = "GITOPS_E2E_GITLAB_TOKEN";
const PROJECT: &str = "team-a/platform/gitops";
const VALUES: &str = "apps/payments/environments/staging/values.yaml";

struct Setup {
    sim: RunningGitlabSim,
    server: Server,
    _dir: tempfile::TempDir,
}

fn config(dir: &Path, sim: &RunningGitlabSim) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "repositories:\n  default:\n    kind: gitlab\n    project: {PROJECT}\n    branch: main\n    apiUrl: {}\n    auth: {{ tokenEnv: {TOKEN_ENV} }}\n",
            sim.api_url()
        ),
    )
    .unwrap();
    path
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sim = GitlabSim::start().unwrap();
    sim.create_project(PROJECT, "main").unwrap();
    sim.add_token(GL_TOKEN, "ci-bot", &["api"]);
    let config = config(dir.path(), &sim);
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![(TOKEN_ENV, GL_TOKEN)],
            ..Options::default()
        },
    );
    Setup {
        sim,
        server,
        _dir: dir,
    }
}

fn repo(s: &Setup) -> git2::Repository {
    git2::Repository::open_bare(s.sim.project_git_dir(PROJECT).unwrap()).unwrap()
}

fn head(s: &Setup) -> String {
    repo(s)
        .refname_to_id("refs/heads/main")
        .unwrap()
        .to_string()
}

fn file(s: &Setup, rev: &str, path: &str) -> Option<String> {
    let r = repo(s);
    let tree = r.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    Some(String::from_utf8(r.find_blob(entry.id()).unwrap().content().to_vec()).unwrap())
}

fn scaffold_application(server: &Server) -> Value {
    expect_json(
        server.post(
            "/v1/scaffold",
            &json!({ "template": "application",
                     "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.1" } } }),
        ),
        201,
    )
}

fn update(tag: &str) -> Value {
    json!({ "application": "payments", "environment": "staging", "image": { "tag": tag } })
}

#[test]
fn scaffold_and_image_update_land_as_one_commit_each() {
    let s = setup();
    s.sim.reset_stats();
    let body = scaffold_application(&s.server);
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(head(&s), sha);
    let message = repo(&s)
        .find_commit(git2::Oid::from_str(sha).unwrap())
        .unwrap()
        .message()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("gitops(payments): scaffold application [skip ci]"),
        "{message}"
    );
    assert!(message.contains("Gitops-Mutation-Id: "), "{message}");
    assert!(
        body["commit"]["url"]
            .as_str()
            .unwrap()
            .contains("/-/commit/"),
        "{body}"
    );
    assert_eq!(s.sim.stats().commits_created, 1);

    let body = expect_json(s.server.post("/v1/image-updates", &update("1.4.2")), 201);
    let sha2 = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(
        file(&s, sha2, VALUES).unwrap(),
        file(&s, sha, VALUES)
            .unwrap()
            .replace("\"1.4.1\"", "\"1.4.2\"")
    );
    let before = s.sim.stats().writes;
    let body = expect_json(s.server.post("/v1/image-updates", &update("1.4.2")), 200);
    assert_eq!(body["status"], "noop");
    assert_eq!(s.sim.stats().writes, before, "a noop writes nothing");
    assert!(!s.server.logs().contains(GL_TOKEN));
}

#[test]
fn a_foreign_change_to_the_same_file_is_re_applied_not_overwritten() {
    let s = setup();
    scaffold_application(&s.server);
    let original = file(&s, "main", VALUES).unwrap();
    // Someone edits the same values file (another key) between our read and our write.
    let edited = format!("{original}replicas: 3\n");
    s.sim
        .arm_foreign_push(PROJECT, "main", VALUES, edited.as_str())
        .unwrap();
    let body = expect_json(s.server.post("/v1/image-updates", &update("2.0.0")), 201);
    let after = file(&s, body["commit"]["sha"].as_str().unwrap(), VALUES).unwrap();
    assert!(
        after.contains("replicas: 3"),
        "the foreign change is kept: {after}"
    );
    assert!(after.contains("tag: \"2.0.0\""), "{after}");
    assert_eq!(s.sim.stats().foreign_pushes, 1);
}

#[test]
fn rate_limits_and_faults_are_retried() {
    let s = setup();
    scaffold_application(&s.server);
    s.sim.set_rate_limit(1, 1);
    s.sim.reset_stats();
    let started = std::time::Instant::now();
    expect_json(s.server.post("/v1/image-updates", &update("3.0.0")), 201);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(s.sim.stats().rate_limited, 1);

    // Deterministic counter: a noop makes 2 requests (branch, commit; the pins and values
    // files are remembered from the update before), so the 3rd (the next branch read) fails.
    s.sim
        .set_fault(3, 503, forge_sim::FaultTiming::BeforeHandler)
        .unwrap();
    expect_json(s.server.post("/v1/image-updates", &update("3.0.0")), 200);
    expect_json(s.server.post("/v1/image-updates", &update("3.0.1")), 201);
    assert_eq!(s.sim.stats().faults_injected, 1);
    s.sim.clear_faults();
    let values: Value = yaml_serde::from_str(&file(&s, "main", VALUES).unwrap()).unwrap();
    assert_eq!(values["image"]["tag"], "3.0.1");

    // After its own commit the service knows the files and their last commits: the next
    // update is the branch read and the commit, no file read or HEAD lookup.
    s.sim.reset_stats();
    expect_json(s.server.post("/v1/image-updates", &update("3.0.2")), 201);
    let stats = s.sim.stats();
    assert_eq!(
        (stats.total_requests, stats.commits_created),
        (2, 1),
        "{stats:?}"
    );
}
