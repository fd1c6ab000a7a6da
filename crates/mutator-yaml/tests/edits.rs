//! Behaviour of `set_scalar` / `get_scalar` on small hand-written files, each asserting the
//! exact output bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mutator_yaml::{
    DocSelector, EditError, KeyPath, get_scalar, get_scalar_in, set_scalar, set_scalar_in,
    value_span,
};

fn p(s: &str) -> KeyPath {
    s.parse().unwrap()
}

#[track_caller]
fn set(src: &str, path: &str, value: &str) -> String {
    match set_scalar(src, &p(path), value) {
        Ok(out) => out,
        Err(e) => panic!("set {path} = {value:?} failed: {e}\n--- input ---\n{src}"),
    }
}

#[track_caller]
fn set_err(src: &str, path: &str, value: &str) -> EditError {
    match set_scalar(src, &p(path), value) {
        Ok(out) => panic!("set {path} = {value:?} should fail, got:\n{out}"),
        Err(e) => e,
    }
}

#[track_caller]
fn get(src: &str, path: &str) -> Option<String> {
    get_scalar(src, &p(path)).unwrap_or_else(|e| panic!("get {path}: {e}"))
}

const VALUES: &str = "\
# Default values for app.
replicaCount: 1

image:
  repository: nginx # upstream
  pullPolicy: IfNotPresent
  tag: \"1.2.3\"  # {\"$imagepolicy\": \"flux-system:app:tag\"}

sidecar:
  image: { repository: busybox, tag: '1.36' }
";

#[test]
fn set_in_nested_mapping_changes_only_the_scalar() {
    let out = set(VALUES, "image.pullPolicy", "Always");
    assert_eq!(
        out,
        VALUES.replace("pullPolicy: IfNotPresent", "pullPolicy: Always")
    );
}

#[test]
fn keeps_double_quotes_and_the_trailing_comment() {
    let out = set(VALUES, "image.tag", "1.4.2");
    assert_eq!(
        out,
        VALUES.replace("tag: \"1.2.3\"  #", "tag: \"1.4.2\"  #")
    );
}

#[test]
fn keeps_single_quotes_inside_a_flow_mapping() {
    let out = set(VALUES, "sidecar.image.tag", "1.37");
    assert_eq!(out, VALUES.replace("tag: '1.36' }", "tag: '1.37' }"));
    // Single quotes survive values that need quoting, with '' escaping.
    let out = set(VALUES, "sidecar.image.tag", "it's");
    assert_eq!(out, VALUES.replace("tag: '1.36' }", "tag: 'it''s' }"));
}

#[test]
fn keeps_plain_style_and_comment_after_a_plain_value() {
    let out = set(VALUES, "image.repository", "ghcr.io/org/nginx");
    assert_eq!(
        out,
        VALUES.replace(
            "repository: nginx # upstream",
            "repository: ghcr.io/org/nginx # upstream"
        )
    );
}

#[test]
fn quotes_values_that_would_change_type() {
    let src = "a:\n  tag: v1 # c\n";
    for value in [
        "1.10",
        "true",
        "null",
        "010",
        "0x1F",
        "1e3",
        "~",
        "",
        "no",
        "on",
        "12:30",
        "2024-01-02",
        ".inf",
    ] {
        let out = set(src, "a.tag", value);
        let expected = format!("a:\n  tag: \"{value}\" # c\n");
        assert_eq!(out, expected, "value {value:?}");
        assert_eq!(get(&out, "a.tag").as_deref(), Some(value));
    }
    // A single-quoted scalar keeps its quote character.
    assert_eq!(set("tag: 'v1'\n", "tag", "1.10"), "tag: '1.10'\n");
    // Structure characters force quotes, control characters are escaped.
    assert_eq!(set("tag: v1\n", "tag", "a: b"), "tag: \"a: b\"\n");
    assert_eq!(set("tag: v1\n", "tag", "x #y"), "tag: \"x #y\"\n");
    assert_eq!(set("tag: v1\n", "tag", "- a"), "tag: \"- a\"\n");
    assert_eq!(
        set("tag: v1\n", "tag", "a\tb\u{1}"),
        "tag: \"a\\tb\\x01\"\n"
    );
    assert_eq!(set("tag: 'v1'\n", "tag", "l1\nl2"), "tag: \"l1\\nl2\"\n");
    // A plain value that is safe stays plain, even replacing a number.
    assert_eq!(set("tag: 0.1\n", "tag", "9.9.9-rc1"), "tag: 9.9.9-rc1\n");
}

