//! Figures of a scenario and how they are printed.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::checks::Check;
use crate::forge::ForgeCounts;
use crate::load::Answer;

pub struct Report {
    pub scenario: String,
    /// What was switched on, how many processes, etc.
    pub setup: String,
    pub clients: usize,
    pub requests: usize,
    pub ok: usize,
    /// Failures by HTTP status / exit code / what happened, with a first reason each.
    pub failed: BTreeMap<String, (usize, String)>,
    pub wall: Duration,
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    /// Commits since the scaffolding that carry a mutation id.
    pub commits: usize,
    /// Those commits whose ids belong to no 2xx answer (landed although the client saw an
    /// error, or never answered).
    pub unclaimed_commits: usize,
    pub forge: Option<ForgeCounts>,
    pub checks: Vec<Check>,
    /// A scenario that could not run at all.
    pub error: Option<String>,
}

impl Report {
    pub fn failed_run(scenario: &str, setup: &str, error: String) -> Report {
        Report {
            scenario: scenario.to_owned(),
            setup: setup.to_owned(),
            clients: 0,
            requests: 0,
            ok: 0,
            failed: BTreeMap::new(),
            wall: Duration::ZERO,
            p50: None,
            p95: None,
            p99: None,
            commits: 0,
            unclaimed_commits: 0,
            forge: None,
            checks: Vec::new(),
            error: Some(error),
        }
    }

