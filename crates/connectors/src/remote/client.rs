//! One service of the connector protocol, as both sides see it: its description (read
//! once), JSON requests and answers (bounded in size), and the protocol's typed errors
//! mapped to what the engine does about them.

use super::config::RemoteConfig;
use super::wire::{ErrorBody, PROTOCOL, Service, WireError};
use crate::Settings;
use crate::http::{Http, read_bounded, status_error};
use ferry_core::ConnectorError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The largest JSON answer read (a page of items with their originals).
const MAX_ANSWER: usize = 64 << 20;
/// The largest error body read.
const MAX_ERROR: usize = 64 << 10;

#[derive(Clone)]
pub struct Remote {
    pub cfg: Arc<RemoteConfig>,
    pub http: Http,
    service: Arc<OnceCell<Service>>,
}

impl Remote {
    pub fn new(cfg: RemoteConfig, settings: &Settings) -> Result<Remote, ConnectorError> {
        let http = Http::signing(settings, &cfg.user)?.for_provider("remote");
        Ok(Remote { cfg: Arc::new(cfg), http, service: Default::default() })
    }

    /// `GET /`, once: refuses a service that speaks another version of the protocol.
    pub async fn service(&self) -> Result<&Service, ConnectorError> {
        self.service
            .get_or_try_init(|| async {
                let s: Service = self.get("describing the service", "").await?;
                if s.protocol != PROTOCOL {
                    return Err(ConnectorError::Fatal(format!(
                        "{}: the service speaks `{}`; this ferry speaks {PROTOCOL}",
                        self.cfg.url(""),
                        s.protocol
                    )));
                }
                self.register_limits(&s)?;
                Ok(s)
            })
            .await
    }

    /// Enforces the limits the service publishes, for every job of the process.
    fn register_limits(&self, s: &Service) -> Result<(), ConnectorError> {
        const MAX_LIMITS: usize = 16;
        if s.limits.len() > MAX_LIMITS {
            return Err(ConnectorError::Fatal(format!("{}: the service publishes more than {MAX_LIMITS} limits", self.cfg.url(""))));
        }
        let url = reqwest::Url::parse(&self.cfg.url("")).map_err(|e| ConnectorError::Fatal(e.to_string()))?;
        let host = format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0));
        for (i, l) in s.limits.iter().enumerate() {
            // a service's limits count its own requests only: below its base
            let paths = match l.paths.is_empty() {
                true => vec![url.path().to_owned()],
                false => l.paths.iter().map(|p| format!("{}{}", url.path(), p.trim_start_matches('/'))).collect(),
            };
            let limit = crate::quota::Limit {
                name: format!("{} #{i}", self.cfg.url("")),
                hosts: vec![host.clone()],
                providers: vec![],
                paths,
                methods: vec![],
                units: l.units,
                per: l.per.clone(),
                scope: l.scope,
                window: l.window,
                offset: None,
                source: Some(format!("{} (GET /)", self.cfg.url(""))),
                costs: Default::default(),
            };
            crate::quota::register(limit).map_err(|e| {
                ConnectorError::Fatal(format!("{}: the service publishes a limit ferry cannot keep: {e}", self.cfg.url("")))
            })?;
        }
        Ok(())
    }

    /// GET `rel` and read its JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, what: &str, rel: &str) -> Result<T, ConnectorError> {
        let url = self.cfg.url(rel);
        let what = format!("{what} ({url})");
        let resp = self.http.send(&what, &|| self.http.request("GET", &url)).await?;
        if !resp.status().is_success() {
            return Err(error(&what, resp).await.0);
        }
        read_json(&what, resp).await
    }

    /// Sends `body` as JSON with `method` to `rel`; a success answer, or the typed error.
    pub async fn send(
        &self,
        what: &str,
        method: &str,
        rel: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<reqwest::Response, ConnectorError> {
        let url = self.cfg.url(rel);
        let what = format!("{what} ({url})");
        let bytes = serde_json::to_vec(body).map_err(|e| ConnectorError::Item(format!("{what}: {e}")))?;
        let make = || self.http.request(method, &url).header(reqwest::header::CONTENT_TYPE, "application/json").body(bytes.clone());
        let resp = self.http.send(&what, &make).await?;
        if !resp.status().is_success() {
            return Err(error(&what, resp).await.0);
        }
        Ok(resp)
    }

    /// [`Remote::send`], and the answer's JSON.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        what: &str,
        method: &str,
        rel: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<T, ConnectorError> {
        let resp = self.send(what, method, rel, body).await?;
        read_json(&format!("{what} ({})", self.cfg.url(rel)), resp).await
    }
}

