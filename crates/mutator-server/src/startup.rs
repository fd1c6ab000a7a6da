//! Everything `serve` does before it listens: read the configuration, create the data
//! directory, the embedded repository and the token, and build the router.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use mutator_core::RepoName;
use mutator_forge::github::{GithubAuth, GithubSettings};
use mutator_forge::gitlab::{GitlabAuth, GitlabSettings};
use mutator_forge::{
    Forge, GitHub, GitLab, LocalGit, RemoteAuth, RemoteGit, RemoteGitSettings, Signature,
};
use mutator_render::Catalog;
use secrecy::SecretString;

use crate::app::{AppState, Limits};
use crate::config::{
    Backend, ConfigError, ConfigFile, Credential, RepositoryKind, RepositorySettings,
};
use crate::service::{Mutator, Repository};

/// The defaults of the embedded setup.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_REPOSITORY: &str = "default";

/// What the command line and environment said; `None` falls back to the file, then defaults.
#[derive(Debug, Default, Clone)]
pub struct ServeOptions {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub token: Option<String>,
}

/// A service ready to listen.
pub struct Prepared {
    pub listen: SocketAddr,
    pub router: Router,
    /// Where the generated token is stored, when it was not given in the environment.
    pub token_file: Option<PathBuf>,
    /// Lines worth telling the operator at start.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("listen address {0:?} is invalid: use HOST:PORT such as 127.0.0.1:8080")]
    Listen(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("repository {name}: {message}")]
    Repository { name: String, message: String },
    #[error("the templates could not be loaded: {0}")]
    Templates(String),
    #[error("the token is empty: set GITOPS_MUTATOR_TOKEN to a non-empty value or unset it")]
    EmptyToken,
}

