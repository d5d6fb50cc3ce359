//! The Data Rights Protocol 1.0 (Consumer Reports), on the Covered Business side: what
//! ferry needs to take requests from Authorized Agents and tell them where the requests
//! stand. Pure functions; the server wires them to HTTP.
//!
//! - [`Pip::discovery`] and [`Pip::directory_entry`]: what the business offers (only
//!   `access`). 1.0 lists businesses in the network's service directory; the older
//!   `/.well-known/data-rights.json` document is kept for agents that still read it.
//! - [`Pip::agent_setup`]: `POST /v1/agent/{agent-id}`, a signed message that earns the
//!   agent a bearer token.
//! - [`Pip::exercise`]: `POST /v1/data-rights-request`, a signed request checked and
//!   turned into a [`DrpRequest`].
//! - [`Pip::revoke`]: `DELETE /v1/data-rights-request/{id}`, a signed reason.
//! - [`status`]: the Exercise Status object of a ferry [`Request`].
//!
//! Signed bodies are base64 of a 64-byte Ed25519 signature followed by the JSON it
//! signs (libsodium's combined mode). Checks follow the spec's order (3.07): decodes,
//! signature with the agent's key, `agent-id`, `business-id`, `issued-at` not in the
//! future (beyond [`MAX_SKEW`]), `expires-at` not past.

use crate::kind::RequestKind;
use crate::lifecycle::{RefusalReason, Request, State};
use crate::regime::Regime;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The protocol version ferry speaks.
pub const DRP_VERSION: &str = "1.0";
/// Versions accepted in `drp.version`: 1.0 is 0.9.4 renumbered, nothing else changed.
pub const ACCEPTED_VERSIONS: [&str; 2] = ["1.0", "0.9.4"];
/// The largest signed body taken, as received (base64 text).
pub const MAX_BODY: usize = 64 * 1024;
/// How far in the future `issued-at` may be (the agent's clock may run fast).
pub const MAX_SKEW: chrono::Duration = chrono::Duration::minutes(2);

/// A rights action of DRP 1.0 (section 3.01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "access")]
    Access,
    #[serde(rename = "deletion")]
    Deletion,
    #[serde(rename = "sale:opt_out")]
    SaleOptOut,
    #[serde(rename = "sale:opt_in")]
    SaleOptIn,
    #[serde(rename = "access:categories")]
    AccessCategories,
    #[serde(rename = "access:specific")]
    AccessSpecific,
}

impl Action {
    pub const ALL: [Action; 6] =
        [Action::Access, Action::Deletion, Action::SaleOptOut, Action::SaleOptIn, Action::AccessCategories, Action::AccessSpecific];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Access => "access",
            Action::Deletion => "deletion",
            Action::SaleOptOut => "sale:opt_out",
            Action::SaleOptIn => "sale:opt_in",
            Action::AccessCategories => "access:categories",
            Action::AccessSpecific => "access:specific",
        }
    }

    /// The action named `name`; the spec's example spells `sale:opt-out` with a hyphen.
    pub fn parse(name: &str) -> Option<Action> {
        let name = name.trim().replace('-', "_");
        Action::ALL.into_iter().find(|a| a.as_str().replace('-', "_") == name)
    }

    /// The ferry request kind it is answered with, if ferry offers it: `access` only
    /// (deletion and sale opt-out/in are not ferry's to do; the `access:` variants have
    /// no settled semantics in 1.0).
    pub fn kind(self) -> Option<RequestKind> {
        match self {
            Action::Access => Some(RequestKind::Access),
            _ => None,
        }
    }
}

/// The actions ferry offers.
pub const OFFERED: [Action; 1] = [Action::Access];