/// Reads a JSON answer of at most [`MAX_ANSWER`] bytes.
pub async fn read_json<T: DeserializeOwned>(what: &str, resp: reqwest::Response) -> Result<T, ConnectorError> {
    let body = read_bounded(what, resp, MAX_ANSWER).await?;
    serde_json::from_slice(&body)
        .map_err(|e| ConnectorError::Fatal(format!("{what}: the service's answer is not what the protocol says: {e}")))
}

/// The longest wait a service may name: a year.
const MAX_WAIT_SECS: u64 = 366 * 86_400;

/// What a typed error means to the engine (docs/connector-protocol.md); `None` for a code
/// the protocol does not know.
pub fn map_code(e: &WireError, msg: String, wait: Option<Duration>) -> Option<ConnectorError> {
    let now = chrono::Utc::now();
    let latest = now + chrono::Duration::seconds(MAX_WAIT_SECS as i64);
    Some(match e.code.as_str() {
        "invalid_request" | "too_large" | "unsupported" => ConnectorError::Item(msg),
        "digest_mismatch" | "internal" => ConnectorError::transient(msg),
        "invalid_token" => ConnectorError::reconnect(msg),
        "invalid_signature" => ConnectorError::Unauthorized(msg),
        "insufficient_scope" => ConnectorError::Fatal(format!("{msg}: the account was not given the scope this needs")),
        "not_found" | "sync_token_expired" => ConnectorError::NotFound(msg),
        "conflict" => ConnectorError::Conflict(msg),
        "rate_limited" => ConnectorError::throttled(msg, wait.unwrap_or(Duration::from_secs(1))),
        // a quota that comes back soon is waited out; one that comes back later pauses the job
        "quota_exhausted" => {
            let named =
                e.resume_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&chrono::Utc));
            let at = named.or_else(|| wait.and_then(|w| chrono::Duration::from_std(w).ok()).and_then(|w| now.checked_add_signed(w)));
            let soon = now + chrono::Duration::from_std(crate::quota::MAX_WAIT).unwrap_or_default();
            match at.map(|t| t.min(latest)) {
                Some(at) if at > soon => ConnectorError::QuotaSpent { message: msg, resume_at: at },
                Some(at) => ConnectorError::throttled(msg, (at - now).to_std().unwrap_or_default()),
                None => ConnectorError::QuotaSpent {
                    message: format!("{msg} (the service did not say until when)"),
                    resume_at: now + chrono::Duration::hours(1),
                },
            }
        }
        "unavailable" => match wait {
            Some(w) => ConnectorError::throttled(msg, w),
            None => ConnectorError::transient(msg),
        },
        "destination_full" => ConnectorError::QuotaExceeded(msg),
        _ => return None,
    })
}

/// Maps an error answer by its typed code (docs/connector-protocol.md), or by its status
/// when it has none; also gives the code.
pub async fn error(what: &str, resp: reqwest::Response) -> (ConnectorError, Option<String>) {
    let by_status = status_error(what, &resp);
    let header_wait = by_status.throttled_until().map(|t| t.saturating_duration_since(std::time::Instant::now()));
    let Ok(body) = read_bounded(what, resp, MAX_ERROR).await else { return (by_status, None) };
    let Ok(ErrorBody { error: e }) = serde_json::from_slice::<ErrorBody>(&body) else { return (by_status, None) };
    let msg = format!("{what}: {} ({})", if e.message.is_empty() { &e.code } else { &e.message }, e.code);
    let wait = e.retry_after.map(|s| Duration::from_secs(s.min(MAX_WAIT_SECS))).or(header_wait);
    let mapped = map_code(&e, msg, wait).unwrap_or(by_status);
    (mapped, Some(e.code))
}
