//! A small validator for Kubernetes structural schemas (a CRD's `openAPIV3Schema`), strict
//! where the API server is lenient: an unknown field is an error, not silently pruned, so a
//! typo in a template fails the test instead of vanishing in the cluster.
//!
//! It checks what the Argo CD CRDs use on the paths our manifests reach. A schema keyword it
//! does not understand is reported as an error rather than skipped, so it cannot pass a
//! document by ignoring a rule.

use serde_json::{Map, Value};

/// Keywords that only describe; they never make a document invalid here.
const ANNOTATIONS: &[&str] = &[
    "description",
    "format",
    "title",
    "default",
    "example",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
];

const CHECKED: &[&str] = &[
    "type",
    "properties",
    "required",
    "enum",
    "items",
    "additionalProperties",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "anyOf",
    "minLength",
    "nullable",
    "pattern",
];

/// Every violation of `schema` in `value`, as `path: problem`.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "", &mut errors);
    errors
}

/// The `openAPIV3Schema` of `version` in a CRD document.
pub fn crd_schema(crd: &Value, version: &str) -> Option<Value> {
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v["name"] == version)?
        .pointer("/schema/openAPIV3Schema")
        .cloned()
}

/// The API server validates `metadata` itself (a CRD only says `type: object`); this is the
/// part of ObjectMeta our manifests write, so annotation values that are not strings (an
/// unquoted sync wave) and misspelt metadata fields are caught too.
pub fn object_meta_schema() -> Value {
    let string_map =
        serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}});
    serde_json::json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "namespace": {"type": "string", "minLength": 1},
            "labels": string_map,
            "annotations": string_map,
            "finalizers": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name"],
    })
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        errors.push(format!("{path}: schema node is not an object"));
        return;
    };
    for key in schema.keys() {
        if !ANNOTATIONS.contains(&key.as_str()) && !CHECKED.contains(&key.as_str()) {
            errors.push(format!(
                "{path}: schema keyword {key:?} is not supported by this validator"
            ));
        }
    }
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            errors.push(format!("{path}: null is not allowed"));
        }
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!(
                "{path}: expected an integer or a string, got {value}"
            ));
        }
        return;
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = branches.iter().any(|b| {
            let mut e = Vec::new();
            check(b, value, path, &mut e);
            e.is_empty()
        });
        if !fits {
            errors.push(format!("{path}: matches none of anyOf"));
        }
    }
    if let Some(t) = schema.get("type")
        && !type_matches(t, value)
    {
        errors.push(format!("{path}: expected {t}, got {value}"));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let (Some(min), Some(s)) = (
        schema.get("minLength").and_then(Value::as_u64),
        value.as_str(),
    ) && (s.chars().count() as u64) < min
    {
        errors.push(format!("{path}: shorter than {min}"));
    }
    if let (Some(pattern), Some(s)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        match pattern_matches(pattern, s) {
            Some(true) => {}
            Some(false) => errors.push(format!("{path}: {s:?} does not match {pattern}")),
            None => errors.push(format!(
                "{path}: pattern {pattern:?} is not supported by this validator"
            )),
        }
    }
    if let Some(object) = value.as_object() {
        check_object(schema, object, path, errors);
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

fn check_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let preserve = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    for (key, field) in object {
        let here = at(path, key);
        if let Some(sub) = properties.and_then(|p| p.get(key)) {
            check(sub, field, &here, errors);
        } else if let Some(sub) = additional.filter(|a| a.is_object()) {
            check(sub, field, &here, errors);
        } else if !(preserve || additional == Some(&Value::Bool(true))) {
            errors.push(format!("{here}: unknown field"));
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                errors.push(format!("{}: required field is missing", at(path, name)));
            }
        }
    }
}

fn type_matches(t: &Value, value: &Value) -> bool {
    match t.as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        _ => false,
    }
}

/// The CRDs' few patterns, written out by hand (no regex engine here); `None` for any other,
/// so a new pattern fails loudly instead of passing.
fn pattern_matches(pattern: &str, s: &str) -> Option<bool> {
    match pattern {
        // sourceHydrator paths: at least two characters, or one that is neither '.' nor '/'.
        "^.{2,}|[^./]$" => {
            let mut chars = s.chars();
            let two_at_start = matches!((chars.next(), chars.next()), (Some(a), Some(b)) if a != '\n' && b != '\n');
            let good_end = s
                .chars()
                .last()
                .is_some_and(|c| c != '.' && c != '/' && c != '\n');
            Some(two_at_start || good_end)
        }
        _ => None,
    }
}
