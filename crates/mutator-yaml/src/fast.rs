//! The edit nearly every image update makes, at the cost of less than one parse: replacing an
//! existing one-line scalar that is the value of a block mapping entry (`tag: "1.2.3"  # note`).
//!
//! One streaming pass of saphyr's parser (no tree, no values) finds the scalar's bytes and
//! checks the whole file for what would make a local edit unsafe: aliases, anchors, merge keys,
//! duplicate keys, complex keys. The guard is then local instead of a second full parse: the
//! old and the new scalar, each followed by the rest of its line exactly as in the file, are
//! read by yaml_serde in a one-entry block mapping. That proves the new bytes form one scalar
//! that ends where the old one ended and reads as the new string; the bytes before it are
//! untouched and a one-line scalar in block context cannot change how any later line is
//! tokenised (quoted scalars close themselves; a plain one ends at the same ` #` or line end,
//! and whether the next line continues it depends on that line alone).
//!
//! Anything else (inserts, flow collections, null or block-scalar targets, anchors anywhere,
//! `kind`+`name` selection, files saphyr cannot read) is declined, and the caller takes the
//! full path: two parsers and a whole-file guard.

use std::borrow::Cow;
use std::collections::HashSet;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use yaml_serde::Value;

use crate::path::{KeyPath, Segment};
use crate::quote::{self, Style};

/// What the quick path made of a request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The file with the scalar replaced.
    Edited(String),
    /// YAML already reads the target as exactly this string.
    Unchanged,
    /// Not a case this path proves safe; use the full path.
    Declined,
}

/// Sets the scalar at `path` in document `doc` to `value`, or declines.
pub(crate) fn set(src: &str, doc: usize, path: &KeyPath, value: &str) -> Outcome {
    let Some(found) = find(src, doc, path) else {
        return Outcome::Declined;
    };
    replace(src, &found, value).unwrap_or(Outcome::Declined)
}

/// The target scalar as the streaming pass saw it.
struct Found {
    /// Byte offset of the scalar's first byte (its quote, if quoted).
    start: usize,
    /// Byte offset where the parser says the scalar ends (refined per style later).
    end_hint: usize,
    style: Style,
}

fn replace(src: &str, found: &Found, value: &str) -> Option<Outcome> {
    let start = found.start;
    let end = scalar_end(src, start, found.end_hint, found.style)?;
    let line_end = src[end..].find('\n').map_or(src.len(), |i| end + i);
    let suffix = &src[end..line_end];
    let colon = colon_before(src, start)?;
    let gap = &src[colon..start];
    let old = &src[start..end];
    // The spans must be what yaml_serde reads there too, or the guard below proves nothing.
    match read_entry(gap, old, suffix)? {
        Value::String(s) if s == value => return Some(Outcome::Unchanged),
        Value::String(_) => {}
        // A plain `1.10` or `true`: a number or bool to YAML, so setting a string changes it.
        Value::Number(_) | Value::Bool(_) if found.style == Style::Plain => {}
        _ => return None,
    }
    let new = quote::render(value, found.style, false);
    if new.contains(['\n', '\r']) {
        return None;
    }
    match read_entry(gap, &new, suffix)? {
        Value::String(s) if s == value => {}
        _ => return None,
    }
    let mut out = String::with_capacity(src.len() + new.len());
    out.push_str(&src[..start]);
    out.push_str(&new);
    out.push_str(&src[end..]);
    Some(Outcome::Edited(out))
}

/// The value yaml_serde reads in `k<gap><scalar><suffix>`, a one-entry block mapping.
fn read_entry(gap: &str, scalar: &str, suffix: &str) -> Option<Value> {
    let text = format!("k{gap}{scalar}{suffix}\n");
    let Ok(Value::Mapping(map)) = yaml_serde::from_str::<Value>(&text) else {
        return None;
    };
    if map.len() != 1 {
        return None;
    }
    map.get("k").cloned()
}

/// End of a one-line scalar starting at `start`. Quoted scalars are scanned here because the
/// parser's end marker can run past the closing quote; a plain one ends at the marker.
fn scalar_end(src: &str, start: usize, end_hint: usize, style: Style) -> Option<usize> {
    let bytes = src.as_bytes();
    let end = match style {
        Style::Plain => {
            let text = src.get(start..end_hint)?;
            start + text.trim_end_matches([' ', '\t']).len()
        }
        Style::Single => {
            let mut i = start + 1;
            loop {
                match bytes.get(i)? {
                    b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break i + 1,
                    _ => i += 1,
                }
            }
        }
        Style::Double => {
            let mut i = start + 1;
            loop {
                match bytes.get(i)? {
                    b'\\' => i += 2,
                    b'"' => break i + 1,
                    _ => i += 1,
                }
            }
        }
    };
    let text = src.get(start..end)?;
    (!text.is_empty() && !text.contains(['\n', '\r'])).then_some(end)
}

