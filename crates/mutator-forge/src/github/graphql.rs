//! The `createCommitOnBranch` mutation: one content-creating request for a whole change set,
//! moved onto the branch only if its head is still `expectedHeadOid`.

use base64::Engine;
use mutator_core::{ChangeSet, FileOp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ForgeError;

const MUTATION: &str = "mutation CreateCommitOnBranch($input: CreateCommitOnBranchInput!) { \
createCommitOnBranch(input: $input) { commit { oid url signature { isValid } } } }";

/// The request body for one commit.
pub fn create_commit_body(
    name_with_owner: &str,
    branch: &str,
    expected_head: &str,
    changes: &ChangeSet,
    message: &str,
) -> Value {
    let mut additions = Vec::new();
    let mut deletions = Vec::new();
    for file in changes.files() {
        match &file.op {
            FileOp::Put(bytes) => additions.push(json!({
                "path": file.path.as_str(),
                "contents": base64::engine::general_purpose::STANDARD.encode(bytes),
            })),
            FileOp::Delete => deletions.push(json!({ "path": file.path.as_str() })),
        }
    }
    let (headline, body) = split_message(message);
    json!({
        "query": MUTATION,
        "variables": { "input": {
            "branch": { "repositoryNameWithOwner": name_with_owner, "branchName": branch },
            "expectedHeadOid": expected_head,
            "fileChanges": { "additions": additions, "deletions": deletions },
            "message": { "headline": headline, "body": body },
        }},
    })
}

/// GitHub takes the headline and the body apart; together they give back our message.
fn split_message(message: &str) -> (&str, &str) {
    let (headline, rest) = message.split_once('\n').unwrap_or((message, ""));
    (headline, rest.trim_start_matches('\n'))
}

#[derive(Debug, Deserialize)]
struct Response {
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    create_commit_on_branch: Option<Payload>,
}

#[derive(Debug, Deserialize)]
struct Payload {
    commit: Commit,
}

#[derive(Debug, Deserialize)]
pub struct Commit {
    pub oid: String,
    pub url: Option<String>,
    pub signature: Option<Signature>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    pub is_valid: bool,
}

#[derive(Debug, Deserialize)]
struct GraphqlError {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

/// Reads the mutation's answer. GitHub reports a stale head, rate limits and refusals inside
/// an HTTP 200, so the errors array decides.
pub fn parse_commit(body: &[u8], branch: &str, expected_head: &str) -> Result<Commit, ForgeError> {
    let response: Response = serde_json::from_slice(body).map_err(|e| {
        ForgeError::Transient(format!("createCommitOnBranch: unexpected response: {e}"))
    })?;
    if let Some(error) = response.errors.first() {
        let kind = error.kind.as_deref().unwrap_or_default();
        let lower = error.message.to_ascii_lowercase();
        return Err(match kind {
            "STALE_DATA" => ForgeError::Conflict {
                branch: branch.to_owned(),
                expected: expected_head.to_owned(),
                actual: "(moved)".to_owned(),
            },
            "RATE_LIMITED" => ForgeError::RateLimited {
                retry_after: None,
                message: error.message.clone(),
            },
            _ if lower.contains("rate limit") => ForgeError::RateLimited {
                retry_after: None,
                message: error.message.clone(),
            },
            "NOT_FOUND" => ForgeError::NotFound(format!("createCommitOnBranch: {}", error.message)),
            _ => ForgeError::Rejected(format!("createCommitOnBranch: {}", error.message)),
        });
    }
    response
        .data
        .and_then(|d| d.create_commit_on_branch)
        .map(|p| p.commit)
        .ok_or_else(|| ForgeError::Transient("createCommitOnBranch returned no commit".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mutator_core::RepoPath;

    #[test]
    fn body_holds_additions_deletions_and_the_message() {
        let mut cs = ChangeSet::new();
        cs.put(RepoPath::parse("a/b.yaml").unwrap(), "x: 1\n");
        cs.delete(RepoPath::parse("old.yaml").unwrap());
        let body = create_commit_body(
            "acme/gitops",
            "main",
            "abc",
            &cs,
            "head [skip ci]\n\nbody\n\nTrailer: v\n",
        );
        let input = &body["variables"]["input"];
        assert_eq!(input["expectedHeadOid"], "abc");
        assert_eq!(input["fileChanges"]["additions"][0]["contents"], "eDogMQo=");
        assert_eq!(input["fileChanges"]["deletions"][0]["path"], "old.yaml");
        assert_eq!(input["message"]["headline"], "head [skip ci]");
        assert_eq!(input["message"]["body"], "body\n\nTrailer: v\n");
    }

    #[test]
    fn stale_data_is_a_conflict() {
        let body = br#"{"data":{"createCommitOnBranch":null},"errors":[{"type":"STALE_DATA","message":"Expected branch to point to \"abc\" but it did not.  Pull and try again."}]}"#;
        assert!(matches!(
            parse_commit(body, "main", "abc"),
            Err(ForgeError::Conflict { .. })
        ));
        let limited =
            br#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#;
        assert!(matches!(
            parse_commit(limited, "main", "abc"),
            Err(ForgeError::RateLimited { .. })
        ));
        let ok = br#"{"data":{"createCommitOnBranch":{"commit":{"oid":"def","url":"u","signature":{"isValid":true}}}}}"#;
        let c = parse_commit(ok, "main", "abc").unwrap();
        assert_eq!(c.oid, "def");
        assert!(c.signature.unwrap().is_valid);
    }
}
