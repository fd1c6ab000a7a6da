//! Turns the request's `values` into a kind's typed values, naming the offending field on
//! failure. Serde reports missing and unknown fields at the enclosing object, so those
//! messages are rewritten to point at the field itself.

use serde::de::DeserializeOwned;
use serde_path_to_error::{Path, Segment};

use crate::error::FieldError;

/// Where `values` sits in a request body; every field path starts with it.
const ROOT: &str = "values";

/// Parses `values` into `T`, or says which field is wrong and why.
pub fn parse<T: DeserializeOwned>(values: &serde_json::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(values).map_err(|err| {
        let path = field_path(err.path());
        let message = err.inner().to_string();
        describe(path, &message)
    })
}

/// `values.image.tag`, `values.environments[1]`.
pub fn field_path(path: &Path) -> String {
    let mut out = String::from(ROOT);
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                out.push('.');
                out.push_str(variant);
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

fn describe(path: String, message: &str) -> FieldError {
    if let Some(field) = backticked_after(message, "missing field ") {
        return FieldError::new(format!("{path}.{field}"), "this field is required");
    }
    if let Some(field) = backticked_after(message, "unknown field ") {
        // The path already ends at the unknown key when serde_path_to_error saw it.
        let at = if path.ends_with(&format!(".{field}")) {
            path
        } else {
            format!("{path}.{field}")
        };
        let expected = message
            .split_once(", expected ")
            .map(|(_, rest)| format!("; expected {rest}"))
            .unwrap_or_default();
        return FieldError::new(at, format!("unknown field{expected}"));
    }
    FieldError::new(path, message.to_owned())
}

/// `foo` from "missing field `foo`".
fn backticked_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(field, _)| field)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Outer {
        #[allow(dead_code)]
        inner: Inner,
        #[allow(dead_code)]
        #[serde(default)]
        list: Vec<u8>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Inner {
        #[allow(dead_code)]
        some_field: String,
    }

    #[test]
    fn names_missing_unknown_and_invalid_fields() {
        let err = parse::<Outer>(&json!({"inner": {}})).unwrap_err();
        assert_eq!(err.field, "values.inner.someField");
        assert_eq!(err.message, "this field is required");

        let err = parse::<Outer>(&json!({"inner": {"someField": "x", "typo": 1}})).unwrap_err();
        assert_eq!(err.field, "values.inner.typo");
        assert!(
            err.message.starts_with("unknown field; expected"),
            "{}",
            err.message
        );
        assert!(err.message.contains("someField"), "{}", err.message);

        let err =
            parse::<Outer>(&json!({"inner": {"someField": "x"}, "list": [1, "a"]})).unwrap_err();
        assert_eq!(err.field, "values.list[1]");
        assert!(err.message.contains("invalid type"), "{}", err.message);

        let err = parse::<Outer>(&json!(null)).unwrap_err();
        assert_eq!(err.field, "values");
    }
}
