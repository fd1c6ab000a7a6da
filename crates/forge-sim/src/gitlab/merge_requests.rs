//! Merge requests: list, create, get, and the control hooks that merge or close one
//! (forge-facts §G.4).
//!
//! Merge requests live in memory. `sha` (GitLab's diff head SHA) is read from the source branch
//! whenever an open one is shown; a merged or closed one keeps the head it had then, since
//! GitLab refreshes only open merge requests on a push to their source branch.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use git2::Repository;
use serde::Serialize;
use serde_json::{Value, json};

use super::auth::GlCaller;
use super::error::GlError;
use super::json::{gitlab_time, user_ref_json};
use super::params;
use super::server::{GlState, blocking};
use super::state::{GitlabState, Project};
use crate::error::{SimError, json_response};
use crate::git_store::{self, CasError};

/// State of a merge request, as GitLab names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeRequestState {
    Opened,
    Closed,
    Merged,
}

impl MergeRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeRequestState::Opened => "opened",
            MergeRequestState::Closed => "closed",
            MergeRequestState::Merged => "merged",
        }
    }
}

/// A merge request as the simulator stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeRequest {
    /// Global id.
    pub id: u64,
    /// Number within the project (`!iid`).
    pub iid: u64,
    pub title: String,
    pub description: Option<String>,
    pub source_branch: String,
    pub target_branch: String,
    pub state: MergeRequestState,
    /// Username of the token that opened it.
    pub author: String,
    /// Set when merged through [`super::GitlabControl::merge_merge_request`].
    pub merge_commit_sha: Option<String>,
    /// The source branch's head when it was merged or closed (`None` while open).
    pub final_sha: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
}

#[derive(Debug)]
pub(crate) struct MergeRequests {
    by_project: BTreeMap<u64, Vec<MergeRequest>>,
    next_id: u64,
}

impl Default for MergeRequests {
    fn default() -> Self {
        MergeRequests {
            by_project: BTreeMap::new(),
            next_id: 5001,
        }
    }
}

impl MergeRequests {
    pub(crate) fn get(&self, project: u64, iid: u64) -> Option<MergeRequest> {
        self.by_project
            .get(&project)
            .and_then(|list| list.iter().find(|m| m.iid == iid).cloned())
    }

    fn all(&self, project: u64) -> Vec<MergeRequest> {
        self.by_project.get(&project).cloned().unwrap_or_default()
    }

    fn set_merged(&mut self, project: u64, iid: u64, merge_commit: String, head: String) {
        if let Some(mr) = self.find_mut(project, iid) {
            mr.state = MergeRequestState::Merged;
            mr.merge_commit_sha = Some(merge_commit);
            mr.final_sha = Some(head);
        }
    }

    fn set_closed(&mut self, project: u64, iid: u64, head: Option<String>) {
        if let Some(mr) = self.find_mut(project, iid) {
            mr.state = MergeRequestState::Closed;
            mr.final_sha = head;
        }
    }

    fn find_mut(&mut self, project: u64, iid: u64) -> Option<&mut MergeRequest> {
        self.by_project
            .get_mut(&project)
            .and_then(|list| list.iter_mut().find(|m| m.iid == iid))
    }
}

fn mr_json(base: &str, project: &Project, repo: &Repository, mr: &MergeRequest) -> Value {
    let sha = match mr.state {
        MergeRequestState::Opened => git_store::branch_head(repo, &mr.source_branch)
            .ok()
            .flatten()
            .map(|o| o.to_string()),
        _ => mr.final_sha.clone(),
    };
    json!({
        "id": mr.id,
        "iid": mr.iid,
        "project_id": project.id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state.as_str(),
        "created_at": gitlab_time(mr.created_at),
        "updated_at": gitlab_time(mr.created_at),
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "source_project_id": project.id,
        "target_project_id": project.id,
        "author": user_ref_json(base, &mr.author),
        "draft": false,
        "work_in_progress": false,
        "merge_status": "can_be_merged",
        "detailed_merge_status": if mr.state == MergeRequestState::Opened { "mergeable" } else { "not_open" },
        "sha": sha,
        "merge_commit_sha": mr.merge_commit_sha,
        "squash_commit_sha": null,
        "references": { "short": format!("!{}", mr.iid), "full": format!("{}!{}", project.path, mr.iid) },
        "web_url": format!("{}/-/merge_requests/{}", project.web_url(base), mr.iid),
    })
}

