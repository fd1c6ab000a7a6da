use reqwest::StatusCode;

use crate::common::*;

#[test]
fn history_is_newest_first_and_paged() {
    let env = env();
    let mut shas = vec![env.head("main")];
    for i in 0..4 {
        let content = format!("{i}");
        shas.push(
            env.sim
                .commit_files(
                    OWNER,
                    REPO,
                    "main",
                    &[("n.txt", Some(content.as_bytes()))],
                    &format!("commit {i}"),
                )
                .unwrap(),
        );
    }
    shas.reverse();
    let r = env.get("/repos/acme/gitops/commits?sha=main&per_page=2&page=1");
    assert_eq!(r.status, StatusCode::OK);
    let page1 = r.json();
    let got: Vec<&str> = page1
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(got, [shas[0].as_str(), shas[1].as_str()]);
    assert!(r.header("link").unwrap().contains("rel=\"next\""));
    let first = &page1[0];
    assert_eq!(first["commit"]["message"], "commit 3");
    assert_eq!(first["commit"]["author"]["name"], "forge-sim");
    assert!(
        first["commit"]["author"]["date"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(first["parents"][0]["sha"], shas[1]);
    assert!(
        first["html_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/acme/gitops/commit/{}", shas[0]))
    );

    let r = env.get("/repos/acme/gitops/commits?sha=main&per_page=2&page=3");
    let page3 = r.json();
    assert_eq!(page3.as_array().unwrap().len(), 1);
    assert_eq!(page3[0]["sha"], shas[4]);
    assert!(r.header("link").is_none());

    // By SHA, and filtered by path.
    let r = env.get(&format!(
        "/repos/acme/gitops/commits?sha={}&per_page=100",
        shas[2]
    ));
    assert_eq!(r.json().as_array().unwrap().len(), 3);
    let r = env.get("/repos/acme/gitops/commits?path=README.md");
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    assert_eq!(
        env.get("/repos/acme/gitops/commits?sha=nope").status,
        StatusCode::NOT_FOUND
    );
    env.sim.create_empty_repo(OWNER, "empty", "main").unwrap();
    assert_eq!(
        env.get("/repos/acme/empty/commits").status,
        StatusCode::CONFLICT
    );
}

#[test]
fn single_commit_lists_files_with_status() {
    let env = env();
    env.sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[
                ("keep.txt", Some(b"k\n".as_slice())),
                ("gone.txt", Some(b"g\n".as_slice())),
                ("old/name.yaml", Some(b"a: 1\nb: 2\nc: 3\n".as_slice())),
            ],
            "seed",
        )
        .unwrap();
    let sha = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[
                ("keep.txt", Some(b"k2\n".as_slice())),
                ("gone.txt", None),
                ("new.txt", Some(b"n\n".as_slice())),
                ("old/name.yaml", None),
                ("renamed/name.yaml", Some(b"a: 1\nb: 2\nc: 3\n".as_slice())),
            ],
            "change",
        )
        .unwrap();
    let r = env.get(&format!("/repos/acme/gitops/commits/{sha}"));
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["sha"], sha);
    assert_eq!(body["commit"]["verification"]["verified"], false);
    assert_eq!(body["commit"]["verification"]["reason"], "unsigned");
    let files = body["files"].as_array().unwrap();
    let status_of = |name: &str| {
        files
            .iter()
            .find(|f| f["filename"] == name)
            .map(|f| f["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_of("keep.txt").as_deref(), Some("modified"));
    assert_eq!(status_of("gone.txt").as_deref(), Some("removed"));
    assert_eq!(status_of("new.txt").as_deref(), Some("added"));
    assert_eq!(status_of("renamed/name.yaml").as_deref(), Some("renamed"));
    let renamed = files
        .iter()
        .find(|f| f["filename"] == "renamed/name.yaml")
        .unwrap();
    assert_eq!(renamed["previous_filename"], "old/name.yaml");

    // A branch name works as the ref too; an unknown one is 422.
    assert_eq!(
        env.get("/repos/acme/gitops/commits/main").json()["sha"],
        sha
    );
    let r = env.get("/repos/acme/gitops/commits/0000000");
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.message().starts_with("No commit found for SHA"));
}

#[test]
fn git_data_commit_has_tree_parents_and_verification() {
    let env = env();
    let parent = env.head("main");
    let sha = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("x", Some(b"x".as_slice()))],
            "x\n\nbody",
        )
        .unwrap();
    let r = env.get(&format!("/repos/acme/gitops/git/commits/{sha}"));
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["sha"], sha);
    assert_eq!(body["message"], "x\n\nbody");
    let repo = git2::Repository::open_bare(env.sim.repo_path(OWNER, REPO).unwrap()).unwrap();
    let tree = repo
        .find_commit(git2::Oid::from_str(&sha).unwrap())
        .unwrap()
        .tree_id();
    assert_eq!(body["tree"]["sha"], tree.to_string());
    assert_eq!(body["parents"][0]["sha"], parent);
    assert!(body["parents"][0]["html_url"].is_string());
    assert_eq!(body["verification"]["verified"], false);
    assert_eq!(body["verification"]["reason"], "unsigned");
    assert!(body["verification"]["signature"].is_null());

    let r = env.get("/repos/acme/gitops/git/commits/1111111111111111111111111111111111111111");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        env.get("/repos/acme/gitops/git/commits/main").status,
        StatusCode::NOT_FOUND
    );
}

