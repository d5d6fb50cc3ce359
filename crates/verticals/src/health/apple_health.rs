//! Apple Health's `export.xml` (in `apple_health_export/` of the Health app's
//! "Export All Health Data"), which reaches gigabytes: read as a stream, one top-level
//! element at a time, in bounded memory.
//!
//! - `Record`: a sample (quantity or category), with its `MetadataEntry` and a heart rate
//!   variability's `InstantaneousBeatsPerMinute` beats.
//! - `Correlation` (a blood pressure, a food): one item, its samples its parts. Apple's
//!   DTD says that "any Records that appear as children of a correlation also appear as
//!   top-level records": those are items of their own, read once, where they stand at the
//!   top; the correlation's parts point at them by id (the same id: it is made from the
//!   same attributes), so nothing is counted twice.
//! - `Workout`: its totals, `WorkoutStatistics` (iOS 15 and later give the distance and the
//!   energy only there), `WorkoutEvent`, `WorkoutActivity` and `WorkoutRoute`, whose
//!   `FileReference` names its GPX under `workout-routes/`: an attached file.
//! - `ActivitySummary`: one item per day.
//! - `ClinicalRecord`: its FHIR resource, under `clinical-records/`, is an attached file.
//! - `Me`: the profile.
//! - Another element (`Audiogram`, `VisionPrescription`...): an item of its own type, its
//!   children its parts.
//!
//! The DTD at the top (malformed in some iOS versions) is skipped unread.
//! `export_cda.xml`, beside it, is the same data as a CDA document: not read.

use super::{Found, Health, Kind, Part, Role};
use crate::found::hash_id;
use crate::xml::{self, Limits, Node, Step};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::collections::BTreeMap;
use std::io::Read;

/// Reads Apple Health's `export.xml` from `input`, handing each record to `each` as soon
/// as it is complete (`each` returns false to stop). An element that cannot be read is
/// handed as Err(reason) and reading goes on; a file that is not an export, is not
/// well-formed XML, or is cut short, is the function's Err (after what came before it).
pub fn read_apple_health(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    read_with(input, Limits::default(), each)
}

pub(super) fn read_with(input: impl Read, limits: Limits, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut root: Option<String> = None;
    xml::walk(input, limits, &|parent, _| parent.len() == 1, &mut |step| match step {
        Step::Open(path) if path.len() == 1 => {
            root = Some(path[0].clone());
            path[0] == "HealthData"
        }
        Step::Open(..) | Step::Close(_) => true,
        Step::Element(Err(e)) => each(Err(e)),
        Step::Element(Ok((node, warnings))) => match element(&node, warnings) {
            Some(found) => each(found),
            None => true,
        },
    })?;
    match root.as_deref() {
        Some("HealthData") => Ok(()),
        Some(other) => Err(format!("not an Apple Health export: its root element is <{other}>, not <HealthData>")),
        None => Err("not an Apple Health export: no <HealthData> element".into()),
    }
}

/// Apple's dates: `2024-01-02 08:00:00 +0100`.
fn date(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S %z").ok()
}

