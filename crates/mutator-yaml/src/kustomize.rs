//! Kustomization `images:` entries: read or set `newName`, `newTag` and `digest` of the entry
//! whose `name` matches, adding the entry when there is none.
//!
//! A kustomization is one document, so the first document is used. Every change is made with
//! the same guarded primitives as `set_scalar`, one after the other, so each step is checked.

use yaml_serde::Value;

use crate::doc::{self, DocSelector, Loaded};
use crate::error::EditError;
use crate::locate;
use crate::ops;
use crate::path::{KeyPath, Segment};

/// Fields to set on the kustomization `images:` entry with a given name; `None` leaves a field
/// as it is.
///
/// Setting `new_tag` without `digest` removes an existing `digest` from the entry: kustomize
/// prefers the digest over the tag, so a stale digest would keep the old image deployed while
/// the file claims the new tag. To keep a digest, pass it along.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KustomizeImage {
    /// `newName`: the repository to use instead of `name`.
    pub new_name: Option<String>,
    /// `newTag`.
    pub new_tag: Option<String>,
    /// `digest` (`sha256:…`).
    pub digest: Option<String>,
}

/// What a kustomization `images:` entry says now; `None` for a field that is absent or null.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KustomizeImageState {
    /// `newName`.
    pub new_name: Option<String>,
    /// `newTag`, as written (`newTag: 0.10` reads as `"0.10"`).
    pub new_tag: Option<String>,
    /// `digest`.
    pub digest: Option<String>,
}

const FIELDS: [&str; 3] = ["newName", "newTag", "digest"];

fn images_path() -> KeyPath {
    KeyPath::from_segments(vec![Segment::Key("images".into())])
        .unwrap_or_else(|_| unreachable!("one segment"))
}

fn field_path(index: usize, field: &str) -> KeyPath {
    images_path()
        .child(Segment::Index(index))
        .child(Segment::Key(field.into()))
}

/// Index of the entry named `name`, from the parsed values (which decode quoting and trim
/// plain scalars, so `name: app ` matches "app").
fn find(loaded: &Loaded, name: &str) -> Result<Option<usize>, EditError> {
    let items = match loaded.value().get("images") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Sequence(items)) => items,
        Some(other) => {
            return Err(EditError::NotASequence {
                at: "images".into(),
                found: match other {
                    Value::Mapping(_) => "a mapping".into(),
                    _ => "a scalar".into(),
                },
            });
        }
    };
    let matches: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.get("name").and_then(Value::as_str) == Some(name))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(EditError::AmbiguousName {
            what: "image entry".into(),
            name: name.into(),
            at: "images".into(),
            count: many.len(),
        }),
    }
}

fn read(loaded: &Loaded, path: &KeyPath) -> Result<Option<String>, EditError> {
    let located = locate::locate(loaded.doc.as_ref(), path)?;
    loaded.read(path, &located)
}

/// The `newName` / `newTag` / `digest` of the `images:` entry whose `name` is `name`;
/// `Ok(None)` when there is no such entry (or no `images:` at all). Errors when two entries
/// carry the name, when `images` is not a sequence, or when the file is not valid YAML.
pub fn get_kustomize_image(
    src: &str,
    name: &str,
) -> Result<Option<KustomizeImageState>, EditError> {
    let loaded = doc::load(src, &DocSelector::default(), &images_path())?;
    let Some(index) = find(&loaded, name)? else {
        return Ok(None);
    };
    Ok(Some(KustomizeImageState {
        new_name: read(&loaded, &field_path(index, "newName"))?,
        new_tag: read(&loaded, &field_path(index, "newTag"))?,
        digest: read(&loaded, &field_path(index, "digest"))?,
    }))
}

/// Sets the given fields of the `images:` entry whose `name` is `name` and returns the new text.
/// Existing values are replaced in place and missing fields are added as lines of the entry.
/// When no entry has the name, one is appended (`- name: …` with the given fields, laid out
/// like the existing items), and when the file has no `images:` (or `images: []`), it is
/// created. See [`KustomizeImage`] for the digest rule. Fields already holding the value are
/// left untouched, so a repeated call returns the input unchanged; with no field given, an
/// existing entry stays as it is and a missing one is added with its name only.
pub fn set_kustomize_image(
    src: &str,
    name: &str,
    change: &KustomizeImage,
) -> Result<String, EditError> {
    let selector = DocSelector::default();
    let loaded = doc::load(src, &selector, &images_path())?;
    let wanted: Vec<(&str, &String)> = FIELDS
        .into_iter()
        .zip([&change.new_name, &change.new_tag, &change.digest])
        .filter_map(|(field, value)| value.as_ref().map(|v| (field, v)))
        .collect();
    let Some(index) = find(&loaded, name)? else {
        let mut fields = vec![("name".to_owned(), name.to_owned())];
        fields.extend(wanted.iter().map(|(f, v)| ((*f).to_owned(), (*v).clone())));
        return Ok(ops::append(src, &loaded, &images_path(), &fields)?.0);
    };
    let has_digest = loaded
        .value()
        .get("images")
        .and_then(|images| images.get(index))
        .and_then(|item| item.get("digest"))
        .is_some_and(|d| !d.is_null());
    let drop_digest = change.new_tag.is_some() && change.digest.is_none() && has_digest;
    let mut text = src.to_owned();
    let mut current = loaded;
    if drop_digest {
        (text, current) = ops::remove(&text, &current, &field_path(index, "digest"))?;
    }
    for (field, value) in wanted {
        if let Some((edited, reloaded)) =
            ops::set(&text, &current, &field_path(index, field), value)?
        {
            (text, current) = (edited, reloaded);
        }
    }
    Ok(text)
}
