//! Direct transfer of a person's answer to another company (GDPR Article 20(2)): this
//! server sends each part of the reviewed answer as a ZIP to the other company's ferry
//! (`POST /api/imports`), in a request signed with its Ed25519 transfer key
//! ([`ferry_requests::signing`]); the receiver accepts it only from a sender it trusts,
//! checks every file against the manifest's SHA-256, and answers with a receipt. When
//! the transfer fails, nothing is delivered and staff deliver to the person instead.

use super::views::{ImportReceipt, RequestView, Transferred};
use super::{Rights, error};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use ferry_requests::lifecycle::State as Stage;
use ferry_requests::register::today;
use ferry_requests::response::seal_folder;
use ferry_requests::signing;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// The largest package this server accepts.
pub const MAX_IMPORT: u64 = 4 << 30;
/// Files a package may hold.
const MAX_FILES: usize = 10_000;
pub const IMPORT_PATH: &str = "/api/imports";

pub fn router() -> Router<AppState> {
    Router::new().route(IMPORT_PATH, post(receive).get(list))
}

/// Sends the reviewed answer of request `id` to the ferry at `to`.
pub async fn send(state: &AppState, rights: &Rights, id: &str, to: &str, actor: &str) -> ApiResult<Transferred> {
    super::api::check_id(id)?;
    let base = receiver(state, to)?;
    let sender =
        rights.cfg.sender_id.clone().ok_or_else(|| ApiError::conflict("set requests.sender_id: who this server is to the receiver"))?;
    let reg = rights.register().await?;
    let request = reg.find(id).await.map_err(error)?;
    if request.state != Stage::ReadyForReview {
        return Err(ApiError::conflict(format!("request {id} is {}: draw up its answer and review it first", request.state)));
    }
    let dir = rights.answer_dir(id);
    let mut receipts = Vec::new();
    let mut failure = None;
    for part in ["portability", "access"] {
        let folder = dir.join("draft").join(part);
        if !folder.join("manifest.json").is_file() {
            continue;
        }
        let zip = dir.join(format!("transfer-{part}.zip"));
        let _ = std::fs::remove_file(&zip); // a leftover of ours, from a transfer that stopped
        let (from, to) = (folder.clone(), zip.clone());
        let packed =
            tokio::task::spawn_blocking(move || seal_folder(&from, &to, None)).await.map_err(|e| ApiError::internal(e.to_string()))?;
        let sent = match packed {
            Ok(_) => post_package(rights, &sender, &base, &zip).await,
            Err(e) => Err(e.to_string()),
        };
        let _ = std::fs::remove_file(&zip);
        match sent {
            Ok(r) => receipts.push(r),
            Err(e) => {
                failure = Some(format!("{part}: {e}"));
                break;
            }
        }
    }
    let now = chrono::Utc::now();
    if let Some(why) = failure {
        reg.store
            .note(&request, "transfer_failed", Some(&format!("to {base}: {why}")), actor, now)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "failed",
            format!(
                "the transfer to {base} failed ({why}); deliver the answer to the person instead (POST /api/requests/{id}/deliver) and tell them why"
            ),
        ));
    }
    if receipts.is_empty() {
        return Err(ApiError::conflict(format!("request {id} has no answer drawn up: draw it up first")));
    }
    let said: Vec<String> = receipts.iter().map(|r| format!("{} ({} files, sha256 {})", r.id, r.files, r.sha256)).collect();
    reg.store
        .note(&request, "transferred", Some(&format!("to {base}: {}", said.join("; "))), actor, now)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let (request, regime) = reg.step(id, actor, |r, _| r.deliver(today())).await.map_err(error)?;
    let _ = std::fs::remove_dir_all(dir.join("draft"));
    Ok(Transferred { request: RequestView::of(&request, &regime), receipts })
}

