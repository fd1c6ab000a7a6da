//! `KeyPath`: the parsed form of `image.tag`, `a.b[0].c` and `a["dotted.key"]`.
//!
//! Parsing happens once at the edge so the editor never sees an empty or malformed path.

use std::fmt;
use std::str::FromStr;

/// One step of a [`KeyPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key, compared with the key's string value (quotes in the file do not matter).
    Key(String),
    /// A zero-based index into a sequence.
    Index(usize),
}

/// A non-empty path into a YAML document.
///
/// Syntax: keys separated by `.`, `[N]` for sequence items, and `["..."]` for keys that
/// contain `.`, `[`, `]`, `"`, `\`, or start or end with whitespace (inside the quotes `\"` and
/// `\\` are the only escapes). `Display` prints the canonical form, which parses back to the
/// same path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyPath {
    segments: Vec<Segment>,
}

/// Why a path string was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid key path {path:?} at character {column}: {reason}")]
pub struct PathError {
    /// The text that was being parsed.
    pub path: String,
    /// 1-based character position of the problem.
    pub column: usize,
    /// What is wrong there.
    pub reason: String,
}

impl KeyPath {
    /// Builds a path from segments; fails only when `segments` is empty.
    pub fn from_segments(segments: Vec<Segment>) -> Result<Self, PathError> {
        if segments.is_empty() {
            return Err(PathError {
                path: String::new(),
                column: 1,
                reason: "a path needs at least one segment".into(),
            });
        }
        Ok(Self { segments })
    }

    /// The steps of the path, never empty.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// All segments but the last, and the last.
    pub fn parent_and_last(&self) -> (&[Segment], &Segment) {
        match self.segments.split_last() {
            Some((last, parent)) => (parent, last),
            // The constructor guarantees at least one segment.
            None => unreachable!("KeyPath is never empty"),
        }
    }

    /// The path without its last segment, or `None` for a one-segment path.
    pub fn parent(&self) -> Option<KeyPath> {
        let (parent, _) = self.parent_and_last();
        (!parent.is_empty()).then(|| KeyPath {
            segments: parent.to_vec(),
        })
    }

    /// This path with one more segment at the end.
    pub fn child(&self, segment: Segment) -> KeyPath {
        let mut segments = self.segments.clone();
        segments.push(segment);
        KeyPath { segments }
    }

    /// Canonical text of the first `n` segments; used to say where an error happened.
    pub(crate) fn prefix_string(&self, n: usize) -> String {
        display_segments(&self.segments[..n.min(self.segments.len())])
    }
}

fn key_needs_brackets(key: &str) -> bool {
    key.is_empty()
        || key.starts_with(char::is_whitespace)
        || key.ends_with(char::is_whitespace)
        || key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '"' | '\\') || c.is_control())
}

fn display_segments(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Index(n) => {
                out.push('[');
                out.push_str(&n.to_string());
                out.push(']');
            }
            Segment::Key(k) if key_needs_brackets(k) => {
                out.push_str("[\"");
                for c in k.chars() {
                    if matches!(c, '"' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push_str("\"]");
            }
            Segment::Key(k) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(k);
            }
        }
    }
    out
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display_segments(&self.segments))
    }
}

