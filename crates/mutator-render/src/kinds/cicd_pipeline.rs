//! `cicd-pipeline`: a namespace and a kro `CICDPipeline` in it, the Argo CD Application that
//! syncs both, and the Backstage Component that shows them.

use mutator_core::{AppName, BranchName, ImageRepository};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ArgoCd, Lifecycle, application_name};
use crate::error::FieldError;
use crate::fields::{
    AwsRegion, Description, GitUrl, Namespace, OwnerRef, ProjectName, ServerUrl, SourcePath,
};

/// The Argo CD Application of a pipeline is `<name>` plus this.
const APPLICATION_SUFFIX: &str = "-cicd";
// The defaults below are repeated in the schema attributes of `Values`; a test compares them.
const DEFAULT_BRANCH: &str = "main";
const DEFAULT_DOCKERFILE_PATH: &str = ".";
const DEFAULT_DEPLOYMENT_PATH: &str = "deployment";

/// Values of the `cicd-pipeline` template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object with the cicd-pipeline values"
)]
#[schema(as = CicdPipelineValues)]
pub struct Values {
    /// Name of the pipeline and of its Kubernetes objects: a DNS-1123 label of at most 58
    /// characters, so that the Argo CD Application `<name>-cicd` stays a 63-character label.
    #[schema(value_type = String, pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 58, example = "payments")]
    name: AppName,
    /// Namespace of the CICDPipeline (created by this template); defaults to `name`.
    #[serde(default)]
    #[schema(value_type = String, pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63, example = "payments")]
    namespace: Option<Namespace>,
    /// Backstage group or user that owns the component: `[group:|user:][namespace/]name`.
    #[schema(value_type = String, example = "group:default/team-payments")]
    owner: OwnerRef,
    /// Git repository whose commits the pipeline builds (https or ssh; no credentials).
    #[schema(value_type = String, example = "https://github.com/acme/payments.git")]
    source_repo_url: GitUrl,
    /// Branch of the source repository that the pipeline builds.
    #[serde(default)]
    #[schema(value_type = String, default = "main", example = "main")]
    source_branch: Option<BranchName>,
    /// AWS region the pipeline's resources (such as the ECR repository) live in.
    #[schema(value_type = String, pattern = "^[a-z]{2}(-[a-z]+){1,2}-[0-9]{1,2}$", example = "eu-west-1")]
    aws_region: AwsRegion,
    /// Image repository the pipeline pushes to; left to the CICDPipeline's own default when absent.
    #[serde(default)]
    #[schema(value_type = String, example = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments")]
    image_repository: Option<ImageRepository>,
    /// Directory of the Dockerfile inside the source repository.
    #[serde(default)]
    #[schema(value_type = String, default = ".", example = ".")]
    dockerfile_path: Option<SourcePath>,
    /// Directory of the deployment manifests inside the source repository.
    #[serde(default)]
    #[schema(value_type = String, default = "deployment", example = "deployment")]
    deployment_path: Option<SourcePath>,
    /// Argo CD project of the Application.
    #[serde(default)]
    #[schema(value_type = String, default = "default", example = "default")]
    argocd_project: Option<ProjectName>,
    /// Kubernetes API server the Application deploys to.
    #[serde(default)]
    #[schema(value_type = String, default = "https://kubernetes.default.svc", example = "https://kubernetes.default.svc")]
    destination_server: Option<ServerUrl>,
    /// Free text for the Backstage component; kept exactly as given.
    #[serde(default)]
    #[schema(value_type = String, max_length = 2000, example = "Builds and publishes the payments service")]
    description: Option<Description>,
    /// Backstage lifecycle stage of the component.
    #[serde(default)]
    #[schema(schema_with = Lifecycle::schema)]
    lifecycle: Lifecycle,
}

/// What the templates of this kind see, besides `target`. Defaults are resolved here, so the
/// templates never decide anything about values.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    name: AppName,
    namespace: String,
    owner: OwnerRef,
    description: Option<Description>,
    lifecycle: Lifecycle,
    source: Source,
    aws: Aws,
    image_repository: Option<ImageRepository>,
    dockerfile_path: String,
    deployment_path: String,
    application_name: String,
    argocd: ArgoCd,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    repo_url: GitUrl,
    branch: String,
}

#[derive(Debug, Serialize)]
struct Aws {
    region: AwsRegion,
}

/// Checks what the types alone cannot and derives the names the templates use.
pub fn plan(values: Values) -> Result<(AppName, Context), Vec<FieldError>> {
    let application = application_name(&values.name, APPLICATION_SUFFIX)
        .map_err(|message| vec![FieldError::new("values.name", message)])?;
    let text = |v: Option<String>, default: &str| v.unwrap_or_else(|| default.to_owned());
    let context = Context {
        name: values.name.clone(),
        // An application name is a DNS-1123 label, so it is also a valid namespace.
        namespace: text(values.namespace.map(String::from), values.name.as_str()),
        owner: values.owner,
        description: values.description,
        lifecycle: values.lifecycle,
        source: Source {
            repo_url: values.source_repo_url,
            branch: text(values.source_branch.map(String::from), DEFAULT_BRANCH),
        },
        aws: Aws {
            region: values.aws_region,
        },
        image_repository: values.image_repository,
        dockerfile_path: text(
            values.dockerfile_path.map(String::from),
            DEFAULT_DOCKERFILE_PATH,
        ),
        deployment_path: text(
            values.deployment_path.map(String::from),
            DEFAULT_DEPLOYMENT_PATH,
        ),
        application_name: application,
        argocd: ArgoCd::new(values.argocd_project, values.destination_server),
    };
    Ok((values.name, context))
}
