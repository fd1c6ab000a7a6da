//! One service, three kinds of repository behind it: the embedded git repository, the GitHub
//! simulator and the GitLab simulator. Scenarios written against [`Backend`] run unchanged on
//! each, and look at what landed through the backend's real bare repository.

use std::path::{Path, PathBuf};

use forge_sim::{GithubSim, GitlabSim, RunningGitlabSim, RunningSim};

use crate::harness::{Options, Server};

const GH_TOKEN: &str = "ghp_backendsScenarioToken";
const GL_TOKEN: &str = "glpat-backendsScenarioToken";
const FORGE_TOKEN_ENV: &str = "GITOPS_E2E_FORGE_TOKEN";
const GITLAB_PROJECT: &str = "team-a/gitops";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Embedded,
    Github,
    Gitlab,
}

enum Forge {
    Embedded,
    Github(RunningSim),
    Gitlab(RunningGitlabSim),
}

pub struct Backend {
    pub kind: Kind,
    pub server: Server,
    forge: Forge,
    _dir: tempfile::TempDir,
}

impl Backend {
    /// Starts the service on `kind` with `settings` (tokens, policy: YAML at the top level of
    /// the configuration file) added to the repository the kind needs.
    pub fn start(kind: Kind, settings: &str) -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let (forge, repositories, env) = match kind {
            Kind::Embedded => (Forge::Embedded, String::new(), Vec::new()),
            Kind::Github => {
                let sim = GithubSim::start().unwrap();
                sim.create_repo("acme", "gitops", "main").unwrap();
                sim.add_token(GH_TOKEN, "ci-bot");
                let repositories = format!(
                    "repositories:\n  default:\n    kind: github\n    owner: acme\n    name: gitops\n    apiUrl: {}\n    auth: {{ tokenEnv: {FORGE_TOKEN_ENV} }}\n",
                    sim.base_url()
                );
                (
                    Forge::Github(sim),
                    repositories,
                    vec![(FORGE_TOKEN_ENV, GH_TOKEN)],
                )
            }
            Kind::Gitlab => {
                let sim = GitlabSim::start().unwrap();
                sim.create_project(GITLAB_PROJECT, "main").unwrap();
                sim.add_token(GL_TOKEN, "ci-bot", &["api"]);
                let repositories = format!(
                    "repositories:\n  default:\n    kind: gitlab\n    project: {GITLAB_PROJECT}\n    apiUrl: {}\n    auth: {{ tokenEnv: {FORGE_TOKEN_ENV} }}\n",
                    sim.api_url()
                );
                (
                    Forge::Gitlab(sim),
                    repositories,
                    vec![(FORGE_TOKEN_ENV, GL_TOKEN)],
                )
            }
        };
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, format!("{repositories}{settings}")).unwrap();
        let server = Server::start_with(
            &dir.path().join("data"),
            Options {
                config: Some(&config),
                env,
                ..Options::default()
            },
        );
        Backend {
            kind,
            server,
            forge,
            _dir: dir,
        }
    }

    /// The bare repository the backend writes.
    pub fn git_dir(&self) -> PathBuf {
        match &self.forge {
            Forge::Embedded => self.server.repo_path(),
            Forge::Github(sim) => sim.repo_path("acme", "gitops").unwrap(),
            Forge::Gitlab(sim) => sim.project_git_dir(GITLAB_PROJECT).unwrap(),
        }
    }

    fn repo(&self) -> git2::Repository {
        git2::Repository::open_bare(self.git_dir()).unwrap()
    }

    /// The commit `branch` points at.
    pub fn head(&self, branch: &str) -> String {
        self.repo()
            .refname_to_id(&format!("refs/heads/{branch}"))
            .unwrap()
            .to_string()
    }

    /// The exact bytes of `path` at `rev`, if it exists there.
    pub fn bytes(&self, rev: &str, path: &str) -> Option<Vec<u8>> {
        let repo = self.repo();
        let tree = repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
        let entry = tree.get_path(Path::new(path)).ok()?;
        Some(repo.find_blob(entry.id()).unwrap().content().to_vec())
    }

    /// Where the web link of a review points, per forge (none on plain git).
    pub fn review_url_part(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Embedded => None,
            Kind::Github => Some("/acme/gitops/pull/"),
            Kind::Gitlab => Some("/team-a/gitops/-/merge_requests/"),
        }
    }

    /// Merges the review of `branch` into main as a person would: the forge's merge of pull
    /// request / merge request `number`, or on plain git a `git merge --no-ff` of the branch.
    /// Returns the new head of main.
    pub fn merge_review(&self, branch: &str, number: Option<u64>) -> String {
        match (&self.forge, number) {
            (Forge::Github(sim), Some(n)) => sim.merge_pull("acme", "gitops", n).unwrap(),
            (Forge::Gitlab(sim), Some(n)) => sim.merge_merge_request(GITLAB_PROJECT, n).unwrap(),
            (Forge::Embedded, None) => merge_no_ff(&self.repo(), branch),
            _ => panic!(
                "{:?} reviews are merged by their own kind of number",
                self.kind
            ),
        }
    }
}

impl Backend {
    /// Closes pull/merge request `number` without merging it, as a reviewer who rejects it.
    pub fn close_review(&self, number: u64) {
        match &self.forge {
            Forge::Github(sim) => sim.close_pull("acme", "gitops", number).unwrap(),
            Forge::Gitlab(sim) => sim.close_merge_request(GITLAB_PROJECT, number).unwrap(),
            Forge::Embedded => panic!("plain git has no reviews to close"),
        }
    }

    /// Merges pull request `number` with GitHub's "Squash and merge".
    pub fn squash_review(&self, number: u64) -> String {
        match &self.forge {
            Forge::Github(sim) => sim
                .merge_pull_with("acme", "gitops", number, forge_sim::MergeMethod::Squash)
                .unwrap(),
            _ => panic!("{:?} has no squash merge hook", self.kind),
        }
    }

    /// The first parent of `commit`.
    pub fn parent(&self, commit: &str) -> String {
        let repo = self.repo();
        let commit = repo
            .find_commit(git2::Oid::from_str(commit).unwrap())
            .unwrap();
        commit.parent_id(0).unwrap().to_string()
    }

    /// Whether `ancestor` is `commit` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, commit: &str) -> bool {
        let (a, c) = (
            git2::Oid::from_str(ancestor).unwrap(),
            git2::Oid::from_str(commit).unwrap(),
        );
        a == c || self.repo().graph_descendant_of(c, a).unwrap()
    }
}

/// A merge commit of `branch` into main with git's default message, as `git merge --no-ff`.
fn merge_no_ff(repo: &git2::Repository, branch: &str) -> String {
    let main = repo.refname_to_id("refs/heads/main").unwrap();
    let side = repo.refname_to_id(&format!("refs/heads/{branch}")).unwrap();
    let ours = repo.find_commit(main).unwrap();
    let theirs = repo.find_commit(side).unwrap();
    let mut index = repo.merge_commits(&ours, &theirs, None).unwrap();
    assert!(!index.has_conflicts(), "the review branch merges cleanly");
    let tree = repo.find_tree(index.write_tree_to(repo).unwrap()).unwrap();
    let who = git2::Signature::now("a person", "person@example.com").unwrap();
    let id = repo
        .commit(
            Some("refs/heads/main"),
            &who,
            &who,
            &format!("Merge branch '{branch}'\n"),
            &tree,
            &[&ours, &theirs],
        )
        .unwrap();
    id.to_string()
}
