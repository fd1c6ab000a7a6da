//! The catalog of template kinds: parsed once at start, then rendered per request.

use std::fmt;

use mutator_core::{AppName, RepoPath};
use serde::{Deserialize, Serialize};
use tera::{Context, Tera};

use crate::engine;
use crate::error::RenderError;
use crate::skeleton::{self, KindTree, TemplateFile};
use crate::target::RenderTarget;

/// What a caller can render, as listed by the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TemplateInfo {
    /// The name to render it by, such as `cicd-pipeline`.
    pub name: String,
    pub description: String,
    /// JSON Schema of the `values` this template takes.
    #[schema(value_type = Object)]
    pub schema: serde_json::Value,
}

/// The files one render produces, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The application the files belong to (`values.name`).
    pub name: AppName,
    pub files: Vec<RenderedFile>,
}

/// One rendered file: parsed as YAML before it is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: RepoPath,
    pub content: String,
    /// Write only when the file does not exist yet: its content belongs to later requests
    /// (an environment's values file belongs to image updates once it is there).
    pub create_only: bool,
}

/// Every kind with its templates and schema, ready to render.
pub struct Catalog {
    tera: Tera,
    kinds: Vec<(KindTree, serde_json::Value)>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("templates", &self.names())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// Loads the skeleton compiled into this binary. Fails when a template does not parse or
    /// the skeleton and the Rust kinds disagree, so the server can refuse to start.
    pub fn embedded() -> Result<Catalog, RenderError> {
        Self::from_files(skeleton::embedded_files()?)
    }

    fn from_files(files: Vec<(String, String)>) -> Result<Catalog, RenderError> {
        let trees = skeleton::load(files)?;
        let mut tera = engine::new();
        for tree in &trees {
            for template in &tree.templates {
                tera.add_raw_template(&template.id, &template.source)
                    .map_err(|e| RenderError::template(&template.id, e))?;
            }
        }
        let kinds = trees
            .into_iter()
            .map(|tree| {
                let schema = tree
                    .kind
                    .schema()
                    .map_err(|e| RenderError::template(tree.kind.name(), e))?;
                Ok((tree, schema))
            })
            .collect::<Result<_, RenderError>>()?;
        Ok(Catalog { tera, kinds })
    }

    fn names(&self) -> Vec<String> {
        self.kinds
            .iter()
            .map(|(tree, _)| tree.kind.name().to_owned())
            .collect()
    }

    /// Every template with its values schema, sorted by name.
    pub fn templates(&self) -> Vec<TemplateInfo> {
        self.kinds
            .iter()
            .map(|(tree, schema)| TemplateInfo {
                name: tree.kind.name().to_owned(),
                description: tree.description.clone(),
                schema: schema.clone(),
            })
            .collect()
    }

