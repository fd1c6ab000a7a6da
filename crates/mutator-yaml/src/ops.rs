//! The guarded edit primitives every public edit is built from. Each one plans splices on the
//! already loaded original, applies them, and returns the text only if the guard accepts it.
//! Taking a [`Loaded`] lets a caller that already loaded the file for its own lookups (the
//! kustomize and manifest helpers) edit without parsing the original again.

use yaml_serde::{Mapping, Value};

use crate::doc::Loaded;
use crate::edit;
use crate::error::EditError;
use crate::guard::{self, Intent};
use crate::locate::{self, Located};
use crate::path::KeyPath;
use crate::{append, remove, semantic};

/// Sets the scalar at `path` to `value` (inserting missing keys). `None` when YAML already
/// reads exactly that string there, so the input stands as it is. The edited text comes back
/// loaded, ready for a further edit.
pub(crate) fn set(
    src: &str,
    loaded: &Loaded,
    path: &KeyPath,
    value: &str,
) -> Result<Option<(String, Loaded)>, EditError> {
    let located = locate::locate(loaded.doc.as_ref(), path)?;
    // A no-op only when YAML already reads the target as this very string: a plain `1.10` or
    // `true` is a number or bool, and setting the string "1.10" must quote it.
    if matches!(located, Located::Scalar { .. })
        && semantic::get(loaded.value(), path) == Some(&Value::String(value.to_owned()))
    {
        return Ok(None);
    }
    let splices = edit::plan(src, path, located, value)?;
    let edited = edit::apply(src, splices);
    let reloaded = guard::check(loaded, &Intent::Set { path, value }, &edited)?;
    Ok(Some((edited, reloaded)))
}

/// Removes the `key: scalar` entry at `path`, which must exist.
pub(crate) fn remove(
    src: &str,
    loaded: &Loaded,
    path: &KeyPath,
) -> Result<(String, Loaded), EditError> {
    let splice = remove::plan(src, loaded.doc.as_ref(), path)?;
    let edited = edit::apply(src, vec![splice]);
    let reloaded = guard::check(loaded, &Intent::Remove { path }, &edited)?;
    Ok((edited, reloaded))
}

/// Appends a mapping of string `fields` (in order, at least one) to the sequence at `path`,
/// creating the sequence when it is missing or null.
pub(crate) fn append(
    src: &str,
    loaded: &Loaded,
    path: &KeyPath,
    fields: &[(String, String)],
) -> Result<(String, Loaded), EditError> {
    let splices = append::plan(src, loaded.doc.as_ref(), path, fields)?;
    let edited = edit::apply(src, splices);
    let item = Value::Mapping(
        fields
            .iter()
            .map(|(k, v)| (Value::String(k.clone()), Value::String(v.clone())))
            .collect::<Mapping>(),
    );
    let reloaded = guard::check(loaded, &Intent::Append { path, item: &item }, &edited)?;
    Ok((edited, reloaded))
}
