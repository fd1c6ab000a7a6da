//! Request extractors that turn bad input into problem documents naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use mutator_core::MutationId;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body parsed into `T`; errors name the offending field (unknown fields too).
pub struct ApiJson<T> {
    pub body: T,
    /// SHA-256 (hex) of the body in canonical form (sorted keys, no spaces): what an
    /// Idempotency-Key is bound to.
    pub digest: String,
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(Problem::unsupported_media(format!(
                    "send the body as application/json, not {essence:?}"
                )));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Problem::too_large(format!("request bodies are limited to {BODY_LIMIT} bytes"))
            } else {
                Problem::invalid(format!("cannot read the request body: {e}"), Vec::new())
            }
        })?;
        let (body, digest) = parse_json(&bytes)?;
        Ok(ApiJson { body, digest })
    }
}

/// Parses JSON, naming the field path of the first error; returns the canonical digest too.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, String), Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::invalid(
            "the request body is empty; send a JSON object",
            Vec::new(),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Problem::invalid(format!("the body is not valid JSON: {e}"), Vec::new()))?;
    let digest = hex::encode(Sha256::digest(canonical(&value).as_bytes()));
    let body = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = strip_position(&e.into_inner().to_string());
        if path == "." {
            Problem::invalid(
                format!("the body is not a valid request: {message}"),
                Vec::new(),
            )
        } else {
            Problem::invalid_field(&path, message)
        }
    })?;
    Ok((body, digest))
}

/// JSON with object keys sorted at every level, so that key order does not change the digest.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// serde_json appends " at line L column C", which means little once the field is named.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The `Idempotency-Key` header, checked.
pub struct IdempotencyKey(pub Option<MutationId>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let text = raw.to_str().map_err(|_| key_problem())?;
        MutationId::parse(text)
            .map(|k| Self(Some(k)))
            .map_err(|_| key_problem())
    }
}

fn key_problem() -> Problem {
    Problem::invalid_field("Idempotency-Key", "use 1 to 255 printable ASCII characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Req {
        image: Image,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Image {
        tag: mutator_core::ImageTag,
    }

    #[test]
    fn names_the_field() {
        let p = parse_json::<Req>(br#"{"image":{"tag":"a\nb"}}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "image.tag");
        let p = parse_json::<Req>(br#"{"image":{"tag":"1","tagg":"2"}}"#).unwrap_err();
        assert_eq!(p.errors[0].field, "image.tagg");
        assert!(p.detail.contains("unknown field"), "{}", p.detail);
        let p = parse_json::<Req>(b"{").unwrap_err();
        assert!(p.errors.is_empty());
        assert!(parse_json::<Req>(br#"{"image":{"tag":"1"}} x"#).is_err());
        assert!(parse_json::<Req>(br#"{"image":{"tag":"1"}}"#).is_ok());
    }

    #[test]
    fn digest_ignores_key_order_and_spacing() {
        let (_, a) =
            parse_json::<serde_json::Value>(br#"{"a":1,"b":{"c":[1,2],"d":"x"}}"#).unwrap();
        let (_, b) =
            parse_json::<serde_json::Value>(br#"{ "b": {"d":"x", "c":[1, 2]}, "a": 1 }"#).unwrap();
        let (_, c) =
            parse_json::<serde_json::Value>(br#"{"a":2,"b":{"c":[1,2],"d":"x"}}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
