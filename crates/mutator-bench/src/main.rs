//! `mutator-bench`: a load benchmark of the real gitops-mutator service — many pipelines
//! writing to one repository.
//!
//! It starts `gitops-mutator serve` processes (the binary given by `--bin`, by default
//! `target/release/gitops-mutator`: run `cargo build --release -p gitops-mutator` first), points
//! them at the embedded local repository or at the GitHub / GitLab simulators of `forge-sim`
//! (started in this process), scaffolds the applications one by one, then sends image updates
//! from many concurrent keep-alive clients and measures throughput, latency percentiles,
//! commits and forge writes per update. Afterwards it reads the branch with git2 and checks
//! that every 2xx answer's commit holds its change, that the final content is every successful
//! request applied in commit order, that no mutation id appears twice and that none was lost.
//!
//! ```text
//! cargo build --release -p gitops-mutator
//! cargo run --release -p mutator-bench -- all --markdown
//! cargo run --release -p mutator-bench -- load --backend github --updates 500 --clients 200
//! cargo run --release -p mutator-bench -- faults --backend github --timeout-secs 600
//! cargo run --release -p mutator-bench -- two-processes --backend embedded,github
//! cargo run --release -p mutator-bench -- baseline --baseline-clients 20
//! ```

mod baseline;
mod checks;
mod cli;
mod forge;
mod load;
mod report;
mod scenario;
mod service;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

use crate::cli::{Backend, Cli, Command};
use crate::report::Report;
use crate::scenario::{Ctx, Kind};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("mutator-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns whether every check of every scenario passed.
fn run(cli: Cli) -> anyhow::Result<bool> {
    let opts = cli.opts;
    if opts.updates == 0 || opts.clients == 0 {
        bail!("--updates and --clients must be at least 1");
    }
    let bin = find_bin(&opts.bin)?;
    let scenarios: Vec<(Kind, Option<Backend>)> = match cli.command {
        Command::Load { backend } => backend.into_iter().map(|b| (Kind::Load, Some(b))).collect(),
        Command::Faults { backend } => backend
            .into_iter()
            .map(|b| (Kind::Faults, Some(b)))
            .collect(),
        Command::TwoProcesses { backend } => backend
            .into_iter()
            .map(|b| (Kind::TwoProcesses, Some(b)))
            .collect(),
        Command::Baseline => vec![(Kind::Baseline, None)],
        Command::All => vec![
            (Kind::Load, Some(Backend::Embedded)),
            (Kind::Load, Some(Backend::Github)),
            (Kind::Load, Some(Backend::Gitlab)),
            (Kind::Faults, Some(Backend::Github)),
            (Kind::Faults, Some(Backend::Gitlab)),
            (Kind::TwoProcesses, Some(Backend::Embedded)),
            (Kind::TwoProcesses, Some(Backend::Github)),
            (Kind::Baseline, None),
        ],
    };

    let (work, temp) = match &opts.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            (dir.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("mutator-bench-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mutator-bench")
        .build()
        .context("cannot start the async runtime")?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "mutator-bench: service {} | {} cores | {} updates, {} clients, {} apps | scenario timeout {} s",
        bin.display(),
        cores,
        opts.updates,
        opts.clients,
        opts.apps,
        opts.timeout_secs
    );
    println!();

    let ctx = Ctx {
        opts: &opts,
        bin,
        work: work.clone(),
        rt: &rt,
    };
    let mut reports: Vec<Report> = Vec::new();
    for (kind, backend) in scenarios {
        let report = scenario::run(&ctx, kind, backend);
        report.print();
        reports.push(report);
    }
    drop(rt);

    report::print_table(&reports);
    report::print_speedups(&reports, false);
    if opts.markdown {
        println!();
        report::print_markdown(&reports);
        report::print_speedups(&reports, true);
    }
    let passed = reports.iter().all(Report::passed);
    println!();
    println!("overall: {}", if passed { "PASS" } else { "FAIL" });
    if let Some(t) = temp {
        if opts.keep {
            println!("work directory kept: {}", t.keep().display());
        } else if let Err(e) = t.close() {
            eprintln!("mutator-bench: cannot remove the work directory: {e}");
        }
    } else {
        println!("work directory: {}", work.display());
    }
    Ok(passed)
}

/// `--bin` as given, or relative to the workspace root when run from elsewhere.
fn find_bin(bin: &Path) -> anyhow::Result<PathBuf> {
    let candidates = [
        bin.to_path_buf(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(bin),
    ];
    for c in &candidates {
        if c.is_file() {
            return c
                .canonicalize()
                .with_context(|| format!("cannot resolve {}", c.display()));
        }
    }
    bail!(
        "no service binary at {} — build it first: cargo build --release -p gitops-mutator (or pass --bin PATH)",
        bin.display()
    )
}