impl FromStr for KeyPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Parser::new(s).parse()
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn fail(&self, at: usize, reason: impl Into<String>) -> PathError {
        PathError {
            path: self.text.to_owned(),
            column: at + 1,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn parse(mut self) -> Result<KeyPath, PathError> {
        if self.chars.is_empty() {
            return Err(self.fail(0, "the path is empty"));
        }
        let mut segments = Vec::new();
        // A bare key is allowed at the start and after a dot; after `]` only `.` or `[` may follow.
        let mut expect_key = true;
        loop {
            match self.peek() {
                None => break,
                Some('[') => {
                    segments.push(self.bracket()?);
                    expect_key = false;
                }
                Some('.') if !expect_key => {
                    self.pos += 1;
                    if self.peek().is_none() {
                        return Err(self.fail(self.pos - 1, "the path ends with '.'"));
                    }
                    if self.peek() == Some('[') {
                        return Err(
                            self.fail(self.pos, "'[' cannot follow '.'; write a[0] or a[\"k\"]")
                        );
                    }
                    segments.push(self.bare_key()?);
                }
                Some(_) if expect_key => {
                    segments.push(self.bare_key()?);
                    expect_key = false;
                }
                Some(c) => {
                    return Err(self.fail(self.pos, format!("expected '.' or '[' but found {c:?}")));
                }
            }
        }
        Ok(KeyPath { segments })
    }

    fn bare_key(&mut self) -> Result<Segment, PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, '.' | '[') {
                break;
            }
            if matches!(c, ']' | '"' | '\\') || c.is_control() {
                return Err(self.fail(
                    self.pos,
                    format!("{c:?} is not allowed in a bare key; write the key as [\"...\"]"),
                ));
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.fail(start, "empty key (two dots in a row, or a leading dot)"));
        }
        let key: String = self.chars[start..self.pos].iter().collect();
        if key.starts_with(char::is_whitespace) || key.ends_with(char::is_whitespace) {
            return Err(self.fail(
                start,
                "a bare key cannot start or end with whitespace; write it as [\"...\"]",
            ));
        }
        Ok(Segment::Key(key))
    }

    fn bracket(&mut self) -> Result<Segment, PathError> {
        let open = self.pos;
        self.pos += 1;
        match self.peek() {
            Some('"') => {
                self.pos += 1;
                let mut key = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.fail(open, "unterminated [\"...\"] key")),
                        Some('\\') => {
                            self.pos += 1;
                            match self.peek() {
                                Some(c @ ('"' | '\\')) => key.push(c),
                                _ => {
                                    return Err(self.fail(
                                        self.pos,
                                        "only \\\" and \\\\ are escapes inside [\"...\"]",
                                    ));
                                }
                            }
                        }
                        Some('"') => break,
                        Some(c) => key.push(c),
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                if self.peek() != Some(']') {
                    return Err(self.fail(self.pos, "expected ']' after the closing quote"));
                }
                self.pos += 1;
                Ok(Segment::Key(key))
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits: String = self.chars[start..self.pos].iter().collect();
                if self.peek() != Some(']') {
                    return Err(self.fail(self.pos, "expected ']' after the index"));
                }
                if digits.len() > 1 && digits.starts_with('0') {
                    return Err(self.fail(start, "an index cannot have leading zeros"));
                }
                let index = digits
                    .parse::<usize>()
                    .map_err(|_| self.fail(start, "the index is too large"))?;
                self.pos += 1;
                Ok(Segment::Index(index))
            }
            _ => Err(self.fail(
                open,
                "'[' must be followed by a non-negative index like [0] or a quoted key like [\"a.b\"]",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> KeyPath {
        match s.parse() {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn key(s: &str) -> Segment {
        Segment::Key(s.into())
    }

    #[test]
    fn parses_dotted_indexed_and_bracketed_paths() {
        assert_eq!(p("image.tag").segments(), [key("image"), key("tag")]);
        assert_eq!(
            p("a.b[0].c").segments(),
            [key("a"), key("b"), Segment::Index(0), key("c")]
        );
        assert_eq!(
            p(r#"metadata.annotations["argocd.argoproj.io/sync-wave"]"#).segments(),
            [
                key("metadata"),
                key("annotations"),
                key("argocd.argoproj.io/sync-wave")
            ]
        );
        assert_eq!(p("[2]").segments(), [Segment::Index(2)]);
        assert_eq!(p(r#"["a\"b\\c"]"#).segments(), [key("a\"b\\c")]);
        assert_eq!(
            p("a[1][2]").segments(),
            [key("a"), Segment::Index(1), Segment::Index(2)]
        );
        assert_eq!(
            p("redis-ha.image").segments(),
            [key("redis-ha"), key("image")]
        );
        assert_eq!(p("a/b.c d").segments(), [key("a/b"), key("c d")]);
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        for s in [
            "image.tag",
            "a.b[0].c",
            r#"metadata.annotations["argocd.argoproj.io/sync-wave"]"#,
            "[0].a",
            r#"["a\"b"].c"#,
            r#"a[""]"#,
            r#"a[" x"]"#,
        ] {
            let parsed = p(s);
            assert_eq!(parsed.to_string(), s);
            assert_eq!(p(&parsed.to_string()), parsed);
        }
        // Brackets around a key that does not need them are accepted but not canonical.
        assert_eq!(p(r#"a["b"]"#).to_string(), "a.b");
    }

    #[test]
    fn rejects_malformed_paths_with_position() {
        let cases = [
            ("", 1),
            (".a", 1),
            ("a.", 2),
            ("a..b", 3),
            ("a[", 2),
            ("a[x]", 2),
            ("a[-1]", 2),
            ("a[01]", 3),
            ("a[1", 4),
            ("a[\"b", 2),
            ("a[\"b\"", 6),
            ("a]", 2),
            ("a[0]b", 5),
            ("a.[0]", 3),
            ("a. b", 3),
            ("a\"b", 2),
            ("a[99999999999999999999999]", 3),
        ];
        for (s, column) in cases {
            match s.parse::<KeyPath>() {
                Ok(p) => panic!("{s:?} parsed as {p:?}"),
                Err(e) => {
                    assert_eq!(e.column, column, "{s:?}: {e}");
                    assert!(e.to_string().contains(&format!("{s:?}")), "{e}");
                }
            }
        }
    }

    #[test]
    fn helpers() {
        let path = p("a.b[0]");
        let (parent, last) = path.parent_and_last();
        assert_eq!(parent, [key("a"), key("b")]);
        assert_eq!(last, &Segment::Index(0));
        assert_eq!(path.parent().map(|p| p.to_string()), Some("a.b".into()));
        assert_eq!(p("a").parent(), None);
        assert_eq!(p("a").child(key("x.y")).to_string(), r#"a["x.y"]"#);
        assert!(KeyPath::from_segments(vec![]).is_err());
        assert_eq!(path.prefix_string(2), "a.b");
    }
}
