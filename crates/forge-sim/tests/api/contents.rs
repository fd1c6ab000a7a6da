use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

fn decode(content: &str) -> Vec<u8> {
    let flat: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(flat)
        .unwrap()
}

#[test]
fn small_file_as_json_and_raw() {
    let env = env();
    let text = "image:\n  tag: \"1.4.1\" # pinned\n".repeat(10);
    let head = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("apps/payments/values.yaml", Some(text.as_bytes()))],
            "seed",
        )
        .unwrap();

    let r = env.get(&format!(
        "/repos/acme/gitops/contents/apps/payments/values.yaml?ref={head}"
    ));
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["type"], "file");
    assert_eq!(body["encoding"], "base64");
    assert_eq!(body["name"], "values.yaml");
    assert_eq!(body["path"], "apps/payments/values.yaml");
    assert_eq!(body["size"], text.len());
    let content = body["content"].as_str().unwrap();
    assert!(content.lines().all(|l| l.len() <= 60), "wrapped at 60");
    assert!(content.contains('\n'));
    assert_eq!(decode(content), text.as_bytes());
    // `sha` is the blob id, as git computes it.
    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    let blob = repo.blob(text.as_bytes()).unwrap();
    assert_eq!(body["sha"], blob.to_string());

    for accept in [
        "application/vnd.github.raw+json",
        "application/vnd.github.raw",
    ] {
        let r = env.get_with_accept(
            "/repos/acme/gitops/contents/apps/payments/values.yaml?ref=main",
            accept,
        );
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.bytes, text.as_bytes());
    }
}

#[test]
fn files_over_one_megabyte_only_come_raw() {
    let env = env();
    let big: Vec<u8> = (0..(1024 * 1024 + 10)).map(|i| (i % 251) as u8).collect();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("big.bin", Some(big.as_slice()))],
            "big",
        )
        .unwrap();
    let r = env.get("/repos/acme/gitops/contents/big.bin");
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["encoding"], "none");
    assert_eq!(body["content"], "");
    assert_eq!(body["size"], big.len());
    let r = env.get_with_accept(
        "/repos/acme/gitops/contents/big.bin",
        "application/vnd.github.raw+json",
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, big);
}

#[test]
fn directories_missing_paths_and_unknown_refs() {
    let env = env();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[
                ("envs/staging/values.yaml", Some(b"a: 1\n".as_slice())),
                ("envs/prod/values.yaml", Some(b"a: 2\n".as_slice())),
            ],
            "seed",
        )
        .unwrap();
    let r = env.get("/repos/acme/gitops/contents/envs");
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod", "staging"]);
    assert!(list.as_array().unwrap().iter().all(|e| e["type"] == "dir"));

    let root = env.get("/repos/acme/gitops/contents");
    assert_eq!(root.status, StatusCode::OK);
    let names: Vec<Value> = root
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].clone())
        .collect();
    assert!(names.contains(&Value::from("README.md")));

    let r = env.get("/repos/acme/gitops/contents/envs/dev/values.yaml");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.message(), "Not Found");

    let r = env.get("/repos/acme/gitops/contents/README.md?ref=no-such-branch");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.message().contains("No commit found for the ref"));

    env.sim.create_empty_repo(OWNER, "empty", "main").unwrap();
    let r = env.get("/repos/acme/empty/contents/README.md");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[test]
fn reads_at_an_older_commit_see_that_commit() {
    let env = env();
    let first = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("v.txt", Some(b"one".as_slice()))],
            "1",
        )
        .unwrap();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("v.txt", Some(b"two".as_slice()))],
            "2",
        )
        .unwrap();
    let r = env.get_with_accept(
        &format!("/repos/acme/gitops/contents/v.txt?ref={first}"),
        "application/vnd.github.raw",
    );
    assert_eq!(r.bytes, b"one");
    let r = env.get_with_accept(
        &format!("/repos/acme/gitops/contents/v.txt?ref={}", &first[..7]),
        "application/vnd.github.raw",
    );
    assert_eq!(r.bytes, b"one", "abbreviated SHAs resolve");
    let r = env.get_with_accept(
        "/repos/acme/gitops/contents/v.txt?ref=main",
        "application/vnd.github.raw",
    );
    assert_eq!(r.bytes, b"two");
}
