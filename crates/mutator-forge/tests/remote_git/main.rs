//! The remote git backend against real servers: `git http-backend` behind a loopback HTTP
//! bridge (with Basic authentication), and `file://` bare repositories. The git CLI plays the
//! other writers and checks what landed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod push;

use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mutator_core::{BranchName, ChangeSet, FileAction, RepoPath};
use mutator_forge::{
    CommitId, CommitRequest, Forge, ForgeError, RemoteAuth, RemoteGit, RemoteGitSettings, Signature,
};
use secrecy::SecretString;
use support::git_http::GitHttpServer;
use support::{PASSWORD, USER, VALUES, foreign_commit, git, served_repo, served_repo_with};
use tempfile::TempDir;

fn branch(name: &str) -> BranchName {
    BranchName::parse(name).unwrap()
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

fn basic(password: &str) -> RemoteAuth {
    RemoteAuth::Basic {
        username: SecretString::from(USER),
        password: SecretString::from(password),
    }
}

fn open(url: &str, mirror: &Path, auth: RemoteAuth) -> RemoteGit {
    RemoteGit::open(RemoteGitSettings {
        url: url.to_owned(),
        mirror_dir: mirror.to_path_buf(),
        auth,
        timeout: Duration::from_secs(30),
    })
    .unwrap()
}

/// A served repository with authentication, and a backend writing to it.
struct Http {
    dir: TempDir,
    server: GitHttpServer,
    served: std::path::PathBuf,
    forge: RemoteGit,
}

impl Http {
    fn start() -> Http {
        Http::start_with(&[])
    }

    fn start_with(extra: &[(String, Vec<u8>)]) -> Http {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("served");
        std::fs::create_dir(&root).unwrap();
        let served = served_repo_with(&root, "gitops.git", extra);
        let server = GitHttpServer::start(&root, Some((USER, PASSWORD))).unwrap();
        let forge = open(
            &server.url("gitops.git"),
            &dir.path().join("data/mirrors/gitops.git"),
            basic(PASSWORD),
        );
        Http {
            dir,
            server,
            served,
            forge,
        }
    }

    /// Another replica: its own mirror, same remote.
    fn replica(&self, name: &str) -> RemoteGit {
        open(
            &self.server.url("gitops.git"),
            &self.dir.path().join(name),
            basic(PASSWORD),
        )
    }

    fn cli_url(&self) -> String {
        self.server
            .url_with_credentials("gitops.git", USER, PASSWORD)
    }

    fn cli(&self, args: &[&str]) -> String {
        let git_dir = self.served.to_str().unwrap();
        let mut all = vec!["--git-dir", git_dir];
        all.extend_from_slice(args);
        git(None, &all)
    }
}

fn request<'a>(
    branch: &'a BranchName,
    parent: Option<&'a CommitId>,
    changes: &'a ChangeSet,
    message: &'a str,
    author: &'a Signature,
) -> CommitRequest<'a> {
    CommitRequest {
        branch,
        parent,
        changes,
        message,
        author,
    }
}

async fn commit_one(
    forge: &RemoteGit,
    on: &str,
    parent: &CommitId,
    file: &str,
    content: &str,
    message: &str,
) -> Result<mutator_forge::CommitInfo, ForgeError> {
    let mut cs = ChangeSet::new();
    cs.put(path(file), content);
    forge
        .commit(request(&branch(on), Some(parent), &cs, message, &author()))
        .await
}

