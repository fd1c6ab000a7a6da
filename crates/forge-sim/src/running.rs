//! Starting the simulator on its own thread and runtime, so it serves the same way under a plain
//! `#[test]` (blocking clients) and under `#[tokio::test]` (the test's runtime is never used,
//! and never blocked by the simulator's git work).

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::SimError;
use crate::server;
use crate::sim::Sim;

/// Entry point: `GithubSim::start()` for the defaults, `GithubSim::builder()` to choose.
pub struct GithubSim;

impl GithubSim {
    /// Starts a simulator on `127.0.0.1:<free port>` over a temporary directory.
    pub fn start() -> Result<RunningSim, SimError> {
        Self::builder().start()
    }

    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }
}

/// Options for a simulator started with [`SimBuilder::start`].
#[derive(Debug, Clone)]
pub struct SimBuilder {
    data_dir: Option<PathBuf>,
    listen: SocketAddr,
    token_ttl: Option<Duration>,
}

impl Default for SimBuilder {
    fn default() -> Self {
        SimBuilder {
            data_dir: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token_ttl: None,
        }
    }
}

impl SimBuilder {
    /// Keep repositories under `dir` (`dir/repos/<owner>/<name>.git`) instead of a temp dir.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Address to bind (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Lifetime of installation tokens (default one hour).
    pub fn installation_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = Some(ttl);
        self
    }

    /// The simulator's state without a server (for [`crate::serve`]).
    pub fn build(&self) -> Result<Sim, SimError> {
        let sim = Sim::new(self.data_dir.clone())?;
        if let Some(ttl) = self.token_ttl {
            sim.set_installation_token_ttl(ttl);
        }
        Ok(sim)
    }

    /// Binds, then serves on a dedicated thread with its own tokio runtime.
    pub fn start(self) -> Result<RunningSim, SimError> {
        let sim = self.build()?;
        let listener = std::net::TcpListener::bind(self.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let base_url = server::base_url_for(addr);
        sim.state().set_base_url(base_url.clone());

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("forge-sim")
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = server::router(std::sync::Arc::clone(sim.state()));
        let thread = std::thread::Builder::new()
            .name("forge-sim".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!(error = %e, "forge-sim: cannot use listener");
                            return;
                        }
                    };
                    // No graceful drain: a test dropping the handle wants the port closed
                    // now, even if a client still holds a keep-alive connection.
                    tokio::select! {
                        result = axum::serve(listener, app) => {
                            if let Err(e) = result {
                                tracing::error!(error = %e, "forge-sim: server stopped");
                            }
                        }
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(500));
            })?;
        Ok(RunningSim {
            sim,
            base_url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A simulator serving on its own thread; dereferences to [`Sim`] for the control methods.
/// Dropping it stops the server.
pub struct RunningSim {
    sim: Sim,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// `http://127.0.0.1:<port>`: the backend's `apiUrl`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// `{base_url}/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// Another handle on the same state (e.g. to move into a thread).
    pub fn sim(&self) -> Sim {
        self.sim.clone()
    }

    /// Stops serving and waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Deref for RunningSim {
    type Target = Sim;

    fn deref(&self) -> &Sim {
        &self.sim
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.stop_now();
    }
}
