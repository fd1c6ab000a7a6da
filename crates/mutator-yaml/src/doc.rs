//! Picking one document of a (possibly multi-document) file, in both views of it: the syntax
//! tree the editor splices and the values yaml_serde reads.

use std::fmt;

use yaml_serde::Value;

use crate::cst::{Cst, Node};
use crate::error::EditError;
use crate::locate::{self, Located};
use crate::path::{KeyPath, PathError};
use crate::semantic;

/// Which document of a file to read or edit. The plain `get_scalar`/`set_scalar` use the first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DocSelector {
    /// Zero-based position among the documents a YAML parser yields.
    Index(usize),
    /// The only document whose `kind` and `metadata.name` are these strings.
    KindName {
        /// e.g. `Deployment`
        kind: String,
        /// `metadata.name`
        name: String,
    },
}

impl Default for DocSelector {
    fn default() -> Self {
        DocSelector::Index(0)
    }
}

impl fmt::Display for DocSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocSelector::Index(i) => write!(f, "doc[{i}]"),
            DocSelector::KindName { kind, name } => {
                write!(f, "kind={kind:?},metadata.name={name:?}")
            }
        }
    }
}

impl DocSelector {
    /// Splits the `doc[N].` prefix used for multi-document paths (`doc[3].spec.replicas`);
    /// without the prefix the first document is meant. A top-level key literally named `doc`
    /// that holds a sequence must be written `["doc"]` to avoid the prefix reading.
    pub fn split_path(text: &str) -> Result<(DocSelector, KeyPath), PathError> {
        let Some(rest) = text.strip_prefix("doc[") else {
            return Ok((DocSelector::Index(0), text.parse()?));
        };
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (digits, after) = rest.split_at(digits_len);
        let Some(path) = after.strip_prefix("].") else {
            return Ok((DocSelector::Index(0), text.parse()?));
        };
        let index = digits.parse::<usize>().map_err(|_| PathError {
            path: text.to_owned(),
            column: 5,
            reason: "the document index must be a non-negative integer".into(),
        })?;
        let offset = text.len() - path.len();
        let path = path.parse::<KeyPath>().map_err(|e| PathError {
            path: text.to_owned(),
            column: e.column + offset,
            reason: e.reason,
        })?;
        Ok((DocSelector::Index(index), path))
    }
}

/// A parsed file and the document chosen in it.
pub(crate) struct Loaded {
    pub(crate) values: Vec<Value>,
    pub(crate) index: usize,
    pub(crate) doc: Option<Node>,
}

impl Loaded {
    pub(crate) fn value(&self) -> &Value {
        // `index` was checked against `values` when loading.
        self.values.get(self.index).unwrap_or(&Value::Null)
    }

    /// The string at a located target, as `get_scalar` returns it.
    pub(crate) fn read(
        &self,
        path: &KeyPath,
        located: &Located,
    ) -> Result<Option<String>, EditError> {
        let Located::Scalar { scalar, .. } = located else {
            return Ok(None);
        };
        match semantic::get(self.value(), path) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Null) => Ok(None),
            // Numbers and bools are read as written: `1.10` stays "1.10", not "1.1".
            Some(Value::Bool(_) | Value::Number(_)) => {
                Ok(Some(scalar.text().to_string().trim().to_owned()))
            }
            other => Err(EditError::Unsafe {
                reason: format!(
                    "the editing parser and yaml_serde disagree about `{path}` (yaml_serde sees {})",
                    match other {
                        None => "nothing",
                        Some(Value::Mapping(_)) => "a mapping",
                        Some(Value::Sequence(_)) => "a sequence",
                        Some(Value::Tagged(_)) => "a tagged value",
                        Some(_) => "another value",
                    }
                ),
            }),
        }
    }
}

/// Parses `src` twice (syntax tree and values), checks that both agree on the documents, and
/// selects one. `path` is only used to turn a yaml_serde failure into a more precise error.
pub(crate) fn load(src: &str, selector: &DocSelector, path: &KeyPath) -> Result<Loaded, EditError> {
    let cst = match Cst::parse(src) {
        Ok(cst) => cst,
        Err(editor_msg) => {
            return Err(match semantic::parse_documents(src) {
                Err(message) => EditError::InvalidYaml { message },
                Ok(_) => EditError::Unsupported {
                    at: String::new(),
                    what: format!("this file's layout (the editing parser says: {editor_msg})"),
                },
            });
        }
    };
    let values = match semantic::parse_documents(src) {
        Ok(values) => values,
        Err(message) => {
            // A duplicate key on the path is a clearer message than the parser's.
            if let DocSelector::Index(i) = selector
                && let Some(doc) = cst.docs.get(*i)
                && let Err(e @ EditError::DuplicateKey { .. }) = locate::locate(Some(doc), path)
            {
                return Err(e);
            }
            return Err(EditError::InvalidYaml { message });
        }
    };
    let comment_only = cst.docs.is_empty() && values.len() == 1 && values[0].is_null();
    if cst.docs.len() != values.len() && !comment_only {
        return Err(EditError::Unsupported {
            at: String::new(),
            what: format!(
                "this file's document layout (the parsers disagree: {} vs {} documents)",
                cst.docs.len(),
                values.len()
            ),
        });
    }
    let index = match selector {
        DocSelector::Index(i) if *i < values.len() => *i,
        DocSelector::Index(_) => {
            return Err(EditError::DocumentNotFound {
                selector: selector.to_string(),
                count: values.len(),
            });
        }
        DocSelector::KindName { kind, name } => {
            let matches: Vec<usize> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| {
                    v.get("kind").and_then(Value::as_str) == Some(kind.as_str())
                        && v.get("metadata")
                            .and_then(|m| m.get("name"))
                            .and_then(Value::as_str)
                            == Some(name.as_str())
                })
                .map(|(i, _)| i)
                .collect();
            match matches.as_slice() {
                [one] => *one,
                [] => {
                    return Err(EditError::DocumentNotFound {
                        selector: selector.to_string(),
                        count: values.len(),
                    });
                }
                many => {
                    return Err(EditError::AmbiguousDocument {
                        selector: selector.to_string(),
                        matches: many.len(),
                    });
                }
            }
        }
    };
    let doc = cst.docs.get(index).cloned();
    Ok(Loaded { values, index, doc })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn split_path_reads_the_document_prefix() {
        let (sel, path) = DocSelector::split_path("doc[3].spec.containers[0].image").unwrap();
        assert_eq!(sel, DocSelector::Index(3));
        assert_eq!(path.to_string(), "spec.containers[0].image");
        let (sel, path) = DocSelector::split_path("image.tag").unwrap();
        assert_eq!(sel, DocSelector::Index(0));
        assert_eq!(path.to_string(), "image.tag");
        let (sel, path) = DocSelector::split_path("doc[0]").unwrap();
        assert_eq!(
            (sel, path.to_string()),
            (DocSelector::Index(0), "doc[0]".to_string())
        );
        let err = DocSelector::split_path("doc[1].a..b").unwrap_err();
        assert_eq!(err.column, 10);
    }

    #[test]
    fn selector_display() {
        assert_eq!(DocSelector::Index(2).to_string(), "doc[2]");
        let sel = DocSelector::KindName {
            kind: "Deployment".into(),
            name: "web".into(),
        };
        assert_eq!(sel.to_string(), "kind=\"Deployment\",metadata.name=\"web\"");
    }
}
