//! The post-edit check. It re-reads the result with an independent parser (yaml_serde) and
//! refuses the edit unless the result means exactly "the original, with this one change", then
//! re-reads it with the editing parser, which must still understand the file and find the
//! change there. It is cheap next to a network round trip, so it always runs.
//!
//! The original's values come from the load that planned the edit, so the original is parsed
//! once per edit, not once more here.

use yaml_serde::Value;

use crate::cst::Cst;
use crate::doc::Loaded;
use crate::error::EditError;
use crate::locate::{self, Located};
use crate::path::{KeyPath, Segment};
use crate::semantic;

/// What an edit is meant to do to the selected document.
pub(crate) enum Intent<'a> {
    /// The scalar at `path` becomes this string; missing keys and null parents become mappings.
    Set { path: &'a KeyPath, value: &'a str },
    /// The mapping entry at `path` disappears.
    Remove { path: &'a KeyPath },
    /// `item` (a mapping of strings) is appended to the sequence at `path`, which is created
    /// when missing or null.
    Append { path: &'a KeyPath, item: &'a Value },
}

impl Intent<'_> {
    fn path(&self) -> &KeyPath {
        match self {
            Intent::Set { path, .. } | Intent::Remove { path } | Intent::Append { path, .. } => {
                path
            }
        }
    }
}

fn unsafe_because(reason: String) -> EditError {
    EditError::Unsafe { reason }
}

/// Accepts `edited` as the result of `intent` on `original`, or says why not. On success it
/// returns `edited` loaded (both parses were needed for the check anyway), so a caller that
/// chains several edits does not parse each intermediate text again.
pub(crate) fn check(
    original: &Loaded,
    intent: &Intent<'_>,
    edited: &str,
) -> Result<Loaded, EditError> {
    let path = intent.path();
    let actual = semantic::parse_documents(edited)
        .map_err(|e| unsafe_because(format!("the edited file does not parse: {e}")))?;
    if actual.len() != original.values.len() {
        return Err(unsafe_because(format!(
            "the edit changed the number of documents from {} to {}",
            original.values.len(),
            actual.len()
        )));
    }
    for (i, (before, after)) in original.values.iter().zip(&actual).enumerate() {
        let difference = if i == original.index {
            intended_difference(before, after, intent)?
        } else {
            semantic::first_difference(before, after)
        };
        if let Some(at) = difference {
            return Err(unsafe_because(format!(
                "the edit would change more than `{path}`: document {i} differs at {at}"
            )));
        }
    }
    // Read back through the editing parser too: it must still understand the file, and find
    // exactly the change at the path.
    let cst = Cst::parse(edited).map_err(|e| {
        unsafe_because(format!(
            "the edited file no longer parses for the editor: {e}"
        ))
    })?;
    // The same agreement `doc::load` demands, so the returned value is as good as a load.
    let comment_only = cst.docs.is_empty() && actual.len() == 1 && actual[0].is_null();
    if cst.docs.len() != actual.len() && !comment_only {
        return Err(unsafe_because(format!(
            "the parsers disagree about the edited file: {} vs {} documents",
            cst.docs.len(),
            actual.len()
        )));
    }
    let loaded = Loaded {
        doc: cst.docs.get(original.index).cloned(),
        values: actual,
        index: original.index,
    };
    read_back_intent(&loaded, intent)?;
    Ok(loaded)
}

fn read_back_intent(loaded: &Loaded, intent: &Intent<'_>) -> Result<(), EditError> {
    match intent {
        Intent::Set { path, value } => read_back(loaded, path, value),
        Intent::Remove { path } => match locate::locate(loaded.doc.as_ref(), path) {
            Ok(Located::Missing { .. }) => Ok(()),
            Ok(_) => Err(unsafe_because(format!(
                "`{path}` is still found after its removal"
            ))),
            Err(e) => Err(unsafe_because(format!("`{path}` cannot be looked up: {e}"))),
        },
        Intent::Append { path, item } => {
            let len = match semantic::get(loaded.value(), path) {
                Some(Value::Sequence(s)) => s.len(),
                _ => return Err(unsafe_because(format!("`{path}` is not a sequence"))),
            };
            let new_item = path.child(Segment::Index(len.saturating_sub(1)));
            let Some(fields) = item.as_mapping() else {
                return Err(unsafe_because("the appended item is not a mapping".into()));
            };
            for (key, value) in fields {
                if let (Some(key), Some(value)) = (key.as_str(), value.as_str()) {
                    read_back(loaded, &new_item.child(Segment::Key(key.into())), value)?;
                }
            }
            Ok(())
        }
    }
}

/// The difference between the target document and what the intent makes of the original.
fn intended_difference(
    before: &Value,
    after: &Value,
    intent: &Intent<'_>,
) -> Result<Option<String>, EditError> {
    let mut expected = match intent {
        // The common case, and the one run on big files: compared without a copy.
        Intent::Set { path, value } => {
            return Ok(semantic::difference_after_set(
                Some(before),
                after,
                path.segments(),
                value,
            ));
        }
        Intent::Remove { .. } | Intent::Append { .. } => before.clone(),
    };
    let applied = match intent {
        Intent::Set { .. } => Ok(()),
        Intent::Remove { path } => semantic::remove(&mut expected, path),
        Intent::Append { path, item } => semantic::append(&mut expected, path, (*item).clone()),
    };
    applied.map_err(|e| {
        unsafe_because(format!(
            "the intended change does not fit the original: {e}"
        ))
    })?;
    Ok(semantic::first_difference(&expected, after))
}

fn read_back(loaded: &Loaded, path: &KeyPath, value: &str) -> Result<(), EditError> {
    let read =
        locate::locate(loaded.doc.as_ref(), path).and_then(|located| loaded.read(path, &located));
    match read {
        Ok(Some(read)) if read == value => Ok(()),
        Ok(other) => Err(unsafe_because(format!(
            "`{path}` reads back as {other:?} instead of {value:?}"
        ))),
        Err(e) => Err(unsafe_because(format!("`{path}` cannot be read back: {e}"))),
    }
}
