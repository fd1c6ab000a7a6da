//! Request parameters the way GitLab (Rack + Grape) sees them: the query string merged with a
//! JSON or `application/x-www-form-urlencoded` body, into one JSON object.
//!
//! Form keys follow Rack's nesting: `a[b]` is an object field, `a[]` appends to a list,
//! `a[][k]` sets `k` on the last object of the list unless that object already has `k`, in
//! which case a new object is started (so the `gitlab` crate's repeated `actions[][action]=...`
//! keys start one action each), and `a[0][k]` indexes objects explicitly.

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use super::error::GlError;

pub(crate) type Params = Map<String, Value>;

/// Query string, then body (body fields win, as in Rack's `params`).
pub(crate) fn parse_request(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Params, GlError> {
    let mut params = query.map(parse_form).unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(params);
    }
    let is_json = content_type.contains("json")
        || (!content_type.contains("form") && trimmed.first() == Some(&b'{'));
    let from_body = if is_json {
        match serde_json::from_slice::<Value>(trimmed) {
            Ok(Value::Object(map)) => map,
            Ok(_) | Err(_) => return Err(GlError::param("The request body is not valid JSON")),
        }
    } else {
        parse_form(&String::from_utf8_lossy(body))
    };
    params.extend(from_body);
    Ok(params)
}

/// Parses `k=v&k2=v2` with Rack's nesting rules (see the module documentation).
pub(crate) fn parse_form(input: &str) -> Params {
    let mut out = Params::new();
    for pair in input.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k);
        let value = Value::String(decode(v));
        match split_key(&key) {
            Some((base, segments)) => insert_nested(&mut out, &key, base, &segments, value),
            None => {
                out.insert(key, value);
            }
        }
    }
    for value in out.values_mut() {
        index_object_to_array(value);
    }
    out
}

/// `%XX` and `+` decoding of one form component; invalid UTF-8 is replaced.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a[x][y]` → `("a", ["x", "y"])`; `None` for a plain or malformed key.
fn split_key(key: &str) -> Option<(&str, Vec<&str>)> {
    let open = key.find('[')?;
    let (base, mut rest) = key.split_at(open);
    if base.is_empty() {
        return None;
    }
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let (segment, after) = inner.split_at(close);
        segments.push(segment);
        rest = after.strip_prefix(']')?;
    }
    Some((base, segments))
}

fn insert_nested(out: &mut Params, raw: &str, base: &str, segments: &[&str], value: Value) {
    match segments {
        [""] => match out
            .entry(base.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(list) => list.push(value),
            other => *other = Value::Array(vec![value]),
        },
        [field] => {
            if let Some(obj) = object_at(out, base) {
                obj.insert((*field).to_owned(), value);
            }
        }
        ["", field] => {
            let slot = out
                .entry(base.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(list) = slot {
                match list.last_mut() {
                    Some(Value::Object(last)) if !last.contains_key(*field) => {
                        last.insert((*field).to_owned(), value);
                    }
                    _ => {
                        let mut obj = Params::new();
                        obj.insert((*field).to_owned(), value);
                        list.push(Value::Object(obj));
                    }
                }
            }
        }
        [index, field] => {
            if let Some(obj) = object_at(out, base) {
                let inner = obj
                    .entry((*index).to_owned())
                    .or_insert_with(|| Value::Object(Params::new()));
                if !inner.is_object() {
                    *inner = Value::Object(Params::new());
                }
                if let Value::Object(inner) = inner {
                    inner.insert((*field).to_owned(), value);
                }
            }
        }
        _ => {
            out.insert(raw.to_owned(), value);
        }
    }
}

fn object_at<'a>(out: &'a mut Params, base: &str) -> Option<&'a mut Params> {
    let slot = out
        .entry(base.to_owned())
        .or_insert_with(|| Value::Object(Params::new()));
    if !slot.is_object() {
        *slot = Value::Object(Params::new());
    }
    slot.as_object_mut()
}

