//! `set_container_image` / `get_container_image` on hand-written manifests (exact output bytes)
//! and on the real Kubernetes manifests of `../shared/corpus/` (never copied into the
//! repository): every `image-fields.tsv` row that is a container image, and every container of
//! every supported workload in `k8s-manifests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use mutator_yaml::{
    ContainerImage, DocSelector, EditError, ImageReference, KeyPath, Segment, get_container_image,
    set_container_image, value_span_in,
};
use serde::Deserialize;
use yaml_serde::Value;

fn tag(t: &str) -> ContainerImage {
    ContainerImage {
        tag: Some(t.into()),
        ..Default::default()
    }
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox:1.36@sha256:aaaa # pinned
      containers:
        - name: app
          image: \"localhost:5000/team/app:1.0\"
        - name: sidecar
          image: envoyproxy/envoy
";

#[track_caller]
fn set(src: &str, doc: &DocSelector, container: &str, change: &ContainerImage) -> String {
    set_container_image(src, doc, container, change)
        .unwrap_or_else(|e| panic!("set {container}: {e}\n--- input ---\n{src}"))
}

#[test]
fn sets_the_tag_without_confusing_a_registry_port() {
    let first = DocSelector::default();
    let out = set(DEPLOYMENT, &first, "app", &tag("1.1"));
    assert_eq!(out, DEPLOYMENT.replace("team/app:1.0\"", "team/app:1.1\""));
    assert_eq!(
        get_container_image(&out, &first, "app").unwrap().as_deref(),
        Some("localhost:5000/team/app:1.1")
    );
    // No tag yet: one is added.
    let out = set(DEPLOYMENT, &first, "sidecar", &tag("v1.31.0"));
    assert_eq!(
        out,
        DEPLOYMENT.replace("envoyproxy/envoy\n", "envoyproxy/envoy:v1.31.0\n")
    );
    // The same value again: byte-identical input.
    let again = set(&out, &first, "sidecar", &tag("v1.31.0"));
    assert_eq!(again, out);
}

#[test]
fn digest_rule_on_an_init_container() {
    let first = DocSelector::default();
    // A new tag alone drops the stale digest; the trailing comment stays.
    assert_eq!(
        set(DEPLOYMENT, &first, "init", &tag("1.37")),
        DEPLOYMENT.replace("busybox:1.36@sha256:aaaa #", "busybox:1.37 #")
    );
    let both = ContainerImage {
        tag: Some("1.37".into()),
        digest: Some("sha256:bbbb".into()),
        ..Default::default()
    };
    assert_eq!(
        set(DEPLOYMENT, &first, "init", &both),
        DEPLOYMENT.replace("busybox:1.36@sha256:aaaa", "busybox:1.37@sha256:bbbb")
    );
    let repo = ContainerImage {
        repository: Some("mirror.gcr.io/library/busybox".into()),
        ..Default::default()
    };
    assert_eq!(
        set(DEPLOYMENT, &first, "init", &repo),
        DEPLOYMENT.replace("busybox:1.36@", "mirror.gcr.io/library/busybox:1.36@")
    );
}

#[test]
fn each_kind_finds_its_pod_spec() {
    let cron = "kind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: job\n            image: busybox:1.28\n";
    let sel = DocSelector::KindName {
        kind: "CronJob".into(),
        name: "c".into(),
    };
    assert_eq!(
        set(cron, &sel, "job", &tag("1.36")),
        cron.replace("busybox:1.28", "busybox:1.36")
    );
    let pod = "kind: Pod\nspec:\n  containers: [{name: a, image: 'nginx:1'}]\n";
    assert_eq!(
        set(pod, &DocSelector::default(), "a", &tag("2")),
        "kind: Pod\nspec:\n  containers: [{name: a, image: 'nginx:2'}]\n"
    );
    let multi = format!("kind: Service\nmetadata: {{name: s}}\n---\n{DEPLOYMENT}");
    let out = set(&multi, &DocSelector::Index(1), "app", &tag("2.0"));
    assert_eq!(out, multi.replace("team/app:1.0", "team/app:2.0"));
    // A container without an image gets one when a repository is given.
    let bare = "kind: Job\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n";
    let full = ContainerImage {
        repository: Some("ghcr.io/x/a".into()),
        tag: Some("1".into()),
        digest: None,
    };
    assert_eq!(
        set(bare, &DocSelector::default(), "a", &full),
        format!("{bare}        image: ghcr.io/x/a:1\n")
    );
}

#[test]
fn errors_name_what_is_there() {
    let first = DocSelector::default();
    let err = set_container_image(DEPLOYMENT, &first, "ap", &tag("1")).unwrap_err();
    assert!(matches!(err, EditError::NameNotFound { .. }));
    let text = err.to_string();
    assert!(
        text.contains("app, sidecar, init") || text.contains("init"),
        "{text}"
    );
    assert!(text.contains("\"ap\""), "{text}");
    let twice = DEPLOYMENT.replace("name: sidecar", "name: app");
    assert!(matches!(
        set_container_image(&twice, &first, "app", &tag("1")),
        Err(EditError::AmbiguousName { count: 2, .. })
    ));
    let service = "kind: Service\nspec: {}\n";
    let err = set_container_image(service, &first, "app", &tag("1")).unwrap_err();
    assert!(err.to_string().contains("Deployment"), "{err}");
    for bad in [
        tag("1:2"),
        tag(""),
        ContainerImage {
            digest: Some("nope".into()),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            set_container_image(DEPLOYMENT, &first, "app", &bad),
            Err(EditError::InvalidImageReference { .. })
        ));
    }
    let templated = DEPLOYMENT.replace("envoyproxy/envoy", "\"{{ .Values.image }}\"");
    assert!(matches!(
        set_container_image(&templated, &first, "sidecar", &tag("1")),
        Err(EditError::InvalidImageReference { .. })
    ));
    let bare = "kind: Pod\nspec:\n  containers:\n  - name: a\n";
    assert!(matches!(
        set_container_image(bare, &first, "a", &tag("1")),
        Err(EditError::InvalidImageReference { .. })
    ));
    assert_eq!(get_container_image(bare, &first, "a").unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// The real corpus.

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.join("image-fields.tsv").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "manifest corpus test cannot run in CI: {} not found",
            dir.display()
        );
    }
    eprintln!("manifest corpus test SKIPPED: {} not found", dir.display());
    None
}

