//! Turns a located target and a new value into byte splices of the original text.
//!
//! Each splice replaces a span that belongs to the target (the scalar, or the gap after a
//! colon) or inserts whole new lines at a line end, so every other byte stays as it was.

use std::ops::Range;

use yaml_edit::SyntaxKind as K;

use crate::cst::{self, Node};
use crate::error::EditError;
use crate::locate::{self, InsertPoint, Located};
use crate::path::{KeyPath, Segment};
use crate::quote::{self, Style};

/// Replace `range` of the source with `text`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Splice {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
}

/// What a new key (at the end of a chain of created keys) holds.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// A string scalar.
    Scalar(&'a str),
    /// A sequence with one mapping item holding these string fields, in order (never empty).
    Item(&'a [(String, String)]),
}

pub(crate) fn apply(src: &str, mut splices: Vec<Splice>) -> String {
    // Back to front, so earlier offsets stay valid.
    splices.sort_by_key(|s| std::cmp::Reverse(s.range.start));
    let mut out = src.to_owned();
    for s in splices {
        out.replace_range(s.range, &s.text);
    }
    out
}

/// The span a scalar's value occupies, for replacing it. An empty (null) value has a zero-width
/// span right after its colon, anchor or tag, where a new value is written as ` value`.
pub(crate) fn scalar_span(scalar: &Node, container: &Node) -> Result<Range<usize>, ()> {
    let r = cst::range(scalar);
    if !r.is_empty() {
        return Ok(r);
    }
    let within = match container.parent() {
        Some(entry) if container.kind() == K::VALUE => entry,
        _ => container.clone(),
    };
    let end = cst::content_end_before(&within, r.start).ok_or(())?;
    Ok(end..end)
}

pub(crate) fn plan(
    src: &str,
    path: &KeyPath,
    located: Located,
    value: &str,
) -> Result<Vec<Splice>, EditError> {
    match located {
        Located::OutOfRange { at, len } => Err(EditError::IndexOutOfRange { at, len }),
        Located::Collection { node } => Err(EditError::NotAScalar {
            at: locate::at(path, path.segments().len()),
            found: cst::describe(Some(&node)),
        }),
        Located::Scalar { scalar, container } => replace_scalar(path, &scalar, &container, value),
        Located::Missing { depth, point } => {
            let keys = missing_keys(path, depth)?;
            insert(src, path, depth, point, &keys, Payload::Scalar(value))
        }
    }
}

fn replace_scalar(
    path: &KeyPath,
    scalar: &Node,
    container: &Node,
    value: &str,
) -> Result<Vec<Splice>, EditError> {
    let at = locate::at(path, path.segments().len());
    if cst::is_block_scalar(scalar) {
        return Err(EditError::BlockScalar { at });
    }
    let in_flow = cst::in_flow(scalar);
    let raw = scalar.text().to_string();
    if raw.is_empty() {
        if container.kind() != K::VALUE {
            return Err(EditError::Unsupported {
                at,
                what: "setting an empty sequence item".into(),
            });
        }
        let span = scalar_span(scalar, container).map_err(|()| EditError::Unsupported {
            at,
            what: "an empty value without a colon before it".into(),
        })?;
        let text = format!(" {}", quote::render(value, Style::Plain, in_flow));
        return Ok(vec![Splice { range: span, text }]);
    }
    let style = Style::of_raw(&raw);
    Ok(vec![Splice {
        range: cst::range(scalar),
        text: quote::render(value, style, in_flow),
    }])
}

/// The keys to create; a missing part that would have to be a sequence item cannot be created.
pub(crate) fn missing_keys(path: &KeyPath, depth: usize) -> Result<Vec<String>, EditError> {
    path.segments()[depth..]
        .iter()
        .enumerate()
        .map(|(i, segment)| match segment {
            Segment::Key(k) => Ok(k.clone()),
            Segment::Index(_) => Err(EditError::CannotCreate {
                at: locate::at(path, depth + i + 1),
            }),
        })
        .collect()
}

/// `k1:\n  k2:\n    k3: value` at the given indentation, without a leading or trailing break.
/// An item payload becomes `- f1: v1\n  f2: v2` below the last key (indented by `seq_indent`),
/// or at `indent` itself when there are no keys.
fn block_lines(
    indent: usize,
    step: usize,
    seq_indent: usize,
    keys: &[String],
    payload: Payload<'_>,
    eol: &str,
) -> String {
    let mut out = String::new();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push_str(eol);
        }
        out.push_str(&" ".repeat(indent + i * step));
        out.push_str(&quote::render(key, Style::Plain, false));
        out.push(':');
    }
    match payload {
        Payload::Scalar(value) => {
            out.push(' ');
            out.push_str(&quote::render(value, Style::Plain, false));
        }
        Payload::Item(fields) => {
            let dash = match keys.len() {
                0 => indent,
                n => {
                    out.push_str(eol);
                    indent + (n - 1) * step + seq_indent
                }
            };
            for (i, (key, value)) in fields.iter().enumerate() {
                if i == 0 {
                    out.push_str(&" ".repeat(dash));
                    out.push_str("- ");
                } else {
                    out.push_str(eol);
                    out.push_str(&" ".repeat(dash + 2));
                }
                out.push_str(&quote::render(key, Style::Plain, false));
                out.push_str(": ");
                out.push_str(&quote::render(value, Style::Plain, false));
            }
        }
    }
    out
}

