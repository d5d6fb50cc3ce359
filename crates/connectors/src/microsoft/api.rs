//! Microsoft Graph's error answers (https://learn.microsoft.com/graph/errors and
//! https://learn.microsoft.com/graph/throttling) mapped to what the engine does.

pub use crate::http::json_body as with_json;
use crate::http::read_bounded as read;
use crate::http::{Http, status_error};
use ferry_core::ConnectorError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Semaphore;

const MAX_ANSWER: usize = 64 << 20;
const MAX_ERROR: usize = 64 << 10;

/// Maps an error answer; also gives Graph's error code and the status.
pub async fn error(what: &str, resp: reqwest::Response) -> (ConnectorError, String, u16) {
    let status = resp.status().as_u16();
    let by_status = status_error(what, &resp);
    let body: Value = read(what, resp, MAX_ERROR).await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
    let msg = format!("{what}: {status} {code} {}", body["error"]["message"].as_str().unwrap_or_default()).trim_end().to_owned();
    let e = match (status, code.as_str()) {
        (403, _) if code.contains("AccessDenied") || code.contains("Authorization") => {
            ConnectorError::Fatal(format!("{msg}: the account was connected without the scope this needs; connect it again"))
        }
        (507, _) | (_, "ErrorQuotaExceeded" | "quotaLimitReached") => {
            ConnectorError::QuotaExceeded(format!("{msg}: the destination is full"))
        }
        (400, _) => ConnectorError::Item(msg),
        _ => match by_status {
            ConnectorError::Throttled { until, .. } => ConnectorError::Throttled { message: msg, until },
            ConnectorError::Transient { .. } => ConnectorError::transient(msg),
            ConnectorError::Item(_) => ConnectorError::Item(msg),
            ConnectorError::NotFound(_) => ConnectorError::NotFound(msg),
            ConnectorError::Conflict(_) => ConnectorError::Conflict(msg),
            ConnectorError::Fatal(_) => ConnectorError::Fatal(msg),
            other => other,
        },
    };
    (e, code, status)
}

/// The most entries one collection may hold before ferry takes it for a loop.
const MAX_ENTRIES: usize = 1_000_000;

/// Every entry of a collection, its `@odata.nextLink` pages followed (on Graph's origin
/// only).
pub async fn all(cfg: &super::config::MicrosoftConfig, http: &Http, what: &str, first: String) -> Result<Vec<Value>, ConnectorError> {
    let mut out = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next.take() {
        cfg.own(&url)?;
        let page: Value = json(http, what, &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        out.extend(page["value"].as_array().into_iter().flatten().cloned());
        if out.len() > MAX_ENTRIES {
            return Err(ConnectorError::Fatal(format!("{what}: more than {MAX_ENTRIES} entries")));
        }
        next = page["@odata.nextLink"].as_str().filter(|n| *n != url).map(str::to_owned);
    }
    Ok(out)
}

/// Id and display name of each entry (folders, lists).
pub fn named(entries: &[Value]) -> Vec<(String, String)> {
    entries.iter().filter_map(|f| Some((f["id"].as_str()?.to_owned(), f["displayName"].as_str()?.to_owned()))).collect()
}

/// Requests one mailbox may have in flight at once: Outlook answers a fifth with 429
/// (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits).
pub const MAILBOX_CONCURRENCY: usize = 4;

/// A place among the requests in flight to the account's mailbox (every Graph request of
/// the connector takes one, the exporter's and the importer's alike), waited for. Held
/// until dropped: while an answer's body is still being read, its request is in flight.
pub async fn permit(http: &Http) -> tokio::sync::OwnedSemaphorePermit {
    static MAILBOXES: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Arc<Semaphore>>>> = std::sync::LazyLock::new(Default::default);
    let gate = {
        let mut all = MAILBOXES.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(http.account().to_owned()).or_insert_with(|| Arc::new(Semaphore::new(MAILBOX_CONCURRENCY))).clone()
    };
    gate.acquire_owned().await.expect("a mailbox's gate is never closed")
}

/// Sends the request and reads its JSON answer (`Value::Null` for 204).
pub async fn json<T: DeserializeOwned>(
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
) -> Result<T, (ConnectorError, Option<(String, u16)>)> {
    let _inflight = permit(http).await;
    let resp = http.send(what, make).await.map_err(|e| (e, None))?;
    if !resp.status().is_success() {
        let (e, code, status) = error(what, resp).await;
        return Err((e, Some((code, status))));
    }
    let body = read(what, resp, MAX_ANSWER).await.map_err(|e| (e, None))?;
    let body: &[u8] = if body.is_empty() { b"null" } else { &body };
    serde_json::from_slice(body).map_err(|e| (ConnectorError::Fatal(format!("{what}: Graph's answer is not what its API says: {e}")), None))
}

/// A connector error carried through `io::Error` (a content stream's): one worth another
/// try becomes `Interrupted`, which importers map back to a retry.
pub fn as_io(e: ConnectorError) -> std::io::Error {
    let kind = if e.is_transient() { std::io::ErrorKind::Interrupted } else { std::io::ErrorKind::Other };
    std::io::Error::new(kind, e.to_string())
}

/// An answer's body as a reader that fails past `max` bytes (a hostile or broken server
/// never makes ferry read without end), keeping `hold` (the mailbox place of the request)
/// until the body is read or dropped. A connection lost mid-body is worth another try.
pub fn body_reader(
    what: String,
    resp: reqwest::Response,
    max: u64,
    hold: Option<tokio::sync::OwnedSemaphorePermit>,
) -> ferry_core::content::BoxRead {
    use futures::StreamExt;
    let chunks = resp.bytes_stream();
    let capped = futures::stream::unfold((chunks, 0u64, hold, what), move |(mut chunks, seen, hold, what)| async move {
        match chunks.next().await {
            None => None,
            Some(Err(e)) => {
                let e = std::io::Error::new(std::io::ErrorKind::Interrupted, format!("{what}: {e}"));
                Some((Err(e), (chunks, seen, None, what)))
            }
            Some(Ok(bytes)) => {
                let seen = seen + bytes.len() as u64;
                if seen > max {
                    let e =
                        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: more than {max} bytes; not read further"));
                    return Some((Err(e), (chunks, seen, None, what)));
                }
                Some((Ok(bytes), (chunks, seen, hold, what)))
            }
        }
    });
    Box::pin(tokio_util::io::StreamReader::new(Box::pin(capped)))
}

/// Tries of a content stream's opening: whoever reads it may not try again itself (a
/// package fails the item), so a throttle or a server error is waited out here.
const OPEN_TRIES: u32 = 4;

/// Opens a content stream, again after a failure worth another try: at the time a
/// throttle names (at most a minute), else after a short wait.
pub async fn open_retrying<F, Fut>(what: &str, open: F) -> std::io::Result<ferry_core::content::BoxRead>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<ferry_core::content::BoxRead, ConnectorError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match open().await {
            Ok(r) => return Ok(r),
            Err(e) if e.is_transient() && tries < OPEN_TRIES => {
                let now = std::time::Instant::now();
                let wait = match e.throttled_until() {
                    Some(until) => until.saturating_duration_since(now).min(std::time::Duration::from_secs(60)),
                    None => std::time::Duration::from_millis(250 << tries),
                };
                tracing::debug!(what, error = %e, ?wait, "opening again");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(as_io(e)),
        }
    }
}