/// Create, update and delete in one commit; read back through the backend and the git CLI.
async fn create_update_delete(forge: &RemoteGit, cli: impl Fn(&[&str]) -> String) {
    let main = branch("main");
    let head = forge.head(&main).await.unwrap().unwrap();
    assert_eq!(head.0, cli(&["rev-parse", "main"]).trim());
    let values = forge
        .read_file(&head, &path(VALUES))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(values, b"image:\n  tag: \"1.4.1\" # pinned\n");
    assert_eq!(
        forge.read_file(&head, &path("nope.yaml")).await.unwrap(),
        None
    );

    let mut cs = ChangeSet::new();
    cs.put(path("apps/payments/app.yaml"), "kind: Application\n");
    cs.put(path(VALUES), "image:\n  tag: \"1.4.2\" # pinned\n");
    cs.delete(path("README.md"));
    let msg = "payments: staging runs 1.4.2 [skip ci]\n\nGitops-Mutation-Id: m-1\n";
    let info = forge
        .commit(request(&main, Some(&head), &cs, msg, &author()))
        .await
        .unwrap();
    assert_eq!(info.parent.as_ref(), Some(&head));
    assert_eq!(info.message, msg);

    // The remote has it: as the backend sees it ...
    assert_eq!(forge.head(&main).await.unwrap().as_ref(), Some(&info.id));
    assert_eq!(
        forge
            .read_file(&info.id, &path(VALUES))
            .await
            .unwrap()
            .unwrap(),
        b"image:\n  tag: \"1.4.2\" # pinned\n"
    );
    assert_eq!(
        forge.read_file(&info.id, &path("README.md")).await.unwrap(),
        None
    );
    let mut changed = forge.changed_files(&info.id).await.unwrap();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changed,
        vec![
            (path("README.md"), FileAction::Delete),
            (path("apps/payments/app.yaml"), FileAction::Create),
            (path(VALUES), FileAction::Update),
        ]
    );
    // ... and as git itself sees it on the served repository.
    assert_eq!(cli(&["rev-parse", "main"]).trim(), info.id.0);
    assert_eq!(
        cli(&["log", "-1", "--format=%s%n%an <%ae>%n%P", "main"]),
        format!(
            "payments: staging runs 1.4.2 [skip ci]\ngitops-mutator <gitops-mutator@localhost>\n{}\n",
            head.0
        )
    );
    assert_eq!(
        cli(&["show", "main:apps/payments/app.yaml"]),
        "kind: Application\n"
    );
    assert_eq!(
        cli(&["ls-tree", "-r", "--name-only", "main"]),
        format!("apps/payments/app.yaml\n{VALUES}\n")
    );
    cli(&["fsck", "--strict", "--no-progress"]);
}

#[tokio::test]
async fn http_commit_create_update_delete_and_read_back() {
    let h = Http::start();
    create_update_delete(&h.forge, |args| h.cli(args)).await;
    // Basic authentication was asked for and given, never as a URL.
    assert!(h.server.unauthorized() > 0);
    assert!(!h.forge.url().contains(PASSWORD));
    let debug = format!("{:?}", h.forge);
    assert!(
        !debug.contains(PASSWORD) && !debug.contains(USER),
        "{debug}"
    );
    // The mirror is bare and holds no branch of its own.
    let mirror = git2::Repository::open(h.forge.mirror_dir()).unwrap();
    assert!(mirror.is_bare());
    assert!(mirror.find_reference("refs/heads/main").is_err());
}

#[tokio::test]
async fn http_foreign_push_between_head_and_commit_is_a_conflict_then_reapplies() {
    let h = Http::start();
    let main = branch("main");
    let read = h.forge.head(&main).await.unwrap().unwrap();

    // Someone else pushes with the git CLI after our read.
    let work = h.dir.path().join("work");
    let foreign = foreign_commit(&h.cli_url(), &work, "apps/other/app.yaml", "other: 1\n");

    let err = commit_one(
        &h.forge,
        "main",
        &read,
        VALUES,
        "tag: 2\n",
        "ours [skip ci]\n",
    )
    .await
    .unwrap_err();
    match &err {
        ForgeError::Conflict {
            branch,
            expected,
            actual,
        } => {
            assert_eq!(branch, "main");
            assert_eq!(expected, &read.0);
            assert_eq!(actual, &foreign);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(err.is_retryable());
    // Nothing of ours landed.
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), foreign);

    // Re-read and re-apply: both changes are there.
    let now = h.forge.head(&main).await.unwrap().unwrap();
    assert_eq!(now.0, foreign);
    let info = commit_one(
        &h.forge,
        "main",
        &now,
        VALUES,
        "tag: 2\n",
        "ours [skip ci]\n",
    )
    .await
    .unwrap();
    assert_eq!(info.parent, Some(now));
    assert_eq!(
        h.forge
            .read_file(&info.id, &path("apps/other/app.yaml"))
            .await
            .unwrap()
            .unwrap(),
        b"other: 1\n"
    );
    assert_eq!(h.cli(&["show", "main:apps/other/app.yaml"]), "other: 1\n");
    assert_eq!(h.cli(&["show", &format!("main:{VALUES}")]), "tag: 2\n");
    assert_eq!(
        h.cli(&["log", "--format=%s", "main"]),
        "ours [skip ci]\nforeign: apps/other/app.yaml\nseed\n"
    );
}