/// Why a DRP message was not taken. [`DrpError::http_status`] and
/// [`DrpError::body`] give the answer (section 3.06).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrpError {
    #[error("the body is {0} bytes, more than the 65536 taken")]
    TooLarge(usize),
    #[error("the body is not base64")]
    NotBase64,
    #[error("the body is too short to hold a signature and a message")]
    Truncated,
    #[error("agent `{0}` is not an authorized agent of this business")]
    UnknownAgent(String),
    #[error("the signature does not verify with agent `{0}`'s key")]
    BadSignature(String),
    #[error("the signed message is not a JSON object")]
    NotJson,
    #[error("the signed message has no `{0}`")]
    MissingField(&'static str),
    #[error("the signed message is malformed: {0}")]
    Malformed(String),
    #[error("the request is signed by agent `{signer}` but names agent `{claimed}`")]
    AgentMismatch { signer: String, claimed: String },
    #[error("the request is for business `{0}`, not this one")]
    WrongBusiness(String),
    #[error("the request was issued at {0}, in the future")]
    IssuedInFuture(DateTime<Utc>),
    #[error("the request expired at {0}")]
    Expired(DateTime<Utc>),
    #[error("DRP version `{0}` is not supported: 1.0 is")]
    UnsupportedVersion(String),
    #[error("unknown rights action `{0}`")]
    UnknownAction(String),
    #[error("Unsupported rights actions submitted: {0} (this business offers access only)")]
    UnsupportedAction(String),
    #[error("regime `{0}` is not one this business answers under")]
    UnsupportedRegime(String),
    #[error("the request carries no email address or phone number to identify the person")]
    NoIdentity,
    #[error("{0}")]
    Config(String),
}

/// The error body of section 3.06.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The HTTP status, as a string.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fatal: bool,
}

impl DrpError {
    /// The HTTP status to answer with: 403 where trust fails (an agent unknown or not the
    /// signer, a bad signature, another business), 413 for a body too large, else 400.
    pub fn http_status(&self) -> u16 {
        match self {
            DrpError::UnknownAgent(_) | DrpError::BadSignature(_) | DrpError::AgentMismatch { .. } | DrpError::WrongBusiness(_) => 403,
            DrpError::TooLarge(_) => 413,
            DrpError::Config(_) => 500,
            _ => 400,
        }
    }

    /// The JSON error body; an expired request is `fatal` (section 2.01), as is a request
    /// that cannot be answered however often it is resent.
    pub fn body(&self) -> ErrorBody {
        let fatal = matches!(
            self,
            DrpError::Expired(_) | DrpError::UnsupportedAction(_) | DrpError::UnknownAction(_) | DrpError::UnsupportedRegime(_)
        );
        ErrorBody { code: self.http_status().to_string(), message: self.to_string(), fatal }
    }
}

/// An authorized agent as configured: its id and its Ed25519 verify key, base64 (as
/// the service directory gives it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentEntry {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub verify_key: String,
}

/// The authorized agents this business accepts requests from.
#[derive(Debug, Clone, Default)]
pub struct Agents {
    keys: BTreeMap<String, VerifyingKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentsFile {
    #[serde(default)]
    agent: Vec<AgentEntry>,
}

impl Agents {
    /// From entries; a key that does not parse, or an id twice, is an error naming it.
    pub fn new(entries: &[AgentEntry]) -> Result<Agents, DrpError> {
        let mut keys = BTreeMap::new();
        for e in entries {
            let id = e.id.trim();
            if id.is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
                return Err(DrpError::Config(format!("agent id `{}` must be one non-empty line", e.id.escape_debug())));
            }
            let key = crate::signing::parse_key(&e.verify_key).map_err(|r| DrpError::Config(format!("agent `{id}`: {r}")))?;
            if keys.insert(id.to_string(), key).is_some() {
                return Err(DrpError::Config(format!("agent `{id}` is listed twice")));
            }
        }
        Ok(Agents { keys })
    }

    /// From TOML: `[[agent]]` tables with `id`, `verify_key` and an optional `name`.
    pub fn from_toml(text: &str) -> Result<Agents, DrpError> {
        let file: AgentsFile = toml::from_str(text).map_err(|e| DrpError::Config(format!("agents: {e}")))?;
        Agents::new(&file.agent)
    }

    /// The verify key of agent `id`.
    pub fn key(&self, id: &str) -> Option<&VerifyingKey> {
        self.keys.get(id)
    }
}

