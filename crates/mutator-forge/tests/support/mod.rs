//! Shared by the remote git tests: served repositories and the git CLI.

#![allow(dead_code)]

pub mod git_http;

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{FileMode, Repository};

pub const USER: &str = "mutator-bot";
/// Distinctive, so a test can tell it never leaked into a message.
pub const PASSWORD: &str = "pw-Zq7-never-print-me";

/// The values file the tests edit.
pub const VALUES: &str = "environments/staging/values.yaml";

/// Creates `<root>/<name>` as a bare repository with one commit on `main` (a README and a
/// values file), accepting pushes over HTTP.
pub fn served_repo(root: &Path, name: &str) -> PathBuf {
    served_repo_with(root, name, &[])
}

/// The same, with `extra` files in the first commit.
pub fn served_repo_with(root: &Path, name: &str, extra: &[(String, Vec<u8>)]) -> PathBuf {
    let path = root.join(name);
    let repo = Repository::init_bare(&path).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    repo.config()
        .unwrap()
        .set_bool("http.receivepack", true)
        .unwrap();
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("README.md".into(), b"# gitops\n".to_vec()),
        (
            VALUES.into(),
            b"image:\n  tag: \"1.4.1\" # pinned\n".to_vec(),
        ),
    ];
    files.extend(extra.iter().cloned());
    let tree = write_tree(&repo, &files);
    let sig = git2::Signature::now("seed", "seed@example.com").unwrap();
    let tree = repo.find_tree(tree).unwrap();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "seed\n", &tree, &[])
        .unwrap();
    path
}

/// Writes nested trees for `files` (paths with `/`) and returns the root tree.
pub fn write_tree(repo: &Repository, files: &[(String, Vec<u8>)]) -> git2::Oid {
    let mut update = git2::build::TreeUpdateBuilder::new();
    for (path, content) in files {
        let blob = repo.blob(content).unwrap();
        update.upsert(path.as_str(), blob, FileMode::Blob);
    }
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let empty = repo.find_tree(empty).unwrap();
    update.create_updated(repo, &empty).unwrap()
}

/// Runs the git CLI with no user or system configuration; panics with its stderr on failure.
pub fn git(dir: Option<&Path>, args: &[&str]) -> String {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command
        .args([
            "-c",
            "user.name=Foreign Writer",
            "-c",
            "user.email=foreign@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Clones `url` into `work`, writes `path`, commits and pushes `main` with the git CLI:
/// someone else's change. Returns the new head.
pub fn foreign_commit(url: &str, work: &Path, path: &str, content: &str) -> String {
    let work_str = work.to_str().unwrap();
    if !work.exists() {
        git(None, &["clone", "--quiet", url, work_str]);
    } else {
        git(
            Some(work),
            &["pull", "--quiet", "--ff-only", "origin", "main"],
        );
    }
    let file = work.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, content).unwrap();
    git(Some(work), &["add", "--all"]);
    git(
        Some(work),
        &["commit", "--quiet", "-m", &format!("foreign: {path}")],
    );
    git(Some(work), &["push", "--quiet", "origin", "main"]);
    git(Some(work), &["rev-parse", "HEAD"]).trim().to_owned()
}
