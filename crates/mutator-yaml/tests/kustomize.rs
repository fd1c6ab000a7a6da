//! `set_kustomize_image` / `get_kustomize_image` on hand-written kustomizations (exact output
//! bytes) and on every `images:` entry of the real kustomization files in
//! `../shared/corpus/kustomize/` (never copied into the repository).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use mutator_yaml::{
    EditError, KeyPath, KustomizeImage, KustomizeImageState, get_kustomize_image,
    set_kustomize_image, value_span,
};
use serde::Deserialize;
use yaml_serde::{Mapping, Value};

fn tag(t: &str) -> KustomizeImage {
    KustomizeImage {
        new_tag: Some(t.into()),
        ..Default::default()
    }
}

#[track_caller]
fn set(src: &str, name: &str, change: &KustomizeImage) -> String {
    let out = set_kustomize_image(src, name, change)
        .unwrap_or_else(|e| panic!("set {name}: {e}\n--- input ---\n{src}"));
    // Every result reads back what was set, and setting it again changes nothing.
    let state = get_kustomize_image(&out, name).unwrap().unwrap();
    for (want, got) in [
        (&change.new_name, &state.new_name),
        (&change.new_tag, &state.new_tag),
        (&change.digest, &state.digest),
    ] {
        if want.is_some() {
            assert_eq!(want, got, "read back after set");
        }
    }
    assert_eq!(set_kustomize_image(&out, name, change).unwrap(), out);
    out
}

const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
- name: quay.io/argoproj/argocd
  newName: quay.io/argoproj/argocd
  newTag: v3.5.1 # pinned
- name: redis
  newName: public.ecr.aws/docker/library/redis
resources:
- ./base
";

#[test]
fn sets_an_existing_tag_in_place() {
    let out = set(KUSTOMIZATION, "quay.io/argoproj/argocd", &tag("v3.6.0"));
    assert_eq!(
        out,
        KUSTOMIZATION.replace("v3.5.1 # pinned", "v3.6.0 # pinned")
    );
    // A tag that YAML would read as a number is quoted.
    let out = set(KUSTOMIZATION, "quay.io/argoproj/argocd", &tag("0.10"));
    assert_eq!(
        out,
        KUSTOMIZATION.replace("v3.5.1 # pinned", "\"0.10\" # pinned")
    );
}

#[test]
fn adds_a_missing_field_to_the_entry() {
    let out = set(KUSTOMIZATION, "redis", &tag("8.2.3-alpine"));
    assert_eq!(
        out,
        KUSTOMIZATION.replace("library/redis\n", "library/redis\n  newTag: 8.2.3-alpine\n")
    );
    let all = KustomizeImage {
        new_name: Some("mirror.local:5000/redis".into()),
        new_tag: Some("8".into()),
        digest: Some("sha256:abc".into()),
    };
    let out = set(KUSTOMIZATION, "redis", &all);
    assert_eq!(
        out,
        KUSTOMIZATION.replace(
            "  newName: public.ecr.aws/docker/library/redis\n",
            "  newName: mirror.local:5000/redis\n  newTag: \"8\"\n  digest: sha256:abc\n"
        )
    );
}

#[test]
fn appends_an_entry_laid_out_like_the_others() {
    let out = set(KUSTOMIZATION, "nginx", &tag("1.27"));
    assert_eq!(
        out,
        KUSTOMIZATION.replace(
            "library/redis\nresources:",
            "library/redis\n- name: nginx\n  newTag: \"1.27\"\nresources:"
        )
    );
    let indented = "images:\n  - name: a\n    newTag: v1\n\n# trailing comment\n";
    assert_eq!(
        set(indented, "b", &tag("v2")),
        "images:\n  - name: a\n    newTag: v1\n  - name: b\n    newTag: v2\n\n# trailing comment\n"
    );
    let wide = "images:\n-   name: a\n    newTag: v1\n";
    assert_eq!(
        set(wide, "b", &tag("v2")),
        "images:\n-   name: a\n    newTag: v1\n-   name: b\n    newTag: v2\n"
    );
    // CRLF and a missing final newline are kept.
    let crlf = "images:\r\n- name: a\r\n  newTag: v1";
    assert_eq!(
        set(crlf, "b", &tag("v2")),
        "images:\r\n- name: a\r\n  newTag: v1\r\n- name: b\r\n  newTag: v2"
    );
}