/// Offset of the `:` that introduces the value at `start`, on the same line: only spaces or
/// tabs may lie between them, and at least one (a block value, not `a:b`).
fn colon_before(src: &str, start: usize) -> Option<usize> {
    let before = src.get(..start)?;
    let trimmed = before.trim_end_matches([' ', '\t']);
    (trimmed.len() < before.len() && trimmed.ends_with(':')).then(|| trimmed.len() - 1)
}

/// Where a node sits relative to the path being followed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Key,
    /// A value or sequence item, at this depth of the path if it is on it.
    Node {
        on_path: Option<usize>,
    },
}

/// The keys of one mapping so far. Most mappings are small, where a scan beats hashing.
enum Keys<'a> {
    Few(Vec<Cow<'a, str>>),
    Many(HashSet<Cow<'a, str>>),
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// `false` when the key was already there.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        match self {
            Keys::Few(keys) if keys.contains(&key) => false,
            Keys::Few(keys) if keys.len() < Self::FEW => {
                keys.push(key);
                true
            }
            Keys::Few(keys) => {
                let mut all: HashSet<Cow<'a, str>> = keys.drain(..).collect();
                all.insert(key);
                *self = Keys::Many(all);
                true
            }
            Keys::Many(keys) => keys.insert(key),
        }
    }
}

enum Frame<'a> {
    Map {
        keys: Keys<'a>,
        expect_key: bool,
        flow: bool,
        /// This mapping is the node at `path[..depth]`.
        on_path: Option<usize>,
        /// The next value is the node at `path[..depth + 1]`.
        next_on_path: bool,
        /// The key of that value starts on this line (byte offset of the key).
        key_start: usize,
    },
    Seq {
        index: usize,
        on_path: Option<usize>,
    },
}

/// One streaming pass over every document. `None` unless the target is an existing, plain
/// or quoted, untagged scalar that is a block mapping value on its key's line, and nothing in
/// the file makes a local edit unsafe.
fn find(src: &str, doc: usize, path: &KeyPath) -> Option<Found> {
    let segments = path.segments();
    if tab_in_indentation(src) || !all_printable(src) {
        return None;
    }
    let offsets = CharOffsets::new(src);
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut doc_index: Option<usize> = None;
    let mut found = None;
    for event in Parser::new_from_str(src) {
        let (event, span) = event.ok()?;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => doc_index = Some(doc_index.map_or(0, |d| d + 1)),
            Event::DocumentEnd => {}
            Event::Alias(_) => return None,
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 {
                    return None;
                }
                let role = role_of(stack.last(), segments);
                match role {
                    Role::Key => {
                        // `<<` merges; an empty plain key is a null key, which libyaml refuses
                        // in places saphyr reads it (`: value` at the start of a line).
                        if style == ScalarStyle::Plain && (text == "<<" || text.is_empty()) {
                            return None;
                        }
                        let start = offsets.byte(&span, true)?;
                        key_seen(
                            stack.last_mut(),
                            text,
                            segments,
                            start,
                            style == ScalarStyle::Plain,
                        )?;
                    }
                    Role::Node { on_path } => {
                        let at_root = stack.is_empty();
                        let target = on_path == Some(segments.len()) && doc_index == Some(doc);
                        if on_path.is_some() && doc_index == Some(doc) && !target {
                            // The path continues below a scalar: the full path says why.
                            return None;
                        }
                        if target {
                            if tag.is_some() || at_root {
                                return None;
                            }
                            let style = match style {
                                ScalarStyle::Plain => Style::Plain,
                                ScalarStyle::SingleQuoted => Style::Single,
                                ScalarStyle::DoubleQuoted => Style::Double,
                                _ => return None,
                            };
                            found = Some(target_scalar(src, &stack, &offsets, &span, style)?);
                        }
                        value_done(stack.last_mut());
                    }
                }
            }
            Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                if anchor != 0 {
                    return None;
                }
                let on_path = match role_of(stack.last(), segments) {
                    Role::Key => return None,
                    Role::Node { on_path } => on_path.filter(|_| doc_index == Some(doc)),
                };
                if on_path.is_some() && tag.is_some() {
                    return None;
                }
                let start = offsets.byte(&span, true)?;
                let flow = matches!(src.as_bytes().get(start), Some(b'{' | b'['));
                let is_map = matches!(event, Event::MappingStart(..));
                // The path wants a key here but finds a sequence, or the reverse, or ends at
                // a collection: all errors the full path reports properly.
                if let Some(depth) = on_path {
                    match segments.get(depth) {
                        Some(Segment::Key(_)) if is_map => {}
                        Some(Segment::Index(_)) if !is_map => {}
                        _ => return None,
                    }
                }
                stack.push(if is_map {
                    Frame::Map {
                        keys: Keys::Few(Vec::new()),
                        expect_key: true,
                        flow,
                        on_path,
                        next_on_path: false,
                        key_start: 0,
                    }
                } else {
                    Frame::Seq { index: 0, on_path }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Frame::Map {
                    next_on_path: true, ..
                }) = stack.last()
                {
                    return None;
                }
                stack.pop();
                value_done(stack.last_mut());
            }
        }
    }
    found
}

