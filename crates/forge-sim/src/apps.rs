//! GitHub Apps: JWT verification, installation look-up and installation access tokens
//! (forge-facts §E).
//!
//! The JWT rules are checked one by one, after the signature, so a backend bug (an `exp` too
//! far ahead, an `iat` in the future, HS256 instead of RS256) gets its own GitHub-like message.

use std::collections::{BTreeMap, BTreeSet};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Caller, IssuedToken};
use crate::error::{ApiError, SimError, json_response};
use crate::git_store::Person;
use crate::server::AppState;
use crate::state::{SimState, repo_key};

const DOC_APPS: &str = "https://docs.github.com/rest/apps/apps";
const DOC_JWT: &str = "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app";

/// GitHub's limit on `exp - iat` for app JWTs.
const MAX_JWT_LIFETIME: i64 = 600;
/// How far `iat` may lie in the future (clock drift GitHub tolerates).
const IAT_FUTURE_LEEWAY: i64 = 60;

pub(crate) struct App {
    pub(crate) app_id: u64,
    pub(crate) client_id: String,
    key: DecodingKey,
    /// installation id -> lower-case `owner/name` keys.
    pub(crate) installations: BTreeMap<u64, BTreeSet<String>>,
    pub(crate) bot: Person,
}

#[derive(Default)]
pub(crate) struct Apps {
    apps: BTreeMap<u64, App>,
    pub(crate) claims_seen: Vec<Value>,
}

impl Apps {
    pub(crate) fn add(
        &mut self,
        app_id: u64,
        client_id: &str,
        public_key_pem: &str,
        installations: &[(u64, &str)],
    ) -> Result<(), SimError> {
        let key = DecodingKey::from_rsa_pem(public_key_pem.as_bytes())
            .map_err(|e| SimError::Invalid(format!("public key of app {app_id}: {e}")))?;
        let mut map: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for (id, full_name) in installations {
            let Some((owner, name)) = full_name.split_once('/') else {
                return Err(SimError::Invalid(format!(
                    "installation repository {full_name:?} is not owner/name"
                )));
            };
            map.entry(*id).or_default().insert(repo_key(owner, name));
        }
        self.apps.insert(
            app_id,
            App {
                app_id,
                client_id: client_id.to_owned(),
                key,
                installations: map,
                bot: Person::new("sim-bot", "bot@sim.invalid"),
            },
        );
        Ok(())
    }

    fn find_by_issuer(&self, iss: &Value) -> Option<&App> {
        let as_text = match iss {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        self.apps.values().find(|a| {
            a.app_id.to_string() == as_text || (!a.client_id.is_empty() && a.client_id == as_text)
        })
    }
}

fn jwt_error(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message, DOC_JWT)
}

fn undecodable() -> ApiError {
    jwt_error("A JSON web token could not be decoded")
}

