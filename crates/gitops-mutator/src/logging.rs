//! Logs go to stderr: JSON in production, readable text on a terminal. The request span
//! carries the request id, so every line logged while serving a request names it.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("GITOPS_MUTATOR_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init();
    } else {
        builder.init();
    }
}
