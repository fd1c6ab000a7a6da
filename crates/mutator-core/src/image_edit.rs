//! The image update of one environment, planned as a surgical edit of its values file.

use mutator_yaml::{ContainerImage, DocSelector, EditError, ImageReference, KustomizeImage};
use serde::Serialize;

use crate::image::{ImageDigest, ImageRepository, ImageTag};
use crate::layout::ImageFormat;
use crate::names::AppName;

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
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("cannot edit `{at}`: {source}")]
    Yaml { at: String, source: EditError },
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
    /// Which fields changed, as `field: old -> new` lines for the commit body.
    pub changes: Vec<String>,
}

impl ImageEdit {
    /// Whether the file changes at all.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// The image of one application in one file of a given format.
struct Target<'a> {
    format: &'a ImageFormat,
    app: &'a AppName,
}

impl Target<'_> {
    fn at(&self) -> String {
        match self.format {
            ImageFormat::Helm(keys) => keys.tag.to_string(),
            ImageFormat::Kustomize { image } => format!("images[name={}]", image.resolve(self.app)),
            ImageFormat::Manifest { container, .. } => {
                format!("containers[name={}].image", container.resolve(self.app))
            }
        }
    }

    fn selector(&self) -> DocSelector {
        match self.format {
            ImageFormat::Manifest {
                workload: Some((kind, name)),
                ..
            } => DocSelector::KindName {
                kind: kind.clone(),
                name: name.resolve(self.app),
            },
            _ => DocSelector::default(),
        }
    }

    fn read(&self, text: &str) -> Result<ImageState, EditError> {
        match self.format {
            ImageFormat::Helm(keys) => Ok(ImageState {
                tag: mutator_yaml::get_scalar(text, &keys.tag)?,
                repository: mutator_yaml::get_scalar(text, &keys.repository)?,
                digest: mutator_yaml::get_scalar(text, &keys.digest)?,
            }),
            ImageFormat::Kustomize { image } => {
                let state = mutator_yaml::get_kustomize_image(text, &image.resolve(self.app))?
                    .unwrap_or_default();
                Ok(ImageState {
                    tag: state.new_tag,
                    repository: state.new_name,
                    digest: state.digest,
                })
            }
            ImageFormat::Manifest { container, .. } => {
                let current = mutator_yaml::get_container_image(
                    text,
                    &self.selector(),
                    &container.resolve(self.app),
                )?;
                match current {
                    None => Ok(ImageState::default()),
                    Some(reference) => {
                        let r = ImageReference::parse(&reference)?;
                        Ok(ImageState {
                            tag: r.tag,
                            repository: Some(r.repository),
                            digest: r.digest,
                        })
                    }
                }
            }
        }
    }

    /// Sets only the fields that differ, so a field equal to the request is never rewritten.
    fn write(&self, text: &str, wanted: &Wanted) -> Result<String, EditError> {
        match self.format {
            ImageFormat::Helm(keys) => {
                let mut out = text.to_owned();
                for (key, value) in [
                    (&keys.repository, &wanted.repository),
                    (&keys.tag, &wanted.tag),
                    (&keys.digest, &wanted.digest),
                ] {
                    if let Some(value) = value {
                        out = mutator_yaml::set_scalar(&out, key, value)?;
                    }
                }
                Ok(out)
            }
            ImageFormat::Kustomize { image } => mutator_yaml::set_kustomize_image(
                text,
                &image.resolve(self.app),
                &KustomizeImage {
                    new_name: wanted.repository.clone(),
                    new_tag: wanted.tag.clone(),
                    digest: wanted.digest.clone(),
                },
            ),
            ImageFormat::Manifest { container, .. } => mutator_yaml::set_container_image(
                text,
                &self.selector(),
                &container.resolve(self.app),
                &ContainerImage {
                    repository: wanted.repository.clone(),
                    tag: wanted.tag.clone(),
                    digest: wanted.digest.clone(),
                },
            ),
        }
    }
}

/// The fields a request asks for that differ from the file.
struct Wanted {
    tag: Option<String>,
    repository: Option<String>,
    digest: Option<String>,
}

/// The image fields of `app` as the file holds them.
pub fn read_image_state(
    current: &[u8],
    format: &ImageFormat,
    app: &AppName,
) -> Result<ImageState, ImageEditError> {
    let text = std::str::from_utf8(current).map_err(|_| ImageEditError::NotText)?;
    let target = Target { format, app };
    target.read(text).map_err(|source| ImageEditError::Yaml {
        at: target.at(),
        source,
    })
}