#[tokio::test]
async fn http_wrong_password_is_unauthorized_and_never_echoed() {
    let h = Http::start();
    let wrong = "pw-WRONG-do-not-echo-41";
    let forge = open(
        &h.server.url("gitops.git"),
        &h.dir.path().join("wrong-mirror"),
        basic(wrong),
    );
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized(_)), "{err:?}");
    assert!(!err.is_retryable());
    let text = format!("{err} {err:?} {forge:?}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(text.contains(&h.server.url("gitops.git")), "{text}");

    // A push with a wrong password is refused the same way (the commit is known locally).
    let head = h.forge.head(&branch("main")).await.unwrap().unwrap();
    let wrong_on_good_mirror = open(
        &h.server.url("gitops.git"),
        h.forge.mirror_dir(),
        basic(wrong),
    );
    let err = commit_one(&wrong_on_good_mirror, "main", &head, VALUES, "x\n", "m\n")
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized(_)), "{err:?}");
    assert!(!err.to_string().contains(wrong));
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), head.0);
}

#[tokio::test]
async fn http_without_credentials_is_unauthorized() {
    let h = Http::start();
    let forge = open(
        &h.server.url("gitops.git"),
        &h.dir.path().join("anon"),
        RemoteAuth::None,
    );
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized(_)), "{err:?}");
}

#[tokio::test]
async fn http_unknown_branch_has_no_head() {
    let h = Http::start();
    assert_eq!(h.forge.head(&branch("nope")).await.unwrap(), None);
    assert_eq!(
        h.forge
            .find_by_trailer(&branch("nope"), "Gitops-Mutation-Id", "x", 10)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn http_create_branch_pushes_a_new_ref_and_refuses_an_existing_one() {
    let h = Http::start();
    let main = branch("main");
    let release = branch("release-1");
    let head = h.forge.head(&main).await.unwrap().unwrap();
    h.forge.create_branch(&release, &head).await.unwrap();
    assert_eq!(h.cli(&["rev-parse", "release-1"]).trim(), head.0);
    assert_eq!(h.forge.head(&release).await.unwrap(), Some(head.clone()));

    let err = h.forge.create_branch(&release, &head).await.unwrap_err();
    assert!(
        matches!(&err, ForgeError::Conflict { actual, .. } if actual == &head.0),
        "{err:?}"
    );
    // Another replica that never saw the branch is refused by the remote too.
    let other = h.replica("other-mirror");
    let err = other.create_branch(&release, &head).await.unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }), "{err:?}");

    // The new branch takes commits; main does not move.
    let info = commit_one(&h.forge, "release-1", &head, "r.yaml", "r: 1\n", "r\n")
        .await
        .unwrap();
    assert_eq!(h.cli(&["rev-parse", "release-1"]).trim(), info.id.0);
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), head.0);

    // A commit meant to start a branch (no parent) is refused when the branch exists.
    let mut cs = ChangeSet::new();
    cs.put(path("x.yaml"), "x\n");
    let err = h
        .forge
        .commit(request(&release, None, &cs, "root\n", &author()))
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }), "{err:?}");
    // ... and accepted where it does not.
    let orphan = h
        .forge
        .commit(request(&branch("orphan"), None, &cs, "root\n", &author()))
        .await
        .unwrap();
    assert_eq!(orphan.parent, None);
    assert_eq!(h.cli(&["rev-parse", "orphan"]).trim(), orphan.id.0);
}

