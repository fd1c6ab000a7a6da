//! The meaning of a file as yaml_serde reads it: used to read values and to check edits.

use serde::Deserialize;
use yaml_serde::{Mapping, Value};

use crate::path::{KeyPath, Segment};

/// Every document in `src`, in order. A file without documents counts as one null document,
/// since an insert into it produces one.
pub(crate) fn parse_documents(src: &str) -> Result<Vec<Value>, String> {
    // A leading byte order mark is not content, but yaml_serde counts it as a column, so a
    // second top-level key would look like a new, invalid document.
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    let mut docs = Vec::new();
    for de in yaml_serde::Deserializer::from_str(src) {
        // The iterator repeats a failure forever, so stop at the first one.
        match Value::deserialize(de) {
            Ok(v) => docs.push(v),
            Err(e) => return Err(e.to_string()),
        }
    }
    if docs.is_empty() {
        docs.push(Value::Null);
    }
    Ok(docs)
}

/// The value at `path`, if every step exists.
pub(crate) fn get<'a>(mut value: &'a Value, path: &KeyPath) -> Option<&'a Value> {
    for segment in path.segments() {
        value = match (segment, value) {
            (Segment::Key(k), Value::Mapping(m)) => m.get(k.as_str())?,
            (Segment::Index(i), Value::Sequence(s)) => s.get(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Applies the intended edit to a parsed tree: missing keys (and null parents) become
/// mappings, the target becomes the string. Errors describe why the intent does not fit.
pub(crate) fn set(root: &mut Value, path: &KeyPath, new: &str) -> Result<(), String> {
    let mut value = root;
    for segment in path.segments() {
        value = match segment {
            Segment::Key(k) => {
                if value.is_null() {
                    *value = Value::Mapping(Mapping::new());
                }
                let Value::Mapping(m) = value else {
                    return Err(format!("expected a mapping before key {k:?}"));
                };
                m.entry(Value::String(k.clone())).or_insert(Value::Null)
            }
            Segment::Index(i) => match value {
                Value::Sequence(s) => match s.get_mut(*i) {
                    Some(v) => v,
                    None => return Err(format!("index {i} out of range")),
                },
                _ => return Err(format!("expected a sequence before index {i}")),
            },
        };
    }
    *value = Value::String(new.to_owned());
    Ok(())
}

/// Where two trees first differ, as a path-like string; `None` if they are equal.
pub(crate) fn first_difference(a: &Value, b: &Value) -> Option<String> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Mapping(ma), Value::Mapping(mb)) => {
            for (k, va) in ma {
                match mb.get(k) {
                    Some(vb) => {
                        if let Some(inner) = first_difference(va, vb) {
                            return Some(join(&key_label(k), &inner));
                        }
                    }
                    None => return Some(format!("{} (missing after edit)", key_label(k))),
                }
            }
            mb.keys()
                .find(|k| !ma.contains_key(*k))
                .map(|k| format!("{} (added by edit)", key_label(k)))
                .or_else(|| Some("(key order)".into()))
        }
        (Value::Sequence(sa), Value::Sequence(sb)) => {
            if sa.len() != sb.len() {
                return Some(format!("(sequence length {} -> {})", sa.len(), sb.len()));
            }
            sa.iter()
                .zip(sb)
                .enumerate()
                .find_map(|(i, (x, y))| first_difference(x, y).map(|d| join(&format!("[{i}]"), &d)))
        }
        _ => Some(format!("(value {} -> {})", short(a), short(b))),
    }
}

fn join(head: &str, tail: &str) -> String {
    if tail.starts_with('(') {
        format!("{head} {tail}")
    } else if tail.starts_with('[') {
        format!("{head}{tail}")
    } else {
        format!("{head}.{tail}")
    }
}

fn key_label(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => short(other),
    }
}

fn short(v: &Value) -> String {
    let text = yaml_serde::to_string(v).unwrap_or_default();
    let text = text.trim_end();
    let head: String = text.chars().take(40).collect();
    if head.len() < text.len() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(s: &str) -> Value {
        yaml_serde::from_str(s).unwrap()
    }

    #[test]
    fn set_creates_missing_keys_and_replaces_null_parents() {
        let mut doc = v("a:\nb: 1\n");
        set(&mut doc, &"a.x.y".parse().unwrap(), "1.10").unwrap();
        assert_eq!(doc, v("a: {x: {y: '1.10'}}\nb: 1\n"));
        assert!(set(&mut v("b: 1"), &"b.c".parse().unwrap(), "x").is_err());
        assert!(set(&mut v("b: [1]"), &"b[1]".parse().unwrap(), "x").is_err());
    }

    #[test]
    fn multi_document_and_empty_files() {
        assert_eq!(parse_documents("a: 1\n---\nb: 2\n").unwrap().len(), 2);
        assert_eq!(parse_documents("").unwrap(), vec![Value::Null]);
        assert_eq!(parse_documents("# only\n").unwrap(), vec![Value::Null]);
        assert_eq!(parse_documents("\u{FEFF}a: 1\nb: 2\n").unwrap(), vec![v("a: 1\nb: 2")]);
        assert!(parse_documents("a: 1\na: 2\n").unwrap_err().contains("duplicate"));
    }

    #[test]
    fn first_difference_names_the_path() {
        assert_eq!(first_difference(&v("a: {b: [1, 2]}"), &v("a: {b: [1, 3]}")).as_deref(), Some("a.b[1] (value 2 -> 3)"));
        assert_eq!(first_difference(&v("a: 1"), &v("a: 1\nc: 2")).as_deref(), Some("c (added by edit)"));
        assert_eq!(first_difference(&v("a: 1"), &v("a: 1")), None);
    }
}