#[test]
fn unchanged_value_returns_input_byte_identical() {
    let src = "tag: v1.10 # c\nname: 'x'\nplain: 1.4.2\n";
    assert_eq!(set(src, "tag", "v1.10"), src);
    assert_eq!(set(src, "name", "x"), src);
    assert_eq!(set(src, "plain", "1.4.2"), src);
    assert_eq!(set(VALUES, "image.tag", "1.2.3"), VALUES);
}

#[test]
fn same_text_but_another_type_is_quoted_not_skipped() {
    // get_scalar reads these as written, but YAML (and Helm) read a float and a bool.
    let src = "tag: 1.10 # float\nflag: true\n";
    assert_eq!(get(src, "tag").as_deref(), Some("1.10"));
    assert_eq!(
        set(src, "tag", "1.10"),
        "tag: \"1.10\" # float\nflag: true\n"
    );
    assert_eq!(
        set(src, "flag", "true"),
        "tag: 1.10 # float\nflag: \"true\"\n"
    );
}

#[test]
fn inserts_missing_key_with_sibling_indentation() {
    let out = set(VALUES, "image.digest", "sha256:abc");
    assert_eq!(
        out,
        VALUES.replace(
            "flux-system:app:tag\"}\n",
            "flux-system:app:tag\"}\n  digest: sha256:abc\n"
        )
    );
    let four = "image:\n    repository: nginx\n    tag: v1\nother: 1\n";
    assert_eq!(
        set(four, "image.digest", "1.10"),
        "image:\n    repository: nginx\n    tag: v1\n    digest: \"1.10\"\nother: 1\n"
    );
}

#[test]
fn inserts_missing_parents_with_the_files_indent_step() {
    let two = "app:\n  name: x\n";
    assert_eq!(
        set(two, "app.image.tag", "v2"),
        "app:\n  name: x\n  image:\n    tag: v2\n"
    );
    let four = "app:\n    name: x\n    deep:\n        a: 1\n";
    assert_eq!(
        set(four, "app.image.tag", "v2"),
        "app:\n    name: x\n    deep:\n        a: 1\n    image:\n        tag: v2\n"
    );
    assert_eq!(
        set(two, "new.image.tag", "v2"),
        "app:\n  name: x\nnew:\n  image:\n    tag: v2\n"
    );
}

#[test]
fn inserts_into_flow_mappings() {
    let src = "image: { repository: x, tag: '1' }\n";
    assert_eq!(
        set(src, "image.digest", "sha256:1"),
        "image: { repository: x, tag: '1', digest: \"sha256:1\" }\n"
    );
    assert_eq!(set("image: {}\n", "image.tag", "v1"), "image: {tag: v1}\n");
    assert_eq!(
        set("image: {a: 1}\n", "image.b.c", "v1"),
        "image: {a: 1, b: {c: v1}}\n"
    );
}

#[test]
fn inserts_after_a_block_scalar_and_around_comments_and_blank_lines() {
    let src = "a:\n  script: |\n    echo tag: 1\n\n  # comment about b\nb: 1\n";
    assert_eq!(
        set(src, "a.tag", "v1"),
        "a:\n  script: |\n    echo tag: 1\n  tag: v1\n\n  # comment about b\nb: 1\n"
    );
}

