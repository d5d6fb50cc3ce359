//! `ferry serve`: the hosted transfer service. One process serves the HTTP API under
//! `/api/` and the web app at `/`, and runs jobs with in-process workers; with a shared
//! PostgreSQL store (`--database`), `ferry worker` processes run them too. Built on the
//! application layer's [`ferry_app::JobService`], like the CLI.

pub mod access;
pub mod api;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod example;
mod layers;
pub mod metrics;
pub mod oauth;
mod ops;
pub mod rights;
pub mod state;
mod web;

use crate::access::Keys;
pub use crate::config::ServeConfig;
use crate::state::{AppState, Inner};
use ferry_app::{CancellationToken, Event, JobService, RunOptions, WorkerEvent};
use ferry_connectors::Settings;
use std::path::Path;
use std::sync::Arc;

/// The service, ready to be served: its router and what runs behind it.
pub struct Server {
    pub state: AppState,
}

impl Server {
    /// Sets the service up over `service` (whose store is the SQLite one in `data_dir` or
    /// a shared PostgreSQL one): the key, the example account, the packages folder.
    pub fn new(mut service: JobService, mut cfg: ServeConfig, data_dir: &Path) -> anyhow::Result<Server> {
        // the files root as jobs name it (made absolute and without links), once
        if let Some(root) = &cfg.files_root {
            cfg.files_root = Some(root.canonicalize().map_err(|e| anyhow::anyhow!("files_root {} cannot be used: {e}", root.display()))?);
        }
        let secret = ferry_store::secrets::SecretKey::load(data_dir)?;
        let example_dir = example::install(data_dir).map_err(|e| anyhow::anyhow!("cannot write the example account: {e}"))?;
        let packages_dir = data_dir.join("packages");
        std::fs::create_dir_all(&packages_dir)?;
        let packages_dir = packages_dir.canonicalize()?;
        let run = RunOptions {
            settings: Settings {
                temp_dir: data_dir.join("tmp"),
                allow_private_network: cfg.allow_private_network,
                connections: 4,
                ca_file: cfg.ca_file.clone(),
                insecure: cfg.insecure_http,
                ..Default::default()
            },
            ..Default::default()
        };
        service.set_network(run.settings.clone());
        let rights = match cfg.requests.clone() {
            Some(r) => Some(Arc::new(rights::Rights::new(r, data_dir, &cfg.public_url())?)),
            None => None,
        };
        let state = AppState::new(Inner {
            service: Arc::new(service),
            public_url: cfg.public_url(),
            keys: Keys::new(&secret),
            data_dir: data_dir.to_owned(),
            example_dir,
            packages_dir,
            run,
            metrics: Default::default(),
            pending: Default::default(),
            reports: Default::default(),
            limiter: layers::limiter(cfg.client_requests_per_second),
            stop: CancellationToken::new(),
            rights,
            drp_tokens: Default::default(),
            cfg,
        });
        Ok(Server { state })
    }

    pub fn router(&self) -> axum::Router {
        let app = api::router()
            .merge(web::router())
            .merge(rights::router())
            .merge(ops::router())
            .fallback(error::not_found)
            .method_not_allowed_fallback(error::method_not_allowed);
        layers::apply(app, self.state.clone()).with_state(self.state.clone())
    }

    /// What stops the server ([`Server::serve`]) when cancelled.
    pub fn stopper(&self) -> CancellationToken {
        self.state.stop.clone()
    }

    /// Serves on `listener` until its stopper fires, running jobs with the configured number
    /// of in-process workers. On `stop`, no request is taken any more, the jobs running
    /// here pause after their items in flight and go back to the queue, and it returns.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        let state = self.state.clone();
        let stop = state.stop.clone();
        // metrics from the job service's events
        let mut events = state.service.subscribe();
        let counting = tokio::spawn({
            let state = state.clone();
            async move {
                loop {
                    match events.recv().await {
                        Ok(Event::Item { vertical, outcome, bytes, .. }) => state.metrics.item(vertical.as_str(), outcome, bytes),
                        Ok(Event::Retrying { .. }) => state.metrics.retry(),
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            }
        });
        let workers = (state.cfg.workers > 0).then(|| {
            let (service, run, stop) = (state.service.clone(), state.run.clone(), stop.clone());
            let slots = state.cfg.workers;
            tokio::spawn(async move {
                let tell = Arc::new(|e: WorkerEvent| match e {
                    WorkerEvent::Took(job) => tracing::info!(job = %job.id, "job started"),
                    WorkerEvent::Ended(done) => {
                        tracing::info!(job = %done.job.id, state = %done.job.state, reason = done.job.reason.as_deref().unwrap_or(""), "job ended")
                    }
                    WorkerEvent::Stopped { job, error } => tracing::warn!(job = %job, "job stopped: {error}"),
                    WorkerEvent::StoreFailed(e) => tracing::warn!("cannot ask the job store for work: {e}"),
                    WorkerEvent::Stopping { running } => tracing::info!(running, "workers stopping: running jobs pause and are queued again"),
                });
                service.work(slots, run, stop, tell).await
            })
        });
        // the limiter forgets clients that have been quiet
        let forgetting = tokio::spawn({
            let state = state.clone();
            async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    state.limiter.retain_recent();
                    state.limiter.shrink_to_fit();
                }
            }
        });
        tracing::info!(listen = %listener.local_addr()?, public_url = %state.public_url, workers = state.cfg.workers, "ferry serve is listening");
        let app = self.router().into_make_service_with_connect_info::<std::net::SocketAddr>();
        let shutdown = stop.clone();
        axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await?;
        if let Some(w) = workers {
            w.await?;
        }
        counting.abort();
        forgetting.abort();
        Ok(())
    }
}
