//! The configuration file (`--config`, YAML). Key names are a public contract: users' files
//! must stay valid, so they are fixed here and unknown keys are an error that names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mutator_core::layout::DEFAULT_VALUES_TEMPLATE;
use mutator_core::{
    BranchName, EnvName, ImageFormat, ImageKeys, NameTemplate, PathTemplate, RepoName, ValuesLayout,
};
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
    /// How long a request may take before the caller is answered 504 (default 30).
    pub request_timeout_seconds: Option<u64>,
    #[serde(default)]
    pub repositories: BTreeMap<String, RepositoryFile>,
    /// Trusted JWT issuers (GitHub Actions, GitLab CI, Backstage).
    #[serde(default)]
    pub issuers: Vec<IssuerFile>,
    /// Named static bearer tokens, stored as SHA-256 hex.
    #[serde(default)]
    pub tokens: Vec<TokenFile>,
    /// Deny-by-default rules: who may change what.
    #[serde(default)]
    pub policy: Vec<crate::policy::Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssuerFile {
    pub name: String,
    /// The exact `iss` claim, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// The audience the tokens must carry (one, or a list).
    pub audience: OneOrMany,
    /// The JWKS; when absent it is found through the issuer's discovery document.
    pub jwks_url: Option<String>,
    /// Allowed algorithms (default RS256); only asymmetric ones are accepted.
    pub algorithms: Option<Vec<String>>,
    /// Clock skew tolerated on exp, nbf and iat (default 60).
    pub leeway_seconds: Option<u64>,
    /// The shortest time between two JWKS fetches (default 60).
    pub jwks_refresh_seconds: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenFile {
    pub name: String,
    /// SHA-256 of the token, 64 hex digits (`printf %s "$TOKEN" | sha256sum`).
    pub sha256: String,
    /// RFC 3339; the token is refused after it.
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
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
    Github,
    Gitlab,
}

/// One entry of `repositories:`. Which keys apply depends on `kind`; a key that does not
/// belong to the kind is an error rather than silently ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepositoryFile {
    pub kind: Option<RepositoryKind>,
    /// `git`: a local path or file:// URL (the repository itself), or an http(s)/ssh URL
    /// (written through a mirror in the data directory).
    pub url: Option<String>,
    /// `github`: the owner (user or organisation) and the repository name.
    pub owner: Option<String>,
    pub name: Option<String>,
    /// `gitlab`: the project path (`group/sub/name`) or numeric id.
    pub project: Option<String>,
    /// `github`: `https://api.github.com` (default) or `https://HOST/api/v3`;
    /// `gitlab`: `https://gitlab.com/api/v4` (default) or `https://HOST/api/v4`.
    pub api_url: Option<String>,
    pub auth: Option<AuthFile>,
    pub pull_url: Option<String>,
    pub branch: Option<String>,
    pub layout: Option<LayoutFile>,
    /// How many waiting requests one commit may carry (default 100; 1 turns batching off).
    pub batch_size: Option<usize>,
    /// Per environment: `direct` (commit to the branch) or `review` (a pull/merge request from
    /// `gitops/<application>/<environment>`). Default: production review, the others direct.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvMode>,
    /// Whether commits on review branches carry `[skip ci]` (default: not on GitHub, where a
    /// skipped required check blocks the merge; yes elsewhere).
    pub skip_ci_on_review: Option<bool>,
}

/// How changes reach an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvMode {
    Direct,
    Review,
}