#[tokio::test]
async fn http_find_by_trailer_and_changed_files() {
    let h = Http::start();
    let main = branch("main");
    let head = h.forge.head(&main).await.unwrap().unwrap();
    let first = commit_one(
        &h.forge,
        "main",
        &head,
        "a.yaml",
        "a\n",
        "a [skip ci]\n\nGitops-Mutation-Id: key-1\nGitops-Requested-By: ci\n",
    )
    .await
    .unwrap();
    let second = commit_one(
        &h.forge,
        "main",
        &first.id,
        "b.yaml",
        "b\n",
        "b [skip ci]\n\nGitops-Mutation-Id: key-2\n",
    )
    .await
    .unwrap();

    let found = h
        .forge
        .find_by_trailer(&main, "Gitops-Mutation-Id", "key-1", 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, first.id);
    assert_eq!(
        h.forge
            .find_by_trailer(&main, "Gitops-Mutation-Id", "key-1", 1)
            .await
            .unwrap(),
        None,
        "outside the window"
    );
    assert_eq!(
        h.forge
            .find_by_trailer(&main, "Gitops-Mutation-Id", "key-9", 10)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        h.forge.changed_files(&second.id).await.unwrap(),
        vec![(path("b.yaml"), FileAction::Create)]
    );
    let info = h.forge.commit_info(&first.id).await.unwrap();
    assert_eq!(info.parent, Some(head));

    // A replica that never fetched finds the commit made elsewhere (it fetches on demand).
    let other = h.replica("other-mirror");
    assert_eq!(other.commit_info(&second.id).await.unwrap().id, second.id);
    assert_eq!(
        other.changed_files(&first.id).await.unwrap(),
        vec![(path("a.yaml"), FileAction::Create)]
    );
    assert_eq!(
        other
            .read_file(&first.id, &path("a.yaml"))
            .await
            .unwrap()
            .unwrap(),
        b"a\n"
    );
    let missing = CommitId("0123456789012345678901234567890123456789".into());
    assert!(matches!(
        other.commit_info(&missing).await.unwrap_err(),
        ForgeError::NotFound(_)
    ));
}

#[tokio::test]
async fn http_fetch_is_incremental_and_a_change_costs_no_clone() {
    // 3,000 files, so a full transfer is clearly larger than one change.
    let extra: Vec<(String, Vec<u8>)> = (0..3000)
        .map(|i| {
            (
                format!("apps/app-{:02}/env-{}/file-{i}.yaml", i % 30, i % 7),
                format!("name: app-{i}\nreplicas: {}\n", i % 5).into_bytes(),
            )
        })
        .collect();
    let h = Http::start_with(&extra);
    let main = branch("main");
    let before = h.server.response_body_bytes();
    let head = h.forge.head(&main).await.unwrap().unwrap();
    let first_fetch = h.server.response_body_bytes() - before;

    // Another writer commits one file; our next read fetches only that.
    let other = h.replica("other-mirror");
    let theirs = commit_one(&other, "main", &head, VALUES, "tag: 9\n", "theirs\n")
        .await
        .unwrap();
    let before = h.server.response_body_bytes();
    assert_eq!(h.forge.head(&main).await.unwrap(), Some(theirs.id.clone()));
    let incremental = h.server.response_body_bytes() - before;
    assert!(
        incremental * 20 < first_fetch,
        "incremental fetch {incremental} B vs first fetch {first_fetch} B"
    );

    // Our change: a head read with nothing new, one commit, one push.
    let before = h.server.response_body_bytes();
    let requests = h.server.requests();
    let info = commit_one(&h.forge, "main", &theirs.id, VALUES, "tag: 10\n", "ours\n")
        .await
        .unwrap();
    let push_bytes = h.server.response_body_bytes() - before;
    assert!(
        push_bytes * 20 < first_fetch,
        "push answered {push_bytes} B"
    );
    assert!(
        h.server.requests() - requests <= 4,
        "a push is a few requests"
    );
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), info.id.0);
}

#[tokio::test]
async fn http_branch_deleted_on_the_remote_has_no_head() {
    let h = Http::start();
    let head = h.forge.head(&branch("main")).await.unwrap().unwrap();
    h.forge.create_branch(&branch("tmp"), &head).await.unwrap();
    assert!(h.forge.head(&branch("tmp")).await.unwrap().is_some());
    h.cli(&["branch", "-D", "tmp"]);
    assert_eq!(h.forge.head(&branch("tmp")).await.unwrap(), None);
}

