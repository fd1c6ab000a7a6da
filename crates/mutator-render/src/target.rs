//! Where the rendered files will be committed, as Argo CD must fetch them back.

/// The GitOps repository and branch the rendered files are committed to. Rendered Argo CD
/// Applications point their `repoURL` and `targetRevision` here, so the caller (the server)
/// fills it from the repository's configured pull URL and the target branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderTarget {
    pub repo_url: String,
    pub revision: String,
}