/// Where a forge credential comes from. Exactly one of the keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthFile {
    /// The name of an environment variable holding the token.
    pub token_env: Option<String>,
    /// A file holding the token (e.g. a mounted Kubernetes secret).
    pub token_file: Option<PathBuf>,
    /// `gitlab`: an environment variable holding an OAuth 2 access token.
    pub bearer_env: Option<String>,
    /// `git` over http(s): environment variables holding the user and the password or token.
    pub username_env: Option<String>,
    pub password_env: Option<String>,
    /// `git` over ssh: a private key and the known_hosts file the host key is checked against.
    pub ssh_key_file: Option<PathBuf>,
    pub known_hosts_file: Option<PathBuf>,
    pub github_app: Option<GithubAppFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GithubAppFile {
    pub app_id: u64,
    pub private_key_file: PathBuf,
    pub installation_id: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LayoutFile {
    pub values: Option<String>,
    /// `helm` (default), `kustomize` or `manifest`: how the file holds the image.
    pub kind: Option<LayoutKind>,
    /// `helm`: the key paths of the image fields.
    pub image_keys: Option<ImageKeysFile>,
    /// `kustomize`: the `images[].name` to edit (default `{application}`).
    pub image: Option<String>,
    /// `manifest`: the container whose image is edited (default `{application}`).
    pub container: Option<String>,
    /// `manifest`: the document holding it, by kind and name (default: the first document).
    pub workload: Option<WorkloadFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutKind {
    Helm,
    Kustomize,
    Manifest,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadFile {
    pub kind: String,
    pub name: String,
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

/// Where a repository's commits go, checked. Credentials are still references (an
/// environment variable's name, a file path); startup reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A bare repository on local disk.
    LocalGit { path: PathBuf },
    GitHub {
        api_url: String,
        owner: String,
        name: String,
        auth: Credential,
    },
    GitLab {
        api_url: String,
        project: String,
        auth: Credential,
    },
    /// Any git server over http(s) or ssh, written through a bare mirror in the data directory.
    RemoteGit { url: String, auth: Credential },
}

/// Where a credential is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    TokenEnv(String),
    TokenFile(PathBuf),
    BearerEnv(String),
    /// No credentials (a public remote).
    Anonymous,
    /// HTTP Basic from two environment variables.
    Basic {
        username_env: String,
        password_env: String,
    },
    /// An ssh key; the server's host key must be in the known_hosts file.
    Ssh {
        key_file: PathBuf,
        known_hosts_file: PathBuf,
    },
    GithubApp {
        app_id: u64,
        private_key_file: PathBuf,
        installation_id: Option<u64>,
    },
}

/// How many waiting requests one commit carries unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 100;

/// One repository, checked and with defaults filled in.
#[derive(Debug, Clone)]
pub struct RepositorySettings {
    pub name: RepoName,
    pub backend: Backend,
    /// What Argo CD pulls: `repoURL` in rendered Applications.
    pub pull_url: String,
    pub branch: BranchName,
    pub layout: ValuesLayout,
    /// How many waiting requests one commit may carry (1: one commit per request).
    pub batch_size: usize,
    /// Environments configured explicitly; see [`RepositorySettings::mode`].
    pub environments: BTreeMap<EnvName, EnvMode>,
    pub skip_ci_on_review: bool,
}

impl RepositorySettings {
    /// How changes reach `env`: as configured, else review for production and direct otherwise.
    pub fn mode(&self, env: &EnvName) -> EnvMode {
        self.environments
            .get(env)
            .copied()
            .unwrap_or(if env.as_str() == "production" {
                EnvMode::Review
            } else {
                EnvMode::Direct
            })
    }
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
        let (backend, default_pull_url) = backend(file, base, &at).map_err(invalid)?;
        let on_github = matches!(backend, Backend::GitHub { .. });
        let branch = BranchName::parse(file.branch.as_deref().unwrap_or("main"))
            .map_err(|e| invalid(format!("{}: {e}", at("branch"))))?;
        let layout = match &file.layout {
            Some(l) => l.clone(),
            None => LayoutFile {
                values: None,
                kind: None,
                image_keys: None,
                image: None,
                container: None,
                workload: None,
            },
        };
        let values =
            PathTemplate::parse(layout.values.as_deref().unwrap_or(DEFAULT_VALUES_TEMPLATE))
                .map_err(|e| invalid(format!("{}: {e}", at("layout.values"))))?;
        let format = image_format(&layout, &at).map_err(invalid)?;
        Ok(Self {
            name: repo_name,
            backend,
            pull_url: file.pull_url.clone().unwrap_or(default_pull_url),
            branch,
            layout: ValuesLayout { values, format },
            environments: file
                .environments
                .iter()
                .map(|(name, mode)| {
                    EnvName::parse(name.as_str())
                        .map(|env| (env, *mode))
                        .map_err(|e| invalid(format!("{}: {e}", at("environments"))))
                })
                .collect::<Result<_, _>>()?,
            skip_ci_on_review: file.skip_ci_on_review.unwrap_or(!on_github),
            batch_size: match file.batch_size {
                Some(0) => {
                    return Err(invalid(format!(
                        "{}: use 1 or more (1 turns batching off)",
                        at("batchSize")
                    )));
                }
                Some(n) => n,
                None => DEFAULT_BATCH_SIZE,
            },
        })
    }
}

/// How the layout's files hold the image; keys of another layout kind are refused.
fn image_format(layout: &LayoutFile, at: &dyn Fn(&str) -> String) -> Result<ImageFormat, String> {
    let kind = layout.kind.unwrap_or(LayoutKind::Helm);
    let refuse = |present: bool, key: &str| {
        if present {
            Err(format!(
                "{}: not used by layout kind {kind:?}; remove it",
                at(&format!("layout.{key}"))
            ))
        } else {
            Ok(())
        }
    };
    let name = |value: Option<&String>, key: &str| {
        NameTemplate::parse(value.map_or("{application}", String::as_str))
            .map_err(|e| format!("{}: {e}", at(&format!("layout.{key}"))))
    };
    match kind {
        LayoutKind::Helm => {
            refuse(layout.image.is_some(), "image")?;
            refuse(layout.container.is_some(), "container")?;
            refuse(layout.workload.is_some(), "workload")?;
            let keys = layout.image_keys.clone().unwrap_or(ImageKeysFile {
                tag: None,
                repository: None,
                digest: None,
            });
            ImageKeys::parse(
                keys.tag.as_deref().unwrap_or("image.tag"),
                keys.repository.as_deref().unwrap_or("image.repository"),
                keys.digest.as_deref().unwrap_or("image.digest"),
            )
            .map(ImageFormat::Helm)
            .map_err(|e| format!("{}: {e}", at("layout.imageKeys")))
        }
        LayoutKind::Kustomize => {
            refuse(layout.image_keys.is_some(), "imageKeys")?;
            refuse(layout.container.is_some(), "container")?;
            refuse(layout.workload.is_some(), "workload")?;
            Ok(ImageFormat::Kustomize {
                image: name(layout.image.as_ref(), "image")?,
            })
        }
        LayoutKind::Manifest => {
            refuse(layout.image_keys.is_some(), "imageKeys")?;
            refuse(layout.image.is_some(), "image")?;
            let workload = match &layout.workload {
                Some(w) => Some((w.kind.clone(), name(Some(&w.name), "workload.name")?)),
                None => None,
            };
            Ok(ImageFormat::Manifest {
                container: name(layout.container.as_ref(), "container")?,
                workload,
            })
        }
    }
}

/// Checks the keys of one kind and refuses the keys of the others.
fn backend(
    file: &RepositoryFile,
    base: &Path,
    at: &dyn Fn(&str) -> String,
) -> Result<(Backend, String), String> {
    let refuse = |present: bool, key: &str, kind: &str| {
        if present {
            Err(format!("{}: not used by kind {kind}; remove it", at(key)))
        } else {
            Ok(())
        }
    };
    match file.kind {
        None => Err(format!(
            "{}: missing; use `git`, `github` or `gitlab`",
            at("kind")
        )),
        Some(RepositoryKind::Git) => {
            refuse(file.owner.is_some(), "owner", "git")?;
            refuse(file.name.is_some(), "name", "git")?;
            refuse(file.api_url.is_some(), "apiUrl", "git")?;
            refuse(file.project.is_some(), "project", "git")?;
            let url = file.url.as_deref().ok_or_else(|| {
                format!("{}: missing; give the repository's path or URL", at("url"))
            })?;
            match local_path(url) {
                Some(path) => {
                    refuse(file.auth.is_some(), "auth", "a local git repository")?;
                    let path = if path.is_absolute() {
                        path
                    } else {
                        base.join(path)
                    };
                    Ok((Backend::LocalGit { path }, url.to_owned()))
                }
                None => {
                    if url.contains("://")
                        && url.split("://").nth(1).is_some_and(|rest| {
                            // `user:password@host` carries a password; `git@host:22` does not.
                            rest.split('/').next().is_some_and(|authority| {
                                authority
                                    .rsplit_once('@')
                                    .is_some_and(|(userinfo, _)| userinfo.contains(':'))
                            })
                        })
                    {
                        return Err(format!(
                            "{}: put credentials in auth (usernameEnv/passwordEnv), never in the URL",
                            at("url")
                        ));
                    }
                    let auth = match &file.auth {
                        None => Credential::Anonymous,
                        Some(_) => credential(file.auth.as_ref(), at)?,
                    };
                    if !matches!(
                        auth,
                        Credential::Anonymous | Credential::Basic { .. } | Credential::Ssh { .. }
                    ) {
                        return Err(format!(
                            "{}: a git remote takes usernameEnv and passwordEnv, or sshKeyFile and knownHostsFile",
                            at("auth")
                        ));
                    }
                    Ok((
                        Backend::RemoteGit {
                            url: url.to_owned(),
                            auth,
                        },
                        url.to_owned(),
                    ))
                }
            }
        }
        Some(RepositoryKind::Github) => {
            refuse(file.url.is_some(), "url", "github (use owner and name)")?;
            refuse(
                file.project.is_some(),
                "project",
                "github (use owner and name)",
            )?;
            let owner = github_name(file.owner.as_deref(), &at("owner"))?;
            let name = github_name(file.name.as_deref(), &at("name"))?;
            let api_url = file
                .api_url
                .clone()
                .unwrap_or_else(|| mutator_forge::github::GITHUB_API.to_owned());
            if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
                return Err(format!(
                    "{}: {api_url:?} is not an http(s) URL",
                    at("apiUrl")
                ));
            }
            let auth = credential(file.auth.as_ref(), at)?;
            if matches!(
                auth,
                Credential::Basic { .. } | Credential::Ssh { .. } | Credential::Anonymous
            ) {
                return Err(format!(
                    "{}: github takes tokenEnv, tokenFile or githubApp",
                    at("auth")
                ));
            }
            if matches!(auth, Credential::BearerEnv(_)) {
                return Err(format!(
                    "{}: bearerEnv is for gitlab; use tokenEnv or tokenFile",
                    at("auth")
                ));
            }
            let pull = mutator_forge::github::clone_url(&api_url, &owner, &name);
            Ok((
                Backend::GitHub {
                    api_url,
                    owner,
                    name,
                    auth,
                },
                pull,
            ))
        }
        Some(RepositoryKind::Gitlab) => {
            refuse(file.url.is_some(), "url", "gitlab (use project)")?;
            refuse(file.owner.is_some(), "owner", "gitlab (use project)")?;
            refuse(file.name.is_some(), "name", "gitlab (use project)")?;
            let project = file
                .project
                .clone()
                .ok_or_else(|| format!("{}: missing; give group/name or the id", at("project")))?;
            let valid = !project.is_empty()
                && !project.starts_with('/')
                && !project.ends_with('/')
                && project
                    .split('/')
                    .all(|p| !p.is_empty() && p != "." && p != "..")
                && project
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
            if !valid {
                return Err(format!(
                    "{}: {project:?} is not a GitLab project path or id",
                    at("project")
                ));
            }
            let api_url = file
                .api_url
                .clone()
                .unwrap_or_else(|| mutator_forge::gitlab::GITLAB_API.to_owned());
            let http = api_url.starts_with("https://") || api_url.starts_with("http://");
            if !http || !api_url.trim_end_matches('/').ends_with("/api/v4") {
                return Err(format!(
                    "{}: {api_url:?} must be an http(s) URL ending in /api/v4",
                    at("apiUrl")
                ));
            }
            let auth = credential(file.auth.as_ref(), at)?;
            if matches!(
                auth,
                Credential::Basic { .. } | Credential::Ssh { .. } | Credential::Anonymous
            ) {
                return Err(format!(
                    "{}: gitlab takes tokenEnv, tokenFile or bearerEnv",
                    at("auth")
                ));
            }
            if matches!(auth, Credential::GithubApp { .. }) {
                return Err(format!(
                    "{}: githubApp is for github; use tokenEnv, tokenFile or bearerEnv",
                    at("auth")
                ));
            }
            let pull = mutator_forge::gitlab::clone_url(&api_url, &project);
            Ok((
                Backend::GitLab {
                    api_url,
                    project,
                    auth,
                },
                pull,
            ))
        }
    }
}

