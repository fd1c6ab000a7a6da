//! Everything the simulator does to a bare git repository, as plain blocking functions.
//!
//! Handlers never touch git2 directly: they call these functions inside `spawn_blocking`, so
//! this file is the whole "storage engine" and can be read (and tested) on its own. State that
//! GitHub keeps in git (branches, commits, trees, signatures) lives in the repository itself;
//! nothing here caches it, so what the tests inspect with git2 is exactly what the API served.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{
    BranchType, DiffFindOptions, ErrorCode, ObjectType, Oid, Repository, RepositoryInitOptions,
    Signature, Time, Tree,
};
use sha2::{Digest, Sha256};

/// A commit author or committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub(crate) name: String,
    pub(crate) email: String,
}

impl Person {
    pub(crate) fn new(name: &str, email: &str) -> Self {
        Person {
            name: name.to_owned(),
            email: email.to_owned(),
        }
    }
}

/// Who made the commits the simulator seeds on its own (initial commits, helpers).
pub(crate) fn sim_person() -> Person {
    Person::new("forge-sim", "sim@sim.invalid")
}

/// GitHub's web-flow committer, used for commits made through the API on the user's behalf.
pub(crate) fn github_committer() -> Person {
    Person::new("GitHub", "noreply@github.com")
}

/// Creates a bare repository whose HEAD names `default_branch`, with one commit holding
/// `README.md` unless `empty`.
pub(crate) fn init_bare(
    path: &Path,
    name: &str,
    default_branch: &str,
    empty: bool,
) -> Result<(), git2::Error> {
    let mut opts = RepositoryInitOptions::new();
    opts.bare(true).initial_head(default_branch).mkpath(true);
    let repo = Repository::init_opts(path, &opts)?;
    if !empty {
        let mut changes = BTreeMap::new();
        changes.insert(
            "README.md".to_owned(),
            Change::Put(format!("# {name}\n").into_bytes()),
        );
        let tree = build_tree(&repo, None, &changes)?;
        let oid = write_commit(
            &repo,
            tree,
            &[],
            &sim_person(),
            &sim_person(),
            "Initial commit",
            None,
        )?;
        repo.reference(
            &format!("refs/heads/{default_branch}"),
            oid,
            false,
            "forge-sim: initial commit",
        )?;
    }
    Ok(())
}

pub(crate) fn open(path: &Path) -> Result<Repository, git2::Error> {
    Repository::open_bare(path)
}

/// The branch HEAD points to, even when that branch has no commit yet.
pub(crate) fn default_branch(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target()
        .ok()??
        .strip_prefix("refs/heads/")
        .map(str::to_owned)
}

/// True when the repository has no branch at all (GitHub's "Git Repository is empty.").
pub(crate) fn is_empty(repo: &Repository) -> Result<bool, git2::Error> {
    Ok(repo.branches(Some(BranchType::Local))?.next().is_none())
}

/// The commit a fully qualified ref points to; `None` when absent or not a valid name.
pub(crate) fn ref_target(repo: &Repository, full_name: &str) -> Result<Option<Oid>, git2::Error> {
    match repo.find_reference(full_name) {
        Ok(r) => match r.resolve()?.target() {
            Some(oid) => Ok(Some(peel_to_commit(repo, oid)?.unwrap_or(oid))),
            None => Ok(None),
        },
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn branch_head(repo: &Repository, branch: &str) -> Result<Option<Oid>, git2::Error> {
    ref_target(repo, &format!("refs/heads/{branch}"))
}

fn peel_to_commit(repo: &Repository, oid: Oid) -> Result<Option<Oid>, git2::Error> {
    match repo.find_object(oid, None) {
        Ok(obj) => match obj.peel_to_commit() {
            Ok(c) => Ok(Some(c.id())),
            Err(_) => Ok(None),
        },
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True for a full 40-hex object id.
pub(crate) fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && is_hex(s)
}

/// Resolves what GitHub accepts as `ref`/`sha` parameters: a branch, a tag, `heads/x`,
/// `refs/heads/x`, or a (possibly abbreviated, ≥ 7 hex) commit id. Branches win over hex names.
pub(crate) fn resolve_commitish(repo: &Repository, s: &str) -> Result<Option<Oid>, git2::Error> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.starts_with("refs/") {
        return ref_target(repo, s);
    }
    for candidate in [
        format!("refs/heads/{s}"),
        format!("refs/tags/{s}"),
        format!("refs/{s}"),
    ] {
        if let Some(oid) = ref_target(repo, &candidate)? {
            return Ok(Some(oid));
        }
    }
    if s.len() >= 7 && s.len() <= 40 && is_hex(s) {
        return match repo.revparse_single(s) {
            Ok(obj) => peel_to_commit(repo, obj.id()),
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Ambiguous) => Ok(None),
            Err(e) if e.class() == git2::ErrorClass::Odb => Ok(None),
            Err(e) => Err(e),
        };
    }
    Ok(None)
}

/// What a path in a commit's tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Dir,
    Symlink,
    Submodule,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) kind: EntryKind,
    pub(crate) oid: Oid,
    pub(crate) name: String,
    pub(crate) size: u64,
}

