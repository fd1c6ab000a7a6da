//! Commits to an `http://` remote are pushed by the backend's own smart-HTTP client: what it
//! sends, how the server's answers come back, and failures on the way.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use mutator_core::ChangeSet;
use mutator_forge::{Forge, ForgeError, RemoteAuth, RemoteGit, RemoteGitSettings};

use super::support::git_http::GitHttpServer;
use super::support::{PASSWORD, USER, VALUES, foreign_commit, git};
use super::{Http, author, basic, branch, commit_one, make_executable, open, path, request};

/// The objects in the pack files of `repo` that are not in `before`.
fn pack_files(repo: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(repo.join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    out.sort();
    out
}

fn ids_in_pack(idx: &Path) -> Vec<String> {
    let out = std::process::Command::new("git")
        .arg("show-index")
        .stdin(std::fs::File::open(idx).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_push_sends_exactly_the_new_objects_in_two_requests() {
    let extra: Vec<(String, Vec<u8>)> = (0..3000)
        .map(|i| {
            (
                format!("apps/app-{:02}/env-{}/file-{i}.yaml", i % 30, i % 7),
                format!("name: app-{i}\n").into_bytes(),
            )
        })
        .collect();
    let h = Http::start_with(&extra);
    // Keep every received pack as a pack (not loose objects), so it can be listed.
    h.cli(&["config", "receive.unpackLimit", "1"]);
    let head = h.forge.head(&branch("main")).await.unwrap().unwrap();
    let packs_before = pack_files(&h.served);
    h.server.take_served();
    let (requests, unauthorized, sent) = (
        h.server.requests(),
        h.server.unauthorized(),
        h.server.request_body_bytes(),
    );

    let mut cs = ChangeSet::new();
    cs.put(path(VALUES), "image:\n  tag: \"1.4.2\"\n");
    cs.put(path("apps/app-07/env-3/new.yaml"), "name: new\n");
    let info = h
        .forge
        .commit(request(
            &branch("main"),
            Some(&head),
            &cs,
            "two files\n",
            &author(),
        ))
        .await
        .unwrap();

    // What the server stored is exactly what git says the commit adds to its parent.
    let new_packs: Vec<_> = pack_files(&h.served)
        .into_iter()
        .filter(|p| !packs_before.contains(p))
        .collect();
    assert_eq!(new_packs.len(), 1, "{new_packs:?}");
    let sent_ids = ids_in_pack(&new_packs[0]);
    let range = format!("{}..{}", head.0, info.id.0);
    let mut expected: Vec<String> = h
        .cli(&["rev-list", "--objects", &range])
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(sent_ids, expected);
    // The commit; trees: root, environments, staging, apps, app-07, env-3; two blobs.
    assert_eq!(sent_ids.len(), 9);
    h.cli(&["fsck", "--strict", "--no-progress"]);
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), info.id.0);

    // Ref discovery and the update, credentials sent up front, a body of a few hundred bytes.
    // (The bridge records a request after answering it, so the `head` above may show up
    // here too: only pushes are looked at.)
    let served = h.server.take_served();
    let shape: Vec<(&str, &str, &str)> = served
        .iter()
        .filter(|s| s.path.ends_with("git-receive-pack") || s.query.contains("receive-pack"))
        .map(|s| (s.method.as_str(), s.path.as_str(), s.query.as_str()))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("GET", "/gitops.git/info/refs", "service=git-receive-pack"),
            ("POST", "/gitops.git/git-receive-pack", ""),
        ]
    );
    assert_eq!(h.server.requests() - requests, 2);
    assert_eq!(h.server.unauthorized(), unauthorized);
    let body = h.server.request_body_bytes() - sent;
    assert!(body < 2048, "the push sent {body} bytes");

    // The mirror recorded the new head: reading it again transfers no objects.
    let before = h.server.response_body_bytes();
    assert_eq!(h.forge.head(&branch("main")).await.unwrap(), Some(info.id));
    let listed = h.server.response_body_bytes() - before;
    assert!(listed < 1024, "head answered {listed} bytes");
}

#[tokio::test]
async fn a_foreign_push_between_discovery_and_update_is_refused_by_the_server_then_reapplied() {
    let h = Http::start();
    let main = branch("main");
    let read = h.forge.head(&main).await.unwrap().unwrap();

    // Someone pushes (straight to the repository) after our ref discovery, before our update
    // reaches git: only the server's compare-and-swap can catch this.
    let served = h.served.to_str().unwrap().to_owned();
    let work = h.dir.path().join("work");
    let foreign = Arc::new(std::sync::Mutex::new(String::new()));
    let ran = Arc::new(AtomicBool::new(false));
    {
        let (foreign, ran) = (foreign.clone(), ran.clone());
        h.server.before_next_receive_pack(move || {
            let id = foreign_commit(&served, &work, "apps/other/app.yaml", "other: 1\n");
            *foreign.lock().unwrap() = id;
            ran.store(true, Ordering::SeqCst);
        });
    }
    let err = commit_one(&h.forge, "main", &read, VALUES, "tag: 2\n", "ours\n")
        .await
        .unwrap_err();
    assert!(ran.load(Ordering::SeqCst), "the update reached the server");
    let foreign = foreign.lock().unwrap().clone();
    match &err {
        ForgeError::Conflict {
            expected, actual, ..
        } => {
            assert_eq!(expected, &read.0);
            assert_eq!(actual, &foreign);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), foreign);

    // Re-read and re-apply: both changes land.
    let now = h.forge.head(&main).await.unwrap().unwrap();
    assert_eq!(now.0, foreign);
    let info = commit_one(&h.forge, "main", &now, VALUES, "tag: 2\n", "ours\n")
        .await
        .unwrap();
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), info.id.0);
    assert_eq!(h.cli(&["show", "main:apps/other/app.yaml"]), "other: 1\n");
    assert_eq!(h.cli(&["show", &format!("main:{VALUES}")]), "tag: 2\n");
    assert_eq!(
        h.cli(&["log", "--format=%s", "main"]),
        "ours\nforeign: apps/other/app.yaml\nseed\n"
    );
    h.cli(&["fsck", "--strict", "--no-progress"]);
}

