//! The life of an application's environments, the same on every backend: production changes
//! arrive through one pull/merge request (reused while open), a rollback needs the policy's
//! `rollback` permission, restores the exact old bytes and pins the environment until the pin
//! is lifted, and the history tells it all, in order, with who asked and through which review.

use serde_json::{Value, json};

use crate::backends::{Backend, Kind};
use crate::harness::{expect_json, sha256_hex};

const CI: &str = "ci-secret-0123456789abcdef";
const ONCALL: &str = "oncall-secret-0123456789abcdef";
const CI_BY: &str = "token:ci (rule ci)";
const ONCALL_BY: &str = "token:oncall (rule oncall)";
const STAGING: &str = "apps/payments/environments/staging/values.yaml";
const PRODUCTION: &str = "apps/payments/environments/production/values.yaml";
const REVIEW_BRANCH: &str = "gitops/payments/production";

fn settings() -> String {
    format!(
        "tokens:\n  - name: ci\n    sha256: {}\n  - name: oncall\n    sha256: {}\npolicy:\n  - name: ci\n    token: ci\n    allow: {{ actions: [scaffold, image-update, promote] }}\n  - name: oncall\n    token: oncall\n    allow: {{ actions: [rollback], applications: [payments] }}\n",
        sha256_hex(CI),
        sha256_hex(ONCALL)
    )
}

#[test]
fn lifecycle_on_embedded_git() {
    scenario(Kind::Embedded);
}

#[test]
fn lifecycle_on_github() {
    scenario(Kind::Github);
}

#[test]
fn lifecycle_on_gitlab() {
    scenario(Kind::Gitlab);
}

struct Client<'a>(&'a Backend);

impl Client<'_> {
    fn post(&self, token: &str, path: &str, body: Value, status: u16) -> Value {
        expect_json(
            self.0.server.request(path, &body, Some(token), None),
            status,
        )
    }

    fn stage(&self, tag: &str) -> String {
        let body = self.post(
            CI,
            "/v1/image-updates",
            json!({ "application": "payments", "environment": "staging", "image": { "tag": tag } }),
            201,
        );
        body["commit"]["sha"].as_str().unwrap().to_owned()
    }

    fn promote(&self) -> Value {
        self.post(
            CI,
            "/v1/promotions",
            json!({ "application": "payments", "from": "staging", "to": "production" }),
            201,
        )
    }

    fn rollback(&self, to: Value, status: u16) -> Value {
        self.post(
            ONCALL,
            "/v1/rollbacks",
            json!({ "application": "payments", "environment": "staging", "to": to, "reason": "checkout errors" }),
            status,
        )
    }

    fn history(&self, env: &str) -> Vec<Value> {
        let body = expect_json(
            self.0.server.get(
                &format!("/v1/history?application=payments&environment={env}&limit=50"),
                Some(CI),
            ),
            200,
        );
        body["entries"].as_array().unwrap().clone()
    }
}

/// `(kind, requestedBy, tagBefore, tagAfter)` of each entry, newest first.
fn summary(entries: &[Value]) -> Vec<(String, String, Value, Value)> {
    entries
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["requestedBy"].as_str().unwrap_or("-").to_owned(),
                e["tagBefore"].clone(),
                e["tagAfter"].clone(),
            )
        })
        .collect()
}

