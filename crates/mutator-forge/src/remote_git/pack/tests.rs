#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository};
use mutator_core::{ChangeSet, RepoPath};

use super::{added_objects, build};
use crate::forge::Signature;
use crate::remote_git::mirror::write_commit;

fn author() -> Signature {
    Signature {
        name: "t".into(),
        email: "t@example.com".into(),
    }
}

fn commit(repo: &Repository, parent: Option<Oid>, changes: &ChangeSet) -> Oid {
    write_commit(repo, parent, changes, "m\n", &author()).unwrap()
}

/// Every object reachable from `commit`, found the slow way: its whole tree.
fn reachable(repo: &Repository, commit: Oid) -> HashSet<Oid> {
    fn walk(repo: &Repository, tree: Oid, out: &mut HashSet<Oid>) {
        out.insert(tree);
        for entry in repo.find_tree(tree).unwrap().iter() {
            match entry.kind() {
                Some(ObjectType::Tree) => walk(repo, entry.id(), out),
                _ => {
                    out.insert(entry.id());
                }
            }
        }
    }
    let mut out = HashSet::from([commit]);
    walk(repo, repo.find_commit(commit).unwrap().tree_id(), &mut out);
    out
}

fn seeded() -> (tempfile::TempDir, Repository, Oid) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    let mut seed = ChangeSet::new();
    for i in 0..300 {
        seed.put(
            RepoPath::parse(format!("apps/app-{}/env-{}/file-{i}.yaml", i % 10, i % 3)).unwrap(),
            format!("n: {i}\n"),
        );
    }
    seed.put(RepoPath::parse("README.md").unwrap(), "# r\n");
    let parent = commit(&repo, None, &seed);
    (dir, repo, parent)
}

#[test]
fn added_objects_are_exactly_what_the_parent_lacks() {
    let (_dir, repo, parent) = seeded();
    let mut change = ChangeSet::new();
    change.put(
        RepoPath::parse("apps/app-3/env-0/file-3.yaml").unwrap(),
        "n: changed\n",
    );
    change.put(
        RepoPath::parse("apps/app-new/values.yaml").unwrap(),
        "tag: \"1.10\"\n",
    );
    change.delete(RepoPath::parse("apps/app-5/env-2/file-5.yaml").unwrap());
    let new = commit(&repo, Some(parent), &change);

    let added = added_objects(&repo, new).unwrap();
    let expected: HashSet<Oid> = reachable(&repo, new)
        .difference(&reachable(&repo, parent))
        .copied()
        .collect();
    assert_eq!(added.iter().copied().collect::<HashSet<_>>(), expected);
    assert_eq!(added.len(), expected.len(), "no duplicates");
    // commit; trees: root, apps, app-3, app-3/env-0, app-new, app-5, app-5/env-2; blobs: 2.
    assert_eq!(added.len(), 10, "{added:?}");
    assert_eq!(added[0], new, "the commit comes first");
}

#[test]
fn without_a_parent_the_whole_tree_is_added() {
    let (_dir, repo, root) = seeded();
    let added: HashSet<Oid> = added_objects(&repo, root).unwrap().into_iter().collect();
    assert_eq!(added, reachable(&repo, root));
}

#[test]
fn the_pack_holds_the_objects_and_indexes_in_an_empty_repository() {
    let (_dir, repo, parent) = seeded();
    let mut change = ChangeSet::new();
    change.put(
        RepoPath::parse("apps/app-1/env-1/file-1.yaml").unwrap(),
        "n: 2\n",
    );
    let new = commit(&repo, Some(parent), &change);
    let objects = added_objects(&repo, new).unwrap();
    let pack = build(&repo, &objects).unwrap();
    assert_eq!(&pack[..4], b"PACK");

    let other_dir = tempfile::tempdir().unwrap();
    let other = Repository::init_bare(other_dir.path()).unwrap();
    let odb = other.odb().unwrap();
    let mut writer = odb.packwriter().unwrap();
    std::io::Write::write_all(&mut writer, &pack).unwrap();
    writer.commit().unwrap();
    let our_odb = repo.odb().unwrap();
    for id in &objects {
        let ours = our_odb.read(*id).unwrap();
        let theirs = odb.read(*id).unwrap();
        assert_eq!((theirs.kind(), theirs.data()), (ours.kind(), ours.data()));
    }
    // Nothing of the parent came along.
    assert!(!odb.exists(parent));
}
