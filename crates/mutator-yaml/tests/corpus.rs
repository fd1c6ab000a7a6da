//! Edits every image field listed in `../shared/corpus/image-fields.tsv` (real Helm values and
//! Kubernetes manifests written by others) and checks each result independently of the engine:
//! it parses, it means the original with only the target changed, the bytes changed only inside
//! the target scalar, and an inserted sibling key is exactly one new line.
//!
//! The corpus lives outside the repository and is never copied into it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use mutator_yaml::{
    DocSelector, KeyPath, Segment, get_scalar_in, set_scalar_full, set_scalar_in, value_span_in,
};
use serde::Deserialize;
use yaml_serde::Value;

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.join("image-fields.tsv").is_file().then_some(dir)
}

fn documents(src: &str) -> Result<Vec<Value>, String> {
    // yaml_serde counts a byte order mark as a column; it is not content.
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    let mut out = Vec::new();
    for de in yaml_serde::Deserializer::from_str(src) {
        out.push(Value::deserialize(de).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The slot at `path`, creating missing keys (a null document becomes a mapping).
fn slot<'a>(mut v: &'a mut Value, path: &KeyPath) -> &'a mut Value {
    for seg in path.segments() {
        if v.is_null() && matches!(seg, Segment::Key(_)) {
            *v = Value::Mapping(Default::default());
        }
        v = match (seg, v) {
            (Segment::Key(k), Value::Mapping(m)) => {
                m.entry(Value::String(k.clone())).or_insert(Value::Null)
            }
            (Segment::Index(i), Value::Sequence(s)) => &mut s[*i],
            (seg, other) => panic!("path step {seg:?} does not fit {other:?}"),
        };
    }
    v
}

fn common_prefix_suffix(a: &[u8], b: &[u8]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

/// Semantic check: `edited` parses and equals `original` with `path` set to `value`.
fn check_meaning(
    original: &[Value],
    edited: &str,
    doc: usize,
    path: &KeyPath,
    value: &str,
) -> Result<(), String> {
    let mut expected = original.to_vec();
    *slot(&mut expected[doc], path) = Value::String(value.to_owned());
    let actual = documents(edited).map_err(|e| format!("edited file does not parse: {e}"))?;
    if actual != expected {
        return Err("edited file means something else than the intended change".into());
    }
    Ok(())
}

/// The original file, parsed once per row.
struct Original<'a> {
    src: &'a str,
    docs: Vec<Value>,
    sel: DocSelector,
    doc: usize,
    /// Byte span of the target scalar, as the engine reports it.
    span: std::ops::Range<usize>,
}

fn check_set(o: &Original<'_>, path: &KeyPath, value: &str) -> Result<(), String> {
    let (src, sel, span) = (o.src, &o.sel, o.span.clone());
    // The reported span must really hold the old value, so the window check below means something.
    // (An empty span reads as null, like the empty value it stands for.)
    let old: Value = yaml_serde::from_str(&src[span.clone()]).map_err(|e| e.to_string())?;
    let semantic_old = slot(&mut o.docs[o.doc].clone(), path).clone();
    if old != semantic_old {
        return Err(format!(
            "span {span:?} holds {old:?}, the file has {semantic_old:?} there"
        ));
    }
    let out = set_scalar_in(src, sel, path, value).map_err(|e| format!("set refused: {e}"))?;
    // The quick path (one-line block values) must write the very bytes the full path writes.
    let full = set_scalar_full(src, sel, path, value).map_err(|e| format!("full path: {e}"))?;
    if out != full {
        return Err("the quick path and the full path wrote different bytes".into());
    }
    check_meaning(&o.docs, &out, o.doc, path, value)?;
    // Byte check 1: the differing window lies inside the original scalar's span. (A zero-width
    // span is an insertion point where the window can slide over the next space; check 2 covers it.)
    let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
    if !span.is_empty() && (prefix < span.start || src.len() - suffix > span.end) {
        return Err(format!(
            "bytes changed outside the scalar: window {}..{} vs span {span:?}",
            prefix,
            src.len() - suffix
        ));
    }
    // Byte check 2: outside the span everything is identical, and what replaced the span is a
    // scalar that reads as the new value on its own.
    let head = &src[..span.start];
    let tail = &src[span.end..];
    if !out.starts_with(head) || !out.ends_with(tail) || out.len() < head.len() + tail.len() {
        return Err("text around the scalar changed".into());
    }
    let replacement = &out[head.len()..out.len() - tail.len()];
    let read: Value =
        yaml_serde::from_str(replacement).map_err(|e| format!("{replacement:?}: {e}"))?;
    if read != Value::String(value.to_owned()) || replacement.contains(['\n', '\r']) {
        return Err(format!(
            "the new scalar {replacement:?} does not read as {value:?}"
        ));
    }
    Ok(())
}

fn check_insert(o: &Original<'_>, target: &KeyPath, value: &str) -> Result<(), String> {
    let (src, sel) = (o.src, &o.sel);
    let parent = target.parent().ok_or("target has no parent")?;
    let mut parent_value = o.docs[o.doc].clone();
    let parent_map = slot(&mut parent_value, &parent)
        .as_mapping()
        .cloned()
        .ok_or("parent is not a mapping")?;
    let name = ["digest", "mutatorTestDigest"]
        .into_iter()
        .find(|n| !parent_map.contains_key(*n))
        .ok_or("no free sibling name")?;
    let path = parent.child(Segment::Key(name.into()));
    let out = set_scalar_in(src, sel, &path, value).map_err(|e| format!("insert refused: {e}"))?;
    check_meaning(&o.docs, &out, o.doc, &path, value)?;
    let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
    if prefix + suffix != src.len() {
        return Err("insert also changed existing bytes".into());
    }
    let line = format!("{name}: {value}");
    let old_lines: Vec<&str> = src.split('\n').collect();
    let new_lines: Vec<&str> = out.split('\n').collect();
    if new_lines.len() == old_lines.len() {
        // A flow mapping gets `, key: value` on the same line instead.
        let changed: Vec<(&&str, &&str)> = old_lines
            .iter()
            .zip(&new_lines)
            .filter(|(a, b)| a != b)
            .collect();
        return match changed.as_slice() {
            [(old, new)] if old.contains('{') && new.contains(&format!(", {line}")) => Ok(()),
            _ => Err(format!(
                "expected one new line or one flow entry, changed lines: {changed:?}"
            )),
        };
    }
    if new_lines.len() != old_lines.len() + 1 {
        return Err(format!(
            "{} lines inserted",
            new_lines.len() - old_lines.len()
        ));
    }
    let i = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    if new_lines[..i] != old_lines[..i] || new_lines[i + 1..] != old_lines[i..] {
        return Err("more than one line changed".into());
    }
    // The new line is indented like the target key (block sequence dashes count as indent),
    // and ends like the file's lines.
    let line_start = src[..o.span.start].rfind('\n').map_or(0, |i| i + 1);
    let indent = src[line_start..]
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'-')
        .count();
    let crlf = src.contains("\r\n");
    let expected = format!(
        "{}{line}{}",
        " ".repeat(indent),
        if crlf { "\r" } else { "" }
    );
    if new_lines[i] != expected {
        return Err(format!(
            "inserted {:?}, expected {expected:?}",
            new_lines[i]
        ));
    }
    Ok(())
}

