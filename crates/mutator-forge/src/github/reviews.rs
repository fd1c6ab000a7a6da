//! Which pull request a commit on the base branch landed, read from GitHub's default messages
//! (GitHub docs, "About pull request merges"): a merge commit's subject is
//! `Merge pull request #N from OWNER/BRANCH`, a squash commit's subject ends in ` (#N)`.
//! A message edited at merge time may say neither; then no pull request is named.

/// The pull request number `message` names, if it has one of GitHub's default subjects.
pub(crate) fn pull_number(message: &str) -> Option<u64> {
    let subject = message.lines().next()?.trim_end();
    if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        let (number, tail) = rest.split_once(' ')?;
        return tail.starts_with("from ").then(|| digits(number)).flatten();
    }
    let (_, number) = subject.strip_suffix(')')?.rsplit_once(" (#")?;
    digits(number)
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_squash_subjects_name_their_pull_request() {
        assert_eq!(
            pull_number(
                "Merge pull request #12 from acme/gitops/payments/production\n\nPromote payments"
            ),
            Some(12)
        );
        assert_eq!(
            pull_number(
                "gitops(payments/production): promote image tag 1.2.0 from staging (#7)\n\nGitops-Kind: promotion\n"
            ),
            Some(7)
        );
        assert_eq!(pull_number("Fix the chart (#3)"), Some(3));
    }

    #[test]
    fn other_messages_name_none() {
        for message in [
            "gitops(payments/staging): image tag 1.2.0 [skip ci]",
            "Merge branch 'gitops/payments/production'",
            "Merge pull request #x from acme/b",
            "Merge pull request #4",
            "Merge pull request #4 into main",
            "Bump to (#)",
            "Bump to (#+4)",
            "Bump (#4) later",
            "",
            "See #4",
        ] {
            assert_eq!(pull_number(message), None, "{message:?}");
        }
    }
}
