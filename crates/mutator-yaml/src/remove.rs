//! Plans removing one `key: scalar` entry from a mapping. Used to drop a digest that a new tag
//! makes stale. Only layouts where the removal is a clean cut are handled: a whole line of a
//! block mapping, the first key of a sequence item (the next key moves up onto the dash line),
//! or one entry of a flow mapping. Anything else is refused.

use yaml_edit::SyntaxKind as K;

use crate::cst::{self, Node};
use crate::edit::Splice;
use crate::error::EditError;
use crate::locate::{self, Located};
use crate::path::KeyPath;

pub(crate) fn plan(src: &str, doc: Option<&Node>, path: &KeyPath) -> Result<Splice, EditError> {
    let depth = path.segments().len();
    let refuse = |what: &str| EditError::Unsupported {
        at: locate::at(path, depth),
        what: format!("removing {what}"),
    };
    let (scalar, container) = match locate::locate(doc, path)? {
        Located::Scalar { scalar, container } => (scalar, container),
        _ => return Err(refuse("a key that is not there")),
    };
    if cst::is_block_scalar(&scalar) {
        return Err(refuse("a block scalar"));
    }
    let entry = container
        .parent()
        .filter(|e| container.kind() == K::VALUE && e.kind() == K::MAPPING_ENTRY)
        .ok_or_else(|| refuse("something that is not a mapping entry"))?;
    let mapping = entry
        .parent()
        .ok_or_else(|| refuse("an entry outside a mapping"))?;
    let siblings = cst::entries(&mapping, K::MAPPING_ENTRY);
    let pos = siblings
        .iter()
        .position(|s| *s == entry)
        .ok_or_else(|| refuse("an entry its mapping does not list"))?;
    let start = cst::first_content_token(&entry).map(|t| cst::token_range(&t).start);
    let end = cst::last_content_token(&entry, true).map(|t| cst::token_range(&t).end);
    let (Some(start), Some(end)) = (start, end) else {
        return Err(refuse("an empty entry"));
    };
    if src[start..end].contains(['\n', '\r']) {
        return Err(refuse("an entry that spans lines"));
    }
    let next_start = siblings
        .get(pos + 1)
        .and_then(cst::first_content_token)
        .map(|t| cst::token_range(&t).start);
    if cst::is_flow_collection(&mapping) {
        let range = match (pos, next_start) {
            // `, key: value` after the previous entry's value.
            (1.., _) => {
                let prev_end = cst::last_content_token(&siblings[pos - 1], true)
                    .map(|t| cst::token_range(&t).end)
                    .ok_or_else(|| refuse("an entry after an empty one"))?;
                prev_end..end
            }
            (0, Some(next)) => start..next,
            (0, None) => start..end,
        };
        if src[range.clone()].contains('#') {
            return Err(refuse("an entry next to a comment"));
        }
        return Ok(Splice {
            range,
            text: String::new(),
        });
    }
    if siblings.len() == 1 {
        return Err(refuse("the only key of a mapping (it would become empty)"));
    }
    let line_start = cst::line_start(src, start);
    let line_end = cst::line_end(src, end);
    let rest = src[end..line_end].trim_start_matches([' ', '\t']);
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err(refuse("an entry that shares its line with more content"));
    }
    let before = &src[line_start..start];
    if before.bytes().all(|b| b == b' ') {
        // The whole line goes, with its line break (or the one before it on a last line).
        let after_break = match src.as_bytes().get(line_end) {
            Some(b'\r') if src.as_bytes().get(line_end + 1) == Some(&b'\n') => line_end + 2,
            Some(_) => line_end + 1,
            None => line_end,
        };
        let range = if after_break > line_end {
            line_start..after_break
        } else {
            let prev_break = src[..line_start]
                .strip_suffix('\n')
                .map(|s| s.strip_suffix('\r').unwrap_or(s).len())
                .unwrap_or(line_start);
            prev_break..line_end
        };
        return Ok(Splice {
            range,
            text: String::new(),
        });
    }
    // `- digest: x` followed by `  name: y`: the next key moves up onto the dash line, which
    // only works when nothing but layout lies between them.
    let dash_line = before.trim_end_matches(' ').trim_start_matches(' ') == "-";
    match next_start {
        Some(next)
            if dash_line && pos == 0 && src[end..next].bytes().all(|b| b.is_ascii_whitespace()) =>
        {
            Ok(Splice {
                range: start..next,
                text: String::new(),
            })
        }
        _ => Err(refuse("an entry in this layout")),
    }
}
