//! The configuration file (`--config`, YAML). Key names are a public contract: users' files
//! must stay valid, so they are fixed here and unknown keys are an error that names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mutator_core::layout::DEFAULT_VALUES_TEMPLATE;
use mutator_core::{BranchName, ImageKeys, PathTemplate, RepoName, ValuesLayout};
use serde::Deserialize;

/// A problem with the configuration, said so a person can fix the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// The file as written by the user.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigFile {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub commit_author: Option<AuthorFile>,
    #[serde(default)]
    pub repositories: BTreeMap<String, RepositoryFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthorFile {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepositoryKind {
    Git,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepositoryFile {
    pub kind: RepositoryKind,
    pub url: String,
    pub pull_url: Option<String>,
    pub branch: Option<String>,
    pub layout: Option<LayoutFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LayoutFile {
    pub values: Option<String>,
    pub image_keys: Option<ImageKeysFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageKeysFile {
    pub tag: Option<String>,
    pub repository: Option<String>,
    pub digest: Option<String>,
}

impl ConfigFile {
    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let de = yaml_serde::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            let message = if at == "." {
                e.inner().to_string()
            } else {
                format!("at `{at}`: {}", e.inner())
            };
            ConfigError::Invalid {
                path: origin.to_owned(),
                message,
            }
        })
    }
}

/// One repository, checked and with defaults filled in.
#[derive(Debug, Clone)]
pub struct RepositorySettings {
    pub name: RepoName,
    pub kind: RepositoryKind,
    /// Local path of the bare repository.
    pub path: PathBuf,
    /// What Argo CD pulls: `repoURL` in rendered Applications.
    pub pull_url: String,
    pub branch: BranchName,
    pub layout: ValuesLayout,
}

impl RepositorySettings {
    /// Checks one `repositories:` entry; `base` resolves relative paths.
    pub fn from_file(
        name: &str,
        file: &RepositoryFile,
        base: &Path,
        origin: &str,
    ) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let at = |key: &str| format!("at `repositories.{name}.{key}`");
        let repo_name =
            RepoName::parse(name).map_err(|e| invalid(format!("at `repositories.{name}`: {e}")))?;
        let path = local_path(&file.url).ok_or_else(|| {
            invalid(format!(
                "{}: {:?} is not a local path or file:// URL; remote git URLs are not supported by this version",
                at("url"),
                file.url
            ))
        })?;
        let path = if path.is_absolute() {
            path
        } else {
            base.join(path)
        };
        let branch = BranchName::parse(file.branch.as_deref().unwrap_or("main"))
            .map_err(|e| invalid(format!("{}: {e}", at("branch"))))?;
        let layout = file.layout.clone().unwrap_or(LayoutFile {
            values: None,
            image_keys: None,
        });
        let values =
            PathTemplate::parse(layout.values.as_deref().unwrap_or(DEFAULT_VALUES_TEMPLATE))
                .map_err(|e| invalid(format!("{}: {e}", at("layout.values"))))?;
        let keys = layout.image_keys.unwrap_or(ImageKeysFile {
            tag: None,
            repository: None,
            digest: None,
        });
        let image_keys = ImageKeys::parse(
            keys.tag.as_deref().unwrap_or("image.tag"),
            keys.repository.as_deref().unwrap_or("image.repository"),
            keys.digest.as_deref().unwrap_or("image.digest"),
        )
        .map_err(|e| invalid(format!("{}: {e}", at("layout.imageKeys"))))?;
        Ok(Self {
            name: repo_name,
            kind: file.kind,
            pull_url: file.pull_url.clone().unwrap_or_else(|| file.url.clone()),
            path,
            branch,
            layout: ValuesLayout { values, image_keys },
        })
    }
}

fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        return Some(PathBuf::from(rest));
    }
    let looks_remote = url.contains("://") || (url.contains('@') && url.contains(':'));
    (!looks_remote && !url.is_empty()).then(|| PathBuf::from(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
listen: "127.0.0.1:8080"
dataDir: ./data
commitAuthor: { name: gitops-mutator, email: gitops-mutator@localhost }
repositories:
  default:
    kind: git
    url: ./data/repos/default.git
    pullUrl: https://git.example.com/platform/gitops.git
    branch: main
    layout:
      values: "apps/{application}/environments/{environment}/values.yaml"
      imageKeys: { tag: image.tag, repository: image.repository, digest: image.digest }
"#;

    #[test]
    fn the_documented_file_parses() {
        let f = ConfigFile::parse(FULL, "test.yaml").unwrap();
        assert_eq!(f.listen.as_deref(), Some("127.0.0.1:8080"));
        let repo = RepositorySettings::from_file(
            "default",
            &f.repositories["default"],
            Path::new("/srv"),
            "t",
        )
        .unwrap();
        assert_eq!(repo.path, Path::new("/srv/./data/repos/default.git"));
        assert_eq!(repo.pull_url, "https://git.example.com/platform/gitops.git");
        assert_eq!(repo.branch.as_str(), "main");
        assert_eq!(repo.layout, ValuesLayout::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = ConfigFile::parse(
            "repositories:\n  default:\n    kind: git\n    url: x\n    brnch: main\n",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("repositories.default") && err.contains("brnch"),
            "{err}"
        );
        let err = ConfigFile::parse("lisen: x\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let f = ConfigFile::parse(
            "repositories:\n  r:\n    kind: git\n    url: x.git\n    layout: { values: '{app}/v.yaml' }\n",
            "c.yaml",
        )
        .unwrap();
        let err =
            RepositorySettings::from_file("r", &f.repositories["r"], Path::new("/"), "c.yaml")
                .unwrap_err()
                .to_string();
        assert!(err.contains("repositories.r.layout.values"), "{err}");
        let f = ConfigFile::parse(
            "repositories:\n  r:\n    kind: git\n    url: https://example.com/x.git\n",
            "c",
        )
        .unwrap();
        let err = RepositorySettings::from_file("r", &f.repositories["r"], Path::new("/"), "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not supported"), "{err}");
        let err = ConfigFile::parse("repositories:\n  r:\n    kind: svn\n    url: x\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("svn"), "{err}");
    }
}
