//! One scenario from start to end: set up the repository, start the service processes,
//! scaffold, run the load, stop, check.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio::runtime::Runtime;

use crate::baseline;
use crate::checks::{self, Check, History};
use crate::cli::{Backend, Options};
use crate::forge::{BRANCH, FOREIGN_AUTHOR, Target};
use crate::load::{self, Answer, Run, Update};
use crate::report::Report;
use crate::service::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Load,
    Faults,
    TwoProcesses,
    Baseline,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Load => "load",
            Kind::Faults => "faults",
            Kind::TwoProcesses => "two-processes",
            Kind::Baseline => "baseline",
        }
    }
}

pub struct Ctx<'a> {
    pub opts: &'a Options,
    pub bin: PathBuf,
    pub work: PathBuf,
    pub rt: &'a Runtime,
}

/// Runs one scenario; any setup error becomes a failed report.
pub fn run(ctx: &Ctx<'_>, kind: Kind, backend: Option<Backend>) -> Report {
    let name = match backend {
        Some(b) => format!("{}/{}", kind.name(), b.name()),
        None => format!("{}/git-cli", kind.name()),
    };
    let dir = ctx.work.join(name.replace('/', "-"));
    eprintln!("mutator-bench: running {name} (in {})", dir.display());
    let result = match (kind, backend) {
        (Kind::Baseline, _) => run_baseline(ctx, &name, &dir),
        (_, Some(b)) => run_service(ctx, kind, b, &name, &dir),
        (_, None) => Err(anyhow!("no backend")),
    };
    result.unwrap_or_else(|e| Report::failed_run(&name, "", format!("{e:#}")))
}

fn workload(opts: &Options) -> String {
    let files = opts.apps.max(1) * load::ENVIRONMENTS.len();
    format!(
        "{} apps × {} envs = {files} values files",
        opts.apps.max(1),
        load::ENVIRONMENTS.len()
    )
}

