use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[test]
fn list_is_newest_first_and_paged() {
    let env = env();
    let first = env.head("main");
    let mut made = vec![first.clone()];
    for i in 0..4 {
        made.push(env.seed(&[("n.txt", &i.to_string())]));
    }
    made.reverse();
    let r = env.get(&env.project_url("/repository/commits?ref_name=main&per_page=2"));
    assert_eq!(r.status, StatusCode::OK);
    let ids: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, made[..2]);
    assert_eq!(r.header("x-page").as_deref(), Some("1"));
    assert_eq!(r.header("x-per-page").as_deref(), Some("2"));
    assert_eq!(r.header("x-next-page").as_deref(), Some("2"));
    let c = &r.json()[0];
    assert_eq!(c["title"], "seed");
    assert_eq!(c["parent_ids"], json!([made[1]]));
    assert!(
        c["web_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/-/commit/{}", made[0]))
    );

    let r = env.get(&env.project_url("/repository/commits?ref_name=main&per_page=2&page=3"));
    assert_eq!(r.json(), json!([r.json()[0].clone()]));
    assert_eq!(r.json()[0]["id"], first);
    assert_eq!(r.header("x-next-page").as_deref(), Some(""));
    assert_eq!(r.header("x-prev-page").as_deref(), Some("2"));

    // Default ref is the default branch; per_page is capped at 100.
    let r = env.get(&env.project_url("/repository/commits?per_page=1000"));
    assert_eq!(r.json().as_array().unwrap().len(), 5);
    assert_eq!(r.header("x-per-page").as_deref(), Some("100"));
}

#[test]
fn single_commit_and_its_diff() {
    let env = env();
    env.seed(&[("a/b.yaml", "one\n"), ("gone.txt", "g\n")]);
    let r = env.commit(json!({
        "branch": "main", "commit_message": "change",
        "actions": [
            { "action": "update", "file_path": "a/b.yaml", "content": "two\n" },
            { "action": "delete", "file_path": "gone.txt" },
            { "action": "create", "file_path": "new.txt", "content": "n\n" },
        ]
    }));
    let sha = r.json()["id"].as_str().unwrap().to_owned();

    let one = env.get(&env.project_url(&format!("/repository/commits/{sha}")));
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["id"], sha);
    assert_eq!(one.json()["stats"]["total"], 4);
    // A branch name resolves too.
    assert_eq!(
        env.get(&env.project_url("/repository/commits/main")).json()["id"],
        sha
    );

    let diff = env.get(&env.project_url(&format!("/repository/commits/{sha}/diff")));
    assert_eq!(diff.status, StatusCode::OK);
    let list = diff.json();
    let by_path = |p: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["new_path"] == p)
            .cloned()
            .unwrap()
    };
    let changed = by_path("a/b.yaml");
    assert_eq!(changed["old_path"], "a/b.yaml");
    assert_eq!(changed["new_file"], false);
    assert!(changed["diff"].as_str().unwrap().starts_with("@@"));
    assert!(changed["diff"].as_str().unwrap().contains("+two"));
    assert_eq!(by_path("new.txt")["new_file"], true);
    assert_eq!(by_path("gone.txt")["deleted_file"], true);
}

#[test]
fn unknown_commit_is_404() {
    let env = env();
    for path in [
        "/repository/commits/0123456789abcdef0123456789abcdef01234567",
        "/repository/commits/nope/diff",
    ] {
        let r = env.get(&env.project_url(path));
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({ "message": "404 Commit Not Found" }));
    }
}

#[test]
fn first_parent_and_ranges_after_a_merge() {
    let env = env();
    let root = env.head("main");
    env.sim.create_branch(PROJECT, "side", "main").unwrap();
    let side = env
        .sim
        .commit_files(PROJECT, "side", &[("s.txt", Some(&b"s"[..]))], "side")
        .unwrap();
    let main = env
        .sim
        .commit_files(PROJECT, "main", &[("m.txt", Some(&b"m"[..]))], "main")
        .unwrap();
    let created = env.post_json(
        &env.project_url("/merge_requests"),
        serde_json::json!({ "source_branch": "side", "target_branch": "main", "title": "Side" }),
    );
    assert_eq!(created.status, StatusCode::CREATED);
    let merge = env.sim.merge_merge_request(PROJECT, 1).unwrap();
    let ids = |query: &str| -> Vec<String> {
        env.get(&env.project_url(&format!("/repository/commits?{query}")))
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("ref_name=main&per_page=100").len(), 4);
    assert_eq!(
        ids("ref_name=main&first_parent=true&per_page=100"),
        [merge.clone(), main.clone(), root.clone()]
    );
    assert_eq!(ids(&format!("ref_name={main}..{side}")), [side]);
    assert_eq!(
        ids(&format!("ref_name={root}..main&first_parent=true")),
        [merge, main]
    );
    assert!(ids("ref_name=nope..main").is_empty());
    let message = env
        .get(&env.project_url(&format!(
            "/repository/commits/{}",
            ids("ref_name=main&per_page=1")[0]
        )))
        .json()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        format!("Merge branch 'side' into 'main'\n\nSide\n\nSee merge request {PROJECT}!1")
    );
}
