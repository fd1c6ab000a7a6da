//! Arbitrary bytes -> (YAML text, path text, value), split at the first two NUL bytes.
//!
//! None of the public functions may panic on any input, and every `Ok` edit must hold up on
//! its own: the output parses and reads back the value that was set. The guard inside the
//! engine promises exactly that, so a failed assertion here is a guard bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mutator_yaml::{
    ContainerImage, DocSelector, KeyPath, KustomizeImage, get_container_image,
    get_kustomize_image, get_scalar, set_container_image, set_kustomize_image, set_scalar,
    value_span,
};
use serde::Deserialize;

fn parses(text: &str) -> bool {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    yaml_serde::Deserializer::from_str(text).all(|d| yaml_serde::Value::deserialize(d).is_ok())
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let yaml = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let path_text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let value = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (selector, path) = DocSelector::split_path(&path_text)
        .unwrap_or_else(|_| (DocSelector::default(), "image.tag".parse::<KeyPath>().unwrap()));

    let _ = get_scalar(&yaml, &path);
    let _ = value_span(&yaml, &path);
    if let Ok(out) = set_scalar(&yaml, &path, &value) {
        assert!(parses(&out), "set_scalar returned text that does not parse:\n{out}");
        assert_eq!(get_scalar(&out, &path).ok().flatten().as_deref(), Some(value.as_str()));
    }
    if let Ok(out) = mutator_yaml::set_scalar_in(&yaml, &selector, &path, &value) {
        // The quick path may only take what the full path takes, writing the same bytes.
        let full = mutator_yaml::set_scalar_full(&yaml, &selector, &path, &value);
        assert_eq!(full.as_ref().ok(), Some(&out), "quick vs full path");
        assert!(parses(&out));
        let read = mutator_yaml::get_scalar_in(&out, &selector, &path);
        assert_eq!(read.ok().flatten().as_deref(), Some(value.as_str()));
    }

    // The path text doubles as an image name, the value as a tag.
    let change = KustomizeImage {
        new_tag: Some(value.clone()),
        ..Default::default()
    };
    let _ = get_kustomize_image(&yaml, &path_text);
    if let Ok(out) = set_kustomize_image(&yaml, &path_text, &change) {
        assert!(parses(&out), "set_kustomize_image returned text that does not parse:\n{out}");
        let state = get_kustomize_image(&out, &path_text).ok().flatten();
        assert_eq!(state.and_then(|s| s.new_tag).as_deref(), Some(value.as_str()));
    }

    let image = ContainerImage {
        tag: Some(value.clone()),
        ..Default::default()
    };
    let _ = get_container_image(&yaml, &selector, &path_text);
    if let Ok(out) = set_container_image(&yaml, &selector, &path_text, &image) {
        assert!(parses(&out));
        let read = get_container_image(&out, &selector, &path_text).ok().flatten();
        let tag = read.and_then(|r| mutator_yaml::ImageReference::parse(&r).ok()?.tag);
        assert_eq!(tag.as_deref(), Some(value.as_str()));
    }
});
