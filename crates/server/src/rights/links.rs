//! A request's answer as it lies in the data directory (`answers/ID/`): drawn up in
//! `draft/PART/` for review, then sealed (age) as `ID-PART.zip.age` for the person, who
//! downloads it through a signed link that expires (`link_minutes`); every download is
//! written to the request's audit log.

use super::views::{AnswerLink, AnswerPart, DrawnUp, DrawnView, PreviewRow, PreviewTable, PreviewView, RequestView};
use super::{Rights, error};
use crate::access::{answer_token, check_answer};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use ferry_requests::lifecycle::State as Stage;
use ferry_requests::register::today;
use ferry_requests::response::{Encryption, row_id, seal_folder};
use std::io::BufRead;

pub fn router() -> Router<AppState> {
    Router::new().route("/answers/{token}", get(fetch))
}

const PARTS: [&str; 2] = ["portability", "access"];

/// The parts of a request's answer as they stand.
pub fn parts(rights: &Rights, id: &str) -> Vec<AnswerPart> {
    let dir = rights.answer_dir(id);
    let mut out = Vec::new();
    for part in PARTS {
        if dir.join("draft").join(part).join("manifest.json").is_file() {
            out.push(AnswerPart { part: part.into(), stage: "draft".into(), file: None });
        }
        let file = format!("{id}-{part}.zip.age");
        if dir.join(&file).is_file() {
            out.push(AnswerPart { part: part.into(), stage: "sealed".into(), file: Some(file) });
        }
    }
    out
}

/// Draws up (again) a request's answer for review, into `answers/ID/draft/`.
pub async fn draw_up(rights: &Rights, id: &str, as_of: Option<NaiveDate>, actor: &str) -> ApiResult<DrawnUp> {
    super::api::check_id(id)?;
    let dir = rights.answer_dir(id);
    let draft = dir.join("draft");
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::internal(format!("{}: {e}", dir.display())))?;
    let reg = rights.register().await?;
    // the state is checked before the old draft (ferry's own, made here) is replaced
    let request = reg.find(id).await.map_err(error)?;
    if !matches!(request.state, Stage::InProgress | Stage::Extended | Stage::ReadyForReview) {
        return Err(ApiError::conflict(format!("request {id} is {}: there is no answer to draw up", request.state)));
    }
    if draft.exists() {
        std::fs::remove_dir_all(&draft).map_err(|e| ApiError::internal(format!("{}: {e}", draft.display())))?;
    }
    let (request, regime, made) = reg.draw_up(id, &rights.map, &draft, None, as_of, actor).await.map_err(error)?;
    Ok(DrawnUp {
        request: RequestView::of(&request, &regime),
        parts: made
            .iter()
            .map(|m| DrawnView {
                part: m.part.as_str().into(),
                rows: m.rows,
                tables: m.tables,
                empty: m.empty,
                left_out: m.left_out,
                withheld: m.withheld,
                rows_withheld: m.rows_withheld,
            })
            .collect(),
    })
}

/// Each table's first `rows` rows of the draft, with their ids.
pub fn preview(rights: &Rights, id: &str, rows: usize) -> ApiResult<PreviewView> {
    let draft = rights.answer_dir(id).join("draft");
    let mut tables = Vec::new();
    let mut any = false;
    for part in PARTS {
        let dir = draft.join(part);
        let Ok(text) = std::fs::read(dir.join("manifest.json")) else { continue };
        any = true;
        let manifest: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| ApiError::internal(format!("the draft's manifest: {e}")))?;
        for t in manifest["tables"].as_array().into_iter().flatten() {
            let (database, table) = (t["database"].as_str().unwrap_or_default(), t["table"].as_str().unwrap_or_default());
            let mut shown = Vec::new();
            if let Some(jsonl) = t["jsonl"].as_str().filter(|p| !p.contains("..")) {
                let file = std::fs::File::open(dir.join(jsonl)).map_err(|e| ApiError::internal(format!("{jsonl}: {e}")))?;
                for line in std::io::BufReader::new(file).lines().take(rows) {
                    let line = line.map_err(|e| ApiError::internal(format!("{jsonl}: {e}")))?;
                    let values = serde_json::from_str(&line).unwrap_or(serde_json::Value::Null);
                    shown.push(PreviewRow { id: row_id(database, table, &line), values });
                }
            }
            tables.push(PreviewTable {
                part: part.into(),
                database: database.into(),
                table: table.into(),
                rows: t["rows"].as_u64().unwrap_or(0),
                fields: t["fields"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)).collect(),
                shown,
            });
        }
    }
    if !any {
        return Err(ApiError::conflict(format!("request {id} has no answer drawn up: draw it up first")));
    }
    Ok(PreviewView { tables })
}

