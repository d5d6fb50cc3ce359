//! The controller side in the service: a company answers people's portability and
//! access requests (docs/requests.md) through the API under `/api/requests` (staff, with
//! an operator's token), the staff pages under `/staff/`, the person's page under
//! `/rights`, signed download links of answers, the import API another company's ferry
//! sends a person's package to, and the Data Rights Protocol for authorized agents.
//! All of it runs on [`ferry_requests::register::Register`], as `ferry requests` does.

pub mod api;
pub mod drp;
pub mod links;
pub mod pages;
pub mod transfer;
pub mod views;

use crate::config::RequestsConfig;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use ferry_requests::map::DatasetMap;
use ferry_requests::register::{Register, RegisterError};
use ferry_requests::signing::{SigningKey, TrustedSenders};
use std::path::{Path, PathBuf};
use tokio::sync::OnceCell;

/// What answering requests needs, set up once when the server starts.
pub struct Rights {
    pub cfg: RequestsConfig,
    pub map: DatasetMap,
    /// This server's key for signing direct transfers.
    pub signing: SigningKey,
    pub trusted: TrustedSenders,
    pub pip: Option<ferry_requests::drp::Pip>,
    data_dir: PathBuf,
    register: OnceCell<Register>,
    /// Import signatures taken in the last minutes, by when: a replay is refused.
    pub seen_signatures: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// When a code was last mailed to each address: one a minute at most, so that the
    /// public request page cannot be made to flood somebody's mailbox.
    pub mailed: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

impl Rights {
    /// Checks the configuration (the map loads, the keys parse) and sets up.
    pub fn new(cfg: RequestsConfig, data_dir: &Path, public_url: &str) -> anyhow::Result<Rights> {
        let map = ferry_requests::map::load(&cfg.map).map_err(|e| anyhow::anyhow!("requests.map {}: {e}", cfg.map.display()))?;
        let signing = SigningKey::load_or_create(data_dir).map_err(|e| anyhow::anyhow!("the transfer key: {e}"))?;
        let trusted = TrustedSenders::new(cfg.trusted_senders.iter().map(|t| (t.id.clone(), t.public_key.clone())))
            .map_err(|e| anyhow::anyhow!("requests.trusted_senders: {e}"))?;
        let pip = match &cfg.drp_business_id {
            Some(id) => {
                let agents = ferry_requests::drp::Agents::new(&cfg.drp_agents).map_err(|e| anyhow::anyhow!("requests.drp_agents: {e}"))?;
                Some(
                    ferry_requests::drp::Pip::new(id, public_url, agents, cfg.drp_voluntary_regime.clone())
                        .map_err(|e| anyhow::anyhow!("requests.drp_business_id: {e}"))?,
                )
            }
            None => None,
        };
        tracing::info!(public_key = %signing.public_key_base64(), "requests: this server's transfer key (give it to companies that receive packages from it)");
        Ok(Rights {
            cfg,
            map,
            signing,
            trusted,
            pip,
            data_dir: data_dir.to_owned(),
            register: OnceCell::new(),
            seen_signatures: Default::default(),
            mailed: Default::default(),
        })
    }

    /// The register (opened on first use).
    pub async fn register(&self) -> Result<&Register, ApiError> {
        self.register.get_or_try_init(|| Register::open(&self.data_dir)).await.map_err(error)
    }

    /// Where a request's answer is kept: `answers/ID/` in the data directory.
    pub fn answer_dir(&self, request: &str) -> PathBuf {
        self.data_dir.join("answers").join(request)
    }

    /// Whether a code may be mailed to `address` now (one a minute at most); notes it.
    pub fn may_mail(&self, address: &str) -> bool {
        let now = chrono::Utc::now().timestamp();
        let mut mailed = self.mailed.lock().unwrap_or_else(|e| e.into_inner());
        mailed.retain(|_, at| now - *at < 60);
        let key = address.trim().to_lowercase();
        if mailed.contains_key(&key) {
            return false;
        }
        mailed.insert(key, now);
        true
    }

    /// Whether an import signature is new (not taken in the last 11 minutes); notes it.
    pub fn first_use(&self, signature: &str) -> bool {
        let now = chrono::Utc::now().timestamp();
        let mut seen = self.seen_signatures.lock().unwrap_or_else(|e| e.into_inner());
        // older ones are outside the ±5 minutes a signature's date is taken within
        seen.retain(|_, at| now - *at < 660);
        seen.insert(signature.to_owned(), now).is_none()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where packages other companies sent are kept.
    pub fn imports_dir(&self) -> PathBuf {
        self.data_dir.join("imports")
    }
}

/// The server's [`Rights`], or "not offered" when `[requests]` is not configured.
pub fn of(state: &AppState) -> Result<&Rights, ApiError> {
    state.rights.as_deref().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "this server does not answer requests: its operator has not set [requests] up")
    })
}

/// A register error as the API answers it.
pub fn error(e: RegisterError) -> ApiError {
    match e {
        RegisterError::Refused(m) => ApiError::conflict(m),
        RegisterError::NotFound(id) => ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no request `{id}`")),
        RegisterError::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
        RegisterError::Store(e) => ApiError::internal(e.to_string()),
    }
}

pub fn router() -> Router<AppState> {
    api::router().merge(links::router()).merge(transfer::router()).merge(drp::router()).merge(pages::router())
}
