//! The real binary with a `git` remote over smart HTTP (git http-backend on loopback, with
//! Basic auth), written through the service's bare mirror.

use std::path::Path;

use serde_json::{Value, json};

use crate::git;
use crate::git_http::GitHttpServer;
use crate::harness::{Options, Server, expect_json};
use crate::tls::{TlsProxy, certificates};

const USER: &str = "mutator-bot";
const PASSWORD: &str = "pw-e2e-never-print-me";
const VALUES: &str = "apps/payments/environments/staging/values.yaml";

fn served_repo(root: &Path) -> std::path::PathBuf {
    let path = root.join("gitops.git");
    let out = std::process::Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&path)
        .args(["config", "http.receivepack", "true"])
        .output()
        .unwrap();
    assert!(out.status.success());
    git::foreign_commit(&path, &root.join("seed"), "README.md", "# gitops\n");
    path
}

#[test]
fn scaffold_update_noop_and_a_foreign_commit_over_smart_http() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("served");
    std::fs::create_dir_all(&root).unwrap();
    let repo = served_repo(&root);
    let http = GitHttpServer::start(&root, Some((USER, PASSWORD))).unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: git\n    url: {}\n    pullUrl: https://git.example.com/platform/gitops.git\n    auth: {{ usernameEnv: E2E_GIT_USER, passwordEnv: E2E_GIT_PASSWORD }}\n",
            http.url("gitops.git")
        ),
    )
    .unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![("E2E_GIT_USER", USER), ("E2E_GIT_PASSWORD", PASSWORD)],
            ..Options::default()
        },
    );
    let body = expect_json(
        server.post(
            "/v1/scaffold",
            &json!({ "template": "application",
                     "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.1" } } }),
        ),
        201,
    );
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(git::head(&repo), sha, "pushed to the served repository");
    let app = git::file(&repo, sha, "apps/payments/argocd/staging.yaml").unwrap();
    assert!(
        app.contains("repoURL: \"https://git.example.com/platform/gitops.git\"")
            || app.contains("repoURL: https://git.example.com/platform/gitops.git"),
        "{app}"
    );

    // Someone pushes between two requests; the mirror catches up and keeps their commit.
    git::foreign_commit(
        &repo,
        &dir.path().join("work"),
        "docs/notes.md",
        "by hand\n",
    );
    let update =
        json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.4.2" } });
    let body = expect_json(server.post("/v1/image-updates", &update), 201);
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(
        git::file(&repo, sha, "docs/notes.md").as_deref(),
        Some("by hand\n")
    );
    let values: Value = yaml_serde::from_str(&git::file(&repo, sha, VALUES).unwrap()).unwrap();
    assert_eq!(values["image"]["tag"], "1.4.2");
    let numstat = git::cli(&repo, &["diff", "--numstat", &format!("{sha}^"), sha]);
    assert_eq!(numstat.trim(), format!("1\t1\t{VALUES}"));

    let before = git::commit_count(&repo);
    let body = expect_json(server.post("/v1/image-updates", &update), 200);
    assert_eq!(body["status"], "noop");
    assert_eq!(git::commit_count(&repo), before);
    // The history reads the mirror's commits.
    let history = expect_json(
        server.get(
            "/v1/history?application=payments&environment=staging",
            Some(crate::harness::TOKEN),
        ),
        200,
    );
    assert_eq!(history["entries"][0]["tagAfter"], "1.4.2", "{history}");
    assert!(
        !server.logs().contains(PASSWORD),
        "the password never appears in logs"
    );
    assert!(
        !dir.path().join("data/mirrors/default.git/config").exists()
            || !std::fs::read_to_string(dir.path().join("data/mirrors/default.git/config"))
                .unwrap()
                .contains(PASSWORD)
    );
}