/// `GET /projects/:id/merge_requests?source_branch=&target_branch=&state=` (default state
/// `all`), newest first.
pub(crate) async fn list(
    State(state): State<GlState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let q = params::parse_form(query.as_deref().unwrap_or(""));
    let wanted = params::text(&q, "state").unwrap_or_else(|| "all".to_owned());
    let source = params::text(&q, "source_branch");
    let target = params::text(&q, "target_branch");
    let mrs = state.merge_requests().all(project.id);
    let base = state.base_url();
    blocking(move || {
        let repo = project.open()?;
        let items: Vec<Value> = mrs
            .iter()
            .rev()
            .filter(|m| wanted == "all" || m.state.as_str() == wanted)
            .filter(|m| source.as_ref().is_none_or(|s| *s == m.source_branch))
            .filter(|m| target.as_ref().is_none_or(|t| *t == m.target_branch))
            .map(|m| mr_json(&base, &project, &repo, m))
            .collect();
        Ok(json_response(StatusCode::OK, &Value::Array(items)))
    })
    .await
}

/// `GET /projects/:id/merge_requests/:iid`.
pub(crate) async fn get_one(
    State(state): State<GlState>,
    Path((id, iid)): Path<(String, String)>,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let mr = iid
        .parse::<u64>()
        .ok()
        .and_then(|iid| state.merge_requests().get(project.id, iid))
        .ok_or_else(|| GlError::not_found("Merge Request"))?;
    let base = state.base_url();
    blocking(move || {
        let repo = project.open()?;
        Ok(json_response(
            StatusCode::OK,
            &mr_json(&base, &project, &repo, &mr),
        ))
    })
    .await
}

