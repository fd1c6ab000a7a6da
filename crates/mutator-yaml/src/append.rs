//! Plans appending one mapping item to a sequence: after the last item of a block sequence
//! (dash and fields aligned like the items already there), after the last entry of a flow
//! sequence, or as a new sequence where the key is null or missing.

use yaml_edit::SyntaxKind as K;

use crate::cst::{self, Node};
use crate::edit::{self, Payload, Splice};
use crate::error::EditError;
use crate::locate::{self, InsertPoint, Located};
use crate::path::KeyPath;
use crate::quote::{self, Style};

/// Splices that append a mapping of `fields` (in order, never empty) to the sequence at `path`.
pub(crate) fn plan(
    src: &str,
    doc: Option<&Node>,
    path: &KeyPath,
    fields: &[(String, String)],
) -> Result<Vec<Splice>, EditError> {
    let depth = path.segments().len();
    let not_a_sequence = |found: Option<&Node>| EditError::NotASequence {
        at: locate::at(path, depth),
        found: cst::describe(found),
    };
    match locate::locate_any(doc, path)? {
        Located::Collection { node } if node.kind() == K::SEQUENCE => {
            if cst::is_flow_collection(&node) {
                flow(path, &node, fields)
            } else {
                block(src, path, &node, fields)
            }
        }
        Located::Collection { node } => Err(not_a_sequence(Some(&node))),
        // `images:` or `images: ~`: the new sequence becomes the value.
        Located::Scalar { scalar, container } if locate::is_null_scalar(&scalar) => edit::insert(
            src,
            path,
            depth,
            InsertPoint::NullValue { container, scalar },
            &[],
            Payload::Item(fields),
        ),
        Located::Scalar { scalar, .. } => Err(not_a_sequence(Some(&scalar))),
        Located::Missing { depth, point } => {
            let keys = edit::missing_keys(path, depth)?;
            edit::insert(src, path, depth, point, &keys, Payload::Item(fields))
        }
        Located::OutOfRange { at, len } => Err(EditError::IndexOutOfRange { at, len }),
    }
}

fn unsupported(path: &KeyPath, what: &str) -> EditError {
    EditError::Unsupported {
        at: locate::at(path, path.segments().len()),
        what: what.into(),
    }
}

fn block(
    src: &str,
    path: &KeyPath,
    sequence: &Node,
    fields: &[(String, String)],
) -> Result<Vec<Splice>, EditError> {
    let items = cst::entries(sequence, K::SEQUENCE_ENTRY);
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Err(unsupported(path, "a block sequence without items"));
    };
    let dash = cst::first_content_token(first)
        .filter(|t| t.kind() == K::DASH)
        .ok_or_else(|| unsupported(path, "a sequence item without a dash"))?;
    let dash_start = cst::token_range(&dash).start;
    let dash_col = cst::indent_column(src, dash_start)
        .ok_or_else(|| unsupported(path, "a sequence whose indentation is not plain spaces"))?;
    // Fields line up with the first item's content when it shares the dash's line
    // (`-   name: x` keeps its width); otherwise the usual `- `.
    let content = first
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| {
            !matches!(
                t.kind(),
                K::DASH | K::WHITESPACE | K::NEWLINE | K::INDENT | K::COMMENT
            ) && !t.text().is_empty()
        })
        .map(|t| cst::token_range(&t).start)
        .next();
    let offset = content
        .filter(|&start| cst::line_start(src, start) == cst::line_start(src, dash_start))
        .and_then(|start| cst::indent_column(src, start))
        .map_or(2, |col| col.saturating_sub(dash_col).max(2));
    let end = cst::last_content_token(last, false)
        .map(|t| cst::token_range(&t).end)
        .ok_or_else(|| unsupported(path, "a sequence item without content"))?;
    let at = cst::line_end(src, end);
    let eol = cst::eol_at(src, at);
    let mut text = String::new();
    for (i, (key, value)) in fields.iter().enumerate() {
        text.push_str(eol);
        if i == 0 {
            text.push_str(&" ".repeat(dash_col));
            text.push('-');
            text.push_str(&" ".repeat(offset - 1));
        } else {
            text.push_str(&" ".repeat(dash_col + offset));
        }
        text.push_str(&quote::render(key, Style::Plain, false));
        text.push_str(": ");
        text.push_str(&quote::render(value, Style::Plain, false));
    }
    Ok(vec![Splice {
        range: at..at,
        text,
    }])
}

fn flow(
    path: &KeyPath,
    sequence: &Node,
    fields: &[(String, String)],
) -> Result<Vec<Splice>, EditError> {
    let item = edit::flow_item(fields);
    let last = cst::entries(sequence, K::SEQUENCE_ENTRY)
        .pop()
        .and_then(|e| cst::last_content_token(&e, true));
    let (at, text) = match last {
        Some(token) => (cst::token_range(&token).end, format!(", {item}")),
        None => {
            let bracket = sequence
                .children_with_tokens()
                .filter_map(|e| e.into_token())
                .find(|t| t.kind() == K::LEFT_BRACKET)
                .ok_or_else(|| unsupported(path, "a flow sequence without `[`"))?;
            (cst::token_range(&bracket).end, item)
        }
    };
    Ok(vec![Splice {
        range: at..at,
        text,
    }])
}
