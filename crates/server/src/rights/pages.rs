//! The pages of requests: the person's (`/rights`: make a request, confirm who they are
//! with the code sent to them, follow it, download the answer) and the staff's
//! (`/staff`: the queue by deadline, a request's history, the answer as drawn up with a
//! form to withhold each row, and each next step). Staff sign in with an operator's API
//! token; their cookie holds its hash, signed, and is checked against the store on each
//! page, so a revoked token ends the sign-in.
// handlers return a finished page as their error: it goes straight to the client
#![allow(clippy::result_large_err)]

use super::api::{self, check_id, detail, new_request, verify_step};
use super::views::{DeliverBody, NewRequest, VerifyBody, WithholdBody};
use super::{Rights, error};
use crate::access::{self, check_request_key, request_key};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::pages::{checked, error_page, field, fields, page, session};
use crate::web::templates::{PreviewRowPage, PreviewTablePage, RightsNew, RightsRequest, StaffQueue, StaffRequest, StaffSignIn};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ferry_requests::lifecycle::State as Stage;
use ferry_requests::register::{self, today};
use serde::Deserialize;

const STAFF_COOKIE: &str = "ferry_staff";
/// How long a staff sign-in lasts.
const STAFF_HOURS: i64 = 8;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rights", get(new_page).post(make))
        .route("/rights/{id}", get(request_page))
        .route("/rights/{id}/code", post(code))
        .route("/staff", get(queue))
        .route("/staff/sign-in", post(sign_in))
        .route("/staff/requests/{id}", get(staff_page))
        .route("/staff/requests/{id}/{action}", post(staff_act))
}

/// The address of a request's page, with the key that opens it.
pub fn request_url(state: &AppState, id: &str) -> String {
    format!("{}/rights/{id}?key={}", state.public_url, request_key(&state.keys, id))
}

fn rights(state: &AppState) -> Result<&Rights, Response> {
    super::of(state).map_err(|_| error_page(StatusCode::NOT_FOUND, "Not offered", "This service does not take requests for personal data."))
}

fn api_error_page(e: ApiError) -> Response {
    error_page(e.status, "That did not work", &e.body.message)
}

async fn new_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let rights = match rights(&state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let (s, cookie) = session(&state, &headers);
    let t = RightsNew { nav: "", company: rights.cfg.company.clone(), csrf: s.csrf(&state.keys), email: String::new(), error: None };
    page(t, StatusCode::OK, cookie)
}

const PERSON: &str = "person (request page)";

