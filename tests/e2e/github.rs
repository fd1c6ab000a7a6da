//! The real binary with a `github` repository, against the GitHub simulator (real bare git
//! repositories behind GitHub's documented API behaviour).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use forge_sim::{GithubSim, RunningSim};
use serde_json::{Value, json};

use crate::harness::{Options, Server, TOKEN, expect_json};

const GH_TOKEN: &str = "ghp_e2eSecretTokenThatMustNeverBeLogged";
const TOKEN_ENV: &str = "GITOPS_E2E_GITHUB_TOKEN";
const VALUES: &str = "apps/payments/environments/staging/values.yaml";

struct Setup {
    sim: RunningSim,
    server: Server,
    _dir: tempfile::TempDir,
}

fn config(dir: &Path, sim: &RunningSim, auth: &str) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "repositories:\n  default:\n    kind: github\n    owner: acme\n    name: gitops\n    branch: main\n    apiUrl: {}\n    auth: {auth}\n",
            sim.base_url()
        ),
    )
    .unwrap();
    path
}

fn with_token() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sim = GithubSim::start().unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    sim.add_token(GH_TOKEN, "ci-bot");
    let config = config(dir.path(), &sim, &format!("{{ tokenEnv: {TOKEN_ENV} }}"));
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![(TOKEN_ENV, GH_TOKEN)],
            ..Options::default()
        },
    );
    Setup {
        sim,
        server,
        _dir: dir,
    }
}

fn repo(sim: &RunningSim) -> git2::Repository {
    git2::Repository::open_bare(sim.repo_path("acme", "gitops").unwrap()).unwrap()
}

/// Someone else pushes to `main` now: reads the branch through the simulator's API, which
/// fires the foreign push armed on it (the service itself writes on the head it knows from its
/// own last commit without reading, so the push has to happen on its own).
fn push_now(sim: &RunningSim) {
    let status = reqwest::blocking::Client::new()
        .get(format!(
            "{}/repos/acme/gitops/git/ref/heads/main",
            sim.base_url()
        ))
        .bearer_auth(GH_TOKEN)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert_eq!(sim.foreign_pushes_pending(), 0, "the armed push fired");
}

fn head(sim: &RunningSim) -> String {
    repo(sim)
        .refname_to_id("refs/heads/main")
        .unwrap()
        .to_string()
}

fn file(sim: &RunningSim, rev: &str, path: &str) -> Option<String> {
    let r = repo(sim);
    let tree = r.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    Some(String::from_utf8(r.find_blob(entry.id()).unwrap().content().to_vec()).unwrap())
}

fn message(sim: &RunningSim, rev: &str) -> String {
    repo(sim)
        .revparse_single(rev)
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .to_owned()
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

fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "a secret leaked into: {text}");
}

#[test]
fn scaffold_and_image_update_land_as_one_commit_each() {
    let s = with_token();
    let before = head(&s.sim);
    s.sim.reset_stats();
    let body = scaffold_application(&s.server);
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(head(&s.sim), sha);
    assert_eq!(
        repo(&s.sim)
            .find_commit(git2::Oid::from_str(sha).unwrap())
            .unwrap()
            .parent_id(0)
            .unwrap()
            .to_string(),
        before
    );
    let msg = message(&s.sim, sha);
    assert!(
        msg.starts_with("gitops(payments): scaffold application [skip ci]\n"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "Gitops-Mutation-Id: {}",
            body["mutationId"].as_str().unwrap()
        )),
        "{msg}"
    );
    assert!(msg.contains("Gitops-Requested-By: token:embedded"), "{msg}");
    assert!(file(&s.sim, sha, "apps/payments/argocd/production.yaml").is_some());
    let url = body["commit"]["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!("/acme/gitops/commit/{sha}")),
        "{url}"
    );
    let stats = s.sim.stats();
    assert_eq!(
        stats.content_creating, 1,
        "one mutation per commit: {stats:?}"
    );
    assert_eq!(stats.commits_created, 1);

    s.sim.reset_stats();
    let body = expect_json(s.server.post("/v1/image-updates", &update("1.4.2")), 201);
    assert_eq!(body["previous"]["tag"], "1.4.1");
    let sha2 = body["commit"]["sha"].as_str().unwrap();
    let after = file(&s.sim, sha2, VALUES).unwrap();
    assert_eq!(
        after,
        file(&s.sim, sha, VALUES)
            .unwrap()
            .replace("\"1.4.1\"", "\"1.4.2\"")
    );
    assert_eq!(
        body["commit"]["verified"], false,
        "a token's commits are not signed"
    );
    let stats = s.sim.stats();
    assert_eq!(
        (stats.content_creating, stats.commits_created),
        (1, 1),
        "{stats:?}"
    );
    // The pins file and the mutation, nothing else: the values file is what the lane's own
    // scaffold commit wrote, and the head is that commit, both of which it remembers.
    assert_eq!(stats.total_requests, 2, "{stats:?}");
    s.sim.reset_stats();
    let body = expect_json(s.server.post("/v1/image-updates", &update("1.4.3")), 201);
    let sha3 = body["commit"]["sha"].as_str().unwrap().to_owned();
    let stats = s.sim.stats();
    assert_eq!(
        (stats.total_requests, stats.content_creating),
        (1, 1),
        "the next update is the mutation alone: {stats:?}"
    );

    // The same tag again: a noop that creates no content.
    s.sim.reset_stats();
    let body = expect_json(s.server.post("/v1/image-updates", &update("1.4.3")), 200);
    assert_eq!(body["status"], "noop");
    assert_eq!(s.sim.stats().content_creating, 0);
    assert_eq!(head(&s.sim), sha3);
    assert_no_secret(&s.server.logs(), GH_TOKEN);
}

