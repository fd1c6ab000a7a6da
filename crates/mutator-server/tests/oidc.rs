//! OIDC token verification against a JWKS served on loopback, with RSA and EC keys made for
//! the test by the openssl CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mutator_server::auth::{Authenticator, Identity};
use mutator_server::config::ConfigFile;
use serde_json::{Value, json};

const GITHUB_ISS: &str = "https://token.actions.githubusercontent.com";
const GITLAB_ISS: &str = "https://gitlab.example.com";

fn openssl(args: &[&str]) -> Vec<u8> {
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
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct Keys {
    rsa_private: Vec<u8>,
    rsa_public_pem: Vec<u8>,
    rsa_jwk: Value,
    ec_private: Vec<u8>,
    ec_jwk: Value,
}

fn keys(dir: &Path) -> Keys {
    let rsa = dir.join("rsa.pem");
    openssl(&["genrsa", "-out", rsa.to_str().unwrap(), "2048"]);
    let modulus = String::from_utf8(openssl(&[
        "rsa",
        "-in",
        rsa.to_str().unwrap(),
        "-noout",
        "-modulus",
    ]))
    .unwrap();
    let n = hex::decode(modulus.trim().trim_start_matches("Modulus=")).unwrap();
    let rsa_public_pem = openssl(&["rsa", "-in", rsa.to_str().unwrap(), "-pubout"]);
    let ec = dir.join("ec.pem");
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        ec.to_str().unwrap(),
    ]);
    let ec8 = openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", ec.to_str().unwrap()]);
    let der = openssl(&[
        "ec",
        "-in",
        ec.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
    ]);
    let point = &der[der.len() - 65..];
    assert_eq!(point[0], 4, "uncompressed point");
    Keys {
        rsa_private: std::fs::read(&rsa).unwrap(),
        rsa_public_pem,
        rsa_jwk: json!({ "kty": "RSA", "kid": "gh-1", "alg": "RS256", "use": "sig", "n": b64(&n), "e": "AQAB" }),
        ec_private: ec8,
        ec_jwk: json!({ "kty": "EC", "kid": "gl-1", "alg": "ES256", "use": "sig", "crv": "P-256",
                        "x": b64(&point[1..33]), "y": b64(&point[33..]) }),
    }
}

/// A JWKS server that counts fetches and can be switched off.
struct Jwks {
    url_github: String,
    url_gitlab: String,
    fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

async fn serve_jwks(keys: &Keys) -> Jwks {
    let fetches = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let route = |jwk: Value| {
        let (fetches, down) = (fetches.clone(), down.clone());
        get(move || {
            let (fetches, down, jwk) = (fetches.clone(), down.clone(), jwk.clone());
            async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                if down.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                axum::Json(json!({ "keys": [jwk] })).into_response()
            }
        })
    };
    let app = Router::new()
        .route("/gh/jwks", route(keys.rsa_jwk.clone()))
        .route("/gl/jwks", route(keys.ec_jwk.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Jwks {
        url_github: format!("http://{addr}/gh/jwks"),
        url_gitlab: format!("http://{addr}/gl/jwks"),
        fetches,
        down,
    }
}

fn authenticator(jwks: &Jwks) -> Authenticator {
    let yaml = format!(
        "issuers:\n  - name: github-actions\n    issuer: {GITHUB_ISS}\n    audience: gitops-mutator\n    jwksUrl: {}\n    algorithms: [RS256]\n    jwksRefreshSeconds: 3600\n  - name: gitlab\n    issuer: {GITLAB_ISS}\n    audience: gitops-mutator\n    jwksUrl: {}\n    algorithms: [ES256]\n    leewaySeconds: 5\npolicy:\n  - name: any\n    issuer: github-actions\n    allow: {{ actions: [image-update] }}\n",
        jwks.url_github, jwks.url_gitlab
    );
    let file = ConfigFile::parse(&yaml, "test").unwrap();
    let (auth, _) = mutator_server::security::build(&file, "unused", "test").unwrap();
    auth
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn github_claims() -> Value {
    json!({
        "iss": GITHUB_ISS, "aud": "gitops-mutator", "sub": "repo:acme/payments:ref:refs/heads/main",
        "repository": "acme/payments", "ref": "refs/heads/main", "ref_type": "branch",
        "iat": now() - 10, "nbf": now() - 10, "exp": now() + 300,
    })
}

fn gitlab_claims() -> Value {
    json!({
        "iss": GITLAB_ISS, "aud": ["gitops-mutator", "other"], "sub": "project_path:team-a/payments:ref_type:branch:ref:main",
        "project_path": "team-a/payments", "ref": "main", "ref_protected": "true",
        "iat": now() - 10, "nbf": now() - 10, "exp": now() + 300,
    })
}

fn sign_rs(keys: &Keys, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(&keys.rsa_private).unwrap(),
    )
    .unwrap()
}

fn sign_es(keys: &Keys, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ec_pem(&keys.ec_private).unwrap(),
    )
    .unwrap()
}

async fn refused(auth: &Authenticator, token: &str, expect: &str) {
    let err = auth
        .authenticate(token)
        .await
        .expect_err("the token must be refused");
    assert!(
        err.contains(expect),
        "reason {err:?} should mention {expect:?}"
    );
}

#[tokio::test]
async fn valid_github_and_gitlab_tokens_pass() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys(dir.path());
    let jwks = serve_jwks(&keys).await;
    let auth = authenticator(&jwks);
    let p = auth
        .authenticate(&sign_rs(&keys, "gh-1", &github_claims()))
        .await
        .unwrap();
    assert_eq!(p.identity, Identity::Issuer("github-actions".into()));
    assert_eq!(p.claim("repository").as_deref(), Some("acme/payments"));
    assert_eq!(
        p.to_string(),
        "github-actions:repo:acme/payments:ref:refs/heads/main"
    );
    let p = auth
        .authenticate(&sign_es(&keys, "gl-1", &gitlab_claims()))
        .await
        .unwrap();
    assert_eq!(p.claim("ref_protected").as_deref(), Some("true"));
}