/// The receiver's base address: `https://…`, or `http://` on loopback when this server
/// allows plain HTTP (`insecure_http`), as tests do.
fn receiver(state: &AppState, to: &str) -> ApiResult<String> {
    let url = reqwest::Url::parse(to.trim()).map_err(|e| ApiError::bad_request(format!("`{to}` is not an address: {e}")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback && state.cfg.insecure_http => {}
        _ => return Err(ApiError::bad_request(format!("`{to}`: the receiving ferry's address must be https://"))),
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::bad_request(format!(
            "`{to}`: give the receiving ferry's address only, without credentials, query or fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

async fn post_package(rights: &Rights, sender: &str, base: &str, zip: &Path) -> Result<ImportReceipt, String> {
    let hash = {
        let mut f = std::fs::File::open(zip).map_err(|e| e.to_string())?;
        let mut h = Sha256::new();
        std::io::copy(&mut f, &mut h).map_err(|e| e.to_string())?;
        hex::encode(h.finalize())
    };
    // signed for this receiver's address: it cannot be passed on to another
    let target = format!("{base}{IMPORT_PATH}");
    let headers = signing::sign(&rights.signing, sender, "POST", &target, &hash, chrono::Utc::now()).map_err(|e| e.to_string())?;
    let file = tokio::fs::File::open(zip).await.map_err(|e| e.to_string())?;
    let len = file.metadata().await.map_err(|e| e.to_string())?.len();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client
        .post(&target)
        .header("content-type", "application/zip")
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file)));
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let res = req.send().await.map_err(|e| format!("not reached: {e}"))?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::CREATED {
        let said: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let message = said["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
        return Err(format!("the receiver answered {status}: {message}"));
    }
    let receipt: ImportReceipt = serde_json::from_slice(&body).map_err(|e| format!("the receiver's receipt cannot be read: {e}"))?;
    if receipt.sha256 != hash {
        return Err(format!("the receiver's receipt names another package (sha256 {} for {hash})", receipt.sha256));
    }
    Ok(receipt)
}

#[utoipa::path(post, path = "/api/imports", tag = "imports", operation_id = "imports_receive",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A response package as a ZIP (sent as `application/zip`; the type is not checked), sent by a trusted company's ferry and signed (X-Ferry-Sender, X-Ferry-Date, X-Ferry-Content-SHA256, X-Ferry-Signature)"),
    responses((status = 201, body = ImportReceipt, description = "Received, every file checked against the manifest"),
        (status = 400, body = ErrorBody, description = "Not a whole response package: the message says what is wrong"),
        (status = 401, body = ErrorBody, description = "Not signed, signed by a sender this server does not trust, or signed for another request"),
        (status = 404, body = ErrorBody, description = "This server does not receive packages"),
        (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> ApiResult<(StatusCode, Json<ImportReceipt>)> {
    let rights = super::of(&state)?;
    let pairs: Vec<(String, String)> =
        headers.iter().filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect();
    let unauthenticated = |m: String| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m);
    let claimed = pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(signing::CONTENT_SHA256))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    // the signature (over this server's address and the claimed hash) is checked before a
    // byte of the body is kept, and is taken once
    let target = format!("{}{IMPORT_PATH}", state.public_url);
    let sender = signing::verify(&pairs, "POST", &target, &claimed, &rights.trusted, chrono::Utc::now())
        .map_err(|e| unauthenticated(e.to_string()))?;
    let signature =
        pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(signing::SIGNATURE)).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    if !rights.first_use(&signature) {
        return Err(unauthenticated("this signed request was received already: a replay is refused".into()));
    }
    let dir = rights.imports_dir();
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::internal(format!("{}: {e}", dir.display())))?;
    let id = format!("I-{}", hex::encode(rand::random::<[u8; 8]>()));
    let part = dir.join(format!(".{id}.incoming"));
    let kept = dir.join(format!("{id}.zip"));
    // whatever ends this handler early (an error, the client going away) leaves no file
    let _guard = Sweep(vec![part.clone()]);
    let bytes = take(body, &part, &claimed).await?;
    let checking = part.clone();
    let (files, rows) =
        tokio::task::spawn_blocking(move || check_package(&checking)).await.map_err(|e| ApiError::internal(e.to_string()))??;
    let receipt = ImportReceipt { id: id.clone(), sender, bytes, sha256: claimed, files, rows, received_at: chrono::Utc::now() };
    let json = serde_json::to_vec_pretty(&receipt).expect("a receipt serializes");
    let receipt_file = dir.join(format!("{id}.json"));
    std::fs::rename(&part, &kept).map_err(|e| ApiError::internal(format!("{}: {e}", kept.display())))?;
    let guard = Sweep(vec![kept.clone()]);
    write_new(&receipt_file, &json).map_err(|e| ApiError::internal(e.to_string()))?;
    guard.keep();
    tracing::info!(import = %id, sender = %receipt.sender, bytes, "requests: a package was received");
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Removes its files when dropped: what an import left when it did not finish.
struct Sweep(Vec<std::path::PathBuf>);

impl Sweep {
    /// The files are whole: they stay.
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Sweep {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Streams the body into `path` (created new), within [`MAX_IMPORT`], checking its SHA-256.
async fn take(body: Body, path: &Path, claimed: &str) -> ApiResult<u64> {
    let mut file =
        tokio::fs::OpenOptions::new().write(true).create_new(true).open(path).await.map_err(|e| ApiError::internal(e.to_string()))?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the body broke off: {e}")))?;
        bytes += chunk.len() as u64;
        if bytes > MAX_IMPORT {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("a package is {MAX_IMPORT} bytes at most")));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| ApiError::internal(e.to_string()))?;
    }
    file.sync_all().await.map_err(|e| ApiError::internal(e.to_string()))?;
    let actual = hex::encode(hasher.finalize());
    if actual != claimed {
        return Err(ApiError::bad_request(format!("the body's SHA-256 is {actual}, not the {claimed} signed for")));
    }
    Ok(bytes)
}

/// Checks a received ZIP: a ferry response package whose every file is listed in its
/// manifest with the size and SHA-256 found. Gives the files and rows.
fn check_package(path: &Path) -> ApiResult<(usize, u64)> {
    let bad = |m: String| ApiError::bad_request(format!("not a whole response package: {m}"));
    let file = std::fs::File::open(path).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(format!("not a ZIP ({e})")))?;
    if zip.len() > MAX_FILES {
        return Err(bad(format!("{} files (at most {MAX_FILES})", zip.len())));
    }
    let manifest: serde_json::Value = {
        let entry = zip.by_name("manifest.json").map_err(|_| bad("it has no manifest.json".into()))?;
        let mut text = Vec::new();
        entry.take(64 << 20).read_to_end(&mut text).map_err(|e| bad(format!("manifest.json: {e}")))?;
        serde_json::from_slice(&text).map_err(|e| bad(format!("manifest.json: {e}")))?
    };
    if manifest["format"] != ferry_requests::response::FORMAT {
        return Err(bad(format!("its manifest's format is {}, not {}", manifest["format"], ferry_requests::response::FORMAT)));
    }
    let listed = manifest["files"].as_array().ok_or_else(|| bad("its manifest lists no files".into()))?;
    let mut names = std::collections::BTreeSet::new();
    for n in zip.file_names() {
        let n = n.map_err(|e| bad(format!("a file name cannot be read ({e})")))?;
        // an entry twice would be checked once and read either way
        if !names.insert(n.clone().into_owned()) {
            return Err(bad(format!("`{n}` is in it twice")));
        }
    }
    names.remove("manifest.json");
    for f in listed {
        let name = f["path"].as_str().unwrap_or_default();
        if !names.remove(name) {
            return Err(bad(format!("its manifest lists `{name}`, which is not in it")));
        }
        let mut entry = zip.by_name(name).map_err(|e| bad(format!("{name}: {e}")))?;
        let mut h = Sha256::new();
        let listed_bytes = f["bytes"].as_u64().unwrap_or(0);
        // never more than the manifest says, plus one byte to notice: no ZIP bomb
        let n = std::io::copy(&mut (&mut entry).take(listed_bytes + 1), &mut h).map_err(|e| bad(format!("{name}: {e}")))?;
        if Some(n) != f["bytes"].as_u64() || f["sha256"].as_str() != Some(hex::encode(h.finalize()).as_str()) {
            return Err(bad(format!("`{name}` is not the file its manifest describes (size or SHA-256 differ)")));
        }
    }
    if let Some(extra) = names.into_iter().next() {
        return Err(bad(format!("`{extra}` is in it but not in its manifest")));
    }
    let rows = manifest["tables"].as_array().into_iter().flatten().filter_map(|t| t["rows"].as_u64()).sum();
    Ok((listed.len(), rows))
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[utoipa::path(get, path = "/api/imports", tag = "imports", operation_id = "imports_list",
    responses((status = 200, body = Vec<ImportReceipt>, description = "Packages other companies' ferry sent here, newest first"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _staff: super::api::Staff) -> ApiResult<Json<Vec<ImportReceipt>>> {
    let dir = super::of(&state)?.imports_dir();
    let mut out: Vec<ImportReceipt> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.received_at));
    Ok(Json(out))
}
