use serde_json::json;

use crate::git;
use crate::harness::{Server, expect_json};

fn cicd() -> serde_json::Value {
    json!({
        "template": "cicd-pipeline",
        "values": {
            "name": "payments",
            "owner": "team-a",
            "sourceRepoUrl": "https://gitlab.example.com/team-a/payments.git",
            "awsRegion": "eu-west-1"
        }
    })
}

#[test]
fn scaffold_commits_all_files_once_and_rescaffold_is_a_noop() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    assert_eq!(
        git::commit_count(&repo),
        1,
        "first start makes one initial commit"
    );

    let body = expect_json(server.post("/v1/scaffold", &cicd()), 201);
    assert_eq!(body["status"], "committed");
    let sha = body["commit"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(git::head(&repo), sha);
    assert_eq!(body["commit"]["branch"], "main");
    let mut paths: Vec<&str> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "apps/payments/argocd/application.yaml",
            "apps/payments/catalog-info.yaml",
            "apps/payments/manifests/kro-cicd-pipeline.yaml",
            "apps/payments/manifests/namespace.yaml",
        ]
    );
    assert!(
        body["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["action"] == "create")
    );

    // One commit, with every file, [skip ci] and the trailers.
    assert_eq!(git::commit_count(&repo), 2);
    let message = git::message(&repo, &sha);
    assert!(
        message.lines().next().unwrap().ends_with("[skip ci]"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "Gitops-Mutation-Id: {}",
            body["mutationId"].as_str().unwrap()
        )),
        "{message}"
    );
    assert!(
        message.contains("Gitops-Requested-By: token:embedded"),
        "{message}"
    );
    let changed = git::cli(&repo, &["show", "--name-only", "--format=", &sha]);
    assert_eq!(changed.lines().count(), 4, "{changed}");
    let author = git::cli(&repo, &["log", "-1", "--format=%an <%ae>", &sha]);
    assert_eq!(author.trim(), "gitops-mutator <gitops-mutator@localhost>");

    let ns = git::file(&repo, &sha, "apps/payments/manifests/namespace.yaml").unwrap();
    let ns: serde_json::Value = yaml_serde::from_str(&ns).unwrap();
    assert_eq!(ns["kind"], "Namespace");
    assert_eq!(
        ns["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "0"
    );
    let app = git::file(&repo, &sha, "apps/payments/argocd/application.yaml").unwrap();
    let app: serde_json::Value = yaml_serde::from_str(&app).unwrap();
    assert_eq!(app["metadata"]["name"], "payments-cicd");
    assert_eq!(app["spec"]["source"]["path"], "apps/payments/manifests");

    // The same request again changes nothing.
    let again = expect_json(server.post("/v1/scaffold", &cicd()), 200);
    assert_eq!(again["status"], "noop");
    assert_eq!(again["commit"]["sha"], sha.as_str());
    assert!(
        again["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["action"] == "unchanged")
    );
    assert_eq!(git::commit_count(&repo), 2);

    // The bare repository never gets a working tree.
    assert!(!repo.join("apps").exists());
    assert!(git::cli(&repo, &["rev-parse", "--is-bare-repository"]).trim() == "true");
}

#[test]
fn dry_run_shows_the_diff_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let repo = server.repo_path();
    let before = git::head(&repo);
    let mut req = cicd();
    req["dryRun"] = json!(true);
    let body = expect_json(server.post("/v1/scaffold", &req), 200);
    assert_eq!(body["status"], "dry-run");
    assert_eq!(body["commit"]["sha"], before.as_str());
    let diff = body["diff"].as_str().unwrap();
    assert!(
        diff.contains("+++ b/apps/payments/manifests/namespace.yaml"),
        "{diff}"
    );
    assert!(diff.contains("+kind: CICDPipeline"), "{diff}");
    assert_eq!(git::head(&repo), before);
    assert_eq!(git::commit_count(&repo), 1);
}

#[test]
fn template_values_are_data_not_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let tricky = "{{ secrets }} {% raw %} #: 'x' \"y\"";
    let mut req = cicd();
    req["values"]["description"] = json!(tricky);
    let body = expect_json(server.post("/v1/scaffold", &req), 201);
    let sha = body["commit"]["sha"].as_str().unwrap();
    let text = git::file(&server.repo_path(), sha, "apps/payments/catalog-info.yaml").unwrap();
    let doc: serde_json::Value = yaml_serde::from_str(&text).unwrap();
    assert_eq!(doc["metadata"]["description"], tricky, "{text}");
}

#[test]
fn templates_are_listed_with_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let body = expect_json(
        server.get("/v1/templates", Some(crate::harness::TOKEN)),
        200,
    );
    let names: Vec<&str> = body["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"cicd-pipeline") && names.contains(&"application"),
        "{names:?}"
    );
    for t in body["templates"].as_array().unwrap() {
        assert!(t["schema"]["properties"]["name"].is_object(), "{t}");
    }
}