/// Plans the edit of `current` that sets the requested image fields of `app` in a file of the
/// given format. With `expected_tag`, a different current tag refuses the whole edit. The
/// commit body lines are read back from the edited file, so a digest that the edit dropped
/// (kustomize and manifests drop a stale digest with a new tag) is reported too.
pub fn plan_image_edit(
    current: &[u8],
    format: &ImageFormat,
    app: &AppName,
    change: &ImageChange,
    expected_tag: Option<&ImageTag>,
) -> Result<ImageEdit, ImageEditError> {
    let text = std::str::from_utf8(current).map_err(|_| ImageEditError::NotText)?;
    let target = Target { format, app };
    let yaml = |source| ImageEditError::Yaml {
        at: target.at(),
        source,
    };
    let previous = target.read(text).map_err(yaml)?;
    if let Some(expected) = expected_tag
        && previous.tag.as_deref() != Some(expected.as_str())
    {
        return Err(ImageEditError::PreconditionFailed {
            expected: expected.to_string(),
            actual: previous.tag.clone(),
        });
    }
    let differs = |new: Option<&str>, old: &Option<String>| {
        new.filter(|n| old.as_deref() != Some(*n))
            .map(str::to_owned)
    };
    let wanted = Wanted {
        tag: differs(change.tag.as_ref().map(|t| t.as_str()), &previous.tag),
        repository: differs(
            change.repository.as_ref().map(|r| r.as_str()),
            &previous.repository,
        ),
        digest: differs(change.digest.as_ref().map(|d| d.as_str()), &previous.digest),
    };
    if wanted.tag.is_none() && wanted.repository.is_none() && wanted.digest.is_none() {
        return Ok(ImageEdit {
            previous,
            text: text.to_owned(),
            changes: Vec::new(),
        });
    }
    let edited = target.write(text, &wanted).map_err(yaml)?;
    let after = target.read(&edited).map_err(yaml)?;
    let mut changes = Vec::new();
    for (field, old, new) in [
        ("repository", &previous.repository, &after.repository),
        ("tag", &previous.tag, &after.tag),
        ("digest", &previous.digest, &after.digest),
    ] {
        if old != new {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
            changes.push(format!("{field}: {} -> {}", show(old), show(new)));
        }
    }
    Ok(ImageEdit {
        previous,
        text: edited,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::layout::{ImageKeys, NameTemplate};

    fn helm() -> ImageFormat {
        ImageFormat::Helm(ImageKeys::default())
    }

    fn app() -> AppName {
        AppName::parse("payments").unwrap()
    }

    fn change(tag: &str) -> ImageChange {
        ImageChange {
            tag: Some(ImageTag::parse(tag).unwrap()),
            ..Default::default()
        }
    }

    const VALUES: &str = "# staging\nimage:\n  repository: ghcr.io/acme/payments # app\n  tag: \"1.4.1\"\nreplicas: 2\n";

    #[test]
    fn sets_the_tag_and_reports_the_previous_one() {
        let edit =
            plan_image_edit(VALUES.as_bytes(), &helm(), &app(), &change("1.4.2"), None).unwrap();
        assert_eq!(edit.previous.tag.as_deref(), Some("1.4.1"));
        assert_eq!(edit.text, VALUES.replace("1.4.1", "1.4.2"));
        assert_eq!(edit.changes, vec!["tag: 1.4.1 -> 1.4.2".to_owned()]);
    }

    #[test]
    fn same_tag_changes_nothing() {
        let edit =
            plan_image_edit(VALUES.as_bytes(), &helm(), &app(), &change("1.4.1"), None).unwrap();
        assert!(!edit.changed());
        assert_eq!(edit.text, VALUES);
    }

    #[test]
    fn precondition_is_checked_before_any_edit() {
        let expected = ImageTag::parse("1.3.0").unwrap();
        let err = plan_image_edit(
            VALUES.as_bytes(),
            &helm(),
            &app(),
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
        let edit = plan_image_edit(VALUES.as_bytes(), &helm(), &app(), &c, None).unwrap();
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
        let edit = plan_image_edit(src.as_bytes(), &helm(), &app(), &change("1.10"), None).unwrap();
        assert!(
            edit.text.contains("tag: \"1.10\"") || edit.text.contains("tag: '1.10'"),
            "{}",
            edit.text
        );
    }

    #[test]
    fn binary_file_is_refused() {
        let err =
            plan_image_edit(&[0xff, 0xfe, 0x00], &helm(), &app(), &change("1"), None).unwrap_err();
        assert_eq!(err, ImageEditError::NotText);
    }

    #[test]
    fn kustomize_images_entry() {
        let src = "resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/payments\n    newTag: \"1.0.0\"\n    digest: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
        let format = ImageFormat::Kustomize {
            image: NameTemplate::parse("ghcr.io/acme/{application}").unwrap(),
        };
        let edit =
            plan_image_edit(src.as_bytes(), &format, &app(), &change("1.1.0"), None).unwrap();
        assert_eq!(edit.previous.tag.as_deref(), Some("1.0.0"));
        assert!(edit.text.contains("newTag: \"1.1.0\""), "{}", edit.text);
        assert!(
            !edit.text.contains("digest"),
            "a stale digest is dropped with a new tag: {}",
            edit.text
        );
        assert_eq!(edit.changes, vec!["tag: 1.0.0 -> 1.1.0".to_owned(), "digest: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -> (none)".to_owned()]);
    }

    #[test]
    fn manifest_container_image() {
        let src = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments\nspec:\n  template:\n    spec:\n      containers:\n        - name: payments\n          image: registry:5000/acme/payments:1.0.0 # pinned\n";
        let format = ImageFormat::Manifest {
            container: NameTemplate::parse("{application}").unwrap(),
            workload: Some((
                "Deployment".to_owned(),
                NameTemplate::parse("{application}").unwrap(),
            )),
        };
        let edit =
            plan_image_edit(src.as_bytes(), &format, &app(), &change("1.0.1"), None).unwrap();
        assert_eq!(
            edit.previous.repository.as_deref(),
            Some("registry:5000/acme/payments")
        );
        assert_eq!(edit.text, src.replace(":1.0.0 #", ":1.0.1 #"));
        let again = plan_image_edit(
            edit.text.as_bytes(),
            &format,
            &app(),
            &change("1.0.1"),
            None,
        )
        .unwrap();
        assert!(!again.changed());
    }
}
