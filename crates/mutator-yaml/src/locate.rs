//! Walks a `KeyPath` through one document's syntax tree and says what is there: an existing
//! scalar, or the place where the missing part of the path would have to be inserted.
//!
//! All refusals about the shape of the file (aliases, duplicates, wrong node kinds) happen here,
//! before anything is edited.

use std::cell::OnceCell;
use std::collections::HashSet;

use yaml_edit::SyntaxKind as K;

use crate::cst::{self, Content, KeyText, Node};
use crate::error::EditError;
use crate::path::{KeyPath, Segment};

/// Where a new key (and any missing parents) would go.
#[derive(Clone)]
pub(crate) enum InsertPoint {
    /// An existing block mapping: add a line after its last entry.
    BlockMapping(Node),
    /// An existing flow mapping: add `, key: value` after its last entry.
    FlowMapping(Node),
    /// A key whose value is null (`image:` or `image: ~`); it becomes a mapping.
    /// `container` is the VALUE (or SEQUENCE_ENTRY) node, `scalar` the null scalar.
    NullValue { container: Node, scalar: Node },
    /// The document has no content (empty or comment-only file, or a bare `---`).
    EmptyDocument { doc: Option<Node> },
}

#[derive(Clone)]
pub(crate) enum Located {
    /// The path ends at this scalar (possibly a null one). `container` holds it.
    Scalar { scalar: Node, container: Node },
    /// `segments[depth..]` do not exist yet; `point` is where they would be inserted.
    Missing { depth: usize, point: InsertPoint },
    /// The path indexes past the end of a sequence.
    OutOfRange { at: String, len: usize },
    /// The path ends at a mapping or sequence; only [`locate_any`] returns this.
    Collection { node: Node },
}

/// The path text for error messages; the root gets a name since "" says nothing.
pub(crate) fn at(path: &KeyPath, n: usize) -> String {
    if n == 0 {
        "(document root)".into()
    } else {
        path.prefix_string(n)
    }
}

struct Walker<'a> {
    path: &'a KeyPath,
    doc: &'a Node,
    /// Names used by `*alias` in the document; collected only when the path meets an anchor,
    /// since that means walking every token of the document.
    used_aliases: OnceCell<HashSet<String>>,
}

impl Walker<'_> {
    /// Refuses nodes whose edit would also change other places, or that the editor cannot
    /// represent faithfully (tags).
    fn check_node(&self, content: &Content, depth: usize) -> Result<(), EditError> {
        if content.node.as_ref().is_some_and(|n| n.kind() == K::ALIAS) {
            return Err(EditError::Alias {
                at: at(self.path, depth),
                detail: "this is an alias (*name) of another node; edit the anchored original, or replace the alias with its own value".into(),
            });
        }
        if let Some(anchor) = &content.anchor
            && self
                .used_aliases
                .get_or_init(|| cst::alias_names(self.doc))
                .contains(anchor)
        {
            return Err(EditError::Alias {
                at: at(self.path, depth),
                detail: format!(
                    "this node is anchored as &{anchor} and reused as *{anchor}, so an edit would change those places too; replace the aliases with copies first"
                ),
            });
        }
        if let Some(tag) = &content.tag {
            return Err(EditError::Unsupported {
                at: at(self.path, depth),
                what: format!("a node with the explicit tag {tag}"),
            });
        }
        Ok(())
    }

    fn find_key(&self, mapping: &Node, key: &str, depth: usize) -> Result<Option<Node>, EditError> {
        let mut found = None;
        let mut has_merge = false;
        let mut has_opaque = false;
        for entry in cst::entries(mapping, K::MAPPING_ENTRY) {
            match cst::key_text(&entry) {
                KeyText::Scalar { text, plain } if text == key => {
                    if plain && !plain_key_is_string(&text) {
                        return Err(EditError::Unsupported {
                            at: at(self.path, depth + 1),
                            what: format!(
                                "the key {text} is not a string in YAML (quote it in the file)"
                            ),
                        });
                    }
                    if found.is_some() {
                        return Err(EditError::DuplicateKey {
                            at: at(self.path, depth + 1),
                        });
                    }
                    found = Some(entry);
                }
                KeyText::Scalar { .. } => {}
                KeyText::Merge => has_merge = true,
                KeyText::Opaque => has_opaque = true,
            }
        }
        if found.is_none() && has_merge {
            return Err(EditError::Alias {
                at: at(self.path, depth + 1),
                detail: "the key is not written here but the mapping has a `<<` merge key that may supply it; add the key to this mapping by hand first".into(),
            });
        }
        if found.is_none() && has_opaque {
            return Err(EditError::Unsupported {
                at: at(self.path, depth),
                what: "a mapping with alias, tagged or complex keys".into(),
            });
        }
        Ok(found)
    }
}

