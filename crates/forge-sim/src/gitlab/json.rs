//! JSON shapes shared by several GitLab endpoints: users, projects, commits.

use serde_json::{Value, json};

use super::auth::{GlCaller, user_email};
use super::state::Project;
use crate::git_store;

/// GitLab's timestamp style: `2024-01-02T03:04:05.000+00:00`.
pub(crate) fn gitlab_time(epoch: i64) -> String {
    let iso = crate::clock::rfc3339(epoch);
    format!("{}.000+00:00", iso.trim_end_matches('Z'))
}

pub(crate) fn user_json(base: &str, caller: &GlCaller) -> Value {
    json!({
        "id": caller.user_id,
        "username": caller.username,
        "name": caller.username,
        "state": "active",
        "locked": false,
        "avatar_url": null,
        "web_url": format!("{base}/{}", caller.username),
        "email": caller.email(),
        "commit_email": caller.email(),
    })
}

/// A short user object (`author` of merge requests).
pub(crate) fn user_ref_json(base: &str, username: &str) -> Value {
    json!({
        "username": username,
        "name": username,
        "state": "active",
        "web_url": format!("{base}/{username}"),
        "email": user_email(username),
    })
}

pub(crate) fn project_json(
    base: &str,
    project: &Project,
    default_branch: Option<&str>,
    empty: bool,
) -> Value {
    let web = project.web_url(base);
    let host = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split(':')
        .next()
        .unwrap_or("127.0.0.1");
    json!({
        "id": project.id,
        "name": project.name(),
        "path": project.name(),
        "path_with_namespace": project.path,
        "name_with_namespace": project.path.replace('/', " / "),
        "namespace": {
            "full_path": project.namespace(),
            "path": project.namespace().rsplit('/').next().unwrap_or(""),
            "kind": "group",
        },
        "default_branch": default_branch,
        "visibility": "private",
        "archived": false,
        "empty_repo": empty,
        "web_url": web,
        "http_url_to_repo": format!("{web}.git"),
        "ssh_url_to_repo": format!("git@{host}:{}.git", project.path),
    })
}

fn message_of(commit: &git2::Commit<'_>) -> String {
    String::from_utf8_lossy(commit.message_bytes()).into_owned()
}

/// `{base}/<path>/-/commit/<sha>`.
pub(crate) fn commit_url(base: &str, project: &Project, sha: &str) -> String {
    format!("{}/-/commit/{sha}", project.web_url(base))
}

/// The commit as GitLab's `Commit` entity shows it (lists, branch heads).
pub(crate) fn commit_json(base: &str, project: &Project, commit: &git2::Commit<'_>) -> Value {
    let id = commit.id().to_string();
    let message = message_of(commit);
    let title = message.lines().next().unwrap_or_default().to_owned();
    let author = commit.author();
    let committer = commit.committer();
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    json!({
        "id": id,
        "short_id": id.get(..8).unwrap_or(&id),
        "created_at": gitlab_time(committer.when().seconds()),
        "parent_ids": commit.parent_ids().map(|p| p.to_string()).collect::<Vec<_>>(),
        "title": title,
        "message": message,
        "author_name": lossy(author.name_bytes()),
        "author_email": lossy(author.email_bytes()),
        "authored_date": gitlab_time(author.when().seconds()),
        "committer_name": lossy(committer.name_bytes()),
        "committer_email": lossy(committer.email_bytes()),
        "committed_date": gitlab_time(committer.when().seconds()),
        "trailers": {},
        "extended_trailers": {},
        "web_url": commit_url(base, project, &id),
    })
}

/// The commit as `CommitDetail` shows it: with `stats` (unless turned off) and pipeline fields.
pub(crate) fn commit_detail_json(
    base: &str,
    project: &Project,
    repo: &git2::Repository,
    commit: &git2::Commit<'_>,
    with_stats: bool,
) -> Result<Value, git2::Error> {
    let mut v = commit_json(base, project, commit);
    if let Some(obj) = v.as_object_mut() {
        if with_stats {
            let (additions, deletions) = git_store::changed_files(repo, commit.id())?
                .iter()
                .fold((0, 0), |(a, d), f| (a + f.additions, d + f.deletions));
            obj.insert(
                "stats".into(),
                json!({ "additions": additions, "deletions": deletions, "total": additions + deletions }),
            );
        }
        obj.insert("status".into(), Value::Null);
        obj.insert("last_pipeline".into(), Value::Null);
        obj.insert("project_id".into(), json!(project.id));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_gitlab_times() {
        assert_eq!(gitlab_time(1_700_000_000), "2023-11-14T22:13:20.000+00:00");
    }
}
