//! Who is calling. For now one static bearer token (the embedded default); later issues add
//! OIDC issuers and a policy beside it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::Problem;

/// The caller, as recorded in the `Gitops-Requested-By` trailer and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);

/// The accepted bearer token, kept only as a digest so that comparison time does not depend
/// on the token's length or on where a guess first differs.
#[derive(Clone)]
pub struct TokenAuth {
    digest: [u8; 32],
    principal: String,
}

impl std::fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuth")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl TokenAuth {
    pub fn new(token: &str, principal: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
            principal: principal.to_owned(),
        }
    }

    /// The principal for a presented token, if it is the right one.
    pub fn check(&self, presented: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(digest.ct_eq(&self.digest)).then(|| Principal(self.principal.clone()))
    }
}

/// Middleware: refuses requests without the right `Authorization: Bearer` token.
pub async fn require_token(
    State(auth): State<Arc<TokenAuth>>,
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
    let Some(principal) = auth.check(presented) else {
        return Err(Problem::unauthorized("the bearer token is not valid"));
    };
    tracing::debug!(principal = %principal.0, "authenticated");
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_tokens() {
        let a = TokenAuth::new("s3cret", "token:embedded");
        assert_eq!(a.check("s3cret"), Some(Principal("token:embedded".into())));
        assert_eq!(a.check("s3cre"), None);
        assert_eq!(a.check(""), None);
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
