//! Mastodon's answers (https://docs.joinmastodon.org/api/guidelines/ and
//! /api/rate-limits/): `{"error": "..."}` bodies, pages linked by the `Link` header, and
//! `X-RateLimit-Reset` saying when a spent limit comes back.

use super::config::MastodonConfig;
use crate::http::{Http, read_bounded as read, status_error};
use ferry_core::ConnectorError;
use serde_json::Value;
use std::time::Duration;

const MAX_ANSWER: usize = 32 << 20;
const MAX_ERROR: usize = 64 << 10;

/// Maps an error answer, with Mastodon's message.
async fn error(what: &str, resp: reqwest::Response) -> ConnectorError {
    let status = resp.status().as_u16();
    let by_status = status_error(what, &resp);
    let reset = resp
        .headers()
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        .map(|t| (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO));
    let body: Value = read(what, resp, MAX_ERROR).await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    let msg = format!("{what}: {status} {}", body["error"].as_str().unwrap_or_default()).trim_end().to_owned();
    match status {
        429 => match reset {
            Some(wait) => ConnectorError::throttled(msg, wait.min(Duration::from_secs(300))),
            None => ConnectorError::transient(msg),
        },
        403 if msg.contains("outside the authorized scopes") => {
            ConnectorError::Fatal(format!("{msg}: the account was connected without the scope this needs; connect it again"))
        }
        401 => ConnectorError::Unauthorized(format!(
            "{msg}: the token is no longer valid (Mastodon's tokens do not refresh); connect the account again"
        )),
        422 => ConnectorError::Item(msg),
        _ => match by_status {
            ConnectorError::Item(_) => ConnectorError::Item(msg),
            ConnectorError::NotFound(_) => ConnectorError::NotFound(msg),
            ConnectorError::Fatal(_) => ConnectorError::Fatal(msg),
            ConnectorError::Conflict(_) => ConnectorError::Conflict(msg),
            other => other,
        },
    }
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

/// Sends a request and reads its JSON answer and its next page's URL.
pub async fn call(
    cfg: &MastodonConfig,
    http: &Http,
    what: &str,
    make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
) -> Result<(Value, Option<String>), ConnectorError> {
    let resp = http.send(what, make).await?;
    if !resp.status().is_success() {
        return Err(error(what, resp).await);
    }
    let next = resp.headers().get("link").and_then(|v| v.to_str().ok()).and_then(next_link);
    if let Some(n) = &next {
        cfg.own(n)?;
    }
    let body = read(what, resp, MAX_ANSWER).await?;
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| ConnectorError::Fatal(format!("{what}: the server's answer is not JSON: {e}")))?
    };
    Ok((v, next))
}

pub async fn get(cfg: &MastodonConfig, http: &Http, what: &str, url: &str) -> Result<(Value, Option<String>), ConnectorError> {
    call(cfg, http, what, &|| http.request("GET", url)).await
}

pub async fn post(cfg: &MastodonConfig, http: &Http, what: &str, url: &str, body: &Value) -> Result<Value, ConnectorError> {
    call(cfg, http, what, &|| crate::http::json_body(http.request("POST", url), body)).await.map(|(v, _)| v)
}

/// Every entry of a paged list (bounded: a loop of links ends).
pub async fn all(cfg: &MastodonConfig, http: &Http, what: &str, first: String) -> Result<Vec<Value>, ConnectorError> {
    let mut out = Vec::new();
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > 100_000 {
            return Err(ConnectorError::Fatal(format!("{what}: more than 100,000 pages")));
        }
        let (page, n) = get(cfg, http, what, &url).await?;
        let entries = page.as_array().cloned().unwrap_or_default();
        let empty = entries.is_empty();
        out.extend(entries);
        next = n.filter(|n| *n != url && !empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_in_any_order_and_quoting() {
        let h = r#"<https://m.example/api/v1/blocks?max_id=9>; rel="next", <https://m.example/api/v1/blocks?since_id=20>; rel="prev""#;
        assert_eq!(next_link(h).as_deref(), Some("https://m.example/api/v1/blocks?max_id=9"));
        let h = r#"<https://m.example/a?min_id=3>; rel="prev", <https://m.example/a?max_id=1>; rel=next"#;
        assert_eq!(next_link(h).as_deref(), Some("https://m.example/a?max_id=1"));
        assert_eq!(next_link(r#"<https://m.example/a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(""), None);
    }
}
