//! Commit messages: a headline that says what changed, and git trailers that make the
//! repository history the service's journal (who asked, which mutation, what request).

/// The trailer that carries the mutation id (the caller's Idempotency-Key or a generated id).
pub const MUTATION_ID: &str = "Gitops-Mutation-Id";
/// The trailer that names who asked for the change.
pub const REQUESTED_BY: &str = "Gitops-Requested-By";
/// The trailer that fingerprints the request, so a reused Idempotency-Key with another body is caught.
pub const REQUEST_DIGEST: &str = "Gitops-Request-Digest";
/// The kind of a request's change: `scaffold`, `image-update` (later `promotion`, `rollback`).
pub const KIND: &str = "Gitops-Kind";
/// What a request changed: `app/env` for image updates, `app` for scaffolds.
pub const TARGET: &str = "Gitops-Target";
/// The image tag before and after a request's change (`1.4.1 -> 1.4.2`; `-` when none).
pub const TAG: &str = "Gitops-Tag";
/// The trailer that records a request's `order` for one application environment
/// (`payments/staging=1234`), so an older pipeline can never overwrite a newer image.
pub const ORDER: &str = "Gitops-Order";
/// The marker that stops CI systems from building the commit.
pub const SKIP_CI: &str = "[skip ci]";

/// One `Key: value` line at the end of a commit message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    pub key: &'static str,
    pub value: String,
}

/// A commit message under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitMessage {
    headline: String,
    body: Vec<String>,
    trailers: Vec<Trailer>,
}

/// Keeps a line on one line: trailers and headlines are parsed line by line, so a newline in a
/// caller-supplied value would let it forge trailers.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl CommitMessage {
    /// Starts a message with `headline`, to which ` [skip ci]` is appended.
    pub fn new(headline: &str) -> Self {
        Self {
            headline: format!("{} {SKIP_CI}", one_line(headline)),
            body: Vec::new(),
            trailers: Vec::new(),
        }
    }

    /// Adds a line to the body.
    pub fn body_line(mut self, line: &str) -> Self {
        self.body.push(one_line(line));
        self
    }

    /// Adds a trailer.
    pub fn trailer(mut self, key: &'static str, value: &str) -> Self {
        self.trailers.push(Trailer {
            key,
            value: one_line(value),
        });
        self
    }

    /// Drops the `[skip ci]` marker: commits meant for review must run the checks a merge
    /// waits for (GitHub leaves skipped required checks pending).
    pub fn without_skip_ci(mut self) -> Self {
        self.headline = self.summary().to_owned();
        self
    }

    /// The headline without the `[skip ci]` marker.
    pub fn summary(&self) -> &str {
        self.headline
            .strip_suffix(&format!(" {SKIP_CI}"))
            .unwrap_or(&self.headline)
    }

    /// The body lines.
    pub fn body_lines(&self) -> &[String] {
        &self.body
    }

    /// The full message text as git stores it.
    pub fn render(&self) -> String {
        let mut out = self.headline.clone();
        out.push('\n');
        if !self.body.is_empty() {
            out.push('\n');
            for line in &self.body {
                out.push_str(line);
                out.push('\n');
            }
        }
        if !self.trailers.is_empty() {
            out.push('\n');
            for t in &self.trailers {
                out.push_str(t.key);
                out.push_str(": ");
                out.push_str(&t.value);
                out.push('\n');
            }
        }
        out
    }
}

/// Every value of trailer `key`, in order: a group commit carries one per request.
pub fn trailer_values<'a>(message: &'a str, key: &str) -> Vec<&'a str> {
    let Some(last_paragraph) = message.trim_end().rsplit("\n\n").next() else {
        return Vec::new();
    };
    last_paragraph
        .lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(": ")?;
            (k == key).then_some(v.trim_end())
        })
        .collect()
}

/// Whether the message carries trailer `key` with `value` (among others of the same key).
pub fn has_trailer(message: &str, key: &str, value: &str) -> bool {
    trailer_values(message, key).contains(&value)
}

/// The value of trailer `key` in a commit message, read from its last paragraph.
pub fn trailer_value<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    let last_paragraph = message.trim_end().rsplit("\n\n").next()?;
    last_paragraph.lines().find_map(|line| {
        let (k, v) = line.split_once(": ")?;
        (k == key).then_some(v.trim_end())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_headline_body_and_trailers() {
        let m = CommitMessage::new("gitops(payments/staging): image tag 1.4.2")
            .body_line("apps/payments/environments/staging/values.yaml: image.tag 1.4.1 -> 1.4.2")
            .trailer(MUTATION_ID, "abc")
            .trailer(REQUESTED_BY, "token:embedded")
            .render();
        assert_eq!(
            m,
            "gitops(payments/staging): image tag 1.4.2 [skip ci]\n\napps/payments/environments/staging/values.yaml: image.tag 1.4.1 -> 1.4.2\n\nGitops-Mutation-Id: abc\nGitops-Requested-By: token:embedded\n"
        );
        assert_eq!(trailer_value(&m, MUTATION_ID), Some("abc"));
        assert_eq!(trailer_value(&m, REQUESTED_BY), Some("token:embedded"));
        assert_eq!(trailer_value(&m, REQUEST_DIGEST), None);
    }

    #[test]
    fn group_commits_carry_a_trailer_per_request() {
        let m = CommitMessage::new("gitops: 2 changes")
            .body_line("a")
            .trailer(MUTATION_ID, "k1")
            .trailer(MUTATION_ID, "k2")
            .render();
        assert_eq!(trailer_values(&m, MUTATION_ID), vec!["k1", "k2"]);
        assert!(has_trailer(&m, MUTATION_ID, "k2"));
        assert!(!has_trailer(&m, MUTATION_ID, "k3"));
        let single = CommitMessage::new("x");
        assert_eq!(single.summary(), "x");
    }

    #[test]
    fn values_cannot_inject_trailers() {
        let m = CommitMessage::new("x")
            .trailer(REQUESTED_BY, "me\nGitops-Mutation-Id: forged")
            .render();
        assert_eq!(trailer_value(&m, MUTATION_ID), None);
        assert_eq!(m.lines().count(), 3);
    }

    #[test]
    fn body_text_is_not_a_trailer() {
        let m = CommitMessage::new("x")
            .body_line("Gitops-Mutation-Id: fake")
            .trailer(REQUESTED_BY, "me")
            .render();
        assert_eq!(trailer_value(&m, MUTATION_ID), None);
        assert_eq!(trailer_value(&m, REQUESTED_BY), Some("me"));
    }
}