/// Seals the reviewed draft for the person and marks the request delivered.
pub async fn deliver(
    state: &AppState,
    rights: &Rights,
    id: &str,
    encryption: &Encryption,
    actor: &str,
) -> ApiResult<(RequestView, Vec<AnswerLink>)> {
    super::api::check_id(id)?;
    let reg = rights.register().await?;
    let request = reg.find(id).await.map_err(error)?;
    if request.state != Stage::ReadyForReview {
        return Err(ApiError::conflict(format!("request {id} is {}: draw up its answer and review it first", request.state)));
    }
    let dir = rights.answer_dir(id);
    let draft = dir.join("draft");
    let mut sealed = Vec::new();
    let unseal = |sealed: &[std::path::PathBuf]| {
        for f in sealed {
            let _ = std::fs::remove_file(f);
        }
    };
    for part in PARTS {
        let folder = draft.join(part);
        if !folder.join("manifest.json").is_file() {
            continue;
        }
        let out = dir.join(format!("{id}-{part}.zip.age"));
        // a sealed copy of ours from a delivery that did not finish (the request is not delivered)
        let _ = std::fs::remove_file(&out);
        let (from, to, with) = (folder.clone(), out.clone(), encryption.clone());
        let packed = tokio::task::spawn_blocking(move || seal_folder(&from, &to, Some(&with))).await;
        if let Err(e) = packed.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
            unseal(&sealed);
            return Err(ApiError::internal(e));
        }
        sealed.push(out);
    }
    if sealed.is_empty() {
        return Err(ApiError::conflict(format!("request {id} has no answer drawn up: draw it up first")));
    }
    let (request, regime) = match reg.step(id, actor, |r, _| r.deliver(today())).await {
        Ok(x) => x,
        Err(e) => {
            unseal(&sealed);
            return Err(error(e));
        }
    };
    // only the sealed copies stay: the plain draft is ferry's own, made for review
    let _ = std::fs::remove_dir_all(&draft);
    Ok((RequestView::of(&request, &regime), make(state, rights, id)))
}

/// New links to a delivered answer's sealed files.
pub fn make(state: &AppState, rights: &Rights, id: &str) -> Vec<AnswerLink> {
    let expires_at = chrono::Utc::now() + chrono::Duration::minutes(i64::from(state.cfg.link_minutes));
    parts(rights, id)
        .into_iter()
        .filter_map(|p| p.file)
        .map(|file| AnswerLink {
            url: format!("{}/answers/{}", state.public_url, answer_token(&state.keys, id, &file, expires_at.timestamp())),
            file,
            expires_at,
        })
        .collect()
}

#[utoipa::path(get, path = "/answers/{token}", tag = "requests", operation_id = "answers_fetch", params(("token" = String, Path, description = "From an answer's link")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>, description = "The sealed answer (age-encrypted ZIP)"),
        (status = 404, body = ErrorBody, description = "Not a link this server made"),
        (status = 410, body = ErrorBody, description = "The link expired: the request's page gives a new one"),
        (status = 429, body = ErrorBody)))]
pub async fn fetch(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let not_ours = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "this is not a download link of this server");
    let (id, file) = match check_answer(&state.keys, &token) {
        None => return Err(not_ours()),
        Some(Err(())) => {
            return Err(ApiError::new(StatusCode::GONE, "expired", "this download link expired; your request's page gives a new one"));
        }
        Some(Ok(x)) => x,
    };
    let rights = super::of(&state)?;
    super::api::check_id(&id)?;
    if !file.strip_prefix(&format!("{id}-")).is_some_and(|f| PARTS.iter().any(|p| f == format!("{p}.zip.age"))) {
        return Err(not_ours());
    }
    let reg = rights.register().await?;
    let request = reg.find(&id).await.map_err(error)?;
    let path = rights.answer_dir(&id).join(&file);
    let opened = tokio::fs::File::open(&path).await;
    let (Ok(f), Stage::Delivered) = (opened, request.state) else {
        return Err(ApiError::new(StatusCode::GONE, "expired", "this answer is no longer here"));
    };
    let bytes = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    reg.store
        .note(&request, "downloaded", Some(&format!("{file} ({bytes} bytes) through a link")), "person (link)", chrono::Utc::now())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, bytes.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