#[test]
fn a_foreign_push_between_read_and_write_is_kept() {
    let s = with_token();
    scaffold_application(&s.server);
    s.sim
        .arm_foreign_push(
            "acme",
            "gitops",
            "main",
            "docs/hand-written.md",
            "by a person\n",
        )
        .unwrap();
    s.sim.reset_stats();
    push_now(&s.sim);
    let body = expect_json(s.server.post("/v1/image-updates", &update("2.0.0")), 201);
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(
        file(&s.sim, sha, "docs/hand-written.md").as_deref(),
        Some("by a person\n")
    );
    let values: Value = yaml_serde::from_str(&file(&s.sim, sha, VALUES).unwrap()).unwrap();
    assert_eq!(values["image"]["tag"], "2.0.0");
    let stats = s.sim.stats();
    assert_eq!(stats.foreign_pushes, 1);
    assert_eq!(
        stats.graphql_mutations, 2,
        "the stale write was refused, then re-applied: {stats:?}"
    );
    assert_eq!(stats.commits_created, 1);
    // The foreign commit touched no file the request rests on: the same change was sent on the
    // new head (found with one compare) without reading the values file again.
    assert_eq!(
        stats
            .by_route
            .get("GET /repos/{owner}/{repo}/compare/{*basehead}"),
        Some(&1),
        "{stats:?}"
    );
    assert_eq!(
        stats
            .by_route
            .get("GET /repos/{owner}/{repo}/contents/{*path}"),
        Some(&1),
        "only the pins file, never read before: {stats:?}"
    );
}

#[test]
fn a_hand_edit_of_the_values_file_in_between_is_kept() {
    // After its own commit the lane knows the values file without reading it; a person's push
    // to that file must be noticed (the commits since are walked) and kept.
    let s = with_token();
    scaffold_application(&s.server);
    let first = expect_json(s.server.post("/v1/image-updates", &update("2.0.0")), 201);
    let before = file(&s.sim, first["commit"]["sha"].as_str().unwrap(), VALUES).unwrap();
    let edited = format!("{before}# resources tuned by hand\n");
    s.sim
        .arm_foreign_push("acme", "gitops", "main", VALUES, edited.clone())
        .unwrap();
    s.sim.reset_stats();
    push_now(&s.sim);
    let body = expect_json(s.server.post("/v1/image-updates", &update("2.0.1")), 201);
    let after = file(&s.sim, body["commit"]["sha"].as_str().unwrap(), VALUES).unwrap();
    assert_eq!(after, edited.replace("2.0.0", "2.0.1"));
    let stats = s.sim.stats();
    assert_eq!(stats.foreign_pushes, 1, "{stats:?}");
    assert_eq!(stats.commits_created, 1, "{stats:?}");
}

