use chrono::{DateTime, Utc};
use ferry_core::Vertical;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A transfer job's life: created, then (for OAuth) authorizing, queued, running; it ends
/// completed, completed_with_errors, failed or cancelled, or rests paused until resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Created,
    Authorizing,
    Queued,
    Running,
    Paused,
    Completed,
    CompletedWithErrors,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Created => "created",
            JobState::Authorizing => "authorizing",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Completed => "completed",
            JobState::CompletedWithErrors => "completed_with_errors",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, JobState::Completed | JobState::CompletedWithErrors | JobState::Cancelled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.into())).map_err(|_| format!("unknown job state `{s}`"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOptions {
    pub dry_run: bool,
    pub incremental: bool,
}

/// What to create a job from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobSpec {
    pub source: String,
    pub destination: String,
    pub verticals: Vec<Vertical>,
    pub options: JobOptions,
    /// Whom the job belongs to (an account of the hosted server); none for the CLI's jobs.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub spec: JobSpec,
    pub state: JobState,
    pub reason: Option<String>,
    /// Who holds the job's lease, as the holder described itself (such as
    /// `ferry worker 1234 on host`); none when no worker holds it.
    pub worker: Option<String>,
    /// When that lease ends unless its holder renews it ([`crate::JobStore::heartbeat`]).
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Someone asked for the job to be cancelled; its worker learns it from its next
    /// heartbeat.
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Job {
    /// Key of the source/destination pair, under which the ledger remembers items.
    pub fn pair(&self) -> String {
        format!("{} -> {}", self.spec.source, self.spec.destination)
    }
}

/// A worker's hold on a job, from [`crate::JobStore::acquire`] or
/// [`crate::JobStore::claim`], until `expires_at` unless renewed by
/// [`crate::JobStore::heartbeat`]. Every take of a job gets a higher `fence`: a write made
/// under a lease that is no longer the job's latest one, or that has expired, is refused
/// ([`crate::StoreError::LeaseLost`]), so a worker that was stalled past its lease cannot
/// overwrite what the job's next worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job: String,
    /// The holder, as it described itself.
    pub worker: String,
    pub fence: i64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorRow {
    pub cursor: Option<String>,
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Transferred,
    AlreadyPresent,
    Skipped,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Transferred => "transferred",
            Outcome::AlreadyPresent => "already_present",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.into())).map_err(|_| format!("unknown outcome `{s}`"))
    }
}

/// One item's result, as the engine records it.
#[derive(Debug, Clone)]
pub struct ItemRow {
    /// The item's vertical: the rows of one page (of one stream) may be of several.
    pub vertical: Vertical,
    pub source_id: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub version: String,
    pub dest_id: Option<String>,
    pub sha256: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub version: String,
    pub sha256: Option<String>,
    pub dest_id: String,
}

/// The end-of-job proof, per vertical.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub job_id: String,
    pub state: Option<JobState>,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub verticals: BTreeMap<Vertical, VerticalReport>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerticalReport {
    pub found: u64,
    pub transferred: u64,
    pub already_present: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Each failed item with its reason (and skipped ones, with why).
    pub failures: Vec<ItemProblem>,
    /// Fields the destination could not represent.
    pub fidelity_warnings: Vec<ItemProblem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ItemProblem {
    pub item: String,
    pub reason: String,
}

impl Report {
    pub fn totals(&self) -> VerticalReport {
        let mut t = VerticalReport::default();
        for v in self.verticals.values() {
            t.found += v.found;
            t.transferred += v.transferred;
            t.already_present += v.already_present;
            t.skipped += v.skipped;
            t.failed += v.failed;
        }
        t
    }
}

/// An operator's API token as the store keeps it: never the token itself, only its
/// SHA-256 (the token is 256 random bits, so a plain hash cannot be reversed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Set when revoked: the token is refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An account connected through OAuth 2.0: its token set is kept sealed (the store holds
/// only the nonce and ciphertext), under its owner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub id: String,
    /// Whose it is (a person or operator of the server; none for the command line's).
    pub owner: Option<String>,
    /// The provider it was connected with, as the configuration names it.
    pub provider: String,
    /// How to show it (the provider's name for the person, when it says).
    pub label: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub nonce: Vec<u8>,
    #[serde(skip)]
    pub ciphertext: Vec<u8>,
}
