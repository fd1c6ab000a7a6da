//! Small read-only helpers over yaml-edit's lossless syntax tree, plus line/column arithmetic on
//! the source text. Nothing here edits; edits are byte splices computed from these spans.

use std::collections::HashSet;
use std::ops::Range;

use rowan::NodeOrToken;
use rowan::ast::AstNode;
use yaml_edit::{Lang, SyntaxKind as K};

use crate::quote;

pub(crate) type Node = rowan::SyntaxNode<Lang>;
pub(crate) type Token = rowan::SyntaxToken<Lang>;

/// The parsed file: the syntax root plus its top-level documents.
pub(crate) struct Cst {
    pub(crate) docs: Vec<Node>,
}

impl Cst {
    /// Parses with yaml-edit; `Err` carries its first error message with line and column.
    pub(crate) fn parse(text: &str) -> Result<Cst, String> {
        let parse = yaml_edit::YamlFile::parse(text);
        // `errors()` would print the whole tree back to text just to number lines.
        if let Some(first) = parse.positioned_errors().first() {
            return Err(format!("{}: {}", first.start_position(text), first.message));
        }
        // yaml-edit hands out a mutable tree; the editor never mutates, and walking an
        // immutable tree over the same green nodes is several times cheaper.
        let root = Node::new_root(parse.tree().syntax().green().into_owned());
        let docs = root
            .children()
            .filter(|n| n.kind() == K::DOCUMENT)
            .collect();
        Ok(Cst { docs })
    }
}

/// What sits in a value position: its properties and the node itself.
#[derive(Default)]
pub(crate) struct Content {
    pub(crate) anchor: Option<String>,
    pub(crate) tag: Option<String>,
    /// MAPPING, SEQUENCE, SCALAR or ALIAS; `None` when the position is empty.
    pub(crate) node: Option<Node>,
}

/// Finds the content of a VALUE, SEQUENCE_ENTRY, KEY or DOCUMENT node, looking through a
/// TAGGED_NODE wrapper (whose tag is recorded).
pub(crate) fn content_of(container: &Node) -> Content {
    let mut content = Content::default();
    scan_content(container, &mut content);
    content
}

fn scan_content(container: &Node, content: &mut Content) {
    for element in container.children_with_tokens() {
        match element {
            NodeOrToken::Token(t) if t.kind() == K::ANCHOR => {
                content.anchor = Some(t.text().trim_start_matches('&').to_owned());
            }
            NodeOrToken::Token(t) if t.kind() == K::TAG => {
                content.tag = Some(t.text().to_owned());
            }
            NodeOrToken::Node(n) => match n.kind() {
                K::TAGGED_NODE => {
                    scan_content(&n, content);
                    return;
                }
                K::MAPPING | K::SEQUENCE | K::SCALAR | K::ALIAS => {
                    content.node = Some(n);
                    return;
                }
                _ => {}
            },
            NodeOrToken::Token(_) => {}
        }
    }
}

/// Names used by `*alias` anywhere below `node`.
pub(crate) fn alias_names(node: &Node) -> HashSet<String> {
    node.descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == K::REFERENCE)
        .map(|t| t.text().trim_start_matches('*').to_owned())
        .collect()
}

pub(crate) fn is_flow_collection(node: &Node) -> bool {
    node.children_with_tokens().any(|e| {
        matches!(
            e.kind(),
            K::LEFT_BRACE | K::LEFT_BRACKET | K::RIGHT_BRACE | K::RIGHT_BRACKET
        )
    })
}

/// Whether `node` sits inside a flow collection, where `,[]{}` end a plain scalar.
pub(crate) fn in_flow(node: &Node) -> bool {
    node.ancestors()
        .skip(1)
        .any(|a| matches!(a.kind(), K::MAPPING | K::SEQUENCE) && is_flow_collection(&a))
}

pub(crate) fn is_block_scalar(scalar: &Node) -> bool {
    scalar
        .children_with_tokens()
        .any(|e| matches!(e.kind(), K::PIPE | K::GREATER))
}

pub(crate) fn range(node: &Node) -> Range<usize> {
    let r = node.text_range();
    usize::from(r.start())..usize::from(r.end())
}

pub(crate) fn token_range(token: &Token) -> Range<usize> {
    let r = token.text_range();
    usize::from(r.start())..usize::from(r.end())
}

