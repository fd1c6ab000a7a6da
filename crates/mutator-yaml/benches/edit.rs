//! Cost of one surgical edit next to the cost of parsing the same file once with each parser.
//!
//! The target: setting one scalar in a large values file costs no more than one parse.
//! The main file is generated (deterministic, ~3,000 lines) so the bench runs without the
//! corpus; when the shared corpus is present, kube-prometheus-stack's values.yaml (~6,000 real
//! lines) is measured too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/files.rs"]
mod files;
use files::{corpus_values, generated_values};
use mutator_yaml::{DocSelector, KeyPath, get_scalar, set_scalar, set_scalar_full};

fn bench_file(c: &mut Criterion, name: &str, src: &str, path: &str, value: &str) {
    let path: KeyPath = path.parse().unwrap();
    // Sanity: the edit really happens, so the bench measures an edit and not the no-op path.
    let out = set_scalar(src, &path, value).unwrap();
    assert_ne!(out, src);
    assert_eq!(
        out,
        set_scalar_full(src, &DocSelector::Index(0), &path, value).unwrap()
    );
    let mut group = c.benchmark_group(name);
    group.bench_function("yaml_serde_parse", |b| {
        b.iter(|| {
            let v: yaml_serde::Value = yaml_serde::from_str(black_box(src)).unwrap();
            black_box(v)
        })
    });
    group.bench_function("yaml_edit_parse", |b| {
        b.iter(|| black_box(yaml_edit::YamlFile::parse(black_box(src))))
    });
    group.bench_function("get_scalar", |b| {
        b.iter(|| black_box(get_scalar(black_box(src), &path).unwrap()))
    });
    group.bench_function("set_scalar", |b| {
        b.iter(|| black_box(set_scalar(black_box(src), &path, value).unwrap()))
    });
    // The same edit without the quick path: both parsers and the whole-file guard.
    group.bench_function("set_scalar_full", |b| {
        b.iter(|| {
            black_box(
                set_scalar_full(black_box(src), &DocSelector::Index(0), &path, value).unwrap(),
            )
        })
    });
    group.finish();
}

fn edit(c: &mut Criterion) {
    let src = generated_values(100);
    assert!(src.lines().count() >= 3000, "{} lines", src.lines().count());
    // A key near the end: the locate walk and the splice cover the whole file.
    bench_file(
        c,
        "generated_3000_lines",
        &src,
        "component98.image.tag",
        "2.0.0",
    );
    match corpus_values() {
        Some(real) => bench_file(
            c,
            "kube_prometheus_stack_values",
            &real,
            "thanosRuler.thanosRulerSpec.image.tag",
            "v9.9.9",
        ),
        None => eprintln!("corpus file absent: kube-prometheus-stack values.yaml bench SKIPPED"),
    }
}

criterion_group! {
    name = benches;
    // Small samples: two cores are shared with other builds, and the differences measured
    // are large multiples, not a few percent.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = edit
}
criterion_main!(benches);