#[test]
fn a_secondary_rate_limit_is_waited_out() {
    let s = with_token();
    scaffold_application(&s.server);
    s.sim.set_secondary_limit(1, Some(1));
    s.sim.reset_stats();
    let started = std::time::Instant::now();
    let body = expect_json(s.server.post("/v1/image-updates", &update("3.0.0")), 201);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was honoured"
    );
    let stats = s.sim.stats();
    assert_eq!(stats.secondary_limited, 1, "{stats:?}");
    assert_eq!(
        stats.graphql_mutations, 2,
        "one refused, one landed; no hammering: {stats:?}"
    );
    assert_eq!(head(&s.sim), body["commit"]["sha"].as_str().unwrap());
    let logs = s.server.logs();
    assert!(
        logs.contains("requests_content_creating"),
        "requests per commit are reported"
    );
}

#[test]
fn refused_credentials_are_a_502_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let sim = GithubSim::start().unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    let config = config(dir.path(), &sim, &format!("{{ tokenEnv: {TOKEN_ENV} }}"));
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            env: vec![(TOKEN_ENV, GH_TOKEN)],
            ..Options::default()
        },
    );
    let resp = server.post("/v1/image-updates", &update("1.0.0"));
    let text = format!("{:?}", resp.headers());
    let body = expect_json(resp, 502);
    assert_eq!(
        body["type"],
        "urn:gitops-mutator:problem:forge-unauthorized"
    );
    assert_no_secret(&body.to_string(), GH_TOKEN);
    assert_no_secret(&text, GH_TOKEN);
    assert_no_secret(&server.logs(), GH_TOKEN);
    let ready = server.get("/readyz", None);
    assert_eq!(ready.status().as_u16(), 503);
    let ready: Value = ready.json().unwrap();
    assert_eq!(ready["repositories"]["default"], "unavailable");
}

/// An RSA key pair made for this test with the openssl CLI: (private PEM path, public PEM).
fn app_key(dir: &Path) -> (PathBuf, String) {
    let private = dir.join("app.pem");
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("the openssl CLI is needed for this test");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&["genrsa", "-out", private.to_str().unwrap(), "2048"]);
    let public = run(&["rsa", "-in", private.to_str().unwrap(), "-pubout"]);
    (private, String::from_utf8(public).unwrap())
}

fn with_app(token_ttl: Duration) -> (Setup, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sim = GithubSim::builder()
        .installation_token_ttl(token_ttl)
        .start()
        .unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    let (private, public) = app_key(dir.path());
    sim.add_app(4242, "Iv1.e2eclient", &public, &[(777, "acme/gitops")])
        .unwrap();
    let auth = format!(
        "{{ githubApp: {{ appId: 4242, privateKeyFile: {} }} }}",
        private.display()
    );
    let config = config(dir.path(), &sim, &auth);
    let server = Server::start_with(
        &dir.path().join("data"),
        Options {
            config: Some(&config),
            ..Options::default()
        },
    );
    (
        Setup {
            sim,
            server,
            _dir: dir,
        },
        private,
    )
}

#[test]
fn github_app_jwt_claims_and_installation_token_reuse() {
    let (s, private_key) = with_app(Duration::from_secs(3600));
    let body = scaffold_application(&s.server);
    assert_eq!(
        body["commit"]["verified"], true,
        "app commits are signed by GitHub"
    );
    expect_json(s.server.post("/v1/image-updates", &update("1.5.0")), 201);
    expect_json(s.server.post("/v1/image-updates", &update("1.5.1")), 201);
    assert_eq!(
        s.sim.installation_tokens_issued(),
        1,
        "one installation token serves every request until it nears expiry"
    );

    let claims = s.sim.jwt_claims_seen();
    assert!(!claims.is_empty());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for c in &claims {
        let iss = c["iss"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| c["iss"].to_string());
        assert_eq!(iss, "4242", "{c}");
        let iat = c["iat"].as_i64().unwrap();
        let exp = c["exp"].as_i64().unwrap();
        assert!(iat <= now, "iat is not in the future: {c}");
        assert!(
            exp - iat <= 600,
            "GitHub refuses JWTs valid for more than 10 minutes: {c}"
        );
        assert!(exp > now - 60, "{c}");
    }
    let key = std::fs::read_to_string(private_key).unwrap();
    let key_body: String = key.lines().nth(1).unwrap().to_owned();
    let logs = s.server.logs();
    assert_no_secret(&logs, &key_body);
    assert_no_secret(&logs, "ghs_");
}

#[test]
fn installation_tokens_near_expiry_are_replaced() {
    // A token that lives 20 s is inside the 30 s refresh margin from the start.
    let (s, _) = with_app(Duration::from_secs(20));
    scaffold_application(&s.server);
    let after_one = s.sim.installation_tokens_issued();
    expect_json(s.server.post("/v1/image-updates", &update("1.5.0")), 201);
    assert!(
        s.sim.installation_tokens_issued() > after_one,
        "a token near expiry is not reused"
    );
}

