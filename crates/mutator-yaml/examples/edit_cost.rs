//! Runs one operation of the edit benchmark many times, for counting its instructions under
//! `valgrind --tool=callgrind`, which does not move with the load of a shared machine the way
//! wall-clock time does. Usage (see BENCHMARKS.md):
//!
//! `edit_cost <generated|kube-prometheus-stack> <none|serde-parse|edit-parse|set|set-full> <N>`
//!
//! `none` reads the file and stops: subtracting its count leaves the operation's own cost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

#[path = "../benches/support/files.rs"]
mod files;

use mutator_yaml::{DocSelector, KeyPath, set_scalar, set_scalar_full};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, op, n] = args.as_slice() else {
        eprintln!("usage: edit_cost <generated|kube-prometheus-stack> <op> <N>");
        std::process::exit(2);
    };
    let (src, path, value) = match file.as_str() {
        "generated" => (
            files::generated_values(100),
            "component98.image.tag",
            "2.0.0",
        ),
        "kube-prometheus-stack" => (
            files::corpus_values().expect("the shared corpus is absent"),
            "thanosRuler.thanosRulerSpec.image.tag",
            "v9.9.9",
        ),
        other => panic!("unknown file {other}"),
    };
    let path: KeyPath = path.parse().unwrap();
    let n: usize = n.parse().unwrap();
    for _ in 0..n {
        match op.as_str() {
            "none" => {}
            "serde-parse" => {
                let v: yaml_serde::Value = yaml_serde::from_str(black_box(&src)).unwrap();
                black_box(v);
            }
            "edit-parse" => {
                black_box(yaml_edit::YamlFile::parse(black_box(&src)));
            }
            "set" => {
                black_box(set_scalar(black_box(&src), &path, value).unwrap());
            }
            "set-full" => {
                black_box(
                    set_scalar_full(black_box(&src), &DocSelector::Index(0), &path, value).unwrap(),
                );
            }
            other => panic!("unknown operation {other}"),
        }
    }
}
