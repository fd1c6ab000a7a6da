use std::time::{Duration, Instant};

use forge_sim::FaultTiming;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[test]
fn forced_rate_limit_answers_429_with_headers() {
    let env = env();
    env.sim.set_rate_limit(2, 7);
    for _ in 0..2 {
        let r = env.get("/user");
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("retry-after").as_deref(), Some("7"));
        assert_eq!(r.header("ratelimit-remaining").as_deref(), Some("0"));
        assert_eq!(r.header("ratelimit-limit").as_deref(), Some("2000"));
        let reset: i64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset > 1_700_000_000);
        assert!(r.header("ratelimit-resettime").unwrap().ends_with(" GMT"));
        assert!(r.header("x-request-id").is_some());
        assert_eq!(String::from_utf8_lossy(&r.bytes), "Retry later\n");
    }
    assert_eq!(env.get("/user").status, StatusCode::OK);
    assert_eq!(env.sim.stats().rate_limited, 2);
}

#[test]
fn per_minute_budget_runs_out() {
    let env = env();
    env.sim.set_rate_limit_per_minute(3);
    let mut remaining = Vec::new();
    let refused = (0..10).find_map(|_| {
        let r = env.get("/user");
        remaining.push(r.header("ratelimit-remaining").unwrap());
        (r.status == StatusCode::TOO_MANY_REQUESTS).then_some(r)
    });
    let refused = refused.expect("a 429 within 10 requests");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(remaining.contains(&"2".to_owned()), "{remaining:?}");
    assert_eq!(refused.header("ratelimit-remaining").as_deref(), Some("0"));
}

#[test]
fn faults_before_and_after_the_handler() {
    let env = env();
    env.sim
        .set_fault(2, 503, FaultTiming::BeforeHandler)
        .unwrap();
    assert_eq!(env.get("/user").status, StatusCode::OK);
    let r = env.get("/user");
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json(), json!({ "message": "503 Service Unavailable" }));
    assert!(r.header("ratelimit-limit").is_some());

    // After the handler: the commit happens, the client sees a 502.
    env.sim
        .set_fault(1, 502, FaultTiming::AfterHandler)
        .unwrap();
    let before = env.head("main");
    let r = env.commit(json!({
        "branch": "main", "commit_message": "m",
        "actions": [{ "action": "create", "file_path": "x.txt", "content": "x" }]
    }));
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_ne!(env.head("main"), before);
    assert_eq!(env.read("main", "x.txt").as_deref(), Some("x"));
    env.sim.clear_faults();
    assert_eq!(env.get("/user").status, StatusCode::OK);
    let s = env.sim.stats();
    assert_eq!(s.faults_injected, 2);
    assert_eq!(s.commits_created, 1);
    env.sim.reset_stats();
    assert_eq!(env.sim.stats().total_requests, 0);
}

#[test]
fn latency_delays_requests() {
    let env = env();
    env.sim.set_latency(Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(env.get("/user").status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(150));
}