/// `main` with a merged side branch: (root, side commit, main commit, merge).
fn merged_history(env: &Env) -> (String, String, String, String) {
    let root = env.head("main");
    env.sim.create_branch(OWNER, REPO, "side", "main").unwrap();
    let side = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "side",
            &[("s.txt", Some(b"s".as_slice()))],
            "side",
        )
        .unwrap();
    let main = env
        .sim
        .commit_files(
            OWNER,
            REPO,
            "main",
            &[("m.txt", Some(b"m".as_slice()))],
            "main",
        )
        .unwrap();
    let created = env.call(
        reqwest::Method::POST,
        "/repos/acme/gitops/pulls",
        Some(serde_json::json!({ "title": "Side", "head": "side", "base": "main" })),
    );
    assert_eq!(created.status, StatusCode::CREATED);
    let merge = env.sim.merge_pull(OWNER, REPO, 1).unwrap();
    (root, side, main, merge)
}

fn shas(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_list_holds_the_commits_a_merge_brought_in() {
    let env = env();
    let (root, side, main, merge) = merged_history(&env);
    let listed = shas(
        &env.get("/repos/acme/gitops/commits?sha=main&per_page=100")
            .json(),
    );
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(listed[0], merge, "newest first");
    assert_eq!(listed[3], root);
    assert!(listed.contains(&side) && listed.contains(&main));
}

#[test]
fn compare_lists_what_head_has_and_base_lacks_oldest_first() {
    let env = env();
    let (root, side, main, merge) = merged_history(&env);
    // What the merge brought in: reachable from its second parent, not from its first.
    let r = env.get(&format!("/repos/acme/gitops/compare/{main}...{side}"));
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(shas(&body["commits"]), std::slice::from_ref(&side));
    assert_eq!(body["status"], "diverged");
    assert_eq!(
        (body["ahead_by"].clone(), body["behind_by"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(body["merge_base_commit"]["sha"], root);
    assert_eq!(body["commits"][0]["commit"]["message"], "side");

    let body = env
        .get(&format!("/repos/acme/gitops/compare/{root}...main"))
        .json();
    let all = shas(&body["commits"]);
    assert_eq!(all.len(), 3);
    assert_eq!(all[2], merge, "the most recent is last");
    assert_eq!(body["status"], "ahead");
    let paged = env
        .get(&format!(
            "/repos/acme/gitops/compare/{root}...main?per_page=2&page=2"
        ))
        .json();
    assert_eq!(shas(&paged["commits"]), std::slice::from_ref(&merge));
    assert_eq!(
        env.get(&format!("/repos/acme/gitops/compare/{root}..main"))
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.get("/repos/acme/gitops/compare/main...nope").status,
        StatusCode::NOT_FOUND
    );

    // A merged branch is behind what it was merged into; a commit against itself identical.
    let body = env
        .get(&format!("/repos/acme/gitops/compare/{merge}...{side}"))
        .json();
    assert_eq!(body["status"], "behind");
    assert_eq!(body["ahead_by"], 0);
    assert_eq!(body["behind_by"], 2);
    assert_eq!(shas(&body["commits"]), Vec::<String>::new());
    let body = env
        .get(&format!("/repos/acme/gitops/compare/{side}...{side}"))
        .json();
    assert_eq!(body["status"], "identical");
}
