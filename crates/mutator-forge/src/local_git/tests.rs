use mutator_core::{BranchName, ChangeSet, FileAction, RepoPath};

use super::*;

fn author() -> Signature {
    Signature {
        name: "gitops-mutator".into(),
        email: "gitops-mutator@localhost".into(),
    }
}

fn main_branch() -> BranchName {
    BranchName::parse("main").unwrap()
}

fn path(p: &str) -> RepoPath {
    RepoPath::parse(p).unwrap()
}

async fn fresh() -> (tempfile::TempDir, LocalGit, CommitId) {
    let dir = tempfile::tempdir().unwrap();
    let (git, created) =
        LocalGit::open_or_init(dir.path().join("r.git"), &main_branch(), &author()).unwrap();
    assert!(created);
    let head = git.head(&main_branch()).await.unwrap().unwrap();
    (dir, git, head)
}

#[tokio::test]
async fn init_creates_one_commit_and_reopens() {
    let (dir, git, head) = fresh().await;
    assert!(
        git.read_file(&head, &path("README.md"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(git.commit_info(&head).await.unwrap().parent, None);
    let (again, created) =
        LocalGit::open_or_init(dir.path().join("r.git"), &main_branch(), &author()).unwrap();
    assert!(!created);
    assert_eq!(again.head(&main_branch()).await.unwrap(), Some(head));
}

#[tokio::test]
async fn commit_writes_all_files_atomically() {
    let (_dir, git, head) = fresh().await;
    let mut cs = ChangeSet::new();
    cs.put(path("apps/a/x.yaml"), "x: 1\n");
    cs.put(path("apps/a/deep/y.yaml"), "y: 2\n");
    cs.delete(path("README.md"));
    let msg = "m [skip ci]\n\nGitops-Mutation-Id: k1\n";
    let info = git
        .commit(CommitRequest {
            branch: &main_branch(),
            parent: Some(&head),
            changes: &cs,
            message: msg,
            author: &author(),
        })
        .await
        .unwrap();
    assert_eq!(
        git.head(&main_branch()).await.unwrap(),
        Some(info.id.clone())
    );
    assert_eq!(
        git.read_file(&info.id, &path("apps/a/deep/y.yaml"))
            .await
            .unwrap()
            .unwrap(),
        b"y: 2\n"
    );
    assert_eq!(
        git.read_file(&info.id, &path("README.md")).await.unwrap(),
        None
    );
    let mut changed = git.changed_files(&info.id).await.unwrap();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changed,
        vec![
            (path("README.md"), FileAction::Delete),
            (path("apps/a/deep/y.yaml"), FileAction::Create),
            (path("apps/a/x.yaml"), FileAction::Create),
        ]
    );
    let found = git
        .find_by_trailer(&main_branch(), "Gitops-Mutation-Id", "k1", 10)
        .await
        .unwrap();
    assert_eq!(found.map(|c| c.id), Some(info.id.clone()));
    assert!(
        git.find_by_trailer(&main_branch(), "Gitops-Mutation-Id", "k2", 10)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(git.commit_info(&info.id).await.unwrap().parent, Some(head));
}

#[tokio::test]
async fn stale_parent_is_a_conflict_and_changes_nothing() {
    let (_dir, git, head) = fresh().await;
    let mut cs = ChangeSet::new();
    cs.put(path("a"), "1");
    let first = git
        .commit(CommitRequest {
            branch: &main_branch(),
            parent: Some(&head),
            changes: &cs,
            message: "1\n",
            author: &author(),
        })
        .await
        .unwrap();
    cs.put(path("a"), "2");
    let err = git
        .commit(CommitRequest {
            branch: &main_branch(),
            parent: Some(&head),
            changes: &cs,
            message: "2\n",
            author: &author(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        git.head(&main_branch()).await.unwrap(),
        Some(first.id.clone())
    );
    assert_eq!(
        git.read_file(&first.id, &path("a")).await.unwrap().unwrap(),
        b"1"
    );
}

#[tokio::test]
async fn new_branch_needs_absent_parent() {
    let (_dir, git, head) = fresh().await;
    let feature = BranchName::parse("gitops/a/production").unwrap();
    assert_eq!(git.head(&feature).await.unwrap(), None);
    let mut cs = ChangeSet::new();
    cs.put(path("f"), "1");
    let err = git
        .commit(CommitRequest {
            branch: &main_branch(),
            parent: None,
            changes: &cs,
            message: "x\n",
            author: &author(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }));
    let made = git
        .commit(CommitRequest {
            branch: &feature,
            parent: None,
            changes: &cs,
            message: "x\n",
            author: &author(),
        })
        .await
        .unwrap();
    assert_eq!(git.head(&feature).await.unwrap(), Some(made.id));
    assert_eq!(git.head(&main_branch()).await.unwrap(), Some(head));
}

#[tokio::test]
async fn reading_a_directory_is_refused() {
    let (_dir, git, head) = fresh().await;
    let mut cs = ChangeSet::new();
    cs.put(path("d/f"), "1");
    let c = git
        .commit(CommitRequest {
            branch: &main_branch(),
            parent: Some(&head),
            changes: &cs,
            message: "x\n",
            author: &author(),
        })
        .await
        .unwrap();
    assert!(matches!(
        git.read_file(&c.id, &path("d")).await,
        Err(ForgeError::Rejected(_))
    ));
}

#[tokio::test]
async fn create_branch_at_a_commit_once() {
    let (_dir, git, head) = fresh().await;
    let review = BranchName::parse("gitops/a/production").unwrap();
    git.create_branch(&review, &head).await.unwrap();
    assert_eq!(git.head(&review).await.unwrap(), Some(head.clone()));
    let err = git.create_branch(&review, &head).await.unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }), "{err}");
}
