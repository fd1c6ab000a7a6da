//! Where the service writes: its embedded local repository, a shared bare repository, or an
//! in-process GitHub / GitLab simulator. Also faults, foreign pushes and forge counters.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, anyhow};
use forge_sim::{FaultTiming, GithubSim, GitlabSim, RunningGitlabSim, RunningSim};

use crate::cli::Options;

const OWNER: &str = "acme";
const NAME: &str = "gitops";
const PROJECT: &str = "acme/gitops";
pub const BRANCH: &str = "main";
const FORGE_TOKEN: &str = "bench-forge-token-0123456789";
const TOKEN_ENV: &str = "MUTATOR_BENCH_FORGE_TOKEN";
/// Where foreign pushes write: outside every values file, so they never touch a request's file.
pub const FOREIGN_DIR: &str = "docs/foreign";
/// Author of the simulators' foreign pushes.
pub const FOREIGN_AUTHOR: &str = "foreign-writer";

/// The repository the service processes write to.
pub enum Target {
    /// The embedded default: `<data-dir>/repos/default.git` of the (only) process.
    Embedded,
    /// A bare repository named by a `kind: git` config, shared by every process.
    SharedGit(PathBuf),
    Github(RunningSim),
    Gitlab(RunningGitlabSim),
}

/// Forge counters for the load phase.
#[derive(Debug, Clone, Default)]
pub struct ForgeCounts {
    /// Every API request.
    pub requests: u64,
    /// GitHub: content-creating requests (REST writes and GraphQL mutations, admitted or not);
    /// GitLab: requests other than GET/HEAD.
    pub writes: u64,
    pub commits_created: u64,
    /// Refused by a rate limit (GitHub: secondary; GitLab: 429).
    pub rate_limited: u64,
    pub faults_injected: u64,
    pub foreign_pushes: u64,
}

impl Target {
    pub fn start(backend: crate::cli::Backend, work: &Path) -> anyhow::Result<Target> {
        use crate::cli::Backend;
        Ok(match backend {
            Backend::Embedded => Target::Embedded,
            Backend::Github => {
                let sim = GithubSim::builder()
                    .data_dir(work.join("github-sim"))
                    .start()
                    .map_err(|e| anyhow!("cannot start the GitHub simulator: {e}"))?;
                sim.create_repo(OWNER, NAME, BRANCH)
                    .map_err(|e| anyhow!("cannot create the repository: {e}"))?;
                sim.add_token(FORGE_TOKEN, "bench-bot");
                // Only the limits a scenario names apply: the primary budget (5,000/h) would
                // otherwise decide the run.
                sim.set_default_primary_limit(1_000_000_000);
                Target::Github(sim)
            }
            Backend::Gitlab => {
                let sim = GitlabSim::builder()
                    .data_dir(work.join("gitlab-sim"))
                    .start()
                    .map_err(|e| anyhow!("cannot start the GitLab simulator: {e}"))?;
                sim.create_project(PROJECT, BRANCH)
                    .map_err(|e| anyhow!("cannot create the project: {e}"))?;
                sim.add_token(FORGE_TOKEN, "bench-bot", &["api"]);
                sim.set_rate_limit_per_minute(1_000_000_000);
                Target::Gitlab(sim)
            }
        })
    }