async fn make(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let rights = match rights(&state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let form = fields(&body);
    let s = match checked(&state, &headers, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let email = field(&form, "email").unwrap_or_default().trim().to_owned();
    let body = NewRequest {
        regime: None,
        kind: field(&form, "kind").map(str::to_owned),
        identity_kind: None,
        identity: email.clone(),
        received: None,
    };
    let again = |e: String| {
        let t = RightsNew { nav: "", company: rights.cfg.company.clone(), csrf: s.csrf(&state.keys), email: email.clone(), error: Some(e) };
        page(t, StatusCode::BAD_REQUEST, None)
    };
    let request = match new_request(rights, &body, PERSON).await {
        Ok(r) => r,
        Err(e) => return again(e.body.message),
    };
    // the code goes to the address given: only its owner can go on
    let sent = verify_step(rights, &request.id, &VerifyBody { send_code: true, ..Default::default() }, PERSON).await;
    if let Err(e) = sent {
        tracing::warn!(request = %request.id, "requests: the code was not sent: {}", e.body.message);
    }
    Redirect::to(&format!("/rights/{}?key={}", request.id, request_key(&state.keys, &request.id))).into_response()
}

#[derive(Deserialize)]
struct KeyQuery {
    #[serde(default)]
    key: String,
    #[serde(default)]
    said: Option<String>,
}

async fn request_page(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(q): Query<KeyQuery>) -> Response {
    show_request(&state, &headers, &id, &q.key, q.said.as_deref().map(said), None).await
}

/// The fixed messages a redirect may ask the page to show.
fn said(code: &str) -> String {
    match code {
        "confirmed" => "Thank you: it is confirmed that the request is yours. We are working on it.".into(),
        _ => String::new(),
    }
}

async fn show_request(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    key: &str,
    message: Option<String>,
    error_text: Option<String>,
) -> Response {
    let rights = match rights(state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let gone = || {
        error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such request, or the link to it is not whole: use the link you were given.",
        )
    };
    if check_id(id).is_err() || !check_request_key(&state.keys, id, key) {
        return gone();
    }
    let reg = match rights.register().await {
        Ok(r) => r,
        Err(e) => return api_error_page(e),
    };
    let Ok(request) = reg.find(id).await else { return gone() };
    let regime = match reg.regime(&request.regime) {
        Ok(r) => r,
        Err(e) => return api_error_page(error(e)),
    };
    let (s, cookie) = session(state, headers);
    let links = if request.state == Stage::Delivered { super::links::make(state, rights, id) } else { Vec::new() };
    let t = RightsRequest {
        nav: "",
        id: id.to_owned(),
        key: key.to_owned(),
        csrf: s.csrf(&state.keys),
        received: request.received.to_string(),
        state: request.state.as_str().to_owned(),
        due: (!request.state.is_final()).then(|| request.deadline(&regime).ok().map(|d| d.due.to_string())).flatten(),
        verifying: register::verifying(&request),
        refusal: request.refusal.as_ref().map(|r| format!("{}. {} {}", r.reason.describe(), r.details, r.complaint)),
        links_until: links.first().map(|l| l.expires_at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
        links,
        message: message.filter(|m| !m.is_empty()),
        error: error_text,
    };
    let status = if t.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(t, status, cookie)
}

async fn code(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let rights = match rights(&state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let form = fields(&body);
    if let Err(r) = checked(&state, &headers, &form) {
        return r;
    }
    let key = field(&form, "key").unwrap_or_default().to_owned();
    if check_id(&id).is_err() || !check_request_key(&state.keys, &id, &key) {
        return error_page(StatusCode::NOT_FOUND, "Not found", "There is no such request, or the link to it is not whole.");
    }
    let given = VerifyBody { code: Some(field(&form, "code").unwrap_or_default().to_owned()), ..Default::default() };
    match verify_step(rights, &id, &given, PERSON).await {
        Ok(_) => Redirect::to(&format!("/rights/{id}?key={key}&said=confirmed")).into_response(),
        Err(e) => show_request(&state, &headers, &id, &key, None, Some(e.body.message)).await,
    }
}

/// The staff member signed in: their token's id, for the audit log.
async fn staff(state: &AppState, headers: &HeaderMap) -> Option<(String, String)> {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&format!("{STAFF_COOKIE}=")).map(str::to_owned))?;
    let hash = hex::decode(access::check_staff_cookie(&state.keys, &cookie)?).ok()?;
    let token = state.service.store().api_token(&hash).await.ok()??;
    Some((format!("staff:{}", token.id), cookie))
}

async fn queue(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let rights = match rights(&state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(_) = staff(&state, &headers).await else {
        let (s, cookie) = session(&state, &headers);
        return page(StaffSignIn { nav: "", csrf: s.csrf(&state.keys), error: None }, StatusCode::OK, cookie);
    };
    let listed = async { rights.register().await?.list(false).await.map_err(error) };
    match listed.await {
        Ok(rows) => {
            let requests = rows.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
            page(StaffQueue { nav: "", requests }, StatusCode::OK, None)
        }
        Err(e) => api_error_page(e),
    }
}

async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = fields(&body);
    let s = match checked(&state, &headers, &form) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = field(&form, "token").unwrap_or_default().trim();
    let hash = access::token_hash(token);
    match state.service.store().api_token(&hash).await {
        Ok(Some(_)) if !token.is_empty() => {
            let expires = chrono::Utc::now().timestamp() + STAFF_HOURS * 3600;
            let value = access::staff_cookie(&state.keys, &hex::encode(&hash), expires);
            let secure = if state.public_url.starts_with("https://") { "; Secure" } else { "" };
            let cookie = format!("{STAFF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", STAFF_HOURS * 3600);
            let mut res = Redirect::to("/staff").into_response();
            if let Ok(v) = cookie.parse() {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        _ => page(
            StaffSignIn { nav: "", csrf: s.csrf(&state.keys), error: Some("That token is unknown or was revoked.".into()) },
            StatusCode::UNAUTHORIZED,
            None,
        ),
    }
}

async fn staff_page(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some((_, cookie)) = staff(&state, &headers).await else { return Redirect::to("/staff").into_response() };
    render_staff(&state, &cookie, &id, None, None).await
}

const REASONS: [&str; 7] =
    ["not_in_scope", "identity_not_verified", "manifestly_unfounded", "excessive", "rights_of_others", "no_data_held", "legal_exemption"];

async fn render_staff(state: &AppState, cookie: &str, id: &str, message: Option<String>, error_text: Option<String>) -> Response {
    let rights = match rights(state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let d = match detail(rights, id).await {
        Ok(d) => d,
        Err(e) => return api_error_page(e),
    };
    let preview = super::links::preview(rights, id, api::PREVIEW_ROWS)
        .map(|p| {
            p.tables
                .into_iter()
                .map(|t| PreviewTablePage {
                    rows_shown: t
                        .shown
                        .iter()
                        .map(|r| PreviewRowPage { id: r.id.clone(), cells: t.fields.iter().map(|f| cell(&r.values[f.as_str()])).collect() })
                        .collect(),
                    part: t.part,
                    database: t.database,
                    table: t.table,
                    rows: t.rows,
                    fields: t.fields,
                })
                .collect()
        })
        .unwrap_or_default();
    let status = if error_text.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let t = StaffRequest {
        nav: "",
        d,
        csrf: access::staff_csrf(&state.keys, cookie),
        reasons: REASONS.to_vec(),
        preview,
        message,
        error: error_text,
    };
    page(t, status, None)
}

fn cell(v: &serde_json::Value) -> String {
    let text = match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 200 { format!("{}…", text.chars().take(200).collect::<String>()) } else { text }
}

async fn staff_act(State(state): State<AppState>, headers: HeaderMap, Path((id, action)): Path<(String, String)>, body: Bytes) -> Response {
    let rights = match rights(&state) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some((actor, cookie)) = staff(&state, &headers).await else { return Redirect::to("/staff").into_response() };
    let form = fields(&body);
    let origin_ok = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).is_none_or(|o| o.trim_end_matches('/') == state.public_url);
    if !origin_ok || !access::check_staff_csrf(&state.keys, &cookie, field(&form, "csrf").unwrap_or_default()) {
        return error_page(StatusCode::FORBIDDEN, "This form has expired", "Reload the page and send the form again.");
    }
    let f = |name: &str| field(&form, name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let done: Result<String, ApiError> = async {
        match action.as_str() {
            "verify" => {
                let how = f("how").ok_or_else(|| ApiError::bad_request("say how the identity was confirmed"))?;
                verify_step(rights, &id, &VerifyBody { how: Some(how), ..Default::default() }, &actor)
                    .await
                    .map(|_| "The identity is recorded as confirmed.".into())
            }
            "send-code" => verify_step(rights, &id, &VerifyBody { send_code: true, ..Default::default() }, &actor)
                .await
                .map(|_| "A code was sent.".into()),
            "draw-up" => super::links::draw_up(rights, &id, None, &actor).await.map(|d| {
                let parts: Vec<String> = d.parts.iter().map(|p| format!("{}: {} rows", p.part, p.rows)).collect();
                format!("Drawn up for review ({}).", parts.join("; "))
            }),
            "withhold" => {
                let body = WithholdBody {
                    database: f("database").unwrap_or_default(),
                    table: f("table").unwrap_or_default(),
                    row: f("row").unwrap_or_default(),
                    reason: f("reason").unwrap_or_default(),
                };
                api::withhold_row(rights, &id, &body, &actor)
                    .await
                    .map(|_| "The row is withheld; the answer was drawn up again without it.".into())
            }
            "deliver" => {
                let body = DeliverBody { recipients: f("recipient").into_iter().collect(), passphrase: None };
                let (encryption, made) = api::encryption(&body)?;
                super::links::deliver(&state, rights, &id, &encryption, &actor).await?;
                Ok(match made {
                    Some(p) => format!("Delivered. The passphrase, shown this once: {p}. Tell it to the person another way than email."),
                    None => "Delivered, sealed for the person's key.".into(),
                })
            }
            "transfer" => {
                let to = f("to").ok_or_else(|| ApiError::bad_request("give the other company's ferry address"))?;
                super::transfer::send(&state, rights, &id, &to, &actor)
                    .await
                    .map(|t| format!("Transferred: {} package(s) received.", t.receipts.len()))
            }
            "extend" => {
                let months = f("months").and_then(|m| m.parse().ok());
                let by = register::period(months, None).map_err(|e| ApiError::bad_request(e.to_string()))?;
                let reason = f("reason").ok_or_else(|| ApiError::bad_request("give the reason the person is told"))?;
                check_id(&id)?;
                rights.register().await?.step(&id, &actor, |r, g| r.extend(g, by, &reason, today())).await.map_err(error)?;
                Ok("Extended; tell the person why.".into())
            }
            "refuse" => {
                let why = register::refusal_reason(&f("reason").unwrap_or_default()).map_err(|e| ApiError::bad_request(e.to_string()))?;
                let details = f("details").unwrap_or_default();
                check_id(&id)?;
                rights.register().await?.step(&id, &actor, |r, g| r.refuse(g, why, &details, today())).await.map_err(error)?;
                Ok("Refused; the person is told why, and of their right to complain.".into())
            }
            _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no step `{action}`"))),
        }
    }
    .await;
    match done {
        Ok(m) => render_staff(&state, &cookie, &id, Some(m), None).await,
        Err(e) => render_staff(&state, &cookie, &id, None, Some(e.body.message)).await,
    }
}