/// What a top-level element is, as an item; `None` for the export's own date.
fn element(node: &Node, mut warnings: Vec<String>) -> Option<Result<Found, String>> {
    let mut h = Health::default();
    let container;
    match node.name.as_str() {
        "ExportDate" => return None,
        "Record" => {
            h = record(node, &mut warnings);
            container = type_container(&h.data_type);
        }
        "Correlation" => {
            h = record(node, &mut warnings);
            container = type_container(&h.data_type);
            for child in &node.children {
                match child.name.as_str() {
                    "MetadataEntry" => {}
                    "Record" => {
                        let inner = record(child, &mut Vec::new());
                        h.parts.push(Part {
                            role: Role::Component,
                            sample_id: Some(element_id(child)),
                            data_type: Some(inner.data_type),
                            value: inner.value,
                            unit: inner.unit,
                            start: inner.start,
                            end: inner.end,
                            ..Default::default()
                        });
                    }
                    other => warnings.push(format!("<{other}> in a <Correlation> is not read")),
                }
            }
        }
        "Workout" => {
            h = workout(node, &mut warnings);
            container = "Workouts".into();
        }
        "ActivitySummary" => {
            h.kind = Kind::Summary;
            h.data_type = "ActivitySummary".into();
            let unit = node.attr("activeEnergyBurnedUnit");
            for (k, v) in &node.attrs {
                match k.as_str() {
                    "dateComponents" => match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
                        Ok(d) => h.day = Some(d),
                        Err(_) => keep(&mut h.extra, &mut warnings, k, v),
                    },
                    "activeEnergyBurnedUnit" => {}
                    _ => h.parts.push(Part {
                        data_type: Some(k.clone()),
                        value: Some(v.clone()),
                        unit: k.starts_with("activeEnergyBurned").then(|| unit.map(str::to_owned)).flatten(),
                        ..Default::default()
                    }),
                }
            }
            children_as_parts(node, &mut h, &mut warnings);
            container = "ActivitySummaries".into();
            // a day has one summary: its id is the day's (an export made later, with the
            // day's rings grown, gives the same item, changed)
            let day = node.attr("dateComponents").unwrap_or_default();
            return Some(Ok(Found { id: hash_id(&["ActivitySummary", day]), container, record: h, files: vec![], warnings }));
        }
        "ClinicalRecord" => {
            h.kind = Kind::Clinical;
            for (k, v) in &node.attrs {
                match k.as_str() {
                    "type" => h.data_type = v.clone(),
                    "identifier" => h.identifier = Some(v.clone()),
                    "sourceName" => h.source = Some(v.clone()),
                    "sourceURL" => h.source_url = Some(v.clone()),
                    "fhirVersion" => h.fhir_version = Some(v.clone()),
                    "receivedDate" => match date(v) {
                        Some(d) => h.created = Some(d),
                        None => keep(&mut h.extra, &mut warnings, k, v),
                    },
                    "resourceFilePath" => h.files.push(file_path(v)),
                    _ => keep(&mut h.extra, &mut warnings, k, v),
                }
            }
            children_as_parts(node, &mut h, &mut warnings);
            container = "ClinicalRecords".into();
        }
        "Me" => {
            h.kind = Kind::Profile;
            h.data_type = "Me".into();
            for (k, v) in &node.attrs {
                h.parts.push(Part { data_type: Some(k.clone()), value: Some(v.clone()), ..Default::default() });
            }
            container = "Profile".into();
            return Some(Ok(Found { id: hash_id(&["Me"]), container, record: h, files: vec![], warnings }));
        }
        other => {
            // an element ferry does not model: an item of its own type, nothing dropped
            h = record(node, &mut warnings);
            if h.data_type.is_empty() {
                h.data_type = other.to_owned();
            }
            children_as_parts(node, &mut h, &mut warnings);
            container = other.to_owned();
        }
    }
    if h.data_type.is_empty() {
        return Some(Err(format!("a <{}> without its type (at its start {:?})", node.name, node.attr("startDate"))));
    }
    let files = h.files.clone();
    Some(Ok(Found { id: element_id(node), container, record: h, files, warnings }))
}

/// An element's id: a hash of its name and its attributes (sorted), which identify it:
/// a correlation's sample has the same id as the top-level record it repeats.
fn element_id(node: &Node) -> String {
    let mut attrs: Vec<String> = node.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    attrs.sort();
    let mut parts = vec![node.name.as_str()];
    parts.extend(attrs.iter().map(String::as_str));
    hash_id(&parts)
}

/// The container of a type: its name without Apple's prefix (`StepCount`).
fn type_container(t: &str) -> String {
    for prefix in ["HKQuantityTypeIdentifier", "HKCategoryTypeIdentifier", "HKCorrelationTypeIdentifier", "HKDataType"] {
        if let Some(rest) = t.strip_prefix(prefix).filter(|r| !r.is_empty()) {
            return rest.to_owned();
        }
    }
    t.to_owned()
}

