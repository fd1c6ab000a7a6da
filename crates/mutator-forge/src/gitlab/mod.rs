//! The GitLab backend: reads through the REST API and writes each change set as one call to
//! the Commits API with several actions. GitLab offers no compare-and-swap on the branch head;
//! what protects a change is per file: every update and delete carries the `last_commit_id` of
//! the file as read, and a create fails on a path that exists. A commit by someone else to
//! other files in between is built upon, never overwritten.
//!
//! One commit costs one content-creating request (plus one `HEAD` per touched file whose last
//! commit was not learnt while reading it).

mod client;
mod review_branch;
mod reviews;
mod settings;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine;
use futures_util::{StreamExt, TryStreamExt, stream};
use http::{Method, StatusCode};
use mutator_core::message::has_trailer;
use mutator_core::{BranchName, ChangeSet, FileAction, FileOp, RepoPath};
use serde::Deserialize;
use serde_json::json;

pub use settings::{GITLAB_API, GitlabAuth, GitlabSettings, clone_url};

use self::client::{Client, encode_segment, status_error};
use crate::error::ForgeError;
use crate::forge::{
    CommitId, CommitInfo, CommitRequest, Forge, LandedReview, ReviewRequest, ReviewStatus,
};
use crate::retry::retry_read;

/// Files whose last commit is remembered between a read and the commit that follows it.
const LAST_COMMIT_CACHE: usize = 4096;
/// Last-commit lookups in flight at once for one commit.
const LOOKUP_CONCURRENCY: usize = 8;

/// A project on GitLab.
pub struct GitLab {
    client: Client,
    /// (commit, path) → the file's last commit at that commit, or `None` when absent there.
    last_commits: Mutex<HashMap<(String, String), Option<String>>>,
    /// The web root (`https://gitlab.com`), under which merge requests have their pages.
    web_root: String,
    /// The project as configured: a path, or a numeric id.
    project: String,
}

impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Branch {
    commit: CommitJson,
}

#[derive(Deserialize)]
struct CommitJson {
    id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    parent_ids: Vec<String>,
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct FileJson {
    content: String,
    last_commit_id: Option<String>,
}

#[derive(Deserialize)]
struct DiffJson {
    old_path: String,
    new_path: String,
    #[serde(default)]
    new_file: bool,
    #[serde(default)]
    renamed_file: bool,
    #[serde(default)]
    deleted_file: bool,
}

#[derive(Deserialize)]
struct MergeRequestJson {
    iid: u64,
    web_url: String,
}

impl GitLab {
    pub fn new(settings: &GitlabSettings) -> Result<GitLab, ForgeError> {
        Ok(GitLab {
            client: Client::new(settings)?,
            last_commits: Mutex::new(HashMap::new()),
            web_root: settings::web_root(&settings.api_url).to_owned(),
            project: settings.project.clone(),
        })
    }

    fn remember(&self, at: &CommitId, path: &RepoPath, last: Option<String>) {
        if let Ok(mut cache) = self.last_commits.lock() {
            if cache.len() >= LAST_COMMIT_CACHE {
                cache.clear();
            }
            cache.insert((at.0.clone(), path.to_string()), last);
        }
    }

    fn recalled(&self, at: &CommitId, path: &RepoPath) -> Option<Option<String>> {
        self.last_commits
            .lock()
            .ok()?
            .get(&(at.0.clone(), path.to_string()))
            .cloned()
    }

    /// After our own commit `commit` on top of exactly `parent`: every file's last commit is
    /// what it was at `parent`, except the changed files, whose last commit is `commit`. Saves
    /// the `HEAD` requests of the next commit on this branch.
    fn carry_forward(&self, parent: &CommitId, commit: &CommitId, changes: &ChangeSet) {
        let Ok(mut cache) = self.last_commits.lock() else {
            return;
        };
        let carried: Vec<(String, Option<String>)> = cache
            .iter()
            .filter(|((at, _), _)| *at == parent.0)
            .map(|((_, path), last)| (path.clone(), last.clone()))
            .collect();
        if cache.len() + carried.len() + changes.files().len() > LAST_COMMIT_CACHE {
            cache.clear();
        }
        for (path, last) in carried {
            cache.insert((commit.0.clone(), path), last);
        }
        for file in changes.files() {
            let last = match file.op {
                FileOp::Put(_) => Some(commit.0.clone()),
                FileOp::Delete => None,
            };
            cache.insert((commit.0.clone(), file.path.to_string()), last);
        }
    }