fn kind_of(mode: i32, kind: Option<ObjectType>) -> EntryKind {
    match (mode, kind) {
        (0o120000, _) => EntryKind::Symlink,
        (0o160000, _) | (_, Some(ObjectType::Commit)) => EntryKind::Submodule,
        (_, Some(ObjectType::Tree)) => EntryKind::Dir,
        _ => EntryKind::File,
    }
}

fn object_size(repo: &Repository, oid: Oid) -> u64 {
    repo.odb()
        .and_then(|odb| odb.read_header(oid))
        .map(|(size, _)| size as u64)
        .unwrap_or(0)
}

/// The entry at `path` (`""` = root) in `commit`'s tree.
pub(crate) fn entry_at(
    repo: &Repository,
    commit: Oid,
    path: &str,
) -> Result<Option<Entry>, git2::Error> {
    let tree = repo.find_commit(commit)?.tree()?;
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Ok(Some(Entry {
            kind: EntryKind::Dir,
            oid: tree.id(),
            name: String::new(),
            size: 0,
        }));
    }
    if path.contains('\0') {
        return Ok(None);
    }
    match tree.get_path(Path::new(path)) {
        Ok(e) => {
            let kind = kind_of(e.filemode(), e.kind());
            let size = if kind == EntryKind::File || kind == EntryKind::Symlink {
                object_size(repo, e.id())
            } else {
                0
            };
            Ok(Some(Entry {
                kind,
                oid: e.id(),
                name: e.name().unwrap_or_default().to_owned(),
                size,
            }))
        }
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The entries of a directory tree, in git order.
pub(crate) fn list_dir(repo: &Repository, tree: Oid) -> Result<Vec<Entry>, git2::Error> {
    let tree = repo.find_tree(tree)?;
    let mut out = Vec::with_capacity(tree.len());
    for e in tree.iter() {
        let kind = kind_of(e.filemode(), e.kind());
        let size = if kind == EntryKind::File {
            object_size(repo, e.id())
        } else {
            0
        };
        out.push(Entry {
            kind,
            oid: e.id(),
            name: String::from_utf8_lossy(e.name_bytes()).into_owned(),
            size,
        });
    }
    Ok(out)
}

pub(crate) fn read_blob(repo: &Repository, oid: Oid) -> Result<Vec<u8>, git2::Error> {
    Ok(repo.find_blob(oid)?.content().to_vec())
}

/// One requested change to a path.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Put(Vec<u8>),
    Delete,
}

/// Why a change set cannot be applied to a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChangeProblem {
    /// A deletion names a path that is not a file in the base tree.
    DeleteMissing(String),
    /// An addition names a path that is a directory in the base tree.
    AddOverDirectory(String),
    /// An addition needs a directory where the base tree (or another addition) has a file.
    AddUnderFile { path: String, file: String },
}