#[tokio::test]
async fn bad_tokens_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys(dir.path());
    let jwks = serve_jwks(&keys).await;
    let auth = authenticator(&jwks);
    let with = |patch: Value| {
        let mut c = github_claims();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    refused(
        &auth,
        &sign_rs(&keys, "gh-1", &with(json!({ "exp": now() - 600 }))),
        "expired",
    )
    .await;
    refused(
        &auth,
        &sign_rs(&keys, "gh-1", &with(json!({ "nbf": now() + 600 }))),
        "not valid yet",
    )
    .await;
    refused(
        &auth,
        &sign_rs(&keys, "gh-1", &with(json!({ "iat": now() + 600 }))),
        "future",
    )
    .await;
    refused(
        &auth,
        &sign_rs(
            &keys,
            "gh-1",
            &with(json!({ "iss": "https://evil.example.com" })),
        ),
        "not accepted",
    )
    .await;
    refused(
        &auth,
        &sign_rs(&keys, "gh-1", &with(json!({ "aud": "someone-else" }))),
        "audience",
    )
    .await;
    // A payload swapped after signing.
    let good = sign_rs(&keys, "gh-1", &github_claims());
    let forged_payload = b64(
        serde_json::to_vec(&with(json!({ "repository": "acme/admin" })))
            .unwrap()
            .as_slice(),
    );
    let parts: Vec<&str> = good.split('.').collect();
    refused(
        &auth,
        &format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
        "signature",
    )
    .await;
    // alg none.
    let none_header = b64(br#"{"alg":"none","typ":"JWT","kid":"gh-1"}"#);
    refused(&auth, &format!("{none_header}.{}.", parts[1]), "header").await;
    // Algorithm confusion: HS256 with the public key as the secret.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("gh-1".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &github_claims(),
        &EncodingKey::from_secret(&keys.rsa_public_pem),
    )
    .unwrap();
    refused(&auth, &confused, "not accepted").await;
    // A GitHub token signed with GitLab's key.
    refused(
        &auth,
        &sign_es(&keys, "gl-1", &github_claims()),
        "not accepted",
    )
    .await;
    let mut rs_as_gitlab = gitlab_claims();
    rs_as_gitlab["iss"] = json!(GITHUB_ISS);
    refused(
        &auth,
        &sign_rs(&keys, "gl-1", &rs_as_gitlab),
        "not one of issuer github-actions's keys",
    )
    .await;
    // Truncated and oversized.
    // Cutting the signature short leaves either bad base64 or a signature that does not verify.
    let err = auth
        .authenticate(&good[..good.len() - 20])
        .await
        .unwrap_err();
    assert!(
        err.contains("signature") || err.contains("not a valid JWT"),
        "{err}"
    );
    refused(&auth, &good[..good.rfind('.').unwrap()], "").await;
    let huge = format!("{}.{}.{}", parts[0], "A".repeat(20_000), parts[2]);
    refused(&auth, &huge, "larger").await;
}

#[tokio::test]
async fn unknown_kids_refresh_once_and_a_down_jwks_keeps_cached_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys(dir.path());
    let jwks = serve_jwks(&keys).await;
    let auth = authenticator(&jwks);
    auth.authenticate(&sign_rs(&keys, "gh-1", &github_claims()))
        .await
        .unwrap();
    let after_first = jwks.fetches.load(Ordering::SeqCst);
    assert_eq!(after_first, 1);

    // An unknown kid: one refresh (within the interval, none), then refused.
    for _ in 0..20 {
        refused(
            &auth,
            &sign_rs(&keys, "gh-unknown", &github_claims()),
            "not one of",
        )
        .await;
    }
    assert!(
        jwks.fetches.load(Ordering::SeqCst) - after_first <= 1,
        "no tight loop on unknown kids"
    );

    // The JWKS goes down: the cached key still verifies, and nothing hammers the endpoint.
    jwks.down.store(true, Ordering::SeqCst);
    let before = jwks.fetches.load(Ordering::SeqCst);
    for _ in 0..20 {
        auth.authenticate(&sign_rs(&keys, "gh-1", &github_claims()))
            .await
            .unwrap();
        let _ = auth
            .authenticate(&sign_rs(&keys, "gh-other", &github_claims()))
            .await;
    }
    assert!(
        jwks.fetches.load(Ordering::SeqCst) - before <= 1,
        "no retry storm while the JWKS is down"
    );
}

#[tokio::test]
async fn an_unreachable_jwks_refuses_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys(dir.path());
    let jwks = serve_jwks(&keys).await;
    jwks.down.store(true, Ordering::SeqCst);
    let auth = authenticator(&jwks);
    refused(
        &auth,
        &sign_rs(&keys, "gh-1", &github_claims()),
        "unavailable",
    )
    .await;
}