    /// The last commit of every file of `changes` at `at`, in order.
    async fn last_commits_of(
        &self,
        at: &CommitId,
        changes: &ChangeSet,
    ) -> Result<Vec<Option<String>>, ForgeError> {
        let lookups: Vec<_> = changes
            .files()
            .iter()
            .map(|file| {
                Box::pin(retry_read(file.path.as_str(), move || {
                    self.last_commit(at, &file.path)
                }))
            })
            .collect();
        stream::iter(lookups)
            .buffered(LOOKUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The last commit of `path` at `at`, from the cache or a `HEAD` request.
    async fn last_commit(
        &self,
        at: &CommitId,
        path: &RepoPath,
    ) -> Result<Option<String>, ForgeError> {
        if let Some(known) = self.recalled(at, path) {
            return Ok(known);
        }
        let suffix = format!(
            "/repository/files/{}?ref={}",
            encode_segment(path.as_str()),
            at.0
        );
        let reply = self
            .client
            .send(Method::HEAD, &self.client.project_path(&suffix), None)
            .await?;
        match reply.status {
            StatusCode::OK => {
                let last = reply
                    .headers
                    .get("x-gitlab-last-commit-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ForgeError::Transient(format!("GitLab sent no last commit for {path}"))
                    })?;
                self.remember(at, path, Some(last.clone()));
                Ok(Some(last))
            }
            StatusCode::NOT_FOUND => {
                self.remember(at, path, None);
                Ok(None)
            }
            _ => Err(status_error(&reply, &format!("reading {path}"))),
        }
    }

    async fn get(&self, suffix: &str) -> Result<client::Reply, ForgeError> {
        self.client
            .send(Method::GET, &self.client.project_path(suffix), None)
            .await
    }
}

fn info(c: CommitJson) -> CommitInfo {
    let mut parents = c.parent_ids.into_iter().map(CommitId);
    CommitInfo {
        id: CommitId(c.id),
        message: c.message,
        parent: parents.next(),
        merged: parents.collect(),
        url: c.web_url,
        verified: None,
    }
}

/// GitLab answers every commit failure with 400 and a message; these mean "someone changed
/// what you planned on": re-read and re-apply.
fn is_conflict(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "has changed since you started editing",
        "already exists",
        "doesn't exist",
        "does not exist",
        "could not update",
        "please refresh",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

#[async_trait]
impl Forge for GitLab {
    fn commits_on_exact_parent(&self) -> bool {
        false
    }

    async fn head(&self, branch: &BranchName) -> Result<Option<CommitId>, ForgeError> {
        let reply = self
            .get(&format!(
                "/repository/branches/{}",
                encode_segment(branch.as_str())
            ))
            .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(CommitId(reply.json::<Branch>("branch")?.commit.id))),
            StatusCode::NOT_FOUND if reply.message().contains("Branch") => Ok(None),
            _ => Err(status_error(&reply, &format!("reading branch {branch}"))),
        }
    }

    async fn read_file(
        &self,
        at: &CommitId,
        path: &RepoPath,
    ) -> Result<Option<Vec<u8>>, ForgeError> {
        let reply = self
            .get(&format!(
                "/repository/files/{}?ref={}",
                encode_segment(path.as_str()),
                at.0
            ))
            .await?;
        match reply.status {
            StatusCode::OK => {
                let file: FileJson = reply.json("file")?;
                let cleaned: String = file
                    .content
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(cleaned)
                    .map_err(|e| {
                        ForgeError::Transient(format!("{path}: GitLab sent bad base64: {e}"))
                    })?;
                self.remember(at, path, file.last_commit_id);
                Ok(Some(bytes))
            }
            StatusCode::NOT_FOUND => {
                self.remember(at, path, None);
                Ok(None)
            }
            _ => Err(status_error(&reply, &format!("reading {path}"))),
        }
    }

