//! Running the GitLab simulator as a process: serve until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::control::GitlabControl;
use super::server;
use crate::error::SimError;

/// Serves a GitLab simulator on `listen` over `data_dir` until Ctrl-C.
///
/// `tokens` are `(token, username, scopes)`; `projects` are `(path_with_namespace,
/// default_branch)` created when missing (existing ones under `data_dir` keep their ids).
pub fn gitlab_run_blocking(
    listen: SocketAddr,
    data_dir: PathBuf,
    tokens: Vec<(String, String, Vec<String>)>,
    projects: Vec<(String, String)>,
) -> Result<(), SimError> {
    let control = GitlabControl::new(Some(data_dir))?;
    for (token, username, scopes) in &tokens {
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        control.add_token(token, username, &scopes);
    }
    for (path, branch) in &projects {
        if control.project_id(path).is_none() {
            control.create_project(path, branch)?;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        eprintln!(
            "forge-sim: simulated GitLab API at {}/api/v4 (control at /_sim), data in {}",
            crate::server::base_url_for(addr),
            control.data_dir().display()
        );
        server::serve_with_shutdown(listener, control, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(())
    })
}

/// Parsed command line of [`gitlab_main_like`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitlabProcessArgs {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub tokens: Vec<(String, String, Vec<String>)>,
    pub projects: Vec<(String, String)>,
}

pub const GITLAB_USAGE: &str = "usage: forge-sim-gitlab [--listen ADDR] [--data DIR] [--token TOKEN[=USER[:SCOPE,...]]]... [--project GROUP/NAME[@BRANCH]]...
  --listen ADDR          address to serve on (default 127.0.0.1:8090); the API is at /api/v4
  --data DIR             where bare repositories live (default ./forge-sim-gitlab-data)
  --token T[=U[:S,..]]   a token acting as user U (default sim-user) with scopes S (default api)
  --project P[@B]        a project to create when missing, default branch B (default main)";

/// Parses the process flags (without the program name).
pub fn gitlab_parse_args(
    args: impl IntoIterator<Item = String>,
) -> Result<GitlabProcessArgs, SimError> {
    let mut out = GitlabProcessArgs {
        listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
        data_dir: PathBuf::from("forge-sim-gitlab-data"),
        tokens: Vec::new(),
        projects: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (flag.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| SimError::Invalid(format!("{name} needs a value\n{GITLAB_USAGE}")))
        };
        match name.as_str() {
            "--listen" => {
                let v = value()?;
                out.listen = v
                    .parse()
                    .map_err(|_| SimError::Invalid(format!("--listen {v}: not an address")))?;
            }
            "--data" => out.data_dir = PathBuf::from(value()?),
            "--token" => {
                let v = value()?;
                let (token, rest) = v.split_once('=').unwrap_or((v.as_str(), "sim-user"));
                let (user, scopes) = rest.split_once(':').unwrap_or((rest, "api"));
                let scopes = scopes
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                out.tokens.push((token.to_owned(), user.to_owned(), scopes));
            }
            "--project" => {
                let v = value()?;
                let (path, branch) = v.split_once('@').unwrap_or((v.as_str(), "main"));
                if !super::state::valid_project_path(path) {
                    return Err(SimError::Invalid(format!(
                        "--project {v}: expected GROUP/NAME"
                    )));
                }
                out.projects.push((path.to_owned(), branch.to_owned()));
            }
            "-h" | "--help" => return Err(SimError::Invalid(GITLAB_USAGE.to_owned())),
            other => {
                return Err(SimError::Invalid(format!(
                    "unknown argument {other}\n{GITLAB_USAGE}"
                )));
            }
        }
    }
    Ok(out)
}

/// `main` of a stand-alone GitLab simulator: parses `args` and serves until Ctrl-C.
pub fn gitlab_main_like(args: impl IntoIterator<Item = String>) -> Result<(), SimError> {
    let a = gitlab_parse_args(args)?;
    gitlab_run_blocking(a.listen, a.data_dir, a.tokens, a.projects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let a = gitlab_parse_args(
            [
                "--listen=127.0.0.1:9100",
                "--data",
                "/tmp/gl",
                "--token",
                "t1=alice:api",
                "--token",
                "t2=bob:read_api,read_user",
                "--token",
                "t3",
                "--project",
                "acme/platform/gitops@trunk",
                "--project",
                "acme/other",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(a.listen.port(), 9100);
        assert_eq!(a.data_dir, PathBuf::from("/tmp/gl"));
        assert_eq!(
            a.tokens[0],
            ("t1".into(), "alice".into(), vec!["api".into()])
        );
        assert_eq!(
            a.tokens[1].2,
            vec!["read_api".to_owned(), "read_user".to_owned()]
        );
        assert_eq!(
            a.tokens[2],
            ("t3".into(), "sim-user".into(), vec!["api".into()])
        );
        assert_eq!(
            a.projects[0],
            ("acme/platform/gitops".into(), "trunk".into())
        );
        assert_eq!(a.projects[1].1, "main");
        assert!(gitlab_parse_args(["--project".to_owned(), "solo".to_owned()]).is_err());
        assert!(gitlab_parse_args(["--bogus".to_owned()]).is_err());
    }
}