fn is_trivia(kind: K, skip_comma: bool) -> bool {
    matches!(
        kind,
        K::WHITESPACE | K::NEWLINE | K::INDENT | K::COMMENT | K::BOM | K::EOF
    ) || (skip_comma && kind == K::COMMA)
}

/// The last token of `node` that is content rather than layout. With `skip_comma`, a trailing
/// flow separator does not count either.
pub(crate) fn last_content_token(node: &Node, skip_comma: bool) -> Option<Token> {
    node.descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| !is_trivia(t.kind(), skip_comma) && !t.text().is_empty())
        .last()
}

pub(crate) fn first_content_token(node: &Node) -> Option<Token> {
    node.descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| !is_trivia(t.kind(), false) && !t.text().is_empty())
}

/// End offset of the last content token inside `within` that ends at or before `pos`
/// (e.g. the colon, anchor or tag before an empty value).
pub(crate) fn content_end_before(within: &Node, pos: usize) -> Option<usize> {
    within
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| !is_trivia(t.kind(), false) && !t.text().is_empty())
        .map(|t| token_range(&t).end)
        .filter(|&end| end <= pos)
        .last()
}

pub(crate) fn entries(collection: &Node, kind: K) -> Vec<Node> {
    collection.children().filter(|c| c.kind() == kind).collect()
}

pub(crate) fn child(node: &Node, kind: K) -> Option<Node> {
    node.children().find(|c| c.kind() == kind)
}

/// A mapping key as the editor can compare it.
pub(crate) enum KeyText {
    /// A scalar key, decoded; `plain` says it was unquoted (so it may be a number or bool).
    Scalar { text: String, plain: bool },
    /// `<<`
    Merge,
    /// An alias, a tagged key, a multi-line scalar or a collection used as a key.
    Opaque,
}

pub(crate) fn key_text(entry: &Node) -> KeyText {
    let Some(key) = child(entry, K::KEY) else {
        return KeyText::Opaque;
    };
    let content = content_of(&key);
    let Some(node) = content.node else {
        return KeyText::Opaque;
    };
    if content.tag.is_some() || node.kind() != K::SCALAR {
        return KeyText::Opaque;
    }
    if node
        .children_with_tokens()
        .any(|e| e.kind() == K::MERGE_KEY)
    {
        return KeyText::Merge;
    }
    let raw = node.text().to_string();
    match quote::decode_inline(&raw) {
        Some(text) => KeyText::Scalar {
            plain: quote::Style::of_raw(&raw) == quote::Style::Plain,
            text,
        },
        None => KeyText::Opaque,
    }
}

/// Short description of a node for error messages.
pub(crate) fn describe(node: Option<&Node>) -> String {
    let Some(node) = node else {
        return "empty".into();
    };
    match node.kind() {
        K::MAPPING => "a mapping".into(),
        K::SEQUENCE => "a sequence".into(),
        K::ALIAS => "an alias".into(),
        K::SCALAR => {
            let text = node.text().to_string();
            let short: String = text.chars().take(40).collect();
            if short.len() < text.len() {
                format!("the scalar {short}…")
            } else {
                format!("the scalar {short}")
            }
        }
        other => format!("{other:?}").to_lowercase(),
    }
}

fn is_break(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

pub(crate) fn line_start(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos]
        .iter()
        .rposition(|&b| is_break(b))
        .map_or(0, |i| i + 1)
}

pub(crate) fn line_end(src: &str, pos: usize) -> usize {
    src.as_bytes()[pos..]
        .iter()
        .position(|&b| is_break(b))
        .map_or(src.len(), |i| pos + i)
}

/// The line break to use for a new line inserted at `pos` (a line end): the one already there,
/// else the file's first, else `\n`.
pub(crate) fn eol_at(src: &str, pos: usize) -> &'static str {
    let rest = &src[pos..];
    if rest.starts_with("\r\n") {
        "\r\n"
    } else if rest.starts_with('\n') {
        "\n"
    } else {
        file_eol(src)
    }
}