/// The role of the next node under `top`, and whether it is on the path.
fn role_of(top: Option<&Frame<'_>>, segments: &[Segment]) -> Role {
    match top {
        None => Role::Node { on_path: Some(0) },
        Some(Frame::Map {
            expect_key: true, ..
        }) => Role::Key,
        Some(Frame::Map {
            on_path,
            next_on_path,
            ..
        }) => Role::Node {
            on_path: on_path.filter(|_| *next_on_path).map(|d| d + 1),
        },
        Some(Frame::Seq { index, on_path }) => Role::Node {
            on_path: on_path
                .filter(|d| segments.get(*d) == Some(&Segment::Index(*index)))
                .map(|d| d + 1),
        },
    }
}

/// saphyr accepts a tab in front of a key where libyaml (and so yaml_serde and the full path)
/// refuses the file; the quick path must not edit what the full path refuses.
fn tab_in_indentation(src: &str) -> bool {
    src.contains('\t')
        && src.split('\n').any(|line| {
            line.bytes()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .any(|b| b == b'\t')
        })
}

/// Whether every character is one YAML allows in a stream (c-printable, YAML 1.2 §5.1).
/// libyaml refuses the others; saphyr reads some of them, and the quick path must not edit
/// what the full path refuses.
fn all_printable(src: &str) -> bool {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}')
            || ('\u{A0}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if src.is_ascii() {
        return src
            .bytes()
            .all(|b| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~'));
    }
    src.chars().all(allowed)
}

/// Records a key; `None` on a duplicate, or when a key that YAML reads as a number, bool or
/// null would be compared with a path segment (a string).
fn key_seen<'a>(
    top: Option<&mut Frame<'a>>,
    key: Cow<'a, str>,
    segments: &[Segment],
    start: usize,
    plain: bool,
) -> Option<()> {
    let Some(Frame::Map {
        keys,
        expect_key,
        on_path,
        next_on_path,
        key_start,
        ..
    }) = top
    else {
        return None;
    };
    *next_on_path = on_path
        .and_then(|d| segments.get(d))
        .is_some_and(|s| matches!(s, Segment::Key(k) if *k == key));
    if *next_on_path && plain && quote::resolves_to_non_string(&key) {
        return None;
    }
    *key_start = start;
    *expect_key = false;
    keys.insert(key).then_some(())
}

