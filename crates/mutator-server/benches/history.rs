//! `GET /v1/history` on a branch of 10,000 commits: the environment's 20 changes are spread
//! over the whole history, so the walk reads every commit message (and no tree).
//!
//! Run: `cargo bench -p mutator-server --bench history`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use git2::{FileMode, Repository as GitRepo, Signature, build::TreeUpdateBuilder};
use mutator_core::BranchName;
use mutator_forge::LocalGit;
use mutator_server::config::{ConfigFile, RepositorySettings};
use mutator_server::service::{Repository, history};

const COMMITS: usize = 10_000;
const EVERY: usize = 500;

/// A bare repository whose `main` has `COMMITS` commits, each one image update with the
/// service's trailers; every `EVERY`-th one is for payments/production.
fn build(path: &Path) {
    let repo = GitRepo::init_bare(path).unwrap();
    let sig = Signature::now("bench", "bench@localhost").unwrap();
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let mut tree = repo.find_tree(empty).unwrap();
    let mut parent: Option<git2::Oid> = None;
    for i in 0..COMMITS {
        let (app, env) = if i % EVERY == 0 {
            ("payments".to_owned(), "production")
        } else {
            (format!("app{}", i % 97), "staging")
        };
        let file = format!("apps/{app}/environments/{env}/values.yaml");
        let blob = repo
            .blob(format!("image:\n  tag: \"1.0.{i}\"\n").as_bytes())
            .unwrap();
        let mut update = TreeUpdateBuilder::new();
        update.upsert(&file, blob, FileMode::Blob);
        let id = update.create_updated(&repo, &tree).unwrap();
        tree = repo.find_tree(id).unwrap();
        let message = format!(
            "gitops({app}/{env}): image tag 1.0.{i} [skip ci]\n\n{file}: tag: 1.0.{} -> 1.0.{i}\n\nGitops-Mutation-Id: m{i}\nGitops-Requested-By: token:bench\nGitops-Request-Digest: d{i}\nGitops-Kind: image-update\nGitops-Target: {app}/{env}\nGitops-Tag: 1.0.{} -> 1.0.{i}\n",
            i.saturating_sub(1),
            i.saturating_sub(1)
        );
        let parents: Vec<git2::Commit<'_>> = parent
            .map(|p| repo.find_commit(p).unwrap())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let commit = repo
            .commit(None, &sig, &sig, &message, &tree, &refs)
            .unwrap();
        parent = Some(commit);
    }
    repo.reference("refs/heads/main", parent.unwrap(), true, "bench")
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.git");
    build(&path);
    let yaml = format!(
        "repositories:\n  default:\n    kind: git\n    url: {}\n",
        path.display()
    );
    let file = ConfigFile::parse(&yaml, "bench").unwrap();
    let settings = RepositorySettings::from_file(
        "default",
        &file.repositories["default"],
        Path::new(""),
        "bench",
    )
    .unwrap();
    let repo = Repository {
        settings,
        forge: Arc::new(LocalGit::open(&path).unwrap()),
    };
    let branch = BranchName::parse("main").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let entries = runtime
        .block_on(history::history(&repo, &branch, "payments/production", 20))
        .unwrap();
    assert_eq!(
        entries.len(),
        COMMITS / EVERY,
        "every production change is found"
    );
    c.bench_function("history of one environment over 10,000 commits", |b| {
        b.iter(|| {
            runtime
                .block_on(history::history(&repo, &branch, "payments/production", 20))
                .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
