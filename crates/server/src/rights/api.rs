//! `/api/requests`: the register of requests, for staff (an operator's API token). Each
//! handler is one step of `ferry requests`, on the same register, audited the same way.

use super::views::*;
use super::{Rights, error, of};
use crate::access::Caller;
use crate::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ferry_requests::lifecycle::Identity;
use ferry_requests::register::{self, today};
use ferry_requests::response::{Encryption, RowWithheld};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/requests", get(list).post(create))
        .route("/api/requests/audit", get(audit))
        .route("/api/requests/{id}", get(show))
        .route("/api/requests/{id}/verify", post(verify))
        .route("/api/requests/{id}/extend", post(extend))
        .route("/api/requests/{id}/answer", post(answer))
        .route("/api/requests/{id}/preview", get(preview))
        .route("/api/requests/{id}/withhold", post(withhold))
        .route("/api/requests/{id}/review", post(review))
        .route("/api/requests/{id}/deliver", post(deliver))
        .route("/api/requests/{id}/links", post(links))
        .route("/api/requests/{id}/transfer", post(transfer))
        .route("/api/requests/{id}/refuse", post(refuse))
        .route("/api/requests/{id}/withdraw", post(withdraw))
}

/// Staff only (an operator's API token): who they are, for the audit log. An extractor,
/// so that a caller who is not staff is told so before anything else is read.
pub struct Staff(pub String);

impl axum::extract::FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Operator { token } => Ok(Staff(format!("operator:{token}"))),
            _ => Err(ApiError::forbidden("requests are handled by staff: send an operator's API token (ferry admin token create)")),
        }
    }
}

