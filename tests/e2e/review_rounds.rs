//! Review branches across several rounds, the same on every backend: once a pull/merge
//! request is merged, the next change to production starts from main as it is now (the branch
//! moves forward onto main, never by force), plans on main's files and opens a new review;
//! while a review is open, changes join it; once one is closed without merging, the branch
//! starts afresh from main and the answer and the log name the head that left it.

use serde_json::{Value, json};

use crate::backends::{Backend, Kind};
use crate::harness::expect_json;

const PRODUCTION: &str = "apps/payments/environments/production/values.yaml";
const REVIEW_BRANCH: &str = "gitops/payments/production";

#[test]
fn review_rounds_on_embedded_git() {
    scenario(Kind::Embedded);
}

#[test]
fn review_rounds_on_github() {
    scenario(Kind::Github);
}

#[test]
fn review_rounds_on_gitlab() {
    scenario(Kind::Gitlab);
}

fn post(backend: &Backend, path: &str, body: Value) -> Value {
    expect_json(backend.server.post(path, &body), 201)
}

fn stage(backend: &Backend, tag: &str) -> String {
    let body = post(
        backend,
        "/v1/image-updates",
        json!({ "application": "payments", "environment": "staging", "image": { "tag": tag } }),
    );
    body["commit"]["sha"].as_str().unwrap().to_owned()
}

fn promotion() -> Value {
    json!({ "application": "payments", "from": "staging", "to": "production" })
}

fn promote(backend: &Backend) -> Value {
    post(backend, "/v1/promotions", promotion())
}

fn sha(answer: &Value) -> String {
    answer["commit"]["sha"].as_str().unwrap().to_owned()
}

fn production(backend: &Backend, rev: &str) -> String {
    String::from_utf8(backend.bytes(rev, PRODUCTION).unwrap()).unwrap()
}

/// The production values of `rev` are main's with only the tag changed from `before` to `after`.
fn only_the_tag_changed(backend: &Backend, rev: &str, main: &str, before: &str, after: &str) {
    let theirs = production(backend, rev);
    assert!(theirs.contains(&format!("tag: \"{after}\"")), "{theirs}");
    assert_eq!(
        theirs.replace(after, before),
        production(backend, main),
        "planned on main's file"
    );
}

/// Asserts `answer` is a change waiting on a review that starts on main's head `main`, with
/// production going from `before` to `after`; returns the review's number (none on plain git).
fn starts_on_main(
    backend: &Backend,
    answer: &Value,
    main: &str,
    before: &str,
    after: &str,
) -> Option<u64> {
    assert_eq!(answer["status"], "review-requested", "{answer}");
    assert_eq!(answer["review"]["branch"], REVIEW_BRANCH);
    let head = sha(answer);
    assert_eq!(backend.head(REVIEW_BRANCH), head);
    assert_eq!(
        backend.parent(&head),
        main,
        "the change sits on main's head"
    );
    assert_eq!(answer["previous"]["tag"], before, "{answer}");
    only_the_tag_changed(backend, &head, main, before, after);
    match backend.review_url_part() {
        Some(_) => {
            assert_eq!(answer["review"]["reused"], false, "{answer}");
            Some(answer["review"]["number"].as_u64().unwrap())
        }
        None => {
            assert!(answer["review"].get("number").is_none(), "{answer}");
            None
        }
    }
}