#[test]
fn creates_the_images_list() {
    // Missing: a new top-level key, sequences indented as the file indents them.
    let src = "resources:\n  - a.yaml\n";
    assert_eq!(
        set(src, "app", &tag("v1")),
        "resources:\n  - a.yaml\nimages:\n  - name: app\n    newTag: v1\n"
    );
    let src = "resources:\n- a.yaml\n";
    assert_eq!(
        set(src, "app", &tag("v1")),
        "resources:\n- a.yaml\nimages:\n- name: app\n  newTag: v1\n"
    );
    // Empty flow list, non-empty flow list, null value.
    assert_eq!(
        set("images: []\n", "app", &tag("v1")),
        "images: [{name: app, newTag: v1}]\n"
    );
    assert_eq!(
        set("images: [{name: a}]\n", "app", &tag("v1")),
        "images: [{name: a}, {name: app, newTag: v1}]\n"
    );
    assert_eq!(
        set("images:\nresources: []\n", "app", &tag("v1")),
        "images:\n- name: app\n  newTag: v1\nresources: []\n"
    );
    assert_eq!(
        set("images: ~ # none yet\n", "app", &tag("v1")),
        "images: # none yet\n- name: app\n  newTag: v1\n"
    );
    assert_eq!(
        set("", "app", &tag("v1")),
        "images:\n- name: app\n  newTag: v1\n"
    );
}

#[test]
fn a_new_tag_drops_a_stale_digest() {
    let src = "images:\n- name: app\n  newTag: v1\n  digest: sha256:aaa # old\n- name: b\n";
    assert_eq!(
        set(src, "app", &tag("v2")),
        "images:\n- name: app\n  newTag: v2\n- name: b\n"
    );
    // With the digest given, it is kept up to date instead.
    let both = KustomizeImage {
        new_tag: Some("v2".into()),
        digest: Some("sha256:bbb".into()),
        ..Default::default()
    };
    assert_eq!(
        set(src, "app", &both),
        "images:\n- name: app\n  newTag: v2\n  digest: sha256:bbb # old\n- name: b\n"
    );
    // The digest on the dash line: the next key moves up.
    let first = "images:\n  - digest: sha256:aaa\n    name: app\n";
    assert_eq!(
        set(first, "app", &tag("v2")),
        "images:\n  - name: app\n    newTag: v2\n"
    );
    // Flow entry.
    assert_eq!(
        set(
            "images: [{name: app, digest: 'sha256:a', newTag: v1}]\n",
            "app",
            &tag("v2")
        ),
        "images: [{name: app, newTag: v2}]\n"
    );
    // The digest on the last line, without a final newline; and with CRLF.
    assert_eq!(
        set(
            "images:\n- name: app\n  digest: sha256:a",
            "app",
            &tag("v2")
        ),
        "images:\n- name: app\n  newTag: v2"
    );
    assert_eq!(
        set(
            "images:\r\n- name: app\r\n  digest: sha256:a\r\n  newName: x\r\n",
            "app",
            &tag("v2")
        ),
        "images:\r\n- name: app\r\n  newName: x\r\n  newTag: v2\r\n"
    );
    // Only the digest: the tag stays.
    let digest = KustomizeImage {
        digest: Some("sha256:ccc".into()),
        ..Default::default()
    };
    assert_eq!(
        set(src, "app", &digest),
        "images:\n- name: app\n  newTag: v1\n  digest: sha256:ccc # old\n- name: b\n"
    );
}

