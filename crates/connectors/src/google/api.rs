//! Google's error answers (https://cloud.google.com/apis/design/errors and each API's
//! "handle errors" page) mapped to what the engine does: rate limits are waited out (for
//! `Retry-After`, else with backoff), a spent daily quota pauses the job until the next
//! midnight in California, a missing scope stops it, an expired sync token asks for a
//! full listing, a full Drive is a full destination.

pub use crate::http::json_body as with_json;
use crate::http::read_bounded as read;
use crate::http::{Http, status_error};
use ferry_core::ConnectorError;
use serde::de::DeserializeOwned;
use serde_json::Value;

const MAX_ANSWER: usize = 64 << 20;
const MAX_ERROR: usize = 64 << 10;
/// How long a spent per-minute budget is waited for before the request is tried again.
pub const PER_MINUTE_STEP: std::time::Duration = std::time::Duration::from_secs(15);

/// What an error answer says, besides its mapped error.
#[derive(Debug, Default, PartialEq)]
pub struct Reasons {
    pub status: String,
    pub reasons: Vec<String>,
}

impl Reasons {
    fn from_body(body: &Value) -> Reasons {
        let e = &body["error"];
        let mut reasons: Vec<String> =
            e["errors"].as_array().into_iter().flatten().filter_map(|x| x["reason"].as_str()).map(str::to_owned).collect();
        reasons.extend(e["details"].as_array().into_iter().flatten().filter_map(|x| x["reason"].as_str()).map(str::to_owned));
        Reasons { status: e["status"].as_str().unwrap_or_default().to_owned(), reasons }
    }

    pub fn has(&self, r: &str) -> bool {
        self.reasons.iter().any(|x| x == r) || self.status == r
    }

    /// A sync token too old for the API (People: 400 EXPIRED_SYNC_TOKEN; Calendar: 410).
    pub fn sync_expired(&self, status: u16) -> bool {
        status == 410 || self.has("EXPIRED_SYNC_TOKEN") || self.has("fullSyncRequired")
    }
}

/// The next time Google's daily quotas come back: midnight Pacific time (08:00 UTC, an
/// hour late in summer, never early).
fn next_quota_day() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    let today = now.date_naive().and_hms_opt(8, 0, 0).expect("08:00 exists").and_utc();
    if today > now { today } else { today + chrono::Duration::days(1) }
}

/// Maps an error answer; also says its status and reasons.
pub async fn error(what: &str, resp: reqwest::Response) -> (ConnectorError, Reasons) {
    let status = resp.status().as_u16();
    let by_status = status_error(what, &resp);
    let throttle = by_status.throttled_until();
    let body: Value = match read(what, resp, MAX_ERROR).await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let r = Reasons::from_body(&body);
    let mut message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    // a BadRequest's field violations say which part Google refused (up to three)
    let violations: Vec<String> = body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["fieldViolations"].as_array().into_iter().flatten())
        .take(3)
        .map(|v| format!("{}: {}", v["field"].as_str().unwrap_or("?"), v["description"].as_str().unwrap_or_default()))
        .collect();
    if !violations.is_empty() {
        message = format!("{message} ({})", violations.join("; "));
    }
    let msg = format!("{what}: {status} {} {message}", r.reasons.first().map(String::as_str).unwrap_or(&r.status)).trim_end().to_owned();
    let e = if r.has("dailyLimitExceeded") || r.has("quotaExceeded") {
        ConnectorError::QuotaSpent { message: msg, resume_at: next_quota_day() }
    } else if r.has("storageQuotaExceeded") {
        // Drive's storage (not a request quota): nothing more fits until the owner makes room
        ConnectorError::QuotaExceeded(format!("{msg}: the destination is full"))
    } else if r.has("exportSizeLimitExceeded") {
        ConnectorError::Item(format!("{msg} (Google exports Docs Editors files of up to 10 MB only)"))
    } else if r.has("userRateLimitExceeded") && throttle.is_none() {
        // a per-user budget of a minute (Gmail's quota units, Drive's queries): waited out
        // in steps, without spending the retries meant for failures
        ConnectorError::throttled(msg, PER_MINUTE_STEP)
    } else if status == 429
        || r.has("rateLimitExceeded")
        || r.has("userRateLimitExceeded")
        || r.has("RATE_LIMIT_EXCEEDED")
        || r.has("RESOURCE_EXHAUSTED")
    {
        match throttle {
            Some(until) => ConnectorError::Throttled { message: msg, until },
            None => ConnectorError::transient(msg),
        }
    } else if r.has("ACCESS_TOKEN_SCOPE_INSUFFICIENT") || r.has("insufficientPermissions") {
        ConnectorError::Fatal(format!("{msg}: the account was connected without the scope this needs; connect it again"))
    } else if status == 400 || status == 412 {
        // a request Google refuses for this item (or a stale etag): the item fails
        match status {
            412 => ConnectorError::Conflict(msg),
            _ if r.has("FAILED_PRECONDITION") => ConnectorError::Conflict(msg),
            _ => ConnectorError::Item(msg),
        }
    } else {
        match by_status {
            ConnectorError::Item(_) => ConnectorError::Item(msg),
            ConnectorError::NotFound(_) => ConnectorError::NotFound(msg),
            ConnectorError::Fatal(_) => ConnectorError::Fatal(msg),
            other => other,
        }
    };
    (e, r)
}

