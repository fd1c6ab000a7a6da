//! Container images in Kubernetes manifests: find a container by name in a workload's pod
//! template and read or rewrite its `image`, changing only the parts of the reference asked for.

use yaml_serde::Value;

use crate::doc::{self, DocSelector, Loaded};
use crate::error::EditError;
use crate::image_ref::{self, ImageReference};
use crate::locate;
use crate::ops;
use crate::path::{KeyPath, Segment};

/// The parts of a container's image reference to replace; `None` keeps a part as it is.
///
/// Digest rule: setting `tag` without `digest` removes an existing digest
/// (`app:1.0@sha256:…` with tag `1.1` becomes `app:1.1`), because a runtime pulls by digest
/// when there is one, so a stale digest would keep the old image running under the new tag.
/// To keep or set a digest together with the tag, pass `digest` as well. Setting only
/// `digest` keeps the tag (`app:1.0@sha256:new`); setting only `repository` keeps both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerImage {
    /// Registry and path, e.g. `registry.k8s.io/ingress-nginx/controller` or
    /// `localhost:5000/app` (no tag, no digest).
    pub repository: Option<String>,
    /// Tag without the `:`.
    pub tag: Option<String>,
    /// Digest without the `@`, e.g. `sha256:…`.
    pub digest: Option<String>,
}

/// Where the pod spec sits for each supported kind.
fn pod_spec(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &["spec", "template", "spec"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "Pod" => &["spec"],
        _ => return None,
    })
}

const SUPPORTED: &str = "Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod";
const LISTS: [&str; 2] = ["containers", "initContainers"];

fn key_path(keys: &[&str]) -> Result<KeyPath, EditError> {
    KeyPath::from_segments(keys.iter().map(|k| Segment::Key((*k).into())).collect()).map_err(|e| {
        EditError::Unsupported {
            at: String::new(),
            what: e.to_string(),
        }
    })
}

/// The path of the named container's `image` in the selected document.
fn image_path(loaded: &Loaded, container: &str) -> Result<KeyPath, EditError> {
    let doc = loaded.value();
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| EditError::Unsupported {
            at: "kind".into(),
            what: "a document without a string `kind` (container images are edited in workloads)"
                .into(),
        })?;
    let spec_keys = pod_spec(kind).ok_or_else(|| EditError::Unsupported {
        at: "kind".into(),
        what: format!("kind {kind:?} (container images are found in {SUPPORTED})"),
    })?;
    let spec_path = key_path(spec_keys)?;
    let spec = spec_keys.iter().try_fold(doc, |v, k| v.get(*k));
    let mut available = Vec::new();
    let mut found = Vec::new();
    for list in LISTS {
        let Some(Value::Sequence(items)) = spec.and_then(|s| s.get(list)) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                available.push(name.to_owned());
                if name == container {
                    found.push((list, i));
                }
            }
        }
    }
    match found.as_slice() {
        [(list, i)] => Ok(spec_path
            .child(Segment::Key((*list).into()))
            .child(Segment::Index(*i))
            .child(Segment::Key("image".into()))),
        [] => Err(EditError::NameNotFound {
            what: "container".into(),
            name: container.into(),
            at: format!("{spec_path}.containers/initContainers"),
            available,
        }),
        many => Err(EditError::AmbiguousName {
            what: "container".into(),
            name: container.into(),
            at: format!("{spec_path}.containers/initContainers"),
            count: many.len(),
        }),
    }
}

fn read(loaded: &Loaded, path: &KeyPath) -> Result<Option<String>, EditError> {
    let located = locate::locate(loaded.doc.as_ref(), path)?;
    loaded.read(path, &located)
}

/// The `image` of the container named `container` (in `containers` or `initContainers`) of the
/// workload in the selected document; `Ok(None)` when the container has no image. Errors when
/// the kind is not a supported workload, no container or more than one has the name (the error
/// lists the names there are), or the file is not valid YAML.
pub fn get_container_image(
    src: &str,
    doc: &DocSelector,
    container: &str,
) -> Result<Option<String>, EditError> {
    let loaded = doc::load(src, doc, &key_path(&["kind"])?)?;
    let path = image_path(&loaded, container)?;
    read(&loaded, &path)
}

