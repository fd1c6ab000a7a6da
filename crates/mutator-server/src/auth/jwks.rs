//! The signing keys of one issuer, fetched from its JWKS and cached.
//!
//! A key id we do not know triggers a refresh, but at most once per refresh interval, so a
//! flood of tokens with made-up `kid`s cannot make us hammer the issuer; and when the issuer is
//! down, keys fetched earlier keep working until they are older than the stale bound.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// `<issuer>/.well-known/openid-configuration`, whose `jwks_uri` names the key set.
    Discovery { issuer: String },
    /// A JWKS URL given in the configuration.
    Url(String),
}

#[derive(Debug, Clone, Copy)]
pub struct KeyPolicy {
    /// The shortest time between two fetches.
    pub refresh_interval: Duration,
    /// How long keys may be used after the last successful fetch.
    pub max_stale: Duration,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            refresh_interval: Duration::from_secs(60),
            max_stale: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no signing key {kid:?} is published by the issuer")]
    UnknownKid { kid: String },
    #[error("the issuer's signing keys could not be fetched: {0}")]
    Unavailable(String),
}

#[derive(Default)]
struct State {
    keys: HashMap<String, jsonwebtoken::jwk::Jwk>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    jwks_uri: Option<String>,
    last_error: Option<String>,
}

pub struct KeyStore {
    source: KeySource,
    policy: KeyPolicy,
    http: reqwest::Client,
    state: Mutex<State>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    pub fn new(source: KeySource, policy: KeyPolicy, http: reqwest::Client) -> Self {
        Self {
            source,
            policy,
            http,
            state: Mutex::new(State::default()),
        }
    }

    /// The key with id `kid`, refreshing the set once when it is unknown.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        // One lock for the whole look-up: concurrent requests for an unknown kid wait for one
        // fetch instead of starting one each.
        let mut state = self.state.lock().await;
        if let Some(key) = self.usable(&state, kid) {
            return key;
        }
        let may_fetch = state
            .last_attempt
            .is_none_or(|t| t.elapsed() >= self.policy.refresh_interval);
        if may_fetch {
            state.last_attempt = Some(Instant::now());
            match self.fetch(&mut state).await {
                Ok(keys) => {
                    state.keys = keys;
                    state.fetched_at = Some(Instant::now());
                    state.last_error = None;
                }
                Err(e) => {
                    tracing::warn!(source = ?self.source, error = %e, "fetching signing keys failed; using cached keys");
                    state.last_error = Some(e);
                }
            }
        }
        match self.usable(&state, kid) {
            Some(key) => key,
            None => match (&state.last_error, state.fetched_at) {
                (Some(e), None) => Err(KeyError::Unavailable(e.clone())),
                _ => Err(KeyError::UnknownKid {
                    kid: kid.to_owned(),
                }),
            },
        }
    }

    fn usable(&self, state: &State, kid: &str) -> Option<Result<DecodingKey, KeyError>> {
        let fresh = state
            .fetched_at
            .is_some_and(|t| t.elapsed() <= self.policy.max_stale);
        if !fresh {
            return None;
        }
        state.keys.get(kid).map(|jwk| {
            DecodingKey::from_jwk(jwk)
                .map_err(|e| KeyError::Unavailable(format!("key {kid:?} is not usable: {e}")))
        })
    }

    async fn fetch(
        &self,
        state: &mut State,
    ) -> Result<HashMap<String, jsonwebtoken::jwk::Jwk>, String> {
        let url = match (&self.source, &state.jwks_uri) {
            (KeySource::Url(url), _) => url.clone(),
            (KeySource::Discovery { .. }, Some(known)) => known.clone(),
            (KeySource::Discovery { issuer }, None) => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let doc: serde_json::Value = self.get_json(&discovery).await?;
                let uri = doc
                    .get("jwks_uri")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| format!("{discovery} names no jwks_uri"))?
                    .to_owned();
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let set: JwkSet = self.get_json(&url).await?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|k| k.common.key_id.clone().map(|kid| (kid, k)))
            .collect())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", response.status()));
        }
        response.json().await.map_err(|e| format!("GET {url}: {e}"))
    }
}
