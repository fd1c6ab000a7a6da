use std::time::{Duration, Instant};

use forge_sim::{FaultTiming, PrimaryLimit, Resource};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

const SECONDARY: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

fn patch_main(env: &Env, sha: &str) -> Reply {
    env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": sha })),
    )
}

#[test]
fn secondary_switch_refuses_the_next_writes_with_retry_after() {
    let env = env();
    let head = env.head("main");
    env.sim.set_secondary_limit(2, Some(1));

    // Reads are not content-creating.
    assert_eq!(
        env.get("/repos/acme/gitops/git/ref/heads/main").status,
        StatusCode::OK
    );

    for _ in 0..2 {
        let r = patch_main(&env, &head);
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.message(), SECONDARY);
        assert!(
            r.json()["documentation_url"]
                .as_str()
                .unwrap()
                .contains("secondary-rate-limits")
        );
        assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        assert!(r.header("x-ratelimit-remaining").is_some());
    }
    assert_eq!(patch_main(&env, &head).status, StatusCode::OK);

    // GraphQL mutations count too; 429 is selectable.
    env.sim.set_secondary_limit_status(429).unwrap();
    env.sim.set_secondary_limit(1, Some(0));
    let r = env.commit("main", &head, &[("a", b"a")], &[]);
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after").as_deref(), Some("0"));
    assert_eq!(env.head("main"), head);
    let r = env.commit("main", &head, &[("a", b"a")], &[]);
    assert_eq!(r.status, StatusCode::OK);

    let s = env.sim.stats();
    assert_eq!(s.secondary_limited, 3);
    assert_eq!(s.content_creating, 5);
    assert_eq!(s.graphql_mutations, 2);
}

#[test]
fn secondary_window_admits_k_writes_per_window() {
    let env = env();
    let head = env.head("main");
    env.sim
        .set_secondary_window(2, Duration::from_millis(400), None);
    assert_eq!(patch_main(&env, &head).status, StatusCode::OK);
    assert_eq!(patch_main(&env, &head).status, StatusCode::OK);
    let r = patch_main(&env, &head);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.message(), SECONDARY);
    // Seconds until the oldest admitted write leaves the window, rounded up.
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(patch_main(&env, &head).status, StatusCode::OK);
    env.sim.clear_secondary_limit();
    for _ in 0..3 {
        assert_eq!(patch_main(&env, &head).status, StatusCode::OK);
    }
}

#[test]
fn primary_limit_runs_out_per_token() {
    let env = env();
    env.sim.add_token("ghp_other", "carol");
    env.sim.set_primary_limit(
        TOKEN,
        Resource::Core,
        PrimaryLimit {
            limit: 10,
            remaining: 1,
            reset_in_secs: 600,
        },
    );
    let r = env.get("/repos/acme/gitops/git/ref/heads/main");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(r.header("x-ratelimit-used").as_deref(), Some("10"));
    let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > now() + 500);

    let r = env.get("/repos/acme/gitops/git/ref/heads/main");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert!(
        r.message()
            .starts_with("API rate limit exceeded for user ID"),
        "{}",
        r.message()
    );

    env.sim.set_primary_limit_status(429).unwrap();
    assert_eq!(
        env.get("/repos/acme/gitops/git/ref/heads/main").status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Other tokens and the GraphQL budget are separate.
    let r = env.call_as(
        Some("ghp_other"),
        Method::GET,
        "/repos/acme/gitops/git/ref/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::OK);

    // GraphQL exhaustion is HTTP 200 with a RATE_LIMITED error.
    env.sim.set_primary_limit(
        TOKEN,
        Resource::Graphql,
        PrimaryLimit {
            limit: 5,
            remaining: 0,
            reset_in_secs: 60,
        },
    );
    let head = env.head("main");
    let r = env.commit("main", &head, &[("a", b"a")], &[]);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["errors"][0]["type"], "RATE_LIMITED");
    assert_eq!(r.header("x-ratelimit-resource").as_deref(), Some("graphql"));
    assert_eq!(env.head("main"), head);
    assert_eq!(env.sim.stats().primary_limited, 3);
}