/// A plain key equal to the wanted text must also be a *string* for the YAML reader, otherwise
/// `1: x` would be matched by `["1"]` while yaml_serde sees the integer 1.
fn plain_key_is_string(text: &str) -> bool {
    matches!(
        yaml_serde::from_str::<yaml_serde::Value>(text),
        Ok(yaml_serde::Value::String(_))
    )
}

/// Locates the scalar at `path` in `doc` (`None` for a file without any document node); a
/// mapping or sequence there is an error.
pub(crate) fn locate(doc: Option<&Node>, path: &KeyPath) -> Result<Located, EditError> {
    walk(doc, path, false)
}

/// Like [`locate`], but a path that ends at a mapping or sequence gives
/// [`Located::Collection`], for edits of the collection itself.
pub(crate) fn locate_any(doc: Option<&Node>, path: &KeyPath) -> Result<Located, EditError> {
    walk(doc, path, true)
}

fn walk(doc: Option<&Node>, path: &KeyPath, want_collection: bool) -> Result<Located, EditError> {
    let Some(doc) = doc else {
        return Ok(Located::Missing {
            depth: 0,
            point: InsertPoint::EmptyDocument { doc: None },
        });
    };
    let walker = Walker {
        path,
        doc,
        used_aliases: OnceCell::new(),
    };
    let mut container = doc.clone();
    let mut content = cst::content_of(doc);
    for (depth, segment) in path.segments().iter().enumerate() {
        walker.check_node(&content, depth)?;
        let node = match &content.node {
            None => {
                return empty_position(&container, depth);
            }
            Some(n) => n.clone(),
        };
        if node.kind() == K::SCALAR && is_null_scalar(&node) {
            if container.kind() == K::DOCUMENT {
                return empty_position(&container, depth);
            }
            return Ok(Located::Missing {
                depth,
                point: InsertPoint::NullValue {
                    container: container.clone(),
                    scalar: node,
                },
            });
        }
        match segment {
            Segment::Key(key) => {
                if node.kind() != K::MAPPING {
                    return Err(EditError::NotAMapping {
                        at: at(path, depth),
                        found: cst::describe(Some(&node)),
                    });
                }
                let Some(entry) = walker.find_key(&node, key, depth)? else {
                    let point = if cst::is_flow_collection(&node) {
                        InsertPoint::FlowMapping(node)
                    } else {
                        InsertPoint::BlockMapping(node)
                    };
                    return Ok(Located::Missing { depth, point });
                };
                let Some(value) = cst::child(&entry, K::VALUE) else {
                    return Err(EditError::Unsupported {
                        at: at(path, depth + 1),
                        what: "a key without a value part".into(),
                    });
                };
                content = cst::content_of(&value);
                container = value;
            }
            Segment::Index(i) => {
                if node.kind() != K::SEQUENCE {
                    return Err(EditError::NotASequence {
                        at: at(path, depth),
                        found: cst::describe(Some(&node)),
                    });
                }
                let items = cst::entries(&node, K::SEQUENCE_ENTRY);
                let Some(item) = items.get(*i) else {
                    return Ok(Located::OutOfRange {
                        at: at(path, depth + 1),
                        len: items.len(),
                    });
                };
                content = cst::content_of(item);
                container = item.clone();
            }
        }
    }
    let depth = path.segments().len();
    walker.check_node(&content, depth)?;
    match content.node {
        Some(scalar) if scalar.kind() == K::SCALAR => Ok(Located::Scalar { scalar, container }),
        Some(node) if want_collection && matches!(node.kind(), K::MAPPING | K::SEQUENCE) => {
            Ok(Located::Collection { node })
        }
        Some(other) => Err(EditError::NotAScalar {
            at: at(path, depth),
            found: cst::describe(Some(&other)),
        }),
        None => Err(EditError::Unsupported {
            at: at(path, depth),
            what: "an entry whose value the editor cannot find".into(),
        }),
    }
}

/// A document (or value) with nothing in it; only the root can be treated as an empty mapping.
fn empty_position(container: &Node, depth: usize) -> Result<Located, EditError> {
    if container.kind() == K::DOCUMENT && depth == 0 {
        let content = cst::content_of(container);
        let explicit_null = content.node.as_ref().is_some_and(|n| !n.text().is_empty());
        if !explicit_null {
            return Ok(Located::Missing {
                depth: 0,
                point: InsertPoint::EmptyDocument {
                    doc: Some(container.clone()),
                },
            });
        }
    }
    Err(EditError::Unsupported {
        at: "(document root)".into(),
        what: "a document that is an explicit null".into(),
    })
}

/// `~`, `null` (any case) or nothing at all; quoted scalars are never null.
pub(crate) fn is_null_scalar(scalar: &Node) -> bool {
    let text = scalar.text().to_string();
    matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
}
