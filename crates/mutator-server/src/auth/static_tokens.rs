//! Static bearer tokens: the embedded default's one, and named ones from the configuration,
//! stored only as SHA-256 digests and compared in constant time.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Identity, Principal};

/// The embedded default's token, kept as a digest so that comparing does not depend on the
/// token's length or on where a guess first differs.
#[derive(Clone)]
pub struct TokenAuth {
    digest: [u8; 32],
}

impl std::fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenAuth(<redacted>)")
    }
}

impl TokenAuth {
    pub fn new(token: &str) -> Self {
        Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    pub fn check(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(digest.ct_eq(&self.digest))
    }
}

/// A named token from `tokens:`.
#[derive(Debug, Clone)]
pub struct StaticToken {
    pub name: String,
    pub sha256: [u8; 32],
    pub expires: Option<DateTime<Utc>>,
}

/// The principal for a presented static token.
pub fn check(tokens: &[StaticToken], presented: &str) -> Result<Principal, String> {
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    // Compare with every entry, so timing does not tell which entry came close.
    let mut found: Option<&StaticToken> = None;
    for t in tokens {
        if bool::from(digest.ct_eq(&t.sha256)) {
            found = Some(t);
        }
    }
    let token = found.ok_or_else(|| "the bearer token is not valid".to_owned())?;
    if token.expires.is_some_and(|e| e <= Utc::now()) {
        return Err(format!("token {:?} has expired", token.name));
    }
    Ok(Principal {
        identity: Identity::Token(token.name.clone()),
        subject: token.name.clone(),
        claims: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, secret: &str, expires: Option<&str>) -> StaticToken {
        StaticToken {
            name: name.into(),
            sha256: Sha256::digest(secret.as_bytes()).into(),
            expires: expires.map(|e| e.parse().unwrap()),
        }
    }

    #[test]
    fn embedded_token() {
        let a = TokenAuth::new("s3cret");
        assert!(a.check("s3cret"));
        assert!(!a.check("s3cre"));
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn named_tokens_and_expiry() {
        let tokens = [
            token("backstage", "b", None),
            token("old", "o", Some("2020-01-01T00:00:00Z")),
        ];
        let p = check(&tokens, "b").unwrap();
        assert_eq!(p.identity, Identity::Token("backstage".into()));
        assert_eq!(p.to_string(), "token:backstage");
        assert!(check(&tokens, "o").unwrap_err().contains("expired"));
        assert!(check(&tokens, "x").is_err());
    }
}
