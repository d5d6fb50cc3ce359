//! The dataset map: a TOML file describing a controller's databases, which tables hold
//! a person's data, how they are reached from the person's identity, and what each
//! column is (its documentation, origin, legal basis and more). `docs/dataset-map.md`
//! describes the format; [`parse`] reads it, [`validate`] finds every problem at once,
//! [`graph`] works out how each table is reached.

pub mod graph;
pub mod parse;
pub mod validate;

pub use graph::{Reach, Reached, Step};
pub use parse::{MAX_MAP_BYTES, MapError, load, parse};
pub use validate::{Problem, validate};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A whole dataset map: one or more databases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetMap {
    /// The controller's databases, each a `[[database]]` section.
    #[serde(rename = "database", default)]
    pub databases: Vec<Database>,
}

/// One database: where it is and the tables in it that hold personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// The name the map and its reports use for this database.
    pub name: String,
    /// Where it is: `postgres://...`, `mysql://...` (MySQL or MariaDB) or `sqlite:...`;
    /// or `env:NAME`, the URL in environment variable NAME, to keep passwords out of the map.
    pub url: String,
    /// Its tables that hold personal data, each a `[[database.table]]` section.
    #[serde(rename = "table", default)]
    pub tables: Vec<Table>,
}

/// One table: how it links to a person, and its columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The table's name in the database (a PostgreSQL table outside the search path as
    /// `schema.table`).
    pub name: String,
    /// What the table holds, for the person reading the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Columns that identify the person directly: identity kind → column, e.g.
    /// `{ email = "email", customer_id = "id" }`. A table with identity columns is where
    /// ferry starts looking for a person.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<IdentityKind, String>,
    /// References to other tables of the same database: column → `table.column`, e.g.
    /// `{ customer_id = "customers.id" }`. Followed in both directions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, String>,
    /// A column holding when each row was recorded, for regimes with a look-back
    /// period (CCPA: the preceding 12 months).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// The table's columns that hold personal data, each a `[[database.table.column]]`.
    #[serde(rename = "column", default)]
    pub columns: Vec<Column>,
    /// The vertical the table's rows are of, if they fit a standard format (contacts as
    /// vCard, events as iCalendar): the response package then also holds the delivered
    /// rows in that format. A `[database.table.vertical]` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertical: Option<Vertical>,
}

/// Rows of a table that are of a vertical with a standard format, and which column holds
/// which standard field. Every field names one of the table's declared columns; only
/// the fields of the vertical's kind may be given. [`validate`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vertical {
    /// `contacts` (written as vCard 4.0, RFC 6350) or `events` (iCalendar, RFC 5545).
    pub kind: VerticalKind,
    /// Contacts and events: a unique identifier of the row (vCard and iCalendar UID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Contacts, required: the name as shown (vCard FN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Contacts: the family name (vCard N, first component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Contacts: the given name (vCard N, second component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Contacts: an email address (vCard EMAIL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Contacts: a telephone number (vCard TEL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Contacts: the organization (vCard ORG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Contacts: the street address (vCard ADR, street component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// Contacts: the town or city (vCard ADR, locality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// Contacts: the region, state or province (vCard ADR, region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Contacts: the postal code (vCard ADR, postal code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Contacts: the country (vCard ADR, country name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Contacts: a note (vCard NOTE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Events, required: the title (iCalendar SUMMARY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Events, required: when it starts (DTSTART), a date or a date and time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Events: when it ends (DTEND), of the same form as the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Events: where (LOCATION).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Events: a description (DESCRIPTION).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Events: the zone of date-times stored without an offset. Only `UTC` is known:
    /// they are then written in UTC (`...Z`); without it they are written as floating
    /// times (the same clock time in any zone), as stored. Date-times with an offset are
    /// always written in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A vertical with a standard format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerticalKind {
    /// People's contact details: `data/<database>/<table>.vcf`, vCard 4.0.
    #[default]
    Contacts,
    /// Things that happen at a time: `data/<database>/<table>.ics`, iCalendar.
    Events,
}

impl VerticalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerticalKind::Contacts => "contacts",
            VerticalKind::Events => "events",
        }
    }

    /// The standard fields of this kind, in the order the map documents them.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            VerticalKind::Contacts => &[
                "uid",
                "full_name",
                "family_name",
                "given_name",
                "email",
                "phone",
                "organization",
                "street",
                "locality",
                "region",
                "postal_code",
                "country",
                "note",
            ],
            VerticalKind::Events => &["uid", "summary", "start", "end", "location", "description"],
        }
    }

    /// The fields a vertical of this kind must map.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            VerticalKind::Contacts => &["full_name"],
            VerticalKind::Events => &["summary", "start"],
        }
    }

    /// The extension of its standard file.
    pub fn extension(self) -> &'static str {
        match self {
            VerticalKind::Contacts => "vcf",
            VerticalKind::Events => "ics",
        }
    }

    /// The media type of its standard file.
    pub fn media_type(self) -> &'static str {
        match self {
            VerticalKind::Contacts => "text/vcard",
            VerticalKind::Events => "text/calendar",
        }
    }
}

