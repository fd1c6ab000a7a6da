use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::*;

#[test]
fn file_with_encoded_path_and_last_commit_id() {
    let env = env();
    let c1 = env.seed(&[("apps/web/values.yaml", "replicas: 1\n")]);
    let c2 = env.seed(&[("other.txt", "x")]);

    let r = env.file("apps/web/values.yaml", "main");
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["file_name"], "values.yaml");
    assert_eq!(v["file_path"], "apps/web/values.yaml");
    assert_eq!(v["size"], 12);
    assert_eq!(v["encoding"], "base64");
    let content = base64::engine::general_purpose::STANDARD
        .decode(v["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, b"replicas: 1\n");
    assert_eq!(
        v["content_sha256"],
        hex::encode(Sha256::digest(b"replicas: 1\n"))
    );
    assert_eq!(v["ref"], "main");
    assert_eq!(v["commit_id"], c2);
    assert_eq!(v["last_commit_id"], c1);
    assert_eq!(v["blob_id"].as_str().unwrap().len(), 40);

    // At an older SHA, and through HEAD.
    let r = env.file("apps/web/values.yaml", &c1);
    assert_eq!(r.json()["commit_id"], c1);
    assert_eq!(r.json()["last_commit_id"], c1);
    assert_eq!(
        env.file("apps/web/values.yaml", "HEAD").json()["commit_id"],
        c2
    );
}

#[test]
fn file_errors() {
    let env = env();
    let r = env.file("missing.yaml", "main");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({ "message": "404 File Not Found" }));

    let r = env.file("README.md", "no-such-branch");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({ "message": "404 Commit Not Found" }));

    let r = env.get(&env.project_url("/repository/files/README.md"));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({ "error": "ref is missing" }));

    // A directory is not a file.
    env.seed(&[("dir/a.txt", "a")]);
    assert_eq!(env.file("dir", "main").status, StatusCode::NOT_FOUND);

    // An unencoded `/` in the file path does not reach the files route.
    let r = env.get(&env.project_url("/repository/files/dir/a.txt?ref=main"));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[test]
fn head_answers_the_metadata_headers() {
    let env = env();
    let c1 = env.seed(&[("a/b.yaml", "k: v\n")]);
    env.seed(&[("c.txt", "c")]);
    let r = env.call_as(
        Some(WRITE),
        Method::HEAD,
        &env.project_url("/repository/files/a%2Fb.yaml?ref=main"),
        Body::None,
    );
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.bytes.is_empty());
    assert_eq!(
        r.header("x-gitlab-last-commit-id").as_deref(),
        Some(c1.as_str())
    );
    assert_eq!(r.header("x-gitlab-commit-id"), Some(env.head("main")));
    assert_eq!(r.header("x-gitlab-size").as_deref(), Some("5"));
    assert_eq!(r.header("x-gitlab-file-path").as_deref(), Some("a/b.yaml"));
    assert_eq!(r.header("x-gitlab-ref").as_deref(), Some("main"));
    assert_eq!(r.header("x-gitlab-blob-id").unwrap().len(), 40);
    assert_eq!(
        env.sim
            .stats()
            .route("HEAD", "/projects/{id}/repository/files/{file_path}"),
        1
    );

    let r = env.call_as(
        Some(WRITE),
        Method::HEAD,
        &env.project_url("/repository/files/nope?ref=main"),
        Body::None,
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[test]
fn raw_answers_bytes() {
    let env = env();
    let old = env.seed(&[("conf/app.env", "A=1\n")]);
    env.seed(&[("conf/app.env", "A=2\n")]);
    let r = env.get(&env.project_url("/repository/files/conf%2Fapp.env/raw"));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, b"A=2\n");
    let r = env.get(&env.project_url(&format!("/repository/files/conf%2Fapp.env/raw?ref={old}")));
    assert_eq!(r.bytes, b"A=1\n");
    assert_eq!(r.header("x-gitlab-commit-id"), Some(old));
    let r = env.get(&env.project_url("/repository/files/none/raw?ref=main"));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({ "message": "404 File Not Found" }));
}
