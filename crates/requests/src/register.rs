//! The register a company keeps of its requests, as the command line (`ferry requests`)
//! and the HTTP API (`/api/requests`) both use it: requests in a [`SqliteRequests`] store,
//! the company's own regimes in a folder beside it, every step audited.

mod answer;
mod codes;

pub use answer::{Drawn, ROW_WITHHELD};
pub use codes::Mail;

use crate::deadline::Period;
use crate::lifecycle::{Identity, LifecycleError, RefusalReason, Request, State, Transition};
use crate::map::IdentityKind;
use crate::store::{SqliteRequests, StoreError};
use crate::{Regime, RequestKind};
use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What went wrong, as the caller reports it: the asker's mistake, or the register's.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Wrong input or a step out of order: the message says what to change.
    #[error("{0}")]
    Refused(String),
    #[error("no request `{0}`")]
    NotFound(String),
    /// Something outside the register failed (a database, the mail server, the disk).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<LifecycleError> for RegisterError {
    fn from(e: LifecycleError) -> RegisterError {
        RegisterError::Refused(e.to_string())
    }
}

pub type Result<T, E = RegisterError> = std::result::Result<T, E>;

pub struct Register {
    pub store: SqliteRequests,
    regimes: PathBuf,
}

/// The longest identity value a request takes.
pub const MAX_IDENTITY: usize = 320;

impl Register {
    /// The register kept in `data_dir` (`requests.db`, `regimes/`).
    pub async fn open(data_dir: &Path) -> Result<Register> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Db(format!("making {}: {e}", data_dir.display())))?;
        Ok(Register { store: SqliteRequests::open(&data_dir.join("requests.db")).await?, regimes: data_dir.join("regimes") })
    }

    /// Where the company's own regimes are kept (`ID.toml`).
    pub fn regimes_dir(&self) -> &Path {
        &self.regimes
    }

    /// A regime by id: built in, or the company's own.
    pub fn regime(&self, id: &str) -> Result<Regime> {
        if let Ok(r) = Regime::builtin(id) {
            return Ok(r);
        }
        let own = self.regimes.join(format!("{id}.toml"));
        if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') && own.is_file() {
            return Regime::load(&own).map_err(|e| RegisterError::Refused(format!("the regime {id}: {e}")));
        }
        let known: Vec<String> = Regime::builtins().into_iter().map(|r| r.id).collect();
        Err(RegisterError::Refused(format!("no regime `{id}`: built in are {}; a company adds its own as a file", known.join(", "))))
    }

    /// Records a request just received; an open request of the same person is linked.
    pub async fn new_request(
        &self,
        regime: &Regime,
        kind: RequestKind,
        identity: Identity,
        received: NaiveDate,
        actor: &str,
    ) -> Result<Request> {
        check_identity(&identity)?;
        if received > today() {
            return Err(RegisterError::Refused(format!("the day received, {received}, is in the future")));
        }
        let id = format!("R-{}", &uuid_like());
        let mut request = Request::new(id, regime, kind, received, identity);
        let open_ones = self.store.requests().await?;
        request.duplicate_of = open_ones.iter().filter(|r| request.repeats(r)).min_by_key(|r| r.received).map(|r| r.id.clone());
        self.store.create(&request, actor, Utc::now()).await?;
        Ok(request)
    }

    pub async fn find(&self, id: &str) -> Result<Request> {
        self.store.request(id).await?.ok_or_else(|| RegisterError::NotFound(id.to_owned()))
    }

    /// One step of a request's lifecycle, recorded with its audit entry.
    pub async fn step(
        &self,
        id: &str,
        actor: &str,
        go: impl FnOnce(&mut Request, &Regime) -> Result<Transition, LifecycleError>,
    ) -> Result<(Request, Regime)> {
        let mut request = self.find(id).await?;
        let regime = self.regime(&request.regime)?;
        let t = go(&mut request, &regime)?;
        self.store.record(&request, &t, actor, Utc::now()).await?;
        Ok((request, regime))
    }

    /// Requests (open ones only unless `all`), nearest deadline first, as [`view`]s.
    pub async fn list(&self, all: bool) -> Result<Vec<Value>> {
        let mut rows = Vec::new();
        let mut regimes = std::collections::HashMap::new();
        for r in self.store.requests().await? {
            if !all && r.state.is_final() {
                continue;
            }
            if !regimes.contains_key(&r.regime) {
                regimes.insert(r.regime.clone(), self.regime(&r.regime)?);
            }
            let v = view(&r, &regimes[&r.regime]);
            rows.push((r.state.is_final(), v["deadline"]["due"].as_str().unwrap_or("9999").to_owned(), r.id.clone(), v));
        }
        rows.sort_by(|a, b| (a.0, &a.1, &a.2).cmp(&(b.0, &b.1, &b.2)));
        Ok(rows.into_iter().map(|r| r.3).collect())
    }
}

/// A refusal reason by its documented name.
pub fn refusal_reason(name: &str) -> Result<RefusalReason> {
    serde_json::from_value(json!(name)).map_err(|_| {
        RegisterError::Refused(format!(
            "the reason `{name}` is not one of not_in_scope, identity_not_verified, manifestly_unfounded, excessive, \
             rights_of_others, no_data_held, legal_exemption"
        ))
    })
}

/// A period of `months` or `days` (one of them).
pub fn period(months: Option<u32>, days: Option<u32>) -> Result<Period> {
    match (months, days) {
        (Some(m), None) if (1..=12).contains(&m) => Ok(Period::Months(m)),
        (None, Some(d)) if (1..=366).contains(&d) => Ok(Period::Days(d)),
        _ => Err(RegisterError::Refused("extend by months (1 to 12) or by days (1 to 366), one of them".into())),
    }
}

/// Checks a request's identity: not empty, not too long, no control characters; an email
/// address has an `@`.
pub fn check_identity(identity: &Identity) -> Result<()> {
    let value = &identity.value;
    if value.trim().is_empty() || value.len() > MAX_IDENTITY || value.chars().any(char::is_control) {
        return Err(RegisterError::Refused(format!(
            "the identity is empty, too long ({MAX_IDENTITY} bytes at most), or holds control characters"
        )));
    }
    if identity.kind == IdentityKind::Email && !value.contains('@') {
        return Err(RegisterError::Refused(format!("`{value}` is not an email address")));
    }
    Ok(())
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn uuid_like() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{:012x}", n & 0xffff_ffff_ffff)
}

/// A request as shown: its record, and its deadline with days left and flags while open.
pub fn view(request: &Request, regime: &Regime) -> Value {
    let mut v = serde_json::to_value(request).expect("a request serializes");
    if let Ok(d) = request.deadline(regime) {
        let open = !request.state.is_final();
        let now = today();
        v["deadline"] = json!({
            "start": d.start, "due": d.due, "tell_by": d.tell_by,
            "days_left": open.then(|| d.days_left(now)),
            "at_risk": open && d.at_risk(now),
            "overdue": open && d.overdue(now),
        });
    }
    v
}

/// Whether a request's identity is still being verified (a code may be sent).
pub fn verifying(request: &Request) -> bool {
    matches!(request.state, State::Received | State::VerifyingIdentity)
}