fn github_name(value: Option<&str>, at: &str) -> Result<String, String> {
    let value = value.ok_or_else(|| format!("{at}: missing"))?;
    let ok = !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && value != "."
        && value != "..";
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{at}: {value:?} is not a GitHub owner or repository name"
        ))
    }
}

fn credential(auth: Option<&AuthFile>, at: &dyn Fn(&str) -> String) -> Result<Credential, String> {
    let auth = auth.ok_or_else(|| {
        format!(
            "{}: missing; use tokenEnv, tokenFile, bearerEnv (gitlab) or githubApp (github)",
            at("auth")
        )
    })?;
    let mut found = Vec::new();
    if let Some(var) = &auth.token_env {
        found.push(Credential::TokenEnv(var.clone()));
    }
    if let Some(path) = &auth.token_file {
        found.push(Credential::TokenFile(path.clone()));
    }
    if let Some(var) = &auth.bearer_env {
        found.push(Credential::BearerEnv(var.clone()));
    }
    match (&auth.username_env, &auth.password_env) {
        (Some(user), Some(password)) => found.push(Credential::Basic {
            username_env: user.clone(),
            password_env: password.clone(),
        }),
        (None, None) => {}
        _ => {
            return Err(format!(
                "{}: give both usernameEnv and passwordEnv",
                at("auth")
            ));
        }
    }
    match (&auth.ssh_key_file, &auth.known_hosts_file) {
        (Some(key), Some(hosts)) => found.push(Credential::Ssh {
            key_file: key.clone(),
            known_hosts_file: hosts.clone(),
        }),
        (None, None) => {}
        _ => {
            return Err(format!(
                "{}: give both sshKeyFile and knownHostsFile (host keys are always checked)",
                at("auth")
            ));
        }
    }
    if let Some(app) = &auth.github_app {
        found.push(Credential::GithubApp {
            app_id: app.app_id,
            private_key_file: app.private_key_file.clone(),
            installation_id: app.installation_id,
        });
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "{}: give one of tokenEnv, tokenFile, bearerEnv, githubApp, usernameEnv+passwordEnv or sshKeyFile+knownHostsFile",
            at("auth")
        )),
        _ => Err(format!("{}: give only one kind of credential", at("auth"))),
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
        assert_eq!(
            repo.backend,
            Backend::LocalGit {
                path: PathBuf::from("/srv/./data/repos/default.git")
            }
        );
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
        let remote =
            RepositorySettings::from_file("r", &f.repositories["r"], Path::new("/"), "c").unwrap();
        assert_eq!(
            remote.backend,
            Backend::RemoteGit {
                url: "https://example.com/x.git".into(),
                auth: Credential::Anonymous
            }
        );
        let check = |yaml: &str, expect: &str| {
            let f = ConfigFile::parse(yaml, "c").unwrap();
            let err = RepositorySettings::from_file("r", &f.repositories["r"], Path::new("/"), "c")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expect), "{err} should mention {expect}");
        };
        check(
            "repositories:\n  r:\n    kind: git\n    url: https://u:p@example.com/x.git\n",
            "never in the URL",
        );
        let f = ConfigFile::parse(
            "repositories:\n  r:\n    kind: git\n    url: ssh://git@example.com:2222/x.git\n    auth: { sshKeyFile: /k, knownHostsFile: /h }\n",
            "c",
        )
        .unwrap();
        assert!(
            RepositorySettings::from_file("r", &f.repositories["r"], Path::new("/"), "c").is_ok(),
            "a user and a port are not a password"
        );
        check(
            "repositories:\n  r:\n    kind: git\n    url: ssh://git@example.com/x.git\n    auth: { sshKeyFile: /k }\n",
            "knownHostsFile",
        );
        check(
            "repositories:\n  r:\n    kind: git\n    url: https://example.com/x.git\n    auth: { tokenEnv: T }\n",
            "usernameEnv",
        );
        check(
            "repositories:\n  r:\n    kind: git\n    url: ./local.git\n    auth: { usernameEnv: U, passwordEnv: P }\n",
            "auth",
        );
        let f = ConfigFile::parse(
            "repositories:\n  r:\n    kind: git\n    url: https://git.example.com/x.git\n    auth: { usernameEnv: U, passwordEnv: P }\n",
            "c",
        )
        .unwrap();
        assert!(matches!(
            RepositorySettings::from_file("r", &f.repositories["r"], Path::new("/"), "c")
                .unwrap()
                .backend,
            Backend::RemoteGit {
                auth: Credential::Basic { .. },
                ..
            }
        ));
        let err = ConfigFile::parse("repositories:\n  r:\n    kind: svn\n    url: x\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("svn"), "{err}");
    }

    #[test]
    fn github_repositories() {
        let f = ConfigFile::parse(
            "repositories:\n  gh:\n    kind: github\n    owner: acme\n    name: gitops\n    auth: { tokenEnv: GH_TOKEN }\n",
            "c",
        )
        .unwrap();
        let repo =
            RepositorySettings::from_file("gh", &f.repositories["gh"], Path::new(""), "c").unwrap();
        assert_eq!(repo.pull_url, "https://github.com/acme/gitops.git");
        assert_eq!(
            repo.backend,
            Backend::GitHub {
                api_url: "https://api.github.com".into(),
                owner: "acme".into(),
                name: "gitops".into(),
                auth: Credential::TokenEnv("GH_TOKEN".into()),
            }
        );
        let app = ConfigFile::parse(
            "repositories:\n  gh:\n    kind: github\n    owner: acme\n    name: gitops\n    apiUrl: https://ghe.example.com/api/v3\n    auth:\n      githubApp: { appId: 12, privateKeyFile: /k.pem }\n",
            "c",
        )
        .unwrap();
        let repo = RepositorySettings::from_file("gh", &app.repositories["gh"], Path::new(""), "c")
            .unwrap();
        assert_eq!(repo.pull_url, "https://ghe.example.com/acme/gitops.git");
        assert!(matches!(
            repo.backend,
            Backend::GitHub {
                auth: Credential::GithubApp {
                    app_id: 12,
                    installation_id: None,
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn github_mistakes_are_named() {
        let check = |yaml: &str, expect: &str| {
            let f = ConfigFile::parse(yaml, "c").unwrap();
            let err =
                RepositorySettings::from_file("gh", &f.repositories["gh"], Path::new(""), "c")
                    .unwrap_err()
                    .to_string();
            assert!(err.contains(expect), "{err} should mention {expect}");
        };
        check(
            "repositories:\n  gh:\n    kind: github\n    name: x\n    auth: { tokenEnv: T }\n",
            "owner",
        );
        check(
            "repositories:\n  gh:\n    kind: github\n    owner: a\n    name: x\n",
            "auth",
        );
        check(
            "repositories:\n  gh:\n    kind: github\n    owner: a\n    name: x\n    auth: { tokenEnv: T, tokenFile: /t }\n",
            "only one",
        );
        check(
            "repositories:\n  gh:\n    kind: github\n    owner: a\n    name: x\n    url: y\n    auth: { tokenEnv: T }\n",
            "url",
        );
        check(
            "repositories:\n  gh:\n    kind: git\n    url: x.git\n    owner: a\n",
            "owner",
        );
        check("repositories:\n  gh:\n    url: x.git\n", "kind");
        let err = ConfigFile::parse(
            "repositories:\n  gh:\n    kind: github\n    auth: { tokenEnv: T, password: x }\n",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("password"), "{err}");
    }

    #[test]
    fn gitlab_repositories() {
        let f = ConfigFile::parse(
            "repositories:\n  gl:\n    kind: gitlab\n    project: team-a/platform/gitops\n    apiUrl: https://gitlab.example.com/api/v4\n    auth: { bearerEnv: GL_OAUTH }\n",
            "c",
        )
        .unwrap();
        let repo =
            RepositorySettings::from_file("gl", &f.repositories["gl"], Path::new(""), "c").unwrap();
        assert_eq!(
            repo.pull_url,
            "https://gitlab.example.com/team-a/platform/gitops.git"
        );
        assert_eq!(
            repo.backend,
            Backend::GitLab {
                api_url: "https://gitlab.example.com/api/v4".into(),
                project: "team-a/platform/gitops".into(),
                auth: Credential::BearerEnv("GL_OAUTH".into()),
            }
        );
        let check = |yaml: &str, expect: &str| {
            let f = ConfigFile::parse(yaml, "c").unwrap();
            let err =
                RepositorySettings::from_file("gl", &f.repositories["gl"], Path::new(""), "c")
                    .unwrap_err()
                    .to_string();
            assert!(err.contains(expect), "{err} should mention {expect}");
        };
        check(
            "repositories:\n  gl:\n    kind: gitlab\n    auth: { tokenEnv: T }\n",
            "project",
        );
        check(
            "repositories:\n  gl:\n    kind: gitlab\n    project: ../x\n    auth: { tokenEnv: T }\n",
            "project",
        );
        check(
            "repositories:\n  gl:\n    kind: gitlab\n    project: a/b\n    apiUrl: https://gitlab.example.com\n    auth: { tokenEnv: T }\n",
            "apiUrl",
        );
        check(
            "repositories:\n  gl:\n    kind: gitlab\n    project: a/b\n    owner: x\n    auth: { tokenEnv: T }\n",
            "owner",
        );
        check(
            "repositories:\n  gl:\n    kind: gitlab\n    project: a/b\n    auth: { githubApp: { appId: 1, privateKeyFile: /k } }\n",
            "githubApp",
        );
    }

    #[test]
    fn layout_kinds() {
        let parse = |layout: &str| {
            let yaml = format!(
                "repositories:\n  r:\n    kind: git\n    url: x.git\n    layout: {layout}\n"
            );
            let f = ConfigFile::parse(&yaml, "c").unwrap();
            RepositorySettings::from_file("r", &f.repositories["r"], Path::new(""), "c")
                .map(|r| r.layout.format)
        };
        assert!(matches!(
            parse("{ values: 'overlays/{environment}/kustomization.yaml', kind: kustomize, image: 'ghcr.io/acme/{application}' }").unwrap(),
            ImageFormat::Kustomize { .. }
        ));
        assert!(matches!(
            parse("{ values: 'k8s/{environment}/deploy.yaml', kind: manifest, workload: { kind: Deployment, name: '{application}' } }").unwrap(),
            ImageFormat::Manifest { workload: Some(_), .. }
        ));
        let err = parse("{ kind: kustomize, imageKeys: { tag: a.b } }")
            .unwrap_err()
            .to_string();
        assert!(err.contains("layout.imageKeys"), "{err}");
        let err = parse("{ kind: manifest, container: 'a b' }")
            .unwrap_err()
            .to_string();
        assert!(err.contains("layout.container"), "{err}");
    }
}