/// Checks `changes` against `base` (the head's tree) before anything is written, so a refused
/// change set leaves no objects and no half-applied state behind.
pub(crate) fn check_changes(
    base: Option<&Tree<'_>>,
    changes: &BTreeMap<String, Change>,
) -> Result<Option<ChangeProblem>, git2::Error> {
    let lookup = |path: &str| -> Result<Option<EntryKind>, git2::Error> {
        let Some(tree) = base else { return Ok(None) };
        match tree.get_path(Path::new(path)) {
            Ok(e) => Ok(Some(kind_of(e.filemode(), e.kind()))),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    };
    for (path, change) in changes {
        match change {
            Change::Delete => match lookup(path)? {
                Some(EntryKind::File | EntryKind::Symlink) => {}
                _ => return Ok(Some(ChangeProblem::DeleteMissing(path.clone()))),
            },
            Change::Put(_) => {
                if lookup(path)? == Some(EntryKind::Dir) {
                    return Ok(Some(ChangeProblem::AddOverDirectory(path.clone())));
                }
                let mut prefix = String::new();
                for comp in path
                    .split('/')
                    .take(path.split('/').count().saturating_sub(1))
                {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(comp);
                    let deleted = matches!(changes.get(&prefix), Some(Change::Delete));
                    let file_in_base = matches!(
                        lookup(&prefix)?,
                        Some(EntryKind::File | EntryKind::Symlink | EntryKind::Submodule)
                    );
                    let file_added = matches!(changes.get(&prefix), Some(Change::Put(_)));
                    if (file_in_base && !deleted) || file_added {
                        return Ok(Some(ChangeProblem::AddUnderFile {
                            path: path.clone(),
                            file: prefix,
                        }));
                    }
                }
            }
        }
    }
    Ok(None)
}

/// Writes the tree that results from applying `changes` (paths already validated) to `base`.
/// Directories left empty by deletions disappear, as they do in git.
pub(crate) fn build_tree(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    changes: &BTreeMap<String, Change>,
) -> Result<Oid, git2::Error> {
    let list: Vec<(Vec<&str>, &Change)> = changes
        .iter()
        .map(|(p, c)| (p.split('/').collect(), c))
        .collect();
    match rebuild(repo, base, &list)? {
        Some(oid) => Ok(oid),
        None => repo.treebuilder(None)?.write(),
    }
}

fn rebuild(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    changes: &[(Vec<&str>, &Change)],
) -> Result<Option<Oid>, git2::Error> {
    let mut builder = repo.treebuilder(base)?;
    let mut nested: BTreeMap<&str, Vec<(Vec<&str>, &Change)>> = BTreeMap::new();
    for (comps, change) in changes {
        match comps.as_slice() {
            [] => {}
            [name] => match change {
                Change::Put(bytes) => {
                    let blob = repo.blob(bytes)?;
                    // Keep the executable bit of a file that is being replaced.
                    let mode = match builder.get(name)? {
                        Some(e) if e.filemode() == 0o100755 => 0o100755,
                        _ => 0o100644,
                    };
                    builder.insert(name, blob, mode)?;
                }
                Change::Delete => {
                    if builder.get(name)?.is_some() {
                        builder.remove(name)?;
                    }
                }
            },
            [first, rest @ ..] => nested
                .entry(first)
                .or_default()
                .push((rest.to_vec(), *change)),
        }
    }
    for (name, sub) in nested {
        let existing = match base.and_then(|t| t.get_name(name)) {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
            _ => None,
        };
        match rebuild(repo, existing.as_ref(), &sub)? {
            Some(oid) => {
                builder.insert(name, oid, 0o040000)?;
            }
            None => {
                if builder.get(name)?.is_some() {
                    builder.remove(name)?;
                }
            }
        }
    }
    if builder.is_empty() {
        return Ok(None);
    }
    builder.write().map(Some)
}

/// Key the simulator signs its "GitHub-signed" commits with.
pub(crate) type SigningKey = [u8; 32];

const SIG_BEGIN: &str = "-----BEGIN PGP SIGNATURE-----";
const SIG_END: &str = "-----END PGP SIGNATURE-----";
const SIG_TAG: &str = "forge-sim:";

fn signature_for(key: &SigningKey, payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(key);
    h.update(payload);
    format!(
        "{SIG_BEGIN}\n\n{SIG_TAG}{}\n{SIG_END}",
        hex::encode(h.finalize())
    )
}

/// Writes a commit object (no ref moves). With `signer`, the commit carries a `gpgsig` header
/// the simulator can later verify, standing in for GitHub's web-flow signature.
pub(crate) fn write_commit(
    repo: &Repository,
    tree: Oid,
    parents: &[Oid],
    author: &Person,
    committer: &Person,
    message: &str,
    signer: Option<&SigningKey>,
) -> Result<Oid, git2::Error> {
    let when = Time::new(crate::clock::now_epoch(), 0);
    let author = Signature::new(&author.name, &author.email, &when)?;
    let committer = Signature::new(&committer.name, &committer.email, &when)?;
    let tree = repo.find_tree(tree)?;
    let parents = parents
        .iter()
        .map(|p| repo.find_commit(*p))
        .collect::<Result<Vec<_>, _>>()?;
    let parent_refs: Vec<_> = parents.iter().collect();
    match signer {
        None => repo.commit(None, &author, &committer, message, &tree, &parent_refs),
        Some(key) => {
            let buf =
                repo.commit_create_buffer(&author, &committer, message, &tree, &parent_refs)?;
            let content = buf.as_str()?;
            let signature = signature_for(key, content.as_bytes());
            repo.commit_signed(content, &signature, None)
        }
    }
}

/// GitHub's `verification` object for a commit.
#[derive(Debug, Clone)]
pub(crate) struct Verification {
    pub(crate) verified: bool,
    pub(crate) reason: &'static str,
    pub(crate) signature: Option<String>,
    pub(crate) payload: Option<String>,
}

pub(crate) fn verify(repo: &Repository, commit: Oid, key: &SigningKey) -> Verification {
    match repo.extract_signature(&commit, None) {
        Ok((sig, payload)) => {
            let sig_text = String::from_utf8_lossy(&sig).into_owned();
            let payload_text = String::from_utf8_lossy(&payload).into_owned();
            let ours = signature_for(key, &payload);
            let verified = sig_text.trim_end() == ours;
            Verification {
                verified,
                reason: if verified {
                    "valid"
                } else if sig_text.contains(SIG_TAG) {
                    "invalid"
                } else {
                    "unknown_key"
                },
                signature: Some(sig_text),
                payload: Some(payload_text),
            }
        }
        Err(_) => Verification {
            verified: false,
            reason: "unsigned",
            signature: None,
            payload: None,
        },
    }
}

/// Why a compare-and-swap ref update did not happen.
#[derive(Debug)]
pub(crate) enum CasError {
    /// The ref did not hold the expected value (or exists when it was expected absent).
    Stale,
    Git(git2::Error),
}

/// Moves `name` to `new` only if it currently points to `expected` (`None` = must not exist).
pub(crate) fn cas_ref(
    repo: &Repository,
    name: &str,
    new: Oid,
    expected: Option<Oid>,
    log: &str,
) -> Result<(), CasError> {
    let result = match expected {
        None => repo.reference(name, new, false, log).map(|_| ()),
        Some(old) => repo
            .reference_matching(name, new, true, old, log)
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::Modified | ErrorCode::Exists | ErrorCode::NotFound
            ) =>
        {
            Err(CasError::Stale)
        }
        Err(e) => Err(CasError::Git(e)),
    }
}

