//! What must hold after a run, read from the repository with git2.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::Context;
use git2::{Oid, Repository};
use serde_json::Value;

use crate::forge::{FOREIGN_AUTHOR, FOREIGN_DIR};
use crate::load::{Answer, SCAFFOLD_TAG, Status, Update, values_path};

const MUTATION_ID: &str = "Gitops-Mutation-Id";
/// Failures listed per check; the rest are counted.
const SHOWN: usize = 5;

/// One commit of the run, on the branch's first-parent chain.
pub struct Commit {
    pub oid: Oid,
    /// Every `Gitops-Mutation-Id` trailer value, in order (a group commit carries several).
    pub ids: Vec<String>,
    pub author: String,
}

/// The branch after the run: the commits made since `start`.
pub struct History {
    pub head: Oid,
    /// First-parent chain from `start` (exclusive) to the head, oldest first.
    pub first_parent: Vec<Commit>,
    /// Every commit reachable from the head and not from `start` (merges' sides included).
    pub reachable: usize,
    /// How often each mutation id occurs over every reachable commit since `start`.
    pub id_counts: HashMap<String, usize>,
    /// Mutation id → (index in `first_parent`, position among that commit's trailers).
    pub id_position: HashMap<String, (usize, usize)>,
}

pub fn open(repo: &Path) -> anyhow::Result<Repository> {
    Repository::open_bare(repo).with_context(|| format!("cannot open {}", repo.display()))
}

pub fn branch_head(repo: &Repository, branch: &str) -> anyhow::Result<Oid> {
    repo.refname_to_id(&format!("refs/heads/{branch}"))
        .with_context(|| format!("no branch {branch}"))
}

/// Values of trailer `key` in the message's last paragraph.
pub fn trailer_values(message: &str, key: &str) -> Vec<String> {
    let Some(last) = message.trim_end().rsplit("\n\n").next() else {
        return Vec::new();
    };
    last.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
        .collect()
}

pub fn read_history(repo: &Repository, branch: &str, start: Oid) -> anyhow::Result<History> {
    let head = branch_head(repo, branch)?;
    let mut chain = Vec::new();
    let mut at = head;
    while at != start {
        let commit = repo.find_commit(at)?;
        chain.push(Commit {
            oid: at,
            ids: trailer_values(commit.message().unwrap_or_default(), MUTATION_ID),
            author: commit.author().name().unwrap_or_default().to_owned(),
        });
        match commit.parent_id(0) {
            Ok(p) => at = p,
            Err(_) => anyhow::bail!("the first-parent chain from the head does not reach {start}"),
        }
    }
    chain.reverse();
    let mut id_position = HashMap::new();
    for (i, c) in chain.iter().enumerate() {
        for (pos, id) in c.ids.iter().enumerate() {
            id_position.entry(id.clone()).or_insert((i, pos));
        }
    }
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    walk.hide(start)?;
    let mut id_counts: HashMap<String, usize> = HashMap::new();
    let mut reachable = 0;
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        reachable += 1;
        for id in trailer_values(commit.message().unwrap_or_default(), MUTATION_ID) {
            *id_counts.entry(id).or_default() += 1;
        }
    }
    Ok(History {
        head,
        first_parent: chain,
        reachable,
        id_counts,
        id_position,
    })
}

