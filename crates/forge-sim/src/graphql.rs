//! `POST /graphql`: the `createCommitOnBranch` mutation, nothing else (forge-facts §B).
//!
//! The document is recognised by name and never parsed: the input is read from
//! `variables.input`, and the payload returned is fixed (`commit {oid url signature}`,
//! `ref {name}`, `clientMutationId`), which is all the backend selects. Errors use GitHub's two
//! shapes: variable-coercion problems (top-level `errors`, no `data`) and execution errors
//! (`data.createCommitOnBranch: null` plus an `errors` entry with a `type`).

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, json_response};
use crate::git_store::{self, CasError, Change, ChangeProblem};
use crate::server::{AppState, blocking};

const DOC: &str = "https://docs.github.com/graphql";
const INPUT_TYPE: &str = "CreateCommitOnBranchInput!";

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

/// A variable-coercion error: the request never executed, so there is no `data`.
fn coercion(input: &Value, path: &[Value], explanation: &str) -> Value {
    let dotted: Vec<String> = path
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let target = if dotted.is_empty() {
        String::new()
    } else {
        format!(" for {}", dotted.join("."))
    };
    json!({
        "errors": [{
            "extensions": {
                "value": input,
                "problems": [{ "path": path, "explanation": explanation }],
            },
            "locations": [{ "line": 1, "column": 10 }],
            "message": format!("Variable $input of type {INPUT_TYPE} was provided invalid value{target} ({explanation})"),
        }]
    })
}

/// An execution error of the mutation: `data.createCommitOnBranch` is null.
fn execution(kind: Option<&str>, message: &str) -> Value {
    let mut err = json!({
        "path": ["createCommitOnBranch"],
        "locations": [{ "line": 2, "column": 3 }],
        "message": message,
    });
    if let Some(kind) = kind {
        err["type"] = json!(kind);
    }
    json!({ "data": { "createCommitOnBranch": null }, "errors": [err] })
}

fn p(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// Paths as `FileChanges` requires them: `/`-separated, relative, no empty or dot segments.
fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg != ".git")
}

/// What the mutation was asked to do, after coercion.
struct Input {
    repo: String,
    branch: String,
    expected: git2::Oid,
    message: String,
    changes: Vec<(String, Change)>,
    client_mutation_id: Option<String>,
}