fn scenario(kind: Kind) {
    let backend = Backend::start(kind, "");
    post(
        &backend,
        "/v1/scaffold",
        json!({ "template": "application",
                "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } }),
    );

    // Round one: promote 1.1.0 and merge it.
    stage(&backend, "1.1.0");
    let main = backend.head("main");
    let first = expect_json(
        backend
            .server
            .post_with_key("/v1/promotions", &promotion(), "promote-1"),
        201,
    );
    let n1 = starts_on_main(&backend, &first, &main, "1.0.0", "1.1.0");
    let r1 = sha(&first);
    backend.merge_review(REVIEW_BRANCH, n1);

    // The same request again (a retried pipeline step): answered from the merged commit, with
    // no review opened for it and the branch left as it is.
    let again = backend
        .server
        .post_with_key("/v1/promotions", &promotion(), "promote-1");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again = expect_json(again, 200);
    assert_eq!(sha(&again), r1);
    assert_eq!(again["status"], "committed", "{again}");
    assert!(again["review"].get("number").is_none(), "{again}");
    assert_eq!(backend.head(REVIEW_BRANCH), r1);

    // Production already runs staging's image: nothing to change, nothing to review.
    let main = backend.head("main");
    let noop = expect_json(backend.server.post("/v1/promotions", &promotion()), 200);
    assert_eq!(noop["status"], "noop", "{noop}");
    assert_eq!(noop["review"]["branch"], REVIEW_BRANCH);
    assert!(noop["review"].get("number").is_none(), "{noop}");
    assert_eq!(sha(&noop), main);
    assert_eq!(backend.head(REVIEW_BRANCH), main, "moved forward onto main");

    // Round two: a direct update of production through a second review, merged.
    let update = post(
        &backend,
        "/v1/image-updates",
        json!({ "application": "payments", "environment": "production", "image": { "tag": "1.1.5" } }),
    );
    let n2 = starts_on_main(&backend, &update, &main, "1.1.0", "1.1.5");
    if let (Some(n1), Some(n2)) = (n1, n2) {
        assert_ne!(n2, n1, "the merged review is not reused");
    }
    let r2 = sha(&update);
    assert!(backend.is_ancestor(&r1, &r2), "never forced: {r1} stays");
    backend.merge_review(REVIEW_BRANCH, n2);

    // Main moves on by itself; the review branch still points at what was merged.
    stage(&backend, "1.2.0");
    let main = backend.head("main");
    assert_eq!(backend.head(REVIEW_BRANCH), r2);

    // A dry run plans where the change would land, and moves nothing.
    let mut dry = promotion();
    dry["dryRun"] = json!(true);
    let dry = expect_json(backend.server.post("/v1/promotions", &dry), 200);
    assert_eq!(dry["status"], "dry-run", "{dry}");
    assert_eq!(sha(&dry), main);
    assert_eq!(dry["previous"]["tag"], "1.1.5");
    assert!(dry["diff"].as_str().unwrap().contains("1.2.0"), "{dry}");
    assert_eq!(backend.head(REVIEW_BRANCH), r2);

    // Round three: the promotion reads staging and production on main as it is now (on the
    // stale branch staging would still be 1.1.0) and opens a new review.
    let third = promote(&backend);
    let n3 = starts_on_main(&backend, &third, &main, "1.1.5", "1.2.0");
    if let (Some(n2), Some(n3)) = (n2, n3) {
        assert_ne!(n3, n2);
    }
    let r3 = sha(&third);
    assert!(backend.is_ancestor(&r2, &r3), "never forced: {r2} stays");

    // While it is open, the next promotion joins it.
    stage(&backend, "1.2.1");
    let joined = promote(&backend);
    assert_eq!(joined["status"], "review-requested", "{joined}");
    let r3b = sha(&joined);
    assert_eq!(backend.parent(&r3b), r3, "on top of the waiting change");
    assert_eq!(joined["previous"]["tag"], "1.2.0");
    assert!(joined["review"].get("restarted").is_none(), "{joined}");
    if let Some(n3) = n3 {
        assert_eq!(joined["review"]["reused"], true, "{joined}");
        assert_eq!(joined["review"]["number"], n3);
    }

    // Plain git has no reviews to close: its branch waits until it is merged.
    let Some(n3) = n3 else {
        return;
    };

    // Round four: the reviewer closes it. The next promotion starts afresh from main, so the
    // rejected 1.2.x does not come back, and says which head left the branch.
    backend.close_review(n3);
    stage(&backend, "1.3.0");
    let main = backend.head("main");
    let fourth = promote(&backend);
    let n4 = starts_on_main(&backend, &fourth, &main, "1.1.5", "1.3.0").unwrap();
    assert_ne!(n4, n3);
    let restarted = &fourth["review"]["restarted"];
    assert_eq!(restarted["previousHead"], r3b.as_str(), "{fourth}");
    assert_eq!(restarted["number"], n3);
    assert_eq!(restarted["state"], "closed");
    let part = backend.review_url_part().unwrap();
    assert!(
        restarted["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{part}{n3}")),
        "{restarted}"
    );
    assert!(!backend.is_ancestor(&r3b, &sha(&fourth)));
    let logs = backend.server.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("started afresh") && l.contains(&r3b)),
        "the log names the head that left the branch"
    );
}

/// GitHub's "Squash and merge" lands the review as one new commit, so the branch's own commits
/// never reach main: the next change starts afresh, and says the review was merged.
#[test]
fn after_a_squash_merge_the_branch_starts_afresh_on_github() {
    let backend = Backend::start(Kind::Github, "");
    post(
        &backend,
        "/v1/scaffold",
        json!({ "template": "application",
                "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } }),
    );
    stage(&backend, "1.1.0");
    let first = promote(&backend);
    let n1 = first["review"]["number"].as_u64().unwrap();
    let r1 = sha(&first);
    backend.squash_review(n1);
    assert!(!backend.is_ancestor(&r1, &backend.head("main")));

    stage(&backend, "1.2.0");
    let main = backend.head("main");
    let second = promote(&backend);
    let n2 = starts_on_main(&backend, &second, &main, "1.1.0", "1.2.0").unwrap();
    assert_ne!(n2, n1);
    let restarted = &second["review"]["restarted"];
    assert_eq!(restarted["previousHead"], r1.as_str(), "{second}");
    assert_eq!(restarted["number"], n1);
    assert_eq!(restarted["state"], "merged");
}