#[test]
fn get_reads_the_entry() {
    assert_eq!(
        get_kustomize_image(KUSTOMIZATION, "quay.io/argoproj/argocd").unwrap(),
        Some(KustomizeImageState {
            new_name: Some("quay.io/argoproj/argocd".into()),
            new_tag: Some("v3.5.1".into()),
            digest: None,
        })
    );
    assert_eq!(get_kustomize_image(KUSTOMIZATION, "nope").unwrap(), None);
    assert_eq!(get_kustomize_image("kind: K\n", "x").unwrap(), None);
    // Plain numbers read as written; a trailing space after a plain name is not part of it.
    let src = "images:\n- name: app \n  newTag: 1.10\n";
    assert_eq!(
        get_kustomize_image(src, "app")
            .unwrap()
            .unwrap()
            .new_tag
            .as_deref(),
        Some("1.10")
    );
}

#[test]
fn refusals() {
    let twice = "images:\n- name: a\n- name: a\n";
    assert!(matches!(
        set_kustomize_image(twice, "a", &tag("v1")),
        Err(EditError::AmbiguousName { count: 2, .. })
    ));
    assert!(matches!(
        set_kustomize_image("images: {a: 1}\n", "a", &tag("v1")),
        Err(EditError::NotASequence { .. })
    ));
    assert!(matches!(
        set_kustomize_image("images: [a\n", "a", &tag("v1")),
        Err(EditError::InvalidYaml { .. })
    ));
    // The digest shares its line with the dash and a comment sits before the next key, which
    // would have to move up past it: no clean cut.
    let only = "images:\n- digest: sha256:a\n  # why\n  name: app\n";
    let err = set_kustomize_image(only, "app", &tag("v2")).unwrap_err();
    assert!(err.to_string().contains("removing"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The real corpus.

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/kustomize");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "kustomize corpus test cannot run in CI: {} not found",
            dir.display()
        );
    }
    eprintln!("kustomize corpus test SKIPPED: {} not found", dir.display());
    None
}

fn document(src: &str) -> Value {
    let de = yaml_serde::Deserializer::from_str(src.strip_prefix('\u{FEFF}').unwrap_or(src));
    let docs: Vec<Value> = de.map(|d| Value::deserialize(d).unwrap()).collect();
    assert_eq!(docs.len(), 1, "a kustomization is one document");
    docs.into_iter().next().unwrap()
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

fn field(path: &str) -> KeyPath {
    path.parse().unwrap()
}

/// Checks one `images[i]` entry: set newTag, compare meaning and bytes, read back.
fn check_entry(src: &str, doc: &Value, i: usize, entry: &Value) -> Result<(), String> {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .ok_or("entry without a string name")?;
    let before = get_kustomize_image(src, name)
        .map_err(|e| format!("get: {e}"))?
        .ok_or("get found nothing")?;
    let str_field = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_owned);
    if before.new_name != str_field("newName")
        || before.new_tag != str_field("newTag")
        || before.digest != str_field("digest")
    {
        return Err(format!("get gave {before:?}, the file has {entry:?}"));
    }
    let new_tag = "9.9.9-rc1";
    let out = set_kustomize_image(src, name, &tag(new_tag)).map_err(|e| format!("set: {e}"))?;
    // Meaning: only newTag changed (and a stale digest went, by the documented rule).
    let mut expected = doc.clone();
    let item = expected["images"][i]
        .as_mapping_mut()
        .ok_or("item not a mapping")?;
    let had_digest = item.shift_remove("digest").is_some();
    item.insert(
        Value::String("newTag".into()),
        Value::String(new_tag.into()),
    );
    let actual = document(&out);
    if actual != expected {
        return Err(format!("result means something else:\n{out}"));
    }
    // Bytes: with a newTag already there, only its scalar changed; otherwise one line was
    // added (and with a digest, its line removed), all inside the entry.
    let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
    let window = prefix..src.len() - suffix;
    if before.new_tag.is_some() && !had_digest {
        let span = value_span(src, &field(&format!("images[{i}].newTag")))
            .map_err(|e| e.to_string())?
            .ok_or("no span")?;
        if window.start < span.start || window.end > span.end {
            return Err(format!(
                "bytes changed outside newTag: {window:?} vs {span:?}"
            ));
        }
    } else {
        let first = value_span(src, &field(&format!("images[{i}].name")))
            .map_err(|e| e.to_string())?
            .ok_or("no name span")?;
        let last = ["name", "newName", "newTag", "digest", "tagSuffix"]
            .iter()
            .filter_map(|k| {
                value_span(src, &field(&format!("images[{i}].{k}")))
                    .ok()
                    .flatten()
            })
            .map(|s| s.end)
            .max()
            .ok_or("no field spans")?;
        let entry_start = src[..first.start].rfind('\n').map_or(0, |p| p + 1);
        let entry_end = src[last..].find('\n').map_or(src.len(), |p| last + p + 1);
        if window.start < entry_start || window.end > entry_end {
            return Err(format!(
                "bytes changed outside the entry: {window:?} vs {entry_start}..{entry_end}"
            ));
        }
        let added = out.lines().count() as isize - src.lines().count() as isize;
        let want = if had_digest { 0 } else { 1 };
        if added != want {
            return Err(format!("{added} lines added, expected {want}"));
        }
    }
    let after = get_kustomize_image(&out, name).map_err(|e| e.to_string())?;
    let want = KustomizeImageState {
        new_tag: Some(new_tag.into()),
        digest: None,
        ..before
    };
    if after != Some(want.clone()) {
        return Err(format!("read back {after:?}, expected {want:?}"));
    }
    Ok(())
}