/// A path Apple gives from the export's folder (`/workout-routes/route_1.gpx`), relative.
fn file_path(p: &str) -> String {
    p.trim().trim_start_matches('/').to_owned()
}

fn keep(extra: &mut BTreeMap<String, String>, warnings: &mut Vec<String>, k: &str, v: &str) {
    warnings.push(format!("{k} `{v}` is not a value ferry reads: kept as written"));
    extra.insert(k.to_owned(), v.to_owned());
}

/// A `Record`'s (or a `Correlation`'s) attributes and its metadata.
fn record(node: &Node, warnings: &mut Vec<String>) -> Health {
    let mut h = Health::default();
    for (k, v) in &node.attrs {
        match k.as_str() {
            "type" => h.data_type = v.clone(),
            "value" => h.value = Some(v.clone()),
            "unit" => h.unit = Some(v.clone()),
            "sourceName" => h.source = Some(v.clone()),
            "sourceVersion" => h.source_version = Some(v.clone()),
            "device" => h.device = Some(v.clone()),
            "creationDate" | "startDate" | "endDate" => match date(v) {
                Some(d) if k == "creationDate" => h.created = Some(d),
                Some(d) if k == "startDate" => h.start = Some(d),
                Some(d) => h.end = Some(d),
                None => keep(&mut h.extra, warnings, k, v),
            },
            _ => {
                h.extra.insert(k.clone(), v.clone());
            }
        }
    }
    for child in &node.children {
        match child.name.as_str() {
            "MetadataEntry" => metadata(child, &mut h.metadata, warnings),
            "HeartRateVariabilityMetadataList" => {
                for beat in &child.children {
                    h.parts.push(Part {
                        role: Role::Beat,
                        data_type: Some(beat.name.clone()),
                        value: beat.attr("bpm").map(str::to_owned),
                        unit: Some("count/min".into()),
                        time: beat.attr("time").map(str::to_owned),
                        ..Default::default()
                    });
                }
            }
            // a correlation's samples, read by its caller; another element's children
            "Record" => {}
            other if node.name == "Record" => warnings.push(format!("<{other}> in a <Record> is not read")),
            _ => {}
        }
    }
    h
}

fn metadata(entry: &Node, into: &mut BTreeMap<String, String>, warnings: &mut Vec<String>) {
    match (entry.attr("key"), entry.attr("value")) {
        (Some(k), Some(v)) => {
            if let Some(old) = into.insert(k.to_owned(), v.to_owned())
                && old != v
            {
                warnings.push(format!("metadata {k} given twice: `{v}` kept, `{old}` not"));
            }
        }
        _ => warnings.push("a <MetadataEntry> without its key or value".into()),
    }
}

/// The children of an element ferry does not model, as its parts (their attributes kept).
fn children_as_parts(node: &Node, h: &mut Health, warnings: &mut Vec<String>) {
    for child in &node.children {
        if child.name == "MetadataEntry" {
            metadata(child, &mut h.metadata, warnings);
            continue;
        }
        let mut part = Part { data_type: Some(child.name.clone()), ..Default::default() };
        for (k, v) in &child.attrs {
            part.metadata.insert(k.clone(), v.clone());
        }
        if !child.children.is_empty() {
            warnings.push(format!("what <{}> holds in <{}> is not read", child.name, node.name));
        }
        h.parts.push(part);
    }
}

