//! The GitLab backend against the GitLab simulator: real HTTP, real git repositories behind it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use forge_sim::{GitlabSim, RunningGitlabSim};
use mutator_core::{BranchName, ChangeSet, FileAction, RepoPath};
use mutator_forge::gitlab::{GitlabAuth, GitlabSettings};
use mutator_forge::{CommitId, CommitRequest, Forge, ForgeError, GitLab, Signature};
use secrecy::SecretString;

const TOKEN: &str = "glpat-forge-test";
const PROJECT: &str = "team-a/gitops";

fn gitlab(sim: &RunningGitlabSim, token: &str) -> GitLab {
    GitLab::new(&GitlabSettings {
        api_url: sim.api_url(),
        project: PROJECT.into(),
        auth: GitlabAuth::Token(SecretString::from(token)),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

fn setup() -> (RunningGitlabSim, GitLab) {
    let sim = GitlabSim::start().unwrap();
    sim.create_project(PROJECT, "main").unwrap();
    sim.add_token(TOKEN, "ci-bot", &["api"]);
    let gl = gitlab(&sim, TOKEN);
    (sim, gl)
}

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

fn request<'a>(
    branch: &'a BranchName,
    parent: &'a CommitId,
    changes: &'a ChangeSet,
    message: &'a str,
    author: &'a Signature,
) -> CommitRequest<'a> {
    CommitRequest {
        branch,
        parent: Some(parent),
        changes,
        message,
        author,
    }
}

#[tokio::test]
async fn create_update_delete_and_read_back() {
    let (_sim, gl) = setup();
    let main = main_branch();
    let who = author();
    let head = gl.head(&main).await.unwrap().unwrap();
    let mut cs = ChangeSet::new();
    cs.put(path("apps/a/values.yaml"), "tag: \"1\"\n");
    cs.put(path("apps/a/old.yaml"), "x\n");
    let first = gl
        .commit(request(
            &main,
            &head,
            &cs,
            "one\n\nGitops-Mutation-Id: g1\n",
            &who,
        ))
        .await
        .unwrap();
    assert!(
        first
            .url
            .as_deref()
            .unwrap_or_default()
            .contains("/-/commit/")
    );
    assert_eq!(
        gl.read_file(&first.id, &path("apps/a/values.yaml"))
            .await
            .unwrap()
            .unwrap(),
        b"tag: \"1\"\n"
    );

    let mut cs = ChangeSet::new();
    cs.put(path("apps/a/values.yaml"), "tag: \"2\"\n");
    cs.delete(path("apps/a/old.yaml"));
    // No read of these files at `first`: the backend learns their last commits itself.
    let second = gl
        .commit(request(
            &main,
            &first.id,
            &cs,
            "two\n\nGitops-Mutation-Id: g2\n",
            &who,
        ))
        .await
        .unwrap();
    let mut changed = gl.changed_files(&second.id).await.unwrap();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changed,
        vec![
            (path("apps/a/old.yaml"), FileAction::Delete),
            (path("apps/a/values.yaml"), FileAction::Update)
        ]
    );
    assert_eq!(
        gl.commit_info(&second.id).await.unwrap().parent,
        Some(first.id.clone())
    );
    let recent: Vec<_> = gl
        .recent_commits(&second.id, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(recent, vec![second.id.clone(), first.id.clone()]);
    assert_eq!(
        gl.find_by_trailer(&main, "Gitops-Mutation-Id", "g1", 50)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(first.id)
    );
    assert_eq!(
        gl.head(&BranchName::parse("nope").unwrap()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_file_changed_since_it_was_read_is_a_conflict() {
    let (sim, gl) = setup();
    let main = main_branch();
    let who = author();
    let head = gl.head(&main).await.unwrap().unwrap();
    let mut cs = ChangeSet::new();
    cs.put(path("v.yaml"), "a: 1\n");
    let first = gl
        .commit(request(&main, &head, &cs, "one\n", &who))
        .await
        .unwrap();
    gl.read_file(&first.id, &path("v.yaml")).await.unwrap();
    sim.commit_files(
        PROJECT,
        "main",
        &[("v.yaml", Some(b"a: 2\n"))],
        "someone else",
    )
    .unwrap();
    let mut cs = ChangeSet::new();
    cs.put(path("v.yaml"), "a: 3\n");
    let err = gl
        .commit(request(&main, &first.id, &cs, "mine\n", &who))
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }), "{err}");
    let now = gl.head(&main).await.unwrap().unwrap();
    assert_eq!(
        gl.read_file(&now, &path("v.yaml")).await.unwrap().unwrap(),
        b"a: 2\n",
        "their change is kept"
    );
}

#[tokio::test]
async fn credentials_and_scopes() {
    let (sim, _) = setup();
    let wrong = gitlab(&sim, "glpat-wrong-value");
    let err = wrong.head(&main_branch()).await.unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized(_)), "{err}");
    assert!(!err.to_string().contains("glpat-wrong-value"));
    sim.add_token("glpat-read", "reader", &["read_api"]);
    let reader = gitlab(&sim, "glpat-read");
    let head = reader.head(&main_branch()).await.unwrap().unwrap();
    let mut cs = ChangeSet::new();
    cs.put(path("x.yaml"), "x: 1\n");
    let err = reader
        .commit(request(&main_branch(), &head, &cs, "x\n", &author()))
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Rejected(_)), "{err}");
}

#[tokio::test]
async fn branches_and_merge_requests_are_created_once() {
    let (_sim, gl) = setup();
    let main = main_branch();
    let head = gl.head(&main).await.unwrap().unwrap();
    let review = BranchName::parse("gitops/payments/production").unwrap();
    gl.create_branch(&review, &head).await.unwrap();
    assert!(matches!(
        gl.create_branch(&review, &head).await,
        Err(ForgeError::Conflict { .. })
    ));
    let mut cs = ChangeSet::new();
    cs.put(
        path("apps/payments/environments/production/values.yaml"),
        "tag: \"9\"\n",
    );
    gl.commit(request(&review, &head, &cs, "promote\n", &author()))
        .await
        .unwrap();
    let first = gl
        .open_review(&review, &main, "promote payments", "body")
        .await
        .unwrap();
    assert!(!first.reused);
    let again = gl
        .open_review(&review, &main, "promote payments", "body")
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.number, first.number);
}
