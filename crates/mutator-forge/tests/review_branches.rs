//! What the service needs of a review branch, asked of every backend the same way: whether
//! its head is already in main, moving it forward onto main without ever dropping a commit,
//! starting it afresh from main once its review was closed, and its newest pull/merge request.
//! Plain git (embedded, and a remote through its mirror) against real bare repositories,
//! GitHub and GitLab against their simulators.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use forge_sim::{GithubSim, GitlabSim, RunningGitlabSim, RunningSim};
use mutator_core::{BranchName, ChangeSet, RepoPath};
use mutator_forge::github::{GithubAuth, GithubSettings};
use mutator_forge::gitlab::{GitlabAuth, GitlabSettings};
use mutator_forge::{
    CommitId, CommitRequest, Forge, ForgeError, GitHub, GitLab, LocalGit, RemoteAuth, RemoteGit,
    RemoteGitSettings, ReviewState, Signature,
};
use secrecy::SecretString;

const TOKEN: &str = "forge-test-token";
const PROJECT: &str = "team-a/gitops";
const REVIEW: &str = "gitops/a/production";

fn branch(name: &str) -> BranchName {
    BranchName::parse(name).unwrap()
}

fn author() -> Signature {
    Signature {
        name: "gitops-mutator".into(),
        email: "gitops-mutator@localhost".into(),
    }
}

async fn commit(forge: &dyn Forge, on: &str, file: &str, text: &str) -> CommitId {
    let on = branch(on);
    let parent = forge.head(&on).await.unwrap().unwrap();
    let mut changes = ChangeSet::new();
    changes.put(RepoPath::parse(file).unwrap(), text);
    forge
        .commit(CommitRequest {
            branch: &on,
            parent: Some(&parent),
            changes: &changes,
            message: &format!("set {file} to {text}"),
            author: &author(),
        })
        .await
        .unwrap()
        .id
}

async fn head(forge: &dyn Forge, name: &str) -> CommitId {
    forge.head(&branch(name)).await.unwrap().unwrap()
}

/// How a person ends a review on this kind of repository. `merge` returns main's new head.
trait Reviews {
    fn merge(&self, number: Option<u64>) -> String;
    /// Closes the review without merging; plain git has nothing to close.
    fn close(&self, number: Option<u64>);
}

fn assert_conflict(result: Result<(), ForgeError>, what: &str) {
    match result {
        Err(ForgeError::Conflict { .. }) => {}
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

async fn scenario(forge: &dyn Forge, reviews: &dyn Reviews) {
    let (main, review) = (branch("main"), branch(REVIEW));
    let root = head(forge, "main").await;
    forge.create_branch(&review, &root).await.unwrap();
    let r1 = commit(forge, REVIEW, "a/p.yaml", "tag: 1\n").await;
    let m1 = commit(forge, "main", "a/s.yaml", "tag: 1\n").await;
    assert!(forge.contains(&root, &root).await.unwrap());
    assert!(forge.contains(&r1, &root).await.unwrap(), "an ancestor");
    assert!(!forge.contains(&m1, &r1).await.unwrap(), "not merged yet");
    assert!(!forge.contains(&r1, &m1).await.unwrap());

    let first = forge
        .open_review(&review, &main, "Promote a", "why")
        .await
        .ok();
    let n1 = first.as_ref().map(|r| r.number);
    if let Some(n1) = n1 {
        let latest = forge.latest_review(&review, &main).await.unwrap().unwrap();
        assert_eq!(
            (latest.number, latest.state, latest.head),
            (n1, ReviewState::Open, Some(r1.clone()))
        );
    } else {
        assert_eq!(forge.latest_review(&review, &main).await.unwrap(), None);
    }

    // Merged: the branch's head is in main, and moving it onto main is a fast-forward.
    let merged = CommitId(reviews.merge(n1));
    assert!(forge.contains(&merged, &r1).await.unwrap());
    if let Some(n1) = n1 {
        let latest = forge.latest_review(&review, &main).await.unwrap().unwrap();
        assert_eq!(
            (latest.number, latest.state, latest.head),
            (n1, ReviewState::Merged, Some(r1.clone()))
        );
    }
    forge.fast_forward(&review, &r1, &merged).await.unwrap();
    assert_eq!(head(forge, REVIEW).await, merged);
    forge.fast_forward(&review, &merged, &merged).await.unwrap();
    assert_eq!(head(forge, REVIEW).await, merged, "already there");

    // A second round, then main moves on. A move from a head the branch no longer has is
    // refused and leaves the newer commit where it is: a forced update would have dropped it.
    let r2 = commit(forge, REVIEW, "a/p.yaml", "tag: 2\n").await;
    let m2 = commit(forge, "main", "a/s.yaml", "tag: 2\n").await;
    assert!(!forge.contains(&m2, &r2).await.unwrap());
    assert_conflict(
        forge.fast_forward(&review, &merged, &m2).await,
        "fast-forward from a stale head",
    );
    assert_eq!(head(forge, REVIEW).await, r2);
    match forge.fast_forward(&review, &r2, &m2).await {
        Err(ForgeError::Rejected(_) | ForgeError::Conflict { .. }) => {}
        other => panic!("a move that is not a fast-forward is refused: {other:?}"),
    }
    assert_eq!(head(forge, REVIEW).await, r2);

    // Closed without merging: the newest review says so, with the head it was closed with.
    let second = forge
        .open_review(&review, &main, "Promote a", "why")
        .await
        .ok();
    let n2 = second.as_ref().map(|r| r.number);
    if let (Some(n1), Some(second)) = (n1, &second) {
        assert!(!second.reused, "the merged one is not reused");
        assert_ne!(second.number, n1);
    }
    reviews.close(n2);
    if let Some(n2) = n2 {
        let latest = forge.latest_review(&review, &main).await.unwrap().unwrap();
        assert_eq!(
            (latest.number, latest.state, latest.head),
            (n2, ReviewState::Closed, Some(r2.clone()))
        );
    }
    assert_conflict(
        forge.reset_branch(&review, &merged, &m2).await,
        "reset from a stale head",
    );
    assert_eq!(head(forge, REVIEW).await, r2);
    forge.reset_branch(&review, &r2, &m2).await.unwrap();
    assert_eq!(head(forge, REVIEW).await, m2);
    assert!(
        !forge.contains(&m2, &r2).await.unwrap(),
        "r2 left the branch"
    );
}

/// `git merge --no-ff gitops/a/production` into main of the bare repository at `path`.
fn merge_by_hand(path: &Path) -> String {
    let repo = git2::Repository::open_bare(path).unwrap();
    let commit = |name: &str| repo.find_reference(name).unwrap().peel_to_commit().unwrap();
    let (ours, theirs) = (
        commit("refs/heads/main"),
        commit(&format!("refs/heads/{REVIEW}")),
    );
    let mut index = repo.merge_commits(&ours, &theirs, None).unwrap();
    let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
    let who = git2::Signature::now("a person", "person@example.com").unwrap();
    repo.commit(
        Some("refs/heads/main"),
        &who,
        &who,
        &format!("Merge branch '{REVIEW}'\n"),
        &tree,
        &[&ours, &theirs],
    )
    .unwrap()
    .to_string()
}

struct ByHand<'a>(&'a Path);

impl Reviews for ByHand<'_> {
    fn merge(&self, number: Option<u64>) -> String {
        assert_eq!(number, None, "plain git has no pull requests");
        merge_by_hand(self.0)
    }
    fn close(&self, number: Option<u64>) {
        assert_eq!(number, None);
    }
}

