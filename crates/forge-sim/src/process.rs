//! Running the simulator as a process (`gitops-mutator sim github ...`): serve until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::SimError;
use crate::server;
use crate::sim::Sim;

/// Serves a simulator on `listen` over `data_dir` until Ctrl-C.
///
/// `tokens` are `(token, user)` pairs with access to every repository; `repos` are
/// `(owner, name, default_branch)` created when missing (existing ones under `data_dir` are
/// served as they are).
pub fn run_blocking(
    listen: SocketAddr,
    data_dir: PathBuf,
    tokens: Vec<(String, String)>,
    repos: Vec<(String, String, String)>,
) -> Result<(), SimError> {
    let sim = Sim::new(Some(data_dir))?;
    for (token, user) in &tokens {
        sim.add_token(token, user);
    }
    for (owner, name, branch) in &repos {
        if sim.repo_path(owner, name).is_none() {
            sim.create_repo(owner, name, branch)?;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        eprintln!(
            "forge-sim: simulated GitHub API at {} (GraphQL at /graphql, control at /_sim), data in {}",
            server::base_url_for(addr),
            sim.data_dir().display()
        );
        server::serve_with_shutdown(listener, sim, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(())
    })
}

/// Parsed command line of [`main_like`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessArgs {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub tokens: Vec<(String, String)>,
    pub repos: Vec<(String, String, String)>,
}

pub const USAGE: &str = "usage: forge-sim [--listen ADDR] [--data DIR] [--token TOKEN[=USER]]... [--repo OWNER/NAME[@BRANCH]]...
  --listen ADDR   address to serve on (default 127.0.0.1:8089)
  --data DIR      where bare repositories live (default ./forge-sim-data)
  --token T[=U]   a static token acting as user U (default user: sim-user)
  --repo O/N[@B]  a repository to create when missing, default branch B (default main)";

/// Parses the process flags (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<ProcessArgs, SimError> {
    let mut out = ProcessArgs {
        listen: SocketAddr::from(([127, 0, 0, 1], 8089)),
        data_dir: PathBuf::from("forge-sim-data"),
        tokens: Vec::new(),
        repos: Vec::new(),
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
                .ok_or_else(|| SimError::Invalid(format!("{name} needs a value\n{USAGE}")))
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
                let (token, user) = v.split_once('=').unwrap_or((v.as_str(), "sim-user"));
                out.tokens.push((token.to_owned(), user.to_owned()));
            }
            "--repo" => {
                let v = value()?;
                let (full, branch) = v.split_once('@').unwrap_or((v.as_str(), "main"));
                let (owner, name) = full
                    .split_once('/')
                    .ok_or_else(|| SimError::Invalid(format!("--repo {v}: expected OWNER/NAME")))?;
                out.repos
                    .push((owner.to_owned(), name.to_owned(), branch.to_owned()));
            }
            "-h" | "--help" => return Err(SimError::Invalid(USAGE.to_owned())),
            other => {
                return Err(SimError::Invalid(format!(
                    "unknown argument {other}\n{USAGE}"
                )));
            }
        }
    }
    Ok(out)
}

/// `main` of a stand-alone simulator process: parses `args` (without the program name) and
/// serves until Ctrl-C.
pub fn main_like(args: impl IntoIterator<Item = String>) -> Result<(), SimError> {
    let a = parse_args(args)?;
    run_blocking(a.listen, a.data_dir, a.tokens, a.repos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let a = parse_args(
            [
                "--listen",
                "127.0.0.1:9000",
                "--data=/tmp/x",
                "--token",
                "t1=alice",
                "--token",
                "t2",
                "--repo",
                "acme/gitops@trunk",
                "--repo",
                "acme/other",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(a.listen.port(), 9000);
        assert_eq!(a.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(a.tokens[1], ("t2".into(), "sim-user".into()));
        assert_eq!(a.repos[0], ("acme".into(), "gitops".into(), "trunk".into()));
        assert_eq!(a.repos[1].2, "main");
        assert!(parse_args(["--bogus".to_owned()]).is_err());
    }
}
