//! Reads the `skeleton/` tree: one folder per kind, holding `kind.yaml` and the templates.
//!
//! A template's place in its folder is its place in the output: `argocd/application.yaml.tera`
//! becomes `<output>/argocd/application.yaml`, and a path holding `{environment}` is rendered
//! once per environment. Everything is checked here, once, so a broken skeleton stops the
//! service at start instead of failing one request later.

use include_dir::{Dir, include_dir};
use mutator_core::RepoPath;
use serde::Deserialize;

use crate::error::RenderError;
use crate::kinds::Kind;

/// The skeleton, compiled in so the service needs no files at run time.
static SKELETON: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../skeleton");

/// Every template file ends with this; Tera escapes values only in files with this suffix.
pub const TEMPLATE_SUFFIX: &str = ".yaml.tera";
const MANIFEST: &str = "kind.yaml";
const APPLICATION: &str = "{application}";
const ENVIRONMENT: &str = "{environment}";

/// `kind.yaml`: what the catalog says about a kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// One paragraph for people choosing a template.
    description: String,
    /// Folder the kind writes into, such as `apps/{application}`.
    output: String,
    /// Templates (paths inside the kind folder, without `.tera`) whose files are written only
    /// when absent: they seed state that other requests own afterwards, such as the image
    /// tags in an environment's values file.
    #[serde(default)]
    seeds: Vec<String>,
}

/// One kind's folder, checked.
#[derive(Debug)]
pub struct KindTree {
    pub kind: Kind,
    pub description: String,
    pub templates: Vec<TemplateFile>,
}

/// One template of a kind.
#[derive(Debug)]
pub struct TemplateFile {
    /// Its path under `skeleton/`; also its name in Tera and in errors.
    pub id: String,
    /// Where it is written, with `{application}` and maybe `{environment}` still in it.
    pub output: String,
    pub per_environment: bool,
    /// Written only when the file does not exist yet (see `seeds` in `kind.yaml`).
    pub create_only: bool,
    pub source: String,
}

impl TemplateFile {
    /// Its path inside the kind folder, without `.tera`.
    fn relative(&self) -> Option<&str> {
        self.id
            .split_once('/')
            .and_then(|(_, r)| r.strip_suffix(".tera"))
    }

    /// The output path for one application (and environment).
    pub fn path(
        &self,
        application: &str,
        environment: Option<&str>,
    ) -> Result<RepoPath, RenderError> {
        let mut path = self.output.replace(APPLICATION, application);
        if let Some(env) = environment {
            path = path.replace(ENVIRONMENT, env);
        }
        RepoPath::parse(path).map_err(|e| RenderError::template(&self.id, e))
    }
}

/// The files of the embedded skeleton as (path under `skeleton/`, text).
pub fn embedded_files() -> Result<Vec<(String, String)>, RenderError> {
    let mut files = Vec::new();
    collect(&SKELETON, &mut files)?;
    Ok(files)
}

fn collect(dir: &Dir<'static>, out: &mut Vec<(String, String)>) -> Result<(), RenderError> {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        let text = file
            .contents_utf8()
            .ok_or_else(|| RenderError::template(&path, "not UTF-8 text"))?;
        out.push((path, text.to_owned()));
    }
    for sub in dir.dirs() {
        collect(sub, out)?;
    }
    Ok(())
}

/// Groups `files` by kind and checks each kind against the Rust side.
pub fn load(files: Vec<(String, String)>) -> Result<Vec<KindTree>, RenderError> {
    /// A kind folder while its files are being collected.
    struct Folder {
        kind: Kind,
        manifest: Option<Manifest>,
        templates: Vec<(String, String)>,
    }
    let mut trees: Vec<Folder> = Vec::new();
    for (path, text) in files {
        let Some((folder, rest)) = path.split_once('/') else {
            // Notes for people may sit at the top; nothing else may.
            if path.ends_with(".md") {
                continue;
            }
            return Err(RenderError::template(
                &path,
                "only kind folders and notes (*.md) belong at the top of skeleton/",
            ));
        };
        let kind = Kind::from_name(folder).ok_or_else(|| {
            RenderError::template(&path, format!("folder {folder:?} is not a kind this build knows; add it to crates/mutator-render/src/kinds"))
        })?;
        let index = match trees.iter().position(|f| f.kind == kind) {
            Some(i) => i,
            None => {
                trees.push(Folder {
                    kind,
                    manifest: None,
                    templates: Vec::new(),
                });
                trees.len() - 1
            }
        };
        if rest == MANIFEST {
            let manifest =
                yaml_serde::from_str(&text).map_err(|e| RenderError::template(&path, e))?;
            trees[index].manifest = Some(manifest);
        } else if rest.ends_with(TEMPLATE_SUFFIX) {
            trees[index].templates.push((path, text));
        } else {
            return Err(RenderError::template(
                &path,
                format!("a kind folder holds {MANIFEST} and *{TEMPLATE_SUFFIX} templates only"),
            ));
        }
    }
    for kind in Kind::ALL {
        if !trees.iter().any(|f| f.kind == kind) {
            return Err(RenderError::template(
                kind.name(),
                "kind has no folder under skeleton/",
            ));
        }
    }
    let mut out = Vec::new();
    for Folder {
        kind,
        manifest,
        templates,
    } in trees
    {
        let manifest = manifest.ok_or_else(|| {
            RenderError::template(format!("{}/{MANIFEST}", kind.name()), "missing")
        })?;
        if templates.is_empty() {
            return Err(RenderError::template(kind.name(), "kind has no templates"));
        }
        let templates = templates
            .into_iter()
            .map(|(id, source)| template_file(kind, &manifest, id, source))
            .collect::<Result<Vec<_>, _>>()?;
        for seed in &manifest.seeds {
            if !templates
                .iter()
                .any(|t| t.relative() == Some(seed.as_str()))
            {
                return Err(RenderError::template(
                    format!("{}/{MANIFEST}", kind.name()),
                    format!("seed {seed:?} names no template of this kind"),
                ));
            }
        }
        out.push(KindTree {
            kind,
            description: manifest.description.trim().to_owned(),
            templates,
        });
    }
    out.sort_by_key(|t| t.kind.name());
    Ok(out)
}