/// The Privacy Infrastructure Provider: this business's id in the network, where its
/// API is, the agents it trusts, and the ferry regime it answers voluntary requests under.
#[derive(Debug, Clone)]
pub struct Pip {
    pub business_id: String,
    /// The DRP API base, e.g. `https://example.com/drp` (the `/v1/...` paths go under it).
    pub api_base: String,
    pub agents: Agents,
    /// The ferry regime a request with no regime (or `voluntary`) is answered under;
    /// `None` refuses them. DRP 1.0 only encodes `ccpa` and leaves voluntary
    /// processing to the business (3.01), so ferry does not pick one for it.
    pub voluntary_regime: Option<String>,
}

/// The `/.well-known/data-rights.json` document (pre-0.9 discovery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub version: String,
    pub api_base: String,
    pub actions: Vec<Action>,
    pub user_relationships: Vec<String>,
}

/// The business's entry in the network's service directory (3.05.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub id: String,
    pub name: String,
    pub api_base: String,
    pub supported_actions: Vec<Action>,
    pub supported_verifications: Vec<String>,
}

/// The answer to the agent setup (2.05.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentToken {
    #[serde(rename = "agent-id")]
    pub agent_id: String,
    /// Opaque, 32 random bytes base64url; keep only its [`token_digest`].
    pub token: String,
}

/// The person's identity claims (3.04).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub phone_number_verified: bool,
    /// An OpenID Connect address claim, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Value>,
    #[serde(default)]
    pub address_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_of_attorney: Option<String>,
}

/// A data rights request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrpRequest {
    pub agent_id: String,
    pub agent_request_id: Option<String>,
    pub actions: Vec<Action>,
    /// What ferry answers it with.
    pub kind: RequestKind,
    /// The ferry regime's id.
    pub regime: String,
    pub relationships: Vec<String>,
    pub status_callback: Option<String>,
    /// The claims as the agent attested them; how far to rely on them (the `_verified`
    /// flags) is the business's call (3.04), so ferry does not mark the identity verified.
    pub identity: IdentityClaims,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A revoke request (2.04).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoke {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The `exercise` field: a string in 1.0, a list in older agents.
#[derive(Deserialize)]
#[serde(untagged)]
enum Exercise {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "agent-id")]
    agent_id: String,
    #[serde(rename = "business-id")]
    business_id: String,
    #[serde(rename = "issued-at")]
    issued_at: String,
    #[serde(rename = "expires-at")]
    expires_at: String,
    #[serde(rename = "drp.version")]
    version: String,
}

#[derive(Deserialize)]
struct Exercised {
    exercise: Exercise,
    #[serde(default)]
    regime: Option<String>,
    #[serde(default)]
    relationships: Vec<String>,
    #[serde(default)]
    status_callback: Option<String>,
    #[serde(default, rename = "agent-request-id")]
    agent_request_id: Option<String>,
    #[serde(flatten)]
    identity: IdentityClaims,
}

/// The hex SHA-256 of a bearer token, to keep instead of the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The message of a signed body: size, base64, then the signature with `key`.
fn open_signed(body: &[u8], agent: &str, key: &VerifyingKey) -> Result<Map<String, Value>, DrpError> {
    if body.len() > MAX_BODY {
        return Err(DrpError::TooLarge(body.len()));
    }
    let bytes = STANDARD.decode(body.trim_ascii()).map_err(|_| DrpError::NotBase64)?;
    if bytes.len() <= 64 {
        return Err(DrpError::Truncated);
    }
    let (signature, message) = bytes.split_at(64);
    let signature = Signature::from_bytes(signature.try_into().expect("64 bytes"));
    key.verify_strict(message, &signature).map_err(|_| DrpError::BadSignature(agent.to_string()))?;
    match serde_json::from_slice(message) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(DrpError::NotJson),
    }
}