#[test]
fn every_nth_request_fails_deterministically() {
    let env = env();
    env.sim.set_fault_every(3, 502).unwrap();
    let statuses: Vec<u16> = (0..7)
        .map(|_| {
            env.get("/repos/acme/gitops/git/ref/heads/main")
                .status
                .as_u16()
        })
        .collect();
    assert_eq!(statuses, [200, 200, 502, 200, 200, 502, 200]);
    env.sim.set_fault_every(0, 502).unwrap();
    assert_eq!(
        env.get("/repos/acme/gitops/git/ref/heads/main").status,
        StatusCode::OK
    );
    assert_eq!(env.sim.stats().faults_injected, 2);
}

#[test]
fn fault_after_the_handler_still_commits() {
    let env = env();
    let head = env.head("main");
    env.sim
        .set_fault(1, 504, FaultTiming::AfterHandler)
        .unwrap();
    let r = env.commit("main", &head, &[("landed.txt", b"yes")], &[]);
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    env.sim.clear_faults();
    assert_ne!(
        env.head("main"),
        head,
        "the write happened although the client saw a 504"
    );
    assert_eq!(
        env.sim
            .read_file(OWNER, REPO, "main", "landed.txt")
            .unwrap()
            .unwrap(),
        b"yes"
    );
}

#[test]
fn latency_is_added_to_every_request() {
    let env = env();
    env.sim.set_latency(Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(
        env.get("/repos/acme/gitops/git/ref/heads/main").status,
        StatusCode::OK
    );
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn foreign_push_lands_between_read_and_write() {
    let env = env();
    env.sim
        .arm_foreign_push(
            OWNER,
            REPO,
            "main",
            "apps/payments/values.yaml",
            "tag: foreign\n",
        )
        .unwrap();
    assert_eq!(env.sim.foreign_pushes_pending(), 1);
    let read = env.get("/repos/acme/gitops/git/ref/heads/main").json();
    let seen = read["object"]["sha"].as_str().unwrap().to_owned();
    assert_ne!(
        env.head("main"),
        seen,
        "the branch moved right after the read"
    );
    assert_eq!(env.sim.foreign_pushes_pending(), 0);

    let r = env.commit("main", &seen, &[("mine.txt", b"m")], &[]);
    assert_eq!(r.json()["errors"][0]["type"], "STALE_DATA");
    let r = env.call(
        Method::PATCH,
        "/repos/acme/gitops/git/refs/heads/main",
        Some(json!({ "sha": seen })),
    );
    assert_eq!(r.message(), "Update is not a fast forward");

    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    let head = repo
        .find_commit(git2::Oid::from_str(&env.head("main")).unwrap())
        .unwrap();
    assert_eq!(head.author().name().unwrap(), "foreign-writer");
    assert_eq!(
        env.sim
            .read_file(OWNER, REPO, "main", "apps/payments/values.yaml")
            .unwrap()
            .unwrap(),
        b"tag: foreign\n"
    );
    assert_eq!(env.sim.stats().foreign_pushes, 1);

    // A contents read at the head SHA triggers it as well; a read of another branch does not.
    env.sim.create_branch(OWNER, REPO, "other", "main").unwrap();
    env.sim
        .arm_foreign_push(OWNER, REPO, "main", "second.txt", "2")
        .unwrap();
    env.get("/repos/acme/gitops/contents/README.md?ref=other");
    assert_eq!(env.sim.foreign_pushes_pending(), 1);
    let before = env.head("main");
    env.get(&format!(
        "/repos/acme/gitops/contents/README.md?ref={before}"
    ));
    assert_eq!(env.sim.foreign_pushes_pending(), 0);
    assert_ne!(env.head("main"), before);
}

#[test]
fn counters_by_route_and_credential_and_reset() {
    let env = env();
    env.get("/repos/acme/gitops/git/ref/heads/main");
    env.get("/repos/acme/gitops/git/ref/heads/main");
    env.get("/repos/acme/gitops/contents/README.md");
    env.call_as(
        None,
        Method::GET,
        "/repos/acme/gitops/contents/README.md",
        None,
    );
    let s = env.sim.stats();
    assert_eq!(s.total_requests, 4);
    assert_eq!(s.route("GET", "/repos/{owner}/{repo}/git/ref/{*ref}"), 2);
    assert_eq!(s.routes_matching("/contents/"), 2);
    assert_eq!(s.by_credential.get("token:alice"), Some(&3));
    assert_eq!(s.by_credential.get("anonymous"), Some(&1));
    assert_eq!(s.content_creating, 0);
    env.sim.reset_stats();
    assert_eq!(env.sim.stats(), forge_sim::Stats::default());
}
