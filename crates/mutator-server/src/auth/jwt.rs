//! Verifying a JWT from a configured issuer (GitHub Actions, GitLab CI, Backstage).

use std::collections::HashSet;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::jwks::{KeyError, KeyStore};

/// One trusted issuer.
#[derive(Debug)]
pub struct Issuer {
    /// The name rules refer to (`github-actions`).
    pub name: String,
    /// The exact `iss` claim.
    pub issuer: String,
    pub audience: Vec<String>,
    /// Asymmetric algorithms only: an HMAC algorithm would let anyone holding the public key
    /// sign tokens (algorithm confusion), and `none` would need no key at all.
    pub algorithms: Vec<Algorithm>,
    pub leeway_secs: u64,
    pub keys: KeyStore,
}

/// The algorithms an issuer may be configured with.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    match name {
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        other => Err(format!(
            "algorithm {other:?} is not allowed: use RS256, RS384, RS512, PS256, ES256 or ES384"
        )),
    }
}

impl Issuer {
    /// The verified claims of `token`, or why it was refused.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            "the token header is not valid or names an unsupported algorithm".to_owned()
        })?;
        if !self.algorithms.contains(&header.alg) {
            return Err(format!(
                "algorithm {:?} is not accepted for issuer {}",
                header.alg, self.name
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| "the token names no signing key (kid)".to_owned())?;
        let key = self.keys.key(&kid).await.map_err(|e| match e {
            KeyError::UnknownKid { .. } => format!(
                "the signing key {kid:?} is not one of issuer {}'s keys",
                self.name
            ),
            KeyError::Unavailable(why) => {
                format!("issuer {}'s keys are unavailable: {why}", self.name)
            }
        })?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audience);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        validation.required_spec_claims =
            HashSet::from(["exp".to_owned(), "iss".to_owned(), "aud".to_owned()]);
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
                    ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
                    ErrorKind::InvalidIssuer => {
                        format!("the token was not issued by {}", self.issuer)
                    }
                    ErrorKind::InvalidAudience => {
                        format!("the token's audience is not {}", self.audience.join(" or "))
                    }
                    ErrorKind::InvalidSignature => {
                        "the token's signature does not verify".to_owned()
                    }
                    ErrorKind::InvalidAlgorithm => {
                        "the token's algorithm does not match its key".to_owned()
                    }
                    ErrorKind::MissingRequiredClaim(c) => format!("the token has no {c} claim"),
                    _ => "the token is not a valid JWT".to_owned(),
                }
            })?;
        let claims = data.claims;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some(iat) = claims.get("iat").and_then(Value::as_u64)
            && iat > now + self.leeway_secs
        {
            return Err("the token was issued in the future (iat)".to_owned());
        }
        Ok(claims)
    }
}
