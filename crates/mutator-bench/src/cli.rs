//! Command line: which scenarios to run, and how big.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mutator-bench",
    about = "Load benchmark of the real gitops-mutator service: many pipelines, one repository",
    long_about = "Drives the real `gitops-mutator serve` binary over HTTP and reports throughput, \
latency percentiles, commits, forge writes per update and lost or duplicated updates, then checks \
the repository's history. Build the service first: `cargo build --release -p gitops-mutator`.\n\n\
Exit status: 0 when every check passed, 1 when a check failed or a scenario could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub opts: Options,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scenario 1: N updates from C concurrent clients to one repository.
    Load {
        /// Backends to run on (comma separated).
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Backend::Embedded, Backend::Github, Backend::Gitlab])]
        backend: Vec<Backend>,
    },
    /// Scenario 2: the same with faults on a simulator: every n-th forge request 503, added
    /// latency, foreign pushes to the branch, and (GitHub) a secondary limit per minute.
    Faults {
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Backend::Github, Backend::Gitlab])]
        backend: Vec<Backend>,
    },
    /// Scenario 3: two service processes on one repository, clients split between them.
    TwoProcesses {
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Backend::Embedded, Backend::Github])]
        backend: Vec<Backend>,
    },
    /// Scenario 4: what a pipeline does today: clone, sed, commit, push with a pull --rebase
    /// retry loop, one bash script per update.
    Baseline,
    /// Every scenario above, baseline included, one after the other.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The service's embedded default: a local bare repository (git2, no forge).
    Embedded,
    /// The GitHub simulator (forge-sim), in this process.
    Github,
    /// The GitLab simulator (forge-sim), in this process.
    Gitlab,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Github => "github",
            Backend::Gitlab => "gitlab",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct Options {
    /// The service binary.
    #[arg(long, global = true, default_value = "target/release/gitops-mutator")]
    pub bin: PathBuf,
    /// Image updates per scenario.
    #[arg(long, global = true, default_value_t = 500)]
    pub updates: usize,
    /// Concurrent clients (each sends one request at a time, keep-alive).
    #[arg(long, global = true, default_value_t = 200)]
    pub clients: usize,
    /// Applications scaffolded before the run (app00, app01, ...); each has 3 environments, so
    /// 3 × apps values files share the updates.
    #[arg(long, global = true, default_value_t = 20)]
    pub apps: usize,
    /// Longest a scenario's load phase may run; past it the results are partial and FAIL.
    #[arg(long, global = true, default_value_t = 300)]
    pub timeout_secs: u64,
    /// Longest one HTTP request may take (the service waits out rate limits up to 120 s).
    #[arg(long, global = true, default_value_t = 180)]
    pub request_timeout_secs: u64,
    /// Send an Idempotency-Key with every update (the service then searches history first,
    /// which costs forge reads).
    #[arg(long, global = true)]
    pub idempotency_keys: bool,
    /// Also print the result rows as a Markdown table for BENCHMARKS.md.
    #[arg(long, global = true)]
    pub markdown: bool,
    /// Where to put data dirs, simulator repositories, configs and logs (default: a temporary
    /// directory, removed at the end unless --keep).
    #[arg(long, global = true)]
    pub work_dir: Option<PathBuf>,
    /// Keep the temporary work directory (its path is printed).
    #[arg(long, global = true)]
    pub keep: bool,
    /// Faults: every n-th forge request answers 503 before it runs (5 = 20%; 0 = off).
    #[arg(long, global = true, default_value_t = 5)]
    pub fault_every: u64,
    /// Faults: latency added to every forge request, in milliseconds.
    #[arg(long, global = true, default_value_t = 20)]
    pub latency_ms: u64,
    /// Faults: push a foreign commit to the branch this often, in ms (on a timer, whatever the
    /// service is doing).
    #[arg(long, global = true, default_value_t = 250)]
    pub foreign_push_every_ms: u64,
    /// Faults (GitHub): content-creating requests admitted per sliding minute.
    #[arg(long, global = true, default_value_t = 80)]
    pub secondary_per_minute: u32,
    /// Faults (GitHub): `retry-after` seconds sent with a secondary-limit refusal.
    #[arg(long, global = true, default_value_t = 10)]
    pub secondary_retry_after_secs: u64,
    /// Baseline: concurrent scripts (default: --clients).
    #[arg(long, global = true)]
    pub baseline_clients: Option<usize>,
    /// Baseline: updates (default: --updates).
    #[arg(long, global = true)]
    pub baseline_updates: Option<usize>,
    /// Baseline: time limit in seconds (default: --timeout-secs).
    #[arg(long, global = true)]
    pub baseline_timeout_secs: Option<u64>,
    /// Baseline: pushes one script tries before it gives up.
    #[arg(long, global = true, default_value_t = 100)]
    pub baseline_push_attempts: u32,
}
