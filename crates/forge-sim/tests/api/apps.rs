use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const APP_ID: u64 = 4242;
const CLIENT_ID: &str = "Iv23liSimClient";
const INSTALLATION: u64 = 777;

fn app_env() -> Env {
    let env = env();
    env.sim.create_repo(OWNER, "elsewhere", "main").unwrap();
    let (_, public) = rsa_keys();
    env.sim
        .add_app(APP_ID, CLIENT_ID, public, &[(INSTALLATION, "acme/gitops")])
        .unwrap();
    env
}

fn app_jwt(claims: &Value) -> String {
    jwt(&rsa_keys().0, claims)
}

fn issue_token(env: &Env) -> String {
    let r = env.call_as(
        Some(&app_jwt(&app_claims(json!(APP_ID)))),
        Method::POST,
        &format!("/app/installations/{INSTALLATION}/access_tokens"),
        None,
    );
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()["token"].as_str().unwrap().to_owned()
}

#[test]
fn app_flow_installation_token_and_signed_commit() {
    let env = app_env();
    let token = app_jwt(&app_claims(json!(APP_ID)));

    let r = env.call_as(
        Some(&token),
        Method::GET,
        "/repos/acme/gitops/installation",
        None,
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], INSTALLATION);
    assert_eq!(r.json()["app_id"], APP_ID);

    let r = env.call_as(
        Some(&token),
        Method::GET,
        "/repos/acme/elsewhere/installation",
        None,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = env.call_as(
        Some(&token),
        Method::POST,
        &format!("/app/installations/{INSTALLATION}/access_tokens"),
        None,
    );
    assert_eq!(r.status, StatusCode::CREATED);
    let body = r.json();
    let ghs = body["token"].as_str().unwrap().to_owned();
    assert!(ghs.starts_with("ghs_") && ghs.len() == 40, "{ghs}");
    let expires = body["expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");
    assert_eq!(env.sim.installation_tokens_issued(), 1);

    // The installation token commits, and its commits are signed ("Verified").
    let head = env.head("main");
    let body = env
        .commit_as(&ghs, "main", &head, &[("signed.txt", b"s")], &[])
        .json();
    let commit = &body["data"]["createCommitOnBranch"]["commit"];
    assert_eq!(commit["signature"]["isValid"], true, "{body}");
    assert_eq!(commit["signature"]["state"], "VALID");
    let oid = commit["oid"].as_str().unwrap();
    let v = env
        .call_as(
            Some(&ghs),
            Method::GET,
            &format!("/repos/acme/gitops/git/commits/{oid}"),
            None,
        )
        .json();
    assert_eq!(v["verification"]["verified"], true);
    assert_eq!(v["verification"]["reason"], "valid");
    assert!(
        v["verification"]["signature"]
            .as_str()
            .unwrap()
            .contains("BEGIN PGP SIGNATURE")
    );
    assert_eq!(v["author"]["name"], "sim-bot");
    assert_eq!(v["author"]["email"], "bot@sim.invalid");
    assert_eq!(v["committer"]["name"], "GitHub");

    // The token sees only its installation's repositories.
    let r = env.call_as(
        Some(&ghs),
        Method::GET,
        "/repos/acme/elsewhere/git/ref/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let claims = env.sim.jwt_claims_seen();
    assert_eq!(claims.len(), 3);
    assert_eq!(claims[0]["iss"], APP_ID);
    let stats = env.sim.stats();
    assert!(
        stats.by_credential.contains_key("installation:777#1"),
        "{stats:?}"
    );
    assert!(stats.by_credential.contains_key("app:4242"));
}

#[test]
fn issuer_may_be_the_client_id_or_the_app_id_as_text() {
    let env = app_env();
    for iss in [json!(CLIENT_ID), json!(APP_ID.to_string())] {
        let r = env.call_as(
            Some(&app_jwt(&app_claims(iss.clone()))),
            Method::GET,
            "/repos/acme/gitops/installation",
            None,
        );
        assert_eq!(r.status, StatusCode::OK, "iss {iss}");
    }
}

#[test]
fn bad_jwts_are_401_with_githubs_messages() {
    let env = app_env();
    let now = now();
    let cases: Vec<(String, &str)> = vec![
        (
            app_jwt(&json!({ "iat": now - 60, "exp": now + 700, "iss": APP_ID })),
            "'Expiration time' claim ('exp') is too far in the future",
        ),
        (
            app_jwt(&json!({ "iat": now - 700, "exp": now - 100, "iss": APP_ID })),
            "'Expiration time' claim ('exp') must be a numeric value",
        ),
        (
            app_jwt(&json!({ "iat": now + 300, "exp": now + 600, "iss": APP_ID })),
            "'Issued at' claim ('iat')",
        ),
        (
            app_jwt(&json!({ "iat": now - 60, "iss": APP_ID })),
            "'Expiration time' claim ('exp')",
        ),
        (
            jwt(&other_rsa_keys().0, &app_claims(json!(APP_ID))),
            "A JSON web token could not be decoded",
        ),
        (app_jwt(&app_claims(json!(999))), "Integration not found"),
        (
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &app_claims(json!(APP_ID)),
                &jsonwebtoken::EncodingKey::from_secret(b"secret"),
            )
            .unwrap(),
            "A JSON web token could not be decoded",
        ),
        (
            "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln".to_owned(),
            "A JSON web token could not be decoded",
        ),
    ];
    for (token, message) in &cases {
        let r = env.call_as(
            Some(token),
            Method::GET,
            "/repos/acme/gitops/installation",
            None,
        );
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{message}");
        assert!(
            r.message().starts_with(message),
            "want {message:?}, got {:?}",
            r.message()
        );
    }
    assert_eq!(env.sim.installation_tokens_issued(), 0);
    // Every decodable JWT was recorded, rejected or not.
    assert_eq!(env.sim.jwt_claims_seen().len(), cases.len() - 1);
}

