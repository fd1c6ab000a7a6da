//! The v1 request and response bodies: the public contract. Field names are fixed.

use mutator_core::image_edit::ImageState;
use mutator_core::{
    AppName, BranchName, EnvName, FileAction, ImageDigest, ImageRepository, ImageTag, RepoName,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a change lands. Both fields are optional: the default repository and its branch.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    /// A configured repository name (default `default`).
    #[schema(value_type = Option<String>, example = "default")]
    pub repository: Option<RepoName>,
    /// The branch to commit to (default: the repository's configured branch).
    #[schema(value_type = Option<String>, example = "main")]
    pub branch: Option<BranchName>,
}

/// `POST /v1/scaffold`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaffoldRequest {
    /// A template kind from `GET /v1/templates`, e.g. `cicd-pipeline` or `application`.
    #[schema(example = "cicd-pipeline")]
    pub template: String,
    /// The template's values; their schema is listed by `GET /v1/templates`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub values: serde_json::Value,
    #[serde(default)]
    pub target: Target,
    /// Render and diff, commit nothing.
    #[serde(default)]
    pub dry_run: bool,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// The image fields to set; at least one of `tag` and `digest`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageFields {
    /// OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", example = "1.4.2")]
    pub tag: Option<ImageTag>,
    /// OCI repository reference.
    #[schema(value_type = Option<String>, example = "ghcr.io/acme/payments")]
    pub repository: Option<ImageRepository>,
    /// `sha256:` and 64 lowercase hex digits.
    #[schema(value_type = Option<String>, pattern = "^sha256:[0-9a-f]{64}$")]
    pub digest: Option<ImageDigest>,
}

/// Preconditions on the current state.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expected {
    /// The tag the environment must run now; otherwise 409 and nothing changes.
    #[schema(value_type = Option<String>, example = "1.4.1")]
    pub tag: Option<ImageTag>,
}