/// `image.tag` of a values file at `commit` (`Ok(None)`: no such file or no tag).
pub fn tag_at(repo: &Repository, commit: Oid, path: &str) -> anyhow::Result<Option<String>> {
    let tree = repo.find_commit(commit)?.tree()?;
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    let blob = repo.find_blob(entry.id())?;
    let values: Value = yaml_serde::from_slice(blob.content())
        .with_context(|| format!("{path} at {commit} is not YAML"))?;
    Ok(match &values["image"]["tag"] {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

pub struct Check {
    pub name: String,
    pub pass: bool,
    pub detail: String,
}

impl Check {
    fn new(name: &str, failures: &[String], total_failures: usize, ok_detail: String) -> Check {
        let pass = total_failures == 0;
        let detail = if pass {
            ok_detail
        } else {
            let more = total_failures.saturating_sub(failures.len());
            let mut d = failures.join("; ");
            if more > 0 {
                d.push_str(&format!("; and {more} more"));
            }
            d
        };
        Check {
            name: name.to_owned(),
            pass,
            detail,
        }
    }
}

struct Failures {
    shown: Vec<String>,
    total: usize,
}

impl Failures {
    fn new() -> Self {
        Failures {
            shown: Vec::new(),
            total: 0,
        }
    }
    fn push(&mut self, f: String) {
        self.total += 1;
        if self.shown.len() < SHOWN {
            self.shown.push(f);
        }
    }
}

/// Everything the run must satisfy. `answers[i]` answers `plan[i]`.
pub fn run_checks(
    repo: &Repository,
    history: &History,
    plan: &[Update],
    answers: &[Answer],
    foreign_pushes: Option<u64>,
) -> Vec<Check> {
    let mut checks = vec![
        answers_hold_their_change(repo, history, plan, answers),
        final_content(repo, history, plan, answers),
        no_duplicate_ids(history),
        nothing_lost(history, answers),
    ];
    if let Some(expected) = foreign_pushes {
        checks.push(foreign_pushes_kept(repo, history, expected));
    }
    checks
}

/// Every 2xx answer's commit holds its change: the values file at the answered sha has the
/// request's tag, or a later request of the same commit for the same file superseded it.
fn answers_hold_their_change(
    repo: &Repository,
    history: &History,
    plan: &[Update],
    answers: &[Answer],
) -> Check {
    // (sha, file) → [(trailer position, tag)] of the committed requests answered with it.
    let mut same_commit: HashMap<(String, String), Vec<(usize, String)>> = HashMap::new();
    for (u, a) in plan.iter().zip(answers) {
        if let (true, true, Some(sha), Some(id)) = (a.ok(), a.committed, &a.sha, &a.mutation_id)
            && let Some(&(_, pos)) = history.id_position.get(id)
        {
            same_commit
                .entry((sha.clone(), u.values_path()))
                .or_default()
                .push((pos, u.tag.clone()));
        }
    }
    let on_chain: HashMap<Oid, usize> = history
        .first_parent
        .iter()
        .enumerate()
        .map(|(i, c)| (c.oid, i))
        .collect();
    let mut failures = Failures::new();
    let mut checked = 0;
    for (i, (u, a)) in plan.iter().zip(answers).enumerate() {
        if !a.ok() {
            continue;
        }
        checked += 1;
        let Some(sha) = &a.sha else {
            failures.push(format!("#{i}: 2xx without a commit sha"));
            continue;
        };
        let Ok(oid) = Oid::from_str(sha) else {
            failures.push(format!("#{i}: {sha:?} is not a sha"));
            continue;
        };
        if repo.find_commit(oid).is_err() {
            failures.push(format!("#{i}: commit {sha} is not in the repository"));
            continue;
        }
        if a.committed {
            let Some(&idx) = on_chain.get(&oid) else {
                failures.push(format!(
                    "#{i}: commit {sha} is not on the branch's first-parent history"
                ));
                continue;
            };
            let carries = a
                .mutation_id
                .as_ref()
                .is_some_and(|id| history.first_parent[idx].ids.contains(id));
            if !carries {
                failures.push(format!(
                    "#{i}: commit {sha} does not carry mutation id {:?}",
                    a.mutation_id
                ));
                continue;
            }
        }
        let path = u.values_path();
        let found = match tag_at(repo, oid, &path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("#{i}: {e:#}"));
                continue;
            }
        };
        if found.as_deref() == Some(u.tag.as_str()) {
            continue;
        }
        // Superseded inside the same (group) commit by a request placed after this one?
        let mine = a
            .mutation_id
            .as_ref()
            .and_then(|id| history.id_position.get(id))
            .map(|&(_, pos)| pos);
        let superseded = mine.is_some_and(|mine| {
            same_commit
                .get(&(sha.clone(), path.clone()))
                .is_some_and(|others| {
                    others
                        .iter()
                        .any(|(pos, tag)| *pos > mine && found.as_deref() == Some(tag.as_str()))
                })
        });
        if !superseded {
            failures.push(format!(
                "#{i} {}/{} tag {}: {path} at {} has tag {:?}",
                u.app,
                u.env,
                u.tag,
                &sha[..sha.len().min(12)],
                found
            ));
        }
    }
    Check::new(
        "every 2xx answer's commit holds its change",
        &failures.shown,
        failures.total,
        format!("{checked} answers checked"),
    )
}

/// A values file: (application, environment).
type File = (String, &'static str);
/// Where a mutation id sits: (index on the first-parent chain, position among its trailers).
type Place = (usize, usize);

/// For every values file, the head's tag is the tag of the last successful request in commit
/// order (the scaffolded tag when none succeeded).
fn final_content(
    repo: &Repository,
    history: &History,
    plan: &[Update],
    answers: &[Answer],
) -> Check {
    let mut last: BTreeMap<File, (Place, &str)> = BTreeMap::new();
    let mut files: BTreeSet<File> = BTreeSet::new();
    let mut by_tag: HashMap<&str, (usize, &Answer)> = HashMap::new();
    for (i, (u, a)) in plan.iter().zip(answers).enumerate() {
        files.insert(u.file());
        by_tag.insert(u.tag.as_str(), (i, a));
        if !(a.ok() && a.committed) {
            continue;
        }
        let Some(&at) = a
            .mutation_id
            .as_ref()
            .and_then(|id| history.id_position.get(id))
        else {
            continue; // reported as lost
        };
        let entry = last.entry(u.file()).or_insert((at, u.tag.as_str()));
        if at > entry.0 {
            *entry = (at, u.tag.as_str());
        }
    }
    let mut failures = Failures::new();
    for file in &files {
        let expected = last.get(file).map_or(SCAFFOLD_TAG, |(_, tag)| *tag);
        let path = values_path(&file.0, file.1);
        match tag_at(repo, history.head, &path) {
            Ok(Some(found)) if found == expected => {}
            Ok(found) => {
                let culprit = found
                    .as_deref()
                    .and_then(|t| by_tag.get(t))
                    .map(|(i, a)| match a.status {
                        Status::Unanswered => {
                            format!(" (written by #{i}, still running at the deadline)")
                        }
                        _ => format!(" (written by #{i}, answered {})", a.label()),
                    })
                    .unwrap_or_default();
                failures.push(format!(
                    "{}/{}: head has {:?}{culprit}, expected {expected:?}",
                    file.0, file.1, found
                ));
            }
            Err(e) => failures.push(format!("{path}: {e:#}")),
        }
    }
    Check::new(
        "final content = successful requests applied in commit order",
        &failures.shown,
        failures.total,
        format!("{} values files", files.len()),
    )
}

fn no_duplicate_ids(history: &History) -> Check {
    let mut failures = Failures::new();
    let mut dups: Vec<(&String, &usize)> =
        history.id_counts.iter().filter(|(_, n)| **n > 1).collect();
    dups.sort();
    for (id, n) in dups {
        failures.push(format!("{id} ×{n}"));
    }
    Check::new(
        "no mutation id twice in history",
        &failures.shown,
        failures.total,
        format!(
            "{} ids in {} commits",
            history.id_counts.len(),
            history.reachable
        ),
    )
}

fn nothing_lost(history: &History, answers: &[Answer]) -> Check {
    let mut failures = Failures::new();
    let mut committed = 0;
    for (i, a) in answers.iter().enumerate() {
        if !(a.ok() && a.committed) {
            continue;
        }
        committed += 1;
        let n = a
            .mutation_id
            .as_ref()
            .and_then(|id| history.id_counts.get(id))
            .copied()
            .unwrap_or(0);
        if n != 1 {
            failures.push(format!("#{i} ({:?}) found {n} times", a.mutation_id));
        }
    }
    Check::new(
        "nothing lost: every committed answer's id is in history once",
        &failures.shown,
        failures.total,
        format!("{committed} committed answers"),
    )
}

/// Every foreign push the simulator made is on the first-parent chain and its file is at the
/// head (a compare-and-swap that overwrote one would drop it).
fn foreign_pushes_kept(repo: &Repository, history: &History, expected: u64) -> Check {
    let mut failures = Failures::new();
    let foreign = history
        .first_parent
        .iter()
        .filter(|c| c.author == FOREIGN_AUTHOR)
        .count() as u64;
    if foreign != expected {
        failures.push(format!(
            "{foreign} foreign commits on the chain, the simulator made {expected}"
        ));
    }
    match repo
        .find_commit(history.head)
        .and_then(|c| c.tree())
        .map(|t| t.get_path(Path::new(FOREIGN_DIR)).ok().map(|e| e.id()))
    {
        Ok(Some(dir)) => {
            let n = repo.find_tree(dir).map_or(0, |t| t.len() as u64);
            if n != expected {
                failures.push(format!(
                    "{n} foreign files at the head, expected {expected}"
                ));
            }
        }
        Ok(None) if expected == 0 => {}
        Ok(None) => failures.push(format!("no {FOREIGN_DIR} at the head")),
        Err(e) => failures.push(e.to_string()),
    }
    Check::new(
        "foreign pushes kept",
        &failures.shown,
        failures.total,
        format!("{expected} foreign pushes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_trailer_of_the_last_paragraph() {
        let m = "gitops: 2 changes [skip ci]\n\nbody\n\nGitops-Mutation-Id: a\nGitops-Requested-By: x\nGitops-Mutation-Id: b\n";
        assert_eq!(trailer_values(m, MUTATION_ID), vec!["a", "b"]);
        assert!(trailer_values("no trailers", MUTATION_ID).is_empty());
    }
}