    pub fn from_answers(
        scenario: &str,
        setup: String,
        clients: usize,
        answers: &[Answer],
        wall: Duration,
    ) -> Report {
        let mut ok_latencies: Vec<Duration> = Vec::new();
        let mut failed: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for a in answers {
            if a.ok() {
                if let Some(l) = a.latency {
                    ok_latencies.push(l);
                }
            } else {
                let e = failed
                    .entry(a.label())
                    .or_insert((0, a.detail.clone().unwrap_or_default()));
                e.0 += 1;
            }
        }
        ok_latencies.sort();
        Report {
            scenario: scenario.to_owned(),
            setup,
            clients,
            requests: answers.len(),
            ok: answers.iter().filter(|a| a.ok()).count(),
            failed,
            wall,
            p50: percentile(&ok_latencies, 50.0),
            p95: percentile(&ok_latencies, 95.0),
            p99: percentile(&ok_latencies, 99.0),
            commits: 0,
            unclaimed_commits: 0,
            forge: None,
            checks: Vec::new(),
            error: None,
        }
    }

    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.pass)
    }

    pub fn failed_total(&self) -> usize {
        self.failed.values().map(|(n, _)| n).sum()
    }

    pub fn updates_per_sec(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// Forge writes per successful update: content-creating requests (GitHub), write requests
    /// (GitLab), commits (embedded git and the baseline, where a push is the write).
    pub fn writes_per_update(&self) -> Option<f64> {
        if self.ok == 0 {
            return None;
        }
        let writes = match &self.forge {
            Some(f) => f.writes as f64,
            None => self.commits as f64,
        };
        Some(writes / self.ok as f64)
    }

    pub fn forge_requests_per_update(&self) -> Option<f64> {
        match (&self.forge, self.ok) {
            (Some(f), ok) if ok > 0 => Some(f.requests as f64 / ok as f64),
            _ => None,
        }
    }

    fn failed_summary(&self) -> String {
        if self.failed.is_empty() {
            return "0".to_owned();
        }
        let parts: Vec<String> = self
            .failed
            .iter()
            .map(|(label, (n, _))| format!("{label}×{n}"))
            .collect();
        format!("{} ({})", self.failed_total(), parts.join(", "))
    }

    fn checks_summary(&self) -> String {
        if self.error.is_some() {
            return "FAIL (did not run)".to_owned();
        }
        let failed = self.checks.iter().filter(|c| !c.pass).count();
        if failed == 0 {
            format!("PASS ({}/{})", self.checks.len(), self.checks.len())
        } else {
            format!("FAIL ({failed} of {})", self.checks.len())
        }
    }

    /// The long form, printed after each scenario.
    pub fn print(&self) {
        println!("== {} ==", self.scenario);
        println!("   {}", self.setup);
        if let Some(e) = &self.error {
            println!("   FAIL: the scenario did not run: {e}");
            println!();
            return;
        }
        println!(
            "   requests {}  ok {}  failed {}",
            self.requests,
            self.ok,
            self.failed_summary()
        );
        for (label, (n, why)) in &self.failed {
            if !why.is_empty() {
                println!("     {label} ×{n}: e.g. {why}");
            }
        }
        println!(
            "   wall {:.1} s  updates/s {:.2}  ({:.0} updates/min)  latency of 2xx ms p50 {} p95 {} p99 {}",
            self.wall.as_secs_f64(),
            self.updates_per_sec(),
            self.updates_per_sec() * 60.0,
            ms(self.p50),
            ms(self.p95),
            ms(self.p99)
        );
        println!(
            "   commits {} ({} without a 2xx answer)  writes/update {}",
            self.commits,
            self.unclaimed_commits,
            ratio(self.writes_per_update())
        );
        if let Some(f) = &self.forge {
            println!(
                "   forge: requests {} ({}/update), content-creating {}, commits created {}, rate-limited {}, 5xx injected {}, foreign pushes {}",
                f.requests,
                ratio(self.forge_requests_per_update()),
                f.writes,
                f.commits_created,
                f.rate_limited,
                f.faults_injected,
                f.foreign_pushes
            );
        }
        for c in &self.checks {
            println!(
                "   {} {}: {}",
                if c.pass { "PASS" } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        println!();
    }
}

const COLUMNS: [&str; 14] = [
    "scenario",
    "clients",
    "requests",
    "ok",
    "failed (by status)",
    "wall s",
    "updates/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "commits",
    "writes/update",
    "forge req/update",
    "checks",
];

fn row(r: &Report) -> [String; 14] {
    [
        r.scenario.clone(),
        r.clients.to_string(),
        r.requests.to_string(),
        r.ok.to_string(),
        r.failed_summary(),
        format!("{:.1}", r.wall.as_secs_f64()),
        format!("{:.2}", r.updates_per_sec()),
        ms(r.p50),
        ms(r.p95),
        ms(r.p99),
        r.commits.to_string(),
        ratio(r.writes_per_update()),
        ratio(r.forge_requests_per_update()),
        r.checks_summary(),
    ]
}

/// The summary table, aligned for a terminal.
pub fn print_table(reports: &[Report]) {
    let rows: Vec<[String; 14]> = reports.iter().map(row).collect();
    let mut widths: Vec<usize> = COLUMNS.iter().map(|c| c.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(COLUMNS.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// The same rows as Markdown, for BENCHMARKS.md.
pub fn print_markdown(reports: &[Report]) {
    println!("| {} |", COLUMNS.join(" | "));
    println!("|{}", " --- |".repeat(COLUMNS.len()));
    for r in reports {
        println!("| {} |", row(r).join(" | "));
    }
}

/// Service scenarios' updates/s over the baseline's.
pub fn print_speedups(reports: &[Report], markdown: bool) {
    let Some(base) = reports
        .iter()
        .find(|r| r.scenario.starts_with("baseline") && r.error.is_none())
    else {
        return;
    };
    let b = base.updates_per_sec();
    let others: Vec<&Report> = reports
        .iter()
        .filter(|r| !r.scenario.starts_with("baseline") && r.error.is_none())
        .collect();
    if b <= 0.0 || others.is_empty() {
        return;
    }
    println!();
    println!(
        "Against the baseline ({:.2} updates/s with {} scripts at once):",
        b, base.clients
    );
    for r in others {
        let x = r.updates_per_sec() / b;
        if markdown {
            println!("- {}: {:.2}× the baseline's updates/s", r.scenario, x);
        } else {
            println!("   {:<28} {:>8.2}×", r.scenario, x);
        }
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".to_owned(),
        |d| format!("{:.0}", d.as_secs_f64() * 1000.0),
    )
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&v, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&v[..1], 95.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
