//! Microsoft Graph's error answers (https://learn.microsoft.com/graph/errors and
//! https://learn.microsoft.com/graph/throttling) mapped to what the engine does.

pub use crate::http::json_body as with_json;
use crate::http::read_bounded as read;
use crate::http::{Http, status_error};
use ferry_core::ConnectorError;
use serde::de::DeserializeOwned;
use serde_json::Value;

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
        (507, _) | (_, "ErrorQuotaExceeded") => ConnectorError::QuotaExceeded(msg),
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

/// Sends the request and reads its JSON answer (`Value::Null` for 204).
pub async fn json<T: DeserializeOwned>(
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
) -> Result<T, (ConnectorError, Option<(String, u16)>)> {
    let resp = http.send(what, make).await.map_err(|e| (e, None))?;
    if !resp.status().is_success() {
        let (e, code, status) = error(what, resp).await;
        return Err((e, Some((code, status))));
    }
    let body = read(what, resp, MAX_ANSWER).await.map_err(|e| (e, None))?;
    let body: &[u8] = if body.is_empty() { b"null" } else { &body };
    serde_json::from_slice(body).map_err(|e| (ConnectorError::Fatal(format!("{what}: Graph's answer is not what its API says: {e}")), None))
}