/// Rewrites the `image` of the container named `container` in the selected document, replacing
/// the parts of the reference given in `change` (see [`ContainerImage`] for the digest rule)
/// and keeping the others. The current reference is split with [`ImageReference::parse`], so a
/// registry port is never taken for a tag. Returns the input unchanged when the image already
/// reads exactly so. Errors as [`get_container_image`] does, and when the current reference or
/// a given part is malformed, or the container has no image and no repository is given.
pub fn set_container_image(
    src: &str,
    doc: &DocSelector,
    container: &str,
    change: &ContainerImage,
) -> Result<String, EditError> {
    validate(change)?;
    let loaded = doc::load(src, doc, &key_path(&["kind"])?)?;
    let path = image_path(&loaded, container)?;
    let current = match read(&loaded, &path)? {
        Some(text) => ImageReference::parse(&text)?,
        None => ImageReference {
            repository: change.repository.clone().ok_or_else(|| {
                EditError::InvalidImageReference {
                    reference: String::new(),
                    reason: format!(
                        "container {container:?} has no image yet, so a repository must be given"
                    ),
                }
            })?,
            tag: None,
            digest: None,
        },
    };
    let new = apply(current, change);
    match ops::set(src, &loaded, &path, &new.to_string())? {
        Some((edited, _)) => Ok(edited),
        None => Ok(src.to_owned()),
    }
}

/// The reference with `change` applied, digest rule included.
fn apply(current: ImageReference, change: &ContainerImage) -> ImageReference {
    let digest = match (&change.tag, &change.digest) {
        (_, Some(digest)) => Some(digest.clone()),
        (Some(_), None) => None,
        (None, None) => current.digest,
    };
    ImageReference {
        repository: change.repository.clone().unwrap_or(current.repository),
        tag: change.tag.clone().or(current.tag),
        digest,
    }
}

/// Checks one part of an image reference, saying what is wrong.
type PartCheck = fn(&str) -> Result<(), String>;

/// Each given part must be well formed on its own, so it cannot change how the whole
/// reference splits (a tag holding `:` or `@`, a repository holding a tag).
fn validate(change: &ContainerImage) -> Result<(), EditError> {
    let checks: [(&Option<String>, PartCheck); 3] = [
        (&change.repository, image_ref::check_repository),
        (&change.tag, image_ref::check_tag),
        (&change.digest, image_ref::check_digest),
    ];
    for (part, check) in checks {
        if let Some(text) = part {
            check(text).map_err(|reason| EditError::InvalidImageReference {
                reference: text.clone(),
                reason,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageReference {
        ImageReference::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn change(repository: Option<&str>, tag: Option<&str>, digest: Option<&str>) -> ContainerImage {
        ContainerImage {
            repository: repository.map(Into::into),
            tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        }
    }

    #[test]
    fn digest_rule() {
        let cases = [
            (
                "app:1.0@sha256:aa",
                change(None, Some("1.1"), None),
                "app:1.1",
            ),
            (
                "app:1.0@sha256:aa",
                change(None, Some("1.1"), Some("sha256:bb")),
                "app:1.1@sha256:bb",
            ),
            (
                "app:1.0@sha256:aa",
                change(None, None, Some("sha256:bb")),
                "app:1.0@sha256:bb",
            ),
            ("app@sha256:aa", change(None, Some("1.1"), None), "app:1.1"),
            (
                "host:5000/app:1.0@sha256:aa",
                change(Some("mirror:5443/team/app"), None, None),
                "mirror:5443/team/app:1.0@sha256:aa",
            ),
            (
                "host:5000/app",
                change(None, Some("2"), None),
                "host:5000/app:2",
            ),
        ];
        for (before, change, after) in cases {
            assert_eq!(apply(image(before), &change).to_string(), after, "{before}");
        }
    }

    #[test]
    fn parts_are_validated() {
        for bad in [
            change(Some("app:1"), None, None),
            change(None, Some("1:2"), None),
            change(None, Some(""), None),
            change(None, None, Some("deadbeef")),
            change(Some("a@b"), None, None),
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
    }
}
