//! Reading history: what a GitLab `ref` names, the last commit that changed a path, and
//! paged commit lists.

use std::path::Path;

use git2::{ErrorCode, Oid, Repository, Sort};

use crate::git_store;

/// What GitLab accepts as `ref`/`sha`: `HEAD` (the default branch), a branch, a tag, or a
/// commit id (full or abbreviated).
pub(crate) fn resolve_ref(repo: &Repository, reference: &str) -> Result<Option<Oid>, git2::Error> {
    if reference == "HEAD" {
        return match git_store::default_branch(repo) {
            Some(branch) => git_store::branch_head(repo, &branch),
            None => Ok(None),
        };
    }
    git_store::resolve_commitish(repo, reference)
}

/// `(blob or tree id, file mode)` of `path` in `commit`, if present.
fn path_state(commit: &git2::Commit<'_>, path: &str) -> Result<Option<(Oid, i32)>, git2::Error> {
    match commit.tree()?.get_path(Path::new(path)) {
        Ok(e) => Ok(Some((e.id(), e.filemode()))),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The newest commit on the first-parent chain from `start` whose entry for `path` (content
/// and mode) differs from its first parent's; `None` when `path` never existed on that chain.
pub(crate) fn last_commit_for_path(
    repo: &Repository,
    start: Oid,
    path: &str,
) -> Result<Option<Oid>, git2::Error> {
    let path = path.trim_matches('/');
    if path.is_empty() || path.contains('\0') {
        return Ok(None);
    }
    let mut current = repo.find_commit(start)?;
    let mut state = path_state(&current, path)?;
    loop {
        let parent = match current.parents().next() {
            Some(p) => p,
            None => return Ok(state.map(|_| current.id())),
        };
        let parent_state = path_state(&parent, path)?;
        if parent_state != state {
            return Ok(Some(current.id()));
        }
        current = parent;
        state = parent_state;
    }
}

/// Which commits a list walks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Walk {
    /// From here (nothing when `None`)…
    pub(crate) start: Option<Oid>,
    /// …leaving out what this reaches (the `FROM` of `FROM..TO`)…
    pub(crate) hide: Option<Oid>,
    /// …and only along first parents.
    pub(crate) first_parent: bool,
}

/// Page `page` (1-based) of `per_page` commits of `spec`, newest first; the flag says whether
/// another page follows.
pub(crate) fn commit_page(
    repo: &Repository,
    spec: &Walk,
    page: usize,
    per_page: usize,
) -> Result<(Vec<Oid>, bool), git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    let Some(start) = spec.start else {
        return Ok((Vec::new(), false));
    };
    walk.push(start)?;
    if let Some(hide) = spec.hide {
        walk.hide(hide)?;
    }
    if spec.first_parent {
        walk.simplify_first_parent()?;
    }
    let skip = page.saturating_sub(1).saturating_mul(per_page);
    let mut out = Vec::with_capacity(per_page.min(100));
    for oid in walk.skip(skip) {
        let oid = oid?;
        if out.len() == per_page {
            return Ok((out, true));
        }
        out.push(oid);
    }
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::git_store::{Change, sim_person};

    fn commit(repo: &Repository, parent: Oid, files: &[(&str, Option<&str>)]) -> Oid {
        let base = repo.find_commit(parent).unwrap().tree().unwrap();
        let changes: BTreeMap<String, Change> = files
            .iter()
            .map(|(p, c)| {
                let change = c.map_or(Change::Delete, |s| Change::Put(s.as_bytes().to_vec()));
                ((*p).to_owned(), change)
            })
            .collect();
        let tree = git_store::build_tree(repo, Some(&base), &changes).unwrap();
        git_store::write_commit(
            repo,
            tree,
            &[parent],
            &sim_person(),
            &sim_person(),
            "m",
            None,
        )
        .unwrap()
    }

    #[test]
    fn finds_the_last_commit_touching_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.git");
        git_store::init_bare(&path, "r", "main", false).unwrap();
        let repo = git_store::open(&path).unwrap();
        let root = git_store::branch_head(&repo, "main").unwrap().unwrap();
        let c1 = commit(&repo, root, &[("a/x.yaml", Some("1"))]);
        let c2 = commit(&repo, c1, &[("b.txt", Some("b"))]);
        let c3 = commit(&repo, c2, &[("a/x.yaml", Some("2"))]);
        let c4 = commit(&repo, c3, &[("b.txt", None)]);
        assert_eq!(
            last_commit_for_path(&repo, c4, "a/x.yaml").unwrap(),
            Some(c3)
        );
        assert_eq!(
            last_commit_for_path(&repo, c2, "a/x.yaml").unwrap(),
            Some(c1)
        );
        assert_eq!(
            last_commit_for_path(&repo, c4, "README.md").unwrap(),
            Some(root)
        );
        assert_eq!(last_commit_for_path(&repo, c3, "b.txt").unwrap(), Some(c2));
        assert_eq!(last_commit_for_path(&repo, c1, "nope").unwrap(), None);

        let all = Walk {
            start: Some(c4),
            ..Walk::default()
        };
        let (page, more) = commit_page(&repo, &all, 1, 3).unwrap();
        assert_eq!((page, more), (vec![c4, c3, c2], true));
        let (page, more) = commit_page(&repo, &all, 2, 3).unwrap();
        assert_eq!((page, more), (vec![c1, root], false));
        assert_eq!(resolve_ref(&repo, "HEAD").unwrap(), Some(root));
    }
}