fn require(map: &Map<String, Value>, fields: &[&'static str]) -> Result<(), DrpError> {
    match fields.iter().find(|f| map.get(**f).is_none_or(Value::is_null)) {
        Some(f) => Err(DrpError::MissingField(f)),
        None => Ok(()),
    }
}

fn typed<T: for<'de> Deserialize<'de>>(map: &Map<String, Value>) -> Result<T, DrpError> {
    T::deserialize(Value::Object(map.clone())).map_err(|e| DrpError::Malformed(e.to_string()))
}

/// An ISO 8601 timestamp: RFC 3339, or without offset (taken as UTC).
fn timestamp(field: &str, text: &str) -> Result<DateTime<Utc>, DrpError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
        .map_err(|_| DrpError::Malformed(format!("`{field}` is not an ISO 8601 timestamp: `{text}`")))
}

const ENVELOPE: [&str; 5] = ["agent-id", "business-id", "issued-at", "expires-at", "drp.version"];

impl Pip {
    /// A PIP for `business_id` with its API at `api_base` (an `https://` URL, or
    /// `http://localhost` for testing; no query or fragment).
    pub fn new(business_id: &str, api_base: &str, agents: Agents, voluntary_regime: Option<String>) -> Result<Pip, DrpError> {
        let business_id = business_id.trim();
        if business_id.is_empty() || business_id.chars().any(char::is_control) {
            return Err(DrpError::Config("the business id must be one non-empty line".into()));
        }
        let base = api_base.trim().trim_end_matches('/');
        let local = ["http://localhost", "http://127.0.0.1"]
            .iter()
            .any(|p| base == *p || base.starts_with(&format!("{p}:")) || base.starts_with(&format!("{p}/")));
        let https = base.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !(https || local) || base.contains(['?', '#']) || base.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DrpError::Config(format!(
                "the DRP API base `{}` must be an https:// URL without query or fragment",
                api_base.escape_debug()
            )));
        }
        Ok(Pip { business_id: business_id.to_string(), api_base: base.to_string(), agents, voluntary_regime })
    }

    /// The `/.well-known/data-rights.json` document.
    pub fn discovery(&self) -> Discovery {
        Discovery {
            version: DRP_VERSION.to_string(),
            api_base: self.api_base.clone(),
            actions: OFFERED.to_vec(),
            user_relationships: Vec::new(),
        }
    }

    /// The entry to give the network's operators for the service directory; ferry
    /// identifies people by email address.
    pub fn directory_entry(&self, name: &str) -> DirectoryEntry {
        DirectoryEntry {
            id: self.business_id.clone(),
            name: name.to_string(),
            api_base: self.api_base.clone(),
            supported_actions: OFFERED.to_vec(),
            supported_verifications: vec!["email".to_string()],
        }
    }

    fn key(&self, agent: &str) -> Result<&VerifyingKey, DrpError> {
        self.agents.key(agent).ok_or_else(|| DrpError::UnknownAgent(agent.to_string()))
    }

    /// Checks the signed envelope of a message from `agent` at `now`.
    fn envelope(&self, body: &[u8], agent: &str, now: DateTime<Utc>) -> Result<(Map<String, Value>, Envelope), DrpError> {
        let key = self.key(agent)?;
        let map = open_signed(body, agent, key)?;
        require(&map, &ENVELOPE)?;
        let env: Envelope = typed(&map)?;
        if env.agent_id != agent {
            return Err(DrpError::AgentMismatch { signer: agent.to_string(), claimed: env.agent_id });
        }
        if env.business_id != self.business_id {
            return Err(DrpError::WrongBusiness(env.business_id));
        }
        let issued = timestamp("issued-at", &env.issued_at)?;
        let expires = timestamp("expires-at", &env.expires_at)?;
        if expires <= issued {
            return Err(DrpError::Malformed("`expires-at` is not after `issued-at`".into()));
        }
        if issued > now + MAX_SKEW {
            return Err(DrpError::IssuedInFuture(issued));
        }
        if now >= expires {
            return Err(DrpError::Expired(expires));
        }
        if !ACCEPTED_VERSIONS.contains(&env.version.trim()) {
            return Err(DrpError::UnsupportedVersion(env.version));
        }
        Ok((map, env))
    }

    /// `POST /v1/agent/{agent-id}`: checks the body signed by agent `url_agent_id` and
    /// answers with a new bearer token. On error the spec answers 403 with no body.
    pub fn agent_setup(&self, url_agent_id: &str, body: &[u8], now: DateTime<Utc>) -> Result<AgentToken, DrpError> {
        self.envelope(body, url_agent_id, now)?;
        let bytes: [u8; 32] = rand::random();
        Ok(AgentToken { agent_id: url_agent_id.to_string(), token: URL_SAFE_NO_PAD.encode(bytes) })
    }

    /// `POST /v1/data-rights-request`: checks the body signed by `agent` (the agent of
    /// the bearer token) and gives the request to register.
    pub fn exercise(&self, agent: &str, body: &[u8], now: DateTime<Utc>) -> Result<DrpRequest, DrpError> {
        let (map, env) = self.envelope(body, agent, now)?;
        require(&map, &["exercise"])?;
        let ex: Exercised = typed(&map)?;
        let names = match ex.exercise {
            Exercise::One(a) => vec![a],
            Exercise::Many(v) => v,
        };
        if names.is_empty() {
            return Err(DrpError::MissingField("exercise"));
        }
        let mut actions = Vec::new();
        for name in &names {
            let action = Action::parse(name).ok_or_else(|| DrpError::UnknownAction(name.clone()))?;
            if action.kind().is_none() {
                return Err(DrpError::UnsupportedAction(action.as_str().to_string()));
            }
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        let regime = self.regime(ex.regime.as_deref())?;
        if let Some(url) = &ex.status_callback
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(DrpError::Malformed(format!("`status_callback` is not an http(s) URL: `{url}`")));
        }
        let id = &ex.identity;
        let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !present(&id.email) && !present(&id.phone_number) {
            return Err(DrpError::NoIdentity);
        }
        Ok(DrpRequest {
            agent_id: env.agent_id,
            agent_request_id: ex.agent_request_id,
            actions,
            kind: RequestKind::Access,
            regime,
            relationships: ex.relationships,
            status_callback: ex.status_callback,
            identity: ex.identity,
            issued_at: timestamp("issued-at", &env.issued_at)?,
            expires_at: timestamp("expires-at", &env.expires_at)?,
        })
    }

    /// The ferry regime for DRP `regime`: `ccpa` is ferry's `ccpa`; none or `voluntary`
    /// is [`Pip::voluntary_regime`] if set; anything else is refused.
    pub fn regime(&self, regime: Option<&str>) -> Result<String, DrpError> {
        match regime.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            Some("ccpa") => Ok("ccpa".to_string()),
            None | Some("") | Some("voluntary") => {
                self.voluntary_regime.clone().ok_or_else(|| DrpError::UnsupportedRegime(regime.unwrap_or("voluntary").to_string()))
            }
            Some(_) => Err(DrpError::UnsupportedRegime(regime.unwrap_or_default().to_string())),
        }
    }

    /// `DELETE /v1/data-rights-request/{id}`: checks the body signed by `agent` (the
    /// agent of the bearer token; that it manages the request is the caller's check).
    pub fn revoke(&self, agent: &str, body: &[u8]) -> Result<Revoke, DrpError> {
        let key = self.key(agent)?;
        let map = open_signed(body, agent, key)?;
        let revoke: Revoke = typed(&map)?;
        Ok(Revoke { reason: revoke.reason.filter(|r| !r.trim().is_empty()) })
    }
}

