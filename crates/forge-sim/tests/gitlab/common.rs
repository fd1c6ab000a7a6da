//! Shared helpers: a running GitLab simulator with one nested project and two tokens, a
//! blocking HTTP client, and form/URL encoding done by hand.

use forge_sim::{GitlabSim, RunningGitlabSim};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const PROJECT: &str = "acme/platform/gitops";
/// `PROJECT` as it appears in a URL.
pub const PROJECT_ENC: &str = "acme%2Fplatform%2Fgitops";
pub const WRITE: &str = "glpat-alice-write";
pub const READ: &str = "glpat-bob-read";

pub struct Env {
    pub sim: RunningGitlabSim,
    pub id: u64,
    pub http: Client,
}

/// A simulator with `acme/platform/gitops` (one commit on `main`), an `api` token for alice
/// and a `read_api` token for bob.
pub fn env() -> Env {
    let sim = GitlabSim::start().unwrap();
    let (id, _) = sim.create_project(PROJECT, "main").unwrap();
    sim.add_token(WRITE, "alice", &["api"]);
    sim.add_token(READ, "bob", &["read_api"]);
    Env {
        sim,
        id,
        http: Client::new(),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
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

/// Percent-encodes everything but unreserved characters (so `/` becomes `%2F`).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An `application/x-www-form-urlencoded` body, keys and values encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub enum Body {
    None,
    Json(Value),
    Form(String),
}

impl Env {
    /// `{api}/projects/acme%2Fplatform%2Fgitops{rest}`.
    pub fn project_url(&self, rest: &str) -> String {
        format!("/projects/{PROJECT_ENC}{rest}")
    }

    fn request(&self, token: Option<&str>, method: Method, path: &str) -> RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.api_url()));
        if let Some(t) = token {
            req = req.header("PRIVATE-TOKEN", t);
        }
        req
    }

    pub fn call_as(&self, token: Option<&str>, method: Method, path: &str, body: Body) -> Reply {
        let req = self.request(token, method, path);
        let req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Form(f) => req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(f),
        };
        let r = req.send().unwrap();
        Reply {
            status: r.status(),
            headers: r.headers().clone(),
            bytes: r.bytes().unwrap().to_vec(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call_as(Some(WRITE), Method::GET, path, Body::None)
    }

    pub fn post_json(&self, path: &str, body: Value) -> Reply {
        self.call_as(Some(WRITE), Method::POST, path, Body::Json(body))
    }

    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        self.call_as(Some(WRITE), Method::POST, path, Body::Form(form(pairs)))
    }

    /// `POST .../repository/commits` with a JSON body.
    pub fn commit(&self, body: Value) -> Reply {
        self.post_json(&self.project_url("/repository/commits"), body)
    }

    /// `GET .../repository/files/<enc path>?ref=<ref>`.
    pub fn file(&self, path: &str, reference: &str) -> Reply {
        self.get(&self.project_url(&format!(
            "/repository/files/{}?ref={}",
            enc(path),
            enc(reference)
        )))
    }

    pub fn head(&self, branch: &str) -> String {
        self.sim.branch_head(PROJECT, branch).unwrap().unwrap()
    }

    /// Seeds `files` on `main` and returns the new head.
    pub fn seed(&self, files: &[(&str, &str)]) -> String {
        let list: Vec<(&str, Option<&[u8]>)> = files
            .iter()
            .map(|(p, c)| (*p, Some(c.as_bytes())))
            .collect();
        self.sim
            .commit_files(PROJECT, "main", &list, "seed")
            .unwrap()
    }

    pub fn read(&self, reference: &str, path: &str) -> Option<String> {
        self.sim
            .read_file(PROJECT, reference, path)
            .unwrap()
            .map(|b| String::from_utf8(b).unwrap())
    }
}
