use serde_json::{Value, json};

use crate::git;
use crate::harness::{Server, expect_json};

const VALUES: &str = "apps/payments/environments/staging/values.yaml";

fn scaffold_application(server: &Server) -> String {
    let body = expect_json(
        server.post(
            "/v1/scaffold",
            &json!({
                "template": "application",
                "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.1" } }
            }),
        ),
        201,
    );
    body["commit"]["sha"].as_str().unwrap().to_owned()
}

fn update(tag: &str) -> Value {
    json!({ "application": "payments", "environment": "staging", "image": { "tag": tag } })
}

#[test]
fn image_update_changes_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    let scaffolded = scaffold_application(&server);

    let body = expect_json(server.post("/v1/image-updates", &update("1.4.2")), 201);
    assert_eq!(body["status"], "committed");
    assert_eq!(body["previous"]["tag"], "1.4.1");
    assert_eq!(
        body["files"],
        json!([{ "path": VALUES, "action": "update" }])
    );
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(git::head(&repo), sha);
    let message = git::message(&repo, sha);
    assert!(
        message.starts_with("gitops(payments/staging): image tag 1.4.2 [skip ci]\n"),
        "{message}"
    );

    // Exactly one line changed, in one file.
    let numstat = git::cli(&repo, &["diff", "--numstat", &scaffolded, sha]);
    assert_eq!(numstat.trim(), format!("1\t1\t{VALUES}"), "{numstat}");
    let before = git::file(&repo, &scaffolded, VALUES).unwrap();
    let after = git::file(&repo, sha, VALUES).unwrap();
    let doc: Value = yaml_serde::from_str(&after).unwrap();
    assert_eq!(doc["image"]["tag"], "1.4.2");
    assert_eq!(before.lines().count(), after.lines().count());

    // A tag YAML would read as a number is written so that it stays a string.
    let body = expect_json(server.post("/v1/image-updates", &update("1.10")), 201);
    let text = git::file(&repo, body["commit"]["sha"].as_str().unwrap(), VALUES).unwrap();
    let doc: Value = yaml_serde::from_str(&text).unwrap();
    assert_eq!(doc["image"]["tag"], "1.10", "{text}");

    // The same tag again is a noop without a commit.
    let count = git::commit_count(&repo);
    let body = expect_json(server.post("/v1/image-updates", &update("1.10")), 200);
    assert_eq!(body["status"], "noop");
    assert_eq!(body["files"][0]["action"], "unchanged");
    assert_eq!(git::commit_count(&repo), count);

    // Re-scaffolding the application keeps the image the updates wrote.
    let again = server.post(
        "/v1/scaffold",
        &json!({
            "template": "application",
            "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.1" } }
        }),
    );
    assert_eq!(expect_json(again, 200)["status"], "noop");
    assert_eq!(git::commit_count(&repo), count);
}

#[test]
fn digest_and_repository_are_set_and_dry_run_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold_application(&server);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let req = json!({
        "application": "payments", "environment": "staging",
        "image": { "digest": digest, "repository": "registry.example.com/acme/payments" },
        "dryRun": true
    });
    let head = git::head(&repo);
    let body = expect_json(server.post("/v1/image-updates", &req), 200);
    assert_eq!(body["status"], "dry-run");
    let diff = body["diff"].as_str().unwrap();
    assert!(diff.contains(&format!("+  digest: {digest}")), "{diff}");
    assert_eq!(git::head(&repo), head);

    let mut req = req;
    req["dryRun"] = json!(false);
    let body = expect_json(server.post("/v1/image-updates", &req), 201);
    let text = git::file(&repo, body["commit"]["sha"].as_str().unwrap(), VALUES).unwrap();
    let doc: Value = yaml_serde::from_str(&text).unwrap();
    assert_eq!(doc["image"]["digest"], digest.as_str());
    assert_eq!(
        doc["image"]["repository"],
        "registry.example.com/acme/payments"
    );
    assert_eq!(doc["image"]["tag"], "1.4.1");
}

