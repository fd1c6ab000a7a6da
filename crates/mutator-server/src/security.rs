//! Builds the authenticator and the policy from the configuration file.

use std::time::Duration;

use crate::auth::{
    Authenticator, Issuer, KeyPolicy, KeySource, KeyStore, StaticToken, TokenAuth, parse_algorithm,
};
use crate::config::{ConfigError, ConfigFile};
use crate::policy::Policy;

/// With no issuers, tokens and policy, the embedded token may do everything (the README's first
/// command needs no identity provider). Once any of them is configured, the embedded token is
/// off and the policy decides.
pub fn build(
    file: &ConfigFile,
    embedded_token: &str,
    origin: &str,
) -> Result<(Authenticator, Policy), ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: origin.to_owned(),
        message,
    };
    let secured = !file.issuers.is_empty() || !file.tokens.is_empty() || !file.policy.is_empty();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| invalid(format!("cannot build the HTTP client for JWKS: {e}")))?;
    let mut issuers = Vec::new();
    for (i, f) in file.issuers.iter().enumerate() {
        let at = format!("at `issuers[{i}]`");
        if issuers.iter().any(|x: &Issuer| x.name == f.name) {
            return Err(invalid(format!(
                "{at}: issuer name {:?} is used twice",
                f.name
            )));
        }
        let algorithms = f
            .algorithms
            .clone()
            .unwrap_or_else(|| vec!["RS256".to_owned()])
            .iter()
            .map(|a| parse_algorithm(a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("{at}.algorithms: {e}")))?;
        let source = match &f.jwks_url {
            Some(url) => KeySource::Url(url.clone()),
            None => KeySource::Discovery {
                issuer: f.issuer.clone(),
            },
        };
        let policy = KeyPolicy {
            refresh_interval: Duration::from_secs(f.jwks_refresh_seconds.unwrap_or(60)),
            ..KeyPolicy::default()
        };
        let audience = f.audience.to_vec();
        if audience.is_empty() {
            return Err(invalid(format!(
                "{at}.audience: give at least one audience"
            )));
        }
        issuers.push(Issuer {
            name: f.name.clone(),
            issuer: f.issuer.clone(),
            audience,
            algorithms,
            leeway_secs: f.leeway_seconds.unwrap_or(60),
            keys: KeyStore::new(source, policy, http.clone()),
        });
    }
    let mut tokens = Vec::new();
    for (i, t) in file.tokens.iter().enumerate() {
        let bytes = hex::decode(&t.sha256)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "at `tokens[{i}].sha256`: give the token's SHA-256 as 64 hex digits"
                ))
            })?;
        tokens.push(StaticToken {
            name: t.name.clone(),
            sha256: bytes,
            expires: t.expires,
        });
    }
    for (i, rule) in file.policy.iter().enumerate() {
        let at = format!("at `policy[{i}]` ({:?})", rule.name);
        match (&rule.issuer, &rule.token) {
            (Some(name), None) if !issuers.iter().any(|x| &x.name == name) => {
                return Err(invalid(format!("{at}: no issuer is named {name:?}")));
            }
            (None, Some(name)) if !tokens.iter().any(|x| &x.name == name) => {
                return Err(invalid(format!("{at}: no token is named {name:?}")));
            }
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(format!(
                    "{at}: give exactly one of issuer or token"
                )));
            }
            _ => {}
        }
        if rule.allow.actions.is_empty() {
            return Err(invalid(format!(
                "{at}: allow.actions is empty, so the rule allows nothing"
            )));
        }
    }
    if secured && file.policy.is_empty() {
        tracing::warn!(
            "issuers or tokens are configured but no policy: every request will be refused"
        );
    }
    let auth = Authenticator {
        embedded: (!secured).then(|| TokenAuth::new(embedded_token)),
        tokens,
        issuers,
    };
    Ok((
        auth,
        Policy {
            rules: file.policy.clone(),
            open_for_embedded: !secured,
        },
    ))
}