fn run_service(
    ctx: &Ctx<'_>,
    kind: Kind,
    backend: Backend,
    name: &str,
    dir: &Path,
) -> anyhow::Result<Report> {
    let opts = ctx.opts;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = match (kind, backend) {
        (Kind::TwoProcesses, Backend::Embedded) => Target::shared_git(dir.join("shared.git")),
        (Kind::Faults, Backend::Embedded) => {
            return Err(anyhow!(
                "the faults scenario needs a simulator (github or gitlab)"
            ));
        }
        _ => Target::start(backend, dir)?,
    };
    let config = match target.config() {
        Some(text) => {
            let path = dir.join("config.yaml");
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    let processes = if kind == Kind::TwoProcesses { 2 } else { 1 };
    let mut services = Vec::new();
    for k in 0..processes {
        // One after the other: the first creates a missing shared repository.
        services.push(Service::start(
            &ctx.bin,
            &dir.join(format!("data-{k}")),
            config.as_deref(),
            &target.env(),
        )?);
    }
    let bases: Vec<String> = services.iter().map(|s| s.base.clone()).collect();
    let client = load::client(
        opts.clients + 16,
        Duration::from_secs(opts.request_timeout_secs),
    )?;
    ctx.rt.block_on(async {
        for a in 0..opts.apps.max(1) {
            load::scaffold(&client, &bases[0], &load::app_name(a)).await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let repo_path = target.repo_path(&dir.join("data-0"))?;
    let repo = checks::open(&repo_path)?;
    let start = checks::branch_head(&repo, BRANCH)?;

    let mut setup = format!(
        "{processes} service process{} on {}, {}; {} clients",
        if processes > 1 { "es" } else { "" },
        target.name(),
        workload(opts),
        opts.clients
    );
    if opts.idempotency_keys {
        setup.push_str("; Idempotency-Key on every update");
    }
    target.reset_stats();
    let mut pusher = None;
    if kind == Kind::Faults {
        setup.push_str(&format!("; faults: {}", target.apply_faults(opts)?));
        pusher = target.foreign_pusher(Duration::from_millis(opts.foreign_push_every_ms));
    }
    if target.is_sim() {
        setup.push_str("; primary rate limits lifted");
    }
    let plan = load::plan(opts.updates, opts.apps);
    let run_id = format!("bench-{}-{}", name.replace('/', "-"), std::process::id());
    let run = ctx.rt.block_on(load::run_http(
        &plan,
        &bases,
        opts.clients,
        &client,
        Duration::from_secs(opts.timeout_secs),
        opts.idempotency_keys,
        &run_id,
    ));
    if let Some(p) = pusher {
        p.stop();
    }
    target.clear_faults();
    let counts = target.counts();
    for s in services {
        s.stop();
    }
    let foreign = (kind == Kind::Faults).then(|| counts.as_ref().map_or(0, |c| c.foreign_pushes));
    let mut report = finish(
        name,
        setup,
        opts.clients,
        &repo,
        start,
        &plan,
        &run,
        foreign,
        opts.timeout_secs,
    )?;
    report.forge = counts;
    drop(target);
    Ok(report)
}

fn run_baseline(ctx: &Ctx<'_>, name: &str, dir: &Path) -> anyhow::Result<Report> {
    let opts = ctx.opts;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let clients = opts.baseline_clients.unwrap_or(opts.clients);
    let updates = opts.baseline_updates.unwrap_or(opts.updates);
    let timeout = opts.baseline_timeout_secs.unwrap_or(opts.timeout_secs);
    // The same scaffolding as the service runs, made by the service itself, then stopped.
    let bare = dir.join("baseline.git");
    let target = Target::shared_git(bare.clone());
    let config = dir.join("config.yaml");
    std::fs::write(&config, target.config().unwrap_or_default())
        .with_context(|| format!("cannot write {}", config.display()))?;
    let service = Service::start(&ctx.bin, &dir.join("data-0"), Some(&config), &[])?;
    let client = load::client(4, Duration::from_secs(opts.request_timeout_secs))?;
    ctx.rt.block_on(async {
        for a in 0..opts.apps.max(1) {
            load::scaffold(&client, &service.base, &load::app_name(a)).await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    service.stop();
    let repo = checks::open(&bare)?;
    let start = checks::branch_head(&repo, BRANCH)?;
    let plan = load::plan(updates, opts.apps);
    let run_id = format!("bench-baseline-{}", std::process::id());
    let settings = baseline::Settings {
        bare: &bare,
        work: dir,
        clients,
        deadline: Duration::from_secs(timeout),
        attempts: opts.baseline_push_attempts,
        run_id: &run_id,
    };
    let run = ctx.rt.block_on(baseline::run(&plan, &settings));
    let setup = format!(
        "bash per update: git clone --depth 1 file://…, sed, commit, push; on rejection git pull --rebase (on conflict reset + sed again), up to {} pushes; {}; {clients} scripts at once",
        opts.baseline_push_attempts,
        workload(opts)
    );
    finish(
        name, setup, clients, &repo, start, &plan, &run, None, timeout,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    name: &str,
    setup: String,
    clients: usize,
    repo: &git2::Repository,
    start: git2::Oid,
    plan: &[Update],
    run: &Run,
    foreign_pushes: Option<u64>,
    timeout_secs: u64,
) -> anyhow::Result<Report> {
    let history = checks::read_history(repo, BRANCH, start)?;
    let mut report = Report::from_answers(name, setup, clients, &run.answers, run.wall);
    let mut all = vec![in_time(run, timeout_secs)];
    all.extend(checks::run_checks(
        repo,
        &history,
        plan,
        &run.answers,
        foreign_pushes,
    ));
    report.checks = all;
    let (commits, unclaimed) = count_commits(&history, &run.answers);
    report.commits = commits;
    report.unclaimed_commits = unclaimed;
    Ok(report)
}

fn in_time(run: &Run, timeout_secs: u64) -> Check {
    let unanswered = run
        .answers
        .iter()
        .filter(|a| matches!(a.status, load::Status::Unanswered | load::Status::NotSent))
        .count();
    Check {
        name: format!("finished within {timeout_secs} s"),
        pass: !run.timed_out && unanswered == 0,
        detail: if run.timed_out {
            format!(
                "timed out: {unanswered} of {} requests unanswered; figures are partial",
                run.answers.len()
            )
        } else {
            format!("{:.1} s", run.wall.as_secs_f64())
        },
    }
}

/// Commits carrying a mutation id since the scaffolding, and how many of those belong to no
/// 2xx answer.
fn count_commits(history: &History, answers: &[Answer]) -> (usize, usize) {
    let claimed: HashSet<&str> = answers
        .iter()
        .filter(|a| a.ok())
        .filter_map(|a| a.mutation_id.as_deref())
        .collect();
    let mine = history
        .first_parent
        .iter()
        .filter(|c| !c.ids.is_empty() && c.author != FOREIGN_AUTHOR);
    let mut commits = 0;
    let mut unclaimed = 0;
    for c in mine {
        commits += 1;
        if !c.ids.iter().any(|id| claimed.contains(id.as_str())) {
            unclaimed += 1;
        }
    }
    (commits, unclaimed)
}