#[test]
fn scaffold_and_update_over_https_trusting_the_configured_authority() {
    // The served repository behind TLS. The binary is told to trust the test authority the
    // standard way (`SSL_CERT_FILE`), which both the fetch (libgit2 with OpenSSL) and the
    // push (rustls with the platform's trust store) honour.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("served");
    std::fs::create_dir_all(&root).unwrap();
    let repo = served_repo(&root);
    let http = GitHttpServer::start(&root, Some((USER, PASSWORD))).unwrap();
    let certificates = certificates(&dir.path().join("tls"));
    let tls = TlsProxy::start(&certificates, http.addr());
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: git\n    url: {}\n    auth: {{ usernameEnv: E2E_GIT_USER, passwordEnv: E2E_GIT_PASSWORD }}\n",
            tls.url("gitops.git")
        ),
    )
    .unwrap();
    let ca = certificates.ca_pem.to_str().unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![
                ("E2E_GIT_USER", USER),
                ("E2E_GIT_PASSWORD", PASSWORD),
                ("SSL_CERT_FILE", ca),
            ],
            ..Options::default()
        },
    );
    let body = expect_json(
        server.post(
            "/v1/scaffold",
            &json!({ "template": "application",
                     "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.1" } } }),
        ),
        201,
    );
    assert_eq!(git::head(&repo), body["commit"]["sha"].as_str().unwrap());
    let update =
        json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.4.2" } });
    let body = expect_json(server.post("/v1/image-updates", &update), 201);
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(git::head(&repo), sha);
    let values: Value = yaml_serde::from_str(&git::file(&repo, sha, VALUES).unwrap()).unwrap();
    assert_eq!(values["image"]["tag"], "1.4.2");
    // Both commits went through the service's own push, inside TLS. (The bridge records a
    // request just after answering it, so the last one may need a moment.)
    let mut pushes = 0;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pushes < 2 && std::time::Instant::now() < until {
        pushes += http
            .take_served()
            .iter()
            .filter(|s| s.method == "POST" && s.path.ends_with("/git-receive-pack"))
            .count();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(pushes, 2);
    assert!(!server.logs().contains(PASSWORD));
}

#[test]
fn a_wrong_password_is_a_502_that_names_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("served");
    std::fs::create_dir_all(&root).unwrap();
    served_repo(&root);
    let http = GitHttpServer::start(&root, Some((USER, PASSWORD))).unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  default:\n    kind: git\n    url: {}\n    auth: {{ usernameEnv: E2E_GIT_USER, passwordEnv: E2E_GIT_PASSWORD }}\n",
            http.url("gitops.git")
        ),
    )
    .unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![
                ("E2E_GIT_USER", USER),
                ("E2E_GIT_PASSWORD", "wrong-password-value"),
            ],
            ..Options::default()
        },
    );
    let update =
        json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.4.2" } });
    let resp = server.post("/v1/image-updates", &update);
    let body = expect_json(resp, 502);
    assert_eq!(
        body["type"],
        "urn:gitops-mutator:problem:forge-unauthorized"
    );
    assert!(!body.to_string().contains("wrong-password-value"));
    assert!(!server.logs().contains("wrong-password-value"));
}

#[test]
fn https_and_ssh_remotes_are_accepted_by_the_binary() {
    // No TLS server or sshd runs here: this shows the binary is built with both transports
    // (open makes no network call) and reports an unreachable remote as not ready.
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("known_hosts");
    std::fs::write(&hosts, "").unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  tls:\n    kind: git\n    url: https://127.0.0.1:9/gitops.git\n    auth: {{ usernameEnv: E2E_GIT_USER, passwordEnv: E2E_GIT_PASSWORD }}\n  ssh:\n    kind: git\n    url: ssh://git@127.0.0.1:9/gitops.git\n    auth: {{ sshKeyFile: {}, knownHostsFile: {} }}\n",
            dir.path().join("id_ed25519").display(),
            hosts.display()
        ),
    )
    .unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![("E2E_GIT_USER", USER), ("E2E_GIT_PASSWORD", PASSWORD)],
            ..Options::default()
        },
    );
    let ready = server.get("/readyz", None);
    assert_eq!(ready.status().as_u16(), 503);
    let body: Value = ready.json().unwrap();
    assert_eq!(body["repositories"]["tls"], "unavailable");
    assert_eq!(body["repositories"]["ssh"], "unavailable");
    assert!(!server.logs().contains(PASSWORD));
}
