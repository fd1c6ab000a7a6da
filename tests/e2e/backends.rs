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