fn documents(src: &str) -> Vec<Value> {
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    yaml_serde::Deserializer::from_str(src)
        .map(|d| Value::deserialize(d).unwrap())
        .collect()
}

fn slot<'a>(mut v: &'a mut Value, path: &KeyPath) -> &'a mut Value {
    for seg in path.segments() {
        v = match (seg, v) {
            (Segment::Key(k), Value::Mapping(m)) => m.get_mut(k.as_str()).unwrap(),
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

/// The document selector a caller would use: kind + name when that is unique, else the index.
fn selector(docs: &[Value], index: usize) -> DocSelector {
    let id = |v: &Value| {
        (
            v.get("kind").and_then(Value::as_str).map(str::to_owned),
            v.get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    };
    match id(&docs[index]) {
        (Some(kind), Some(name))
            if docs
                .iter()
                .filter(|d| id(d) == (Some(kind.clone()), Some(name.clone())))
                .count()
                == 1 =>
        {
            DocSelector::KindName { kind, name }
        }
        _ => DocSelector::Index(index),
    }
}

/// Sets a new tag (and, with `with_digest`, in a second edit tag + digest) on one container and
/// checks the result independently: meaning, bytes confined to the image scalar, read-back.
fn check_container(
    src: &str,
    docs: &[Value],
    index: usize,
    image_path: &KeyPath,
    with_digest: bool,
) -> Result<(), String> {
    let mut image_value = docs[index].clone();
    let container = slot(&mut image_value, &image_path.parent().unwrap())
        .get("name")
        .and_then(Value::as_str)
        .ok_or("container without a name")?
        .to_owned();
    let old = slot(&mut docs[index].clone(), image_path)
        .as_str()
        .ok_or("image is not a string")?
        .to_owned();
    let sel = selector(docs, index);
    let got = get_container_image(src, &sel, &container).map_err(|e| format!("get: {e}"))?;
    if got.as_deref() != Some(old.as_str()) {
        return Err(format!("get gave {got:?}, the file has {old:?}"));
    }
    let reference = ImageReference::parse(&old).map_err(|e| e.to_string())?;
    let span = value_span_in(src, &DocSelector::Index(index), image_path)
        .map_err(|e| e.to_string())?
        .ok_or("no span")?;
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    for (change, expected) in [
        (
            tag("9.9.9-rc1"),
            format!("{}:9.9.9-rc1", reference.repository),
        ),
        (
            ContainerImage {
                tag: Some("1.10".into()),
                digest: Some(digest.into()),
                ..Default::default()
            },
            format!("{}:1.10@{digest}", reference.repository),
        ),
    ]
    .into_iter()
    .take(if with_digest { 2 } else { 1 })
    {
        let out = set_container_image(src, &sel, &container, &change)
            .map_err(|e| format!("set {change:?}: {e}"))?;
        let mut want = docs.to_vec();
        *slot(&mut want[index], image_path) = Value::String(expected.clone());
        if documents(&out) != want {
            return Err(format!("setting {expected} means something else"));
        }
        let (prefix, suffix) = common_prefix_suffix(src.as_bytes(), out.as_bytes());
        if prefix < span.start || src.len() - suffix > span.end {
            return Err(format!(
                "bytes changed outside the image scalar: {prefix}..{} vs {span:?}",
                src.len() - suffix
            ));
        }
        let read = get_container_image(&out, &sel, &container).map_err(|e| e.to_string())?;
        if read.as_deref() != Some(expected.as_str()) {
            return Err(format!("read back {read:?} instead of {expected}"));
        }
    }
    Ok(())
}

#[test]
fn image_field_rows_that_are_containers() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let tsv = std::fs::read_to_string(dir.join("image-fields.tsv")).unwrap();
    let (mut rows, mut failures) = (0, Vec::new());
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, path_text) = (cols[0], cols[1]);
        let is_container = path_text.ends_with(".image")
            && (path_text.contains(".containers[") || path_text.contains(".initContainers["));
        if !is_container {
            continue;
        }
        rows += 1;
        let (sel, path) = DocSelector::split_path(path_text).unwrap();
        let DocSelector::Index(index) = sel else {
            unreachable!()
        };
        let src = std::fs::read_to_string(dir.join(file)).unwrap();
        let docs = documents(&src);
        if let Err(e) = check_container(&src, &docs, index, &path, true) {
            failures.push(format!("{file} {path_text}: {e}"));
        }
    }
    println!(
        "container image rows: {rows} checked, {} failed",
        failures.len()
    );
    assert!(
        rows >= 15,
        "expected at least 15 container image rows, found {rows}"
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

#[test]
fn every_container_of_every_corpus_workload() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("k8s-manifests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // Containers listed in image-fields.tsv are checked (more thoroughly) by the test above;
    // the sweep covers the rest, so the debug-build suite does not parse big files twice.
    let tsv = std::fs::read_to_string(dir.join("image-fields.tsv")).unwrap();
    let listed: std::collections::HashSet<(String, String)> = tsv
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let file = cols.next()?.strip_prefix("k8s-manifests/")?;
            let path = cols.next()?;
            let path = if path.starts_with("doc[") {
                path.to_owned()
            } else {
                format!("doc[0].{path}")
            };
            Some((file.to_owned(), path))
        })
        .collect();
    let (mut containers, mut skipped, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let docs = documents(&src);
        for (index, doc) in docs.iter().enumerate() {
            let spec: &[&str] = match doc.get("kind").and_then(Value::as_str) {
                Some("Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job") => {
                    &["spec", "template", "spec"]
                }
                Some("CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
                Some("Pod") => &["spec"],
                _ => continue,
            };
            for list in ["containers", "initContainers"] {
                let mut keys: Vec<Segment> =
                    spec.iter().map(|k| Segment::Key((*k).into())).collect();
                keys.push(Segment::Key(list.into()));
                let list_path = KeyPath::from_segments(keys).unwrap();
                let Some(Value::Sequence(items)) = spec
                    .iter()
                    .try_fold(doc, |v, k| v.get(*k))
                    .and_then(|s| s.get(list))
                else {
                    continue;
                };
                for i in 0..items.len() {
                    let path = list_path
                        .child(Segment::Index(i))
                        .child(Segment::Key("image".into()));
                    if listed.contains(&(name.clone(), format!("doc[{index}].{path}"))) {
                        skipped += 1;
                        continue;
                    }
                    containers += 1;
                    if let Err(e) = check_container(&src, &docs, index, &path, false) {
                        failures.push(format!("{name} doc[{index}].{path}: {e}"));
                    }
                }
            }
        }
    }
    println!(
        "corpus workloads: {} files, {containers} more containers given a new tag \
         ({skipped} listed in image-fields.tsv left to the row test), {} failed",
        files.len(),
        failures.len()
    );
    assert!(
        containers + skipped >= 40,
        "expected at least 40 containers, found {}",
        containers + skipped
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}
