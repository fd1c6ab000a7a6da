//! `Forge::changed_between`: the paths two commits of a branch differ in, in one step, which a
//! lane uses to keep what it knows of files nobody touched. Plain git (embedded, and a remote
//! through its mirror) against real bare repositories, GitHub against its simulator (the
//! compare API's `files`). A comparison that does not run forward is "cannot say".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use forge_sim::GithubSim;
use mutator_core::{BranchName, ChangeSet, RepoPath};
use mutator_forge::github::{GithubAuth, GithubSettings};
use mutator_forge::{
    CommitId, CommitRequest, Forge, GitHub, LocalGit, RemoteAuth, RemoteGit, RemoteGitSettings,
    Signature,
};
use secrecy::SecretString;

const TOKEN: &str = "forge-test-token";

fn main_branch() -> BranchName {
    BranchName::parse("main").unwrap()
}

fn path(p: &str) -> RepoPath {
    RepoPath::parse(p).unwrap()
}

fn author() -> Signature {
    Signature {
        name: "gitops-mutator".into(),
        email: "gitops-mutator@localhost".into(),
    }
}

async fn commit(forge: &dyn Forge, changes: &ChangeSet) -> CommitId {
    let main = main_branch();
    let parent = forge.head(&main).await.unwrap().unwrap();
    forge
        .commit(CommitRequest {
            branch: &main,
            parent: Some(&parent),
            changes,
            message: "change [skip ci]",
            author: &author(),
        })
        .await
        .unwrap()
        .id
}

fn sorted(paths: Option<Vec<RepoPath>>) -> Option<Vec<String>> {
    paths.map(|p| {
        let mut p: Vec<String> = p.iter().map(ToString::to_string).collect();
        p.sort();
        p
    })
}

/// Three commits after a base: two files written, one of them again, one deleted; the
/// comparison lists the union, a commit compared with itself lists nothing, and backwards
/// is "cannot say".
async fn check(forge: &dyn Forge) {
    let mut first = ChangeSet::new();
    first.put(path("apps/a/values.yaml"), "tag: 1\n");
    first.put(path("apps/b/values.yaml"), "tag: 1\n");
    first.put(path("docs/old.md"), "old\n");
    let base = commit(forge, &first).await;
    let mut second = ChangeSet::new();
    second.put(path("apps/a/values.yaml"), "tag: 2\n");
    second.put(path("docs/new.md"), "new\n");
    commit(forge, &second).await;
    let mut third = ChangeSet::new();
    third.put(path("apps/a/values.yaml"), "tag: 3\n");
    third.delete(path("docs/old.md"));
    let head = commit(forge, &third).await;

    assert_eq!(
        sorted(forge.changed_between(&base, &head).await.unwrap()),
        Some(vec![
            "apps/a/values.yaml".to_owned(),
            "docs/new.md".to_owned(),
            "docs/old.md".to_owned(),
        ])
    );
    assert_eq!(
        sorted(forge.changed_between(&head, &head).await.unwrap()),
        Some(vec![])
    );
    assert_eq!(forge.changed_between(&head, &base).await.unwrap(), None);
}

#[tokio::test]
async fn plain_git_compares_trees() {
    let dir = tempfile::tempdir().unwrap();
    let (git, _) =
        LocalGit::open_or_init(dir.path().join("repo.git"), &main_branch(), &author()).unwrap();
    check(&git).await;
}

#[tokio::test]
async fn a_remote_git_mirror_compares_trees() {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin.git");
    LocalGit::open_or_init(&origin, &main_branch(), &author()).unwrap();
    let remote = RemoteGit::open(RemoteGitSettings {
        url: format!("file://{}", origin.display()),
        mirror_dir: dir.path().join("mirror"),
        auth: RemoteAuth::None,
        timeout: Duration::from_secs(30),
    })
    .unwrap();
    check(&remote).await;
}

#[tokio::test]
async fn github_compares_in_one_request() {
    let sim = GithubSim::start().unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    sim.add_token(TOKEN, "ci-bot");
    let gh = GitHub::new(&GithubSettings {
        api_url: sim.base_url(),
        owner: "acme".into(),
        name: "gitops".into(),
        auth: GithubAuth::Token(SecretString::from(TOKEN)),
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    check(&gh).await;
    let head = gh.head(&main_branch()).await.unwrap().unwrap();
    sim.reset_stats();
    let _ = gh.changed_between(&head, &head).await.unwrap();
    assert_eq!(sim.stats().total_requests, 1);
}
