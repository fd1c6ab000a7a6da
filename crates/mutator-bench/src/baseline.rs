//! What a pipeline does today, one bash script per update: shallow clone, `sed` the values
//! file, commit, push; on a rejected push `git pull --rebase` and push again (on a rebase
//! conflict: reset to the remote, edit again).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::load::{Answer, Run, Status, Update};

/// Exit codes: 10 clone failed, 11 edit or commit failed, 12 out of push attempts,
/// 13 could not reset after a failed rebase.
const SCRIPT: &str = r#"
set -u
git clone -q --depth 1 --branch main "$REPO_URL" "$WORK" 2>"$WORK.err" || { cat "$WORK.err" >&2; exit 10; }
cd "$WORK" || exit 10
edit() {
  sed -i -E "s/^(  tag: ).*\$/\\1\"$TAG\"/" "$FILE" || return 1
  git -c user.name=ci-pipeline -c user.email=ci@example.invalid \
      commit -q -a -m "ci($APP): $ENV runs $TAG [skip ci]" -m "Gitops-Mutation-Id: $ID" || return 1
}
edit || exit 11
n=0
while :; do
  if git push -q origin HEAD:main 2>/dev/null; then
    echo "SHA $(git rev-parse HEAD)"
    exit 0
  fi
  n=$((n + 1))
  [ "$n" -ge "$ATTEMPTS" ] && exit 12
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  if ! git pull -q --rebase origin main >/dev/null 2>&1; then
    git rebase --abort >/dev/null 2>&1
    git fetch -q origin main 2>/dev/null || exit 13
    git reset -q --hard FETCH_HEAD || exit 13
    edit || exit 11
  fi
done
"#;

pub struct Settings<'a> {
    pub bare: &'a Path,
    pub work: &'a Path,
    pub clients: usize,
    pub deadline: Duration,
    pub attempts: u32,
    pub run_id: &'a str,
}

/// The mutation id the script writes for update `i`.
pub fn mutation_id(run_id: &str, i: usize) -> String {
    format!("{run_id}-{i}")
}

/// Runs one script per update, `clients` at a time, until done or the deadline (then the
/// scripts still running are killed with their process group).
pub async fn run(plan: &[Update], s: &Settings<'_>) -> Run {
    let plan: Arc<Vec<Update>> = Arc::new(plan.to_vec());
    let answers = Arc::new(Mutex::new(vec![Answer::new(Status::NotSent); plan.len()]));
    let running: Arc<Mutex<BTreeMap<usize, u32>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("file://{}", s.bare.display());
    let clones = s.work.join("clones");
    let home = s.work.join("home");
    let _ = std::fs::create_dir_all(&clones);
    let _ = std::fs::create_dir_all(&home);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..s.clients.max(1) {
        let plan = Arc::clone(&plan);
        let answers = Arc::clone(&answers);
        let running = Arc::clone(&running);
        let next = Arc::clone(&next);
        let url = url.clone();
        let clones = clones.clone();
        let home = home.clone();
        let attempts = s.attempts;
        let run_id = s.run_id.to_owned();
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(update) = plan.get(i) else { break };
                set(&answers, i, Answer::new(Status::Unanswered));
                let job = Job {
                    url: &url,
                    work: clones.join(i.to_string()),
                    home: &home,
                    id: mutation_id(&run_id, i),
                    attempts,
                };
                let answer = run_one(update, &job, i, &running).await;
                let _ = tokio::fs::remove_dir_all(&job.work).await;
                let _ = tokio::fs::remove_file(job.work.with_extension("err")).await;
                set(&answers, i, answer);
            }
        });
    }
    let all_done = async { while tasks.join_next().await.is_some() {} };
    let timed_out = tokio::time::timeout(s.deadline, all_done).await.is_err();
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    // Scripts still running: end their process groups (they were started as group leaders).
    let pids: Vec<u32> = running
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .copied()
        .collect();
    for pid in pids {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    }
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

struct Job<'a> {
    url: &'a str,
    work: PathBuf,
    home: &'a Path,
    id: String,
    attempts: u32,
}

async fn run_one(
    update: &Update,
    job: &Job<'_>,
    i: usize,
    running: &Mutex<BTreeMap<usize, u32>>,
) -> Answer {
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("-c")
        .arg(SCRIPT)
        .env("REPO_URL", job.url)
        .env("WORK", &job.work)
        .env("FILE", update.values_path())
        .env("TAG", &update.tag)
        .env("APP", &update.app)
        .env("ENV", update.env)
        .env("ID", &job.id)
        .env("ATTEMPTS", job.attempts.to_string())
        .env("HOME", job.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let mut a = Answer::new(Status::Exit(-1));
            a.detail = Some(format!("cannot start bash: {e}"));
            return a;
        }
    };
    if let Some(pid) = child.id() {
        lock(running).insert(i, pid);
    }
    let out = child.wait_with_output().await;
    lock(running).remove(&i);
    let latency = Some(started.elapsed());
    match out {
        Ok(out) => {
            let code = out.status.code().unwrap_or(-1);
            let mut a = Answer::new(Status::Exit(code));
            a.latency = latency;
            if code == 0 {
                let stdout = String::from_utf8_lossy(&out.stdout);
                a.sha = stdout
                    .lines()
                    .find_map(|l| l.strip_prefix("SHA "))
                    .map(|s| s.trim().to_owned());
                a.mutation_id = Some(job.id.clone());
                a.committed = true;
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                a.detail = Some(err.lines().last().unwrap_or_default().to_owned());
            }
            a
        }
        Err(e) => {
            let mut a = Answer::new(Status::Exit(-1));
            a.latency = latency;
            a.detail = Some(e.to_string());
            a
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn set(answers: &Mutex<Vec<Answer>>, i: usize, answer: Answer) {
    if let Some(slot) = lock(answers).get_mut(i) {
        *slot = answer;
    }
}