/// A new entry for a name the file does not have: a pure insertion that means "append this item".
fn check_new_entry(src: &str, doc: &Value) -> Result<(), String> {
    let name = "example.com/mutator/probe";
    let change = KustomizeImage {
        new_name: Some("registry.local:5000/probe".into()),
        new_tag: Some("1.0".into()),
        digest: None,
    };
    let out = set_kustomize_image(src, name, &change).map_err(|e| format!("append: {e}"))?;
    let mut expected = doc.clone();
    let mut item = Mapping::new();
    for (k, v) in [
        ("name", name),
        ("newName", "registry.local:5000/probe"),
        ("newTag", "1.0"),
    ] {
        item.insert(Value::String(k.into()), Value::String(v.into()));
    }
    // An empty file (there is one in the corpus) becomes a mapping holding `images`.
    if expected.is_null() {
        expected = Value::Mapping(Mapping::new());
    }
    let root = expected.as_mapping_mut().ok_or("root is not a mapping")?;
    match root.get_mut("images") {
        Some(Value::Sequence(items)) => items.push(Value::Mapping(item)),
        _ => {
            root.insert(
                Value::String("images".into()),
                Value::Sequence(vec![Value::Mapping(item)]),
            );
        }
    }
    if document(&out) != expected {
        return Err(format!("append means something else:\n{out}"));
    }
    let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
    if prefix + suffix != src.len() {
        return Err("append changed existing bytes".into());
    }
    let state = get_kustomize_image(&out, name).map_err(|e| e.to_string())?;
    if state.as_ref().and_then(|s| s.new_tag.as_deref()) != Some("1.0") {
        return Err(format!("read back {state:?}"));
    }
    Ok(())
}

#[test]
fn every_image_entry_of_the_real_kustomizations() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut entries, mut appends, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let doc = document(&src);
        if let Some(Value::Sequence(items)) = doc.get("images") {
            for (i, entry) in items.iter().enumerate() {
                entries += 1;
                if let Err(e) = check_entry(&src, &doc, i, entry) {
                    failures.push(format!("{name} images[{i}]: {e}"));
                }
            }
        }
        match check_new_entry(&src, &doc) {
            Ok(()) => appends += 1,
            Err(e) => failures.push(format!("{name} new entry: {e}")),
        }
    }
    println!(
        "kustomize corpus: {} files, {entries} image entries set, {appends} new entries added, {} failed",
        files.len(),
        failures.len()
    );
    assert!(
        files.len() >= 10,
        "expected at least 10 kustomization files"
    );
    assert!(
        entries >= 30,
        "expected at least 30 image entries, found {entries}"
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}