/// Commits from `start` along first parents, newest first: `skip` then up to `take`; the flag
/// says whether more follow.
pub(crate) fn first_parent_history(
    repo: &Repository,
    start: Oid,
    skip: usize,
    take: usize,
) -> Result<(Vec<Oid>, bool), git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.push(start)?;
    walk.simplify_first_parent()?;
    let mut out = Vec::with_capacity(take.min(256));
    let mut more = false;
    for (i, oid) in walk.enumerate() {
        let oid = oid?;
        if i < skip {
            continue;
        }
        if out.len() == take {
            more = true;
            break;
        }
        out.push(oid);
    }
    Ok((out, more))
}

/// Commits reachable from `start`, newest first (`git log` order: a commit before its
/// parents, then by time), including those brought in by merges: `skip` then up to `take`;
/// the flag says whether more follow.
pub(crate) fn history_page(
    repo: &Repository,
    start: Oid,
    skip: usize,
    take: usize,
) -> Result<(Vec<Oid>, bool), git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    walk.push(start)?;
    let mut out = Vec::with_capacity(take.min(256));
    for oid in walk.skip(skip) {
        let oid = oid?;
        if out.len() == take {
            return Ok((out, true));
        }
        out.push(oid);
    }
    Ok((out, false))
}

/// Commits reachable from `head` but not from `base`, oldest first (what `git log base..head`
/// lists, reversed).
pub(crate) fn range_oldest_first(
    repo: &Repository,
    base: Oid,
    head: Oid,
) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME | git2::Sort::REVERSE)?;
    walk.push(head)?;
    walk.hide(base)?;
    walk.collect()
}