fn workout(node: &Node, warnings: &mut Vec<String>) -> Health {
    let mut h = Health { kind: Kind::Workout, ..Default::default() };
    for (k, v) in &node.attrs {
        let v = v.clone();
        match k.as_str() {
            "workoutActivityType" => h.data_type = v,
            "duration" => h.duration = Some(v),
            "durationUnit" => h.duration_unit = Some(v),
            "totalDistance" => h.distance = Some(v),
            "totalDistanceUnit" => h.distance_unit = Some(v),
            "totalEnergyBurned" => h.energy = Some(v),
            "totalEnergyBurnedUnit" => h.energy_unit = Some(v),
            "sourceName" => h.source = Some(v),
            "sourceVersion" => h.source_version = Some(v),
            "device" => h.device = Some(v),
            "creationDate" | "startDate" | "endDate" => match date(&v) {
                Some(d) if k == "creationDate" => h.created = Some(d),
                Some(d) if k == "startDate" => h.start = Some(d),
                Some(d) => h.end = Some(d),
                None => keep(&mut h.extra, warnings, k, &v),
            },
            _ => {
                h.extra.insert(k.clone(), v);
            }
        }
    }
    for child in &node.children {
        let attr = |k: &str| child.attr(k).map(str::to_owned);
        let when = |k: &str| child.attr(k).and_then(date);
        match child.name.as_str() {
            "MetadataEntry" => metadata(child, &mut h.metadata, warnings),
            "WorkoutStatistics" => {
                let t = attr("type");
                let sum = attr("sum");
                // iOS 15 and later give a workout's distance and energy only here
                if let (Some(t), Some(s)) = (&t, &sum) {
                    if h.distance.is_none() && t.starts_with("HKQuantityTypeIdentifierDistance") {
                        (h.distance, h.distance_unit) = (Some(s.clone()), attr("unit"));
                    }
                    if h.energy.is_none() && t == "HKQuantityTypeIdentifierActiveEnergyBurned" {
                        (h.energy, h.energy_unit) = (Some(s.clone()), attr("unit"));
                    }
                }
                h.parts.push(Part {
                    role: Role::Statistic,
                    data_type: t,
                    value: sum,
                    unit: attr("unit"),
                    average: attr("average"),
                    minimum: attr("minimum"),
                    maximum: attr("maximum"),
                    start: when("startDate"),
                    end: when("endDate"),
                    ..Default::default()
                });
            }
            "WorkoutEvent" | "WorkoutActivity" => {
                let mut meta = BTreeMap::new();
                for m in child.children("MetadataEntry") {
                    metadata(m, &mut meta, warnings);
                }
                for (k, v) in &child.attrs {
                    if !matches!(k.as_str(), "type" | "date" | "startDate" | "endDate" | "duration" | "durationUnit") {
                        meta.insert(k.clone(), v.clone());
                    }
                }
                let event = child.name == "WorkoutEvent";
                h.parts.push(Part {
                    role: if event { Role::Event } else { Role::Segment },
                    data_type: attr("type").or_else(|| (!event).then(|| "WorkoutActivity".into())),
                    value: attr("duration"),
                    unit: attr("durationUnit"),
                    start: when(if event { "date" } else { "startDate" }),
                    end: when("endDate"),
                    metadata: meta,
                    ..Default::default()
                });
                if child.children.iter().any(|c| c.name != "MetadataEntry") {
                    warnings.push(format!("what <{}> holds besides its metadata is not read", child.name));
                }
            }
            "WorkoutRoute" => {
                for c in &child.children {
                    match c.name.as_str() {
                        "FileReference" => match c.attr("path") {
                            Some(p) if !p.trim().is_empty() => h.files.push(file_path(p)),
                            _ => warnings.push("a route's <FileReference> without its path".into()),
                        },
                        "MetadataEntry" => {
                            if let (Some(k), Some(v)) = (c.attr("key"), c.attr("value")) {
                                h.metadata.insert(format!("WorkoutRoute/{k}"), v.to_owned());
                            }
                        }
                        other => warnings.push(format!("<{other}> in a <WorkoutRoute> is not read")),
                    }
                }
            }
            other => warnings.push(format!("<{other}> in a <Workout> is not read")),
        }
    }
    h
}
