//! Looks at what the service wrote, with git2 and the git CLI, as a person would.

use std::path::Path;
use std::process::Command;

pub fn head(repo: &Path) -> String {
    let r = git2::Repository::open_bare(repo).unwrap();
    r.refname_to_id("refs/heads/main").unwrap().to_string()
}

pub fn commit_count(repo: &Path) -> usize {
    let r = git2::Repository::open_bare(repo).unwrap();
    let mut walk = r.revwalk().unwrap();
    walk.push_ref("refs/heads/main").unwrap();
    walk.count()
}

pub fn message(repo: &Path, rev: &str) -> String {
    let r = git2::Repository::open_bare(repo).unwrap();
    let c = r.revparse_single(rev).unwrap().peel_to_commit().unwrap();
    c.message().unwrap().to_owned()
}

pub fn file(repo: &Path, rev: &str, path: &str) -> Option<String> {
    let r = git2::Repository::open_bare(repo).unwrap();
    let tree = r.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = r.find_blob(entry.id()).unwrap();
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

/// Runs the git CLI against the bare repository and returns stdout.
pub fn cli(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Commits `content` at `path` on main as somebody else would: clone, commit, push.
pub fn foreign_commit(repo: &Path, work: &Path, path: &str, content: &str) {
    let run = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "someone")
            .env("GIT_AUTHOR_EMAIL", "someone@example.com")
            .env("GIT_COMMITTER_NAME", "someone")
            .env("GIT_COMMITTER_EMAIL", "someone@example.com")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        work.parent().unwrap(),
        &[
            "clone",
            "-q",
            repo.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    let target = work.join(path);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, content).unwrap();
    run(work, &["add", "."]);
    run(work, &["commit", "-q", "-m", "hand edit"]);
    run(work, &["push", "-q", "origin", "HEAD:main"]);
}