fn entry(
    kind: &str,
    by: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> (String, String, Value, Value) {
    let tag = |t: Option<&str>| t.map_or(Value::Null, |t| json!(t));
    (kind.to_owned(), by.to_owned(), tag(before), tag(after))
}

fn scenario(kind: Kind) {
    let backend = Backend::start(kind, &settings());
    let client = Client(&backend);
    client.post(
        CI,
        "/v1/scaffold",
        json!({ "template": "application",
                "values": { "name": "payments", "image": { "repository": "ghcr.io/acme/payments", "tag": "1.0.0" } } }),
        201,
    );

    // Production is protected: a promotion waits for review, and a second one before the
    // merge lands on the same branch and the same pull/merge request.
    let a = client.stage("1.1.0");
    let main_before = backend.head("main");
    let first = client.promote();
    assert_eq!(first["status"], "review-requested", "{first}");
    assert_eq!(first["review"]["branch"], REVIEW_BRANCH);
    assert_eq!(
        backend.head("main"),
        main_before,
        "main waits for the review"
    );
    let b = client.stage("1.2.0");
    let second = client.promote();
    assert_eq!(second["review"]["branch"], REVIEW_BRANCH);
    let number = match backend.review_url_part() {
        Some(part) => {
            assert_eq!(first["review"]["reused"], false, "{first}");
            assert_eq!(second["review"]["reused"], true, "{second}");
            assert_eq!(second["review"]["number"], first["review"]["number"]);
            let url = second["review"]["url"].as_str().unwrap();
            let number = second["review"]["number"].as_u64().unwrap();
            assert!(url.ends_with(&format!("{part}{number}")), "{url}");
            Some(number)
        }
        None => {
            assert!(first["review"].get("number").is_none(), "{first}");
            None
        }
    };
    let reviewed = backend.head(REVIEW_BRANCH);
    assert_eq!(second["commit"]["sha"], reviewed.as_str());
    let merge = backend.merge_review(REVIEW_BRANCH, number);
    assert_eq!(backend.head("main"), merge);
    assert_eq!(
        backend.bytes(&merge, PRODUCTION),
        backend.bytes(&reviewed, PRODUCTION),
        "the merge brings production exactly what was reviewed"
    );

    // The promotions reached main through the review: history shows both, newest first.
    let production = client.history("production");
    assert_eq!(
        summary(&production),
        vec![
            entry("promotion", CI_BY, Some("1.1.0"), Some("1.2.0")),
            entry("promotion", CI_BY, Some("1.0.0"), Some("1.1.0")),
            entry("scaffold", CI_BY, None, None),
        ],
        "{production:#?}"
    );
    assert_eq!(production[0]["commit"], reviewed.as_str());
    // Both promotions name the review they were merged through (plain git has none).
    for promotion in &production[..2] {
        match number {
            Some(number) => {
                let review = &promotion["review"];
                assert_eq!(review["number"], number, "{promotion}");
                assert_eq!(review["landedBy"], merge.as_str());
                assert_eq!(review["url"], second["review"]["url"]);
            }
            None => assert!(promotion.get("review").is_none(), "{promotion}"),
        }
    }
    assert!(
        production[2].get("review").is_none(),
        "the scaffold was direct"
    );

    // A rollback needs the `rollback` permission: the pipeline's token is refused.
    let c = client.stage("1.3.0");
    let head = backend.head("main");
    let denied = client.post(
        CI,
        "/v1/rollbacks",
        json!({ "application": "payments", "environment": "staging", "to": { "previous": 1 } }),
        403,
    );
    assert_eq!(denied["type"], "urn:gitops-mutator:problem:forbidden");
    assert_eq!(
        backend.head("main"),
        head,
        "a denied rollback changes nothing"
    );

    // By `previous`: the exact bytes from before the last change, and a pin.
    let rolled = client.rollback(json!({ "previous": 1 }), 201);
    let by_previous = rolled["commit"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(backend.head("main"), by_previous);
    assert_eq!(
        backend.bytes(&by_previous, STAGING),
        backend.bytes(&b, STAGING)
    );
    assert_ne!(backend.bytes(&c, STAGING), backend.bytes(&b, STAGING));
    let pins = expect_json(backend.server.get("/v1/pins", Some(CI)), 200);
    assert_eq!(pins["pins"].as_array().unwrap().len(), 1, "{pins}");
    assert_eq!(pins["pins"][0]["application"], "payments");
    assert_eq!(pins["pins"][0]["environment"], "staging");
    assert_eq!(pins["pins"][0]["by"], ONCALL_BY);

    // The pipeline is refused while pinned, told by whom and why, and nothing changes.
    let head = backend.head("main");
    let locked = client.post(
        CI,
        "/v1/image-updates",
        json!({ "application": "payments", "environment": "staging", "image": { "tag": "1.4.0" } }),
        423,
    );
    assert_eq!(locked["type"], "urn:gitops-mutator:problem:pinned");
    let detail = locked["detail"].as_str().unwrap();
    assert!(detail.contains(ONCALL_BY), "{detail}");
    assert!(detail.contains("checkout errors"), "{detail}");
    assert_eq!(backend.head("main"), head);

    // By tag and by commit: the exact bytes of then.
    let by_tag = client.rollback(json!({ "tag": "1.1.0" }), 201);
    let by_tag = by_tag["commit"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(backend.bytes(&by_tag, STAGING), backend.bytes(&a, STAGING));
    let by_commit = client.rollback(json!({ "commit": b }), 201);
    let by_commit = by_commit["commit"]["sha"].as_str().unwrap().to_owned();
    assert_eq!(
        backend.bytes(&by_commit, STAGING),
        backend.bytes(&b, STAGING)
    );

    // Only someone who may roll back may lift the pin; then the pipeline goes through again.
    let refused = backend.server.delete("/v1/pins/payments/staging", CI);
    assert_eq!(refused.status().as_u16(), 403);
    let lifted = backend.server.delete("/v1/pins/payments/staging", ONCALL);
    assert_eq!(lifted.status().as_u16(), 201);
    assert_eq!(
        expect_json(backend.server.get("/v1/pins", Some(CI)), 200)["pins"],
        json!([])
    );
    client.stage("1.4.0");

    let staging = client.history("staging");
    assert_eq!(
        summary(&staging),
        vec![
            entry("image-update", CI_BY, Some("1.2.0"), Some("1.4.0")),
            entry("unpin", ONCALL_BY, None, None),
            entry("rollback", ONCALL_BY, Some("1.1.0"), Some("1.2.0")),
            entry("rollback", ONCALL_BY, Some("1.2.0"), Some("1.1.0")),
            entry("rollback", ONCALL_BY, Some("1.3.0"), Some("1.2.0")),
            entry("image-update", CI_BY, Some("1.2.0"), Some("1.3.0")),
            entry("image-update", CI_BY, Some("1.1.0"), Some("1.2.0")),
            entry("image-update", CI_BY, Some("1.0.0"), Some("1.1.0")),
            entry("scaffold", CI_BY, None, None),
        ],
        "{staging:#?}"
    );
    let commits: Vec<&str> = staging
        .iter()
        .map(|e| e["commit"].as_str().unwrap())
        .collect();
    assert_eq!(
        &commits[2..5],
        [by_commit.as_str(), by_tag.as_str(), by_previous.as_str()]
    );
    assert_eq!(&commits[5..8], [c.as_str(), b.as_str(), a.as_str()]);
    assert!(
        staging.iter().all(|e| e.get("review").is_none()),
        "staging is direct"
    );
}
