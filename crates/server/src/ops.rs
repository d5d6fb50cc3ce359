//! For operators and their probes: `/healthz` (the process answers), `/readyz` (the job
//! store answers too) and `/metrics` (Prometheus).

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.store().jobs(None, 1).await {
        Ok(_) if !state.stop.is_cancelled() => (StatusCode::OK, "ready\n").into_response(),
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response(),
        Err(e) => {
            tracing::warn!("not ready: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "the job store does not answer\n").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut jobs: BTreeMap<&'static str, u64> = BTreeMap::new();
    if let Ok(list) = state.service.store().jobs(None, 1000).await {
        for j in list {
            *jobs.entry(j.state.as_str()).or_default() += 1;
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(&jobs)).into_response()
}
