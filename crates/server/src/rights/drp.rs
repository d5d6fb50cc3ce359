//! The Data Rights Protocol endpoints (docs/requests.md, "Requests from authorized
//! agents"): an authorized agent sets up a bearer token with a signed message, then
//! sends signed `access` requests for people, asks their status and revokes them. Each
//! becomes a request of the register under the actor `agent:ID`, linked to its DRP id;
//! the person confirms their identity on their request page (its link is the status's
//! `user_verification_url`), and the rest is the staff's usual work.

// handlers answer a finished response as their error: it goes straight to the client
#![allow(clippy::result_large_err)]

use super::{Rights, error};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_requests::drp::{self, DrpError, Pip, StatusLinks};
use ferry_requests::lifecycle::{Identity, State as Stage};
use ferry_requests::map::IdentityKind;
use ferry_requests::register::today;
use ferry_requests::store::DrpLink;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::sync::Mutex;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/data-rights.json", get(discovery))
        .route("/v1/agent/{agent}", post(agent_setup).get(agent_info))
        .route("/v1/data-rights-request", post(exercise))
        .route("/v1/data-rights-request/{id}", get(status).delete(revoke))
}

/// The agents' bearer tokens, kept as digests in `drp-tokens.json` of the data directory.
#[derive(Default)]
pub struct Tokens(Mutex<Option<BTreeMap<String, String>>>);

fn tokens_file(rights: &Rights) -> PathBuf {
    rights.data_dir().join("drp-tokens.json")
}

fn pip(state: &AppState) -> Result<(&Rights, &Pip), Response> {
    let rights = super::of(state).map_err(IntoResponse::into_response)?;
    let pip = rights.pip.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "this business takes no Data Rights Protocol requests").into_response()
    })?;
    Ok((rights, pip))
}

/// A DRP error as the protocol answers it.
fn refused(e: DrpError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(e.body())).into_response()
}

async fn discovery(State(state): State<AppState>) -> Response {
    match pip(&state) {
        Ok((_, pip)) => Json(pip.discovery()).into_response(),
        Err(r) => r,
    }
}

async fn agent_setup(State(state): State<AppState>, Path(agent): Path<String>, body: Bytes) -> Response {
    let (rights, pip) = match pip(&state) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match pip.agent_setup(&agent, &body, chrono::Utc::now()) {
        Ok(token) => {
            if let Err(e) = keep_token(&state, rights, &drp::token_digest(&token.token), &agent).await {
                return e.into_response();
            }
            Json(token).into_response()
        }
        // the spec answers a failed setup with 403 and no body
        Err(_) => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn keep_token(state: &AppState, rights: &Rights, digest: &str, agent: &str) -> ApiResult<()> {
    let mut guard = state.drp_tokens.0.lock().await;
    let map = load(&mut guard, rights)?;
    map.insert(digest.to_owned(), agent.to_owned());
    let file = tokens_file(rights);
    let tmp = file.with_extension(format!("json.{}", hex::encode(rand::random::<[u8; 6]>())));
    let text = serde_json::to_vec(&map).expect("tokens serialize");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| ApiError::internal(e.to_string()))?;
        f.write_all(&text).and_then(|_| f.sync_all()).map_err(|e| ApiError::internal(e.to_string()))?;
    }
    std::fs::rename(&tmp, &file).map_err(|e| ApiError::internal(e.to_string()))
}