/// A request's status in DRP (3.02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrpStatus {
    Open,
    InProgress,
    Fulfilled,
    Revoked,
    Denied,
    Expired,
}

/// The reason that goes with a status (3.02); `insuf_verification` is the spec's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrpReason {
    NeedUserVerification,
    SuspectedFraud,
    InsufVerification,
    NoMatch,
    ClaimNotCovered,
    OutsideJurisdiction,
    TooManyRequests,
    Other,
}

/// Each ferry state and the DRP status it shows as. `expired` (the agent's own
/// `expires-at` passed before the request was taken) has no ferry state: such a request
/// is never registered.
pub const STATES: [(State, DrpStatus); 8] = [
    (State::Received, DrpStatus::Open),
    (State::VerifyingIdentity, DrpStatus::InProgress),
    (State::InProgress, DrpStatus::InProgress),
    (State::Extended, DrpStatus::InProgress),
    (State::ReadyForReview, DrpStatus::InProgress),
    (State::Delivered, DrpStatus::Fulfilled),
    (State::Refused, DrpStatus::Denied),
    (State::Withdrawn, DrpStatus::Revoked),
];

/// Each ferry refusal reason and the DRP denial reason it shows as. Manifestly unfounded
/// and the rights of others have no DRP reason of their own: `other`, with the details;
/// ferry never calls a request fraud on its own (`suspected_fraud` is unused), nor
/// `outside_jurisdiction` (a regime ferry does not answer under is refused on receipt).
pub const REFUSALS: [(RefusalReason, DrpReason); 7] = [
    (RefusalReason::NotInScope, DrpReason::ClaimNotCovered),
    (RefusalReason::IdentityNotVerified, DrpReason::InsufVerification),
    (RefusalReason::ManifestlyUnfounded, DrpReason::Other),
    (RefusalReason::Excessive, DrpReason::TooManyRequests),
    (RefusalReason::RightsOfOthers, DrpReason::Other),
    (RefusalReason::NoDataHeld, DrpReason::NoMatch),
    (RefusalReason::LegalExemption, DrpReason::ClaimNotCovered),
];

