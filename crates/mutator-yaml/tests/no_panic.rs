//! The bounded, always-run stand-in for the libFuzzer target in `fuzz/` (which needs nightly):
//! arbitrary strings and byte-level mutations of realistic YAML go through every public
//! function. Nothing may panic, and every `Ok` edit must parse and read back what was set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mutator_yaml::{
    ContainerImage, DocSelector, ImageReference, KeyPath, KustomizeImage, get_container_image,
    get_kustomize_image, get_scalar_in, set_container_image, set_kustomize_image, set_scalar_full,
    set_scalar_in, value_span_in,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde::Deserialize;

/// Small files in the shapes the editor meets: Helm values, kustomizations, workloads,
/// multi-document files, flow collections, anchors, block scalars, CRLF, a byte order mark.
const TEMPLATES: &[&str] = &[
    "image:\n  repository: nginx # c\n  tag: \"1.2.3\"\nreplicas: 1\n",
    "images:\n- name: app\n  newTag: v1\n  digest: sha256:aa\n- name: b\n  newName: x/b\nresources:\n  - a.yaml\n",
    "kind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: host:5000/a/b:1@sha256:aa\n      initContainers: [{name: init, image: 'busybox'}]\n",
    "a: &x {b: 1}\nc: *x\nd: [1, {e: f}]\n---\ng: |\n  text\nh: ~\n",
    "images: []\r\nx: {y: 1}\r\nlist:\r\n- 1\r\n- two\r\n",
    "\u{feff}# only a comment\n",
    "kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: app\n            image: app\n",
    "--- \nk: 'it''s'\n...\n---\nimages:\n",
];

const PATHS: &[&str] = &[
    "image.tag",
    "images",
    "app",
    "doc[1].g",
    "doc[1].images",
    "spec.template.spec.containers[0].image",
    "a.b",
    "x.z.w",
    "list[1]",
    "k",
    "new.key",
    "h.i",
];

const VALUES: &[&str] = &[
    "v2", "1.10", "", "~", "yes", "a: b", "- x", "#", "x\ny", "'", "\"", "{a}", "é", "\t", "0x1",
];

/// Characters that matter to YAML's structure, used to mutate the templates.
const NOISE: &[char] = &[
    ' ', '\n', '\r', '\t', ':', '-', '#', '&', '*', '!', '|', '>', '[', ']', '{', '}', ',', '\'',
    '"', '?', '%', '@', '`', '~', 'a', '0', '\u{feff}', 'é',
];

#[derive(Clone, Debug)]
enum Mutation {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
}

fn mutated() -> impl Strategy<Value = String> {
    let mutation = prop_oneof![
        (any::<usize>(), select(NOISE)).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), select(NOISE)).prop_map(|(i, c)| Mutation::Replace(i, c)),
    ];
    (select(TEMPLATES), prop::collection::vec(mutation, 0..6)).prop_map(|(t, ms)| {
        let mut chars: Vec<char> = t.chars().collect();
        for m in ms {
            let n = chars.len().max(1);
            match m {
                Mutation::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
                Mutation::Delete(i) if !chars.is_empty() => {
                    chars.remove(i % n);
                }
                Mutation::Replace(i, c) if !chars.is_empty() => chars[i % n] = c,
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

fn parses(text: &str) -> bool {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    yaml_serde::Deserializer::from_str(text).all(|d| yaml_serde::Value::deserialize(d).is_ok())
}

fn exercise(yaml: &str, path_text: &str, value: &str) {
    let (selector, path) = DocSelector::split_path(path_text).unwrap_or_else(|_| {
        (
            DocSelector::default(),
            "image.tag".parse::<KeyPath>().unwrap(),
        )
    });
    let _ = get_scalar_in(yaml, &selector, &path);
    let _ = value_span_in(yaml, &selector, &path);
    let quick = set_scalar_in(yaml, &selector, &path, value);
    let full = set_scalar_full(yaml, &selector, &path, value);
    // The quick path may only take cases the full path also accepts, with the same bytes.
    if let Ok(out) = &quick {
        assert_eq!(full.as_ref().ok(), Some(out), "quick vs full on:\n{yaml}");
    }
    if let Ok(out) = quick {
        assert!(parses(&out), "set_scalar output does not parse:\n{out}");
        let read = get_scalar_in(&out, &selector, &path);
        assert_eq!(read.ok().flatten().as_deref(), Some(value), "{out}");
    }
    let change = KustomizeImage {
        new_tag: Some(value.to_owned()),
        ..Default::default()
    };
    let _ = get_kustomize_image(yaml, path_text);
    if let Ok(out) = set_kustomize_image(yaml, path_text, &change) {
        assert!(
            parses(&out),
            "set_kustomize_image output does not parse:\n{out}"
        );
        let state = get_kustomize_image(&out, path_text).ok().flatten();
        assert_eq!(
            state.and_then(|s| s.new_tag).as_deref(),
            Some(value),
            "{out}"
        );
    }
    let image = ContainerImage {
        tag: Some(value.to_owned()),
        ..Default::default()
    };
    let _ = get_container_image(yaml, &selector, path_text);
    if let Ok(out) = set_container_image(yaml, &selector, path_text, &image) {
        assert!(parses(&out));
        let read = get_container_image(&out, &selector, path_text)
            .ok()
            .flatten();
        let tag = read.and_then(|r| ImageReference::parse(&r).ok()?.tag);
        assert_eq!(tag.as_deref(), Some(value), "{out}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_yaml_never_panics(yaml in mutated(), path in select(PATHS), value in select(VALUES)) {
        exercise(&yaml, path, value);
    }

    #[test]
    fn arbitrary_text_never_panics(
        yaml in "(?s).{0,80}",
        path in "(?s).{0,12}",
        value in "(?s).{0,8}",
    ) {
        exercise(&yaml, &path, &value);
    }
}