/// Must run inside a tokio runtime: forge clients start background tasks.
pub fn prepare(options: ServeOptions) -> Result<Prepared, StartupError> {
    let file = match &options.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let listen_text = options
        .listen
        .or(file.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen: SocketAddr = listen_text
        .parse()
        .map_err(|_| StartupError::Listen(listen_text.clone()))?;
    let data_dir = options
        .data_dir
        .or(file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    std::fs::create_dir_all(&data_dir).map_err(|source| StartupError::Io {
        what: "cannot create data directory",
        path: data_dir.clone(),
        source,
    })?;
    let author = file
        .commit_author
        .as_ref()
        .map(|a| Signature {
            name: a.name.clone(),
            email: a.email.clone(),
        })
        .unwrap_or_else(|| Signature {
            name: "gitops-mutator".into(),
            email: "gitops-mutator@localhost".into(),
        });

    let mut notes = Vec::new();
    let settings = repository_settings(&file, options.config.as_deref(), &data_dir)?;
    let mut repos = BTreeMap::new();
    for s in settings {
        let forge = open_repository(&s, &author, &data_dir.join("mirrors"), &mut notes)?;
        repos.insert(s.name.clone(), Repository { settings: s, forge });
    }
    let default_repo = default_repository(&repos)?;

    let (token, token_file) = match options.token {
        Some(t) if t.trim().is_empty() => return Err(StartupError::EmptyToken),
        Some(t) => (t, None),
        None => {
            let path = data_dir.join("token");
            (load_or_create_token(&path)?, Some(path))
        }
    };
    let catalog = Catalog::embedded().map_err(|e| StartupError::Templates(e.to_string()))?;
    let origin = options
        .config
        .as_deref()
        .map_or_else(|| "(built-in)".to_owned(), |p| p.display().to_string());
    let (auth, policy) = crate::security::build(&file, token.trim(), &origin)?;
    let state = AppState {
        mutator: Arc::new(Mutator::new(repos, default_repo, catalog, author)),
        policy: Arc::new(policy),
        limits: Limits {
            request_timeout: Duration::from_secs(file.request_timeout_seconds.unwrap_or(30).max(1)),
        },
    };
    Ok(Prepared {
        listen,
        router: crate::app::router(state, Arc::new(auth)),
        token_file,
        notes,
    })
}

fn repository_settings(
    file: &ConfigFile,
    config_path: Option<&Path>,
    data_dir: &Path,
) -> Result<Vec<RepositorySettings>, StartupError> {
    let origin = config_path.map_or_else(|| "(built-in)".to_owned(), |p| p.display().to_string());
    if file.repositories.is_empty() {
        let path = data_dir.join("repos").join("default.git");
        let default = crate::config::RepositoryFile {
            kind: Some(RepositoryKind::Git),
            url: Some(path.display().to_string()),
            ..Default::default()
        };
        return Ok(vec![RepositorySettings::from_file(
            DEFAULT_REPOSITORY,
            &default,
            Path::new(""),
            &origin,
        )?]);
    }
    // Relative URLs in the file are taken from the directory the service runs in, like dataDir.
    file.repositories
        .iter()
        .map(|(name, repo)| {
            RepositorySettings::from_file(name, repo, Path::new(""), &origin).map_err(Into::into)
        })
        .collect()
}

fn open_repository(
    settings: &RepositorySettings,
    author: &Signature,
    mirrors: &Path,
    notes: &mut Vec<String>,
) -> Result<Arc<dyn Forge>, StartupError> {
    match &settings.backend {
        Backend::LocalGit { path } => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| StartupError::Io {
                    what: "cannot create directory",
                    path: parent.to_owned(),
                    source,
                })?;
            }
            let (git, created) =
                LocalGit::open_or_init(path, &settings.branch, author).map_err(|e| {
                    StartupError::Repository {
                        name: settings.name.to_string(),
                        message: e.to_string(),
                    }
                })?;
            let verb = if created { "created" } else { "using" };
            notes.push(format!(
                "repository {:?}: {verb} {} (branch {})",
                settings.name.as_str(),
                path.display(),
                settings.branch
            ));
            Ok(Arc::new(git))
        }
        Backend::RemoteGit { url, auth } => {
            let repo_error = |message: String| StartupError::Repository {
                name: settings.name.to_string(),
                message,
            };
            let auth = match auth {
                Credential::Anonymous => RemoteAuth::None,
                Credential::Basic {
                    username_env,
                    password_env,
                } => RemoteAuth::Basic {
                    username: secret_from_env(username_env, "auth.usernameEnv")
                        .map_err(repo_error)?,
                    password: secret_from_env(password_env, "auth.passwordEnv")
                        .map_err(repo_error)?,
                },
                Credential::Ssh {
                    key_file,
                    known_hosts_file,
                } => RemoteAuth::Ssh {
                    key_file: key_file.clone(),
                    known_hosts_file: known_hosts_file.clone(),
                },
                _ => {
                    return Err(repo_error(
                        "unsupported credential for a git remote".to_owned(),
                    ));
                }
            };
            let mirror_dir = mirrors.join(format!("{}.git", settings.name));
            let remote = RemoteGit::open(RemoteGitSettings {
                url: url.clone(),
                mirror_dir: mirror_dir.clone(),
                auth,
                timeout: FORGE_TIMEOUT,
            })
            .map_err(|e| repo_error(e.to_string()))?;
            notes.push(format!(
                "repository {:?}: git remote {} through the mirror {} (branch {})",
                settings.name.as_str(),
                remote.url(),
                mirror_dir.display(),
                settings.branch
            ));
            Ok(Arc::new(remote))
        }
        Backend::GitLab {
            api_url,
            project,
            auth,
        } => {
            let repo_error = |message: String| StartupError::Repository {
                name: settings.name.to_string(),
                message,
            };
            let auth = match auth {
                Credential::BearerEnv(var) => {
                    GitlabAuth::Bearer(secret_from_env(var, "auth.bearerEnv").map_err(repo_error)?)
                }
                other => match github_auth(other).map_err(repo_error)? {
                    GithubAuth::Token(token) => GitlabAuth::Token(token),
                    GithubAuth::App { .. } => {
                        return Err(repo_error(
                            "githubApp credentials are for github repositories".to_owned(),
                        ));
                    }
                },
            };
            let gitlab = GitLab::new(&GitlabSettings {
                api_url: api_url.clone(),
                project: project.clone(),
                auth,
                timeout: FORGE_TIMEOUT,
            })
            .map_err(|e| repo_error(e.to_string()))?;
            notes.push(format!(
                "repository {:?}: GitLab {project} at {api_url} (branch {})",
                settings.name.as_str(),
                settings.branch
            ));
            Ok(Arc::new(gitlab))
        }
        Backend::GitHub {
            api_url,
            owner,
            name,
            auth,
        } => {
            let repo_error = |message: String| StartupError::Repository {
                name: settings.name.to_string(),
                message,
            };
            let auth = github_auth(auth).map_err(repo_error)?;
            let github = GitHub::new(&GithubSettings {
                api_url: api_url.clone(),
                owner: owner.clone(),
                name: name.clone(),
                auth,
                timeout: FORGE_TIMEOUT,
            })
            .map_err(|e| repo_error(e.to_string()))?;
            notes.push(format!(
                "repository {:?}: GitHub {owner}/{name} at {api_url} (branch {})",
                settings.name.as_str(),
                settings.branch
            ));
            Ok(Arc::new(github))
        }
    }
}

