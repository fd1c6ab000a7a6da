//! Test hooks that merge a pull request the way GitHub's merge button does.
//!
//! - **Create a merge commit** (the default): always a merge commit, even when the base could
//!   fast-forward ("Pull requests are merged using the `--no-ff` option", GitHub docs,
//!   `pull-requests/.../merging-a-pull-request.md`), with GitHub's default message
//!   `Merge pull request #N from OWNER/BRANCH`, a blank line and the pull request's title.
//! - **Squash and merge**: one commit on the base holding the merged tree. Its default message
//!   (GitHub docs, "About pull request merges"): with one commit in the pull request, that
//!   commit's title followed by ` (#N)` and its body; with more, the pull request's title
//!   followed by ` (#N)` and the messages of all squashed commits, oldest first, as a list.

use git2::{Oid, Repository, Sort};

use crate::error::SimError;
use crate::git_store::{self, CasError, Person};
use crate::state::SimState;

/// How a pull request is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMethod {
    /// "Create a merge commit".
    Merge,
    /// "Squash and merge".
    Squash,
}

/// Merges pull request `number` into its base branch and returns the base's new head.
pub(crate) fn merge_pull(
    state: &SimState,
    owner: &str,
    repo: &str,
    number: u64,
    method: MergeMethod,
) -> Result<String, SimError> {
    let entry = state
        .repo(owner, repo)
        .ok_or_else(|| SimError::UnknownRepo(format!("{owner}/{repo}")))?;
    let pr = state
        .pulls()
        .get(&entry.key(), number)
        .ok_or(SimError::UnknownPull(number))?;
    if !pr.open {
        return Err(SimError::NotMergeable(format!("#{number} is not open")));
    }
    let guard = entry.lock_writes();
    let git = git_store::open(&entry.path)?;
    let head = git_store::branch_head(&git, &pr.head_ref)?
        .ok_or_else(|| SimError::UnknownBranch(pr.head_ref.clone()))?;
    let base = git_store::branch_head(&git, &pr.base_ref)?
        .ok_or_else(|| SimError::UnknownBranch(pr.base_ref.clone()))?;
    if head == base || git.graph_descendant_of(base, head)? {
        return Err(SimError::NotMergeable(format!(
            "no commits between {} and {}",
            pr.base_ref, pr.head_ref
        )));
    }
    let tree = git_store::merge_tree(&git, base, head)?
        .ok_or_else(|| SimError::NotMergeable("merge conflicts".to_owned()))?;
    let merger = Person::new("sim-merger", "merger@sim.invalid");
    let (parents, message) = match method {
        MergeMethod::Merge => (
            vec![base, head],
            format!(
                "Merge pull request #{number} from {}/{}\n\n{}",
                entry.owner, pr.head_ref, pr.title
            ),
        ),
        MergeMethod::Squash => (
            vec![base],
            squash_message(&git, base, head, number, &pr.title)?,
        ),
    };
    let landed = git_store::write_commit(
        &git,
        tree,
        &parents,
        &merger,
        &git_store::github_committer(),
        &message,
        None,
    )?;
    match git_store::cas_ref(
        &git,
        &format!("refs/heads/{}", pr.base_ref),
        landed,
        Some(base),
        "forge-sim: merge pull request",
    ) {
        Ok(()) => {}
        Err(CasError::Stale) => {
            return Err(SimError::NotMergeable(
                "base branch moved during merge".to_owned(),
            ));
        }
        Err(CasError::Git(e)) => return Err(e.into()),
    }
    drop(guard);
    state
        .pulls()
        .set_merged(&entry.key(), number, head.to_string(), landed.to_string());
    Ok(landed.to_string())
}

/// GitHub's default squash message for the commits on `head` that `base` lacks.
fn squash_message(
    git: &Repository,
    base: Oid,
    head: Oid,
    number: u64,
    title: &str,
) -> Result<String, git2::Error> {
    let mut walk = git.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)?;
    walk.push(head)?;
    walk.hide(base)?;
    let mut messages = Vec::new();
    for oid in walk {
        let commit = git.find_commit(oid?)?;
        messages.push(String::from_utf8_lossy(commit.message_bytes()).into_owned());
    }
    if let [only] = messages.as_slice() {
        let (subject, body) = only.split_once('\n').unwrap_or((only.as_str(), ""));
        return Ok(format!("{subject} (#{number})\n{body}"));
    }
    let list: Vec<String> = messages
        .iter()
        .map(|m| format!("* {}", m.trim_end()))
        .collect();
    Ok(format!("{title} (#{number})\n\n{}\n", list.join("\n\n")))
}
