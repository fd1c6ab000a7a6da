//! The GitHub backend against the GitHub simulator: real HTTP, real git repositories behind it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use forge_sim::{FaultTiming, GithubSim, PrimaryLimit, Resource, RunningSim};
use mutator_core::{BranchName, ChangeSet, FileAction, RepoPath};
use mutator_forge::github::{GithubAuth, GithubSettings};
use mutator_forge::{CommitRequest, Forge, ForgeError, GitHub, Signature};
use secrecy::SecretString;

const TOKEN: &str = "ghp_forge_test_token";

fn github(sim: &RunningSim, name: &str, token: &str) -> GitHub {
    GitHub::new(&GithubSettings {
        api_url: sim.base_url(),
        owner: "acme".into(),
        name: name.into(),
        auth: GithubAuth::Token(SecretString::from(token)),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

fn setup() -> (RunningSim, GitHub) {
    let sim = GithubSim::start().unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    sim.add_token(TOKEN, "ci-bot");
    let gh = github(&sim, "gitops", TOKEN);
    (sim, gh)
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
    parent: &'a mutator_forge::CommitId,
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
async fn commits_create_update_and_delete_in_one_mutation() {
    let (sim, gh) = setup();
    let main = main_branch();
    let who = author();
    let head = gh.head(&main).await.unwrap().unwrap();
    let big = "# padding\n".repeat(120_000); // 1.2 MB: over the contents API's inline limit
    let mut cs = ChangeSet::new();
    cs.put(path("apps/a/values.yaml"), "image:\n  tag: \"1\"\n");
    cs.put(path("apps/a/big.yaml"), big.clone());
    cs.put(path("a dir/with space#hash.yaml"), "x: 1\n");
    let first = gh
        .commit(request(
            &main,
            &head,
            &cs,
            "one [skip ci]\n\nGitops-Mutation-Id: m1\n",
            &who,
        ))
        .await
        .unwrap();
    assert_eq!(
        gh.read_file(&first.id, &path("apps/a/big.yaml"))
            .await
            .unwrap()
            .unwrap(),
        big.as_bytes()
    );
    assert_eq!(
        gh.read_file(&first.id, &path("a dir/with space#hash.yaml"))
            .await
            .unwrap()
            .unwrap(),
        b"x: 1\n"
    );
    assert_eq!(
        gh.read_file(&first.id, &path("nope.yaml")).await.unwrap(),
        None
    );

    let mut cs = ChangeSet::new();
    cs.put(path("apps/a/values.yaml"), "image:\n  tag: \"2\"\n");
    cs.delete(path("apps/a/big.yaml"));
    sim.reset_stats();
    let second = gh
        .commit(request(
            &main,
            &first.id,
            &cs,
            "two [skip ci]\n\nGitops-Mutation-Id: m2\n",
            &who,
        ))
        .await
        .unwrap();
    assert_eq!(
        sim.stats().content_creating,
        1,
        "one mutation for the whole change set"
    );
    assert_eq!(gh.head(&main).await.unwrap(), Some(second.id.clone()));
    assert_eq!(
        gh.read_file(&second.id, &path("apps/a/big.yaml"))
            .await
            .unwrap(),
        None
    );
    let mut changed = gh.changed_files(&second.id).await.unwrap();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changed,
        vec![
            (path("apps/a/big.yaml"), FileAction::Delete),
            (path("apps/a/values.yaml"), FileAction::Update)
        ]
    );
    let info = gh.commit_info(&second.id).await.unwrap();
    assert_eq!(info.parent, Some(first.id.clone()));
    assert!(
        info.message
            .starts_with("two [skip ci]\n\nGitops-Mutation-Id: m2"),
        "{}",
        info.message
    );
    let found = gh
        .find_by_trailer(&main, "Gitops-Mutation-Id", "m1", 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, first.id);
    assert!(
        gh.find_by_trailer(&main, "Gitops-Mutation-Id", "m3", 50)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_stale_head_is_a_conflict_and_nothing_changes() {
    let (sim, gh) = setup();
    let main = main_branch();
    let who = author();
    let head = gh.head(&main).await.unwrap().unwrap();
    sim.commit_files(
        "acme",
        "gitops",
        "main",
        &[("other.txt", Some(b"x"))],
        "someone else",
    )
    .unwrap();
    let moved = gh.head(&main).await.unwrap().unwrap();
    let mut cs = ChangeSet::new();
    cs.put(path("a.yaml"), "a: 1\n");
    let err = gh
        .commit(request(&main, &head, &cs, "x\n", &who))
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(gh.head(&main).await.unwrap(), Some(moved));
}

#[tokio::test]
async fn errors_are_told_apart() {
    let (sim, gh) = setup();
    let main = main_branch();
    sim.set_fault(1, 502, FaultTiming::BeforeHandler).unwrap();
    let err = gh.head(&main).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transient(_)), "{err}");
    assert!(err.is_retryable());
    sim.clear_faults();

    sim.set_primary_limit(
        TOKEN,
        Resource::Core,
        PrimaryLimit {
            limit: 10,
            remaining: 0,
            reset_in_secs: 30,
        },
    );
    match gh.head(&main).await.unwrap_err() {
        ForgeError::RateLimited {
            retry_after: Some(wait),
            ..
        } => {
            assert!(
                wait <= Duration::from_secs(31) && wait >= Duration::from_secs(25),
                "{wait:?}"
            )
        }
        other => panic!("expected a rate limit, got {other}"),
    }

    sim.set_primary_limit(
        TOKEN,
        Resource::Core,
        PrimaryLimit {
            limit: 5000,
            remaining: 5000,
            reset_in_secs: 3600,
        },
    );

    let wrong = github(&sim, "gitops", "wrong-token-value");
    let err = wrong.head(&main).await.unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized(_)), "{err}");
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("wrong-token-value"));

    // A repository the token cannot see: its branch reads as absent, never as an error to retry.
    let missing = github(&sim, "missing", TOKEN);
    assert_eq!(missing.head(&main).await.unwrap(), None);
}

#[tokio::test]
async fn branches_and_pull_requests_are_created_once() {
    let (_sim, gh) = setup();
    let main = main_branch();
    let who = author();
    let head = gh.head(&main).await.unwrap().unwrap();
    let review = BranchName::parse("gitops/payments/production").unwrap();
    gh.create_branch(&review, &head).await.unwrap();
    assert!(matches!(
        gh.create_branch(&review, &head).await,
        Err(ForgeError::Conflict { .. })
    ));
    let mut cs = ChangeSet::new();
    cs.put(
        path("apps/payments/environments/production/values.yaml"),
        "image:\n  tag: \"9\"\n",
    );
    gh.commit(request(&review, &head, &cs, "promote\n", &who))
        .await
        .unwrap();
    let first = gh
        .open_review(&review, &main, "promote payments", "body")
        .await
        .unwrap();
    assert!(!first.reused);
    assert!(first.url.contains("/pull/"), "{}", first.url);
    let again = gh
        .open_review(&review, &main, "promote payments", "body")
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.number, first.number);
}