    async fn commit(&self, request: CommitRequest<'_>) -> Result<CommitInfo, ForgeError> {
        let Some(parent) = request.parent else {
            return Err(ForgeError::Rejected(
                "GitLab commits need a parent: create the branch first".to_owned(),
            ));
        };
        // The lookups the cache cannot answer run a few at a time: on a slow forge, one after
        // the other they would outlast the head they were made for.
        let lasts = self.last_commits_of(parent, request.changes).await?;
        let mut actions = Vec::new();
        for (file, last) in request.changes.files().iter().zip(lasts) {
            let action = match (&file.op, &last) {
                (FileOp::Put(bytes), None) => json!({
                    "action": "create", "file_path": file.path.as_str(), "encoding": "base64",
                    "content": base64::engine::general_purpose::STANDARD.encode(bytes),
                }),
                (FileOp::Put(bytes), Some(last)) => json!({
                    "action": "update", "file_path": file.path.as_str(), "encoding": "base64",
                    "content": base64::engine::general_purpose::STANDARD.encode(bytes),
                    "last_commit_id": last,
                }),
                (FileOp::Delete, Some(last)) => json!({
                    "action": "delete", "file_path": file.path.as_str(), "last_commit_id": last,
                }),
                // Deleting what is already gone changes nothing.
                (FileOp::Delete, None) => continue,
            };
            actions.push(action);
        }
        let body = json!({
            "branch": request.branch.as_str(),
            "commit_message": request.message,
            "actions": actions,
            "author_name": request.author.name,
            "author_email": request.author.email,
        });
        let reply = self
            .client
            .send(
                Method::POST,
                &self.client.project_path("/repository/commits"),
                Some(&body),
            )
            .await?;
        match reply.status {
            StatusCode::OK | StatusCode::CREATED => {
                let commit: CommitJson = reply.json("commit")?;
                if commit.parent_ids.first() != Some(&parent.0) {
                    // Someone committed in between; the per-file checks kept their work.
                    tracing::info!(commit = %commit.id, expected_parent = %parent, "gitlab built on a newer head");
                } else {
                    self.carry_forward(parent, &CommitId(commit.id.clone()), request.changes);
                }
                let mut out = info(commit);
                out.message = request.message.to_owned();
                Ok(out)
            }
            StatusCode::BAD_REQUEST if is_conflict(&reply.message()) => Err(ForgeError::Conflict {
                branch: request.branch.to_string(),
                expected: parent.to_string(),
                actual: reply.message(),
            }),
            StatusCode::BAD_REQUEST if reply.message().contains("on a branch") => Err(
                ForgeError::NotFound(format!("branch {} does not exist", request.branch)),
            ),
            _ => Err(status_error(&reply, "creating the commit")),
        }
    }

    async fn find_by_trailer(
        &self,
        branch: &BranchName,
        key: &str,
        value: &str,
        window: usize,
    ) -> Result<Option<CommitInfo>, ForgeError> {
        const PAGE: usize = 100;
        let mut seen = 0;
        let mut page = 1;
        while seen < window {
            let suffix = format!(
                "/repository/commits?ref_name={}&per_page={PAGE}&page={page}",
                encode_segment(branch.as_str())
            );
            let reply = self.get(&suffix).await?;
            match reply.status {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => return Ok(None),
                _ => return Err(status_error(&reply, "listing commits")),
            }
            let commits: Vec<CommitJson> = reply.json("commit list")?;
            let count = commits.len();
            for c in commits.into_iter().take(window - seen) {
                if has_trailer(&c.message, key, value) {
                    return Ok(Some(info(c)));
                }
            }
            seen += count;
            if count < PAGE {
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
        let reply = self
            .get(&format!(
                "/repository/commits/{}/diff?per_page=100",
                commit.0
            ))
            .await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, &format!("reading commit {commit}")));
        }
        let diffs: Vec<DiffJson> = reply.json("diff")?;
        let mut out = Vec::new();
        for d in diffs {
            let parsed = |p: &str| RepoPath::parse(p).ok();
            if d.deleted_file {
                out.extend(parsed(&d.old_path).map(|p| (p, FileAction::Delete)));
            } else if d.new_file {
                out.extend(parsed(&d.new_path).map(|p| (p, FileAction::Create)));
            } else if d.renamed_file {
                out.extend(parsed(&d.old_path).map(|p| (p, FileAction::Delete)));
                out.extend(parsed(&d.new_path).map(|p| (p, FileAction::Create)));
            } else {
                out.extend(parsed(&d.new_path).map(|p| (p, FileAction::Update)));
            }
        }
        Ok(out)
    }

