//! `forge-sim`: the GitHub simulator as a process, for demos and manual tests on loopback.
//! Development only; see the crate documentation.

fn main() -> std::process::ExitCode {
    match forge_sim::main_like(std::env::args().skip(1)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forge-sim: {e}\n{}", forge_sim::USAGE);
            std::process::ExitCode::FAILURE
        }
    }
}