fn expected_reading(tsv_value: &str) -> Option<String> {
    match tsv_value {
        "null" => None,
        "\"\"" => Some(String::new()),
        v => Some(v.to_owned()),
    }
}

#[test]
fn image_fields_of_the_real_corpus() {
    let Some(dir) = corpus_dir() else {
        let wanted = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "corpus test cannot run in CI: ../shared/corpus not found at {}",
                wanted.display()
            );
        }
        eprintln!(
            "corpus test SKIPPED: ../shared/corpus not found at {}",
            wanted.display()
        );
        return;
    };
    let tsv = std::fs::read_to_string(dir.join("image-fields.tsv")).unwrap();
    let (mut rows, mut multi_doc, mut passed) = (0, 0, 0);
    let mut failures = Vec::new();
    for (n, line) in tsv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        rows += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "line {}: {line:?}", n + 1);
        let (file, path_text, tsv_value) = (cols[0], cols[1], cols[2]);
        let (sel, path) = DocSelector::split_path(path_text).unwrap();
        let DocSelector::Index(doc) = sel else {
            unreachable!()
        };
        if path_text.starts_with("doc[") {
            multi_doc += 1;
        }
        let src = std::fs::read_to_string(dir.join(file)).unwrap();
        let original = Original {
            src: &src,
            docs: documents(&src).unwrap(),
            span: match value_span_in(&src, &sel, &path) {
                Ok(Some(span)) => span,
                other => {
                    failures.push(format!("{file} {path_text}: no span: {other:?}"));
                    continue;
                }
            },
            sel: sel.clone(),
            doc,
        };
        let mut problems = Vec::new();
        match get_scalar_in(&src, &sel, &path) {
            Ok(v) if v == expected_reading(tsv_value) => {}
            other => problems.push(format!("get gave {other:?}, corpus says {tsv_value}")),
        }
        for value in ["9.9.9-rc1", "1.10"] {
            if let Err(e) = check_set(&original, &path, value) {
                problems.push(format!("set {value:?}: {e}"));
            }
        }
        if let Err(e) = check_insert(&original, &path, "sha256:0123abcd") {
            problems.push(format!("insert sibling: {e}"));
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{file} {path_text}: {}", problems.join("; ")));
        }
    }
    println!(
        "corpus summary: {rows} rows ({multi_doc} in multi-document files via doc[N]), {passed} passed all checks \
         (get, set x2, sibling insert), {} failed",
        failures.len()
    );
    assert!(
        rows >= 50,
        "expected the corpus to list at least 50 image fields, found {rows}"
    );
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