#[tokio::test]
async fn a_wrong_password_on_push_is_unauthorized_once_and_leaks_nothing() {
    let h = Http::start();
    let head = h.forge.head(&branch("main")).await.unwrap().unwrap();
    let wrong = "pw-WRONG-push-41";
    // Same mirror (the commit needs no fetch), wrong password: only the push is tried.
    let forge = open(
        &h.server.url("gitops.git"),
        h.forge.mirror_dir(),
        basic(wrong),
    );
    let (requests, unauthorized) = (h.server.requests(), h.server.unauthorized());
    let err = commit_one(&forge, "main", &head, VALUES, "x\n", "m\n")
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized(_)), "{err:?}");
    assert!(!err.is_retryable());
    let header = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{wrong}"));
    let text = format!("{err} {err:?} {forge:?}");
    for secret in [wrong, PASSWORD, header.as_str()] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains(&h.server.url("gitops.git")), "{text}");
    // One refused request, no retry loop, nothing sent.
    assert_eq!(h.server.requests() - requests, 1);
    assert_eq!(h.server.unauthorized() - unauthorized, 1);
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), head.0);
}

#[tokio::test]
async fn a_hook_refusal_is_rejected_with_what_the_hook_said() {
    let h = Http::start();
    let hook = h.served.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'main is protected: open a merge request' >&2\nexit 1\n",
    )
    .unwrap();
    make_executable(&hook);
    let head = h.forge.head(&branch("main")).await.unwrap().unwrap();
    let err = commit_one(&h.forge, "main", &head, VALUES, "x\n", "m\n")
        .await
        .unwrap_err();
    match &err {
        ForgeError::Rejected(why) => {
            assert!(why.contains("pre-receive hook declined"), "{why}");
            assert!(
                why.contains("main is protected: open a merge request"),
                "{why}"
            );
            assert!(why.contains(&h.server.url("gitops.git")), "{why}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), head.0);

    // Once the hook lets it through, the same change lands.
    std::fs::remove_file(&hook).unwrap();
    let info = commit_one(&h.forge, "main", &head, VALUES, "x\n", "m\n")
        .await
        .unwrap();
    assert_eq!(h.cli(&["rev-parse", "main"]).trim(), info.id.0);
}

#[tokio::test]
async fn pushing_to_a_checked_out_branch_is_rejected_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("served");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    // A repository with a working tree: git refuses to move its checked-out branch.
    git(Some(&work), &["init", "--quiet", "-b", "main"]);
    std::fs::write(work.join("README.md"), "# r\n").unwrap();
    git(Some(&work), &["add", "README.md"]);
    git(Some(&work), &["commit", "--quiet", "-m", "seed"]);
    git(Some(&work), &["config", "http.receivepack", "true"]);
    let server = GitHttpServer::start(&root, Some((USER, PASSWORD))).unwrap();
    let forge = open(
        &server.url("work"),
        &dir.path().join("mirror"),
        basic(PASSWORD),
    );

    let head = forge.head(&branch("main")).await.unwrap().unwrap();
    let err = commit_one(&forge, "main", &head, "a.yaml", "a\n", "a\n")
        .await
        .unwrap_err();
    match &err {
        ForgeError::Rejected(why) => assert!(why.contains("checked out"), "{why}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(git(Some(&work), &["rev-parse", "main"]).trim(), head.0);
}

/// A loopback server that answers every request with `response` (or, when `None`, accepts
/// and never answers).
fn canned(response: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let Some(response) = response else {
                held.push(stream);
                continue;
            };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        let _ = stream.write_all(response.as_bytes());
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/gitops.git")
}

/// A commit of a new branch: no parent, so nothing is fetched before the push.
async fn push_new_branch(forge: &RemoteGit) -> Result<mutator_forge::CommitInfo, ForgeError> {
    let mut cs = ChangeSet::new();
    cs.put(path("a.yaml"), "a\n");
    forge
        .commit(request(&branch("fresh"), None, &cs, "a\n", &author()))
        .await
}

#[tokio::test]
async fn server_failures_on_push_are_transient_and_non_git_answers_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let unavailable = canned(Some(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ));
    let forge = open(&unavailable, &dir.path().join("a"), basic(PASSWORD));
    let err = push_new_branch(&forge).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
    assert!(err.is_retryable());

    let login_page = canned(Some(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>",
    ));
    let forge = open(&login_page, &dir.path().join("b"), basic(PASSWORD));
    let err = push_new_branch(&forge).await.unwrap_err();
    match &err {
        ForgeError::Rejected(why) => assert!(why.contains("smart HTTP"), "{why}"),
        other => panic!("expected Rejected, got {other:?}"),
    }

    let silent = canned(None);
    let forge = RemoteGit::open(RemoteGitSettings {
        url: silent,
        mirror_dir: dir.path().join("c"),
        auth: RemoteAuth::None,
        timeout: Duration::from_millis(400),
    })
    .unwrap();
    for _ in 0..2 {
        // The second attempt shows the mirror was not left locked by the first.
        let started = Instant::now();
        let err = push_new_branch(&forge).await.unwrap_err();
        assert!(matches!(err, ForgeError::Transient(_)), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
}
