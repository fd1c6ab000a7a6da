//! Surgical edits of YAML files: set or read one scalar by path, changing only the bytes that
//! must change.
//!
//! Setting a value replaces just that scalar's bytes (adding quotes when the new string would
//! otherwise read as a number, bool, null or break the structure); inserting a missing key adds
//! one line, indented like its siblings. Comments, quoting of everything else, key order,
//! anchors, blank lines, CRLF, a byte order mark and a missing final newline all survive
//! byte-for-byte. Files are never round-tripped through a serializer.
//!
//! How: the edit is always a byte splice of the original text. Replacing an existing one-line
//! block value (what an image update does) takes a quick path: one streaming pass of saphyr's
//! parser finds the bytes, and a local guard proves with yaml_serde that the new bytes are one
//! scalar reading as the new string that ends where the old one did (costs less than one
//! parse; the argument is in `fast.rs`). Every other edit uses yaml-edit's lossless syntax
//! tree to find spans, and its result passes a guard that re-reads it with yaml_serde and
//! refuses it ([`EditError::Unsafe`]) unless it means exactly "the original with this one string
//! set" and the value reads back unchanged. Anything ambiguous (aliases, anchored nodes used
//! elsewhere, `<<` merges, duplicate keys, tags, block scalars) is refused, never guessed.
//!
//! Refused on purpose, each with its own [`EditError`] variant: targets that are block scalars
//! (`|`, `>`), creating sequence items by path (only [`set_kustomize_image`] appends one,
//! a whole new `images:` entry), keys under a null sequence item, explicit tags,
//! non-string or alias keys, and files the two parsers split into documents differently.
//! Multi-document files: the plain functions use the first document; the `_in` variants take
//! a [`DocSelector`] (index, or `kind` + `metadata.name`).
//!
//! On top of `set_scalar` sit two image helpers: [`set_kustomize_image`] edits (or appends) a
//! kustomization `images:` entry, and [`set_container_image`] rewrites one container's image
//! reference in a workload manifest, keeping `repo:tag@digest` well formed.
//!
//! This crate is pure: no I/O, no async, no dependency on the rest of the workspace, so any
//! layer can call it and it can be tested on strings alone.

#![warn(missing_docs)]

mod append;
mod cst;
mod doc;
mod edit;
mod error;
mod fast;
mod guard;
mod image_ref;
mod kustomize;
mod locate;
mod manifest;
mod ops;
mod path;
mod quote;
mod remove;
mod semantic;

use std::ops::Range;

pub use doc::DocSelector;
pub use error::EditError;
pub use image_ref::ImageReference;
pub use kustomize::{
    KustomizeImage, KustomizeImageState, get_kustomize_image, set_kustomize_image,
};
pub use manifest::{ContainerImage, get_container_image, set_container_image};
pub use path::{KeyPath, PathError, Segment};

use locate::Located;

/// Reads the scalar at `path` in the first document as a string: quoted and block scalars
/// decoded, plain numbers and bools exactly as written (`tag: 1.10` gives `"1.10"`, not `"1.1"`;
/// `tag: "1.4.2"` gives `"1.4.2"`; `tag: ''` gives `""`).
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
    if let DocSelector::Index(doc) = selector {
        match fast::set(src, *doc, path, value) {
            fast::Outcome::Edited(edited) => return Ok(edited),
            fast::Outcome::Unchanged => return Ok(src.to_owned()),
            fast::Outcome::Declined => {}
        }
    }
    set_scalar_full(src, selector, path, value)
}

/// [`set_scalar_in`] without the quick path for replacing a one-line block value: always two
/// parsers and the whole-file guard. Public so that tests and benchmarks can hold the quick
/// path to the same bytes; callers want [`set_scalar_in`].
#[doc(hidden)]
pub fn set_scalar_full(
    src: &str,
    selector: &DocSelector,
    path: &KeyPath,
    value: &str,
) -> Result<String, EditError> {
    let loaded = doc::load(src, selector, path)?;
    Ok(ops::set(src, &loaded, path, value)?.map_or_else(|| src.to_owned(), |(edited, _)| edited))
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
        // `locate` reports a collection at the target as an error, never as this.
        Located::Collection { node } => Err(EditError::NotAScalar {
            at: path.to_string(),
            found: cst::describe(Some(&node)),
        }),
    }
}
