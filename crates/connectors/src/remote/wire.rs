//! The messages of the ferry connector protocol (docs/connector-protocol.md), as JSON
//! travels: what a service answers and what ferry sends. The JSON Schemas in
//! `schemas/connector/` and the OpenAPI document are generated from these types.

use ferry_core::Reference;
use ferry_core::item::OriginalJson;
use ferry_core::{Content, Item, Record};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The protocol this ferry speaks: a service naming another major version is refused.
pub const PROTOCOL: &str = "ferry-connector/1";

/// `GET /`: what the service offers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Service {
    /// `ferry-connector/1`.
    pub protocol: String,
    /// The service's name, for messages and reports.
    #[serde(default)]
    pub name: String,
    /// Verticals it exports (`contacts`, `calendar`, `notes`, ...).
    #[serde(default)]
    pub exports: Vec<String>,
    /// Verticals it imports.
    #[serde(default)]
    pub imports: Vec<String>,
    /// Whether `containers/{id}/changes` lists what changed since a sync token.
    #[serde(default)]
    pub incremental: bool,
    /// The largest `limit` a page may ask for.
    #[serde(default = "default_page")]
    pub page_size_max: u32,
    /// The most items one `POST batch` may carry.
    #[serde(default = "default_batch")]
    pub batch_max: u32,
    /// The largest content stream it takes.
    #[serde(default)]
    pub content_max_bytes: Option<u64>,
    /// How it authenticates: `bearer`, `signature`.
    #[serde(default)]
    pub auth: Vec<String>,
    /// The OAuth 2.0 scopes it asks for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The request limits it enforces: ferry keeps every job under them, and pauses a job
    /// whose fixed quota is spent until the quota comes back.
    #[serde(default)]
    pub limits: Vec<PublishedLimit>,
}

/// A limit a service publishes: `units` requests per `per` (`1s`, `5m`, `1d`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PublishedLimit {
    pub units: u64,
    pub per: String,
    /// `user` (each account) or `app` (every account of ferry's client together).
    pub scope: crate::quota::Scope,
    /// `rolling` (refills as it is spent) or `fixed` (comes back whole when the window ends).
    #[serde(default)]
    pub window: crate::quota::Window,
    /// Only requests whose path (below the host) starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

fn default_page() -> u32 {
    100
}

fn default_batch() -> u32 {
    1
}

/// `GET containers?vertical=V`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Containers {
    pub containers: Vec<Container>,
}

/// An address book, calendar, folder or album of the service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Container {
    /// Opaque and stable from one export to the next.
    pub id: String,
    pub vertical: String,
    /// The container as a `/`-separated path; empty for the default one.
    #[serde(default)]
    pub path: String,
}

/// `GET containers/{id}/items` and `…/changes`: one page.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "ItemsPage")]
pub struct ItemsPage<I = WireItem> {
    pub items: Vec<I>,
    /// Items the service holds but cannot give, each with its reason.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// Resumes right after this page; `null` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// On the last page of an incremental service: lists later changes from here.
    #[serde(default)]
    pub sync_token: Option<String>,
}

/// An item the service could not give.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    pub id: String,
    pub reason: String,
}

/// One item, as exported (content with a `url`) and as put (content already uploaded).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WireItem {
    /// The item's id in the service that lists it.
    pub id: String,
    #[serde(default)]
    pub container: String,
    /// Changes whenever the item does.
    pub version: String,
    /// The typed record of one vertical (`schemas/record.schema.json`).
    pub record: Record,
    /// The standard-format original (a vCard, an iCalendar object), byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<OriginalJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<WireContent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<WireAttachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
}

/// A content stream: its bytes are `GET content/{sha256}` (or `url`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct WireContent {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    /// Where to read it, relative to the base or on the service's own origin (exports only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A further named content stream of an item (a note's attached file).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct WireAttachment {
    pub name: String,
    pub content: WireContent,
}

/// `PUT items/{vertical}/{id}`, and each item of `POST batch`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PutItem {
    /// The source the item comes from (its URI, without credentials): with the vertical
    /// and the id, the key under which a put is idempotent.
    pub source: String,
    #[serde(flatten)]
    pub item: WireItem,
}

/// What the service did with a put item.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PutResult {
    /// The item's id in the service.
    pub dest_id: String,
    /// False when the service already held this exact version.
    pub created: bool,
    /// Each field the service could not keep.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// `POST batch`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Batch {
    pub items: Vec<PutItem>,
}

/// The answer to `POST batch`: one result per item, in order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchResults {
    pub results: Vec<BatchResult>,
}

/// One item's result in a batch: put, or failed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BatchResult {
    Put(PutResult),
    Failed(ErrorBody),
}

/// `POST finish`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Finish {
    pub job: String,
    pub items: u64,
}

/// `PUT content/{sha256}`'s answer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

/// Every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    pub error: WireError,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WireError {
    /// `invalid_request`, `digest_mismatch`, `invalid_token`, `invalid_signature`,
    /// `insufficient_scope`, `not_found`, `conflict`, `sync_token_expired`, `too_large`,
    /// `unsupported`, `rate_limited`, `quota_exhausted`, `internal`, `unavailable`,
    /// `destination_full`.
    pub code: String,
    #[serde(default)]
    pub message: String,
    /// Seconds to wait before trying again (`rate_limited`, `quota_exhausted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// When a spent quota comes back (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<String>,
}

impl WireItem {
    /// The item ferry puts: content by hash (uploaded before), no URL.
    pub fn from_item(item: &Item, content: Option<WireContent>, attachments: Vec<WireAttachment>) -> WireItem {
        WireItem {
            id: item.id.clone(),
            container: item.container.clone(),
            version: item.version.clone(),
            record: item.record.clone(),
            original: item.original.as_ref().map(OriginalJson::from),
            content,
            attachments,
            references: item.references.clone(),
        }
    }
}

impl WireContent {
    /// An uploaded content's reference (its hash and size known).
    pub fn of(c: &Content, sha256: String, size: u64) -> WireContent {
        WireContent { sha256, size, media_type: c.media_type.clone(), url: None }
    }
}

/// Each message's JSON Schema, by file name under `schemas/connector/`.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let mut out = vec![
        ("service.schema.json", serde_json::to_value(schemars::schema_for!(Service)).unwrap()),
        ("containers.schema.json", serde_json::to_value(schemars::schema_for!(Containers)).unwrap()),
        ("items-page.schema.json", serde_json::to_value(schemars::schema_for!(ItemsPage)).unwrap()),
        ("put-item.schema.json", serde_json::to_value(schemars::schema_for!(PutItem)).unwrap()),
        ("put-result.schema.json", serde_json::to_value(schemars::schema_for!(PutResult)).unwrap()),
        ("batch.schema.json", serde_json::to_value(schemars::schema_for!(Batch)).unwrap()),
        ("batch-results.schema.json", serde_json::to_value(schemars::schema_for!(BatchResults)).unwrap()),
        ("finish.schema.json", serde_json::to_value(schemars::schema_for!(Finish)).unwrap()),
        ("stored.schema.json", serde_json::to_value(schemars::schema_for!(Stored)).unwrap()),
        ("error.schema.json", serde_json::to_value(schemars::schema_for!(ErrorBody)).unwrap()),
    ];
    for (name, schema) in &mut out {
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("$id".into(), format!("https://ferry.dev/schemas/connector/v1/{name}").into());
        }
    }
    out
}