/// A child node of `top` is complete.
fn value_done(top: Option<&mut Frame<'_>>) {
    match top {
        Some(Frame::Map {
            expect_key,
            next_on_path,
            ..
        }) => {
            *expect_key = true;
            *next_on_path = false;
        }
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

fn target_scalar(
    src: &str,
    stack: &[Frame<'_>],
    offsets: &CharOffsets<'_>,
    span: &Span,
    style: Style,
) -> Option<Found> {
    let Some(Frame::Map {
        flow: false,
        key_start,
        ..
    }) = stack.last()
    else {
        return None;
    };
    let start = offsets.byte(span, true)?;
    let end_hint = offsets.byte(span, false)?;
    // Key and value on one line: the local guard reproduces exactly that context.
    if src.get(*key_start..start)?.contains('\n') {
        return None;
    }
    Some(Found {
        start,
        end_hint,
        style,
    })
}

/// saphyr's markers count characters; the splice needs bytes.
struct CharOffsets<'a> {
    src: &'a str,
    /// Byte offset of every character and of the end, for files that are not all ASCII.
    table: Option<Vec<usize>>,
}

impl<'a> CharOffsets<'a> {
    fn new(src: &'a str) -> Self {
        let table = (!src.is_ascii()).then(|| {
            src.char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(src.len()))
                .collect()
        });
        Self { src, table }
    }

    fn byte(&self, span: &Span, start: bool) -> Option<usize> {
        let chars = if start {
            span.start.index()
        } else {
            span.end.index()
        };
        match &self.table {
            None => (chars <= self.src.len()).then_some(chars),
            Some(table) => table.get(chars).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn set_fast(src: &str, path: &str, value: &str) -> Outcome {
        set(src, 0, &path.parse().unwrap(), value)
    }

    #[test]
    fn replaces_only_the_scalar_and_keeps_the_comment_and_quotes() {
        let src = "image:\n  repository: nginx\n  tag: \"1.2.3\"  # pinned: yes\nother: 1\n";
        assert_eq!(
            set_fast(src, "image.tag", "1.2.4"),
            Outcome::Edited(
                "image:\n  repository: nginx\n  tag: \"1.2.4\"  # pinned: yes\nother: 1\n".into()
            )
        );
        let single = "tag: 'a''b' # c\n";
        assert_eq!(
            set_fast(single, "tag", "x'y"),
            Outcome::Edited("tag: 'x''y' # c\n".into())
        );
    }

    #[test]
    fn quotes_values_that_would_change_type_and_spots_no_ops() {
        assert_eq!(
            set_fast("tag: v1 # x\n", "tag", "1.10"),
            Outcome::Edited("tag: \"1.10\" # x\n".into())
        );
        assert_eq!(
            set_fast("tag: 1.10\n", "tag", "1.10"),
            Outcome::Edited("tag: \"1.10\"\n".into())
        );
        assert_eq!(
            set_fast("tag: \"1.10\"\n", "tag", "1.10"),
            Outcome::Unchanged
        );
        assert_eq!(set_fast("tag: v1\n", "tag", "v1"), Outcome::Unchanged);
    }

    #[test]
    fn follows_sequences_documents_and_non_ascii() {
        let src = "spec:\n  containers:\n    - name: a # é\n      image: x:1\n    - name: b\n      image: y:1\n";
        assert_eq!(
            set_fast(src, "spec.containers[1].image", "y:2"),
            Outcome::Edited(src.replace("y:1", "y:2"))
        );
        let docs = "a: 1\n---\na: 2\n";
        assert_eq!(
            set(docs, 1, &"a".parse().unwrap(), "3"),
            Outcome::Edited("a: 1\n---\na: \"3\"\n".into())
        );
    }

    #[test]
    fn declines_what_it_cannot_prove() {
        for (src, path) in [
            ("a: {tag: v1}\n", "a.tag"),  // flow mapping
            ("tag:\n  v1\n", "tag"),      // value on its own line
            ("tag: |\n  v1\n", "tag"),    // block scalar
            ("tag:\n", "tag"),            // null
            ("a: &x v1\nb: *x\n", "a"),   // anchor and alias
            ("a: v1\na: v2\n", "a"),      // duplicate key
            ("b: 1\nb: 2\na: v1\n", "a"), // duplicate key elsewhere
            ("<<: {a: 1}\na: v1\n", "a"), // merge key
            ("a: !!str v1\n", "a"),       // tag
            ("a: v1\n", "b"),             // missing: an insert
            ("a: [1, 2]\n", "a"),         // collection
            ("a: multi\n  line\n", "a"),  // multi-line plain
            ("a: 'open\n", "a"),          // not YAML
            ("a: v1\n", "a.b"),           // path below a scalar
            ("- a: v1\n", "a"),           // sequence where a key is wanted
        ] {
            assert_eq!(
                set_fast(src, path, "v2"),
                Outcome::Declined,
                "{src:?} at {path}"
            );
        }
    }

    #[test]
    fn agrees_with_the_full_path_byte_for_byte() {
        let src = "# values\nimage:\n  tag: v1 # c\n  pull: 'Always'\nlist:\n  - x: \"1\"\r\n";
        for (path, value) in [
            ("image.tag", "v2"),
            ("image.tag", "x\ny"),
            ("image.tag", "yes"),
            ("image.tag", "a: b"),
            ("image.tag", "#c"),
            ("image.tag", "- x"),
            ("image.tag", "---"),
            ("image.tag", " lead"),
            ("image.pull", "it's"),
            ("image.pull", "Never"),
            ("list[0].x", "2"),
            ("list[0].x", "ü"),
        ] {
            let path: KeyPath = path.parse().unwrap();
            let full =
                crate::set_scalar_full(src, &crate::DocSelector::Index(0), &path, value).unwrap();
            match set(src, 0, &path, value) {
                Outcome::Edited(fast) => assert_eq!(fast, full, "{path} = {value:?}"),
                Outcome::Unchanged => assert_eq!(full, src, "{path} = {value:?}"),
                Outcome::Declined => panic!("declined {path} = {value:?}"),
            }
        }
    }
}
