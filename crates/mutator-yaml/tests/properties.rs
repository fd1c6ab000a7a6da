//! Property test: generated documents (block and flow collections, all three flow scalar
//! styles, typed plain scalars, nulls, comments, blank lines, 2/4-space indent, LF/CRLF,
//! optional BOM and final newline). A random existing scalar or a new key is set to a random
//! value, including ones that look like numbers, bools or nulls, and the result must:
//! parse, mean the original with only the target changed, differ in bytes only inside the
//! target scalar (or by a pure insertion), and read back the same string with `get_scalar`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mutator_yaml::{
    DocSelector, KeyPath, Segment, get_scalar, set_scalar, set_scalar_full, value_span,
};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde::Deserialize;
use yaml_serde::Value;

#[derive(Clone, Debug)]
enum Node {
    /// Text exactly as written (already quoted if quoted).
    Scalar(String),
    Map(Vec<(String, Node)>, bool),
    Seq(Vec<Node>, bool),
}

const KEYS: &[&str] = &[
    "a",
    "b",
    "image",
    "tag",
    "repository",
    "x.y",
    "with space",
    "k8s.io/name",
    "n1",
];
const PLAIN: &[&str] = &[
    "nginx",
    "v1.2.3",
    "1.4.2",
    "9.9.9-rc1",
    "nginx:1.25",
    "sha256:abc123",
    "a b c",
    "ghcr.io/org/app",
    "1.10",
    "true",
    "42",
    "0x1F",
    "~",
    "null",
    "yes",
    "",
];
const FLOW_PLAIN: &[&str] = &["nginx", "v1.2.3", "1.4.2", "a b", "1.10", "true", "42", "~"];
const QUOTABLE: &[&str] = &[
    "1.10",
    "it's",
    "a: b",
    "#x",
    " lead",
    "trail ",
    "",
    "q\"x",
    "x\\y",
    "ünï",
    "true",
    "multi word",
    "{a}",
    "- dash",
];
const VALUES: &[&str] = &[
    "9.9.9-rc1",
    "1.10",
    "true",
    "no",
    "on",
    "y",
    "~",
    "null",
    "",
    "010",
    "0x1F",
    "0o17",
    "1e3",
    ".inf",
    "-1",
    "12:30",
    "2024-01-02",
    "a: b",
    "x #y",
    "- a",
    "? a",
    "*x",
    "&x",
    "!x",
    "{a}",
    "[b]",
    "a,b",
    "|x",
    ">x",
    "%x",
    "@x",
    "`x",
    "'q'",
    "\"q\"",
    " lead",
    "trail ",
    "tab\tx",
    "multi\nline",
    "bell\u{7}",
    "ünïcödé",
    "v1.2.3",
    "nginx:1.25",
    "sha256:abc",
    "#c",
    "-",
    "---",
    "it's",
];

fn scalar(in_flow: bool) -> impl Strategy<Value = Node> {
    let plain = if in_flow { FLOW_PLAIN } else { PLAIN };
    prop_oneof![
        3 => select(plain).prop_map(|s| Node::Scalar(s.to_owned())),
        1 => select(QUOTABLE).prop_map(|s| Node::Scalar(format!("'{}'", s.replace('\'', "''")))),
        1 => select(QUOTABLE).prop_map(|s| Node::Scalar(
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
        )),
    ]
}

fn unique_keys(entries: Vec<(&'static str, Node)>) -> Vec<(String, Node)> {
    let mut seen = std::collections::HashSet::new();
    entries
        .into_iter()
        .filter(|(k, _)| seen.insert(*k))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn flow_collection() -> impl Strategy<Value = Node> {
    prop_oneof![
        prop::collection::vec((select(KEYS), scalar(true)), 0..4)
            .prop_map(|e| Node::Map(unique_keys(e), true)),
        prop::collection::vec(scalar(true), 0..4).prop_map(|s| Node::Seq(s, true)),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![4 => scalar(false), 1 => flow_collection()];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            3 => prop::collection::vec((select(KEYS), inner.clone()), 1..5)
                .prop_map(|e| Node::Map(unique_keys(e), false)),
            1 => prop::collection::vec(
                prop_oneof![scalar(false), prop::collection::vec((select(KEYS), inner), 1..3)
                    .prop_map(|e| Node::Map(unique_keys(e), false))],
                1..4,
            )
            .prop_map(|s| Node::Seq(s, false)),
        ]
    })
}

#[derive(Clone, Debug)]
struct Layout {
    step: usize,
    crlf: bool,
    bom: bool,
    final_newline: bool,
    /// Per-entry choices, cycled: 0 nothing, 1 trailing comment, 2 comment line before,
    /// 3 blank line before.
    decorations: Vec<u8>,
    indent_sequences: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        select(&[2usize, 4][..]),
        any::<bool>(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.8),
        prop::collection::vec(0u8..4, 1..16),
        any::<bool>(),
    )
        .prop_map(
            |(step, crlf, bom, final_newline, decorations, indent_sequences)| Layout {
                step,
                crlf,
                bom,
                final_newline,
                decorations,
                indent_sequences,
            },
        )
}