/// `POST /projects/:id/merge_requests` (JSON or form) → 201; duplicate → 409 (array message);
/// `base` validation errors → 422 (array message).
pub(crate) async fn create(
    State(state): State<GlState>,
    Extension(caller): Extension<GlCaller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GlError> {
    let project = state.project_or_404(&id)?;
    let p = params::parse_request(query.as_deref(), &headers, &body)?;
    let [source, target, title]: [String; 3] =
        params::required(&p, &["source_branch", "target_branch", "title"])?
            .try_into()
            .map_err(|_| GlError::internal("parameter count"))?;
    let description = params::text(&p, "description");
    let base = state.base_url();
    let st = std::sync::Arc::clone(&state);
    blocking(move || {
        let repo = project.open()?;
        let mut problems = Vec::new();
        if source == target {
            problems.push("You must select different branches".to_owned());
        }
        if git_store::branch_head(&repo, &source)?.is_none() {
            problems.push(format!("Source branch \"{source}\" does not exist"));
        }
        if git_store::branch_head(&repo, &target)?.is_none() {
            problems.push(format!("Target branch \"{target}\" does not exist"));
        }
        if !problems.is_empty() {
            return Err(GlError::messages(
                StatusCode::UNPROCESSABLE_ENTITY,
                problems,
            ));
        }
        let mr = {
            let mut all = st.merge_requests();
            let existing = all.all(project.id);
            if let Some(open) = existing.iter().find(|m| {
                m.state == MergeRequestState::Opened
                    && m.source_branch == source
                    && m.target_branch == target
            }) {
                return Err(GlError::messages(
                    StatusCode::CONFLICT,
                    vec![format!(
                        "Another open merge request already exists for this source branch: !{}",
                        open.iid
                    )],
                ));
            }
            let id = all.next_id;
            all.next_id += 1;
            let mr = MergeRequest {
                id,
                iid: existing.iter().map(|m| m.iid).max().unwrap_or(0) + 1,
                title,
                description,
                source_branch: source,
                target_branch: target,
                state: MergeRequestState::Opened,
                author: caller.username.clone(),
                merge_commit_sha: None,
                final_sha: None,
                created_at: crate::clock::now_epoch(),
            };
            all.by_project
                .entry(project.id)
                .or_default()
                .push(mr.clone());
            mr
        };
        st.stats().merge_requests_created += 1;
        Ok(json_response(
            StatusCode::CREATED,
            &mr_json(&base, &project, &repo, &mr),
        ))
    })
    .await
}

/// Merges `!iid` with a merge commit (GitLab's default method) and returns the target's new
/// head.
pub(crate) fn merge(state: &GitlabState, project: &Project, iid: u64) -> Result<String, SimError> {
    let mr = state
        .merge_requests()
        .get(project.id, iid)
        .ok_or(SimError::UnknownPull(iid))?;
    if mr.state != MergeRequestState::Opened {
        return Err(SimError::NotMergeable(format!(
            "!{iid} is {}",
            mr.state.as_str()
        )));
    }
    let guard = project.lock_writes();
    let repo = project.open()?;
    let source = git_store::branch_head(&repo, &mr.source_branch)?
        .ok_or_else(|| SimError::UnknownBranch(mr.source_branch.clone()))?;
    let target = git_store::branch_head(&repo, &mr.target_branch)?
        .ok_or_else(|| SimError::UnknownBranch(mr.target_branch.clone()))?;
    if source == target || repo.graph_descendant_of(target, source)? {
        return Err(SimError::NotMergeable(format!(
            "no commits between {} and {}",
            mr.target_branch, mr.source_branch
        )));
    }
    let tree = git_store::merge_tree(&repo, target, source)?
        .ok_or_else(|| SimError::NotMergeable("merge conflicts".to_owned()))?;
    let merger = git_store::Person::new("gitlab-sim-merger", "merger@gitlab-sim.invalid");
    let message = format!(
        "Merge branch '{}' into '{}'\n\n{}\n\nSee merge request {}!{iid}",
        mr.source_branch, mr.target_branch, mr.title, project.path
    );
    let oid = git_store::write_commit(
        &repo,
        tree,
        &[target, source],
        &merger,
        &merger,
        &message,
        None,
    )?;
    match git_store::cas_ref(
        &repo,
        &format!("refs/heads/{}", mr.target_branch),
        oid,
        Some(target),
        "forge-sim gitlab: merge",
    ) {
        Ok(()) => {}
        Err(CasError::Stale) => {
            return Err(SimError::NotMergeable(
                "target branch moved during merge".to_owned(),
            ));
        }
        Err(CasError::Git(e)) => return Err(e.into()),
    }
    drop(guard);
    state
        .merge_requests()
        .set_merged(project.id, iid, oid.to_string(), source.to_string());
    Ok(oid.to_string())
}

/// Closes `!iid` without merging it; its source branch stays as it is.
pub(crate) fn close(state: &GitlabState, project: &Project, iid: u64) -> Result<(), SimError> {
    let mr = state
        .merge_requests()
        .get(project.id, iid)
        .ok_or(SimError::UnknownPull(iid))?;
    if mr.state != MergeRequestState::Opened {
        return Err(SimError::Invalid(format!(
            "!{iid} is {}",
            mr.state.as_str()
        )));
    }
    let _guard = project.lock_writes();
    let repo = project.open()?;
    let head = git_store::branch_head(&repo, &mr.source_branch)?.map(|h| h.to_string());
    state.merge_requests().set_closed(project.id, iid, head);
    Ok(())
}