#[tokio::test]
async fn http_two_replicas_racing_one_wins_one_conflicts() {
    let h = Http::start();
    let main = branch("main");
    let other = h.replica("other-mirror");
    let head = h.forge.head(&main).await.unwrap().unwrap();
    assert_eq!(other.head(&main).await.unwrap().as_ref(), Some(&head));
    let (a, b) = tokio::join!(
        commit_one(&h.forge, "main", &head, "a.yaml", "a\n", "a\n"),
        commit_one(&other, "main", &head, "b.yaml", "b\n", "b\n"),
    );
    let (won, lost) = match (a, b) {
        (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
        other => panic!("exactly one must win: {other:?}"),
    };
    assert!(matches!(lost, ForgeError::Conflict { .. }), "{lost:?}");
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), won.id.0);
    assert_eq!(h.cli(&["rev-list", "--count", "main"]).trim(), "2");

    // Many operations on one mirror at once are serialised, not corrupted.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let forge = h.forge.clone();
        tasks.spawn(async move { forge.head(&branch("main")).await });
    }
    while let Some(head) = tasks.join_next().await {
        assert_eq!(head.unwrap().unwrap().as_ref(), Some(&won.id));
    }
}

#[tokio::test]
async fn http_refusal_by_a_hook_is_rejected_not_a_conflict() {
    let h = Http::start();
    let hook = h.served.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'main is protected' >&2\nexit 1\n").unwrap();
    make_executable(&hook);
    let head = h.forge.head(&branch("main")).await.unwrap().unwrap();
    let err = commit_one(&h.forge, "main", &head, VALUES, "x\n", "m\n")
        .await
        .unwrap_err();
    match &err {
        ForgeError::Rejected(why) => assert!(why.contains("declined"), "{why}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), head.0);
}

fn make_executable(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn http_missing_repository_is_not_found() {
    let h = Http::start();
    let forge = open(
        &h.server.url("missing.git"),
        &h.dir.path().join("missing-mirror"),
        basic(PASSWORD),
    );
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn unreachable_remote_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let forge = open(
        &format!("http://127.0.0.1:{port}/gitops.git"),
        &dir.path().join("m"),
        basic(PASSWORD),
    );
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn server_that_hangs_up_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let forge = open(
        &format!("http://{addr}/gitops.git"),
        &dir.path().join("m"),
        RemoteAuth::None,
    );
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn silent_server_times_out_as_transient() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    {
        let held = held.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                held.lock().unwrap().push(stream);
            }
        });
    }
    let forge = RemoteGit::open(RemoteGitSettings {
        url: format!("http://{addr}/gitops.git"),
        mirror_dir: dir.path().join("m"),
        auth: RemoteAuth::None,
        timeout: Duration::from_millis(300),
    })
    .unwrap();
    let started = Instant::now();
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The mirror stays locked while the stuck request lasts; later calls time out too.
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
    // Hang up: the stuck libgit2 call ends.
    for stream in held.lock().unwrap().drain(..) {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

#[test]
fn open_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let try_open = |url: &str, auth: RemoteAuth, mirror: &str| {
        RemoteGit::open(RemoteGitSettings {
            url: url.to_owned(),
            mirror_dir: dir.path().join(mirror),
            auth,
            timeout: Duration::from_secs(5),
        })
    };
    let err = try_open(
        "https://bot:hunter22@git.example.com/r.git",
        basic("x"),
        "userinfo",
    )
    .unwrap_err();
    assert!(!err.to_string().contains("hunter22"), "{err}");
    assert!(matches!(err, ForgeError::Rejected(_)));
    assert!(try_open("ftp://x/r.git", RemoteAuth::None, "ftp").is_err());
    assert!(try_open("ssh://git@x/r.git", RemoteAuth::None, "ssh-no-key").is_err());
    // Nothing is created for refused settings.
    for refused in ["userinfo", "ftp", "ssh-no-key"] {
        assert!(!dir.path().join(refused).exists());
    }

    // https and ssh work only when this build's libgit2 has TLS / libssh2.
    let version = git2::Version::get();
    let https = try_open("https://git.example.com/r.git", basic("x"), "https");
    assert_eq!(https.is_ok(), version.https(), "{https:?}");
    if let Err(e) = https {
        assert!(e.to_string().contains("HTTPS support"), "{e}");
    }
    let ssh = try_open(
        "ssh://git@git.example.com/r.git",
        RemoteAuth::Ssh {
            key_file: dir.path().join("id"),
            known_hosts_file: dir.path().join("known_hosts"),
        },
        "ssh",
    );
    assert_eq!(ssh.is_ok(), version.ssh(), "{ssh:?}");
    if let Err(e) = ssh {
        assert!(e.to_string().contains("SSH support"), "{e}");
    }
}

// ---- file:// ----

struct Local {
    dir: TempDir,
    served: std::path::PathBuf,
    url: String,
    forge: RemoteGit,
}

fn local() -> Local {
    let dir = tempfile::tempdir().unwrap();
    let served = served_repo(dir.path(), "gitops.git");
    let url = format!("file://{}", served.display());
    let forge = open(&url, &dir.path().join("mirror.git"), RemoteAuth::None);
    Local {
        dir,
        served,
        url,
        forge,
    }
}

impl Local {
    fn cli(&self, args: &[&str]) -> String {
        let git_dir = self.served.to_str().unwrap();
        let mut all = vec!["--git-dir", git_dir];
        all.extend_from_slice(args);
        git(None, &all)
    }
}

#[tokio::test]
async fn file_commit_create_update_delete_and_read_back() {
    let l = local();
    create_update_delete(&l.forge, |args| l.cli(args)).await;
    // Reopening the same mirror keeps working.
    let again = open(&l.url, l.forge.mirror_dir(), RemoteAuth::None);
    assert!(again.head(&branch("main")).await.unwrap().is_some());
}

#[tokio::test]
async fn file_foreign_push_is_a_conflict_then_reapplies() {
    let l = local();
    let main = branch("main");
    let read = l.forge.head(&main).await.unwrap().unwrap();
    let foreign = foreign_commit(&l.url, &l.dir.path().join("work"), "other.yaml", "o\n");
    let err = commit_one(&l.forge, "main", &read, VALUES, "v\n", "ours\n")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ForgeError::Conflict { actual, .. } if actual == &foreign),
        "{err:?}"
    );
    let now = l.forge.head(&main).await.unwrap().unwrap();
    let info = commit_one(&l.forge, "main", &now, VALUES, "v\n", "ours\n")
        .await
        .unwrap();
    assert_eq!(l.cli(&["show", "main:other.yaml"]), "o\n");
    assert_eq!(l.cli(&["show", &format!("main:{VALUES}")]), "v\n");
    assert_eq!(l.cli(&["rev-parse", "main"]).trim(), info.id.0);
}

