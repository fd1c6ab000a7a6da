//! Who is calling: the embedded default's single token, named static tokens (stored as
//! SHA-256), or a JWT from a configured issuer (GitHub Actions and GitLab CI OIDC tokens,
//! Backstage). What a caller may do is the policy's business (`crate::policy`); this module
//! only establishes identity, and errors map to 401 with the reason.

mod jwks;
mod jwt;
mod static_tokens;
mod unverified;

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};

pub use jwks::{KeyPolicy, KeySource, KeyStore};
pub use jwt::{Issuer, parse_algorithm};
pub use static_tokens::{StaticToken, TokenAuth};

use crate::problem::Problem;

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The embedded default's token: may do everything when no policy is configured.
    Embedded,
    /// A named static token from `tokens:`.
    Token(String),
    /// A JWT from the issuer with this name.
    Issuer(String),
}

/// The caller, as the policy sees it and as the `Gitops-Requested-By` trailer names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub identity: Identity,
    /// `sub` of a JWT, or the token's name.
    pub subject: String,
    /// The verified claims of a JWT (empty for tokens).
    pub claims: Map<String, Value>,
}

impl Principal {
    pub fn embedded() -> Self {
        Self {
            identity: Identity::Embedded,
            subject: "embedded".to_owned(),
            claims: Map::new(),
        }
    }

    /// A claim as the policy compares it: strings as they are, booleans and numbers as text
    /// (GitLab sends `"true"`, GitHub `true`).
    pub fn claim(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.identity {
            Identity::Embedded => f.write_str("token:embedded"),
            Identity::Token(name) => write!(f, "token:{name}"),
            Identity::Issuer(name) => write!(f, "{name}:{}", self.subject),
        }
    }
}

/// Checks bearer credentials against everything configured.
#[derive(Debug)]
pub struct Authenticator {
    /// The embedded default's token, accepted only when no tokens or issuers are configured.
    pub embedded: Option<TokenAuth>,
    pub tokens: Vec<StaticToken>,
    pub issuers: Vec<Issuer>,
}

impl Authenticator {
    /// The principal for a bearer credential, or why it was refused.
    pub async fn authenticate(&self, presented: &str) -> Result<Principal, String> {
        if presented.matches('.').count() == 2 && !self.issuers.is_empty() {
            let iss = unverified::peek_issuer(presented)?;
            let issuer = self
                .issuers
                .iter()
                .find(|i| i.issuer == iss)
                .ok_or_else(|| format!("tokens from issuer {iss} are not accepted"))?;
            let claims = issuer.verify(presented).await?;
            let subject = claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            return Ok(Principal {
                identity: Identity::Issuer(issuer.name.clone()),
                subject,
                claims,
            });
        }
        if presented.len() > unverified::MAX_TOKEN_BYTES {
            return Err("the token is too large".to_owned());
        }
        if let Some(embedded) = &self.embedded
            && embedded.check(presented)
        {
            return Ok(Principal::embedded());
        }
        static_tokens::check(&self.tokens, presented)
    }
}

/// Middleware: refuses requests without valid credentials, with the reason.
pub async fn require_token(
    State(auth): State<Arc<Authenticator>>,
    mut req: Request,
    next: Next,
) -> Result<Response, Problem> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(presented) = presented else {
        return Err(Problem::unauthorized(
            "send `Authorization: Bearer <token>`",
        ));
    };
    let principal = match auth.authenticate(presented).await {
        Ok(p) => p,
        Err(reason) => {
            tracing::info!(reason = %reason, "authentication refused");
            return Err(Problem::unauthorized(reason));
        }
    };
    tracing::info!(principal = %principal, "authenticated");
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}
