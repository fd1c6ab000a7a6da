//! The body of `POST /projects/:id/repository/commits`, parsed and validated before anything
//! touches the repository (forge-facts §G.2: every failure is 400).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::error::GlError;
use super::params::{self, Params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionKind {
    Create,
    Update,
    Delete,
    Move,
    Chmod,
}

impl ActionKind {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(ActionKind::Create),
            "update" => Some(ActionKind::Update),
            "delete" => Some(ActionKind::Delete),
            "move" => Some(ActionKind::Move),
            "chmod" => Some(ActionKind::Chmod),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Delete => "delete",
            ActionKind::Move => "move",
            ActionKind::Chmod => "chmod",
        }
    }

    /// Actions whose `last_commit_id` is checked (forge-facts §G.2).
    pub(crate) fn checks_last_commit(self) -> bool {
        !matches!(self, ActionKind::Create)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub(crate) kind: ActionKind,
    pub(crate) file_path: String,
    pub(crate) previous_path: Option<String>,
    /// Decoded bytes; `None` when not given (delete, chmod, move keeping its content).
    pub(crate) content: Option<Vec<u8>>,
    pub(crate) last_commit_id: Option<String>,
    pub(crate) execute_filemode: Option<bool>,
}

impl Action {
    /// The path whose history `last_commit_id` refers to (the old path of a move).
    pub(crate) fn checked_path(&self) -> &str {
        match (self.kind, &self.previous_path) {
            (ActionKind::Move, Some(prev)) => prev,
            _ => &self.file_path,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CommitRequest {
    pub(crate) branch: String,
    pub(crate) message: String,
    pub(crate) start_branch: Option<String>,
    pub(crate) start_sha: Option<String>,
    pub(crate) actions: Vec<Action>,
    pub(crate) author_name: Option<String>,
    pub(crate) author_email: Option<String>,
    pub(crate) force: bool,
    pub(crate) stats: bool,
}

fn non_empty(p: &Params, key: &str) -> Option<String> {
    params::text(p, key).filter(|s| !s.is_empty())
}

const ACTION_VALUES: &str = "create, update, move, delete, chmod";

fn parse_action(i: usize, value: &Value) -> Result<Action, GlError> {
    let field = |name: &str| format!("actions[{i}][{name}]");
    let empty = Params::new();
    let obj = value.as_object().unwrap_or(&empty);
    let kind = params::text(obj, "action")
        .and_then(|a| ActionKind::parse(&a))
        .ok_or_else(|| {
            GlError::bad_request(format!(
                "{} must be one of: {ACTION_VALUES}",
                field("action")
            ))
        })?;
    let file_path = non_empty(obj, "file_path")
        .ok_or_else(|| GlError::bad_request(format!("{} is missing", field("file_path"))))?;
    let encoding = non_empty(obj, "encoding").unwrap_or_else(|| "text".to_owned());
    if encoding != "text" && encoding != "base64" {
        return Err(GlError::bad_request(format!(
            "{} must be text or base64",
            field("encoding")
        )));
    }
    let content = match params::text(obj, "content") {
        None => None,
        Some(text) if encoding == "base64" => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            Some(STANDARD.decode(compact).map_err(|_| {
                GlError::bad_request(format!("{} is not valid base64", field("content")))
            })?)
        }
        Some(text) => Some(text.into_bytes()),
    };
    let previous_path = non_empty(obj, "previous_path");
    let execute_filemode = params::boolean(obj, "execute_filemode")?;
    match kind {
        ActionKind::Create | ActionKind::Update if content.is_none() => {
            return Err(GlError::bad_request(format!(
                "{} is required for {} action",
                field("content"),
                kind.name()
            )));
        }
        ActionKind::Move if previous_path.is_none() => {
            return Err(GlError::bad_request(format!(
                "{} is required for move action",
                field("previous_path")
            )));
        }
        ActionKind::Chmod if execute_filemode.is_none() => {
            return Err(GlError::bad_request(format!(
                "{} is required for chmod action",
                field("execute_filemode")
            )));
        }
        _ => {}
    }
    Ok(Action {
        kind,
        file_path,
        previous_path,
        content,
        last_commit_id: non_empty(obj, "last_commit_id"),
        execute_filemode,
    })
}

impl CommitRequest {
    pub(crate) fn from_params(p: &Params) -> Result<Self, GlError> {
        let mut problems = Vec::new();
        for key in ["branch", "commit_message"] {
            match params::text(p, key) {
                Some(v) if !v.is_empty() => {}
                Some(_) => problems.push(format!("{key} is empty")),
                None => problems.push(format!("{key} is missing")),
            }
        }
        let actions = match p.get("actions") {
            Some(Value::Array(list)) if !list.is_empty() => Some(list),
            Some(Value::Array(_)) => {
                problems.push("actions is empty".to_owned());
                None
            }
            Some(Value::Null) | None => {
                problems.push("actions is missing".to_owned());
                None
            }
            Some(_) => {
                problems.push("actions is invalid".to_owned());
                None
            }
        };
        if !problems.is_empty() {
            return Err(GlError::param(problems.join(", ")));
        }
        let start_branch = non_empty(p, "start_branch");
        let start_sha = non_empty(p, "start_sha");
        if start_branch.is_some() && start_sha.is_some() {
            return Err(GlError::bad_request(
                "start_branch, start_sha are mutually exclusive",
            ));
        }
        let actions = actions
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, a)| parse_action(i, a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CommitRequest {
            branch: params::text(p, "branch").unwrap_or_default(),
            message: params::text(p, "commit_message").unwrap_or_default(),
            start_branch,
            start_sha,
            actions,
            author_name: non_empty(p, "author_name"),
            author_email: non_empty(p, "author_email"),
            force: params::boolean(p, "force")?.unwrap_or(false),
            stats: params::boolean(p, "stats")?.unwrap_or(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<CommitRequest, GlError> {
        CommitRequest::from_params(v.as_object().unwrap())
    }

    fn message(e: GlError) -> String {
        e.body["message"].as_str().unwrap_or_default().to_owned()
    }

    #[test]
    fn validates_actions_in_order() {
        let base =
            |actions: Value| json!({ "branch": "main", "commit_message": "m", "actions": actions });
        assert_eq!(
            message(parse(base(json!([{ "action": "rename", "file_path": "a" }]))).unwrap_err()),
            "actions[0][action] must be one of: create, update, move, delete, chmod"
        );
        assert_eq!(
            message(
                parse(base(json!([
                    { "action": "delete", "file_path": "a" },
                    { "action": "update", "file_path": "b" }
                ])))
                .unwrap_err()
            ),
            "actions[1][content] is required for update action"
        );
        assert_eq!(
            message(
                parse(base(json!([{ "action": "create", "file_path": "a", "content": "!", "encoding": "base64" }])))
                    .unwrap_err()
            ),
            "actions[0][content] is not valid base64"
        );
        let ok = parse(base(json!([
            { "action": "create", "file_path": "a", "content": "aGk=", "encoding": "base64" },
            { "action": "move", "file_path": "c", "previous_path": "b", "last_commit_id": "abc" },
            { "action": "chmod", "file_path": "c", "execute_filemode": "true" },
        ])))
        .unwrap();
        assert_eq!(ok.actions[0].content.as_deref(), Some(&b"hi"[..]));
        assert_eq!(ok.actions[1].checked_path(), "b");
        assert_eq!(ok.actions[2].execute_filemode, Some(true));
    }

    #[test]
    fn top_level_problems() {
        let e = parse(json!({ "branch": "main" })).unwrap_err();
        assert_eq!(
            e.body,
            json!({ "error": "commit_message is missing, actions is missing" })
        );
        let e = parse(json!({
            "branch": "b", "commit_message": "m", "start_branch": "main", "start_sha": "abc",
            "actions": [{ "action": "delete", "file_path": "x" }]
        }))
        .unwrap_err();
        assert_eq!(message(e), "start_branch, start_sha are mutually exclusive");
    }
}
