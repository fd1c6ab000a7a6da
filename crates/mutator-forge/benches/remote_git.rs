//! Image-update latency through the remote git backend against a git smart-HTTP server, and
//! the clone-per-change script it replaces, at 100, 10,000 and 100,000 files.
//!
//! Run: `cargo bench -p mutator-forge --bench remote_git`
//! (`BENCH_SIZES=100,10000` and `BENCH_ITERS=30` / `BENCH_CLONE_ITERS=10` override the defaults.)
//!
//! Per size: a bare repository generated with libgit2 (objects written to memory, then one
//! pack), served by `git http-backend` behind the test bridge with Basic authentication.
//! - RemoteGit: one warm-up change (the mirror's first fetch), then N changes of
//!   head → read the values file → commit one changed file → push. The bridge times each
//!   request it hands to git, so a commit's time splits into the server's part (ref
//!   discovery and `git receive-pack`) and ours (building the commit and the pack, HTTP).
//! - clone-per-change: `git clone --depth 1`, edit the file, `git commit`, `git push`,
//!   all with the git CLI, as CI jobs do today.

#[path = "../tests/support/git_http.rs"]
mod git_http;

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use git_http::{GitHttpServer, Served};
use git2::{FileMode, Oid, Repository};
use mutator_core::{BranchName, ChangeSet, RepoPath};
use mutator_forge::{CommitRequest, Forge, RemoteAuth, RemoteGit, RemoteGitSettings, Signature};
use secrecy::SecretString;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
const VALUES: &str = "environments/staging/values.yaml";

fn main() -> Result<()> {
    // `cargo bench` passes --bench; anything else (cargo test --all-targets) only builds it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("remote_git: run with `cargo bench -p mutator-forge --bench remote_git`");
        return Ok(());
    }
    let sizes = env_list("BENCH_SIZES", &[100, 10_000, 100_000]);
    let iters = env_list("BENCH_ITERS", &[30])[0];
    let clone_iters = env_list("BENCH_CLONE_ITERS", &[10])[0];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for &files in &sizes {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("served");
        std::fs::create_dir(&root)?;
        let started = Instant::now();
        generate(&root.join("bench.git"), files)?;
        let generated = started.elapsed();
        let pack_bytes = dir_size(&root.join("bench.git/objects"))?;
        let server = GitHttpServer::start(&root, Some((USER, PASSWORD)))?;
        // The server's side of a push waits on fsync; writeback still pending from the
        // previous size's clones would land in these measurements.
        settle_disk()?;

        let forge = RemoteGit::open(RemoteGitSettings {
            url: server.url("bench.git"),
            mirror_dir: dir.path().join("data/mirror.git"),
            auth: RemoteAuth::Basic {
                username: SecretString::from(USER),
                password: SecretString::from(PASSWORD),
            },
            timeout: Duration::from_secs(600),
        })?;
        let started = Instant::now();
        runtime.block_on(image_update(&forge, 0))?;
        let warm_up = started.elapsed();
        settle(&server);
        let mut ours = Vec::new();
        let mut phases = [Vec::new(), Vec::new(), Vec::new()];
        for i in 1..=iters {
            let started = Instant::now();
            let times = runtime.block_on(image_update(&forge, i))?;
            ours.push(started.elapsed());
            for (all, one) in phases.iter_mut().zip(times) {
                all.push(one);
            }
        }
        let served = settle(&server);
        let split = PushSplit::of(&phases[2], &served);
        let [mut head_t, mut read_t, mut commit_t] = phases;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "{files} files, RemoteGit phase medians: head {:.1} ms, read {:.2} ms, commit+push {:.1} ms \
             (server: ref discovery {:.1} ms + receive-pack {:.1} ms; client side {:.1} ms)",
            ms(Stats::of(&mut head_t).median),
            ms(Stats::of(&mut read_t).median),
            ms(Stats::of(&mut commit_t).median),
            ms(split.discovery),
            ms(split.update),
            ms(split.client),
        );

        let clone_n = if files >= 100_000 {
            clone_iters.div_ceil(2)
        } else {
            clone_iters
        };
        let url = format!("http://{USER}:{PASSWORD}@{}/bench.git", server.addr());
        let mut theirs = Vec::new();
        for i in 0..clone_n {
            let work = dir.path().join(format!("work-{i}"));
            let started = Instant::now();
            clone_per_change(&url, &work, 1000 + i)?;
            theirs.push(started.elapsed());
            std::fs::remove_dir_all(&work)?;
        }
        let row = Row {
            files,
            pack_bytes,
            generated,
            warm_up,
            ours: Stats::of(&mut ours),
            theirs: Stats::of(&mut theirs),
        };
        eprintln!("{}", row.line());
        rows.push(row);
    }
    println!();
    println!(
        "| files | served objects | RemoteGit first change (warm-up fetch) | RemoteGit median | RemoteGit p95 | n | clone-per-change median | clone-per-change p95 | n | speed-up (median) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!("{}", row.line());
    }
    Ok(())
}