pub(crate) fn file_eol(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Column of `pos` as a count of indentation characters, when everything before it on its
/// line is spaces or block-sequence dashes (so the same width of spaces lines up with it).
pub(crate) fn indent_column(src: &str, pos: usize) -> Option<usize> {
    let start = line_start(src, pos);
    let prefix = &src[start..pos];
    let prefix = if start == 0 {
        prefix.trim_start_matches('\u{FEFF}')
    } else {
        prefix
    };
    prefix
        .bytes()
        .all(|b| b == b' ' || b == b'-')
        .then_some(prefix.len())
}

/// Column where the keys of a block mapping start.
pub(crate) fn mapping_key_column(src: &str, mapping: &Node) -> Option<usize> {
    let first = entries(mapping, K::MAPPING_ENTRY).into_iter().next()?;
    let token = first_content_token(&first)?;
    indent_column(src, token_range(&token).start)
}

/// The indentation step the file uses for nested block mappings (most common wins, 2 if none).
pub(crate) fn indent_step(src: &str, scope: Option<&Node>) -> usize {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    if let Some(scope) = scope {
        for entry in scope.descendants().filter(|n| n.kind() == K::MAPPING_ENTRY) {
            let Some(value) = child(&entry, K::VALUE) else {
                continue;
            };
            let Some(inner) = content_of(&value).node else {
                continue;
            };
            if inner.kind() != K::MAPPING || is_flow_collection(&inner) {
                continue;
            }
            let outer_col =
                first_content_token(&entry).and_then(|t| indent_column(src, token_range(&t).start));
            let inner_col = mapping_key_column(src, &inner);
            if let (Some(o), Some(i)) = (outer_col, inner_col)
                && i > o
            {
                let step = i - o;
                match counts.iter_mut().find(|(s, _)| *s == step) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((step, 1)),
                }
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(2, |(step, _)| step)
}

/// How far the file indents a block sequence below its key (`key:\n- a` is 0, `key:\n  - a`
/// is 2): the most common offset wins, 0 if there is none, as `kustomize edit` writes it.
pub(crate) fn sequence_indent(src: &str, scope: Option<&Node>) -> usize {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for entry in scope
        .into_iter()
        .flat_map(|s| s.descendants().filter(|n| n.kind() == K::MAPPING_ENTRY))
    {
        let Some(inner) = child(&entry, K::VALUE).and_then(|v| content_of(&v).node) else {
            continue;
        };
        if inner.kind() != K::SEQUENCE || is_flow_collection(&inner) {
            continue;
        }
        let key_col =
            first_content_token(&entry).and_then(|t| indent_column(src, token_range(&t).start));
        let dash_col =
            first_content_token(&inner).and_then(|t| indent_column(src, token_range(&t).start));
        if let (Some(k), Some(d)) = (key_col, dash_col)
            && d >= k
        {
            match counts.iter_mut().find(|(offset, _)| *offset == d - k) {
                Some((_, n)) => *n += 1,
                None => counts.push((d - k, 1)),
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(offset, _)| offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_helpers() {
        let src = "a: 1\r\nb: 2\nc";
        assert_eq!(line_start(src, 8), 6);
        assert_eq!(line_end(src, 6), 10);
        assert_eq!(line_end(src, 11), 12);
        assert_eq!(eol_at(src, 4), "\r\n");
        assert_eq!(eol_at(src, 10), "\n");
        assert_eq!(eol_at(src, 12), "\r\n");
        assert_eq!(file_eol("x"), "\n");
        assert_eq!(indent_column("  - a: 1", 4), Some(4));
        assert_eq!(indent_column("\u{FEFF}a: 1", 3), Some(0));
        assert_eq!(indent_column("x: y", 3), None);
    }

    #[test]
    fn indent_step_prefers_the_most_common_nesting() {
        let src = "a:\n    b:\n        c: 1\n    d:\n        e: 1\nf:\n  g: 1\n";
        let cst = Cst::parse(src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(indent_step(src, cst.docs.first()), 4);
        assert_eq!(indent_step("", None), 2);
    }

    #[test]
    fn sequence_indent_follows_the_file() {
        for (src, want) in [
            ("a:\n- x\nb:\n- y\n", 0),
            ("a:\n  - x\nb:\n  - y\nc:\n- z\n", 2),
            ("a: [x]\n", 0),
            ("top:\n  inner:\n    - x\n", 2),
        ] {
            let cst = Cst::parse(src).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(sequence_indent(src, cst.docs.first()), want, "{src:?}");
        }
    }
}
