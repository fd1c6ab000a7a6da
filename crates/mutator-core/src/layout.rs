//! Where a repository keeps each environment's image values, and under which keys.

use mutator_yaml::KeyPath;

use crate::names::{AppName, EnvName};
use crate::path::RepoPath;

/// Why a layout in the configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error(
        "values path template {0:?} is invalid: only the placeholders {{application}} and {{environment}} are allowed, and the result must be a relative path"
    )]
    Template(String),
    #[error("image key path {path:?} is invalid: {reason}")]
    Key { path: String, reason: String },
    #[error(
        "name template {0:?} is invalid: one word, with {{application}} as the only placeholder"
    )]
    Name(String),
}

/// A path with `{application}` and `{environment}` placeholders, such as
/// `apps/{application}/environments/{environment}/values.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate(String);

impl PathTemplate {
    /// Checks that the template only uses known placeholders and yields valid paths.
    pub fn parse(template: &str) -> Result<Self, LayoutError> {
        let invalid = || LayoutError::Template(template.to_owned());
        let stripped = template
            .replace("{application}", "a")
            .replace("{environment}", "e");
        if stripped.contains('{') || stripped.contains('}') {
            return Err(invalid());
        }
        RepoPath::parse(stripped).map_err(|_| invalid())?;
        Ok(Self(template.to_owned()))
    }

    /// The path for one application and environment. Both names are DNS labels, so the
    /// result is always a valid path when the template was.
    pub fn resolve(&self, app: &AppName, env: &EnvName) -> Result<RepoPath, LayoutError> {
        let path = self
            .0
            .replace("{application}", app.as_str())
            .replace("{environment}", env.as_str());
        RepoPath::parse(path).map_err(|_| LayoutError::Template(self.0.clone()))
    }

    /// The template text as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key paths of the image fields inside a values file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageKeys {
    pub tag: KeyPath,
    pub repository: KeyPath,
    pub digest: KeyPath,
}

impl ImageKeys {
    /// Parses the three key paths, naming the one that is malformed.
    pub fn parse(tag: &str, repository: &str, digest: &str) -> Result<Self, LayoutError> {
        let key = |path: &str| {
            path.parse::<KeyPath>().map_err(|e| LayoutError::Key {
                path: path.to_owned(),
                reason: e.to_string(),
            })
        };
        Ok(Self {
            tag: key(tag)?,
            repository: key(repository)?,
            digest: key(digest)?,
        })
    }
}

impl Default for ImageKeys {
    fn default() -> Self {
        // These literals are valid key paths; a failure here is a bug caught by the tests below.
        Self::parse("image.tag", "image.repository", "image.digest")
            .unwrap_or_else(|e| panic!("default image keys must parse: {e}"))
    }
}

/// A name with an `{application}` placeholder, such as `ghcr.io/acme/{application}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate(String);

impl NameTemplate {
    /// Checks that the template is one line and uses no placeholder but `{application}`.
    pub fn parse(template: &str) -> Result<Self, LayoutError> {
        let stripped = template.replace("{application}", "a");
        let ok = !stripped.is_empty()
            && !stripped.contains(['{', '}'])
            && !stripped
                .chars()
                .any(|c| c.is_control() || c.is_whitespace());
        if ok {
            Ok(Self(template.to_owned()))
        } else {
            Err(LayoutError::Name(template.to_owned()))
        }
    }

    /// The name for one application.
    pub fn resolve(&self, app: &AppName) -> String {
        self.0.replace("{application}", app.as_str())
    }
}

/// How an environment's file holds its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageFormat {
    /// Helm values: the tag, repository and digest at key paths.
    Helm(ImageKeys),
    /// A kustomization: `newTag` / `newName` / `digest` of the `images:` entry with this name.
    Kustomize { image: NameTemplate },
    /// A Kubernetes workload manifest: the `image` of the container with this name, in the
    /// document of this kind and name (the first document when not given).
    Manifest {
        container: NameTemplate,
        workload: Option<(String, NameTemplate)>,
    },
}

/// Where each environment's image lives and in what form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesLayout {
    pub values: PathTemplate,
    pub format: ImageFormat,
}

/// The layout the `application` template writes.
pub const DEFAULT_VALUES_TEMPLATE: &str =
    "apps/{application}/environments/{environment}/values.yaml";

impl Default for ValuesLayout {
    fn default() -> Self {
        Self {
            values: PathTemplate(DEFAULT_VALUES_TEMPLATE.to_owned()),
            format: ImageFormat::Helm(ImageKeys::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_resolves() {
        let layout = ValuesLayout::default();
        let app = AppName::parse("payments").unwrap();
        let env = EnvName::parse("staging").unwrap();
        assert_eq!(
            layout.values.resolve(&app, &env).unwrap().as_str(),
            "apps/payments/environments/staging/values.yaml"
        );
        assert!(PathTemplate::parse(DEFAULT_VALUES_TEMPLATE).is_ok());
        assert!(
            matches!(&layout.format, ImageFormat::Helm(keys) if keys.tag.to_string() == "image.tag")
        );
    }

    #[test]
    fn name_templates() {
        let t = NameTemplate::parse("ghcr.io/acme/{application}").unwrap();
        assert_eq!(
            t.resolve(&AppName::parse("payments").unwrap()),
            "ghcr.io/acme/payments"
        );
        for bad in ["", "{app}", "a b", "x\ny"] {
            assert!(NameTemplate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn templates_are_checked() {
        assert!(
            PathTemplate::parse("infrastructure/gitops/environments/{environment}/values.yaml")
                .is_ok()
        );
        for bad in [
            "{app}/values.yaml",
            "/abs/{environment}.yaml",
            "../{environment}",
            "x/{environment",
        ] {
            assert!(PathTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
