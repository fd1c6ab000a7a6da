//! `gitops-mutator policy check`: the decision the service would make, explained, without a
//! server or a real token (claims are taken as given: this checks rules, not signatures).

use anyhow::{Context, bail};
use mutator_server::auth::{Identity, Principal};
use mutator_server::config::ConfigFile;
use mutator_server::policy::{Policy, Subject};
use serde_json::{Map, Value};

use crate::cli::PolicyCheckArgs;

/// Prints the decision; `Ok(true)` when allowed.
pub fn check(args: PolicyCheckArgs) -> anyhow::Result<bool> {
    let file = ConfigFile::load(&args.config)?;
    let claims: Map<String, Value> = read_json(&args.token_claims)?;
    let subject: Subject = read_json(&args.request)?;
    let principal = principal(&file, claims)?;
    let policy = Policy {
        rules: file.policy.clone(),
        open_for_embedded: false,
    };
    match policy.decide(&principal, &subject) {
        Ok(allowed) => {
            println!("allowed: {}", allowed.requested_by(&principal));
            Ok(true)
        }
        Err(reason) => {
            println!("denied: {reason}");
            Ok(false)
        }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not the expected JSON", path.display()))
}

fn principal(file: &ConfigFile, claims: Map<String, Value>) -> anyhow::Result<Principal> {
    if let Some(name) = claims.get("token").and_then(Value::as_str) {
        if !file.tokens.iter().any(|t| t.name == name) {
            bail!("no token named {name:?} in the configuration");
        }
        return Ok(Principal {
            identity: Identity::Token(name.to_owned()),
            subject: name.to_owned(),
            claims: Map::new(),
        });
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .context("the claims need `iss` (or `token` for a static token)")?;
    let issuer = file
        .issuers
        .iter()
        .find(|i| i.issuer == iss)
        .with_context(|| format!("no configured issuer has iss {iss:?}"))?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(Principal {
        identity: Identity::Issuer(issuer.name.clone()),
        subject,
        claims,
    })
}
