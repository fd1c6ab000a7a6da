//! Shared helpers: a running simulator with one repository and one user token, a blocking
//! HTTP client, and RSA keys / JWTs for the GitHub App tests.

use std::sync::OnceLock;

use base64::Engine as _;
use forge_sim::{GithubSim, RunningSim};
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const OWNER: &str = "acme";
pub const REPO: &str = "gitops";
pub const TOKEN: &str = "ghp_alice_token";

pub struct Env {
    pub sim: RunningSim,
    pub http: Client,
}

/// A simulator with `acme/gitops` (one commit on `main`) and a token for `alice`.
pub fn env() -> Env {
    let sim = GithubSim::start().unwrap();
    sim.create_repo(OWNER, REPO, "main").unwrap();
    sim.add_token(TOKEN, "alice");
    Env {
        sim,
        http: Client::new(),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    fn from(r: Response) -> Reply {
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().unwrap().to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// A request with `token` (if any) and an optional JSON body.
    pub fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("accept", "application/vnd.github+json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from(req.send().unwrap())
    }

    pub fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(TOKEN), method, path, body)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None)
    }

    pub fn get_with_accept(&self, path: &str, accept: &str) -> Reply {
        Reply::from(
            self.http
                .get(self.url(path))
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("accept", accept)
                .send()
                .unwrap(),
        )
    }

    pub fn head(&self, branch: &str) -> String {
        self.sim.branch_head(OWNER, REPO, branch).unwrap().unwrap()
    }

    pub fn graphql_as(&self, token: &str, body: Value) -> Reply {
        self.call_as(Some(token), Method::POST, "/graphql", Some(body))
    }

    /// `createCommitOnBranch` on `acme/gitops` `branch` with the given changes.
    pub fn commit_as(
        &self,
        token: &str,
        branch: &str,
        expected: &str,
        additions: &[(&str, &[u8])],
        deletions: &[&str],
    ) -> Reply {
        self.graphql_as(token, commit_body(branch, expected, additions, deletions))
    }

    pub fn commit(
        &self,
        branch: &str,
        expected: &str,
        additions: &[(&str, &[u8])],
        deletions: &[&str],
    ) -> Reply {
        self.commit_as(TOKEN, branch, expected, additions, deletions)
    }
}

pub const MUTATION: &str = "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid url signature { isValid state } } ref { name } } }";

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn commit_body(
    branch: &str,
    expected: &str,
    additions: &[(&str, &[u8])],
    deletions: &[&str],
) -> Value {
    json!({
        "query": MUTATION,
        "variables": { "input": {
            "branch": { "repositoryNameWithOwner": format!("{OWNER}/{REPO}"), "branchName": branch },
            "expectedHeadOid": expected,
            "message": { "headline": "Update things", "body": "Gitops-Mutation-Id: abc" },
            "fileChanges": {
                "additions": additions.iter().map(|(p, c)| json!({ "path": p, "contents": b64(c) })).collect::<Vec<_>>(),
                "deletions": deletions.iter().map(|p| json!({ "path": p })).collect::<Vec<_>>(),
            }
        }}
    })
}

/// A throwaway RSA key pair (private PKCS#8 PEM, public SPKI PEM) made once per test run with
/// the `openssl` command line tool.
pub fn rsa_keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(generate_rsa)
}

/// A second, unrelated key pair (for "signed with the wrong key").
pub fn other_rsa_keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(generate_rsa)
}

fn generate_rsa() -> (String, String) {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("key.pem");
    let out = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&private)
        .arg("2048")
        .output()
        .expect("the openssl command line tool is needed to make a test key");
    assert!(
        out.status.success(),
        "openssl genrsa: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .output()
        .unwrap();
    assert!(
        public.status.success(),
        "openssl rsa -pubout: {}",
        String::from_utf8_lossy(&public.stderr)
    );
    (
        std::fs::read_to_string(&private).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An RS256 app JWT over `claims`, signed with `private_pem`.
pub fn jwt(private_pem: &str, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap()
}

/// Claims GitHub recommends: iat 60 s in the past, exp 9 minutes ahead.
pub fn app_claims(iss: Value) -> Value {
    let now = now();
    json!({ "iat": now - 60, "exp": now + 540, "iss": iss })
}
