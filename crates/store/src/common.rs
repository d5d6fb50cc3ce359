//! What the SQLite and PostgreSQL stores share: how a job's columns are read back, which
//! rows go to the ledger, and how a lost lease is told.

use crate::{ItemRow, JobOptions, Lease, Outcome, Result, StoreError};
use chrono::{DateTime, Utc};
use ferry_core::Vertical;
use std::time::Duration;

/// Failures and warnings listed in a report, at most, per vertical.
pub(crate) const REPORT_LIST_LIMIT: i64 = 1000;

pub(crate) fn verticals(json: &str) -> Result<Vec<Vertical>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("a job's verticals: {e}")))
}

pub(crate) fn options(json: &str) -> Result<JobOptions> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("a job's options: {e}")))
}

pub(crate) fn vertical(name: &str) -> Result<Vertical> {
    name.parse().map_err(StoreError::Corrupt)
}

pub(crate) fn outcome(name: &str) -> Result<Outcome> {
    name.parse().map_err(StoreError::Corrupt)
}

/// Whether a row names where its item is at the destination, for a later job to find.
pub(crate) fn goes_to_ledger(r: &ItemRow) -> bool {
    matches!(r.outcome, Outcome::Transferred | Outcome::AlreadyPresent) && r.dest_id.is_some()
}

/// The rows of a page to write: an item listed twice in one page counts once, with the
/// outcome it got last (one statement may not change one row twice).
pub(crate) fn last_of_each(rows: &[ItemRow]) -> Vec<&ItemRow> {
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    let mut out: Vec<&ItemRow> = rows.iter().rev().filter(|r| seen.insert((r.vertical, r.source_id.as_str()))).collect();
    out.reverse();
    out
}

/// A lease's time to live in milliseconds, at least one.
pub(crate) fn ttl_millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// Why a write under `lease` was refused, from the job as it is now: `current` is its
/// fence, holder and lease end.
pub(crate) fn lease_lost(lease: &Lease, fence: i64, worker: Option<&str>, expires: Option<DateTime<Utc>>) -> StoreError {
    let what = if fence != lease.fence {
        match worker {
            Some(w) => format!("job {} was taken over by {w}", lease.job),
            None => format!("job {} was taken over by another worker", lease.job),
        }
    } else if expires.is_none() {
        format!("the lease of {} on job {} was released", lease.worker, lease.job)
    } else {
        let at = expires.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default();
        format!("the lease of {} on job {} expired at {at}", lease.worker, lease.job)
    };
    StoreError::LeaseLost(what)
}

/// A new job's id: 16 hex digits, the creation time in milliseconds (12) then 16 random
/// bits, so ids sort by creation. Two jobs created in one millisecond may draw the same
/// id; the stores then draw again ([`ID_DRAWS`] times at most).
pub(crate) fn new_job_id() -> String {
    let ms = Utc::now().timestamp_millis().max(0) as u64 & 0xffff_ffff_ffff;
    format!("{ms:012x}{:04x}", rand::random::<u16>())
}

pub(crate) const ID_DRAWS: usize = 8;
