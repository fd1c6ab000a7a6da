//! The GitHub backend: reads through the REST API, writes each change set as one
//! `createCommitOnBranch` mutation guarded by `expectedHeadOid`. No clone, no working tree.
//!
//! One commit costs two requests: the branch head (`GET git/ref`) and the mutation, of which
//! only the mutation creates content. Reading the files a plan needs adds one `GET contents`
//! each, at the exact head commit.

mod client;
mod compare;
mod graphql;
mod history;
mod pacing;
mod review_branch;
mod reviews;
mod settings;

use async_trait::async_trait;
use http::{Method, StatusCode};
use mutator_core::message::has_trailer;
use mutator_core::{BranchName, FileAction, RepoPath};
use serde::Deserialize;
use serde_json::json;

pub use client::RequestCounts;
pub use settings::{GITHUB_API, GithubAuth, GithubSettings, clone_url, web_url};

use self::client::{Client, JSON, RAW, encode_path, status_error};
use crate::error::ForgeError;
use crate::forge::{
    CommitId, CommitInfo, CommitRequest, Forge, LandedReview, ReviewRequest, ReviewStatus,
};

/// A repository on GitHub.
pub struct GitHub {
    client: Client,
    /// The repository's web page, under which its pull requests live.
    web: String,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("repository", &self.client.name_with_owner())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RefObject {
    object: ShaOnly,
}

#[derive(Deserialize)]
struct ShaOnly {
    sha: String,
}

#[derive(Deserialize)]
struct GitCommit {
    sha: String,
    message: String,
    html_url: Option<String>,
    #[serde(default)]
    parents: Vec<ShaOnly>,
    verification: Option<Verification>,
}

#[derive(Deserialize)]
struct Verification {
    verified: bool,
}

#[derive(Deserialize)]
struct CommitWithFiles {
    #[serde(default)]
    files: Vec<ChangedFile>,
}

#[derive(Deserialize)]
struct ChangedFile {
    filename: String,
    status: String,
    previous_filename: Option<String>,
}

#[derive(Deserialize)]
struct PullRequest {
    number: u64,
    html_url: String,
}

impl GitHub {
    pub fn new(settings: &GithubSettings) -> Result<GitHub, ForgeError> {
        Ok(GitHub {
            client: Client::new(settings)?,
            web: web_url(&settings.api_url, &settings.owner, &settings.name),
        })
    }

    /// Requests sent so far (total, content-creating).
    pub fn request_counts(&self) -> (u64, u64) {
        self.client.counts.snapshot()
    }