#[utoipa::path(get, path = "/api/requests", tag = "requests", operation_id = "requests_list",
    responses((status = 200, body = Vec<RequestView>, description = "Every request: the open ones first, nearest deadline first, then the closed ones"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "This server does not answer requests"), (status = 429, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, Staff(_): Staff) -> ApiResult<Json<Vec<RequestView>>> {
    let rights = of(&state)?;
    let rows = rights.register().await?.list(true).await.map_err(error)?;
    Ok(Json(rows.into_iter().map(|v| serde_json::from_value(v).expect("a request's view has this shape")).collect()))
}

#[utoipa::path(post, path = "/api/requests", tag = "requests", operation_id = "requests_create", request_body = NewRequest,
    responses((status = 201, body = RequestView, description = "Recorded, with its deadline; a repeat of an open request is linked to it"),
        (status = 400, body = ErrorBody, description = "The request is wrong: the message says what to change"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Staff(actor): Staff,
    ApiJson(body): ApiJson<NewRequest>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    let rights = of(&state)?;
    let v = new_request(rights, &body, &actor).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Records a new request (the API's and the person's page's way in).
pub async fn new_request(rights: &Rights, body: &NewRequest, actor: &str) -> ApiResult<RequestView> {
    let reg = rights.register().await?;
    let bad = |e: register::RegisterError| match e {
        register::RegisterError::Refused(m) => ApiError::bad_request(m),
        other => error(other),
    };
    let regime = reg.regime(body.regime.as_deref().unwrap_or(&rights.cfg.regime)).map_err(bad)?;
    let kind = match body.kind.as_deref() {
        None => ferry_requests::RequestKind::Both,
        Some(k) => k.parse().map_err(|_| ApiError::bad_request(format!("kind `{k}`: portability, access or both")))?,
    };
    let identity_kind = body.identity_kind.as_deref().unwrap_or("email");
    let kind_of: ferry_requests::map::IdentityKind = serde_json::from_value(serde_json::json!(identity_kind)).map_err(|_| {
        ApiError::bad_request(format!("identity_kind `{identity_kind}`: email, phone, customer_id, account_id or username"))
    })?;
    let identity = Identity { kind: kind_of, value: body.identity.trim().to_owned(), verified: None };
    let request = reg.new_request(&regime, kind, identity, body.received.unwrap_or_else(today), actor).await.map_err(bad)?;
    Ok(RequestView::of(&request, &regime))
}

#[utoipa::path(get, path = "/api/requests/audit", tag = "requests", operation_id = "requests_audit",
    responses((status = 200, body = Vec<AuditEntryView>, description = "The whole audit log, checked: its chain and every request's record"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 500, body = ErrorBody, description = "The log does not verify: an entry was changed or removed"), (status = 429, body = ErrorBody)))]
pub async fn audit(State(state): State<AppState>, _staff: Staff) -> ApiResult<Json<Vec<AuditEntryView>>> {
    let reg = of(&state)?.register().await?;
    reg.store.verify(None).await.map_err(|e| ApiError::internal(format!("the audit log does not verify: {e}")))?;
    let entries = reg.store.entries().await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(entries.iter().map(AuditEntryView::from).collect()))
}

/// A request id as ferry makes them (`R-` and hex), else "not found" without a look-up.
pub fn check_id(id: &str) -> ApiResult<()> {
    let ok = id.len() <= 40 && id.strip_prefix("R-").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok { Ok(()) } else { Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no request `{id}`"))) }
}

pub async fn detail(rights: &Rights, id: &str) -> ApiResult<RequestDetail> {
    check_id(id)?;
    let reg = rights.register().await?;
    let request = reg.find(id).await.map_err(error)?;
    let regime = reg.regime(&request.regime).map_err(error)?;
    let history = reg.store.history(id).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(RequestDetail {
        request: RequestView::of(&request, &regime),
        history: history.iter().map(AuditEntryView::from).collect(),
        answer: super::links::parts(rights, id),
    })
}

#[utoipa::path(get, path = "/api/requests/{id}", tag = "requests", operation_id = "requests_show", params(("id" = String, Path, description = "The request's id")),
    responses((status = 200, body = RequestDetail, description = "The request, its history and its answer as it stands"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn show(State(state): State<AppState>, Staff(_): Staff, Path(id): Path<String>) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(detail(of(&state)?, &id).await?))
}

/// One lifecycle step, answered with the request as it now is.
async fn step(
    rights: &Rights,
    id: &str,
    actor: &str,
    go: impl FnOnce(
        &mut ferry_requests::lifecycle::Request,
        &ferry_requests::Regime,
    ) -> Result<ferry_requests::lifecycle::Transition, ferry_requests::lifecycle::LifecycleError>,
) -> ApiResult<RequestView> {
    check_id(id)?;
    let (request, regime) = rights.register().await?.step(id, actor, go).await.map_err(error)?;
    Ok(RequestView::of(&request, &regime))
}

/// The verification step of a request (staff's note, a code sent, or the code given back).
pub async fn verify_step(rights: &Rights, id: &str, body: &VerifyBody, actor: &str) -> ApiResult<RequestView> {
    check_id(id)?;
    let reg = rights.register().await?;
    let request = match (&body.how, body.send_code, &body.code) {
        (Some(how), false, None) => {
            let how = how.trim();
            if how.is_empty() || how.len() > 500 || how.chars().any(char::is_control) {
                return Err(ApiError::bad_request("say how the identity was confirmed, in one line of 500 characters at most"));
            }
            return step(rights, id, actor, |r, _| r.identity_confirmed(how, today())).await;
        }
        (None, true, None) => {
            let (Some(smtp), Some(from)) = (&rights.cfg.smtp_url, &rights.cfg.smtp_from) else {
                return Err(ApiError::conflict("this server sends no codes: set requests.smtp_url and requests.smtp_from"));
            };
            let address = match &body.to {
                Some(a) => a.clone(),
                None => reg.find(id).await.map_err(error)?.identity.value,
            };
            if !rights.may_mail(&address) {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "a code was mailed to this address less than a minute ago: wait for it, or try again in a minute",
                ));
            }
            let mail = register::Mail { smtp: smtp.clone(), from: from.clone(), company: rights.cfg.company.clone() };
            reg.send_code(id, body.to.as_deref(), &mail, actor).await.map_err(error)?.0
        }
        (None, false, Some(code)) => reg.answer_code(id, code, actor).await.map_err(error)?,
        (None, false, None) => return step(rights, id, actor, |r, _| r.verify_identity()).await,
        _ => return Err(ApiError::bad_request("give one of: how (staff confirmed it), send_code, or code (the person's answer)")),
    };
    let regime = reg.regime(&request.regime).map_err(error)?;
    Ok(RequestView::of(&request, &regime))
}