struct Writer<'a> {
    layout: &'a Layout,
    out: String,
    n: usize,
}

impl Writer<'_> {
    fn eol(&self) -> &'static str {
        if self.layout.crlf { "\r\n" } else { "\n" }
    }

    fn decoration(&mut self) -> u8 {
        let d = self.layout.decorations[self.n % self.layout.decorations.len()];
        self.n += 1;
        d
    }

    fn flow(node: &Node) -> String {
        match node {
            Node::Scalar(s) => s.clone(),
            Node::Map(entries, _) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", Self::flow(v)))
                    .collect();
                if inner.is_empty() {
                    "{}".into()
                } else {
                    format!("{{ {} }}", inner.join(", "))
                }
            }
            Node::Seq(items, _) => format!(
                "[{}]",
                items.iter().map(Self::flow).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    fn is_inline(node: &Node) -> bool {
        match node {
            Node::Scalar(_) => true,
            Node::Map(e, flow) => *flow || e.is_empty(),
            Node::Seq(s, flow) => *flow || s.is_empty(),
        }
    }

    /// Writes a block mapping; `first_prefix` replaces the indentation of the first line
    /// (for `- key: value` in a sequence).
    fn map(&mut self, entries: &[(String, Node)], indent: usize, first_prefix: Option<String>) {
        let eol = self.eol();
        for (i, (k, v)) in entries.iter().enumerate() {
            let lead = match (&first_prefix, i) {
                (Some(p), 0) => p.clone(),
                _ => {
                    match self.decoration() {
                        2 => self
                            .out
                            .push_str(&format!("{}# note about {k}{eol}", " ".repeat(indent))),
                        3 => self.out.push_str(eol),
                        _ => {}
                    }
                    " ".repeat(indent)
                }
            };
            let comment = if self.decoration() == 1 {
                " # trailing: {x}"
            } else {
                ""
            };
            if Self::is_inline(v) {
                let text = Self::flow(v);
                let sep = if text.is_empty() { "" } else { " " };
                self.out
                    .push_str(&format!("{lead}{k}:{sep}{text}{comment}{eol}"));
                continue;
            }
            self.out.push_str(&format!("{lead}{k}:{comment}{eol}"));
            match v {
                Node::Map(e, _) => self.map(e, indent + self.layout.step, None),
                Node::Seq(s, _) => {
                    let extra = if self.layout.indent_sequences {
                        self.layout.step
                    } else {
                        0
                    };
                    self.seq(s, indent + extra);
                }
                Node::Scalar(_) => {}
            }
        }
    }

    fn seq(&mut self, items: &[Node], indent: usize) {
        let eol = self.eol();
        for item in items {
            let dash = format!("{}- ", " ".repeat(indent));
            match item {
                Node::Map(e, false) if !e.is_empty() => self.map(e, indent + 2, Some(dash)),
                other => {
                    let text = Self::flow(other);
                    let text = if text.is_empty() {
                        "''".to_owned()
                    } else {
                        text
                    };
                    self.out.push_str(&format!("{dash}{text}{eol}"));
                }
            }
        }
    }
}

fn render(root: &[(String, Node)], layout: &Layout) -> String {
    let mut w = Writer {
        layout,
        out: String::new(),
        n: 0,
    };
    if layout.bom {
        w.out.push('\u{FEFF}');
    }
    let eol = w.eol();
    w.out.push_str(&format!("# generated{eol}"));
    w.map(root, 0, None);
    if !layout.final_newline {
        let trimmed = w.out.trim_end_matches(['\r', '\n']).len();
        w.out.truncate(trimmed);
    }
    w.out
}

#[derive(Debug)]
enum Target {
    Existing(KeyPath),
    /// A path whose last key (or last few keys) do not exist yet.
    New(KeyPath),
}

fn targets(root: &[(String, Node)]) -> Vec<Target> {
    // Children can be added under a null mapping value, not under a null sequence item.
    fn walk(node: &Node, path: &KeyPath, out: &mut Vec<Target>, in_seq: bool) {
        match node {
            Node::Scalar(s) => {
                out.push(Target::Existing(path.clone()));
                if !in_seq && matches!(s.as_str(), "" | "~" | "null") {
                    out.push(Target::New(path.child(Segment::Key("child".into()))));
                }
            }
            Node::Map(entries, _) => {
                for name in ["newkey", "new.dotted"] {
                    out.push(Target::New(path.child(Segment::Key(name.into()))));
                }
                out.push(Target::New(
                    path.child(Segment::Key("newparent".into()))
                        .child(Segment::Key("child".into())),
                ));
                for (k, v) in entries {
                    walk(v, &path.child(Segment::Key(k.clone())), out, false);
                }
            }
            Node::Seq(items, _) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &path.child(Segment::Index(i)), out, true);
                }
            }
        }
    }
    let mut out = Vec::new();
    for name in ["newroot", "x.y.z"] {
        out.push(Target::New(
            KeyPath::from_segments(vec![Segment::Key(name.into())]).unwrap(),
        ));
    }
    for (k, v) in root {
        walk(
            v,
            &KeyPath::from_segments(vec![Segment::Key(k.clone())]).unwrap(),
            &mut out,
            false,
        );
    }
    out
}

