//! Why an edit or read was refused. Every message says what the caller should change.

/// An edit or read that the engine refused. `at` is the canonical path (within the selected
/// document) of the node where the problem was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The input does not parse as YAML.
    #[error("the file is not valid YAML: {message}; fix the file before editing it")]
    InvalidYaml {
        /// The parser's message, with line and column when known.
        message: String,
    },

    /// A key was looked up in something that is not a mapping.
    #[error(
        "`{at}` is {found}, not a mapping, so the path cannot continue below it; check the path"
    )]
    NotAMapping {
        /// Where the non-mapping sits.
        at: String,
        /// What was found there, e.g. "a sequence" or "the string \"nginx\"".
        found: String,
    },

    /// An index was used on something that is not a sequence.
    #[error("`{at}` is {found}, not a sequence, so it cannot be indexed; check the path")]
    NotASequence {
        /// Where the non-sequence sits.
        at: String,
        /// What was found there.
        found: String,
    },

    /// The target is a mapping or a sequence, not a scalar.
    #[error("`{at}` is {found}, not a single value; point the path at a scalar below it")]
    NotAScalar {
        /// The target path.
        at: String,
        /// What was found there.
        found: String,
    },

    /// The path goes through an alias, or through a node whose anchor is used elsewhere, or
    /// through a mapping whose missing key may come from a `<<` merge. Editing would change
    /// other places too (or silently shadow them), so the engine refuses rather than guesses.
    #[error("`{at}`: {detail}")]
    Alias {
        /// Where the alias, anchor or merge key was found.
        at: String,
        /// Which of the three cases applies, and what to do about it.
        detail: String,
    },

    /// The same key appears twice in one mapping on the path.
    #[error("key `{at}` appears more than once in its mapping; remove the duplicate first")]
    DuplicateKey {
        /// The duplicated key's path.
        at: String,
    },

    /// A sequence index past the end. Items are never appended implicitly.
    #[error("`{at}` is out of range: the sequence has {len} item(s); indexes start at 0")]
    IndexOutOfRange {
        /// The path including the bad index.
        at: String,
        /// How many items the sequence has.
        len: usize,
    },

    /// The path is missing and needs a sequence item to be created, which the engine never does.
    #[error(
        "`{at}` does not exist and a sequence item cannot be created by a path; add the list item first"
    )]
    CannotCreate {
        /// The first missing part that would have to be a sequence.
        at: String,
    },

    /// The target is a block scalar (`|` or `>`). Rewriting it would change its layout, so the
    /// engine refuses; convert it to a one-line scalar by hand first.
    #[error("`{at}` is a block scalar (| or >); change it to a one-line value by hand, then retry")]
    BlockScalar {
        /// The target path.
        at: String,
    },

    /// Something valid YAML allows but this engine does not edit (tags, complex keys, non-string
    /// keys, tabs in indentation, ...).
    #[error("`{at}`: {what} is not supported by the editor")]
    Unsupported {
        /// Where it was found (may be empty for the whole file).
        at: String,
        /// What is unsupported.
        what: String,
    },

    /// The document selector matched no document.
    #[error("no document matches {selector}; the file has {count} document(s)")]
    DocumentNotFound {
        /// The selector, as text.
        selector: String,
        /// How many documents the file has.
        count: usize,
    },

    /// The document selector matched more than one document.
    #[error("{matches} documents match {selector}; use a document index instead")]
    AmbiguousDocument {
        /// The selector, as text.
        selector: String,
        /// How many documents matched.
        matches: usize,
    },

    /// No item with this name exists (an image entry, a container, ...). `available` lists
    /// the names that do exist, so the caller can correct a typo.
    #[error("no {what} named {name:?} in `{at}`; available: {}", list_or_none(.available))]
    NameNotFound {
        /// What was looked for, e.g. "container".
        what: String,
        /// The name asked for.
        name: String,
        /// Where the items were searched.
        at: String,
        /// The names found there.
        available: Vec<String>,
    },

    /// More than one item carries this name, so the engine cannot tell which one is meant.
    #[error("{count} {what}s are named {name:?} in `{at}`; make the names unique first")]
    AmbiguousName {
        /// What was looked for, e.g. "container".
        what: String,
        /// The duplicated name.
        name: String,
        /// Where the items were searched.
        at: String,
        /// How many items carry it.
        count: usize,
    },

    /// A container image reference (or a part given to replace one) is malformed.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidImageReference {
        /// The offending text.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The post-edit guard found that the result would not be exactly the requested change.
    /// The bad text is never returned. This is a bug in the engine, not in the request.
    #[error("the edit was not applied because its safety check failed: {reason}")]
    Unsafe {
        /// What the guard saw.
        reason: String,
    },
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
