//! The image update of one environment, planned as a surgical edit of its values file.

use mutator_yaml::{EditError, KeyPath};
use serde::Serialize;

use crate::image::{ImageDigest, ImageRepository, ImageTag};
use crate::layout::ImageKeys;

/// The image fields a request sets; absent fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageChange {
    pub tag: Option<ImageTag>,
    pub repository: Option<ImageRepository>,
    pub digest: Option<ImageDigest>,
}

/// The image fields as a values file holds them (absent or null fields are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImageState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Why an image update cannot be applied to the file as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageEditError {
    #[error("the values file is not UTF-8 text")]
    NotText,
    #[error("cannot edit `{key}`: {source}")]
    Yaml { key: String, source: EditError },
    #[error(
        "expected image tag {expected:?} but the current tag is {actual:?}; nothing was changed"
    )]
    PreconditionFailed {
        expected: String,
        actual: Option<String>,
    },
}

/// The outcome of planning an image update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEdit {
    /// The image fields before the edit.
    pub previous: ImageState,
    /// The new file text (equal to the input when nothing changes).
    pub text: String,
    /// Which keys changed, as `key: old -> new` lines for the commit body.
    pub changes: Vec<String>,
}

impl ImageEdit {
    /// Whether the file changes at all.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

fn read(text: &str, key: &KeyPath) -> Result<Option<String>, ImageEditError> {
    mutator_yaml::get_scalar(text, key).map_err(|source| ImageEditError::Yaml {
        key: key.to_string(),
        source,
    })
}

/// Plans the edit of `current` (a values file) that sets the requested image fields. With
/// `expected_tag`, a different current tag refuses the whole edit.
pub fn plan_image_edit(
    current: &[u8],
    keys: &ImageKeys,
    change: &ImageChange,
    expected_tag: Option<&ImageTag>,
) -> Result<ImageEdit, ImageEditError> {
    let mut text = std::str::from_utf8(current)
        .map_err(|_| ImageEditError::NotText)?
        .to_owned();
    let previous = ImageState {
        tag: read(&text, &keys.tag)?,
        repository: read(&text, &keys.repository)?,
        digest: read(&text, &keys.digest)?,
    };
    if let Some(expected) = expected_tag
        && previous.tag.as_deref() != Some(expected.as_str())
    {
        return Err(ImageEditError::PreconditionFailed {
            expected: expected.to_string(),
            actual: previous.tag.clone(),
        });
    }
    let wanted = [
        (
            &keys.repository,
            change.repository.as_ref().map(|r| r.as_str()),
            &previous.repository,
        ),
        (
            &keys.tag,
            change.tag.as_ref().map(|t| t.as_str()),
            &previous.tag,
        ),
        (
            &keys.digest,
            change.digest.as_ref().map(|d| d.as_str()),
            &previous.digest,
        ),
    ];
    let mut changes = Vec::new();
    for (key, new, old) in wanted {
        let Some(new) = new else { continue };
        if old.as_deref() == Some(new) {
            continue;
        }
        text =
            mutator_yaml::set_scalar(&text, key, new).map_err(|source| ImageEditError::Yaml {
                key: key.to_string(),
                source,
            })?;
        changes.push(format!(
            "{key}: {} -> {new}",
            old.as_deref().unwrap_or("(none)")
        ));
    }
    Ok(ImageEdit {
        previous,
        text,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(tag: &str) -> ImageChange {
        ImageChange {
            tag: Some(ImageTag::parse(tag).unwrap()),
            ..Default::default()
        }
    }

    const VALUES: &str = "# staging\nimage:\n  repository: ghcr.io/acme/payments # app\n  tag: \"1.4.1\"\nreplicas: 2\n";

    #[test]
    fn sets_the_tag_and_reports_the_previous_one() {
        let edit = plan_image_edit(
            VALUES.as_bytes(),
            &ImageKeys::default(),
            &change("1.4.2"),
            None,
        )
        .unwrap();
        assert_eq!(edit.previous.tag.as_deref(), Some("1.4.1"));
        assert_eq!(edit.text, VALUES.replace("1.4.1", "1.4.2"));
        assert_eq!(edit.changes, vec!["image.tag: 1.4.1 -> 1.4.2".to_owned()]);
    }

    #[test]
    fn same_tag_changes_nothing() {
        let edit = plan_image_edit(
            VALUES.as_bytes(),
            &ImageKeys::default(),
            &change("1.4.1"),
            None,
        )
        .unwrap();
        assert!(!edit.changed());
        assert_eq!(edit.text, VALUES);
    }

    #[test]
    fn precondition_is_checked_before_any_edit() {
        let expected = ImageTag::parse("1.3.0").unwrap();
        let err = plan_image_edit(
            VALUES.as_bytes(),
            &ImageKeys::default(),
            &change("1.4.2"),
            Some(&expected),
        )
        .unwrap_err();
        assert!(
            matches!(err, ImageEditError::PreconditionFailed { .. }),
            "{err}"
        );
    }

    #[test]
    fn digest_is_inserted_when_missing() {
        let c = ImageChange {
            digest: Some(ImageDigest::parse(format!("sha256:{}", "b".repeat(64))).unwrap()),
            ..Default::default()
        };
        let edit = plan_image_edit(VALUES.as_bytes(), &ImageKeys::default(), &c, None).unwrap();
        assert!(
            edit.text
                .contains(&format!("  digest: sha256:{}\n", "b".repeat(64))),
            "{}",
            edit.text
        );
        assert!(
            edit.text
                .starts_with("# staging\nimage:\n  repository: ghcr.io/acme/payments # app\n")
        );
    }

    #[test]
    fn numeric_looking_tags_are_quoted() {
        let src = "image:\n  tag: latest\n";
        let edit =
            plan_image_edit(src.as_bytes(), &ImageKeys::default(), &change("1.10"), None).unwrap();
        assert!(
            edit.text.contains("tag: \"1.10\"") || edit.text.contains("tag: '1.10'"),
            "{}",
            edit.text
        );
    }

    #[test]
    fn binary_file_is_refused() {
        let err = plan_image_edit(
            &[0xff, 0xfe, 0x00],
            &ImageKeys::default(),
            &change("1"),
            None,
        )
        .unwrap_err();
        assert_eq!(err, ImageEditError::NotText);
    }
}
