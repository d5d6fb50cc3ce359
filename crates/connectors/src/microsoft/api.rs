//! Microsoft Graph's error answers (https://learn.microsoft.com/graph/errors and
//! https://learn.microsoft.com/graph/throttling) mapped to what the engine does.

use crate::http::{Http, request_error, status_error};
use ferry_core::ConnectorError;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

const MAX_ANSWER: usize = 64 << 20;
const MAX_ERROR: usize = 64 << 10;

async fn read(what: &str, resp: reqwest::Response, max: usize) -> Result<Vec<u8>, ConnectorError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(ConnectorError::Fatal(format!("{what}: the answer is larger than {} KiB", max >> 10)));
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| request_error(what, e))?;
        if body.len() + chunk.len() > max {
            return Err(ConnectorError::Fatal(format!("{what}: the answer is larger than {} KiB", max >> 10)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

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

/// A request with a JSON body.
pub fn with_json(rb: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(serde_json::to_vec(body).unwrap_or_default())
}