    /// Renders `template` with `values` for the GitOps repository `target`.
    pub fn render(
        &self,
        template: &str,
        values: &serde_json::Value,
        target: &RenderTarget,
    ) -> Result<Rendered, RenderError> {
        let (tree, _) = self
            .kinds
            .iter()
            .find(|(tree, _)| tree.kind.name() == template)
            .ok_or_else(|| RenderError::UnknownTemplate {
                name: template.to_owned(),
                known: self.names(),
            })?;
        let plan = tree.kind.plan(values, target)?;
        let base = Context::from_serialize(&plan.context)
            .map_err(|e| RenderError::template(tree.kind.name(), e))?;
        let mut files = Vec::new();
        for template in &tree.templates {
            if template.per_environment {
                for (env, env_context) in &plan.environments {
                    let mut context = base.clone();
                    context.insert("environment", env_context);
                    let path = template.path(plan.name.as_str(), Some(env.as_str()))?;
                    files.push(self.render_file(template, path, &context)?);
                }
            } else {
                let path = template.path(plan.name.as_str(), None)?;
                files.push(self.render_file(template, path, &base)?);
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if let Some(pair) = files.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(RenderError::template(
                pair[0].path.as_str(),
                "two templates write this path",
            ));
        }
        Ok(Rendered {
            name: plan.name,
            files,
        })
    }

    fn render_file(
        &self,
        template: &TemplateFile,
        path: RepoPath,
        context: &Context,
    ) -> Result<RenderedFile, RenderError> {
        let content = self
            .tera
            .render(&template.id, context)
            .map_err(|e| RenderError::template(&template.id, e))?;
        check_yaml(&content).map_err(|message| RenderError::template(path.as_str(), message))?;
        Ok(RenderedFile {
            path,
            content,
            create_only: template.create_only,
        })
    }
}

/// Escaping makes a broken file unlikely, but a template edit can still produce one; nothing
/// that Argo CD cannot read may be committed.
fn check_yaml(content: &str) -> Result<(), String> {
    let mut documents = 0;
    for document in yaml_serde::Deserializer::from_str(content) {
        let value = yaml_serde::Value::deserialize(document)
            .map_err(|e| format!("rendered file is not valid YAML: {e}"))?;
        if !value.is_null() {
            documents += 1;
        }
    }
    if documents == 0 {
        return Err("rendered file holds no YAML document".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_template_that_writes_broken_yaml_is_a_template_error() {
        let mut files = skeleton::embedded_files().unwrap();
        for (path, text) in &mut files {
            if path == "cicd-pipeline/catalog-info.yaml.tera" {
                *text = "a: [unclosed\n".to_owned();
            }
        }
        let catalog = Catalog::from_files(files).unwrap();
        let values = serde_json::json!({
            "name": "payments",
            "owner": "team-payments",
            "sourceRepoUrl": "https://github.com/acme/payments.git",
            "awsRegion": "eu-west-1",
        });
        let target = RenderTarget {
            repo_url: "https://github.com/acme/gitops.git".to_owned(),
            revision: "main".to_owned(),
        };
        match catalog.render("cicd-pipeline", &values, &target) {
            Err(RenderError::Template { file, message }) => {
                assert_eq!(file, "apps/payments/catalog-info.yaml");
                assert!(message.contains("not valid YAML"), "{message}");
            }
            other => panic!("expected a template error, got {other:?}"),
        }
    }

    #[test]
    fn a_template_that_does_not_parse_stops_the_catalog() {
        let mut files = skeleton::embedded_files().unwrap();
        files.push((
            "application/broken.yaml.tera".to_owned(),
            "a: {{ unclosed\n".to_owned(),
        ));
        match Catalog::from_files(files) {
            Err(RenderError::Template { file, .. }) => {
                assert_eq!(file, "application/broken.yaml.tera")
            }
            other => panic!("expected a template error, got {other:?}"),
        }
    }

    #[test]
    fn only_values_files_are_seeds() {
        let catalog = Catalog::embedded().unwrap();
        let values = serde_json::json!({
            "name": "payments",
            "image": { "repository": "ghcr.io/acme/payments", "tag": "1.4.1" },
        });
        let target = RenderTarget {
            repo_url: "https://github.com/acme/gitops.git".to_owned(),
            revision: "main".to_owned(),
        };
        let rendered = catalog.render("application", &values, &target).unwrap();
        for file in &rendered.files {
            let is_values = file.path.as_str().ends_with("/values.yaml");
            assert_eq!(file.create_only, is_values, "{}", file.path);
        }
        assert_eq!(rendered.files.iter().filter(|f| f.create_only).count(), 3);
    }

    #[test]
    fn a_seed_that_names_no_template_stops_the_catalog() {
        let mut files = skeleton::embedded_files().unwrap();
        for (path, text) in &mut files {
            if path == "application/kind.yaml" {
                text.push_str("  - environments/nope.yaml\n");
            }
        }
        assert!(matches!(
            Catalog::from_files(files),
            Err(RenderError::Template { .. })
        ));
    }

    #[test]
    fn the_catalog_can_be_shared_between_request_handlers() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Catalog>();
    }

    #[test]
    fn empty_output_is_refused() {
        assert!(check_yaml("# only a comment\n").is_err());
        assert!(check_yaml("a: 1\n---\nb: 2\n").is_ok());
        assert!(check_yaml("a: b: c\n").is_err());
    }
}