#[tokio::test]
async fn embedded_git_moves_review_branches_by_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.git");
    let (git, _) = LocalGit::open_or_init(&path, &branch("main"), &author()).unwrap();
    scenario(&git, &ByHand(&path)).await;
}

#[tokio::test]
async fn a_remote_git_review_branch_moves_by_push_with_a_lease() {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin.git");
    LocalGit::open_or_init(&origin, &branch("main"), &author()).unwrap();
    let remote = RemoteGit::open(RemoteGitSettings {
        url: format!("file://{}", origin.display()),
        mirror_dir: dir.path().join("mirror"),
        auth: RemoteAuth::None,
        timeout: Duration::from_secs(30),
    })
    .unwrap();
    scenario(&remote, &ByHand(&origin)).await;
}

struct OnGithub<'a>(&'a RunningSim);

impl Reviews for OnGithub<'_> {
    fn merge(&self, number: Option<u64>) -> String {
        self.0
            .merge_pull("acme", "gitops", number.unwrap())
            .unwrap()
    }
    fn close(&self, number: Option<u64>) {
        self.0
            .close_pull("acme", "gitops", number.unwrap())
            .unwrap();
    }
}

#[tokio::test]
async fn github_review_branches_move_by_ref_update() {
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
    scenario(&gh, &OnGithub(&sim)).await;
}

struct OnGitlab<'a>(&'a RunningGitlabSim);

impl Reviews for OnGitlab<'_> {
    fn merge(&self, number: Option<u64>) -> String {
        self.0
            .merge_merge_request(PROJECT, number.unwrap())
            .unwrap()
    }
    fn close(&self, number: Option<u64>) {
        self.0
            .close_merge_request(PROJECT, number.unwrap())
            .unwrap();
    }
}

#[tokio::test]
async fn gitlab_review_branches_move_by_delete_and_create() {
    let sim = GitlabSim::start().unwrap();
    sim.create_project(PROJECT, "main").unwrap();
    sim.add_token(TOKEN, "ci-bot", &["api"]);
    let gl = GitLab::new(&GitlabSettings {
        api_url: sim.api_url(),
        project: PROJECT.into(),
        auth: GitlabAuth::Token(SecretString::from(TOKEN)),
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    scenario(&gl, &OnGitlab(&sim)).await;
}