#[tokio::test]
async fn file_branches_trailers_and_unknown_branch() {
    let l = local();
    let main = branch("main");
    assert_eq!(l.forge.head(&branch("nope")).await.unwrap(), None);
    let head = l.forge.head(&main).await.unwrap().unwrap();
    l.forge
        .create_branch(&branch("env/prod"), &head)
        .await
        .unwrap();
    assert_eq!(l.cli(&["rev-parse", "env/prod"]).trim(), head.0);
    assert!(matches!(
        l.forge.create_branch(&branch("env/prod"), &head).await,
        Err(ForgeError::Conflict { .. })
    ));
    let info = commit_one(
        &l.forge,
        "main",
        &head,
        "a.yaml",
        "a\n",
        "a\n\nGitops-Mutation-Id: k-1\n",
    )
    .await
    .unwrap();
    let found = l
        .forge
        .find_by_trailer(&main, "Gitops-Mutation-Id", "k-1", 5)
        .await
        .unwrap();
    assert_eq!(found.map(|f| f.id), Some(info.id.clone()));
    assert_eq!(
        l.forge.changed_files(&info.id).await.unwrap(),
        vec![(path("a.yaml"), FileAction::Create)]
    );
}

#[tokio::test]
async fn file_missing_repository_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let forge = open(
        &format!("file://{}/absent.git", dir.path().display()),
        &dir.path().join("m"),
        RemoteAuth::None,
    );
    let err = forge.head(&branch("main")).await.unwrap_err();
    assert!(matches!(err, ForgeError::NotFound(_)), "{err:?}");
}
