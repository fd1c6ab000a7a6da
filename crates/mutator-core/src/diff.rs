//! Unified diffs for dry runs: what a commit would change, shown the way `git diff` does.

use similar::TextDiff;

/// A unified diff of one file, with `a/` and `b/` headers; `/dev/null` stands for a missing side.
pub fn unified(path: &str, old: Option<&str>, new: Option<&str>) -> String {
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let new_name = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".to_owned()
    };
    TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""))
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_change() {
        let d = unified("v.yaml", Some("a: 1\nb: 2\n"), Some("a: 1\nb: 3\n"));
        assert!(d.starts_with("--- a/v.yaml\n+++ b/v.yaml\n"), "{d}");
        assert!(d.contains("-b: 2\n+b: 3\n"), "{d}");
    }

    #[test]
    fn created_file() {
        let d = unified("n.yaml", None, Some("x: 1\n"));
        assert!(d.starts_with("--- /dev/null\n+++ b/n.yaml\n"), "{d}");
        assert!(d.contains("+x: 1\n"));
    }

    #[test]
    fn no_change_is_empty() {
        assert_eq!(unified("v", Some("a\n"), Some("a\n")), "");
    }
}
