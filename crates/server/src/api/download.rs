//! Packages made for people: a signed link that works without signing in, until it
//! expires (`link_minutes`), so that a browser's download or `curl` can fetch it.

use super::jobs::visible;
use super::views::DownloadLink;
use crate::access::{Caller, check_link, link_token};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferry_core::Endpoint;
use ferry_jobs::{Job, JobState};
use std::path::PathBuf;

/// The package a job wrote for download, once it is whole.
pub fn package_of(state: &AppState, job: &Job) -> Option<PathBuf> {
    if !matches!(job.state, JobState::Completed | JobState::CompletedWithErrors) || job.spec.options.dry_run {
        return None;
    }
    let e = Endpoint::parse(&job.spec.destination).ok()?;
    let path = PathBuf::from(e.path());
    (e.scheme == "package" && path.parent() == Some(state.packages_dir.as_path()) && path.is_file()).then_some(path)
}

#[utoipa::path(post, path = "/api/jobs/{id}/download", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, body = DownloadLink, description = "A link to the job's package"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The job wrote no package to download, or has not finished"),
        (status = 429, body = ErrorBody)))]
pub async fn link(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<axum::Json<DownloadLink>> {
    let job = visible(&state, &caller, &id).await?;
    Ok(axum::Json(make_link(&state, &job)?))
}

pub fn make_link(state: &AppState, job: &Job) -> ApiResult<DownloadLink> {
    if package_of(state, job).is_none() {
        return Err(ApiError::conflict("this job has no package to download: it wrote somewhere else, or has not finished"));
    }
    let expires_at = chrono::Utc::now() + chrono::Duration::minutes(i64::from(state.cfg.link_minutes));
    let token = link_token(&state.keys, &job.id, expires_at.timestamp());
    Ok(DownloadLink { url: format!("{}/download/{token}", state.public_url), expires_at })
}

#[utoipa::path(get, path = "/download/{token}", tag = "jobs", params(("token" = String, Path, description = "From a download link")),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>, description = "The package"),
        (status = 404, body = ErrorBody, description = "Not a link this server made"),
        (status = 410, body = ErrorBody, description = "The link expired: ask for a new one"),
        (status = 429, body = ErrorBody)))]
pub async fn fetch(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let job = match check_link(&state.keys, &token) {
        None => return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "this is not a download link of this server")),
        Some(Err(())) => {
            return Err(ApiError::new(StatusCode::GONE, "expired", "this download link expired; ask for a new one on the job's page"));
        }
        Some(Ok(job)) => job,
    };
    let job = state.service.job(&job).await?;
    let path = package_of(&state, &job).ok_or_else(|| ApiError::new(StatusCode::GONE, "expired", "the package is no longer here"))?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| ApiError::internal(format!("cannot open the package: {e}")))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or_default();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"ferry-{}.zip\"", job.id)),
        ],
        body,
    )
        .into_response())
}