/// The tokens, read once; a file that cannot be read is an error, never taken for none
/// (the next setup would write over every agent's token).
fn load<'a>(guard: &'a mut Option<BTreeMap<String, String>>, rights: &Rights) -> ApiResult<&'a mut BTreeMap<String, String>> {
    if guard.is_none() {
        let file = tokens_file(rights);
        let tokens = match std::fs::read(&file) {
            Ok(t) => serde_json::from_slice(&t).map_err(|e| ApiError::internal(format!("{}: {e}", file.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(ApiError::internal(format!("{}: {e}", file.display()))),
        };
        *guard = Some(tokens);
    }
    Ok(guard.as_mut().expect("just read"))
}

/// The agent a request's bearer token was given to.
async fn agent_of(state: &AppState, rights: &Rights, headers: &HeaderMap) -> Result<String, Response> {
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let none = || refused(DrpError::UnknownAgent("(no valid bearer token)".into()));
    let token = token.filter(|t| !t.is_empty()).ok_or_else(none)?;
    let mut guard = state.drp_tokens.0.lock().await;
    let tokens = load(&mut guard, rights).map_err(IntoResponse::into_response)?;
    tokens.get(&drp::token_digest(token)).cloned().ok_or_else(none)
}

async fn agent_info(State(state): State<AppState>, Path(agent): Path<String>, headers: HeaderMap) -> Response {
    let (rights, _) = match pip(&state) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match agent_of(&state, rights, &headers).await {
        Ok(a) if a == agent => StatusCode::OK.into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn exercise(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (rights, pip) = match pip(&state) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let agent = match agent_of(&state, rights, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let req = match pip.exercise(&agent, &body, chrono::Utc::now()) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    match register_it(&state, rights, &req).await {
        Ok(s) => (StatusCode::OK, Json(s)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn register_it(state: &AppState, rights: &Rights, req: &drp::DrpRequest) -> ApiResult<drp::Status> {
    let reg = rights.register().await?;
    let regime = reg.regime(&req.regime).map_err(error)?;
    let (kind, value) = match (&req.identity.email, &req.identity.phone_number) {
        (Some(e), _) if !e.trim().is_empty() => (IdentityKind::Email, e.trim().to_owned()),
        (_, Some(p)) => (IdentityKind::Phone, p.trim().to_owned()),
        _ => return Err(ApiError::bad_request("the request names no email address or phone number")),
    };
    let identity = Identity { kind, value, verified: None };
    let actor = format!("agent:{}", req.agent_id);
    let request = reg.new_request(&regime, req.kind, identity, today(), &actor).await.map_err(|e| match e {
        ferry_requests::register::RegisterError::Refused(m) => ApiError::bad_request(m),
        other => error(other),
    })?;
    let drp_id = format!("D-{}", hex::encode(rand::random::<[u8; 12]>()));
    let link = DrpLink {
        drp_id: drp_id.clone(),
        agent_id: req.agent_id.clone(),
        request_id: request.id.clone(),
        agent_request_id: req.agent_request_id.clone(),
        status_callback: req.status_callback.clone(),
        created_at: chrono::Utc::now(),
    };
    reg.store.put_drp(&link).await.map_err(|e| ApiError::internal(e.to_string()))?;
    // the person confirms on their request page with a code mailed to them, when the
    // agent gave an email address and this server sends mail
    let mut request = request;
    if kind == IdentityKind::Email && rights.cfg.smtp_url.is_some() {
        let send = super::views::VerifyBody { send_code: true, ..Default::default() };
        match super::api::verify_step(rights, &request.id, &send, &actor).await {
            Ok(_) => request = reg.find(&request.id).await.map_err(error)?,
            Err(e) => tracing::warn!(request = %request.id, "requests: the code was not sent: {}", e.body.message),
        }
    }
    Ok(drp::status(&drp_id, &request, &regime, &links(state, &link, &request)))
}

fn links(state: &AppState, link: &DrpLink, request: &ferry_requests::lifecycle::Request) -> StatusLinks {
    StatusLinks {
        agent_request_id: link.agent_request_id.clone(),
        user_verification_url: matches!(request.state, Stage::Received | Stage::VerifyingIdentity)
            .then(|| super::pages::request_url(state, &request.id)),
        results_url: (request.state == Stage::Delivered).then(|| super::pages::request_url(state, &request.id)),
    }
}

/// The link of DRP id `id` if `agent` manages it.
async fn linked(rights: &Rights, agent: &str, id: &str) -> Result<DrpLink, Response> {
    let reg = rights.register().await.map_err(IntoResponse::into_response)?;
    match reg.store.drp(id).await {
        Ok(Some(l)) if l.agent_id == agent => Ok(l),
        Ok(Some(_)) => Err(StatusCode::FORBIDDEN.into_response()),
        Ok(None) => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no data rights request `{id}`")).into_response()),
        Err(e) => Err(ApiError::internal(e.to_string()).into_response()),
    }
}

/// The business, the calling agent (by its bearer token) and the DRP request `id` it manages.
async fn agent_link<'a>(state: &'a AppState, headers: &HeaderMap, id: &str) -> Result<(&'a Rights, &'a Pip, String, DrpLink), Response> {
    let (rights, pip) = pip(state)?;
    let agent = agent_of(state, rights, headers).await?;
    let link = linked(rights, &agent, id).await?;
    Ok((rights, pip, agent, link))
}

/// The DRP status of `link`'s request, after `step` (if any) by `actor`.
async fn status_after(state: &AppState, rights: &Rights, link: &DrpLink, step: Option<(&str, &drp::Revoke)>) -> Result<Response, Response> {
    let reg = rights.register().await.map_err(IntoResponse::into_response)?;
    let api = |e: ApiError| e.into_response();
    let (request, regime) = match step {
        None => {
            let request = reg.find(&link.request_id).await.map_err(|e| api(error(e)))?;
            let regime = reg.regime(&request.regime).map_err(|e| api(error(e)))?;
            (request, regime)
        }
        Some((actor, revoke)) => {
            let (request, regime) = reg.step(&link.request_id, actor, |r, _| r.withdraw(today())).await.map_err(|e| api(error(e)))?;
            if let Some(why) = &revoke.reason {
                reg.store
                    .note(&request, "revoked_by_agent", Some(why), actor, chrono::Utc::now())
                    .await
                    .map_err(|e| api(ApiError::internal(e.to_string())))?;
            }
            (request, regime)
        }
    };
    Ok(Json(drp::status(&link.drp_id, &request, &regime, &links(state, link, &request))).into_response())
}

async fn status(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let answer = async {
        let (rights, _, _, link) = agent_link(&state, &headers, &id).await?;
        status_after(&state, rights, &link, None).await
    };
    answer.await.unwrap_or_else(|r| r)
}

async fn revoke(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = async {
        let (rights, pip, agent, link) = agent_link(&state, &headers, &id).await?;
        let revoke = pip.revoke(&agent, &body).map_err(refused)?;
        status_after(&state, rights, &link, Some((&format!("agent:{agent}"), &revoke))).await
    };
    answer.await.unwrap_or_else(|r| r)
}
