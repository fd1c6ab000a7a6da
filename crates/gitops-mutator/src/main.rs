//! The `gitops-mutator` binary: `serve` runs the HTTP service, `render` previews a template
//! offline, `openapi` prints the API description.

mod cli;
mod logging;
mod policy;
mod render;
mod serve;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => {
            logging::init(args.log_format);
            serve::run(args)
        }
        cli::Command::Render(args) => render::run(args),
        cli::Command::Openapi => mutator_server::openapi::yaml()
            .map(|yaml| print!("{yaml}"))
            .map_err(anyhow::Error::msg),
        cli::Command::Policy(cli::PolicyCommand::Check(args)) => match policy::check(args) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::from(1),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