/// The DRP status of ferry state `state`.
pub fn drp_status(state: State) -> DrpStatus {
    STATES.iter().find(|(s, _)| *s == state).map(|(_, d)| *d).expect("every state is in the table")
}

/// The DRP denial reason of ferry refusal reason `reason`.
pub fn drp_reason(reason: RefusalReason) -> DrpReason {
    REFUSALS.iter().find(|(r, _)| *r == reason).map(|(_, d)| *d).expect("every reason is in the table")
}

/// The Exercise Status object (3.03).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub request_id: String,
    pub status: DrpStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DrpReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_url: Option<String>,
}

/// What the status needs beyond the request: the DRP ids, and the URLs the server made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusLinks {
    pub agent_request_id: Option<String>,
    /// Where the person confirms who they are (while verifying identity).
    pub user_verification_url: Option<String>,
    /// Where the answer is (once delivered).
    pub results_url: Option<String>,
}

fn midnight(day: NaiveDate) -> String {
    format!("{day}T00:00:00Z")
}

/// The status of ferry `request`, known to the agent as `drp_id`, under `regime` (for
/// its deadline: `expected_by` is the last day to answer, extensions included).
pub fn status(drp_id: &str, request: &Request, regime: &Regime, links: &StatusLinks) -> Status {
    let state = request.state;
    let drp = drp_status(state);
    let mut s = Status {
        request_id: drp_id.to_string(),
        status: drp,
        reason: None,
        agent_request_id: links.agent_request_id.clone(),
        received_at: Some(midnight(request.received)),
        expected_by: None,
        processing_details: None,
        user_verification_url: None,
        results_url: None,
    };
    if drp == DrpStatus::InProgress || drp == DrpStatus::Open {
        s.expected_by = request.deadline(regime).ok().map(|d| midnight(d.due));
    }
    match state {
        State::VerifyingIdentity => {
            s.user_verification_url = links.user_verification_url.clone();
            if s.user_verification_url.is_some() {
                s.reason = Some(DrpReason::NeedUserVerification);
            }
            s.processing_details = Some("the person's identity is being verified".into());
        }
        State::Extended => {
            // 3.08: an extension's reason goes in processing_details
            s.processing_details = request.extensions.last().map(|e| format!("extended by {}: {}", e.by, e.reason));
        }
        State::Delivered => s.results_url = links.results_url.clone(),
        State::Refused => {
            if let Some(r) = &request.refusal {
                s.reason = Some(drp_reason(r.reason));
                let why = if r.details.trim().is_empty() {
                    r.reason.describe().to_string()
                } else {
                    format!("{}: {}", r.reason.describe(), r.details)
                };
                s.processing_details = Some(format!("{why}. {}", r.complaint));
            }
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests;
