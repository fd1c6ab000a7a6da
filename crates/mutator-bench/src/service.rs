//! Starting and stopping real `gitops-mutator serve` processes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

/// The bearer token every service process is started with.
pub const TOKEN: &str = "mutator-bench-token-0123456789abcdef";

const READY_LINE: &str = "gitops-mutator listening on ";

/// One running service process; killed when dropped. Its log is `<data-dir>.log`.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Service {
    /// Starts `bin serve --listen 127.0.0.1:0 --data-dir data_dir [--config config]` and waits
    /// for the line that names its address.
    pub fn start(
        bin: &Path,
        data_dir: &Path,
        config: Option<&Path>,
        env: &[(String, String)],
    ) -> anyhow::Result<Service> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let log = data_dir.with_extension("log");
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--log-format")
            .arg("json")
            .env_remove("GITOPS_MUTATOR_CONFIG")
            .env_remove("GITOPS_MUTATOR_LISTEN")
            .env_remove("GITOPS_MUTATOR_DATA_DIR")
            .env("GITOPS_MUTATOR_TOKEN", TOKEN)
            .env(
                "GITOPS_MUTATOR_LOG",
                std::env::var("GITOPS_MUTATOR_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "cannot start {} (build it first: cargo build --release -p gitops-mutator)",
                bin.display()
            )
        })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("no stdout from the service");
        };
        // Read the first line on a thread (so a hung start times out), then keep draining.
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("service-stdout".to_owned())
            .spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let _ = tx.send(line);
                let mut sink = String::new();
                while matches!(reader.read_line(&mut sink), Ok(n) if n > 0) {
                    sink.clear();
                }
            })
            .context("cannot start a thread")?;
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let Some(base) = line.trim().strip_prefix(READY_LINE) else {
            let _ = child.kill();
            let _ = child.wait();
            let tail = tail(&log, 20);
            bail!("the service did not start (stdout: {line:?}); its log:\n{tail}");
        };
        Ok(Service {
            child,
            base: base.to_owned(),
        })
    }

    /// Stops the process (SIGKILL: the load is over, nothing is in flight that matters).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
