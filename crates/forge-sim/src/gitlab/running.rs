//! Starting the GitLab simulator on its own thread and tokio runtime, like
//! [`crate::GithubSim`], so it serves the same under `#[test]` and `#[tokio::test]`.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use super::control::GitlabControl;
use super::server;
use crate::error::SimError;

/// Entry point: `GitlabSim::start()` for the defaults, `GitlabSim::builder()` to choose.
pub struct GitlabSim;

impl GitlabSim {
    /// Starts a simulator on `127.0.0.1:<free port>` over a temporary directory.
    pub fn start() -> Result<RunningGitlabSim, SimError> {
        Self::builder().start()
    }

    pub fn builder() -> GitlabSimBuilder {
        GitlabSimBuilder::default()
    }
}

/// Options for [`GitlabSimBuilder::start`].
#[derive(Debug, Clone)]
pub struct GitlabSimBuilder {
    data_dir: Option<PathBuf>,
    listen: SocketAddr,
}

impl Default for GitlabSimBuilder {
    fn default() -> Self {
        GitlabSimBuilder {
            data_dir: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl GitlabSimBuilder {
    /// Keep projects under `dir/projects/<group>/<name>.git` instead of a temp dir.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Address to bind (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The simulator's state without a server.
    pub fn build(&self) -> Result<GitlabControl, SimError> {
        GitlabControl::new(self.data_dir.clone())
    }

    /// Binds, then serves on a dedicated thread with its own runtime.
    pub fn start(self) -> Result<RunningGitlabSim, SimError> {
        let control = self.build()?;
        let listener = std::net::TcpListener::bind(self.listen)?;
        listener.set_nonblocking(true)?;
        let base_url = crate::server::base_url_for(listener.local_addr()?);
        control.state().set_base_url(base_url.clone());

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("forge-sim-gitlab")
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = server::router(Arc::clone(control.state()));
        let thread = std::thread::Builder::new()
            .name("forge-sim-gitlab".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!(error = %e, "forge-sim gitlab: cannot use listener");
                            return;
                        }
                    };
                    // No graceful drain: dropping the handle closes the port now.
                    tokio::select! {
                        result = axum::serve(listener, app) => {
                            if let Err(e) = result {
                                tracing::error!(error = %e, "forge-sim gitlab: server stopped");
                            }
                        }
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(500));
            })?;
        Ok(RunningGitlabSim {
            control,
            base_url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A GitLab simulator serving on its own thread; dereferences to [`GitlabControl`]. Dropping it
/// stops the server.
pub struct RunningGitlabSim {
    control: GitlabControl,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningGitlabSim {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// `{base_url}/api/v4`.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.base_url, server::API_PREFIX)
    }

    /// Another handle on the same state.
    pub fn control(&self) -> GitlabControl {
        self.control.clone()
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

impl Deref for RunningGitlabSim {
    type Target = GitlabControl;

    fn deref(&self) -> &GitlabControl {
        &self.control
    }
}

impl Drop for RunningGitlabSim {
    fn drop(&mut self) {
        self.stop_now();
    }
}
