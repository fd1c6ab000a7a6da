//! A review branch merged into main, seen through each backend the same way: the first-parent
//! chain of main holds the merge, the merge brings in the review branch's commits, and the
//! merge names its pull/merge request where the forge has them. Plain git (embedded, and a
//! remote through its mirror) against real bare repositories, GitHub and GitLab against their
//! simulators.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use forge_sim::{GithubSim, GitlabSim, MergeMethod, RunningGitlabSim, RunningSim};
use mutator_core::{BranchName, ChangeSet, RepoPath};
use mutator_forge::github::{GithubAuth, GithubSettings};
use mutator_forge::gitlab::{GitlabAuth, GitlabSettings};
use mutator_forge::{
    CommitId, CommitInfo, CommitRequest, Forge, GitHub, GitLab, LandedReview, LocalGit, RemoteAuth,
    RemoteGit, RemoteGitSettings, Signature,
};
use secrecy::SecretString;

const TOKEN: &str = "forge-test-token";
const PROJECT: &str = "team-a/gitops";

fn branch(name: &str) -> BranchName {
    BranchName::parse(name).unwrap()
}

fn author() -> Signature {
    Signature {
        name: "gitops-mutator".into(),
        email: "gitops-mutator@localhost".into(),
    }
}

async fn commit(forge: &dyn Forge, on: &str, file: &str, text: &str, message: &str) -> CommitId {
    let on = branch(on);
    let parent = forge.head(&on).await.unwrap().unwrap();
    let mut changes = ChangeSet::new();
    changes.put(RepoPath::parse(file).unwrap(), text);
    forge
        .commit(CommitRequest {
            branch: &on,
            parent: Some(&parent),
            changes: &changes,
            message,
            author: &author(),
        })
        .await
        .unwrap()
        .id
}

fn ids(commits: &[CommitInfo]) -> Vec<CommitId> {
    commits.iter().map(|c| c.id.clone()).collect()
}

/// What a review branch left on main.
struct Merged {
    root: CommitId,
    on_main: CommitId,
    reviewed: [CommitId; 2],
    merge: CommitInfo,
}

/// Two commits on `gitops/a/production`, one on main meanwhile, then `merge` (which returns
/// the new head of main).
async fn review_and_merge(
    forge: &dyn Forge,
    merge: impl FnOnce(Option<u64>) -> String,
) -> (Merged, Option<u64>) {
    let main = branch("main");
    let review = branch("gitops/a/production");
    let root = forge.head(&main).await.unwrap().unwrap();
    forge.create_branch(&review, &root).await.unwrap();
    let r1 = commit(
        forge,
        review.as_str(),
        "a/p.yaml",
        "tag: 1\n",
        "promote 1\n\nGitops-Mutation-Id: r1\n",
    )
    .await;
    let r2 = commit(
        forge,
        review.as_str(),
        "a/p.yaml",
        "tag: 2\n",
        "promote 2\n\nGitops-Mutation-Id: r2\n",
    )
    .await;
    let on_main = commit(forge, "main", "a/s.yaml", "tag: 9\n", "stage 9\n").await;
    let number = match forge.open_review(&review, &main, "Promote a", "why").await {
        Ok(request) => Some(request.number),
        Err(_) => None,
    };
    let head = CommitId(merge(number));
    assert_eq!(forge.head(&main).await.unwrap(), Some(head.clone()));
    let merge = forge.commit_info(&head).await.unwrap();
    (
        Merged {
            root,
            on_main,
            reviewed: [r1, r2],
            merge,
        },
        number,
    )
}