#[test]
fn app_endpoints_need_a_jwt_and_repo_endpoints_refuse_one() {
    let env = app_env();
    let r = env.call(
        Method::POST,
        &format!("/app/installations/{INSTALLATION}/access_tokens"),
        None,
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.message(), "A JSON web token could not be decoded");

    let jwt = app_jwt(&app_claims(json!(APP_ID)));
    let r = env.call_as(
        Some(&jwt),
        Method::GET,
        "/repos/acme/gitops/git/ref/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = env.call_as(
        Some(&jwt),
        Method::POST,
        "/app/installations/1/access_tokens",
        None,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[test]
fn installation_tokens_expire_after_the_ttl() {
    let env = app_env();
    env.sim.set_installation_token_ttl(Duration::from_secs(0));
    let ghs = issue_token(&env);
    let r = env.call_as(
        Some(&ghs),
        Method::GET,
        "/repos/acme/gitops/git/ref/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.message(), "Bad credentials");

    env.sim
        .set_installation_token_ttl(Duration::from_secs(3600));
    let ghs = issue_token(&env);
    let r = env.call_as(
        Some(&ghs),
        Method::GET,
        "/repos/acme/gitops/git/ref/heads/main",
        None,
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(env.sim.installation_tokens_issued(), 2);
}

#[test]
fn access_tokens_may_be_narrowed_not_widened() {
    let env = app_env();
    let jwt = app_jwt(&app_claims(json!(APP_ID)));
    let path = format!("/app/installations/{INSTALLATION}/access_tokens");
    let r = env.call_as(
        Some(&jwt),
        Method::POST,
        &path,
        Some(json!({ "repositories": ["gitops"] })),
    );
    assert_eq!(r.status, StatusCode::CREATED);
    let r = env.call_as(
        Some(&jwt),
        Method::POST,
        &path,
        Some(json!({ "repositories": ["elsewhere"] })),
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
