//! The API's views of requests, typed for the OpenAPI document. Each is read from what
//! [`ferry_requests::register::view`] gives (one shape for the command line's `--json`
//! and the API).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How and when a person's identity was verified.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerificationView {
    pub how: String,
    pub on: chrono::NaiveDate,
}

/// The person, as the request names them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdentityView {
    /// `email`, `phone`, `customer_id`, `account_id` or `username`.
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<VerificationView>,
}

/// The request's deadline; days left and the flags only while it is open.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    pub start: chrono::NaiveDate,
    /// The last day to answer, extensions included.
    pub due: chrono::NaiveDate,
    /// The last day to tell the person of an extension.
    pub tell_by: chrono::NaiveDate,
    pub days_left: Option<i64>,
    pub at_risk: bool,
    pub overdue: bool,
}

/// An extension of the deadline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExtensionView {
    /// `{"months": N}` or `{"days": N}`.
    #[schema(value_type = Object)]
    pub by: serde_json::Value,
    pub reason: String,
    pub on: chrono::NaiveDate,
}

/// A refusal: the reason from the documented list, the company's words, and the
/// statement of the right to complain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefusalView {
    pub reason: String,
    pub details: String,
    pub complaint: String,
    pub on: chrono::NaiveDate,
}

/// A request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub regime: String,
    /// `portability`, `access` or `both`.
    pub kind: String,
    pub received: chrono::NaiveDate,
    pub identity: IdentityView,
    /// `received`, `verifying_identity`, `in_progress`, `extended`, `ready_for_review`,
    /// `delivered`, `refused` or `withdrawn`.
    pub state: String,
    #[serde(default)]
    pub extensions: Vec<ExtensionView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<RefusalView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<chrono::NaiveDate>,
    /// The earlier open request of the same person this one repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DeadlineView>,
}

impl RequestView {
    pub fn of(request: &ferry_requests::lifecycle::Request, regime: &ferry_requests::Regime) -> RequestView {
        serde_json::from_value(ferry_requests::register::view(request, regime)).expect("a request's view has this shape")
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub request: String,
    pub action: String,
    pub reason: Option<String>,
    pub hash: String,
}

impl From<&ferry_requests::audit::Entry> for AuditEntryView {
    fn from(e: &ferry_requests::audit::Entry) -> AuditEntryView {
        AuditEntryView {
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            request: e.request.clone(),
            action: e.action.clone(),
            reason: e.reason.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// A request with its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestDetail {
    pub request: RequestView,
    pub history: Vec<AuditEntryView>,
    /// The answer's parts as drawn up (for review) or delivered.
    pub answer: Vec<AnswerPart>,
}

/// One part of a request's answer as it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerPart {
    /// `portability` or `access`.
    pub part: String,
    /// `draft` (plain, for review) or `sealed` (encrypted, for the person).
    pub stage: String,
    /// The sealed file's name, for its download link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A new request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// `gdpr` (the default), `uk-gdpr`, `ccpa`, or a company's own regime.
    #[serde(default)]
    pub regime: Option<String>,
    /// `portability`, `access` or `both` (the default, when it is unclear).
    #[serde(default)]
    pub kind: Option<String>,
    /// How the person is named: `email` (the default), `phone`, `customer_id`,
    /// `account_id` or `username`.
    #[serde(default)]
    pub identity_kind: Option<String>,
    pub identity: String,
    /// The day it was received (default: today).
    #[serde(default)]
    pub received: Option<chrono::NaiveDate>,
}

/// A verification step: a note of how staff confirmed the identity, or a code to send
/// (to `to`, else the request's email address), or the code the person gave back.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    pub how: Option<String>,
    #[serde(default)]
    pub send_code: bool,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// An extension: by months (1 to 12) or days (1 to 366), with the reason the person is told.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    #[serde(default)]
    pub months: Option<u32>,
    #[serde(default)]
    pub days: Option<u32>,
    pub reason: String,
}

/// Drawing up the answer for review.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The day the answer is drawn up as of (default: today); the look-back counts from it.
    #[serde(default)]
    pub as_of: Option<chrono::NaiveDate>,
}

/// A part of an answer as drawn up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrawnView {
    pub part: String,
    pub rows: u64,
    pub tables: usize,
    pub empty: bool,
    pub left_out: usize,
    pub withheld: usize,
    pub rows_withheld: usize,
}

/// A request and its answer as drawn up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrawnUp {
    pub request: RequestView,
    pub parts: Vec<DrawnView>,
}

/// A row to withhold on review, with the reason.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithholdBody {
    pub database: String,
    pub table: String,
    /// The row's id, as the preview gives it.
    pub row: String,
    pub reason: String,
}

/// Rows of the answer as drawn up, for review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewView {
    pub tables: Vec<PreviewTable>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewTable {
    pub part: String,
    pub database: String,
    pub table: String,
    pub rows: u64,
    pub fields: Vec<String>,
    /// The first rows, each with its id.
    pub shown: Vec<PreviewRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewRow {
    pub id: String,
    #[schema(value_type = Object)]
    pub values: serde_json::Value,
}

/// Sending back for more work, or approving (`send_back` unset).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    #[serde(default)]
    pub send_back: Option<String>,
}

/// Delivering: sealed for the person's age public keys, or with a passphrase given (12
/// characters at least) or made here and shown once, to tell the person another way.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverBody {
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub passphrase: Option<String>,
}

/// A delivered answer: its links, and the passphrase when this server made it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivered {
    pub request: RequestView,
    pub links: Vec<AnswerLink>,
    /// Shown this once: tell it to the person through another channel than the link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<String>,
}

/// A signed, expiring link to one sealed file of an answer; each download is audited.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerLink {
    pub file: String,
    pub url: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A refusal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    /// not_in_scope, identity_not_verified, manifestly_unfounded, excessive,
    /// rights_of_others, no_data_held or legal_exemption.
    pub reason: String,
    #[serde(default)]
    pub details: String,
}

/// A direct transfer to another company's ferry (its address, `https://…`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub to: String,
}

/// What the receiving ferry said of each part sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Transferred {
    pub request: RequestView,
    pub receipts: Vec<ImportReceipt>,
}

/// A package received through the import API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReceipt {
    pub id: String,
    pub sender: String,
    pub bytes: u64,
    pub sha256: String,
    /// The files of the package, each checked against its manifest's SHA-256.
    pub files: usize,
    pub rows: u64,
    pub received_at: chrono::DateTime<chrono::Utc>,
}