/// What every backend must say about the merge.
async fn check(forge: &dyn Forge, m: &Merged) {
    let [r1, r2] = &m.reviewed;
    assert_eq!(m.merge.parent.as_ref(), Some(&m.on_main));
    assert_eq!(m.merge.merged, std::slice::from_ref(r2));
    let chain = forge.recent_commits(&m.merge.id, 3).await.unwrap();
    assert_eq!(
        ids(&chain),
        [m.merge.id.clone(), m.on_main.clone(), m.root.clone()],
        "first parents only: the review branch's commits are not on main's chain"
    );
    assert_eq!(
        chain[0].merged,
        std::slice::from_ref(r2),
        "listed commits know their merged parents"
    );
    let brought = forge.merged_commits(&m.merge, 10).await.unwrap();
    assert_eq!(ids(&brought), [r2.clone(), r1.clone()], "newest first");
    assert!(brought[0].message.contains("Gitops-Mutation-Id: r2"));
    assert_eq!(
        ids(&forge.merged_commits(&m.merge, 1).await.unwrap()),
        std::slice::from_ref(r2)
    );
    assert!(
        forge
            .merged_commits(&chain[1], 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        forge.landed_review(&chain[1]),
        None,
        "an ordinary commit lands no review"
    );
}

/// `git merge --no-ff gitops/a/production` into main of the bare repository at `path`, as a
/// person would; returns the merge.
fn merge_by_hand(path: &Path) -> String {
    let repo = git2::Repository::open_bare(path).unwrap();
    let ours = repo
        .find_reference("refs/heads/main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let theirs = repo
        .find_reference("refs/heads/gitops/a/production")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut index = repo.merge_commits(&ours, &theirs, None).unwrap();
    let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
    let who = git2::Signature::now("a person", "person@example.com").unwrap();
    repo.commit(
        Some("refs/heads/main"),
        &who,
        &who,
        "Merge branch 'gitops/a/production'\n",
        &tree,
        &[&ours, &theirs],
    )
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn plain_git_follows_merges_and_names_no_review() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.git");
    let (git, _) = LocalGit::open_or_init(&path, &branch("main"), &author()).unwrap();
    let (merged, number) = review_and_merge(&git, |_| merge_by_hand(&path)).await;
    assert_eq!(number, None, "plain git has no pull requests");
    check(&git, &merged).await;
    assert_eq!(git.landed_review(&merged.merge), None);
}

#[tokio::test]
async fn a_remote_git_mirror_follows_merges_made_upstream() {
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
    let (merged, number) = review_and_merge(&remote, |_| merge_by_hand(&origin)).await;
    assert_eq!(number, None);
    check(&remote, &merged).await;
    assert_eq!(remote.landed_review(&merged.merge), None);
}

fn github(sim: &RunningSim) -> GitHub {
    GitHub::new(&GithubSettings {
        api_url: sim.base_url(),
        owner: "acme".into(),
        name: "gitops".into(),
        auth: GithubAuth::Token(SecretString::from(TOKEN)),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[tokio::test]
async fn github_follows_merges_and_names_the_pull_request() {
    let sim = GithubSim::start().unwrap();
    sim.create_repo("acme", "gitops", "main").unwrap();
    sim.add_token(TOKEN, "ci-bot");
    let gh = github(&sim);
    let (merged, number) = review_and_merge(&gh, |n| {
        sim.merge_pull("acme", "gitops", n.unwrap()).unwrap()
    })
    .await;
    check(&gh, &merged).await;
    let number = number.unwrap();
    assert_eq!(
        gh.landed_review(&merged.merge),
        Some(LandedReview {
            number,
            url: format!("{}/acme/gitops/pull/{number}", sim.base_url()),
        })
    );

    // A squash merge lands one ordinary commit whose subject names the pull request and whose
    // body keeps the only commit's trailers.
    let review = branch("gitops/a/production");
    commit(
        &gh,
        review.as_str(),
        "a/p.yaml",
        "tag: 3\n",
        "promote 3\n\nGitops-Mutation-Id: r3\n",
    )
    .await;
    let request = gh
        .open_review(&review, &branch("main"), "Promote a", "why")
        .await
        .unwrap();
    assert!(
        !request.reused,
        "the merged pull request is closed; a new one opens"
    );
    // The review branch still holds the first round; only what main lacks is squashed.
    let squashed = sim
        .merge_pull_with("acme", "gitops", request.number, MergeMethod::Squash)
        .unwrap();
    let info = gh.commit_info(&CommitId(squashed)).await.unwrap();
    assert!(info.merged.is_empty());
    assert!(
        info.message.contains("Gitops-Mutation-Id: r3"),
        "{}",
        info.message
    );
    assert_eq!(
        gh.landed_review(&info).map(|r| r.number),
        Some(request.number)
    );
    let chain = gh.recent_commits(&info.id, 2).await.unwrap();
    assert_eq!(ids(&chain), [info.id.clone(), merged.merge.id.clone()]);
}

fn gitlab(sim: &RunningGitlabSim, project: &str) -> GitLab {
    GitLab::new(&GitlabSettings {
        api_url: sim.api_url(),
        project: project.into(),
        auth: GitlabAuth::Token(SecretString::from(TOKEN)),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[tokio::test]
async fn gitlab_follows_merges_and_names_the_merge_request() {
    let sim = GitlabSim::start().unwrap();
    let (id, _) = sim.create_project(PROJECT, "main").unwrap();
    sim.add_token(TOKEN, "ci-bot", &["api"]);
    let gl = gitlab(&sim, PROJECT);
    let (merged, number) = review_and_merge(&gl, |n| {
        sim.merge_merge_request(PROJECT, n.unwrap()).unwrap()
    })
    .await;
    check(&gl, &merged).await;
    let number = number.unwrap();
    let expected = LandedReview {
        number,
        url: format!("{}/{PROJECT}/-/merge_requests/{number}", sim.base_url()),
    };
    assert_eq!(gl.landed_review(&merged.merge), Some(expected.clone()));
    // Configured by numeric id, the link still comes from the merge commit's full reference.
    let by_id = gitlab(&sim, &id.to_string());
    assert_eq!(by_id.landed_review(&merged.merge), Some(expected));
}