/// One file changed by a commit, relative to its first parent.
#[derive(Debug, Clone)]
pub(crate) struct FileDelta {
    pub(crate) filename: String,
    pub(crate) status: &'static str,
    pub(crate) previous_filename: Option<String>,
    pub(crate) sha: Option<String>,
    pub(crate) additions: usize,
    pub(crate) deletions: usize,
}

pub(crate) fn changed_files(repo: &Repository, commit: Oid) -> Result<Vec<FileDelta>, git2::Error> {
    let commit = repo.find_commit(commit)?;
    let tree = commit.tree()?;
    let parent_tree = match commit.parents().next() {
        Some(p) => Some(p.tree()?),
        None => None,
    };
    tree_deltas(repo, parent_tree.as_ref(), &tree)
}

/// The files that differ between the trees of `base` and `head` (a comparison's `files`), at
/// most `cap`.
pub(crate) fn changed_paths(
    repo: &Repository,
    base: Oid,
    head: Oid,
    cap: usize,
) -> Result<Vec<FileDelta>, git2::Error> {
    let old = repo.find_commit(base)?.tree()?;
    let new = repo.find_commit(head)?.tree()?;
    let mut deltas = tree_deltas(repo, Some(&old), &new)?;
    deltas.truncate(cap);
    Ok(deltas)
}

fn tree_deltas(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    tree: &Tree<'_>,
) -> Result<Vec<FileDelta>, git2::Error> {
    let mut diff = repo.diff_tree_to_tree(old, Some(tree), None)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    let mut out = Vec::new();
    for (idx, delta) in diff.deltas().enumerate() {
        let status = match delta.status() {
            git2::Delta::Added | git2::Delta::Untracked => "added",
            git2::Delta::Deleted => "removed",
            git2::Delta::Renamed => "renamed",
            git2::Delta::Copied => "copied",
            git2::Delta::Modified => "modified",
            _ => "changed",
        };
        let path_of = |f: git2::DiffFile<'_>| {
            f.path()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default()
        };
        let new_path = path_of(delta.new_file());
        let old_path = path_of(delta.old_file());
        let (filename, sha) = if status == "removed" {
            (old_path.clone(), None)
        } else {
            (new_path, Some(delta.new_file().id().to_string()))
        };
        let (additions, deletions) = match git2::Patch::from_diff(&diff, idx)? {
            Some(patch) => {
                let (_, add, del) = patch.line_stats()?;
                (add, del)
            }
            None => (0, 0),
        };
        out.push(FileDelta {
            filename,
            status,
            previous_filename: (status == "renamed").then_some(old_path),
            sha,
            additions,
            deletions,
        });
    }
    Ok(out)
}

