//! The audit log: append-only entries, each naming who did what to which request, and
//! why, chained by hashes. An entry's hash is SHA-256 over its canonical serialization
//! (a JSON array of its fields in a fixed order, the previous entry's hash last), so that
//! changing, deleting or reordering any entry breaks the chain after it, and, given the
//! last known head, cutting entries off the end shows too. [`verify`] finds which.
//! Stored by [`crate::store`].

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The version tag that starts every canonical serialization.
const FORMAT: &str = "ferry-audit-v1";

/// What is to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub at: DateTime<Utc>,
    /// Who: a staff member's name or a service account.
    pub actor: String,
    pub request: String,
    /// What: `received`, or a transition such as `in_progress→extended`.
    pub action: String,
    pub reason: Option<String>,
    /// SHA-256 (hex) of the data the step produced (the request's record after it).
    pub data_hash: Option<String>,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1 for the first entry, then one more each time.
    pub seq: i64,
    /// When, to the microsecond.
    pub at: DateTime<Utc>,
    pub actor: String,
    pub request: String,
    pub action: String,
    pub reason: Option<String>,
    pub data_hash: Option<String>,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev: String,
    /// SHA-256 (hex) of [`Entry::canonical`].
    pub hash: String,
}

/// The last entry of a log as last seen: kept apart from the log (a report, another
/// system), it shows when entries were cut off the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Entry {
    /// The bytes its hash covers: every field but the hash, in a fixed order, the
    /// previous hash last.
    pub fn canonical(&self) -> String {
        serde_json::json!([
            FORMAT,
            self.seq,
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.actor,
            self.request,
            self.action,
            self.reason,
            self.data_hash,
            self.prev,
        ])
        .to_string()
    }

    /// The hash its contents give.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }

    /// This entry as a head.
    pub fn head(&self) -> Head {
        Head { seq: self.seq, hash: self.hash.clone() }
    }
}

/// The entry that follows `prev` (none for the first) with `new`'s contents. The time
/// is cut to microseconds, which every store keeps exactly.
pub fn chain(prev: Option<&Entry>, new: NewEntry) -> Entry {
    let mut entry = Entry {
        seq: prev.map_or(1, |p| p.seq + 1),
        at: new.at.trunc_subsecs(6),
        actor: new.actor,
        request: new.request,
        action: new.action,
        reason: new.reason,
        data_hash: new.data_hash,
        prev: prev.map_or_else(|| GENESIS.to_string(), |p| p.hash.clone()),
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    entry
}

/// SHA-256 (hex) of `data`, for [`NewEntry::data_hash`].
pub fn data_hash(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// What [`verify`] found wrong, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error("audit entry {seq} was changed: its contents no longer give its hash")]
    Changed { seq: i64 },
    #[error("audit entry {seq} is missing: the log goes from entry {before} to entry {after}")]
    Missing { seq: i64, before: i64, after: i64 },
    #[error("audit entry {seq} is out of place: it comes after entry {after}")]
    Reordered { seq: i64, after: i64 },
    #[error("audit entry {seq} does not follow the entry before it: its previous hash is not that entry's hash")]
    BrokenLink { seq: i64 },
    #[error("the audit log was cut short: it ends at entry {last}, but entry {head} was recorded as its head")]
    Truncated { last: i64, head: i64 },
    #[error("audit entry {seq} is not the one recorded as the head: it was rewritten")]
    HeadRewritten { seq: i64 },
    #[error("the record of request {request} was changed outside the audit log: it does not match the hash of its last entry ({seq})")]
    RecordChanged { request: String, seq: i64 },
}

/// Checks a whole log, in the order it is stored, from its first entry; with `head`,
/// also that the log still reaches it unchanged. Returns the log's head (none when
/// empty and no head was known).
pub fn verify(entries: &[Entry], head: Option<&Head>) -> Result<Option<Head>, AuditError> {
    let mut prev: Option<&Entry> = None;
    for (i, e) in entries.iter().enumerate() {
        let expected = prev.map_or(1, |p| p.seq + 1);
        if e.seq != expected {
            let later = entries[i + 1..].iter().any(|x| x.seq == expected);
            let before = prev.map_or(0, |p| p.seq);
            return Err(if e.seq < expected || later {
                AuditError::Reordered { seq: e.seq, after: before }
            } else {
                AuditError::Missing { seq: expected, before, after: e.seq }
            });
        }
        if e.compute_hash() != e.hash {
            return Err(AuditError::Changed { seq: e.seq });
        }
        let want_prev = prev.map_or(GENESIS, |p| p.hash.as_str());
        if e.prev != want_prev {
            return Err(AuditError::BrokenLink { seq: e.seq });
        }
        prev = Some(e);
    }
    if let Some(head) = head {
        match entries.iter().find(|e| e.seq == head.seq) {
            None => return Err(AuditError::Truncated { last: prev.map_or(0, |p| p.seq), head: head.seq }),
            Some(e) if e.hash != head.hash => return Err(AuditError::HeadRewritten { seq: e.seq }),
            Some(_) => {}
        }
    }
    Ok(prev.map(Entry::head))
}
