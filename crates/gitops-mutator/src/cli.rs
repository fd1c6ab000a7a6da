//! Command-line arguments. Every `serve` option also reads an environment variable, so the
//! same binary is configured the same way in a shell, a container and a Helm chart.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gitops-mutator",
    version,
    about = "The one writer of GitOps repositories"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (with no configuration: a local git repository under ./data).
    Serve(ServeArgs),
    /// Render a template to stdout or a directory, without committing anything.
    Render(RenderArgs),
    /// Print the OpenAPI description (YAML).
    Openapi,
    /// Explain policy decisions offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Would the policy allow this request from a caller with these claims?
    Check(PolicyCheckArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The configuration file with `issuers`, `tokens` and `policy`.
    #[arg(long, env = "GITOPS_MUTATOR_CONFIG")]
    pub config: PathBuf,
    /// JSON: the claims of a JWT (with `iss`), or `{"token": "<name>"}` for a static token.
    #[arg(long)]
    pub token_claims: PathBuf,
    /// JSON: `{"action": "image-update", "repository": "default", "application": "payments",
    /// "environment": "production"}` (`template` for scaffolds).
    #[arg(long)]
    pub request: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GITOPS_MUTATOR_LISTEN")]
    pub listen: Option<String>,
    /// Data directory: the embedded repository and the generated token live here.
    #[arg(long, env = "GITOPS_MUTATOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (YAML).
    #[arg(long, env = "GITOPS_MUTATOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format; `auto` is text on a terminal and JSON otherwise.
    #[arg(long, env = "GITOPS_MUTATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Template kind, e.g. `cicd-pipeline` or `application`.
    #[arg(long)]
    pub template: String,
    /// A value as KEY=VALUE (repeatable); dotted keys nest (`image.tag=1.4.2`), and a value
    /// that parses as JSON (a list, a number) is taken as JSON.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write the files under this directory instead of printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The repository URL rendered Applications point at.
    #[arg(long, default_value = "https://git.example.com/platform/gitops.git")]
    pub repo_url: String,
    /// The branch rendered Applications track.
    #[arg(long, default_value = "main")]
    pub revision: String,
}
