//! What every request handler shares.

use crate::access::Keys;
use crate::config::ServeConfig;
use crate::metrics::Metrics;
use ferry_app::{JobService, RunOptions};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub service: Arc<JobService>,
    pub cfg: ServeConfig,
    pub keys: Keys,
    /// Where people reach the service, without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    /// The example account people can try the service with.
    pub example_dir: PathBuf,
    /// Where packages made for people are written (and downloaded from).
    pub packages_dir: PathBuf,
    /// Connection settings every job runs with.
    pub run: RunOptions,
    pub metrics: Metrics,
    /// Reports read in the last quarter second, by job: a page, a poll and a hundred event streams
    /// of one job ask the store once.
    pub reports: crate::api::views::ReportCache,
    /// OAuth 2.0 authorizations under way.
    pub pending: crate::oauth::Pending,
    /// Requests per client address ([`crate::layers::limiter`]).
    pub limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// The controller side, when `[requests]` is set up.
    pub rights: Option<std::sync::Arc<crate::rights::Rights>>,
    /// The Data Rights Protocol agents' bearer tokens.
    pub drp_tokens: crate::rights::drp::Tokens,
    /// Fired when the server stops: event streams end, workers pause their jobs.
    pub stop: ferry_app::CancellationToken,
}

impl AppState {
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