impl fmt::Display for VerticalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Vertical {
    /// Every standard field given, with its column, in [`VerticalKind::fields`] order of
    /// both kinds (fields of the other kind included, for [`validate`] to report).
    pub fn mapping(&self) -> Vec<(&'static str, &str)> {
        let all: [(&'static str, &Option<String>); 18] = [
            ("uid", &self.uid),
            ("full_name", &self.full_name),
            ("family_name", &self.family_name),
            ("given_name", &self.given_name),
            ("email", &self.email),
            ("phone", &self.phone),
            ("organization", &self.organization),
            ("street", &self.street),
            ("locality", &self.locality),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
            ("country", &self.country),
            ("note", &self.note),
            ("summary", &self.summary),
            ("start", &self.start),
            ("end", &self.end),
            ("location", &self.location),
            ("description", &self.description),
        ];
        all.into_iter().filter_map(|(f, c)| Some((f, c.as_deref()?))).collect()
    }

    /// The column holding standard field `field`, if one is given.
    pub fn column(&self, field: &str) -> Option<&str> {
        self.mapping().into_iter().find(|(f, _)| *f == field).map(|(_, c)| c)
    }

    /// Whether naive date-times are in UTC (`time_zone = "UTC"`).
    pub fn naive_utc(&self) -> bool {
        self.time_zone.as_deref().is_some_and(|z| z.eq_ignore_ascii_case("utc") || z == "Z" || z.eq_ignore_ascii_case("etc/utc"))
    }
}

/// One column of personal data and what the law needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The column's name in the table.
    pub name: String,
    /// What the column holds; it becomes the field's documentation in the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the data came from. Required: [`validate`] reports a column without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The legal basis of its processing (GDPR Article 6(1)). Required: [`validate`]
    /// reports a column without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// Whether it is processed by automated means; true unless said otherwise (data in
    /// a database is), false for data only kept on paper or handled by hand.
    #[serde(default = "yes")]
    pub automated: bool,
    /// Whether it holds other people's personal data (a message's recipients, a support
    /// agent's notes about third parties): such a column is withheld, not delivered.
    #[serde(default)]
    pub others_data: bool,
    /// The category of personal data (Article 15(1)(b), CCPA categories), e.g.
    /// `identifiers`, `commercial information`; the table's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Why it is processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Who receives it (recipients or categories of recipients).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// How long it is kept, or the criteria that decide it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    /// A decision based solely on automated processing, including profiling, that this
    /// column feeds (GDPR Article 22): what is decided, the logic involved, and its
    /// significance and consequences for the person (Article 15(1)(h)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_decision: Option<String>,
}

fn yes() -> bool {
    true
}

/// A kind of identifier by which a person is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Email,
    Phone,
    CustomerId,
    AccountId,
    Username,
}

/// Where data came from, as the EDPB guidelines on portability (WP 242) distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Actively and knowingly given by the person (a form, an upload, a message).
    Provided,
    /// Recorded from the person's use of the service (activity logs, location history).
    Observed,
    /// Created by the controller from other data (scores, segments, recommendations).
    Inferred,
}

/// The legal basis of processing (GDPR Article 6(1)(a)–(f)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

impl Origin {
    pub const ALL: [Origin; 3] = [Origin::Provided, Origin::Observed, Origin::Inferred];

    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Provided => "provided",
            Origin::Observed => "observed",
            Origin::Inferred => "inferred",
        }
    }
}

impl Basis {
    pub const ALL: [Basis; 6] =
        [Basis::Consent, Basis::Contract, Basis::LegalObligation, Basis::VitalInterests, Basis::PublicTask, Basis::LegitimateInterests];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::Contract => "contract",
            Basis::LegalObligation => "legal_obligation",
            Basis::VitalInterests => "vital_interests",
            Basis::PublicTask => "public_task",
            Basis::LegitimateInterests => "legitimate_interests",
        }
    }
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
            IdentityKind::CustomerId => "customer_id",
            IdentityKind::AccountId => "account_id",
            IdentityKind::Username => "username",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DatasetMap {
    /// The database named `name`.
    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.name == name)
    }
}

impl Database {
    /// Its URL, read from the environment for `env:NAME`.
    pub fn resolve_url(&self) -> Result<String, String> {
        self.resolve_url_with(|var| std::env::var(var).ok())
    }

    /// Its URL, with `env:NAME` looked up by `lookup`.
    pub fn resolve_url_with(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        match self.url.strip_prefix("env:") {
            None => Ok(self.url.clone()),
            Some(var) => lookup(var).ok_or_else(|| format!("its url names the environment variable {var}, which is not set")),
        }
    }

    /// Its tables by name (the first, where two share one).
    pub fn by_name(&self) -> BTreeMap<&str, &Table> {
        let mut out = BTreeMap::new();
        for t in &self.tables {
            out.entry(t.name.as_str()).or_insert(t);
        }
        out
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Table {
    /// The declared column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether `name` is a column the map knows in this table: declared, an identity
    /// column, a link column or the `recorded_at` column.
    pub fn knows_column(&self, name: &str) -> bool {
        self.column(name).is_some()
            || self.identity.values().any(|c| c == name)
            || self.links.contains_key(name)
            || self.recorded_at.as_deref() == Some(name)
    }

    /// The columns ferry searches or joins on: identity and link columns, sorted, once each.
    pub fn search_columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = self.identity.values().map(String::as_str).chain(self.links.keys().map(String::as_str)).collect();
        cols.sort_unstable();
        cols.dedup();
        cols
    }
}

/// Splits a link target `table.column` at its last dot (a table may be `schema.table`).
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    let (table, column) = target.rsplit_once('.')?;
    (!table.is_empty() && !column.is_empty()).then_some((table, column))
}

/// The JSON Schema of the dataset map file, as checked in at `schemas/dataset-map.schema.json`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(DatasetMap)).expect("a schema is JSON")
}
