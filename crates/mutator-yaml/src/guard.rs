//! The post-edit check. It re-reads the result with an independent parser (yaml_serde) and
//! refuses the edit unless the result means exactly "the original, with this one string set".
//! It is cheap next to a network round trip, so it always runs.

use yaml_serde::Value;

use crate::cst::Cst;
use crate::doc::Loaded;
use crate::locate;
use crate::error::EditError;
use crate::path::KeyPath;
use crate::semantic;

pub(crate) fn check(
    original: &[Value],
    index: usize,
    path: &KeyPath,
    value: &str,
    edited: &str,
) -> Result<(), EditError> {
    let unsafe_because = |reason: String| EditError::Unsafe { reason };
    let actual = semantic::parse_documents(edited)
        .map_err(|e| unsafe_because(format!("the edited file does not parse: {e}")))?;
    let mut expected = original.to_vec();
    let Some(target_doc) = expected.get_mut(index) else {
        return Err(unsafe_because(format!("document {index} vanished")));
    };
    semantic::set(target_doc, path, value)
        .map_err(|e| unsafe_because(format!("the intended change does not fit the original: {e}")))?;
    if actual.len() != expected.len() {
        return Err(unsafe_because(format!(
            "the edit changed the number of documents from {} to {}",
            expected.len(),
            actual.len()
        )));
    }
    for (i, (want, got)) in expected.iter().zip(&actual).enumerate() {
        if let Some(at) = semantic::first_difference(want, got) {
            return Err(unsafe_because(format!(
                "the edit would change more than `{path}`: document {i} differs at {at}"
            )));
        }
    }
    // Read back through the editing parser too: it must still understand the file, and find
    // exactly the new string at the path.
    let cst = Cst::parse(edited).map_err(|e| unsafe_because(format!("the edited file no longer parses for the editor: {e}")))?;
    let loaded = Loaded {
        doc: cst.docs.get(index).cloned(),
        values: actual,
        index,
    };
    let read = locate::locate(loaded.doc.as_ref(), path).and_then(|located| loaded.read(path, &located));
    match read {
        Ok(Some(read)) if read == value => Ok(()),
        Ok(other) => Err(unsafe_because(format!(
            "`{path}` reads back as {other:?} instead of {value:?}"
        ))),
        Err(e) => Err(unsafe_because(format!("`{path}` cannot be read back: {e}"))),
    }
}
