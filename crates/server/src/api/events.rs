//! A job's progress as Server-Sent Events. The stream opens with a `progress` event (the
//! counts so far, per data type) and the job's `state`; then `stream` when the source
//! starts reading one (a folder tree, a mail folder), `progress` at most four times a
//! second while items move, `retrying` when a request is retried, `state` when the job's
//! state changes, and `ended` last, after which the server closes the stream. Jobs run by
//! workers in other processes are followed by polling the store every two seconds.

use super::jobs::visible;
use super::views::{JobView, ReportView};
use crate::access::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use ferry_app::Event;
use ferry_jobs::Job;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// One event of the stream, as Server-Sent Events frame it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SseEvent {
    /// `progress`, `state`, `stream`, `retrying` or `ended`.
    event: String,
    /// JSON: a report (`progress`), a job (`state`, `ended`), or what the event names.
    data: String,
}

const PROGRESS_EVERY: Duration = Duration::from_millis(250);
const POLL_EVERY: Duration = Duration::from_secs(2);

#[utoipa::path(get, path = "/api/jobs/{id}/events", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, content_type = "text/event-stream", body = SseEvent,
        description = "Events `progress` (data: a report), `state` (data: the job), `stream`, `retrying`, `ended` (data: the job)"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn events(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let job = visible(&state, &caller, &id).await?;
    // subscribed before the first report is read: nothing falls between the two
    let rx = state.service.subscribe_milestones();
    let (tx, out) = mpsc::channel::<Sse>(16);
    state.metrics.sse_opened();
    tokio::spawn(follow(state.clone(), job, rx, tx));
    let stream = futures::stream::unfold(out, |mut out| async move { out.recv().await.map(|e| (Ok::<_, Infallible>(e), out)) });
    Ok(axum::response::Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

fn json_event(name: &str, data: &impl serde::Serialize) -> Sse {
    Sse::default().event(name).data(serde_json::to_string(data).expect("views serialize"))
}

/// Feeds one client until the job ends or the client goes away.
async fn follow(state: AppState, mut job: Job, mut rx: broadcast::Receiver<Event>, tx: mpsc::Sender<Sse>) {
    let _closed = Closed(&state);
    let Ok(mut report) = state.reports.get(&state.service, &job).await else { return };
    if tx.send(json_event("progress", &report)).await.is_err() || tx.send(json_event("state", &JobView::of(&state, &job))).await.is_err() {
        return;
    }
    if job.state.is_final() {
        let _ = tx.send(json_event("ended", &JobView::of(&state, &job))).await;
        return;
    }
    let mut dirty = false;
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let mut poll = tokio::time::interval(POLL_EVERY);
    loop {
        let event = tokio::select! {
            e = rx.recv() => e,
            _ = tick.tick() => {
                // the counts the store has, read once a quarter second for every stream of the job
                // (not counted here item by item: a hundred streams would each do it)
                if matches!(job.state, ferry_jobs::JobState::Queued | ferry_jobs::JobState::Running)
                    && let Ok(r) = state.reports.get(&state.service, &job).await
                    && r.totals != report.totals
                {
                    report = r;
                    dirty = true;
                }
                if dirty && tx.send(json_event("progress", &report)).await.is_err() {
                    return;
                }
                dirty = false;
                continue;
            }
            _ = poll.tick() => {
                // a worker elsewhere runs it, or events were missed: the store says
                let Ok(now) = state.service.job(&job.id).await else { continue };
                if now.state != job.state || now.updated_at != job.updated_at {
                    // once a quarter second for all the streams of a moving job, fresh for one at rest
                    if let Ok(r) = state.reports.get(&state.service, &now).await {
                        report = r;
                        dirty = true;
                    }
                    if now.state != job.state && tx.send(json_event("state", &JobView::of(&state, &now))).await.is_err() {
                        return;
                    }
                    job = now;
                    if job.state.is_final() {
                        let _ = tx.send(json_event("progress", &report)).await;
                        let _ = tx.send(json_event("ended", &JobView::of(&state, &job))).await;
                        return;
                    }
                }
                continue;
            }
            _ = tx.closed() => return,
            _ = state.stop.cancelled() => return,
        };
        let event = match event {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // too many events to keep up with: the store has the counts (read once a
                // second for all the streams of the job)
                if let Ok(r) = state.reports.get(&state.service, &job).await {
                    report = r;
                    dirty = true;
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        match event {
            Event::Started { job: j } if j == job.id => {
                if let Ok(now) = state.service.job(&job.id).await {
                    job = now;
                    if tx.send(json_event("state", &JobView::of(&state, &job))).await.is_err() {
                        return;
                    }
                }
            }
            Event::Stream { job: j, stream, verticals } if j == job.id => {
                let data = serde_json::json!({"stream": stream, "verticals": verticals});
                if tx.send(json_event("stream", &data)).await.is_err() {
                    return;
                }
            }
            Event::Retrying { job: j, what, error, delay_ms } if j == job.id => {
                let data = serde_json::json!({"what": what, "error": error, "delay_ms": delay_ms});
                if tx.send(json_event("retrying", &data)).await.is_err() {
                    return;
                }
            }
            Event::Ended { job: j, .. } if j == job.id => {
                let Ok(now) = state.service.job(&job.id).await else { return };
                if let Ok(r) = state.service.report(&job.id).await {
                    report = ReportView::from(&r);
                }
                let _ = tx.send(json_event("progress", &report)).await;
                let _ = tx.send(json_event("state", &JobView::of(&state, &now))).await;
                if now.state.is_final() || matches!(now.state, ferry_jobs::JobState::Failed | ferry_jobs::JobState::Paused) {
                    let _ = tx.send(json_event("ended", &JobView::of(&state, &now))).await;
                    return;
                }
                job = now;
            }
            _ => {}
        }
    }
}

/// Counts the stream as closed however `follow` ends.
struct Closed<'a>(&'a AppState);

impl Drop for Closed<'_> {
    fn drop(&mut self) {
        self.0.metrics.sse_closed();
    }
}