#[utoipa::path(post, path = "/api/requests/{id}/verify", tag = "requests", operation_id = "requests_verify", params(("id" = String, Path, description = "The request's id")),
    request_body = VerifyBody,
    responses((status = 200, body = RequestView, description = "Verifying, or verified"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not now (the step is out of order), or the code is wrong, expired or spent"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "The code could not be sent")))]
pub async fn verify(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(verify_step(of(&state)?, &id, &body, &actor).await?))
}

#[utoipa::path(post, path = "/api/requests/{id}/extend", tag = "requests", operation_id = "requests_extend", params(("id" = String, Path, description = "The request's id")),
    request_body = ExtendBody,
    responses((status = 200, body = RequestView, description = "Extended; tell the person the reason within the first period"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn extend(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExtendBody>,
) -> ApiResult<Json<RequestView>> {
    let by = register::period(body.months, body.days).map_err(|e| ApiError::bad_request(e.to_string()))?;
    one_line(&body.reason, "the reason")?;
    Ok(Json(step(of(&state)?, &id, &actor, |r, g| r.extend(g, by, &body.reason, today())).await?))
}

/// Rows of each table a preview shows.
pub const PREVIEW_ROWS: usize = 50;

/// Text given by staff: one line, not empty, 2,000 characters at most.
pub fn one_line(text: &str, what: &str) -> ApiResult<()> {
    if text.trim().is_empty() || text.chars().count() > 2000 || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request(format!("{what}: not empty, 2,000 characters at most, no control characters")));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/requests/{id}/answer", tag = "requests", operation_id = "requests_answer", params(("id" = String, Path, description = "The request's id")),
    request_body = AnswerBody,
    responses((status = 200, body = DrawnUp, description = "Drawn up (again) for review, without the rows withheld"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not verified yet, or already answered"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "A database of the map could not be read")))]
pub async fn answer(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> ApiResult<Json<DrawnUp>> {
    Ok(Json(super::links::draw_up(of(&state)?, &id, body.as_of, &actor).await?))
}

#[utoipa::path(get, path = "/api/requests/{id}/preview", tag = "requests", operation_id = "requests_preview", params(("id" = String, Path, description = "The request's id")),
    responses((status = 200, body = PreviewView, description = "The answer as drawn up: each table's first 50 rows, each with the id to withhold it by"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No answer is drawn up"), (status = 429, body = ErrorBody)))]
pub async fn preview(State(state): State<AppState>, Staff(_): Staff, Path(id): Path<String>) -> ApiResult<Json<PreviewView>> {
    check_id(&id)?;
    Ok(Json(super::links::preview(of(&state)?, &id, PREVIEW_ROWS)?))
}

#[utoipa::path(post, path = "/api/requests/{id}/withhold", tag = "requests", operation_id = "requests_withhold", params(("id" = String, Path, description = "The request's id")),
    request_body = WithholdBody,
    responses((status = 200, body = DrawnUp, description = "Withheld (audited, with the reason), and the answer drawn up again without it"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn withhold(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WithholdBody>,
) -> ApiResult<Json<DrawnUp>> {
    Ok(Json(withhold_row(of(&state)?, &id, &body, &actor).await?))
}

pub async fn withhold_row(rights: &Rights, id: &str, body: &WithholdBody, actor: &str) -> ApiResult<DrawnUp> {
    check_id(id)?;
    one_line(&body.reason, "the reason")?;
    let row =
        RowWithheld { database: body.database.clone(), table: body.table.clone(), row: body.row.clone(), reason: body.reason.clone() };
    rights.register().await?.withhold_row(id, &row, actor).await.map_err(|e| match e {
        register::RegisterError::Refused(m) if m.contains("row id") || m.contains("needs its") => ApiError::bad_request(m),
        other => error(other),
    })?;
    super::links::draw_up(rights, id, None, actor).await
}

#[utoipa::path(post, path = "/api/requests/{id}/review", tag = "requests", operation_id = "requests_review", params(("id" = String, Path, description = "The request's id")),
    request_body = ReviewBody,
    responses((status = 200, body = RequestView, description = "Sent back for more work (with the reason), or left ready for delivery"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<Json<RequestView>> {
    let rights = of(&state)?;
    match &body.send_back {
        Some(why) => {
            one_line(why, "the reason")?;
            step(rights, &id, &actor, |r, _| r.send_back(why)).await.map(Json)
        }
        None => step(rights, &id, &actor, |r, _| r.ready_for_review()).await.map(Json),
    }
}

#[utoipa::path(post, path = "/api/requests/{id}/deliver", tag = "requests", operation_id = "requests_deliver", params(("id" = String, Path, description = "The request's id")),
    request_body = DeliverBody,
    responses((status = 200, body = Delivered, description = "Sealed and delivered: the person downloads it from their page or these links"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not drawn up and reviewed yet, or already closed"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn deliver(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeliverBody>,
) -> ApiResult<Json<Delivered>> {
    let (encryption, made) = encryption(&body)?;
    let (request, links) = super::links::deliver(&state, of(&state)?, &id, &encryption, &actor).await?;
    Ok(Json(Delivered { request, links, passphrase: made }))
}

/// How to seal: the recipients or passphrase given, else a passphrase made here (returned).
pub fn encryption(body: &DeliverBody) -> ApiResult<(Encryption, Option<String>)> {
    if !body.recipients.is_empty() {
        if body.passphrase.is_some() {
            return Err(ApiError::bad_request("give recipients or a passphrase, not both"));
        }
        let keys = body
            .recipients
            .iter()
            .take(20)
            .map(|r| r.trim().parse::<age::x25519::Recipient>().map_err(|e| ApiError::bad_request(format!("recipient `{r}`: {e}"))))
            .collect::<ApiResult<Vec<_>>>()?;
        return Ok((Encryption::Recipients(keys), None));
    }
    match &body.passphrase {
        Some(p) if p.chars().count() < 12 || p.len() > 1000 => Err(ApiError::bad_request("the passphrase: 12 characters at least")),
        Some(p) => Ok((Encryption::Passphrase(p.clone().into()), None)),
        None => {
            let p = passphrase();
            Ok((Encryption::Passphrase(p.clone().into()), Some(p)))
        }
    }
}

/// Six groups of five letters and digits (about 155 bits), easy to read out.
fn passphrase() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..6).map(|_| (0..5).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect::<String>()).collect::<Vec<_>>().join("-")
}

#[utoipa::path(post, path = "/api/requests/{id}/links", tag = "requests", operation_id = "requests_links", params(("id" = String, Path, description = "The request's id")),
    responses((status = 200, body = Vec<AnswerLink>, description = "New links to the delivered answer's files"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not delivered"), (status = 429, body = ErrorBody)))]
pub async fn links(State(state): State<AppState>, Staff(_): Staff, Path(id): Path<String>) -> ApiResult<Json<Vec<AnswerLink>>> {
    check_id(&id)?;
    let rights = of(&state)?;
    let request = rights.register().await?.find(&id).await.map_err(error)?;
    if request.state != ferry_requests::lifecycle::State::Delivered {
        return Err(ApiError::conflict(format!("request {id} is {}: only a delivered answer has links", request.state)));
    }
    Ok(Json(super::links::make(&state, rights, &id)))
}

#[utoipa::path(post, path = "/api/requests/{id}/transfer", tag = "requests", operation_id = "requests_transfer", params(("id" = String, Path, description = "The request's id")),
    request_body = TransferBody,
    responses((status = 200, body = Transferred, description = "Sent to the other company's ferry, which checked every file; the request is delivered"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The other ferry could not be reached or refused it: deliver to the person instead, and say why")))]
pub async fn transfer(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferBody>,
) -> ApiResult<Json<Transferred>> {
    Ok(Json(super::transfer::send(&state, of(&state)?, &id, &body.to, &actor).await?))
}

#[utoipa::path(post, path = "/api/requests/{id}/refuse", tag = "requests", operation_id = "requests_refuse", params(("id" = String, Path, description = "The request's id")),
    request_body = RefuseBody,
    responses((status = 200, body = RequestView, description = "Refused, with the statement of the right to complain"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn refuse(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RefuseBody>,
) -> ApiResult<Json<RequestView>> {
    let why = register::refusal_reason(&body.reason).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if body.details.chars().count() > 2000 || body.details.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request("details: 2,000 characters at most, no control characters"));
    }
    Ok(Json(step(of(&state)?, &id, &actor, |r, g| r.refuse(g, why, &body.details, today())).await?))
}

#[utoipa::path(post, path = "/api/requests/{id}/withdraw", tag = "requests", operation_id = "requests_withdraw", params(("id" = String, Path, description = "The request's id")),
    responses((status = 200, body = RequestView, description = "Withdrawn by the person"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn withdraw(State(state): State<AppState>, Staff(actor): Staff, Path(id): Path<String>) -> ApiResult<Json<RequestView>> {
    Ok(Json(step(of(&state)?, &id, &actor, |r, _| r.withdraw(today())).await?))
}
