//! `application`: a Helm-deployed application with one Argo CD Application and one values file
//! per environment. The values file holds the image, which gitops-mutator later edits in place.

use std::collections::HashSet;

use mutator_core::{AppName, EnvName, ImageRepository, ImageTag, RepoPath};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ArgoCd, application_name};
use crate::error::FieldError;
use crate::fields::{
    ChartName, ChartRepoUrl, Description, Namespace, ProjectName, ServerUrl, TargetRevision,
};

/// The environment that only changes by pull request, so Argo CD must not sync it by itself.
const MANUAL_ENVIRONMENT: &str = "production";
/// Repeated as the schema default of `environments`; a test compares the two.
const DEFAULT_ENVIRONMENTS: [&str; 3] = ["development", "staging", MANUAL_ENVIRONMENT];

/// Values of the `application` template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object with the application values"
)]
#[schema(as = ApplicationValues)]
pub struct Values {
    /// Name of the application: a DNS-1123 label. `<name>-<environment>` names its Argo CD
    /// Applications, so it must stay within 63 characters for every environment.
    #[schema(value_type = String, pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63, example = "payments")]
    name: AppName,
    // Documented on `Image`: a doc comment here would make utoipa wrap it in an `allOf`.
    #[schema(inline)]
    image: Image,
    /// Where the Helm chart is; defaults to the chart at `apps/<name>/chart` in the GitOps
    /// repository itself, at the branch the files are committed to.
    #[serde(default)]
    #[schema(inline)]
    chart: Option<Chart>,
    /// Environments to create, in order. `production` syncs only by hand (its changes arrive
    /// by pull request); every other environment syncs automatically with prune and selfHeal.
    #[serde(default)]
    #[schema(value_type = Vec<String>, min_items = 1, default = json!(["development", "staging", "production"]), example = json!(["development", "staging", "production"]))]
    environments: Option<Vec<EnvName>>,
    /// Namespace for every environment; defaults to `<name>-<environment>`, so environments
    /// sharing a cluster do not overwrite each other.
    #[serde(default)]
    #[schema(value_type = String, pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63, example = "payments")]
    namespace: Option<Namespace>,
    /// Argo CD project of the Applications.
    #[serde(default)]
    #[schema(value_type = String, default = "default", example = "default")]
    argocd_project: Option<ProjectName>,
    /// Kubernetes API server the Applications deploy to.
    #[serde(default)]
    #[schema(value_type = String, default = "https://kubernetes.default.svc", example = "https://kubernetes.default.svc")]
    destination_server: Option<ServerUrl>,
    /// Free text for people, written as an annotation; kept exactly as given.
    #[serde(default)]
    #[schema(value_type = String, max_length = 2000, example = "Payments API")]
    description: Option<Description>,
}

/// The image every environment starts with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Image {
    /// Image repository, such as `ghcr.io/acme/payments`.
    #[schema(value_type = String, example = "ghcr.io/acme/payments")]
    repository: ImageRepository,
    /// Image tag; written quoted, so `1.10` stays a string.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", example = "1.4.2")]
    tag: ImageTag,
}

/// A Helm chart outside the default location.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Chart {
    /// Repository of the chart: a git repository, a Helm repository or an `oci://` registry.
    /// Absent: the GitOps repository itself.
    #[serde(default)]
    #[schema(value_type = String, example = "oci://ghcr.io/acme/charts")]
    repo_url: Option<ChartRepoUrl>,
    /// Folder of the chart inside a git repository. Give this or `name`.
    #[serde(default)]
    #[schema(value_type = String, example = "charts/payments")]
    path: Option<RepoPath>,
    /// Chart name in a Helm or OCI repository (needs `repoUrl`). Give this or `path`.
    #[serde(default)]
    #[schema(value_type = String, example = "payments")]
    name: Option<ChartName>,
    /// Git revision or chart version; required with `repoUrl`, refused without it (a chart in
    /// the GitOps repository follows the branch the files are committed to).
    #[serde(default)]
    #[schema(value_type = String, example = "1.4.2")]
    target_revision: Option<TargetRevision>,
}

/// What the templates of this kind see, besides `target` and `environment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    name: AppName,
    description: Option<Description>,
    image: Image,
    chart: ChartSource,
    argocd: ArgoCd,
}

/// Where Argo CD gets the chart from. `in_repo` charts are read from the GitOps repository in
/// the same source as their values; others need a second source that provides `$values`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartSource {
    in_repo: bool,
    repo_url: String,
    target_revision: String,
    path: Option<String>,
    name: Option<String>,
}

/// One environment as its templates see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    name: EnvName,
    application: String,
    namespace: String,
    /// Whether Argo CD syncs it by itself.
    automated: bool,
    /// The values file as Helm's `valueFiles` entry names it.
    value_file: String,
}

impl Environment {
    pub fn name(&self) -> &EnvName {
        &self.name
    }
}