/// `POST /v1/image-updates`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageUpdateRequest {
    #[schema(value_type = String, example = "payments")]
    pub application: AppName,
    #[schema(value_type = String, example = "staging")]
    pub environment: EnvName,
    pub image: ImageFields,
    #[serde(default)]
    pub expected: Expected,
    /// A number that grows with each build (a build number, a pipeline id). An update whose
    /// order is lower than the last one applied to this application environment is refused
    /// with 409 `superseded`, so a slow old pipeline never overwrites a newer image.
    #[serde(default)]
    pub order: Option<u64>,
    /// Apply even when the environment is pinned; needs the policy's `rollback` permission.
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /v1/promotions`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PromotionRequest {
    #[schema(value_type = String, example = "payments")]
    pub application: AppName,
    /// The environment whose image is copied.
    #[schema(value_type = String, example = "staging")]
    pub from: EnvName,
    /// The environment that gets it, through its policy (`review` opens a pull request).
    #[schema(value_type = String, example = "production")]
    pub to: EnvName,
    /// Apply even when the target environment is pinned; needs the policy's `rollback` permission.
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub dry_run: bool,
}

/// Which earlier state a rollback restores: exactly one of the three.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackTo {
    /// The state before the n-th most recent change of the environment (1: undo the last one).
    pub previous: Option<u32>,
    /// The values file as it was at this commit (40 hex digits).
    pub commit: Option<String>,
    /// The values file as it was when this tag was last set.
    #[schema(value_type = Option<String>)]
    pub tag: Option<ImageTag>,
}

/// `POST /v1/rollbacks`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RollbackRequest {
    #[schema(value_type = String, example = "payments")]
    pub application: AppName,
    #[schema(value_type = String, example = "production")]
    pub environment: EnvName,
    pub to: RollbackTo,
    /// Why, for the pin (shown to whoever is refused by it).
    pub reason: Option<String>,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub dry_run: bool,
}

/// `GET /v1/pins`
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pins {
    pub pins: Vec<crate::service::pins::Pin>,
}

/// `GET /v1/pins` query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PinsQuery {
    #[param(value_type = Option<String>)]
    pub repository: Option<RepoName>,
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchName>,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MutationStatus {
    /// A commit was made (or, on an idempotent replay, had been made).
    Committed,
    /// The repository already holds the requested state; no commit.
    Noop,
    /// Nothing was committed; `diff` shows what would change.
    DryRun,
    /// The change waits for review on its own branch (`review` says where).
    ReviewRequested,
}

/// Where a change waits for review.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    /// The review branch, `gitops/<application>/<environment>`.
    pub branch: String,
    /// The pull or merge request (absent for plain git, which has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// An open request for the same branch was found and updated instead of a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused: Option<bool>,
    /// Set when the branch was started afresh from the base branch before this change: its
    /// last pull/merge request had ended with commits the base branch lacks. (A branch whose
    /// review was merged is only moved forward onto the base branch, which drops nothing.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarted: Option<RestartView>,
}

/// A review branch started afresh: the commits that left it, and the review that ended with
/// them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestartView {
    /// The branch's head before. Its commits that the base branch lacks are no longer on the
    /// branch; the ended review still shows them.
    pub previous_head: String,
    /// The pull or merge request that ended with that head.
    pub number: u64,
    pub url: String,
    pub state: EndedReview,
}

/// How a review ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EndedReview {
    /// Closed without merging: its change was dropped, and stays dropped.
    Closed,
    /// Merged by squash or rebase: its changes are in the base branch as other commits.
    Merged,
}

/// The commit that holds the change (on `noop` and `dry-run`: the current head).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommitView {
    pub sha: String,
    pub branch: String,
    pub message: String,
    /// Where a person can look at the commit (forges with a web view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether the forge reports the commit as verified (signed), when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

/// One file the request touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FileView {
    pub path: String,
    pub action: FileAction,
}

/// The answer to a scaffold or image update.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MutationResponse {
    pub status: MutationStatus,
    pub commit: CommitView,
    pub files: Vec<FileView>,
    /// The image fields before the change (image updates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<ImageState>,
    /// Unified diff of what would change (dry runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Where the change waits for review (environments with the `review` policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewView>,
    /// The Idempotency-Key, or the id generated for this request.
    pub mutation_id: String,
}

/// `GET /v1/templates`
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<mutator_render::TemplateInfo>,
}

/// `GET /readyz`
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` or what is wrong, per configured repository.
    pub repositories: std::collections::BTreeMap<String, String>,
}

/// `GET /v1/history` query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    #[param(value_type = String)]
    pub application: AppName,
    #[param(value_type = String)]
    pub environment: EnvName,
    /// At most this many entries (default 20, at most 500).
    pub limit: Option<usize>,
    #[param(value_type = Option<String>)]
    pub repository: Option<RepoName>,
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchName>,
}

/// The pull or merge request through which a change reached the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryReview {
    /// The pull request number (GitHub) or merge request iid (GitLab).
    pub number: u64,
    /// Its web page.
    pub url: String,
    /// The commit on the branch that landed it: the merge commit, or the squashed commit.
    pub landed_by: String,
}

/// One change to an environment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The commit that carries the change's trailers: on the branch itself, or, for a change
    /// merged through a review, on the review branch (see `review.landedBy`).
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `scaffold`, `image-update`, `promotion`, `rollback` or `unpin`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_after: Option<String>,
    /// The pull/merge request that brought the change to the branch, when it came through one
    /// and the merge (or squash) commit names it as the forge writes it by default. Absent for
    /// direct commits and on plain git, which has no pull requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<HistoryReview>,
}

/// `GET /v1/history`
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
}

/// `GET /v1/applications/{application}/environments` query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnvironmentsQuery {
    /// Comma-separated (default `development,staging,production`).
    pub environments: Option<String>,
    #[param(value_type = Option<String>)]
    pub repository: Option<RepoName>,
    #[param(value_type = Option<String>)]
    pub branch: Option<BranchName>,
}

/// The image one environment runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnvironmentImage {
    pub name: String,
    /// Absent when the environment has no values file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageState>,
}

/// `GET /v1/applications/{application}/environments`
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environments {
    pub application: String,
    pub commit: String,
    pub environments: Vec<EnvironmentImage>,
    /// Production runs another image than staging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_lags_staging: Option<bool>,
}
