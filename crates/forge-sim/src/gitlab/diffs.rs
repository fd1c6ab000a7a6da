//! GitLab's `Diff` entity for the changes between two trees, as the commit diff and compare
//! endpoints list them: paths, modes, the added/renamed/deleted flags and the hunks.

use git2::{DiffFindOptions, Repository, Tree};
use serde_json::{Value, json};

fn mode_text(mode: git2::FileMode) -> String {
    match mode {
        git2::FileMode::Unreadable => "0".to_owned(),
        m => format!("{:o}", u32::from(m)),
    }
}

/// The hunks of a patch without its `diff --git`/`index`/`---`/`+++` header lines.
fn hunks_only(patch_text: &str) -> String {
    match patch_text.find("\n@@") {
        Some(i) => patch_text.get(i + 1..).unwrap_or_default().to_owned(),
        None if patch_text.starts_with("@@") => patch_text.to_owned(),
        None => String::new(),
    }
}

/// What changed from `old` (nothing: an empty tree) to `new`, renames detected.
pub(crate) fn diff_items(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
) -> Result<Vec<Value>, git2::Error> {
    let mut diff = repo.diff_tree_to_tree(old, Some(new), None)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    let mut items = Vec::new();
    for (idx, delta) in diff.deltas().enumerate() {
        let path_of = |f: git2::DiffFile<'_>| {
            f.path()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default()
        };
        let text = match git2::Patch::from_diff(&diff, idx)? {
            Some(mut patch) => hunks_only(&String::from_utf8_lossy(&patch.to_buf()?)),
            None => String::new(),
        };
        let status = delta.status();
        items.push(json!({
            "old_path": path_of(delta.old_file()),
            "new_path": path_of(delta.new_file()),
            "a_mode": mode_text(delta.old_file().mode()),
            "b_mode": mode_text(delta.new_file().mode()),
            "new_file": status == git2::Delta::Added,
            "renamed_file": status == git2::Delta::Renamed,
            "deleted_file": status == git2::Delta::Deleted,
            "generated_file": false,
            "diff": text,
        }));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_patch_headers() {
        let patch =
            "diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
        assert_eq!(hunks_only(patch), "@@ -1 +1 @@\n-a\n+b\n");
        assert_eq!(hunks_only("Binary files differ\n"), "");
    }
}
