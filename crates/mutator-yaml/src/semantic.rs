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
/// mappings, the target becomes the string. The guard uses the clone-free
/// [`difference_after_set`]; this is its reference in the tests.
#[cfg(test)]
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

/// Removes the mapping entry at `path` (keeping the order of the others). Errors when it is
/// not there, since a removal the file does not need is never planned.
pub(crate) fn remove(root: &mut Value, path: &KeyPath) -> Result<(), String> {
    let (parent, last) = path.parent_and_last();
    let Some(container) = get_mut(root, parent) else {
        return Err("the parent of the removed key is missing".into());
    };
    match (last, container) {
        (Segment::Key(k), Value::Mapping(m)) => m
            .shift_remove(k.as_str())
            .map(|_| ())
            .ok_or_else(|| format!("key {k:?} is not there")),
        _ => Err("only a mapping key can be removed".into()),
    }
}

/// Appends `item` to the sequence at `path`; a missing or null sequence (and missing parent
/// mappings) is created, as the append writes it.
pub(crate) fn append(root: &mut Value, path: &KeyPath, item: Value) -> Result<(), String> {
    let mut value = root;
    for segment in path.segments() {
        value = match (segment, value) {
            (Segment::Key(k), v) => {
                if v.is_null() {
                    *v = Value::Mapping(Mapping::new());
                }
                let Value::Mapping(m) = v else {
                    return Err(format!("expected a mapping before key {k:?}"));
                };
                m.entry(Value::String(k.clone())).or_insert(Value::Null)
            }
            (Segment::Index(i), Value::Sequence(s)) => match s.get_mut(*i) {
                Some(v) => v,
                None => return Err(format!("index {i} out of range")),
            },
            (Segment::Index(i), _) => return Err(format!("expected a sequence before index {i}")),
        };
    }
    if value.is_null() {
        *value = Value::Sequence(Vec::new());
    }
    match value {
        Value::Sequence(s) => {
            s.push(item);
            Ok(())
        }
        _ => Err("the append target is not a sequence".into()),
    }
}