/// The tree of merging `theirs` into `ours`, or `None` when the merge has conflicts.
pub(crate) fn merge_tree(
    repo: &Repository,
    ours: Oid,
    theirs: Oid,
) -> Result<Option<Oid>, git2::Error> {
    let ours = repo.find_commit(ours)?;
    let theirs = repo.find_commit(theirs)?;
    let mut index = repo.merge_commits(&ours, &theirs, None)?;
    if index.has_conflicts() {
        return Ok(None);
    }
    index.write_tree_to(repo).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(list: &[(&str, Option<&str>)]) -> BTreeMap<String, Change> {
        list.iter()
            .map(|(p, c)| {
                (
                    (*p).to_owned(),
                    match c {
                        Some(s) => Change::Put(s.as_bytes().to_vec()),
                        None => Change::Delete,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn builds_nested_trees_and_prunes_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.git");
        init_bare(&path, "r", "main", false).unwrap();
        let repo = open(&path).unwrap();
        let head = branch_head(&repo, "main").unwrap().unwrap();
        let base = repo.find_commit(head).unwrap().tree().unwrap();

        let add = changes(&[("a/b/c.txt", Some("c")), ("a/d.txt", Some("d"))]);
        assert_eq!(check_changes(Some(&base), &add).unwrap(), None);
        let t1 = build_tree(&repo, Some(&base), &add).unwrap();
        let c1 = write_commit(&repo, t1, &[head], &sim_person(), &sim_person(), "m", None).unwrap();
        assert_eq!(
            entry_at(&repo, c1, "a/b").unwrap().unwrap().kind,
            EntryKind::Dir
        );

        let t1_tree = repo.find_tree(t1).unwrap();
        let del = changes(&[("a/b/c.txt", None)]);
        assert_eq!(check_changes(Some(&t1_tree), &del).unwrap(), None);
        let t2 = build_tree(&repo, Some(&t1_tree), &del).unwrap();
        let c2 = write_commit(&repo, t2, &[c1], &sim_person(), &sim_person(), "m", None).unwrap();
        assert!(entry_at(&repo, c2, "a/b").unwrap().is_none());
        assert!(entry_at(&repo, c2, "a/d.txt").unwrap().is_some());

        let files = changed_files(&repo, c2).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].status, "removed");
    }

    #[test]
    fn refuses_impossible_change_sets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.git");
        init_bare(&path, "r", "main", false).unwrap();
        let repo = open(&path).unwrap();
        let head = branch_head(&repo, "main").unwrap().unwrap();
        let base = repo.find_commit(head).unwrap().tree().unwrap();
        assert_eq!(
            check_changes(Some(&base), &changes(&[("nope", None)])).unwrap(),
            Some(ChangeProblem::DeleteMissing("nope".into()))
        );
        assert!(matches!(
            check_changes(Some(&base), &changes(&[("README.md/x", Some("x"))])).unwrap(),
            Some(ChangeProblem::AddUnderFile { .. })
        ));
    }

    #[test]
    fn signed_commits_verify_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.git");
        init_bare(&path, "r", "main", false).unwrap();
        let repo = open(&path).unwrap();
        let head = branch_head(&repo, "main").unwrap().unwrap();
        let tree = repo.find_commit(head).unwrap().tree_id();
        let key = [7u8; 32];
        let signed = write_commit(
            &repo,
            tree,
            &[head],
            &sim_person(),
            &github_committer(),
            "s",
            Some(&key),
        )
        .unwrap();
        let v = verify(&repo, signed, &key);
        assert!(v.verified, "{v:?}");
        assert_eq!(v.reason, "valid");
        assert!(!verify(&repo, signed, &[8u8; 32]).verified);
        let plain = verify(&repo, head, &key);
        assert!(!plain.verified);
        assert_eq!(plain.reason, "unsigned");
    }

    #[test]
    fn cas_refuses_stale_expectations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.git");
        init_bare(&path, "r", "main", false).unwrap();
        let repo = open(&path).unwrap();
        let head = branch_head(&repo, "main").unwrap().unwrap();
        let tree = repo.find_commit(head).unwrap().tree_id();
        let next = write_commit(
            &repo,
            tree,
            &[head],
            &sim_person(),
            &sim_person(),
            "n",
            None,
        )
        .unwrap();
        assert!(matches!(
            cas_ref(&repo, "refs/heads/main", next, Some(next), "x"),
            Err(CasError::Stale)
        ));
        cas_ref(&repo, "refs/heads/main", next, Some(head), "x").unwrap();
        assert_eq!(branch_head(&repo, "main").unwrap(), Some(next));
        assert!(matches!(
            cas_ref(&repo, "refs/heads/main", head, None, "x"),
            Err(CasError::Stale)
        ));
    }
}