/// The claims of a JWT without verifying it (recorded for tests, and to find the issuer).
fn peek_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn numeric_claim(claims: &Value, name: &str) -> Option<i64> {
    match claims.get(name)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

/// Verifies an app JWT and returns the app id it authenticates.
pub(crate) fn verify_app_jwt(state: &SimState, token: &str, now: i64) -> Result<u64, ApiError> {
    let mut apps = state.apps();
    let claims = peek_claims(token).ok_or_else(undecodable)?;
    apps.claims_seen.push(claims.clone());

    let header = jsonwebtoken::decode_header(token).map_err(|_| undecodable())?;
    if header.alg != Algorithm::RS256 {
        return Err(undecodable());
    }
    let iss = claims
        .get("iss")
        .ok_or_else(|| jwt_error("'Issuer' claim ('iss') must be an Integer or the client ID"))?;
    let app = apps
        .find_by_issuer(iss)
        .ok_or_else(|| jwt_error("Integration not found"))?;

    // Signature only: the time claims are checked below with GitHub's own rules and wording.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &app.key, &validation).map_err(|_| undecodable())?;

    let iat = numeric_claim(&claims, "iat").ok_or_else(|| {
        jwt_error("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
    })?;
    let exp = numeric_claim(&claims, "exp").ok_or_else(|| {
        jwt_error("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
    })?;
    if iat > now + IAT_FUTURE_LEEWAY {
        return Err(jwt_error(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    if exp - iat > MAX_JWT_LIFETIME {
        return Err(jwt_error(
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    if exp <= now {
        return Err(jwt_error(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    Ok(app.app_id)
}

fn require_app(caller: &Caller) -> Result<u64, ApiError> {
    match caller {
        Caller::App { app_id } => Ok(*app_id),
        // GitHub answers this when an installation or user token hits an app-JWT endpoint.
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
            DOC_JWT,
        )),
    }
}

fn installation_json(base: &str, app_id: u64, installation_id: u64, account: &str) -> Value {
    json!({
        "id": installation_id,
        "app_id": app_id,
        "account": { "login": account, "type": "Organization" },
        "target_type": "Organization",
        "repository_selection": "selected",
        "access_tokens_url": format!("{base}/app/installations/{installation_id}/access_tokens"),
        "repositories_url": format!("{base}/installation/repositories"),
        "permissions": { "contents": "write", "pull_requests": "write", "metadata": "read" },
        "events": [],
    })
}

/// `GET /repos/{owner}/{repo}/installation` with an app JWT.
pub(crate) async fn repo_installation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let app_id = require_app(&caller)?;
    let key = repo_key(&owner, &repo);
    let found = {
        let apps = state.apps();
        apps.apps.get(&app_id).and_then(|app| {
            app.installations
                .iter()
                .find(|(_, repos)| repos.contains(&key))
                .map(|(id, _)| *id)
        })
    };
    let installation_id = found.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found", "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app")
    })?;
    let account = state.repo(&owner, &repo).map_or(owner, |e| e.owner.clone());
    Ok(json_response(
        StatusCode::OK,
        &installation_json(&state.base_url(), app_id, installation_id, &account),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct AccessTokenRequest {
    #[serde(default)]
    repositories: Option<Vec<String>>,
    #[serde(default)]
    permissions: Option<Value>,
}

/// `POST /app/installations/{installation_id}/access_tokens` with an app JWT.
pub(crate) async fn create_access_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(installation_id): Path<u64>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app_id = require_app(&caller)?;
    let request: AccessTokenRequest = if body.iter().all(u8::is_ascii_whitespace) {
        AccessTokenRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::from_json_error(&e, DOC_APPS))?
    };
    let (all_repos, bot) = {
        let apps = state.apps();
        let app = apps.apps.get(&app_id).ok_or_else(ApiError::not_found)?;
        let repos = app
            .installations
            .get(&installation_id)
            .ok_or_else(ApiError::not_found)?
            .clone();
        (repos, app.bot.clone())
    };
    // A token may be narrowed to some of the installation's repositories, never widened.
    let repos = match &request.repositories {
        None => all_repos,
        Some(names) => {
            let mut narrowed = BTreeSet::new();
            for name in names {
                let found = all_repos
                    .iter()
                    .find(|k| k.rsplit('/').next() == Some(name.to_ascii_lowercase().as_str()));
                match found {
                    Some(k) => {
                        narrowed.insert(k.clone());
                    }
                    None => {
                        return Err(ApiError::unprocessable(
                            "There is at least one repository that does not exist or is not accessible to the parent installation.",
                            DOC_APPS,
                        ));
                    }
                }
            }
            narrowed
        }
    };
    let now = crate::clock::now_epoch();
    let token = crate::ids::installation_token();
    let (expires_at, repo_names) = {
        let mut tokens = state.tokens();
        let ttl = i64::try_from(tokens.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let expires_at = now.saturating_add(ttl);
        tokens.issued_count += 1;
        let seq = tokens.issued_count;
        let repo_names: Vec<String> = repos.iter().cloned().collect();
        tokens.issued.insert(
            token.clone(),
            IssuedToken {
                installation_id,
                repos,
                expires_at,
                seq,
                bot,
            },
        );
        (expires_at, repo_names)
    };
    let base = state.base_url();
    let mut body = json!({
        "token": token,
        "expires_at": crate::clock::rfc3339(expires_at),
        "permissions": request.permissions.unwrap_or_else(|| json!({ "contents": "write", "pull_requests": "write", "metadata": "read" })),
        "repository_selection": "selected",
    });
    if request.repositories.is_some() {
        body["repositories"] = Value::Array(
            repo_names
                .iter()
                .map(|k| json!({ "full_name": k, "url": format!("{base}/repos/{k}") }))
                .collect(),
        );
    }
    Ok(json_response(StatusCode::CREATED, &body))
}
