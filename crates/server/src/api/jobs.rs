//! Transfer jobs: create, list, show, start, pause, resume, cancel, report.

use super::views::{CreateJob, JobView, ReportView};
use crate::access::Caller;
use crate::endpoints::{self, Role};
use crate::error::ApiJson;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ferry_app::{Cancelled, RunOptions, TransferRequest};
use ferry_core::Vertical;
use ferry_jobs::{Job, JobOptions};

/// A job the caller may see, or "not found" (also for somebody else's).
pub async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Job> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ApiError::no_job(id));
    }
    // a job key that does not open the job named is refused the same way whether that
    // job exists or not
    let wrong_key = || ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", format!("this job key does not open job `{id}`"));
    let job = match state.service.job(id).await {
        Err(ferry_app::AppError::Store(ferry_jobs::StoreError::NoSuchJob(_))) if matches!(caller, Caller::JobKey(_)) => {
            return Err(wrong_key());
        }
        other => other?,
    };
    match caller {
        _ if caller.may(&job, &state.keys) => Ok(job),
        Caller::JobKey(_) => Err(wrong_key()),
        _ => Err(ApiError::no_job(id)),
    }
}

/// Checks a request, creates its job and (unless asked not to) queues it.
pub async fn create_job(state: &AppState, caller: &Caller, body: &CreateJob) -> ApiResult<Job> {
    let Some(owner) = caller.owner() else {
        return Err(ApiError::forbidden("a job key gives access to its one job; creating jobs needs a session or an API token"));
    };
    let only = body.verticals.iter().map(|v| v.parse::<Vertical>().map_err(ApiError::bad_request)).collect::<ApiResult<Vec<_>>>()?;
    let (source, source_credential) = endpoints::resolve(state, &owner, &body.source, Role::Source).await?;
    let (destination, destination_credential) = endpoints::resolve(state, &owner, &body.destination, Role::Destination).await?;
    let req = TransferRequest {
        source,
        destination,
        only,
        options: JobOptions { dry_run: body.dry_run, incremental: body.incremental },
        owner: Some(owner),
    };
    let run = RunOptions { source_credential, destination_credential, ..state.run.clone() };
    let job = state.service.create(&req, &run).await?;
    tracing::info!(job = %job.id, "job created");
    // a connected account's tokens are the job's now (sealed with it, revoked when it ends)
    for side in [&body.source, &body.destination] {
        if let Some(a) = side.account.as_deref().filter(|_| state.cfg.providers.contains_key(&side.connector)) {
            crate::oauth::hand_over(state, a).await;
        }
    }
    if body.start { Ok(state.service.queue(&job.id).await?) } else { Ok(job) }
}

#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = CreateJob,
    responses((status = 201, body = JobView, description = "Created (and queued unless `start` is false); the answer carries the job's key, once"),
        (status = 400, body = ErrorBody, description = "The request is wrong: the message says what to change"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "The body is over 64 KiB"),
        (status = 415, body = ErrorBody, description = "The body is not sent as JSON"),
        (status = 422, body = ErrorBody, description = "The job cannot be made (the server's key or a destination refused it)"),
        (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateJob>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let job = create_job(&state, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(JobView::created(&state, &job))))
}

#[utoipa::path(get, path = "/api/jobs", tag = "jobs",
    responses((status = 200, body = Vec<JobView>, description = "The caller's jobs (an operator's: every job), most recent first, at most 200"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<JobView>>> {
    let jobs = match &caller {
        Caller::Operator { .. } => state.service.store().jobs(None, 200).await?,
        Caller::Person(s) => state.service.store().jobs(Some(&s.owner()), 200).await?,
        Caller::JobKey(_) => return Err(ApiError::forbidden("a job key gives access to its one job only")),
    };
    Ok(Json(jobs.iter().map(|j| JobView::of(&state, j)).collect()))
}

#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<JobView>> {
    let job = visible(&state, &caller, &id).await?;
    Ok(Json(JobView::of(&state, &job)))
}

#[utoipa::path(get, path = "/api/jobs/{id}/report", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, body = ReportView, description = "What the job did so far (final once it ended)"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn report(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<ReportView>> {
    let job = visible(&state, &caller, &id).await?;
    Ok(Json(state.reports.get(&state.service, &job).await?))
}

/// What an action did to a job.
pub enum Action {
    Start,
    Pause,
    Resume,
    Cancel,
}

pub async fn act(state: &AppState, caller: &Caller, id: &str, action: Action) -> ApiResult<Job> {
    let job = visible(state, caller, id).await?;
    let s = &state.service;
    match action {
        Action::Start | Action::Resume => {
            if !s.missing_passwords(&job).await?.is_empty() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "missing_credential",
                    "this job's password was forgotten (it ended, or was cancelled): start a new job",
                ));
            }
            Ok(s.queue(&job.id).await?)
        }
        Action::Pause => Ok(s.pause_job(&job.id).await.map_err(|e| match e {
            ferry_app::AppError::Busy { holder, .. } => {
                ApiError::conflict(format!("the job is being run by {holder}, which cannot be paused from here; cancel it, or wait"))
            }
            e => e.into(),
        })?),
        Action::Cancel => {
            match s.cancel(&job.id).await? {
                Cancelled::Now | Cancelled::Stopping | Cancelled::Requested { .. } => {}
            }
            Ok(s.job(&job.id).await?)
        }
    }
}

macro_rules! action {
    ($name:ident, $action:expr, $path:literal, $what:literal) => {
        #[utoipa::path(post, path = $path, tag = "jobs", description = $what, params(("id" = String, Path, description = "The job's id")),
                            responses((status = 200, body = JobView, description = "The job as it is now"),
                                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                                (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
        pub async fn $name(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<JobView>> {
            let job = act(&state, &caller, &id, $action).await?;
            Ok(Json(JobView::of(&state, &job)))
        }
    };
}

action!(start, Action::Start, "/api/jobs/{id}/start", "Queues a created job to run.");
action!(pause, Action::Pause, "/api/jobs/{id}/pause", "Pauses a job after its items in flight (a queued one at once).");
action!(resume, Action::Resume, "/api/jobs/{id}/resume", "Queues a paused or failed job again: it continues where it stopped.");
action!(cancel, Action::Cancel, "/api/jobs/{id}/cancel", "Ends a job for good; its kept password is forgotten.");