/// How long one forge request may take before it counts as failed.
const FORGE_TIMEOUT: Duration = Duration::from_secs(20);

/// A secret from an environment variable; the error names the variable, never a value.
fn secret_from_env(var: &str, key: &str) -> Result<SecretString, String> {
    match std::env::var(var) {
        Ok(token) if !token.trim().is_empty() => Ok(SecretString::from(token.trim().to_owned())),
        _ => Err(format!(
            "environment variable {var} ({key}) is not set or empty"
        )),
    }
}

/// Reads a credential. Errors name the variable or file, never the secret.
fn github_auth(credential: &Credential) -> Result<GithubAuth, String> {
    match credential {
        Credential::TokenEnv(var) => secret_from_env(var, "auth.tokenEnv").map(GithubAuth::Token),
        Credential::BearerEnv(_) => {
            Err("bearerEnv credentials are for gitlab repositories".to_owned())
        }
        Credential::Anonymous | Credential::Basic { .. } | Credential::Ssh { .. } => {
            Err("git remote credentials are for git repositories".to_owned())
        }
        Credential::TokenFile(path) => match std::fs::read_to_string(path) {
            Ok(token) if !token.trim().is_empty() => Ok(GithubAuth::Token(SecretString::from(
                token.trim().to_owned(),
            ))),
            Ok(_) => Err(format!(
                "token file {} (auth.tokenFile) is empty",
                path.display()
            )),
            Err(e) => Err(format!(
                "cannot read token file {} (auth.tokenFile): {e}",
                path.display()
            )),
        },
        Credential::GithubApp {
            app_id,
            private_key_file,
            installation_id,
        } => {
            let pem = std::fs::read_to_string(private_key_file).map_err(|e| {
                format!(
                    "cannot read GitHub App private key {} (auth.githubApp.privateKeyFile): {e}",
                    private_key_file.display()
                )
            })?;
            Ok(GithubAuth::App {
                app_id: *app_id,
                private_key_pem: SecretString::from(pem),
                installation_id: *installation_id,
            })
        }
    }
}

fn default_repository(repos: &BTreeMap<RepoName, Repository>) -> Result<RepoName, StartupError> {
    let preferred = RepoName::parse(DEFAULT_REPOSITORY).map_err(|e| StartupError::Repository {
        name: DEFAULT_REPOSITORY.into(),
        message: e.to_string(),
    })?;
    if repos.contains_key(&preferred) {
        return Ok(preferred);
    }
    // Requests without target.repository go to the first configured one when none is named `default`.
    repos
        .keys()
        .next()
        .cloned()
        .ok_or_else(|| StartupError::Repository {
            name: DEFAULT_REPOSITORY.into(),
            message: "no repositories configured".into(),
        })
}

/// Reads the stored token, or creates one readable only by the owner.
fn load_or_create_token(path: &Path) -> Result<String, StartupError> {
    let io = |what, source| StartupError::Io {
        what,
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_owned()),
        Ok(_) => return Err(StartupError::EmptyToken),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("cannot read token file", e)),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        io(
            "cannot generate a token for",
            std::io::Error::other(e.to_string()),
        )
    })?;
    let token = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .map_err(|e| io("cannot create token file", e))?;
    f.write_all(format!("{token}\n").as_bytes())
        .map_err(|e| io("cannot write token file", e))?;
    Ok(token)
}