#[test]
fn expected_tag_mismatch_is_409_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold_application(&server);
    let head = git::head(&repo);
    let mut req = update("2.0.0");
    req["expected"] = json!({ "tag": "1.3.9" });
    let body = expect_json(server.post("/v1/image-updates", &req), 409);
    assert_eq!(
        body["type"],
        "urn:gitops-mutator:problem:precondition-failed"
    );
    assert!(body["detail"].as_str().unwrap().contains("1.4.1"), "{body}");
    assert_eq!(git::head(&repo), head);
    req["expected"] = json!({ "tag": "1.4.1" });
    expect_json(server.post("/v1/image-updates", &req), 201);
}

#[test]
fn missing_values_file_is_404_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let body = expect_json(server.post("/v1/image-updates", &update("1.0.0")), 404);
    assert!(body["detail"].as_str().unwrap().contains(VALUES), "{body}");
}

#[test]
fn idempotent_replay_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let repo = server.repo_path();
    scaffold_application(&server);
    let first = expect_json(
        server.post_with_key("/v1/image-updates", &update("1.5.0"), "build-42"),
        201,
    );
    assert_eq!(first["mutationId"], "build-42");
    let count = git::commit_count(&repo);
    server.stop();

    let server = Server::start(&data);
    let resp = server.post_with_key("/v1/image-updates", &update("1.5.0"), "build-42");
    assert_eq!(
        resp.headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let replay = expect_json(resp, 200);
    assert_eq!(replay["status"], "committed");
    assert_eq!(replay["commit"]["sha"], first["commit"]["sha"]);
    assert_eq!(replay["files"], first["files"]);
    assert_eq!(replay["previous"], first["previous"]);
    assert_eq!(git::commit_count(&repo), count, "a replay makes no commit");

    // The same key with another request is refused rather than silently answered.
    let body = expect_json(
        server.post_with_key("/v1/image-updates", &update("1.6.0"), "build-42"),
        422,
    );
    assert_eq!(
        body["type"],
        "urn:gitops-mutator:problem:idempotency-key-reused"
    );
    assert_eq!(git::commit_count(&repo), count);
}

#[test]
fn a_foreign_commit_in_between_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold_application(&server);
    git::foreign_commit(
        &repo,
        &dir.path().join("work"),
        "docs/notes.md",
        "hand-written\n",
    );
    let body = expect_json(server.post("/v1/image-updates", &update("1.4.3")), 201);
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(
        git::file(&repo, sha, "docs/notes.md").as_deref(),
        Some("hand-written\n")
    );
    let parent = git::cli(&repo, &["log", "-1", "--format=%s", &format!("{sha}^")]);
    assert_eq!(parent.trim(), "hand edit");
}

#[test]
fn a_hand_edit_of_the_values_file_in_between_is_kept() {
    // The lane remembers the files of its own commits; a person's commit to the same file
    // must make it read the file again, not write over the edit.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold_application(&server);
    let path = "apps/payments/environments/staging/values.yaml";
    let first = expect_json(server.post("/v1/image-updates", &update("1.4.3")), 201);
    let before = git::file(&repo, first["commit"]["sha"].as_str().unwrap(), path).unwrap();
    let edited = format!("{before}# resources tuned by hand\n");
    git::foreign_commit(&repo, &dir.path().join("work"), path, &edited);
    let body = expect_json(server.post("/v1/image-updates", &update("1.4.4")), 201);
    let after = git::file(&repo, body["commit"]["sha"].as_str().unwrap(), path).unwrap();
    assert_eq!(after, edited.replace("1.4.3", "1.4.4"));
}

#[test]
fn a_noop_is_never_answered_from_a_stale_head() {
    // The lane writes on the head of its own last commit without reading; an answer that no
    // compare-and-swap confirms (here a noop) must be checked against the real head.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    scaffold_application(&server);
    let first = expect_json(server.post("/v1/image-updates", &update("1.4.3")), 201);
    let before = git::file(&repo, first["commit"]["sha"].as_str().unwrap(), VALUES).unwrap();
    git::foreign_commit(
        &repo,
        &dir.path().join("work"),
        VALUES,
        &before.replace("1.4.3", "9.9.9"),
    );
    let body = expect_json(server.post("/v1/image-updates", &update("1.4.3")), 201);
    assert_eq!(body["status"], "committed");
    assert_eq!(body["previous"]["tag"], "9.9.9");
}