/// `{f1: v1, f2: v2}`
pub(crate) fn flow_item(fields: &[(String, String)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                quote::render(k, Style::Plain, true),
                quote::render(v, Style::Plain, true)
            )
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// `k1: {k2: {k3: value}}`; with no keys, just the payload.
fn flow_entry(keys: &[String], payload: Payload<'_>) -> String {
    let mut out = match payload {
        Payload::Scalar(value) => quote::render(value, Style::Plain, true),
        Payload::Item(fields) => format!("[{}]", flow_item(fields)),
    };
    for (i, key) in keys.iter().enumerate().rev() {
        let entry = format!("{}: {out}", quote::render(key, Style::Plain, true));
        out = if i == 0 {
            entry
        } else {
            format!("{{{entry}}}")
        };
    }
    out
}

fn unsupported_layout(path: &KeyPath, depth: usize, what: &str) -> EditError {
    EditError::Unsupported {
        at: locate::at(path, depth),
        what: what.into(),
    }
}

/// Splices that create `keys` (at least one, unless the point is a null value) at `point`,
/// the last of them holding `payload`.
pub(crate) fn insert(
    src: &str,
    path: &KeyPath,
    depth: usize,
    point: InsertPoint,
    keys: &[String],
    payload: Payload<'_>,
) -> Result<Vec<Splice>, EditError> {
    let seq_indent = |doc: Option<&Node>| match payload {
        Payload::Item(_) => cst::sequence_indent(src, doc),
        Payload::Scalar(_) => 0,
    };
    match point {
        InsertPoint::BlockMapping(mapping) => {
            let indent = cst::mapping_key_column(src, &mapping).ok_or_else(|| {
                unsupported_layout(
                    path,
                    depth,
                    "a mapping whose indentation is not plain spaces",
                )
            })?;
            let last = cst::entries(&mapping, K::MAPPING_ENTRY)
                .pop()
                .and_then(|e| cst::last_content_token(&e, false))
                .ok_or_else(|| unsupported_layout(path, depth, "a mapping without entries"))?;
            let at = cst::line_end(src, cst::token_range(&last).end);
            let eol = cst::eol_at(src, at);
            let doc = mapping.ancestors().find(|n| n.kind() == K::DOCUMENT);
            let step = cst::indent_step(src, doc.as_ref());
            let lines = block_lines(indent, step, seq_indent(doc.as_ref()), keys, payload, eol);
            let text = format!("{eol}{lines}");
            Ok(vec![Splice {
                range: at..at,
                text,
            }])
        }
        InsertPoint::FlowMapping(mapping) => {
            let entry = flow_entry(keys, payload);
            let last = cst::entries(&mapping, K::MAPPING_ENTRY)
                .pop()
                .and_then(|e| cst::last_content_token(&e, true));
            let (at, text) = match last {
                Some(token) => (cst::token_range(&token).end, format!(", {entry}")),
                None => {
                    let brace = mapping
                        .children_with_tokens()
                        .filter_map(|e| e.into_token())
                        .find(|t| t.kind() == K::LEFT_BRACE)
                        .ok_or_else(|| {
                            unsupported_layout(path, depth, "a flow mapping without `{`")
                        })?;
                    (cst::token_range(&brace).end, entry)
                }
            };
            Ok(vec![Splice {
                range: at..at,
                text,
            }])
        }
        InsertPoint::NullValue { container, scalar } => {
            insert_under_null(src, path, depth, &container, &scalar, keys, payload)
        }
        InsertPoint::EmptyDocument { doc } => {
            let at = match &doc {
                None => src.len(),
                Some(doc) => doc
                    .children_with_tokens()
                    .filter_map(|e| e.into_token())
                    .find(|t| t.kind() == K::DOC_END)
                    .map_or(cst::range(doc).end, |t| cst::token_range(&t).start),
            };
            let eol = cst::file_eol(src);
            let step = cst::indent_step(src, doc.as_ref());
            let lines = block_lines(0, step, seq_indent(doc.as_ref()), keys, payload, eol);
            let at_line_start =
                at == 0 || matches!(src.as_bytes().get(at - 1), Some(b'\n' | b'\r'));
            let text = if at_line_start {
                format!("{lines}{eol}")
            } else {
                format!("{eol}{lines}")
            };
            Ok(vec![Splice {
                range: at..at,
                text,
            }])
        }
    }
}

fn insert_under_null(
    src: &str,
    path: &KeyPath,
    depth: usize,
    container: &Node,
    scalar: &Node,
    keys: &[String],
    payload: Payload<'_>,
) -> Result<Vec<Splice>, EditError> {
    let Some(entry) = container.parent().filter(|_| container.kind() == K::VALUE) else {
        return Err(unsupported_layout(
            path,
            depth,
            "adding keys under an empty sequence item",
        ));
    };
    let span = scalar_span(scalar, container).map_err(|()| {
        unsupported_layout(path, depth, "an empty value without a colon before it")
    })?;
    if cst::in_flow(scalar) {
        let text = if keys.is_empty() {
            flow_entry(keys, payload)
        } else {
            format!("{{{}}}", flow_entry(keys, payload))
        };
        let text = if span.is_empty() {
            format!(" {text}")
        } else {
            text
        };
        return Ok(vec![Splice { range: span, text }]);
    }
    let key_col = cst::first_content_token(&entry)
        .and_then(|t| cst::indent_column(src, cst::token_range(&t).start))
        .ok_or_else(|| {
            unsupported_layout(path, depth, "a key whose indentation is not plain spaces")
        })?;
    let doc = entry.ancestors().find(|n| n.kind() == K::DOCUMENT);
    let step = cst::indent_step(src, doc.as_ref());
    let seq_indent = match payload {
        Payload::Item(_) => cst::sequence_indent(src, doc.as_ref()),
        Payload::Scalar(_) => 0,
    };
    // Created keys nest one step in; a sequence that is the null key's own value sits where
    // the file puts sequences under their key.
    let indent = if keys.is_empty() {
        key_col + seq_indent
    } else {
        key_col + step
    };
    let mut splices = Vec::new();
    if !span.is_empty() {
        // `image: ~` becomes `image:` so the new block mapping can follow; the gap before the
        // `~` goes too, so no trailing space is left behind.
        let gap_start = cst::content_end_before(&entry, span.start).unwrap_or(span.start);
        splices.push(Splice {
            range: gap_start..span.end,
            text: String::new(),
        });
    }
    let at = cst::line_end(src, span.end);
    let eol = cst::eol_at(src, at);
    let text = format!(
        "{eol}{}",
        block_lines(indent, step, seq_indent, keys, payload, eol)
    );
    splices.push(Splice {
        range: at..at,
        text,
    });
    Ok(splices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_works_back_to_front() {
        let out = apply(
            "abcdef",
            vec![
                Splice {
                    range: 1..2,
                    text: "XX".into(),
                },
                Splice {
                    range: 4..4,
                    text: "-".into(),
                },
            ],
        );
        assert_eq!(out, "aXXcd-ef");
    }

    #[test]
    fn rendering_helpers() {
        let keys = vec!["a".to_string(), "b.c".to_string(), "1".to_string()];
        assert_eq!(
            block_lines(2, 2, 0, &keys, Payload::Scalar("1.10"), "\n"),
            "  a:\n    b.c:\n      \"1\": \"1.10\""
        );
        assert_eq!(
            flow_entry(&keys, Payload::Scalar("x,y")),
            "a: {b.c: {\"1\": \"x,y\"}}"
        );
        let fields = [
            ("name".to_string(), "app".to_string()),
            ("newTag".to_string(), "0.1".to_string()),
        ];
        let item = Payload::Item(&fields);
        assert_eq!(
            block_lines(0, 2, 2, &keys[..1], item, "\n"),
            "a:\n  - name: app\n    newTag: \"0.1\""
        );
        assert_eq!(
            block_lines(4, 2, 0, &[], item, "\n"),
            "    - name: app\n      newTag: \"0.1\""
        );
        assert_eq!(
            flow_entry(&keys[..1], item),
            "a: [{name: app, newTag: \"0.1\"}]"
        );
    }
}