fn nonempty_string(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Reads `variables.input`; `Err` is the complete coercion-error response body.
fn coerce(input: Option<&Value>) -> Result<Input, Value> {
    let null = Value::Null;
    let Some(input) = input.filter(|v| v.is_object()) else {
        return Err(coercion(
            input.unwrap_or(&null),
            &[],
            "Expected value to not be null",
        ));
    };
    let branch = input.get("branch").filter(|v| v.is_object());
    let Some(branch) = branch else {
        return Err(coercion(
            input,
            &[p("branch")],
            "Expected value to not be null",
        ));
    };
    let Some(repo) = nonempty_string(branch.get("repositoryNameWithOwner")) else {
        return Err(coercion(
            input,
            &[p("branch"), p("repositoryNameWithOwner")],
            "forge-sim needs branch.repositoryNameWithOwner (branch.id is not simulated)",
        ));
    };
    let Some(branch_name) = nonempty_string(branch.get("branchName")) else {
        return Err(coercion(
            input,
            &[p("branch"), p("branchName")],
            "Expected value to not be null",
        ));
    };
    let expected = match input.get("expectedHeadOid") {
        None | Some(Value::Null) => {
            return Err(coercion(
                input,
                &[p("expectedHeadOid")],
                "Expected value to not be null",
            ));
        }
        Some(Value::String(s)) if git_store::is_full_sha(s) => git2::Oid::from_str(s)
            .map_err(|_| coercion(input, &[p("expectedHeadOid")], "Expected a GitObjectID"))?,
        Some(other) => {
            return Err(coercion(
                input,
                &[p("expectedHeadOid")],
                &format!("Could not coerce value {other} to GitObjectID"),
            ));
        }
    };
    let Some(message) = input.get("message").filter(|v| v.is_object()) else {
        return Err(coercion(
            input,
            &[p("message")],
            "Expected value to not be null",
        ));
    };
    let Some(headline) = message.get("headline").and_then(Value::as_str) else {
        return Err(coercion(
            input,
            &[p("message"), p("headline")],
            "Expected value to not be null",
        ));
    };
    let full_message = match message.get("body").and_then(Value::as_str) {
        Some(body) if !body.is_empty() => format!("{headline}\n\n{body}"),
        _ => headline.to_owned(),
    };

    let mut changes = Vec::new();
    if let Some(fc) = input.get("fileChanges").filter(|v| !v.is_null()) {
        let list = |name: &str| -> Result<Vec<Value>, Value> {
            match fc.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => Ok(a.clone()),
                Some(_) => Err(coercion(
                    input,
                    &[p("fileChanges"), p(name)],
                    "Expected an array",
                )),
            }
        };
        for (i, add) in list("additions")?.iter().enumerate() {
            let at = |field: &str| [p("fileChanges"), p("additions"), json!(i), p(field)];
            let Some(path) = add.get("path").and_then(Value::as_str) else {
                return Err(coercion(
                    input,
                    &at("path"),
                    "Expected value to not be null",
                ));
            };
            let Some(contents) = add.get("contents").and_then(Value::as_str) else {
                return Err(coercion(
                    input,
                    &at("contents"),
                    "Expected value to not be null",
                ));
            };
            // RFC 4648 with correct padding, no whitespace: what `Base64String` demands.
            let bytes = STANDARD.decode(contents).map_err(|_| {
                coercion(
                    input,
                    &at("contents"),
                    "Could not coerce value to Base64String",
                )
            })?;
            changes.push((path.to_owned(), Change::Put(bytes)));
        }
        for (i, del) in list("deletions")?.iter().enumerate() {
            let Some(path) = del.get("path").and_then(Value::as_str) else {
                return Err(coercion(
                    input,
                    &[p("fileChanges"), p("deletions"), json!(i), p("path")],
                    "Expected value to not be null",
                ));
            };
            changes.push((path.to_owned(), Change::Delete));
        }
    }
    Ok(Input {
        repo: repo.to_owned(),
        branch: branch_name
            .strip_prefix("refs/heads/")
            .unwrap_or(branch_name)
            .to_owned(),
        expected,
        message: full_message,
        changes,
        client_mutation_id: input
            .get("clientMutationId")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// `POST /graphql`.
pub(crate) async fn handle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON", DOC))?;
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return Ok(ok(
            &json!({ "errors": [{ "message": "A query attribute must be specified and must be a string." }] }),
        ));
    };
    if !query.contains("createCommitOnBranch") {
        return Ok(ok(
            &json!({ "errors": [{ "message": "unsupported by forge-sim" }] }),
        ));
    }
    let input = match coerce(request.get("variables").and_then(|v| v.get("input"))) {
        Ok(i) => i,
        Err(body) => return Ok(ok(&body)),
    };

    if matches!(caller, Caller::App { .. }) {
        return Ok(ok(&execution(
            Some("FORBIDDEN"),
            "Resource not accessible by integration",
        )));
    }
    let not_found_repo = || {
        ok(&execution(
            Some("NOT_FOUND"),
            &format!(
                "Could not resolve to a Repository with the name '{}'.",
                input.repo
            ),
        ))
    };
    let Some((owner, name)) = input.repo.split_once('/') else {
        return Ok(not_found_repo());
    };
    let Ok(entry) = state.repo_for(&caller, owner, name) else {
        return Ok(not_found_repo());
    };

    // Paths must be well-formed and unique across additions and deletions (forge-facts §B.1).
    let mut changes = BTreeMap::new();
    for (path, change) in input.changes {
        if !valid_path(&path) {
            return Ok(ok(&execution(
                Some("UNPROCESSABLE"),
                &format!("The path \"{path}\" is not a valid file path."),
            )));
        }
        if changes.insert(path.clone(), change).is_some() {
            return Ok(ok(&execution(
                Some("UNPROCESSABLE"),
                &format!(
                    "Duplicate path \"{path}\" in fileChanges: paths must be unique across additions and deletions."
                ),
            )));
        }
    }

    let base = state.base_url();
    let person = caller.person();
    let sign = caller.signs_commits().then_some(state.signing_key);
    let branch = input.branch;
    let branch_for_ref = branch.clone();
    let full_name = entry.full_name();
    let expected = input.expected;
    let message = input.message;
    let client_mutation_id = input.client_mutation_id;
    let result = blocking(move || -> Result<Result<git2::Oid, Value>, ApiError> {
        let _guard = entry.lock_writes();
        let git = git_store::open(&entry.path)?;
        let Some(head) = git_store::branch_head(&git, &branch)? else {
            return Ok(Err(execution(
                Some("NOT_FOUND"),
                &format!("A ref named \"refs/heads/{branch}\" does not exist."),
            )));
        };
        if head != expected {
            return Ok(Err(execution(
                Some("STALE_DATA"),
                &format!("Expected branch to point to \"{expected}\" but it did not.  Pull and try again."),
            )));
        }
        let base_tree = git.find_commit(head)?.tree()?;
        if let Some(problem) = git_store::check_changes(Some(&base_tree), &changes)? {
            let message = match problem {
                ChangeProblem::DeleteMissing(path) => format!(
                    "A path was requested for deletion which does not exist as of commit oid `{head}`: {path}"
                ),
                ChangeProblem::AddOverDirectory(path) => {
                    format!("A file cannot be added at \"{path}\" because a directory exists there.")
                }
                ChangeProblem::AddUnderFile { path, file } => {
                    format!("\"{path}\" cannot be added because \"{file}\" is a file.")
                }
            };
            return Ok(Err(execution(Some("UNPROCESSABLE"), &message)));
        }
        let tree = git_store::build_tree(&git, Some(&base_tree), &changes)?;
        let oid = git_store::write_commit(
            &git,
            tree,
            &[head],
            &person,
            &git_store::github_committer(),
            &message,
            sign.as_ref(),
        )?;
        match git_store::cas_ref(
            &git,
            &format!("refs/heads/{branch}"),
            oid,
            Some(head),
            "forge-sim: createCommitOnBranch",
        ) {
            Ok(()) => Ok(Ok(oid)),
            Err(CasError::Stale) => Ok(Err(execution(
                Some("STALE_DATA"),
                &format!("Expected branch to point to \"{expected}\" but it did not.  Pull and try again."),
            ))),
            Err(CasError::Git(e)) => Err(e.into()),
        }
    })
    .await?;

    let oid = match result {
        Ok(oid) => oid,
        Err(body) => return Ok(ok(&body)),
    };
    state.stats().commits_created += 1;
    let signature = if sign.is_some() {
        json!({ "isValid": true, "state": "VALID", "wasSignedByGitHub": true, "signer": { "login": "web-flow" } })
    } else {
        Value::Null
    };
    Ok(ok(&json!({
        "data": {
            "createCommitOnBranch": {
                "clientMutationId": client_mutation_id,
                "commit": {
                    "oid": oid.to_string(),
                    "url": format!("{base}/{full_name}/commit/{oid}"),
                    "signature": signature,
                },
                "ref": { "name": format!("refs/heads/{branch_for_ref}"), "prefix": "refs/heads/" },
            }
        }
    })))
}