#[test]
fn custom_layout_from_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("gitops.git");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  platform:\n    kind: git\n    url: {}\n    pullUrl: https://git.example.com/platform/gitops.git\n    branch: main\n    layout:\n      values: \"infrastructure/gitops/environments/{{environment}}/values.yaml\"\n      imageKeys: {{ tag: app.image.tag, repository: app.image.repository, digest: app.image.digest }}\n",
            repo.display()
        ),
    )
    .unwrap();
    let server = crate::harness::Server::start_with(
        &dir.path().join("data"),
        crate::harness::Options {
            config: Some(&config),
            ..Default::default()
        },
    );
    let path = "infrastructure/gitops/environments/staging/values.yaml";
    let original = "# staging values\napp:\n  image:\n    repository: ghcr.io/acme/payments  # keep me\n    tag: '1.0.0'\n  replicas: 3\n";
    git::foreign_commit(&repo, &dir.path().join("work"), path, original);
    let req = json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.0.1" },
                      "target": { "repository": "platform" } });
    let body = expect_json(server.post("/v1/image-updates", &req), 201);
    let after = git::file(&repo, body["commit"]["sha"].as_str().unwrap(), path).unwrap();
    assert_eq!(after, original.replace("'1.0.0'", "'1.0.1'"));
    // The only configured repository is the default for requests that name none.
    let mut req = req;
    req["target"] = json!({});
    req["image"]["tag"] = json!("1.0.2");
    expect_json(server.post("/v1/image-updates", &req), 201);
    let body = expect_json(server.get("/readyz", None), 200);
    assert_eq!(body["repositories"]["platform"], "ok");
}

#[test]
fn kustomize_and_manifest_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let kustomize_repo = dir.path().join("kustomize.git");
    let manifest_repo = dir.path().join("manifests.git");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  kust:\n    kind: git\n    url: {}\n    layout:\n      kind: kustomize\n      values: \"overlays/{{environment}}/kustomization.yaml\"\n      image: \"ghcr.io/acme/{{application}}\"\n  plain:\n    kind: git\n    url: {}\n    layout:\n      kind: manifest\n      values: \"k8s/{{environment}}/{{application}}.yaml\"\n      workload: {{ kind: Deployment, name: \"{{application}}\" }}\n",
            kustomize_repo.display(),
            manifest_repo.display()
        ),
    )
    .unwrap();
    let server = crate::harness::Server::start_with(
        &dir.path().join("data"),
        crate::harness::Options {
            config: Some(&config),
            ..Default::default()
        },
    );
    let kustomization = "# staging overlay\r\nresources:\r\n  - ../../base\r\nimages:\r\n  - name: ghcr.io/acme/payments # the app\r\n    newTag: 1.0.0\r\n";
    git::foreign_commit(
        &kustomize_repo,
        &dir.path().join("w1"),
        "overlays/staging/kustomization.yaml",
        kustomization,
    );
    let manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  name: payments\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: migrate\n          image: ghcr.io/acme/payments-migrate:1.0.0\n      containers:\n        - name: payments\n          image: ghcr.io/acme/payments:1.0.0@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
    git::foreign_commit(
        &manifest_repo,
        &dir.path().join("w2"),
        "k8s/staging/payments.yaml",
        manifest,
    );

    let req = |repo: &str, tag: &str| json!({ "application": "payments", "environment": "staging", "image": { "tag": tag }, "target": { "repository": repo } });
    let body = expect_json(server.post("/v1/image-updates", &req("kust", "1.10")), 201);
    assert_eq!(body["previous"]["tag"], "1.0.0");
    let after = git::file(
        &kustomize_repo,
        body["commit"]["sha"].as_str().unwrap(),
        "overlays/staging/kustomization.yaml",
    )
    .unwrap();
    assert_eq!(
        after,
        kustomization.replace("newTag: 1.0.0", "newTag: \"1.10\""),
        "only the tag changes, CRLF kept"
    );

    let body = expect_json(
        server.post("/v1/image-updates", &req("plain", "1.1.0")),
        201,
    );
    let sha = body["commit"]["sha"].as_str().unwrap();
    let after = git::file(&manifest_repo, sha, "k8s/staging/payments.yaml").unwrap();
    assert_eq!(
        after,
        manifest.replace(
            "payments:1.0.0@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "payments:1.1.0"
        ),
        "the stale digest goes with the old tag; the init container is untouched"
    );
    let message = git::message(&manifest_repo, sha);
    assert!(
        message.contains("digest: sha256:"),
        "the dropped digest is in the commit body: {message}"
    );
}