fn template_file(
    kind: Kind,
    manifest: &Manifest,
    id: String,
    source: String,
) -> Result<TemplateFile, RenderError> {
    let output_root = &manifest.output;
    let relative = id
        .strip_prefix(kind.name())
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|r| r.strip_suffix(".tera"))
        .ok_or_else(|| RenderError::template(&id, "not inside its kind folder"))?;
    let output = format!("{output_root}/{relative}");
    let per_environment = output.contains(ENVIRONMENT);
    if per_environment && !kind.has_environments() {
        return Err(RenderError::template(
            &id,
            format!(
                "{ENVIRONMENT} is used, but kind {} has no environments",
                kind.name()
            ),
        ));
    }
    // Only the two placeholders may remain, and the result must be a path inside the repository.
    let sample = output.replace(APPLICATION, "a").replace(ENVIRONMENT, "e");
    if sample.contains('{') || sample.contains('}') {
        return Err(RenderError::template(
            &id,
            format!("only {APPLICATION} and {ENVIRONMENT} may appear in a path"),
        ));
    }
    RepoPath::parse(&sample).map_err(|e| RenderError::template(&id, e))?;
    if let Some(tag) = unescaped_output(&source) {
        return Err(RenderError::template(
            &id,
            format!("{tag:?} would write a value without escaping it; values must stay data"),
        ));
    }
    let create_only = manifest.seeds.iter().any(|seed| seed == relative);
    Ok(TemplateFile {
        id,
        output,
        per_environment,
        create_only,
        source,
    })
}

/// The first Tera tag that uses `safe`, which would let a value's text become YAML syntax.
fn unescaped_output(source: &str) -> Option<String> {
    let mut rest = source;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start..];
        let close = match after.get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            _ => {
                rest = &after[1..];
                continue;
            }
        };
        let end = after.find(close).map_or(after.len(), |e| e + close.len());
        let tag = &after[..end];
        let uses_safe = tag
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == "safe");
        if uses_safe {
            return Some(tag.to_owned());
        }
        rest = &after[end..];
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn files(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = embedded_files().unwrap();
        for (path, text) in extra {
            files.retain(|(p, _)| p != path);
            files.push((path.to_string(), text.to_string()));
        }
        files
    }

    fn refused(extra: &[(&str, &str)]) -> String {
        match load(files(extra)) {
            Err(RenderError::Template { file, message }) => format!("{file}: {message}"),
            other => panic!("expected a template error, got {other:?}"),
        }
    }

    #[test]
    fn the_embedded_skeleton_loads() {
        let trees = load(embedded_files().unwrap()).unwrap();
        let names: Vec<_> = trees.iter().map(|t| t.kind.name()).collect();
        assert_eq!(names, ["application", "cicd-pipeline"]);
        assert!(trees.iter().all(|t| !t.description.is_empty()));
    }

    #[test]
    fn refuses_what_the_rust_side_does_not_know() {
        assert!(
            refused(&[("other/kind.yaml", "description: x\noutput: apps\n")])
                .contains("not a kind")
        );
        assert!(refused(&[("application/notes.txt", "x")]).contains("templates only"));
        assert!(refused(&[("stray.yaml", "x: 1")]).contains("top of skeleton"));
        assert!(
            refused(&[("cicd-pipeline/{environment}.yaml.tera", "a: 1\n")])
                .contains("has no environments")
        );
        assert!(refused(&[("application/{other}.yaml.tera", "a: 1\n")]).contains("may appear"));
        assert!(
            refused(&[("application/kind.yaml", "description: x\noutput: ../apps\n")])
                .contains("'..'")
        );
        assert!(
            refused(&[(
                "application/kind.yaml",
                "description: x\noutput: apps\nextra: 1\n"
            )])
            .contains("unknown field")
        );
    }

    #[test]
    fn refuses_templates_that_unescape_values() {
        for source in [
            "a: {{ name | safe }}\n",
            "a: {{name|safe}}\n",
            "{% filter safe %}{{ name }}{% endfilter %}\n",
        ] {
            let message = refused(&[("application/x.yaml.tera", source)]);
            assert!(
                message.contains("values must stay data"),
                "{source}: {message}"
            );
        }
        assert_eq!(
            unescaped_output("# safe to edit\na: {{ unsafe_name }}\n"),
            None
        );
    }
}
