//! Starts the real `gitops-mutator` binary on a loopback port it picks itself, with its own
//! data directory, and stops it when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::blocking::{Client, Response};
use serde_json::Value;

pub const TOKEN: &str = "e2e-secret-token-0123456789";

pub struct Server {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    pub log: PathBuf,
    client: Client,
}

pub struct Options<'a> {
    pub token: Option<&'a str>,
    pub config: Option<&'a Path>,
    /// Extra environment variables for the process (forge credentials).
    pub env: Vec<(&'a str, &'a str)>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            token: Some(TOKEN),
            config: None,
            env: Vec::new(),
        }
    }
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Self::start_with(data, Options::default())
    }

    pub fn start_with(data: &Path, options: Options<'_>) -> Server {
        let log = data.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitops-mutator"));
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data)
            .arg("--log-format")
            .arg("json")
            .env_remove("GITOPS_MUTATOR_CONFIG")
            .env_remove("GITOPS_MUTATOR_LISTEN")
            .env_remove("GITOPS_MUTATOR_DATA_DIR")
            .env("GITOPS_MUTATOR_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        match options.token {
            Some(t) => cmd.env("GITOPS_MUTATOR_TOKEN", t),
            None => cmd.env_remove("GITOPS_MUTATOR_TOKEN"),
        };
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        if let Some(config) = options.config {
            cmd.arg("--config").arg(config);
        }
        let mut child = cmd.spawn().expect("start gitops-mutator");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read stdout");
        let Some(base) = line.trim().strip_prefix("gitops-mutator listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "server did not start: {line:?}\nlog:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Server {
            base: base.to_owned(),
            child,
            data: data.to_owned(),
            log,
            client: Client::new(),
        }
    }

    pub fn repo_path(&self) -> PathBuf {
        self.data.join("repos").join("default.git")
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.request(path, body, Some(TOKEN), None)
    }

    pub fn post_with_key(&self, path: &str, body: &Value, key: &str) -> Response {
        self.request(path, body, Some(TOKEN), Some(key))
    }

    pub fn request(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
        key: Option<&str>,
    ) -> Response {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().expect("request")
    }

    pub fn post_raw(&self, path: &str, body: Vec<u8>) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .expect("request")
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().expect("request")
    }

    /// Sends a DELETE with `token`.
    pub fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .expect("request")
    }

    /// Sends an authenticated DELETE and returns the status.
    pub fn client_delete(&self, path: &str) -> u16 {
        self.client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .expect("request")
            .status()
            .as_u16()
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The service's process id, for sending it signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit on its own (after a signal), at most `limit`.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Stops the process and waits for it, so its data directory can be reused.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The lowercase hex SHA-256 of `text`, as the configuration stores token hashes (computed by
/// the `sha256sum` CLI, not by the code under test).
pub fn sha256_hex(text: &str) -> String {
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        });
    String::from_utf8(out.expect("sha256sum").stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Reads a JSON answer, failing with its body when the status is not the expected one.
pub fn expect_json(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let text = resp.text().unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if status >= 400 {
        assert_eq!(
            ct, "application/problem+json",
            "errors must be problem documents: {text}"
        );
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
