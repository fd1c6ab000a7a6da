//! Surgical edits of YAML files: set or read one scalar by path, changing only the bytes that
//! must change.
//!
//! Setting a value replaces just that scalar's bytes (adding quotes when the new string would
//! otherwise read as a number, bool, null or break the structure); inserting a missing key adds
//! one line, indented like its siblings. Comments, quoting of everything else, key order,
//! anchors, blank lines, CRLF, a byte order mark and a missing final newline all survive
//! byte-for-byte. Files are never round-tripped through a serializer.
//!
//! How: yaml-edit's lossless syntax tree is used only to find spans; the edit is a byte splice
//! of the original text. Every result then passes a guard that re-reads it with yaml_serde and
//! refuses it ([`EditError::Unsafe`]) unless it means exactly "the original with this one string
//! set" and the value reads back unchanged. Anything ambiguous (aliases, anchored nodes used
//! elsewhere, `<<` merges, duplicate keys, tags, block scalars) is refused, never guessed.
//!
//! This crate is pure: no I/O, no async, no dependency on the rest of the workspace, so any
//! layer can call it and it can be tested on strings alone.

mod cst;
mod doc;
mod edit;
mod error;
mod guard;
mod locate;
mod path;
mod quote;
mod semantic;

use std::ops::Range;

pub use doc::DocSelector;
pub use error::EditError;
pub use path::{KeyPath, PathError, Segment};

use locate::Located;

/// Reads the scalar at `path` in the first document as the string YAML gives for it
/// (`tag: 1.10` gives `"1.10"`, `tag: "1.4.2"` gives `"1.4.2"`, `tag: ''` gives `""`).
///
/// `Ok(None)` when the path or a parent is absent (including an index past the end) or the
/// value is null (`tag:`, `tag: ~`, `tag: null`). Errors when the value is a mapping or
/// sequence, the path crosses the wrong kind of node, goes through an alias or merge, or the
/// file is not valid YAML.
pub fn get_scalar(src: &str, path: &KeyPath) -> Result<Option<String>, EditError> {
    get_scalar_in(src, &DocSelector::default(), path)
}

/// [`get_scalar`] in the document chosen by `selector`.
pub fn get_scalar_in(
    src: &str,
    selector: &DocSelector,
    path: &KeyPath,
) -> Result<Option<String>, EditError> {
    let loaded = doc::load(src, selector, path)?;
    let located = locate::locate(loaded.doc.as_ref(), path)?;
    loaded.read(path, &located)
}

/// Sets the scalar at `path` in the first document to the string `value` and returns the new
/// text. Missing keys and missing parent mappings are inserted with the file's indentation
/// (or as `, key: value` in a flow mapping). If YAML already reads the target as exactly that
/// string, the input is returned unchanged; a plain `tag: 1.10` is the float 1.1 to YAML, so
/// setting "1.10" there quotes it.
pub fn set_scalar(src: &str, path: &KeyPath, value: &str) -> Result<String, EditError> {
    set_scalar_in(src, &DocSelector::default(), path, value)
}

/// [`set_scalar`] in the document chosen by `selector`.
pub fn set_scalar_in(
    src: &str,
    selector: &DocSelector,
    path: &KeyPath,
    value: &str,
) -> Result<String, EditError> {
    let loaded = doc::load(src, selector, path)?;
    let located = locate::locate(loaded.doc.as_ref(), path)?;
    // A no-op only when YAML already reads the target as this very string: a plain `1.10` or
    // `true` is a number or bool, and setting the string "1.10" must quote it.
    if matches!(located, Located::Scalar { .. })
        && semantic::get(loaded.value(), path) == Some(&yaml_serde::Value::String(value.to_owned()))
    {
        return Ok(src.to_owned());
    }
    let splices = edit::plan(src, path, located, value)?;
    let edited = edit::apply(src, splices);
    guard::check(&loaded.values, loaded.index, path, value, &edited)?;
    Ok(edited)
}

/// Byte range of the scalar at `path` in the first document, quotes included; `Ok(None)` when
/// it is absent. An empty value (`tag:`) gives a zero-width range right after its colon, where
/// [`set_scalar`] writes ` value`. Useful for reporting line numbers and for checking that an
/// edit stayed inside its target.
pub fn value_span(src: &str, path: &KeyPath) -> Result<Option<Range<usize>>, EditError> {
    value_span_in(src, &DocSelector::default(), path)
}

/// [`value_span`] in the document chosen by `selector`.
pub fn value_span_in(
    src: &str,
    selector: &DocSelector,
    path: &KeyPath,
) -> Result<Option<Range<usize>>, EditError> {
    let loaded = doc::load(src, selector, path)?;
    match locate::locate(loaded.doc.as_ref(), path)? {
        Located::Scalar { scalar, container } => Ok(Some(
            edit::scalar_span(&scalar, &container).unwrap_or_else(|()| cst::range(&scalar)),
        )),
        Located::Missing { .. } | Located::OutOfRange { .. } => Ok(None),
    }
}