/// A side as the connector's unit tests need it: Graph at `api` (a mock server), a token
/// that stays valid, private addresses allowed.
#[cfg(test)]
pub fn test_side(api: &str) -> (super::config::MicrosoftConfig, Http, crate::Settings) {
    use ferry_core::{Credential, Secret, TokenSet};
    let token = Credential::Bearer(TokenSet {
        access_token: Secret("at-test".into()),
        refresh_token: None,
        expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        token_endpoint: "http://127.0.0.1:9/token".into(),
        client_id: "ferry-test".into(),
        client_secret: None,
        scopes: vec![],
        revocation_endpoint: None,
        token_endpoint_auth_method: None,
    });
    let settings = crate::Settings {
        allow_private_network: true,
        insecure: true,
        credential: Arc::new(crate::auth::Provider::new(token, None)),
        ..Default::default()
    };
    let address = crate::service::ServiceAddress { account: "me".into(), api: Some(api.to_owned()), scopes: vec![] };
    let cfg = super::config::MicrosoftConfig { address, api: api.to_owned() };
    (cfg, Http::new(&settings, "").unwrap(), settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Answer, serve};

    #[tokio::test]
    async fn an_answer_longer_than_allowed_fails_as_it_is_read() {
        use tokio::io::AsyncReadExt;
        let url = serve(|_| async { Answer::new(200, &"x".repeat(10_000)) }).await;
        let (_, http, _) = test_side(&url);
        let resp = http.send("reading", &|| http.request("GET", &url)).await.unwrap();
        let mut r = body_reader("reading".into(), resp, 4096, None);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("more than 4096 bytes"), "{e}");
    }

    #[tokio::test]
    async fn a_next_link_to_another_host_is_not_followed() {
        let url = serve(|_| async {
            Answer::new(200, r#"{"value": [{"id": "1"}], "@odata.nextLink": "https://elsewhere.example/v1.0/me/contacts?$skip=1"}"#)
        })
        .await;
        let (cfg, http, _) = test_side(&url);
        let e = all(&cfg, &http, "listing", format!("{url}/v1.0/me/contacts")).await.unwrap_err();
        assert!(matches!(e, ConnectorError::Fatal(_)) && e.to_string().contains("not followed"), "{e}");
        let e = all(&cfg, &http, "listing", "https://elsewhere.example/x".into()).await.unwrap_err();
        assert!(e.to_string().contains("elsewhere.example"), "{e}");
    }

    #[tokio::test]
    async fn graph_errors_map_to_what_the_engine_does() {
        let url = serve(|r| async move {
            let (status, code) = match r.path.as_str() {
                "/full" => (507, "quotaLimitReached"),
                "/denied" => (403, "ErrorAccessDenied"),
                "/busy" => (429, "ApplicationThrottled"),
                _ => (400, "ErrorInvalidRequest"),
            };
            Answer::new(status, &format!(r#"{{"error": {{"code": "{code}", "message": "m"}}}}"#)).with("Retry-After", "1")
        })
        .await;
        let (_, http, _) = test_side(&url);
        let get = |p: &'static str| {
            let (http, u) = (http.clone(), format!("{url}{p}"));
            async move { json::<Value>(&http, "asking", &|| http.request("GET", &u)).await.unwrap_err().0 }
        };
        let full = get("/full").await;
        assert!(matches!(full, ConnectorError::QuotaExceeded(_)) && full.to_string().contains("the destination is full"), "{full}");
        assert!(get("/denied").await.to_string().contains("connect it again"));
        assert!(get("/busy").await.throttled_until().is_some());
        assert!(matches!(get("/bad").await, ConnectorError::Item(_)));
    }
}
