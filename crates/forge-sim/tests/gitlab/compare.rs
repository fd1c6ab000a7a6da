use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn compare_lists_what_to_has_and_from_lacks() {
    let env = env();
    let root = env.head("main");
    env.sim.create_branch(PROJECT, "side", "main").unwrap();
    let one = env
        .sim
        .commit_files(PROJECT, "side", &[("s.txt", Some(&b"1\n"[..]))], "one")
        .unwrap();
    let two = env
        .sim
        .commit_files(PROJECT, "side", &[("s.txt", Some(&b"2\n"[..]))], "two")
        .unwrap();
    let main = env.seed(&[("m.txt", "m\n")]);
    let compare = |from: &str, to: &str, extra: &str| {
        env.get(&env.project_url(&format!(
            "/repository/compare?from={}&to={}{extra}",
            enc(from),
            enc(to)
        )))
    };

    let r = compare("main", "side", "");
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(
        ids(&body["commits"]),
        [one.clone(), two.clone()],
        "oldest first"
    );
    assert_eq!(body["commit"]["id"], two);
    assert_eq!(body["compare_same_ref"], false);
    assert_eq!(body["compare_timeout"], false);
    // From the merge base: only what the side branch changed, not main's own file.
    let diffs = body["diffs"].as_array().unwrap();
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0]["new_path"], "s.txt");
    assert_eq!(diffs[0]["new_file"], true);
    // Straight: from `from` itself, so main's file shows as deleted.
    let straight = compare("main", "side", "&straight=true").json();
    assert_eq!(straight["diffs"].as_array().unwrap().len(), 2);

    // Contained: an ancestor of `from` has nothing `from` lacks.
    let body = compare(&main, &root, "").json();
    assert_eq!(body["commits"], json!([]));
    assert_eq!(body["commit"], Value::Null);
    assert_eq!(body["diffs"], json!([]));
    let body = compare(&main, &main, "").json();
    assert_eq!(body["compare_same_ref"], true);
    assert_eq!(body["commits"], json!([]));

    let r = compare("main", "nowhere", "");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), json!({ "message": "404 Ref Not Found" }));
    let r = env.get(&env.project_url("/repository/compare?from=main"));
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), json!({ "error": "to is missing" }));
}