/// Checks what the types alone cannot and resolves every default.
pub fn plan(
    values: Values,
    target: &crate::RenderTarget,
) -> Result<(AppName, Context, Vec<Environment>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let names = environment_names(values.environments, &mut errors);
    let chart = chart_source(values.chart, &values.name, target, &mut errors);
    let mut environments = Vec::new();
    for env in names {
        let application = match application_name(&values.name, &format!("-{env}")) {
            Ok(a) => a,
            Err(message) => {
                // One error for the name is enough, even when several environments overflow.
                if !errors.iter().any(|e| e.field == "values.name") {
                    errors.push(FieldError::new("values.name", message));
                }
                continue;
            }
        };
        let values_file = format!("apps/{}/environments/{env}/values.yaml", values.name);
        let value_file = match &chart {
            Some(c) if c.in_repo => relative(c.path.as_deref().unwrap_or_default(), &values_file),
            _ => format!("$values/{values_file}"),
        };
        environments.push(Environment {
            namespace: values
                .namespace
                .as_ref()
                .map_or_else(|| application.clone(), |ns| ns.as_str().to_owned()),
            automated: env.as_str() != MANUAL_ENVIRONMENT,
            application,
            value_file,
            name: env,
        });
    }
    match chart {
        Some(chart) if errors.is_empty() => {
            let context = Context {
                name: values.name.clone(),
                description: values.description,
                image: values.image,
                chart,
                argocd: ArgoCd::new(values.argocd_project, values.destination_server),
            };
            Ok((values.name, context, environments))
        }
        _ => Err(errors),
    }
}

fn environment_names(given: Option<Vec<EnvName>>, errors: &mut Vec<FieldError>) -> Vec<EnvName> {
    let names = match given {
        Some(names) => names,
        None => DEFAULT_ENVIRONMENTS
            .iter()
            .filter_map(|n| EnvName::parse(*n).ok())
            .collect(),
    };
    if names.is_empty() {
        errors.push(FieldError::new(
            "values.environments",
            "list at least one environment, such as [\"development\", \"staging\", \"production\"]",
        ));
    }
    let mut seen = HashSet::new();
    for (i, env) in names.iter().enumerate() {
        if !seen.insert(env.as_str()) {
            errors.push(FieldError::new(
                format!("values.environments[{i}]"),
                format!("environment {env:?} is listed twice; list each environment once"),
            ));
        }
    }
    names
}

fn chart_source(
    chart: Option<Chart>,
    app: &AppName,
    target: &crate::RenderTarget,
    errors: &mut Vec<FieldError>,
) -> Option<ChartSource> {
    let in_repo = |path: String| ChartSource {
        in_repo: true,
        repo_url: target.repo_url.clone(),
        target_revision: target.revision.clone(),
        path: Some(path),
        name: None,
    };
    let Some(chart) = chart else {
        return Some(in_repo(format!("apps/{app}/chart")));
    };
    let before = errors.len();
    let mut refuse = |field: &str, message: &str| {
        errors.push(FieldError::new(format!("values.chart.{field}"), message));
    };
    match (&chart.path, &chart.name) {
        (Some(_), Some(_)) => refuse(
            "name",
            "give either chart.path (a chart in a git repository) or chart.name (a chart in a Helm repository), not both",
        ),
        (None, None) => refuse(
            "path",
            "give chart.path (a chart in a git repository) or chart.name with chart.repoUrl (a chart in a Helm repository)",
        ),
        _ => {}
    }
    let Some(repo_url) = chart.repo_url else {
        if chart.name.is_some() {
            refuse(
                "repoUrl",
                "chart.name needs chart.repoUrl: the https:// or oci:// Helm repository that holds the chart",
            );
        }
        if chart.target_revision.is_some() {
            refuse(
                "targetRevision",
                "a chart in the GitOps repository follows the branch the files are committed to; give targetRevision only with chart.repoUrl",
            );
        }
        return match chart.path {
            Some(path) if errors.len() == before => Some(in_repo(path.to_string())),
            _ => None,
        };
    };
    let is_helm_repo =
        repo_url.as_str().starts_with("https://") || repo_url.as_str().starts_with("oci://");
    if chart.name.is_some() && !is_helm_repo {
        refuse(
            "repoUrl",
            "a Helm repository is reached over https:// or oci://, not ssh; use chart.path for a chart in a git repository",
        );
    }
    let Some(revision) = chart.target_revision else {
        refuse(
            "targetRevision",
            "required with chart.repoUrl: the git revision or the chart version to deploy, such as v1.4.2 or 1.4.2",
        );
        return None;
    };
    if errors.len() != before {
        return None;
    }
    Some(ChartSource {
        in_repo: false,
        repo_url: repo_url.to_string(),
        target_revision: revision.to_string(),
        path: chart.path.map(String::from),
        name: chart.name.map(String::from),
    })
}

/// `to` as a path relative to the folder `from_dir`: Helm resolves `valueFiles` against the
/// chart's folder, and Argo CD accepts `..` as long as the result stays in the repository.
fn relative(from_dir: &str, to: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = to.split('/').collect();
    // The last part of `to` is a file, so it never counts as a shared folder.
    let shared = from
        .iter()
        .zip(&to[..to.len().saturating_sub(1)])
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts = vec![".."; from.len() - shared];
    parts.extend_from_slice(&to[shared..]);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::relative;

    #[test]
    fn relative_paths() {
        let values = "apps/a/environments/dev/values.yaml";
        assert_eq!(
            relative("apps/a/chart", values),
            "../environments/dev/values.yaml"
        );
        assert_eq!(
            relative("charts/a", values),
            "../../apps/a/environments/dev/values.yaml"
        );
        assert_eq!(relative("apps/a", values), "environments/dev/values.yaml");
        assert_eq!(
            relative("apps/a/environments/dev/values.yaml", values),
            "../values.yaml"
        );
    }
}
