//! The workload (which update each request makes), the answers, and the HTTP load generator.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::service::TOKEN;

/// Environments that take changes directly: production goes by review (a pull request per
/// application) by default, which is not what this load measures.
pub const ENVIRONMENTS: [&str; 3] = ["development", "staging", "qa"];
/// The tag every values file is scaffolded with.
pub const SCAFFOLD_TAG: &str = "0.0.0";

/// One image update: `application`/`environment` runs `tag`. Tags are unique per request, so a
/// tag found in the repository names the request that wrote it.
#[derive(Debug, Clone)]
pub struct Update {
    pub app: String,
    pub env: &'static str,
    pub tag: String,
}

impl Update {
    pub fn values_path(&self) -> String {
        values_path(&self.app, self.env)
    }

    /// `(app, env)`: the values file this update edits.
    pub fn file(&self) -> (String, &'static str) {
        (self.app.clone(), self.env)
    }
}

pub fn values_path(app: &str, env: &str) -> String {
    format!("apps/{app}/environments/{env}/values.yaml")
}

pub fn app_name(i: usize) -> String {
    format!("app{i:02}")
}

/// `updates` updates spread round-robin over `apps` × 3 values files, so requests close in
/// time often edit the same file.
pub fn plan(updates: usize, apps: usize) -> Vec<Update> {
    let files = apps.max(1) * ENVIRONMENTS.len();
    (0..updates)
        .map(|i| {
            let f = i % files;
            Update {
                app: app_name(f / ENVIRONMENTS.len()),
                env: ENVIRONMENTS[f % ENVIRONMENTS.len()],
                tag: format!("1.{}.{}", i / 1000, i % 1000),
            }
        })
        .collect()
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// An HTTP answer.
    Http(u16),
    /// A baseline script's exit code.
    Exit(i32),
    /// The connection failed or the request timed out on the client.
    Transport,
    /// Still running when the scenario's time was up.
    Unanswered,
    /// Never started before the scenario's time was up.
    NotSent,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: Status,
    pub latency: Option<Duration>,
    /// The commit the answer names (`commit.sha`; on a noop the head that already held it).
    pub sha: Option<String>,
    pub mutation_id: Option<String>,
    /// The answer says a commit holds the change (`committed`, or a replay of one).
    pub committed: bool,
    /// Short reason for a failure (problem `type`, transport error, script stderr).
    pub detail: Option<String>,
}

impl Answer {
    pub fn new(status: Status) -> Answer {
        Answer {
            status,
            latency: None,
            sha: None,
            mutation_id: None,
            committed: false,
            detail: None,
        }
    }

    /// A 2xx answer (or a script that exited 0).
    pub fn ok(&self) -> bool {
        match self.status {
            Status::Http(s) => (200..300).contains(&s),
            Status::Exit(c) => c == 0,
            _ => false,
        }
    }

    /// How failures are counted: by HTTP status, exit code or what happened.
    pub fn label(&self) -> String {
        match &self.status {
            Status::Http(s) => s.to_string(),
            Status::Exit(c) => format!("exit {c}"),
            Status::Transport => "transport".to_owned(),
            Status::Unanswered => "unanswered".to_owned(),
            Status::NotSent => "not sent".to_owned(),
        }
    }
}

/// What a load run produced: one answer per planned update, in plan order.
pub struct Run {
    pub answers: Vec<Answer>,
    pub wall: Duration,
    pub timed_out: bool,
}

pub fn client(pool: usize, request_timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .pool_idle_timeout(Duration::from_secs(300))
        .tcp_nodelay(true)
        .timeout(request_timeout)
        .build()
        .context("cannot build the HTTP client")
}