    /// A bare repository at `path`, created by the first service process that starts.
    pub fn shared_git(path: PathBuf) -> Target {
        Target::SharedGit(path)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Target::Embedded => "embedded",
            Target::SharedGit(_) => "embedded (shared bare repo)",
            Target::Github(_) => "github",
            Target::Gitlab(_) => "gitlab",
        }
    }

    pub fn is_sim(&self) -> bool {
        matches!(self, Target::Github(_) | Target::Gitlab(_))
    }

    /// The configuration file's text, if the service needs one.
    pub fn config(&self) -> Option<String> {
        match self {
            Target::Embedded => None,
            Target::SharedGit(path) => Some(format!(
                "repositories:\n  default:\n    kind: git\n    url: {}\n    branch: {BRANCH}\n",
                yaml_string(&path.display().to_string())
            )),
            Target::Github(sim) => Some(format!(
                "repositories:\n  default:\n    kind: github\n    owner: {OWNER}\n    name: {NAME}\n    branch: {BRANCH}\n    apiUrl: {}\n    auth: {{ tokenEnv: {TOKEN_ENV} }}\n",
                sim.base_url()
            )),
            Target::Gitlab(sim) => Some(format!(
                "repositories:\n  default:\n    kind: gitlab\n    project: {PROJECT}\n    branch: {BRANCH}\n    apiUrl: {}\n    auth: {{ tokenEnv: {TOKEN_ENV} }}\n",
                sim.api_url()
            )),
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        if self.is_sim() {
            vec![(TOKEN_ENV.to_owned(), FORGE_TOKEN.to_owned())]
        } else {
            Vec::new()
        }
    }

    /// The bare repository to check after the run.
    pub fn repo_path(&self, first_data_dir: &Path) -> anyhow::Result<PathBuf> {
        match self {
            Target::Embedded => Ok(first_data_dir.join("repos").join("default.git")),
            Target::SharedGit(path) => Ok(path.clone()),
            Target::Github(sim) => sim
                .repo_path(OWNER, NAME)
                .context("the simulator lost its repository"),
            Target::Gitlab(sim) => sim
                .project_git_dir(PROJECT)
                .context("the simulator lost its project"),
        }
    }

    pub fn reset_stats(&self) {
        match self {
            Target::Github(sim) => sim.reset_stats(),
            Target::Gitlab(sim) => sim.reset_stats(),
            Target::Embedded | Target::SharedGit(_) => {}
        }
    }

    pub fn counts(&self) -> Option<ForgeCounts> {
        match self {
            Target::Github(sim) => {
                let s = sim.stats();
                Some(ForgeCounts {
                    requests: s.total_requests,
                    writes: s.content_creating,
                    commits_created: s.commits_created,
                    rate_limited: s.secondary_limited + s.primary_limited,
                    faults_injected: s.faults_injected,
                    foreign_pushes: s.foreign_pushes,
                })
            }
            Target::Gitlab(sim) => {
                let s = sim.stats();
                Some(ForgeCounts {
                    requests: s.total_requests,
                    writes: s.writes,
                    commits_created: s.commits_created,
                    rate_limited: s.rate_limited,
                    faults_injected: s.faults_injected,
                    foreign_pushes: s.foreign_pushes,
                })
            }
            Target::Embedded | Target::SharedGit(_) => None,
        }
    }

    /// Switches the scenario-2 faults on; returns a description of what is on.
    pub fn apply_faults(&self, opts: &Options) -> anyhow::Result<String> {
        let latency = Duration::from_millis(opts.latency_ms);
        let mut on = Vec::new();
        match self {
            Target::Github(sim) => {
                sim.set_latency(latency);
                if opts.fault_every > 0 {
                    sim.set_fault(opts.fault_every, 503, FaultTiming::BeforeHandler)
                        .map_err(|e| anyhow!("{e}"))?;
                }
                sim.set_secondary_window(
                    opts.secondary_per_minute,
                    Duration::from_secs(60),
                    Some(opts.secondary_retry_after_secs),
                );
                on.push(format!(
                    "secondary limit {}/min (retry-after {} s)",
                    opts.secondary_per_minute, opts.secondary_retry_after_secs
                ));
            }
            Target::Gitlab(sim) => {
                sim.set_latency(latency);
                if opts.fault_every > 0 {
                    sim.set_fault(opts.fault_every, 503, FaultTiming::BeforeHandler)
                        .map_err(|e| anyhow!("{e}"))?;
                }
            }
            Target::Embedded | Target::SharedGit(_) => {
                return Err(anyhow!("faults need a simulator (github or gitlab)"));
            }
        }
        if opts.fault_every > 0 {
            on.insert(
                0,
                format!(
                    "every {}th forge request 503 ({:.0}%)",
                    opts.fault_every,
                    100.0 / opts.fault_every as f64
                ),
            );
        }
        on.insert(0, format!("+{} ms per forge request", opts.latency_ms));
        on.push(format!(
            "a foreign push every {} ms",
            opts.foreign_push_every_ms
        ));
        Ok(on.join(", "))
    }

    pub fn clear_faults(&self) {
        match self {
            Target::Github(sim) => sim.clear_faults(),
            Target::Gitlab(sim) => sim.clear_faults(),
            Target::Embedded | Target::SharedGit(_) => {}
        }
    }

    /// Starts a thread that pushes a foreign commit to the branch every `every`, on its own
    /// clock (not tied to the service's reads), until the returned handle is stopped.
    pub fn foreign_pusher(&self, every: Duration) -> Option<ForeignPusher> {
        let arm: Box<dyn Fn(u64) -> bool + Send> = match self {
            Target::Github(sim) => {
                let sim = sim.sim();
                Box::new(move |n| {
                    sim.push_foreign_now(
                        OWNER,
                        NAME,
                        BRANCH,
                        &format!("{FOREIGN_DIR}/{n}.md"),
                        format!("foreign change {n}\n"),
                    )
                    .is_ok()
                })
            }
            Target::Gitlab(sim) => {
                let sim = sim.control();
                Box::new(move |n| {
                    sim.push_foreign_now(
                        PROJECT,
                        BRANCH,
                        &format!("{FOREIGN_DIR}/{n}.md"),
                        format!("foreign change {n}\n"),
                    )
                    .is_ok()
                })
            }
            Target::Embedded | Target::SharedGit(_) => return None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("foreign-pusher".to_owned())
            .spawn(move || {
                let mut n = 0u64;
                while !flag.load(Ordering::Relaxed) {
                    if arm(n) {
                        n += 1;
                    }
                    std::thread::sleep(every);
                }
            })
            .ok()?;
        Some(ForeignPusher {
            stop,
            thread: Some(thread),
        })
    }
}

pub struct ForeignPusher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ForeignPusher {
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ForeignPusher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A YAML double-quoted string.
fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}