fn get_mut<'a>(mut value: &'a mut Value, path: &[Segment]) -> Option<&'a mut Value> {
    for segment in path {
        value = match (segment, value) {
            (Segment::Key(k), Value::Mapping(m)) => m.get_mut(k.as_str())?,
            (Segment::Index(i), Value::Sequence(s)) => s.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Where `edited` differs from "`original` with the string `new` set at `path`"; `None` when it
/// is exactly that. Same verdict as cloning `original`, applying [`set`] and comparing, but
/// without the clone: off the path, subtrees are compared as they are; on the path, every
/// entry must keep its key and position, and a created key must be the mapping's last entry
/// (inserts are written after the last entry). `original` is `None` where the path is new.
pub(crate) fn difference_after_set(
    original: Option<&Value>,
    edited: &Value,
    path: &[Segment],
    new: &str,
) -> Option<String> {
    let Some((segment, rest)) = path.split_first() else {
        return match edited {
            Value::String(s) if s == new => None,
            other => Some(format!("(value {} where {new:?} was set)", short(other))),
        };
    };
    match segment {
        Segment::Key(k) => {
            let empty = Mapping::new();
            let before = match original {
                None | Some(Value::Null) => &empty,
                Some(Value::Mapping(m)) => m,
                Some(other) => {
                    return Some(format!("(the original has {} before {k:?})", short(other)));
                }
            };
            let Value::Mapping(after) = edited else {
                return Some(format!("(not a mapping after edit: {})", short(edited)));
            };
            let key = Value::String(k.clone());
            let existed = before.contains_key(&key);
            let want_len = before.len() + usize::from(!existed);
            if after.len() != want_len {
                return Some(format!("(mapping of {} keys -> {})", want_len, after.len()));
            }
            for ((kb, vb), (ka, va)) in before.iter().zip(after.iter()) {
                if kb != ka {
                    return Some(format!("{} (key moved or renamed)", key_label(kb)));
                }
                let inner = if *kb == key {
                    difference_after_set(Some(vb), va, rest, new)
                } else {
                    first_difference(vb, va)
                };
                if let Some(inner) = inner {
                    return Some(join(&key_label(kb), &inner));
                }
            }
            if existed {
                return None;
            }
            match after.iter().last() {
                Some((ka, va)) if *ka == key => {
                    difference_after_set(None, va, rest, new).map(|d| join(k, &d))
                }
                _ => Some(format!("{k} (not added as the last key)")),
            }
        }
        Segment::Index(i) => {
            let (Some(Value::Sequence(before)), Value::Sequence(after)) = (original, edited) else {
                return Some(format!("(not a sequence at [{i}])"));
            };
            if before.len() != after.len() {
                return Some(format!(
                    "(sequence length {} -> {})",
                    before.len(),
                    after.len()
                ));
            }
            before
                .iter()
                .zip(after)
                .enumerate()
                .find_map(|(j, (b, a))| {
                    let inner = if j == *i {
                        difference_after_set(Some(b), a, rest, new)
                    } else {
                        first_difference(b, a)
                    };
                    inner.map(|d| join(&format!("[{j}]"), &d))
                })
        }
    }
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
        assert_eq!(
            parse_documents("\u{FEFF}a: 1\nb: 2\n").unwrap(),
            vec![v("a: 1\nb: 2")]
        );
        assert!(
            parse_documents("a: 1\na: 2\n")
                .unwrap_err()
                .contains("duplicate")
        );
    }

    /// The clone-free check agrees with "clone, set, compare" on matches and mismatches.
    #[test]
    fn difference_after_set_agrees_with_set_then_compare() {
        let original = v("a:\n  b: 1\n  c: [x, y]\nn:\nz: 2\n");
        let cases = [
            ("a.b", "a:\n  b: '9'\n  c: [x, y]\nn:\nz: 2\n", true),
            ("a.c[1]", "a:\n  b: 1\n  c: [x, '9']\nn:\nz: 2\n", true),
            ("a.d", "a:\n  b: 1\n  c: [x, y]\n  d: '9'\nn:\nz: 2\n", true),
            (
                "n.m.k",
                "a:\n  b: 1\n  c: [x, y]\nn: {m: {k: '9'}}\nz: 2\n",
                true,
            ),
            ("new", "a:\n  b: 1\n  c: [x, y]\nn:\nz: 2\nnew: '9'\n", true),
            // The new key in the wrong place, a neighbour changed, the wrong value.
            (
                "new",
                "new: '9'\na:\n  b: 1\n  c: [x, y]\nn:\nz: 2\n",
                false,
            ),
            ("a.b", "a:\n  b: '9'\n  c: [x, z]\nn:\nz: 2\n", false),
            ("a.b", "a:\n  b: 9\n  c: [x, y]\nn:\nz: 2\n", false),
            ("a.c[0]", "a:\n  b: 1\n  c: ['9']\nn:\nz: 2\n", false),
            ("a.b", "a:\n  c: [x, y]\n  b: '9'\nn:\nz: 2\n", false),
        ];
        for (path, edited, same) in cases {
            let path: KeyPath = path.parse().unwrap();
            let edited = v(edited);
            let got = difference_after_set(Some(&original), &edited, path.segments(), "9");
            assert_eq!(got.is_none(), same, "{path}: {got:?}");
            if !matches!(path.to_string().as_str(), "a.b" | "new") || same {
                let mut expected = original.clone();
                set(&mut expected, &path, "9").unwrap();
                assert_eq!(
                    first_difference(&expected, &edited).is_none(),
                    same,
                    "{path}"
                );
            }
        }
    }

    #[test]
    fn remove_and_append() {
        let mut doc = v("images:\n- name: a\n  digest: d\n  newTag: t\n");
        remove(&mut doc, &"images[0].digest".parse().unwrap()).unwrap();
        assert_eq!(doc, v("images: [{name: a, newTag: t}]"));
        assert!(remove(&mut doc, &"images[0].digest".parse().unwrap()).is_err());
        append(&mut doc, &"images".parse().unwrap(), v("{name: b}")).unwrap();
        assert_eq!(doc, v("images: [{name: a, newTag: t}, {name: b}]"));
        let mut empty = v("kind: K\n");
        append(&mut empty, &"images".parse().unwrap(), v("{name: b}")).unwrap();
        assert_eq!(empty, v("kind: K\nimages: [{name: b}]"));
        assert!(append(&mut empty, &"kind".parse().unwrap(), Value::Null).is_err());
    }

    #[test]
    fn first_difference_names_the_path() {
        assert_eq!(
            first_difference(&v("a: {b: [1, 2]}"), &v("a: {b: [1, 3]}")).as_deref(),
            Some("a.b[1] (value 2 -> 3)")
        );
        assert_eq!(
            first_difference(&v("a: 1"), &v("a: 1\nc: 2")).as_deref(),
            Some("c (added by edit)")
        );
        assert_eq!(first_difference(&v("a: 1"), &v("a: 1")), None);
    }
}