/// Scaffolds `app` (template `application`, tag [`SCAFFOLD_TAG`]), retrying a 409 a few times.
pub async fn scaffold(client: &reqwest::Client, base: &str, app: &str) -> anyhow::Result<()> {
    let body = json!({
        "template": "application",
        "values": { "name": app, "image": { "repository": format!("ghcr.io/acme/{app}"), "tag": SCAFFOLD_TAG },
                    "environments": ENVIRONMENTS }
    });
    let mut last = String::new();
    for _ in 0..5 {
        let resp = client
            .post(format!("{base}/v1/scaffold"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("scaffolding {app}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        if status == 200 || status == 201 {
            return Ok(());
        }
        last = format!("{status}: {text}");
        if status != 409 && status < 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("scaffolding {app} failed: {last}")
}

/// Sends every update of `plan` from `clients` concurrent workers (worker `w` talks to
/// `bases[w % bases.len()]`), each one request at a time, until done or `deadline`.
pub async fn run_http(
    plan: &[Update],
    bases: &[String],
    clients: usize,
    client: &reqwest::Client,
    deadline: Duration,
    idempotency_keys: bool,
    run_id: &str,
) -> Run {
    let plan: Arc<Vec<Update>> = Arc::new(plan.to_vec());
    let answers = Arc::new(Mutex::new(vec![Answer::new(Status::NotSent); plan.len()]));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for w in 0..clients.max(1) {
        let plan = Arc::clone(&plan);
        let answers = Arc::clone(&answers);
        let next = Arc::clone(&next);
        let client = client.clone();
        let base = bases[w % bases.len()].clone();
        let run_id = run_id.to_owned();
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(update) = plan.get(i) else { break };
                set(&answers, i, Answer::new(Status::Unanswered));
                let key = idempotency_keys.then(|| format!("{run_id}-{i}"));
                let answer = send_update(&client, &base, update, key.as_deref()).await;
                set(&answers, i, answer);
            }
        });
    }
    let all_done = async { while tasks.join_next().await.is_some() {} };
    let timed_out = tokio::time::timeout(deadline, all_done).await.is_err();
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    let wall = started.elapsed();
    let answers = answers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Run {
        answers,
        wall,
        timed_out,
    }
}

fn set(answers: &Mutex<Vec<Answer>>, i: usize, answer: Answer) {
    let mut all = answers.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(slot) = all.get_mut(i) {
        *slot = answer;
    }
}

async fn send_update(
    client: &reqwest::Client,
    base: &str,
    update: &Update,
    key: Option<&str>,
) -> Answer {
    let body = json!({
        "application": update.app,
        "environment": update.env,
        "image": { "tag": update.tag },
    });
    let started = Instant::now();
    let mut req = client
        .post(format!("{base}/v1/image-updates"))
        .bearer_auth(TOKEN)
        .json(&body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let result = async {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let replayed = resp.headers().contains_key("idempotent-replayed");
        let text = resp.text().await?;
        Ok::<_, reqwest::Error>((status, replayed, text))
    }
    .await;
    let latency = Some(started.elapsed());
    match result {
        Ok((status, replayed, text)) => {
            let mut answer = Answer::new(Status::Http(status));
            answer.latency = latency;
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                answer.sha = json["commit"]["sha"].as_str().map(str::to_owned);
                answer.mutation_id = json["mutationId"].as_str().map(str::to_owned);
                answer.committed = json["status"] == "committed" || replayed;
                if answer.sha.is_none() {
                    answer.detail = Some(format!("2xx without commit.sha: {}", short(&text)));
                }
            } else {
                let kind = json["type"].as_str().unwrap_or_default();
                let kind = kind.rsplit([':', '/']).next().unwrap_or(kind);
                answer.detail = Some(match json["detail"].as_str() {
                    Some(detail) if !kind.is_empty() => short(&format!("{kind}: {detail}")),
                    _ => short(&text),
                });
            }
            answer
        }
        Err(e) => {
            let mut answer = Answer::new(Status::Transport);
            answer.latency = latency;
            answer.detail = Some(if e.is_timeout() {
                "client timeout".to_owned()
            } else {
                e.to_string()
            });
            answer
        }
    }
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(160).collect();
    t.replace('\n', " ")
}
