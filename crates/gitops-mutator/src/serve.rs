//! `gitops-mutator serve`.

use anyhow::Context;
use mutator_server::startup::{ServeOptions, prepare};

use crate::cli::ServeArgs;

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let options = ServeOptions {
        listen: args.listen,
        data_dir: args.data_dir,
        config: args.config,
        token: std::env::var("GITOPS_MUTATOR_TOKEN").ok(),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // Forge clients start background tasks when they are built, so build them on the runtime.
    let prepared = {
        let _entered = runtime.enter();
        prepare(options)?
    };
    for note in &prepared.notes {
        tracing::info!("{note}");
    }
    if let Some(path) = &prepared.token_file {
        tracing::info!(token_file = %path.display(), "bearer token stored in the token file (set GITOPS_MUTATOR_TOKEN to choose one)");
    }
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(prepared.listen)
            .await
            .with_context(|| format!("cannot listen on {}", prepared.listen))?;
        let addr = listener
            .local_addr()
            .context("cannot read the bound address")?;
        // A fixed line on stdout, so scripts and tests can find the port when --listen used :0.
        println!("gitops-mutator listening on http://{addr}");
        tracing::info!(%addr, "listening");
        axum::serve(listener, prepared.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")?;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
