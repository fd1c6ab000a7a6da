//! Paths inside a GitOps repository.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::names::{NameError, string_newtype};

string_newtype!(
    /// A relative, normalised path inside a repository: `/`-separated, no empty, `.` or `..`
    /// segments, no `.git` segment, no leading `/`, no backslashes or control characters.
    /// A value of this type can never point outside the repository or into git's own files.
    RepoPath,
    check_repo_path
);

fn check_repo_path(v: &str) -> Result<(), NameError> {
    let bad = |why: &str| {
        Err(NameError(format!(
            "path {:?} is invalid: {why}",
            v.escape_debug().to_string()
        )))
    };
    if v.is_empty() || v.len() > 4096 {
        return bad("use 1 to 4096 characters");
    }
    if v.starts_with('/') {
        return bad("absolute paths are not allowed; give a path relative to the repository root");
    }
    if v.chars().any(|c| c.is_control() || c == '\\') {
        return bad("control characters and backslashes are not allowed");
    }
    for segment in v.split('/') {
        match segment {
            "" => return bad("empty segments ('//' or a trailing '/') are not allowed"),
            "." | ".." => return bad("'.' and '..' segments are not allowed"),
            s if s.eq_ignore_ascii_case(".git") => return bad("'.git' segments are not allowed"),
            _ => {}
        }
    }
    Ok(())
}

impl RepoPath {
    /// Joins a relative suffix onto this path, checking the result.
    pub fn join(&self, suffix: &str) -> Result<RepoPath, NameError> {
        RepoPath::parse(format!("{}/{}", self.0, suffix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_paths() {
        for ok in [
            "a",
            "apps/payments/environments/staging/values.yaml",
            ".github/x",
            "a.git.bak/b",
        ] {
            assert!(RepoPath::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_escapes() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            ".git/config",
            "a/.GIT/x",
            "a\\b",
            "a\nb",
            "./a",
        ] {
            assert!(RepoPath::parse(bad).is_err(), "{bad:?}");
        }
    }
}