#[test]
fn the_service_token_is_not_sent_to_github() {
    let s = with_token();
    scaffold_application(&s.server);
    assert!(
        s.sim
            .stats()
            .by_credential
            .keys()
            .all(|k| !k.contains(TOKEN))
    );
}

#[test]
fn transient_faults_are_retried_and_a_landed_write_is_not_repeated() {
    let s = with_token();
    scaffold_application(&s.server);
    // The counter is deterministic: a noop makes 3 requests (pins, then the head, read to
    // confirm the remembered one, and its commit; the values file is remembered from the
    // scaffold), so the 4th (the next update's head read) fails and is read again.
    s.sim
        .set_fault(4, 503, forge_sim::FaultTiming::BeforeHandler)
        .unwrap();
    s.sim.reset_stats();
    expect_json(s.server.post("/v1/image-updates", &update("1.4.1")), 200);
    let body = expect_json(s.server.post("/v1/image-updates", &update("5.0.0")), 201);
    let stats = s.sim.stats();
    assert_eq!(
        (stats.faults_injected, stats.commits_created),
        (1, 1),
        "{stats:?}"
    );
    assert_eq!(head(&s.sim), body["commit"]["sha"].as_str().unwrap());

    // The write lands but the answer is a 502 (like a GraphQL timeout): the trailer shows it
    // landed, so it is reported once and not committed again.
    let before = head(&s.sim);
    // A noop (the head read to confirm the remembered one, and its commit), then the update:
    // the head again and the mutation, the 4th request, which lands but is answered 502.
    s.sim
        .set_fault(4, 502, forge_sim::FaultTiming::AfterHandler)
        .unwrap();
    s.sim.reset_stats();
    expect_json(s.server.post("/v1/image-updates", &update("5.0.0")), 200);
    let body = expect_json(s.server.post("/v1/image-updates", &update("5.0.1")), 201);
    let stats = s.sim.stats();
    assert_eq!(
        (stats.faults_injected, stats.commits_created),
        (1, 1),
        "{stats:?}"
    );
    let sha = body["commit"]["sha"].as_str().unwrap();
    assert_eq!(head(&s.sim), sha);
    assert_eq!(
        repo(&s.sim)
            .find_commit(git2::Oid::from_str(sha).unwrap())
            .unwrap()
            .parent_id(0)
            .unwrap()
            .to_string(),
        before
    );
    assert_eq!(body["previous"]["tag"], "5.0.0");
}

#[test]
fn sigterm_finishes_the_batches_in_flight_then_exits() {
    let mut s = with_token();
    scaffold_application(&s.server);
    // Slow forge: every request takes 200 ms, so the batches are still running at the signal.
    s.sim.set_latency(Duration::from_millis(200));
    s.sim.reset_stats();
    let pid = s.server.pid().to_string();
    let seen = |logs: &str| logs.matches("\"authenticated\"").count();
    let before = seen(&s.server.logs());
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let server = &s.server;
        let handles: Vec<_> = (0..8)
            .map(|i| {
                scope.spawn(move || {
                    let resp = server.post("/v1/image-updates", &update(&format!("7.0.{i}")));
                    (resp.status().as_u16(), resp.json::<Value>().unwrap())
                })
            })
            .collect();
        // The signal comes once all eight requests are in and the lane is talking to the
        // forge (polled, not timed: a 200 ms forge request is still running then).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while seen(&server.logs()) < before + 8 || s.sim.stats().total_requests == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the requests did not arrive"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            s.sim.stats().commits_created,
            0,
            "still in flight at the signal"
        );
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(s.sim.stats().commits_created >= 1);
    // Every request that was in flight got its answer, and its change is on the branch.
    let repo = repo(&s.sim);
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        let sha = body["commit"]["sha"].as_str().unwrap();
        let commit = repo.find_commit(git2::Oid::from_str(sha).unwrap()).unwrap();
        assert!(
            commit
                .message()
                .unwrap()
                .contains(body["mutationId"].as_str().unwrap()),
            "{body}"
        );
    }
    let status = s
        .server
        .wait_exit(Duration::from_secs(30))
        .expect("the service exits after its in-flight work");
    assert!(status.success(), "{status:?}");
    let logs = s.server.logs();
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(logs.contains("\"stopped\""), "{logs}");
}