/// Sends the request; an error answer as [`error`] maps it, a success comes back unread
/// (for answers read as they arrive).
pub async fn send_ok(
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
) -> Result<reqwest::Response, (ConnectorError, Option<Reasons>)> {
    send_ok_as(http, what, make, Auth::Account).await
}

/// Whether a request carries the account's token, or goes without it (a pre-authorised
/// address, such as a Photos item's `baseUrl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Account,
    Anonymous,
}

async fn send_ok_as(
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    auth: Auth,
) -> Result<reqwest::Response, (ConnectorError, Option<Reasons>)> {
    let sent = match auth {
        Auth::Account => http.send(what, make).await,
        Auth::Anonymous => http.send_anonymous(what, make).await,
    };
    let resp = sent.map_err(|e| (e, None))?;
    if !resp.status().is_success() {
        let (e, r) = error(what, resp).await;
        return Err((e, Some(r)));
    }
    Ok(resp)
}

/// [`send_ok`] for a content stream, which has no engine around it to try again:
/// failures worth another try, and throttles, are waited out a few times.
pub async fn send_patiently(
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    auth: Auth,
) -> Result<reqwest::Response, ConnectorError> {
    let mut tries = 0u32;
    loop {
        match send_ok_as(http, what, make, auth).await {
            Ok(r) => return Ok(r),
            Err((e, _)) if e.is_transient() && tries < 6 => {
                tries += 1;
                let wait = e
                    .throttled_until()
                    .map(|t| t.saturating_duration_since(std::time::Instant::now()))
                    .unwrap_or(std::time::Duration::from_millis(250 << tries))
                    .min(std::time::Duration::from_secs(60));
                tokio::time::sleep(wait).await;
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// An error as a content stream's: worth another try (transient) as `Interrupted`, which
/// importers map back to a retry.
pub fn as_io(e: ConnectorError) -> std::io::Error {
    let kind = if e.is_transient() { std::io::ErrorKind::Interrupted } else { std::io::ErrorKind::Other };
    std::io::Error::new(kind, e.to_string())
}

/// Reads a small JSON answer (a resource Google made).
pub async fn read_json<T: DeserializeOwned>(what: &str, resp: reqwest::Response) -> Result<T, ConnectorError> {
    let body = read(what, resp, MAX_ERROR * 16).await?;
    serde_json::from_slice(&body).map_err(|e| ConnectorError::Fatal(format!("{what}: Google's answer is not what its API says: {e}")))
}

/// Sends the request and reads its JSON answer; an error answer as [`error`] maps it.
pub async fn json<T: DeserializeOwned>(
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
) -> Result<T, (ConnectorError, Option<Reasons>)> {
    let resp = send_ok(http, what, make).await?;
    let body = read(what, resp, MAX_ANSWER).await.map_err(|e| (e, None))?;
    serde_json::from_slice(&body)
        .map_err(|e| (ConnectorError::Fatal(format!("{what}: Google's answer is not what its API says: {e}")), None))
}
