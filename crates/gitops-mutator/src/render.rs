//! `gitops-mutator render`: the offline preview of what a scaffold would write.

use anyhow::{Context, bail};
use mutator_render::{Catalog, RenderTarget};
use serde_json::{Map, Value};

use crate::cli::RenderArgs;

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let values = values_from_sets(&args.set)?;
    let catalog = Catalog::embedded().context("cannot load templates")?;
    let target = RenderTarget {
        repo_url: args.repo_url,
        revision: args.revision,
    };
    let rendered = catalog
        .render(&args.template, &values, &target)
        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    match args.out {
        Some(dir) => {
            for file in &rendered.files {
                let path = dir.join(file.path.as_str());
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, &file.content)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
        None => {
            for file in &rendered.files {
                println!("# --- {}", file.path);
                print!("{}", file.content);
            }
        }
    }
    Ok(())
}

fn describe(e: &mutator_render::RenderError) -> String {
    match e {
        mutator_render::RenderError::InvalidValues(errors) => errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

/// `a.b=1` becomes `{"a": {"b": 1}}`; a value that is not JSON is a string.
fn values_from_sets(sets: &[String]) -> anyhow::Result<Value> {
    let mut root = Map::new();
    for set in sets {
        let Some((key, raw)) = set.split_once('=') else {
            bail!("--set {set:?}: use KEY=VALUE");
        };
        let value = match serde_json::from_str::<Value>(raw) {
            Ok(v @ (Value::Array(_) | Value::Object(_) | Value::Bool(_))) => v,
            _ => Value::String(raw.to_owned()),
        };
        let parts: Vec<&str> = key.split('.').collect();
        let (last, parents) = parts.split_last().context("empty key")?;
        let mut node = &mut root;
        for part in parents {
            let entry = node
                .entry((*part).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            node = match entry {
                Value::Object(map) => map,
                _ => bail!("--set {set:?}: {part} is already a value"),
            };
        }
        node.insert((*last).to_owned(), value);
    }
    Ok(Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nest_and_keep_strings() {
        let v = values_from_sets(&[
            "name=payments".into(),
            "image.tag=1.10".into(),
            "environments=[\"dev\"]".into(),
        ])
        .unwrap();
        assert_eq!(v["name"], "payments");
        assert_eq!(v["image"]["tag"], "1.10");
        assert_eq!(v["environments"][0], "dev");
        assert!(values_from_sets(&["novalue".into()]).is_err());
    }
}