fn parse(src: &str) -> Result<Value, String> {
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    let mut docs = yaml_serde::Deserializer::from_str(src);
    let doc = docs.next().ok_or("no document")?;
    Value::deserialize(doc).map_err(|e| e.to_string())
}

fn set_in(mut v: &mut Value, path: &KeyPath, new: &str) {
    for seg in path.segments() {
        if v.is_null() && matches!(seg, Segment::Key(_)) {
            *v = Value::Mapping(Default::default());
        }
        v = match (seg, v) {
            (Segment::Key(k), Value::Mapping(m)) => {
                m.entry(Value::String(k.clone())).or_insert(Value::Null)
            }
            (Segment::Index(i), Value::Sequence(s)) => &mut s[*i],
            (seg, other) => panic!("model path {seg:?} does not fit {other:?}"),
        };
    }
    *v = Value::String(new.to_owned());
}

fn common_prefix_suffix(a: &[u8], b: &[u8]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let limit = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(limit)
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn set_changes_only_the_target(
        root in prop::collection::vec((select(KEYS), node()), 1..5).prop_map(unique_keys),
        layout in layout(),
        pick in any::<Index>(),
        value in prop_oneof![
            3 => select(VALUES).prop_map(str::to_owned),
            1 => "[ -~]{0,8}",
            1 => "\\PC{0,6}",
        ],
    ) {
        let src = render(&root, &layout);
        let original = parse(&src).map_err(|e| TestCaseError::fail(format!("generator wrote invalid YAML ({e}):\n{src}")))?;
        let all = targets(&root);
        let target = &all[pick.index(all.len())];
        let path = match target { Target::Existing(p) | Target::New(p) => p };
        prop_assert_eq!(&path.to_string().parse::<KeyPath>().unwrap(), path);

        let out = set_scalar(&src, path, &value)
            .map_err(|e| TestCaseError::fail(format!("set {path} = {value:?} refused: {e}\n{src}")))?;
        let full = set_scalar_full(&src, &DocSelector::Index(0), path, &value)
            .map_err(|e| TestCaseError::fail(format!("full path refused {path} = {value:?}: {e}\n{src}")))?;
        prop_assert_eq!(&out, &full, "quick and full paths differ at {}", path);
        let edited = parse(&out).map_err(|e| TestCaseError::fail(format!("result does not parse ({e}):\n{out}")))?;
        let mut expected = original.clone();
        set_in(&mut expected, path, &value);
        prop_assert_eq!(&edited, &expected, "meaning changed beyond {}:\n{}\n---\n{}", path, src, out);
        prop_assert_eq!(get_scalar(&out, path).unwrap(), Some(value.clone()));

        let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
        match target {
            Target::Existing(_) => {
                let span = value_span(&src, path).unwrap().unwrap();
                let old_text = &src[span.clone()];
                let old: Value = yaml_serde::from_str(old_text).unwrap();
                let mut at = original.clone();
                for seg in path.segments() {
                    at = match (seg, at) {
                        (Segment::Key(k), Value::Mapping(m)) => m.get(k.as_str()).cloned().unwrap(),
                        (Segment::Index(i), Value::Sequence(s)) => s[*i].clone(),
                        _ => unreachable!(),
                    };
                }
                prop_assert_eq!(old, at, "span {:?} is not the target scalar", span);
                if out == src {
                    prop_assert_eq!(get_scalar(&src, path).unwrap(), Some(value.clone()));
                } else {
                    // (A zero-width span is an insertion point; the window may slide over the
                    // space after it, so only the head/tail check applies there.)
                    prop_assert!(span.is_empty() || (prefix >= span.start && src.len() - suffix <= span.end),
                        "bytes changed outside {:?}: {}..{}\n{}\n---\n{}", span, prefix, src.len() - suffix, src, out);
                    prop_assert!(out.starts_with(&src[..span.start]) && out.ends_with(&src[span.end..]));
                }
            }
            Target::New(_) => {
                // Pure insertion. The one exception is `key: ~`, which loses its `~` (and the
                // gap after the colon) to make room for children; model that, then demand a
                // pure insertion again.
                let mut before = src.clone();
                if let Some(parent) = path.parent()
                    && let Ok(Some(span)) = value_span(&src, &parent)
                    && !span.is_empty()
                    && matches!(&src[span.clone()], "~" | "null")
                {
                    let colon = src[..span.start].rfind(':').unwrap() + 1;
                    before.replace_range(colon..span.end, "");
                }
                let (prefix, suffix) = common_prefix_suffix(before.as_bytes(), out.as_bytes());
                prop_assert_eq!(prefix + suffix, before.len(), "insert rewrote existing bytes:\n{}\n---\n{}", src, out);
                let eols_before = src.matches('\n').count();
                let crlf_before = src.matches("\r\n").count();
                let added = out.matches('\n').count() - eols_before;
                prop_assert_eq!(out.matches("\r\n").count() - crlf_before, if layout.crlf { added } else { 0 });
                prop_assert!(added <= path.segments().len(), "{} lines added for {}", added, path);
            }
        }
    }
}