fn settle_disk() -> Result<()> {
    let status = Command::new("sync").status()?;
    if !status.success() {
        return Err("sync failed".into());
    }
    Ok(())
}

/// Waits until the bridge has recorded the requests already answered (it records each one
/// just after its last byte leaves), then takes them.
fn settle(server: &GitHttpServer) -> Vec<Served> {
    std::thread::sleep(Duration::from_millis(200));
    server.take_served()
}

/// Medians of a commit's time on the server and on our side. The bench pushes once per
/// commit, so the k-th discovery and the k-th update belong to the k-th commit.
struct PushSplit {
    discovery: Duration,
    update: Duration,
    client: Duration,
}

impl PushSplit {
    fn of(commits: &[Duration], served: &[Served]) -> PushSplit {
        let discovery: Vec<Duration> = served
            .iter()
            .filter(|s| s.method == "GET" && s.query == "service=git-receive-pack")
            .map(|s| s.took)
            .collect();
        let update: Vec<Duration> = served
            .iter()
            .filter(|s| s.method == "POST" && s.path.ends_with("/git-receive-pack"))
            .map(|s| s.took)
            .collect();
        let mut client: Vec<Duration> = commits
            .iter()
            .zip(discovery.iter().zip(&update))
            .map(|(total, (d, u))| total.saturating_sub(*d + *u))
            .collect();
        PushSplit {
            discovery: Stats::of(&mut discovery.clone()).median,
            update: Stats::of(&mut update.clone()).median,
            client: Stats::of(&mut client).median,
        }
    }
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

/// One image update as the service does it; returns how long head, read and commit took.
async fn image_update(forge: &RemoteGit, n: usize) -> Result<[Duration; 3]> {
    let main = BranchName::parse("main")?;
    let values = RepoPath::parse(VALUES)?;
    let started = Instant::now();
    let head = forge.head(&main).await?.ok_or("main has no head")?;
    let head_t = started.elapsed();
    let started = Instant::now();
    let current = forge
        .read_file(&head, &values)
        .await?
        .ok_or("no values file")?;
    let read_t = started.elapsed();
    let started = Instant::now();
    let mut changes = ChangeSet::new();
    changes.put(values, bump(&current, n));
    let author = Signature {
        name: "gitops-mutator".into(),
        email: "gitops-mutator@localhost".into(),
    };
    let message = format!("staging runs 1.0.{n} [skip ci]\n\nGitops-Mutation-Id: bench-{n}\n");
    forge
        .commit(CommitRequest {
            branch: &main,
            parent: Some(&head),
            changes: &changes,
            message: &message,
            author: &author,
        })
        .await?;
    Ok([head_t, read_t, started.elapsed()])
}

fn bump(values: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(values);
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("tag:") {
            out.push_str(&format!("  tag: \"1.0.{n}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// What a CI job does today: shallow clone, edit, commit, push.
fn clone_per_change(url: &str, work: &Path, n: usize) -> Result<()> {
    let work_str = work.to_str().ok_or("path")?;
    git(
        None,
        &[
            "clone", "--quiet", "--depth", "1", "--branch", "main", url, work_str,
        ],
    )?;
    let file = work.join(VALUES);
    let current = std::fs::read(&file)?;
    std::fs::write(&file, bump(&current, n))?;
    git(
        Some(work),
        &[
            "commit",
            "--quiet",
            "-am",
            &format!("staging runs 1.0.{n} [skip ci]"),
        ],
    )?;
    git(Some(work), &["push", "--quiet", "origin", "main"])?;
    Ok(())
}

fn git(dir: Option<&Path>, args: &[&str]) -> Result<()> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command
        .args(["-c", "user.name=CI job", "-c", "user.email=ci@example.com"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()?;
    if !out.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// A bare repository with `files` small files in nested directories
/// (`apps/app-NNNN/env-N/file-NNN.yaml`, 100 per directory) plus the values file, written
/// to memory and stored as one pack.
fn generate(path: &Path, files: usize) -> Result<()> {
    let repo = Repository::init_bare(path)?;
    repo.set_head("refs/heads/main")?;
    repo.config()?.set_bool("http.receivepack", true)?;
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;

    let per_dir = 100;
    let dirs_per_app = 10;
    let mut apps = repo.treebuilder(None)?;
    let mut written = 0;
    let mut app = 0;
    while written < files {
        let mut app_tree = repo.treebuilder(None)?;
        for env in 0..dirs_per_app {
            if written >= files {
                break;
            }
            let mut env_tree = repo.treebuilder(None)?;
            for f in 0..per_dir.min(files - written) {
                let content = format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{app}-{env}-{f}\ndata:\n  replicas: \"{}\"\n",
                    (app + env + f) % 7
                );
                let blob = repo.blob(content.as_bytes())?;
                env_tree.insert(format!("file-{f:03}.yaml"), blob, FileMode::Blob.into())?;
                written += 1;
            }
            app_tree.insert(
                format!("env-{env}"),
                env_tree.write()?,
                FileMode::Tree.into(),
            )?;
        }
        apps.insert(
            format!("app-{app:04}"),
            app_tree.write()?,
            FileMode::Tree.into(),
        )?;
        app += 1;
    }
    let values = repo.blob(b"image:\n  repository: ghcr.io/acme/payments\n  tag: \"1.0.0\"\n")?;
    let mut staging = repo.treebuilder(None)?;
    staging.insert("values.yaml", values, FileMode::Blob.into())?;
    let mut environments = repo.treebuilder(None)?;
    environments.insert("staging", staging.write()?, FileMode::Tree.into())?;
    let mut root = repo.treebuilder(None)?;
    root.insert("apps", apps.write()?, FileMode::Tree.into())?;
    root.insert("environments", environments.write()?, FileMode::Tree.into())?;
    let tree = repo.find_tree(root.write()?)?;
    let sig = git2::Signature::now("seed", "seed@example.com")?;
    let commit: Oid = repo.commit(None, &sig, &sig, "seed\n", &tree, &[])?;

    let mut pack = git2::Buf::new();
    mempack.dump(&repo, &mut pack)?;
    let mut writer = odb.packwriter()?;
    writer.write_all(&pack)?;
    writer.commit()?;
    repo.reference("refs/heads/main", commit, true, "seed")?;
    Ok(())
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

struct Stats {
    median: Duration,
    p95: Duration,
    n: usize,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Stats {
        samples.sort();
        let n = samples.len();
        let at = |q: f64| {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            samples.get(rank).copied().unwrap_or_default()
        };
        Stats {
            median: at(0.5),
            p95: at(0.95),
            n,
        }
    }
}

struct Row {
    files: usize,
    pack_bytes: u64,
    generated: Duration,
    warm_up: Duration,
    ours: Stats,
    theirs: Stats,
}

impl Row {
    fn line(&self) -> String {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        format!(
            "| {} | {:.1} MB (generated in {:.1} s) | {} | {} | {} | {} | {} | {} | {} | {:.0}× |",
            self.files,
            self.pack_bytes as f64 / 1e6,
            self.generated.as_secs_f64(),
            ms(self.warm_up),
            ms(self.ours.median),
            ms(self.ours.p95),
            self.ours.n,
            ms(self.theirs.median),
            ms(self.theirs.p95),
            self.theirs.n,
            self.theirs.median.as_secs_f64() / self.ours.median.as_secs_f64().max(1e-9),
        )
    }
}
