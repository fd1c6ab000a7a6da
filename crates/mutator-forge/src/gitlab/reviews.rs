//! Which merge request a commit on the target branch landed, read from GitLab's default merge
//! commit template (`Merge branch 'SOURCE' into 'TARGET'`, the title, and a last line
//! `See merge request %{reference}`; the reference is the full `GROUP/PROJECT!IID` since
//! GitLab 10.0 and was the short `!IID` before). Semi-linear merges use the same template;
//! fast-forward merges write no merge commit and so name no merge request.

/// The merge request a message names: the project path (empty for a short reference) and iid.
pub(crate) fn merge_request(message: &str) -> Option<(&str, u64)> {
    let reference = message
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("See merge request "))?;
    let (path, iid) = reference.trim_end_matches('.').rsplit_once('!')?;
    let valid_path = path.split('/').all(|segment| {
        !matches!(segment, "" | "." | "..")
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    });
    if !(path.is_empty() || valid_path) || iid.is_empty() {
        return None;
    }
    if !iid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((path, iid.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_names_the_merge_request() {
        assert_eq!(
            merge_request(
                "Merge branch 'gitops/payments/production' into 'main'\n\nPromote payments\n\nSee merge request team-a/platform/gitops!14"
            ),
            Some(("team-a/platform/gitops", 14))
        );
        assert_eq!(
            merge_request("Merge branch 'x' into 'main'\n\nSee merge request !3\n"),
            Some(("", 3))
        );
    }

    #[test]
    fn other_messages_name_none() {
        for message in [
            "Merge branch 'x' into 'main'",
            "See merge request team-a/gitops!",
            "See merge request team-a/gitops!x1",
            "See merge request team a/gitops!1",
            "See merge request ../gitops!1",
            "See merge request team-a//gitops!1",
            "gitops(payments/staging): image tag 1.2.0 [skip ci]",
        ] {
            assert_eq!(merge_request(message), None, "{message:?}");
        }
    }
}