#[test]
fn inserts_into_a_mapping_inside_a_sequence_item() {
    let src = "containers:\n- name: app\n  image: nginx:1.25 # pinned\n";
    assert_eq!(
        set(src, "containers[0].imagePullPolicy", "Always"),
        "containers:\n- name: app\n  image: nginx:1.25 # pinned\n  imagePullPolicy: Always\n"
    );
    assert_eq!(
        set(src, "containers[0].image", "nginx:1.27"),
        "containers:\n- name: app\n  image: nginx:1.27 # pinned\n"
    );
}

#[test]
fn keys_with_dots_and_slashes() {
    let src = "metadata:\n  annotations:\n    argocd.argoproj.io/sync-wave: \"0\"\n";
    let path = r#"metadata.annotations["argocd.argoproj.io/sync-wave"]"#;
    assert_eq!(get(src, path).as_deref(), Some("0"));
    assert_eq!(set(src, path, "1"), src.replace("\"0\"", "\"1\""));
    let out = set(src, r#"metadata.annotations["example.com/tag"]"#, "v1");
    assert_eq!(out, format!("{src}    example.com/tag: v1\n"));
}

#[test]
fn crlf_is_kept_on_set_and_insert() {
    let src = "image:\r\n  repository: nginx\r\n  tag: v1 # c\r\nother: x\r\n";
    assert_eq!(set(src, "image.tag", "v2"), src.replace("v1", "v2"));
    assert_eq!(
        set(src, "image.digest", "d"),
        "image:\r\n  repository: nginx\r\n  tag: v1 # c\r\n  digest: d\r\nother: x\r\n"
    );
    assert_eq!(
        set(src, "new.key", "d"),
        "image:\r\n  repository: nginx\r\n  tag: v1 # c\r\nother: x\r\nnew:\r\n  key: d\r\n"
    );
}

#[test]
fn byte_order_mark_is_kept() {
    let src = "\u{FEFF}image:\n  tag: v1\n";
    assert_eq!(set(src, "image.tag", "v2"), "\u{FEFF}image:\n  tag: v2\n");
    assert_eq!(
        set(src, "image.digest", "d"),
        "\u{FEFF}image:\n  tag: v1\n  digest: d\n"
    );
    assert_eq!(set("\u{FEFF}a: 1\n", "b", "x"), "\u{FEFF}a: 1\nb: x\n");
}

#[test]
fn missing_final_newline_is_kept() {
    let src = "image:\n  tag: v1 # c";
    assert_eq!(set(src, "image.tag", "v2"), "image:\n  tag: v2 # c");
    assert_eq!(
        set(src, "image.digest", "d"),
        "image:\n  tag: v1 # c\n  digest: d"
    );
    assert_eq!(set(src, "top", "d"), "image:\n  tag: v1 # c\ntop: d");
}

#[test]
fn comment_only_and_empty_files_get_the_key_appended() {
    assert_eq!(
        set("# Helm chart values\n", "image.tag", "v1"),
        "# Helm chart values\nimage:\n  tag: v1\n"
    );
    assert_eq!(set("# no newline", "tag", "v1"), "# no newline\ntag: v1");
    assert_eq!(set("", "tag", "1.10"), "tag: \"1.10\"\n");
    assert_eq!(set("---\n", "tag", "v1"), "---\ntag: v1\n");
    assert_eq!(get("# only comments\n", "image.tag"), None);
}

#[test]
fn null_parent_gets_children() {
    let src = "image:\n\nother: 1\n";
    assert_eq!(
        set(src, "image.tag", "v1"),
        "image:\n  tag: v1\n\nother: 1\n"
    );
    let src = "image: # set by CI\nother: 1\n";
    assert_eq!(
        set(src, "image.tag", "v1"),
        "image: # set by CI\n  tag: v1\nother: 1\n"
    );
    let src = "image: ~ # c\nother: 1\n";
    assert_eq!(
        set(src, "image.tag", "v1"),
        "image: # c\n  tag: v1\nother: 1\n"
    );
    let src = "svc:\n    image: null\n";
    assert_eq!(
        set(src, "svc.image.a.b", "v1"),
        "svc:\n    image:\n        a:\n            b: v1\n"
    );
    assert_eq!(
        set("x: {image: ~}\n", "x.image.tag", "v1"),
        "x: {image: {tag: v1}}\n"
    );
}

#[test]
fn null_value_gets_a_value() {
    assert_eq!(set("digest:\nb: 1\n", "digest", "d"), "digest: d\nb: 1\n");
    assert_eq!(
        set("digest:   # c\nb: 1\n", "digest", "d"),
        "digest: d   # c\nb: 1\n"
    );
    assert_eq!(set("digest: ~\n", "digest", "d"), "digest: d\n");
    assert_eq!(
        set("digest: null # c\n", "digest", "1.10"),
        "digest: \"1.10\" # c\n"
    );
    // The space that was there stays; only the new value is inserted after the colon.
    assert_eq!(
        set("a: {digest: , b: 1}\n", "a.digest", "d"),
        "a: {digest: d , b: 1}\n"
    );
}

#[test]
fn get_reads_strings_as_written() {
    let src = "a: 1.10\nb: \"1.4.2\"\nc:\nd: ~\ne: null\nf: ''\ng: true\nh: 010\ni: 'it''s'\nj: \"\\u00e9\\n\"\nk: |\n  x\n";
    assert_eq!(get(src, "a").as_deref(), Some("1.10"));
    assert_eq!(get(src, "b").as_deref(), Some("1.4.2"));
    assert_eq!(get(src, "c"), None);
    assert_eq!(get(src, "d"), None);
    assert_eq!(get(src, "e"), None);
    assert_eq!(get(src, "f").as_deref(), Some(""));
    assert_eq!(get(src, "g").as_deref(), Some("true"));
    assert_eq!(get(src, "h").as_deref(), Some("010"));
    assert_eq!(get(src, "i").as_deref(), Some("it's"));
    assert_eq!(get(src, "j").as_deref(), Some("é\n"));
    assert_eq!(get(src, "k").as_deref(), Some("x\n"));
    assert_eq!(get(src, "missing"), None);
    assert_eq!(get(src, "c.below"), None);
    assert_eq!(get("l: [a]\n", "l[3]"), None);
    assert!(matches!(
        get_scalar("m: {a: 1}\n", &p("m")),
        Err(EditError::NotAScalar { at, .. }) if at == "m"
    ));
}

#[test]
fn path_through_a_sequence() {
    let src = "spec:\n  containers:\n    - name: a\n      image: x:1\n    - name: b\n      image: 'y:1'\n";
    assert_eq!(get(src, "spec.containers[1].image").as_deref(), Some("y:1"));
    assert_eq!(
        set(src, "spec.containers[1].image", "y:2"),
        src.replace("'y:1'", "'y:2'")
    );
    assert_eq!(set("l: [a, \"b\"]\n", "l[1]", "c,d"), "l: [a, \"c,d\"]\n");
    assert_eq!(set("l: [a, b]\n", "l[1]", "c,d"), "l: [a, \"c,d\"]\n");
    assert!(matches!(
        set_err(src, "spec.containers[2].image", "z"),
        EditError::IndexOutOfRange { at, len: 2 } if at == "spec.containers[2]"
    ));
    assert!(matches!(
        set_err(src, "spec.volumes[0].name", "z"),
        EditError::CannotCreate { at } if at == "spec.volumes[0]"
    ));
}

#[test]
fn sequence_where_a_mapping_is_expected_is_refused() {
    let src = "spec:\n  containers:\n    - name: a\n";
    assert!(matches!(
        set_err(src, "spec.containers.name", "z"),
        EditError::NotAMapping { at, .. } if at == "spec.containers"
    ));
    assert!(matches!(
        set_err("image: nginx\n", "image.tag", "z"),
        EditError::NotAMapping { at, .. } if at == "image"
    ));
    assert!(matches!(
        set_err("image: {a: 1}\n", "image[0]", "z"),
        EditError::NotASequence { at, .. } if at == "image"
    ));
    assert!(matches!(
        set_err("image: {a: 1}\n", "image", "z"),
        EditError::NotAScalar { at, .. } if at == "image"
    ));
    assert!(matches!(
        get_scalar("- a\n", &p("a")),
        Err(EditError::NotAMapping { at, .. }) if at == "(document root)"
    ));
}

#[test]
fn aliases_anchors_and_merges_are_refused() {
    let src = "base: &b\n  tag: v1\nprod:\n  <<: *b\n  name: p\ncopy: *b\nsolo: &s x\n";
    assert!(matches!(set_err(src, "base.tag", "v2"), EditError::Alias { at, .. } if at == "base"));
    assert!(matches!(set_err(src, "copy.tag", "v2"), EditError::Alias { at, .. } if at == "copy"));
    assert!(matches!(set_err(src, "copy", "v2"), EditError::Alias { at, .. } if at == "copy"));
    assert!(
        matches!(set_err(src, "prod.tag", "v2"), EditError::Alias { at, .. } if at == "prod.tag")
    );
    assert!(matches!(
        get_scalar(src, &p("prod.tag")),
        Err(EditError::Alias { .. })
    ));
    // A key written next to the merge, and an anchor nobody uses, are fine.
    assert_eq!(
        set(src, "prod.name", "q"),
        src.replace("name: p", "name: q")
    );
    assert_eq!(set(src, "solo", "z"), src.replace("&s x", "&s z"));
    // `y` is a bool in YAML 1.1, so it gets quoted.
    assert_eq!(set(src, "solo", "y"), src.replace("&s x", "&s \"y\""));
    let used = "a: &s x\nb: *s\n";
    assert!(matches!(set_err(used, "a", "y"), EditError::Alias { at, .. } if at == "a"));
}

#[test]
fn invalid_yaml_is_refused() {
    for src in ["a: [1, 2\n", "a: b: c\n", "a: 'x\n", "\ta: 1\n"] {
        assert!(
            matches!(
                set_err(src, "a", "z"),
                EditError::InvalidYaml { .. } | EditError::Unsupported { .. }
            ),
            "{src:?}"
        );
    }
    assert!(matches!(
        set_err("a: [1, 2\n", "a", "z"),
        EditError::InvalidYaml { .. }
    ));
}

#[test]
fn duplicate_key_on_the_path_is_refused() {
    let src = "image:\n  tag: a\nimage:\n  tag: b\n";
    assert!(
        matches!(set_err(src, "image.tag", "c"), EditError::DuplicateKey { at } if at == "image")
    );
    let src = "image:\n  tag: a\n  tag: b\n";
    assert!(
        matches!(set_err(src, "image.tag", "c"), EditError::DuplicateKey { at } if at == "image.tag")
    );
    // Elsewhere in the file, it is still invalid YAML.
    assert!(matches!(
        set_err("x: 1\nx: 2\nimage: a\n", "image", "c"),
        EditError::InvalidYaml { .. }
    ));
}

#[test]
fn block_scalars_and_tags_are_refused() {
    assert!(matches!(set_err("a: |\n  x\n", "a", "y"), EditError::BlockScalar { at } if at == "a"));
    assert!(matches!(
        set_err("a: !!str 010\n", "a", "y"),
        EditError::Unsupported { .. }
    ));
    assert!(matches!(
        set_err("1: x\n", r#"["1"]"#, "y"),
        EditError::Unsupported { .. }
    ));
    // Quoted, the same key is a string and can be edited.
    assert_eq!(set("\"1\": x\n", r#"["1"]"#, "z"), "\"1\": z\n");
}

#[test]
fn multi_document_selection() {
    let src = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n# the deployment\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  image: a:1\n";
    let second = DocSelector::Index(1);
    assert_eq!(
        get_scalar_in(src, &second, &p("spec.image"))
            .unwrap()
            .as_deref(),
        Some("a:1")
    );
    assert_eq!(get(src, "spec.image"), None);
    let out = set_scalar_in(src, &second, &p("spec.image"), "a:2").unwrap();
    assert_eq!(out, src.replace("a:1", "a:2"));
    let by_kind = DocSelector::KindName {
        kind: "Deployment".into(),
        name: "web".into(),
    };
    assert_eq!(
        set_scalar_in(src, &by_kind, &p("spec.image"), "a:2").unwrap(),
        out
    );
    let out = set_scalar_in(src, &second, &p("spec.replicas"), "3").unwrap();
    assert_eq!(out, format!("{src}  replicas: \"3\"\n"));
    assert!(matches!(
        set_scalar_in(src, &DocSelector::Index(2), &p("a"), "x"),
        Err(EditError::DocumentNotFound { count: 2, .. })
    ));
    let missing = DocSelector::KindName {
        kind: "Job".into(),
        name: "web".into(),
    };
    assert!(matches!(
        set_scalar_in(src, &missing, &p("a"), "x"),
        Err(EditError::DocumentNotFound { .. })
    ));
    let twice = format!("{src}---\nkind: Deployment\nmetadata:\n  name: web\n");
    assert!(matches!(
        set_scalar_in(&twice, &by_kind, &p("a"), "x"),
        Err(EditError::AmbiguousDocument { matches: 2, .. })
    ));
}

#[test]
fn value_span_points_at_the_scalar() {
    let src = "a: \"x\" # c\nb:\nc: [1, 2]\n";
    assert_eq!(value_span(src, &p("a")).unwrap(), Some(3..6));
    assert_eq!(value_span(src, &p("b")).unwrap(), Some(13..13));
    assert_eq!(value_span(src, &p("c[1]")).unwrap(), Some(21..22));
    assert_eq!(value_span(src, &p("d")).unwrap(), None);
}

#[test]
fn error_messages_say_what_to_change() {
    let e = set_err("image: nginx\n", "image.tag", "v1");
    assert_eq!(
        e.to_string(),
        "`image` is the scalar nginx, not a mapping, so the path cannot continue below it; check the path"
    );
    let e = set_err("l: [a]\n", "l[4]", "v1");
    assert_eq!(
        e.to_string(),
        "`l[4]` is out of range: the sequence has 1 item(s); indexes start at 0"
    );
}

#[test]
fn more_layouts() {
    // Root sequence.
    assert_eq!(set("- a: 1\n- a: 2\n", "[1].a", "x"), "- a: 1\n- a: x\n");
    assert_eq!(set("- a: 1\n", "[0].b", "x"), "- a: 1\n  b: x\n");
    // Quoted keys match by value.
    assert_eq!(
        set("\"image\":\n  'tag': v1\n", "image.tag", "v2"),
        "\"image\":\n  'tag': v2\n"
    );
    // Multi-line flow mapping.
    assert_eq!(
        set("a: {\n  x: 1, # c\n  y: 2\n}\n", "a.z", "3"),
        "a: {\n  x: 1, # c\n  y: 2, z: \"3\"\n}\n"
    );
    // Document end marker, and a following document.
    assert_eq!(set("a: 1\n...\n", "b", "x"), "a: 1\nb: x\n...\n");
    assert_eq!(
        set("a: 1\n---\nb: 2\n", "c", "x"),
        "a: 1\nc: x\n---\nb: 2\n"
    );
    // CRLF comment-only file.
    assert_eq!(set("# c\r\n", "k", "v"), "# c\r\nk: v\r\n");
    // Trailing whitespace after a value stays.
    assert_eq!(set("a: 1   \nb: 2\n", "a", "x"), "a: x   \nb: 2\n");
    // Explicit key syntax.
    assert_eq!(set("? a\n: 1\n", "a", "x"), "? a\n: x\n");
    // Non-indented sequence as the last value before an insert.
    assert_eq!(
        set("m:\n  l:\n  - 1\n  - 2\nz: 1\n", "m.k", "v"),
        "m:\n  l:\n  - 1\n  - 2\n  k: v\nz: 1\n"
    );
    // Windows file without final newline, insert at the end.
    assert_eq!(
        set("a:\r\n  b: 1", "a.c", "2.0"),
        "a:\r\n  b: 1\r\n  c: \"2.0\""
    );
}