    async fn recent_commits(
        &self,
        from: &CommitId,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        const PAGE: usize = 100;
        let mut out = Vec::new();
        let mut page = 1;
        while out.len() < limit {
            let reply = self
                .get(&format!(
                    "/repository/commits?ref_name={}&first_parent=true&per_page={PAGE}&page={page}",
                    from.0
                ))
                .await?;
            if reply.status != StatusCode::OK {
                return Err(status_error(&reply, "listing commits"));
            }
            let commits: Vec<CommitJson> = reply.json("commit list")?;
            let count = commits.len();
            out.extend(commits.into_iter().take(limit - out.len()).map(info));
            if count < PAGE {
                break;
            }
            page += 1;
        }
        Ok(out)
    }

    async fn merged_commits(
        &self,
        merge: &CommitInfo,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, ForgeError> {
        let Some(first) = &merge.parent else {
            return Ok(Vec::new());
        };
        let mut out: Vec<CommitInfo> = Vec::new();
        for other in &merge.merged {
            if out.len() >= limit {
                break;
            }
            // A revision range: what `other` reaches and `first` does not, newest first.
            let reply = self
                .get(&format!(
                    "/repository/commits?ref_name={}..{}&per_page={}",
                    first.0,
                    other.0,
                    (limit - out.len()).min(100)
                ))
                .await?;
            if reply.status != StatusCode::OK {
                return Err(status_error(&reply, "listing merged commits"));
            }
            let commits: Vec<CommitJson> = reply.json("commit list")?;
            for c in commits {
                // Two merged parents may share commits; each is listed once.
                if out.len() < limit && out.iter().all(|o| o.id.0 != c.id) {
                    out.push(info(c));
                }
            }
        }
        Ok(out)
    }

    fn landed_review(&self, commit: &CommitInfo) -> Option<LandedReview> {
        let (path, number) = reviews::merge_request(&commit.message)?;
        // A short reference (`!IID`) is this project's; a numeric project id has no web path.
        let path = match path {
            "" if self.project.bytes().all(|b| b.is_ascii_digit()) => return None,
            "" => self.project.as_str(),
            path => path,
        };
        Some(LandedReview {
            number,
            url: format!("{}/{path}/-/merge_requests/{number}", self.web_root),
        })
    }

    async fn commit_info(&self, commit: &CommitId) -> Result<CommitInfo, ForgeError> {
        let reply = self
            .get(&format!("/repository/commits/{}", commit.0))
            .await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, &format!("reading commit {commit}")));
        }
        Ok(info(reply.json("commit")?))
    }

    async fn create_branch(&self, branch: &BranchName, at: &CommitId) -> Result<(), ForgeError> {
        let body = json!({ "branch": branch.as_str(), "ref": at.0 });
        let reply = self
            .client
            .send(
                Method::POST,
                &self.client.project_path("/repository/branches"),
                Some(&body),
            )
            .await?;
        match reply.status {
            StatusCode::CREATED | StatusCode::OK => Ok(()),
            StatusCode::BAD_REQUEST if reply.message().contains("already exists") => {
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
        let find = format!(
            "/merge_requests?source_branch={}&target_branch={}&state=opened",
            encode_segment(head.as_str()),
            encode_segment(base.as_str())
        );
        let existing = |reply: &client::Reply| -> Result<Option<ReviewRequest>, ForgeError> {
            let mrs: Vec<MergeRequestJson> = reply.json("merge request list")?;
            Ok(mrs.into_iter().next().map(|m| ReviewRequest {
                number: m.iid,
                url: m.web_url,
                reused: true,
            }))
        };
        let reply = self.get(&find).await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&reply, "listing merge requests"));
        }
        if let Some(found) = existing(&reply)? {
            return Ok(found);
        }
        let create = json!({ "source_branch": head.as_str(), "target_branch": base.as_str(), "title": title, "description": body });
        let reply = self
            .client
            .send(
                Method::POST,
                &self.client.project_path("/merge_requests"),
                Some(&create),
            )
            .await?;
        match reply.status {
            StatusCode::CREATED | StatusCode::OK => {
                let m: MergeRequestJson = reply.json("merge request")?;
                Ok(ReviewRequest {
                    number: m.iid,
                    url: m.web_url,
                    reused: false,
                })
            }
            // Opened by someone else between our look and our create: use theirs.
            StatusCode::CONFLICT => {
                let again = self.get(&find).await?;
                existing(&again)?.ok_or_else(|| status_error(&reply, "opening a merge request"))
            }
            _ => Err(status_error(&reply, "opening a merge request")),
        }
    }
}
