//! `health`: samples (steps, heart rate, weight, sleep, blood pressure...), workouts with
//! their routes, daily summaries, clinical records and the profile a health app keeps.
//! One item is one sample, workout, daily summary or clinical record. Its standard form
//! is HL7 FHIR R4: an `Observation` (with its LOINC code and UCUM unit where ferry knows
//! the mapping, the source's own type kept as a coding always), a `Patient` for the
//! profile, a `DocumentReference` for a clinical record (whose FHIR resource, as the
//! provider sent it, is the item's attached file, as a workout's route is its GPX).
//!
//! In a package, each container (one per type: `StepCount`, `Workouts`...) is one FHIR
//! `Bundle` of type `batch` (`health/StepCount.json`), each entry a `PUT` of its resource
//! under a stable id: a FHIR server takes the file as it is, and taking it twice changes
//! nothing. In a folder, each item is its resource's own file, which also carries the
//! record (extension `urn:ferry:record`) so that ferry reads it back exactly.

pub mod apple_health;
mod fhir;

use crate::def::{Codec, Def, DirFile, Per, StandardForm};
use crate::found::Typed;
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, NaiveDate};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Reference, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use apple_health::read_apple_health;

pub const HEALTH: Vertical = Vertical::new("health");

pub const DEF: Def = Def {
    vertical: HEALTH,
    record_type: "health",
    schema: || serde_json::to_value(schemars::schema_for!(Health)).expect("a schema is JSON"),
    records_path: "health/health.jsonl",
    standard: Some(StandardForm { media_type: "application/fhir+json", extension: "json", per: Per::Framed(&fhir::BUNDLE) }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &[],
    item_files: &[],
};

/// One record a health reader found.
pub type Found = crate::found::Found<Health>;

/// One sample, workout, daily summary, clinical record or profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    pub kind: Kind,
    /// The type as the source names it: `HKQuantityTypeIdentifierStepCount`,
    /// `HKCorrelationTypeIdentifierBloodPressure`, a workout's activity type
    /// (`HKWorkoutActivityTypeRunning`), `ActivitySummary`, a clinical record's type.
    pub data_type: String,
    /// The value as the source wrote it: a number's exact digits (`72`, `0.97`), or a
    /// category's value (`HKCategoryValueSleepAnalysisAsleepDeep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The unit as the source names it (`count/min`; Apple's `%` is a fraction, 0.97).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    /// When the source made the record (a clinical record: when it was received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<FixedOffset>>,
    /// A daily summary's day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// The app or device that recorded it, as the source names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// The device, as the source describes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// A workout's duration, distance and energy, each with its unit, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_unit: Option<String>,
    /// What the record is made of: a blood pressure's two samples, a summary's values, a
    /// workout's statistics, events and segments, a heart rate variability's beats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// The files holding the rest of it, by the path the source gives (without a leading
    /// `/`): a workout's route (GPX), a clinical record's FHIR resource (JSON). They are
    /// the item's attached files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// A clinical record's id at its provider, the provider's URL of it, its FHIR version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhir_version: Option<String>,
    /// The source's metadata entries (`HKMetadataKeyHeartRateMotionContext`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// What ferry does not model (or could not read as its type), by name, as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Sample,
    Workout,
    /// A daily summary (Apple's activity rings).
    Summary,
    Clinical,
    /// The characteristics a health app keeps of its user (date of birth, sex, blood type).
    Profile,
}

/// A part of a record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Part {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// The value (a statistic's sum, an event's or a segment's duration), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    /// A time as written where it is not a whole date (a beat's `7:42:13.52 PM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The id of the item this part also is (a blood pressure's samples are items too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_id: Option<String>,
    /// Its metadata and the attributes ferry does not model, as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A value of the record (a blood pressure's systolic, a summary's exercise minutes).
    #[default]
    Component,
    /// A workout's statistic of one type (sum, average, minimum, maximum).
    Statistic,
    /// A workout's event (a pause, a lap, a segment marker).
    Event,
    /// A part of a workout with its own activity (a multisport leg).
    Segment,
    /// One instantaneous heart rate of a heart rate variability sample.
    Beat,
}

impl Typed for Health {
    const VERTICAL: Vertical = HEALTH;
    const RECORD_TYPE: &'static str = "health";

    fn references(&self) -> Vec<Reference> {
        self.parts
            .iter()
            .filter_map(|p| p.sample_id.clone())
            .map(|id| Reference { rel: "component".into(), vertical: HEALTH, id })
            .collect()
    }
}

impl Health {
    pub fn of(item: &Item) -> Result<Health, String> {
        match &item.record {
            Record::Other(r) if r.vertical == HEALTH => r.typed(),
            _ => Err(format!("{} is not a health item", item.id)),
        }
    }
}

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("health") && f.extension().as_deref() == Some("json")
}

const FHIR_JSON: &str = "application/fhir+json";

/// The item's FHIR resource: the file it was read from, if it was one, else made from
/// its record.
fn write(item: &Item) -> Result<Standard, String> {
    if let Some(o) = &item.original
        && o.media_type == FHIR_JSON
        && let Ok(text) = std::str::from_utf8(&o.bytes)
    {
        return Ok(Standard { text: text.to_owned(), warnings: vec![] });
    }
    let h = Health::of(item)?;
    Ok(Standard { text: fhir::resource_file(&h, &item.id), warnings: vec![] })
}

/// The most a resource file may hold.
const MAX_FILE: usize = 16 << 20;

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: HEALTH, id: id.to_owned(), location: id.to_owned(), reason };
    if bytes.len() > MAX_FILE {
        return Err(err(format!("larger than {MAX_FILE} bytes: not one FHIR resource")));
    }
    let health = fhir::read_file(bytes).map_err(err)?;
    let record = OtherRecord::new(HEALTH, "health", &health).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: container.to_owned(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: FHIR_JSON.into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: health.references(),
        source_warnings: vec![],
    })
}

#[cfg(test)]
mod tests;
