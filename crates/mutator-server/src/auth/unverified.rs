//! Reading a JWT's claims *before* its signature is checked, for one purpose only: choosing
//! which issuer's keys and rules verify it. Nothing read here is trusted; every claim is read
//! again from the verified token.

use base64::Engine;

/// The largest token accepted. Real CI tokens are 1 to 3 KB; a larger one is refused before
/// any decoding work.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The `iss` claim of a token that has not been verified yet.
pub fn peek_issuer(token: &str) -> Result<String, String> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(format!("the token is larger than {MAX_TOKEN_BYTES} bytes"));
    }
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a JWT (three base64url parts separated by dots)".to_owned());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the token's claims are not base64url".to_owned())?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| "the token's claims are not JSON".to_owned())?;
    claims
        .get("iss")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "the token has no issuer (iss)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn reads_iss_only_from_well_formed_tokens() {
        let t = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"iss":"https://x"}"#)
        );
        assert_eq!(peek_issuer(&t).unwrap(), "https://x");
        assert!(peek_issuer("a.b").is_err());
        assert!(peek_issuer("a.b.c.d").is_err());
        assert!(peek_issuer(&format!("{}.{}.s", b64("{}"), b64("{}"))).is_err());
        assert!(peek_issuer(&"a".repeat(MAX_TOKEN_BYTES + 1)).is_err());
    }
}