/// Scalar leaves (one-line values only) with string keys, in document order.
fn leaves(v: &Value, path: Option<KeyPath>, out: &mut Vec<KeyPath>) {
    let push = |seg: Segment| match &path {
        Some(p) => p.child(seg),
        None => KeyPath::from_segments(vec![seg]).unwrap(),
    };
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                if let Value::String(k) = k {
                    leaves(child, Some(push(Segment::Key(k.clone()))), out);
                }
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                leaves(child, Some(push(Segment::Index(i))), out);
            }
        }
        Value::String(s) if s.contains('\n') => {}
        Value::Tagged(_) => {}
        _ => {
            if let Some(p) = path {
                out.push(p);
            }
        }
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Beyond the listed image fields: in every corpus file, set a few evenly spread scalars and add
/// a new top-level key. Refusals are allowed only for the documented reasons (aliases/anchors,
/// block scalars, tags); anything else, or any check failure, fails the test.
#[test]
fn sample_scalars_in_every_corpus_file() {
    let Some(dir) = corpus_dir() else {
        let wanted = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "corpus test cannot run in CI: ../shared/corpus not found at {}",
                wanted.display()
            );
        }
        eprintln!(
            "corpus test SKIPPED: ../shared/corpus not found at {}",
            wanted.display()
        );
        return;
    };
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    files.sort();
    let (mut edits, mut inserts, mut refused) = (0, 0, Vec::new());
    let mut failures = Vec::new();
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(&dir).unwrap().display().to_string();
        let docs = documents(&src).unwrap();
        let mut targets = Vec::new();
        for (d, doc) in docs.iter().enumerate() {
            let mut found = Vec::new();
            leaves(doc, None, &mut found);
            targets.extend(found.into_iter().map(|p| (d, p)));
        }
        // Big files (the CRDs) get one sample: parsing them is slow in a debug build.
        let samples = if src.len() > 300_000 { 1 } else { 4 };
        let picks: Vec<&(usize, KeyPath)> = (0..samples.min(targets.len()))
            .map(|i| &targets[i * targets.len() / samples.min(targets.len())])
            .collect();
        for (d, path) in picks {
            let sel = DocSelector::Index(*d);
            let span = match value_span_in(&src, &sel, path) {
                Ok(Some(span)) => span,
                Ok(None) => {
                    failures.push(format!("{name} doc[{d}].{path}: no span"));
                    continue;
                }
                Err(e) => {
                    refused.push(format!("{name} doc[{d}].{path}: {e}"));
                    continue;
                }
            };
            let original = Original {
                src: &src,
                docs: docs.clone(),
                sel,
                doc: *d,
                span,
            };
            match check_set(&original, path, "9.9.9-rc1") {
                Ok(()) => edits += 1,
                Err(e) if e.starts_with("set refused") && !e.contains("safety check") => {
                    refused.push(format!("{name} doc[{d}].{path}: {e}"));
                }
                Err(e) => failures.push(format!("{name} doc[{d}].{path}: {e}")),
            }
        }
        // Three documents per file are enough; each insert re-parses the whole file.
        for (d, doc) in docs.iter().enumerate().take(3) {
            if !doc.is_mapping() && !doc.is_null() {
                continue;
            }
            let path: KeyPath = "mutatorProbe".parse().unwrap();
            match set_scalar_in(&src, &DocSelector::Index(d), &path, "9.9.9-rc1") {
                Ok(out) => {
                    let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
                    let inserted = out.len() - src.len();
                    if prefix + suffix != src.len()
                        || out[prefix..prefix + inserted].matches('\n').count() != 1
                    {
                        failures.push(format!(
                            "{name} doc[{d}]: top-level insert is not one new line"
                        ));
                    } else if let Err(e) = check_meaning(&docs, &out, d, &path, "9.9.9-rc1") {
                        failures.push(format!("{name} doc[{d}]: top-level insert: {e}"));
                    } else {
                        inserts += 1;
                    }
                }
                Err(e) => failures.push(format!("{name} doc[{d}]: top-level insert refused: {e}")),
            }
        }
    }
    println!(
        "corpus sweep: {} files, {edits} scalar edits and {inserts} top-level inserts passed, {} refused, {} failed",
        files.len(),
        refused.len(),
        failures.len()
    );
    for r in &refused {
        println!("  refused: {r}");
    }
    assert!(
        files.len() >= 50,
        "expected the corpus to hold at least 50 YAML files"
    );
    let allowed = [
        "alias",
        "anchored",
        "merge key",
        "block scalar",
        "explicit tag",
    ];
    let unexpected: Vec<&String> = refused
        .iter()
        .filter(|r| !allowed.iter().any(|a| r.contains(a)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "refused for an undocumented reason:\n{unexpected:#?}"
    );
    assert!(
        failures.is_empty(),
        "corpus sweep failures:\n{}",
        failures.join("\n")
    );
}