    async fn get(&self, suffix: &str, accept: &str) -> Result<client::Reply, ForgeError> {
        self.client
            .send(Method::GET, &self.client.repo_path(suffix), accept, None)
            .await
    }
}

#[async_trait]
impl Forge for GitHub {
    async fn head(&self, branch: &BranchName) -> Result<Option<CommitId>, ForgeError> {
        let reply = self
            .get(
                &format!("/git/ref/heads/{}", encode_path(branch.as_str())),
                JSON,
            )
            .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(CommitId(
                reply.json::<RefObject>("branch head")?.object.sha,
            ))),
            // 404: no such branch; 409: the repository is empty, so no branch exists yet.
            StatusCode::NOT_FOUND | StatusCode::CONFLICT => Ok(None),
            _ => Err(status_error(&reply, &format!("reading branch {branch}"))),
        }
    }

    async fn read_file(
        &self,
        at: &CommitId,
        path: &RepoPath,
    ) -> Result<Option<Vec<u8>>, ForgeError> {
        let suffix = format!("/contents/{}?ref={}", encode_path(path.as_str()), at.0);
        let reply = self.get(&suffix, RAW).await?;
        match reply.status {
            StatusCode::OK => Ok(Some(reply.body)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(status_error(&reply, &format!("reading {path}"))),
        }
    }

    async fn commit(&self, request: CommitRequest<'_>) -> Result<CommitInfo, ForgeError> {
        let Some(parent) = request.parent else {
            return Err(ForgeError::Rejected(
                "GitHub commits need a parent: create the branch first".to_owned(),
            ));
        };
        let body = graphql::create_commit_body(
            &self.client.name_with_owner(),
            request.branch.as_str(),
            &parent.0,
            request.changes,
            request.message,
        );
        let reply = self
            .client
            .send(Method::POST, self.client.graphql_path(), JSON, Some(&body))
            .await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, "createCommitOnBranch"));
        }
        let commit = graphql::parse_commit(&reply.body, request.branch.as_str(), &parent.0)?;
        let (total, creating) = self.request_counts();
        tracing::info!(commit = %commit.oid, requests_total = total, requests_content_creating = creating, "github commit");
        Ok(CommitInfo {
            id: CommitId(commit.oid),
            message: request.message.to_owned(),
            parent: Some(parent.clone()),
            merged: Vec::new(),
            url: commit.url,
            // A null signature is an unsigned commit, which GitHub shows as not verified.
            verified: Some(commit.signature.is_some_and(|s| s.is_valid)),
        })
    }

    async fn find_by_trailer(
        &self,
        branch: &BranchName,
        key: &str,
        value: &str,
        window: usize,
    ) -> Result<Option<CommitInfo>, ForgeError> {
        let start = encode_path(branch.as_str()).replace('/', "%2F");
        let mut seen = 0;
        let mut page = 1;
        while seen < window {
            let Some(commits) = history::list_page(self, &start, page).await? else {
                return Ok(None);
            };
            let count = commits.len();
            for c in commits.into_iter().take(window - seen) {
                if has_trailer(c.message(), key, value) {
                    return Ok(Some(c.into_info()));
                }
            }
            seen += count;
            if count < 100 {
                break;
            }
            page += 1;
        }
        Ok(None)
    }

    async fn changed_files(
        &self,
        commit: &CommitId,
    ) -> Result<Vec<(RepoPath, FileAction)>, ForgeError> {
        let reply = self.get(&format!("/commits/{}", commit.0), JSON).await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, &format!("reading commit {commit}")));
        }
        let detail: CommitWithFiles = reply.json("commit")?;
        let mut out = Vec::new();
        for f in detail.files {
            let action = match f.status.as_str() {
                "added" => FileAction::Create,
                "removed" => FileAction::Delete,
                "renamed" => {
                    if let Some(old) = f
                        .previous_filename
                        .as_deref()
                        .and_then(|p| RepoPath::parse(p).ok())
                    {
                        out.push((old, FileAction::Delete));
                    }
                    FileAction::Create
                }
                _ => FileAction::Update,
            };
            if let Ok(path) = RepoPath::parse(f.filename) {
                out.push((path, action));
            }
        }
        Ok(out)
    }

    async fn recent_commits(
        &self,
        from: &CommitId,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        history::first_parents(self, from, limit).await
    }

    async fn merged_commits(
        &self,
        merge: &CommitInfo,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        history::merged_commits(self, merge, limit).await
    }

    async fn reserve_write(&self) {
        self.client.pacer.reserve().await;
    }

    async fn changed_between(
        &self,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Option<Vec<RepoPath>>, ForgeError> {
        compare::changed_between(self, from, to).await
    }

    fn landed_review(&self, commit: &CommitInfo) -> Option<LandedReview> {
        reviews::pull_number(&commit.message).map(|number| LandedReview {
            number,
            url: format!("{}/pull/{number}", self.web),
        })
    }

    async fn commit_info(&self, commit: &CommitId) -> Result<CommitInfo, ForgeError> {
        let reply = self
            .get(&format!("/git/commits/{}", commit.0), JSON)
            .await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, &format!("reading commit {commit}")));
        }
        let c: GitCommit = reply.json("commit")?;
        let mut parents = c.parents.into_iter().map(|p| CommitId(p.sha));
        Ok(CommitInfo {
            id: CommitId(c.sha),
            message: c.message,
            parent: parents.next(),
            merged: parents.collect(),
            url: c.html_url,
            verified: c.verification.map(|v| v.verified),
        })
    }

    async fn create_branch(&self, branch: &BranchName, at: &CommitId) -> Result<(), ForgeError> {
        let body = json!({ "ref": format!("refs/heads/{branch}"), "sha": at.0 });
        let path = self.client.repo_path("/git/refs");
        let reply = self
            .client
            .send(Method::POST, &path, JSON, Some(&body))
            .await?;
        match reply.status {
            StatusCode::CREATED => Ok(()),
            StatusCode::UNPROCESSABLE_ENTITY if reply.message().contains("already exists") => {
                Err(ForgeError::Conflict {
                    branch: branch.to_string(),
                    expected: "(no branch)".to_owned(),
                    actual: "(exists)".to_owned(),
                })
            }
            _ => Err(status_error(&reply, &format!("creating branch {branch}"))),
        }
    }

    async fn contains(&self, base: &CommitId, commit: &CommitId) -> Result<bool, ForgeError> {
        review_branch::contains(self, base, commit).await
    }

    async fn fast_forward(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        review_branch::move_branch(self, branch, from, to, review_branch::Move::FastForward).await
    }

    async fn reset_branch(
        &self,
        branch: &BranchName,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<(), ForgeError> {
        review_branch::move_branch(self, branch, from, to, review_branch::Move::Reset).await
    }

    async fn latest_review(
        &self,
        head: &BranchName,
        base: &BranchName,
    ) -> Result<Option<ReviewStatus>, ForgeError> {
        review_branch::latest_review(self, head, base).await
    }

    async fn open_review(
        &self,
        head: &BranchName,
        base: &BranchName,
        title: &str,
        body: &str,
    ) -> Result<ReviewRequest, ForgeError> {
        let owner = self.client.name_with_owner();
        let owner = owner.split('/').next().unwrap_or_default().to_owned();
        let find = format!(
            "/pulls?head={}&base={}&state=open",
            encode_path(&format!("{owner}:{head}")).replace('/', "%2F"),
            encode_path(base.as_str()).replace('/', "%2F")
        );
        let existing = |reply: &client::Reply| -> Result<Option<ReviewRequest>, ForgeError> {
            let prs: Vec<PullRequest> = reply.json("pull request list")?;
            Ok(prs.into_iter().next().map(|p| ReviewRequest {
                number: p.number,
                url: p.html_url,
                reused: true,
            }))
        };
        let reply = self.get(&find, JSON).await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, "listing pull requests"));
        }
        if let Some(found) = existing(&reply)? {
            return Ok(found);
        }
        let create =
            json!({ "title": title, "head": head.as_str(), "base": base.as_str(), "body": body });
        let reply = self
            .client
            .send(
                Method::POST,
                &self.client.repo_path("/pulls"),
                JSON,
                Some(&create),
            )
            .await?;
        match reply.status {
            StatusCode::CREATED => {
                let p: PullRequest = reply.json("pull request")?;
                Ok(ReviewRequest {
                    number: p.number,
                    url: p.html_url,
                    reused: false,
                })
            }
            // Someone opened it between our look and our create: use theirs.
            StatusCode::UNPROCESSABLE_ENTITY
                if reply
                    .error_messages()
                    .iter()
                    .any(|m| m.contains("already exists")) =>
            {
                let again = self.get(&find, JSON).await?;
                existing(&again)?.ok_or_else(|| status_error(&reply, "opening a pull request"))
            }
            _ => Err(status_error(&reply, "opening a pull request")),
        }
    }
}