/// `{"0": a, "1": b}` (from `x[0][k]` keys) → `[a, b]`, ordered by index.
fn index_object_to_array(value: &mut Value) {
    let Value::Object(obj) = value else { return };
    if obj.is_empty() || !obj.keys().all(|k| k.parse::<u64>().is_ok()) {
        return;
    }
    let mut items: Vec<(u64, Value)> = std::mem::take(obj)
        .into_iter()
        .filter_map(|(k, v)| k.parse::<u64>().ok().map(|i| (i, v)))
        .collect();
    items.sort_by_key(|(i, _)| *i);
    *value = Value::Array(items.into_iter().map(|(_, v)| v).collect());
}

/// A scalar parameter as text (`null` and containers count as absent).
pub(crate) fn text(map: &Params, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A Grape `Boolean` parameter; 400 `<key> is invalid` for anything else.
pub(crate) fn boolean(map: &Params, key: &str) -> Result<Option<bool>, GlError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => {
            let s = match other {
                Value::String(s) => s.to_ascii_lowercase(),
                v => v.to_string(),
            };
            match s.as_str() {
                "true" | "1" | "t" | "yes" | "y" | "on" => Ok(Some(true)),
                "false" | "0" | "f" | "no" | "n" | "off" => Ok(Some(false)),
                _ => Err(GlError::param(format!("{key} is invalid"))),
            }
        }
    }
}

/// Required, non-empty text parameters; Grape's combined `a is missing, b is empty` otherwise.
pub(crate) fn required(map: &Params, keys: &[&str]) -> Result<Vec<String>, GlError> {
    let mut values = Vec::with_capacity(keys.len());
    let mut problems = Vec::new();
    for key in keys {
        match text(map, key) {
            Some(v) if !v.is_empty() => values.push(v),
            Some(_) => problems.push(format!("{key} is empty")),
            None => problems.push(format!("{key} is missing")),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(GlError::param(problems.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rack_nesting_starts_a_new_action_on_a_repeated_key() {
        let p = parse_form(concat!(
            "branch=main&commit_message=a+b%21",
            "&actions%5B%5D%5Baction%5D=update&actions%5B%5D%5Bfile_path%5D=a%2Fb.yaml",
            "&actions%5B%5D%5Bcontent%5D=x%3D1%26y",
            "&actions[][action]=delete&actions[][file_path]=c",
        ));
        assert_eq!(p["commit_message"], "a b!");
        assert_eq!(
            p["actions"],
            json!([
                { "action": "update", "file_path": "a/b.yaml", "content": "x=1&y" },
                { "action": "delete", "file_path": "c" },
            ])
        );
    }

    #[test]
    fn indexed_and_list_keys() {
        let p = parse_form("a[1][k]=two&a[0][k]=one&l[]=x&l[]=y&o[f]=v&bad[=1");
        assert_eq!(p["a"], json!([{ "k": "one" }, { "k": "two" }]));
        assert_eq!(p["l"], json!(["x", "y"]));
        assert_eq!(p["o"], json!({ "f": "v" }));
        assert_eq!(p["bad["], "1");
    }

    #[test]
    fn body_overrides_query_and_json_is_detected() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let p = parse_request(Some("branch=q&ref=main"), &h, br#"{"branch":"b","n":3}"#).unwrap();
        assert_eq!(text(&p, "branch").as_deref(), Some("b"));
        assert_eq!(text(&p, "ref").as_deref(), Some("main"));
        assert_eq!(text(&p, "n").as_deref(), Some("3"));
        assert!(parse_request(None, &h, b"[1]").is_err());
        let err = required(&p, &["branch", "title", "ref"]).unwrap_err();
        assert_eq!(err.body, json!({ "error": "title is missing" }));
        assert_eq!(decode("%zz%2"), "%zz%2");
    }
}
