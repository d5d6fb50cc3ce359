//! Health records as HL7 FHIR R4 resources, and back.
//!
//! LOINC codes are given only where the mapping is known (each checked against the FHIR
//! specification's vital signs value set or a published HL7 implementation guide); the
//! source's own type is always kept as a coding of `urn:ferry:health:type`. Values are
//! written with their exact digits (FHIR decimals keep their precision).

use super::{Health, Kind, Part, Role};
use crate::decimal::{json_number, shift};
use crate::def::Frame;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use ferry_core::Record;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// The code system of the types as their source names them.
pub const TYPE_SYSTEM: &str = "urn:ferry:health:type";
/// The code system of category values as their source names them.
pub const VALUE_SYSTEM: &str = "urn:ferry:health:value";
/// The extension that carries the whole record in an item's own file.
pub const RECORD_EXTENSION: &str = "urn:ferry:record";
/// The extension naming a file that holds the rest of a record (a route, a resource).
pub const FILE_EXTENSION: &str = "urn:ferry:health:file";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// A type's LOINC code: (type, value for a category type or "", code, display, category).
/// Sources: the FHIR R4 vital signs value set (observation-vitalsignresult) for the vital
/// signs; the HL7 Physical Activity IG for the resting heart rate; published profiles
/// for 55423-8; the HL7 Personal Health Record IG's sleep codes.
#[rustfmt::skip]
const LOINC_CODES: &[(&str, &str, &str, &str, &str)] = &[
    ("HKQuantityTypeIdentifierStepCount", "", "55423-8", "Number of steps in unspecified time Pedometer", "activity"),
    ("HKQuantityTypeIdentifierHeartRate", "", "8867-4", "Heart rate", "vital-signs"),
    ("HKQuantityTypeIdentifierRestingHeartRate", "", "40443-4", "Heart rate --resting", "vital-signs"),
    ("HKQuantityTypeIdentifierBodyMass", "", "29463-7", "Body weight", "vital-signs"),
    ("HKQuantityTypeIdentifierHeight", "", "8302-2", "Body height", "vital-signs"),
    ("HKQuantityTypeIdentifierBodyMassIndex", "", "39156-5", "Body mass index (BMI) [Ratio]", "vital-signs"),
    ("HKQuantityTypeIdentifierBloodPressureSystolic", "", "8480-6", "Systolic blood pressure", "vital-signs"),
    ("HKQuantityTypeIdentifierBloodPressureDiastolic", "", "8462-4", "Diastolic blood pressure", "vital-signs"),
    ("HKCorrelationTypeIdentifierBloodPressure", "", "85354-9", "Blood pressure panel with all children optional", "vital-signs"),
    ("HKQuantityTypeIdentifierBodyTemperature", "", "8310-5", "Body temperature", "vital-signs"),
    ("HKQuantityTypeIdentifierOxygenSaturation", "", "2708-6", "Oxygen saturation in Arterial blood", "vital-signs"),
    ("HKQuantityTypeIdentifierRespiratoryRate", "", "9279-1", "Respiratory rate", "vital-signs"),
    ("HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysisAsleepDeep", "93831-6", "Deep sleep duration", ""),
    ("HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysisAsleepREM", "93829-0", "REM sleep duration", ""),
    ("HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysisAsleepCore", "93830-8", "Light sleep duration", ""),
    ("HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysisAsleepUnspecified", "93832-4", "Sleep duration", ""),
    ("HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysisAsleep", "93832-4", "Sleep duration", ""),
];

/// A unit as its source writes it, in UCUM (the FHIR vital signs units and their kin).
#[rustfmt::skip]
const UCUM_UNITS: &[(&str, &str)] = &[
    ("count/min", "/min"), ("bpm", "/min"), ("count/s", "/s"), ("kg", "kg"), ("g", "g"), ("lb", "[lb_av]"),
    ("cm", "cm"), ("m", "m"), ("mm", "mm"), ("in", "[in_i]"), ("ft", "[ft_i]"), ("km", "km"), ("mi", "[mi_i]"),
    ("mmHg", "mm[Hg]"), ("degC", "Cel"), ("degF", "[degF]"), ("%", "%"), ("kcal", "kcal"), ("Cal", "kcal"),
    ("kJ", "kJ"), ("ms", "ms"), ("s", "s"), ("min", "min"), ("hr", "h"), ("h", "h"), ("mg/dL", "mg/dL"),
    ("L", "L"), ("mL", "mL"), ("m/s", "m/s"), ("km/hr", "km/h"), ("W", "W"), ("kg/m^2", "kg/m2"),
    ("mL/min·kg", "mL/min/kg"), ("count", "{count}"),
];

fn loinc(data_type: &str, value: Option<&str>) -> Option<(&'static str, &'static str, &'static str)> {
    LOINC_CODES
        .iter()
        .find(|(t, v, ..)| *t == data_type && (v.is_empty() || Some(*v) == value))
        .map(|(_, _, code, display, category)| (*code, *display, *category))
}

fn ucum(unit: &str, data_type: &str) -> Option<&'static str> {
    if unit == "count" && data_type == "HKQuantityTypeIdentifierStepCount" {
        return Some("{steps}");
    }
    // Apple's molar units carry the molar mass: `mmol<180.15588000005408>/L`
    if unit.starts_with("mmol<") && unit.ends_with(">/L") {
        return Some("mmol/L");
    }
    UCUM_UNITS.iter().find(|(u, _)| *u == unit).map(|(_, c)| *c)
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct Resource {
    resource_type: &'static str,
    id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identifier: Vec<Identifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    doc_type: Option<Concept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    category: Vec<Concept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Concept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    effective_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    effective_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_codeable_concept: Option<Concept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<Display>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Note>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    component: Vec<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    content: Vec<DocContent>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    url: String,
    value_string: String,
}

#[derive(Serialize)]
struct Identifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    value: String,
}

#[derive(Serialize, Default)]
struct Concept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Serialize)]
struct Coding {
    system: &'static str,
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'static str>,
}

#[derive(Serialize)]
struct Period {
    start: String,
    end: String,
}

#[derive(Serialize)]
struct Quantity {
    value: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
}

#[derive(Serialize)]
struct Display {
    display: String,
}

#[derive(Serialize)]
struct Note {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Component {
    code: Concept,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_string: Option<String>,
}

#[derive(Serialize)]
struct DocContent {
    attachment: Attachment,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attachment {
    content_type: &'static str,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

fn instant(d: &DateTime<FixedOffset>) -> String {
    d.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A FHIR id (`[A-Za-z0-9\-.]{1,64}`) for an item: its own id if it is one, else a hash.
fn fhir_id(item_id: &str) -> String {
    let fits = !item_id.is_empty() && item_id.len() <= 64 && item_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if fits { item_id.to_owned() } else { crate::found::hash_id(&[item_id]) }
}

fn type_coding(data_type: &str) -> Coding {
    Coding { system: TYPE_SYSTEM, code: data_type.to_owned(), display: None }
}

/// A value with its unit as a FHIR Quantity: its exact digits; in UCUM where the unit is
/// known (Apple's `%`, a fraction, becomes per cent).
fn quantity(value: &str, unit: Option<&str>, data_type: &str) -> Option<Quantity> {
    let code = unit.and_then(|u| ucum(u, data_type));
    let digits = if unit == Some("%") && data_type.starts_with("HK") { shift(value, 2)? } else { json_number(value)? };
    Some(Quantity { value: RawValue::from_string(digits).ok()?, unit: unit.map(str::to_owned), system: code.map(|_| UCUM), code })
}

fn component(label: String, data_type: &str, value: &str, unit: Option<&str>) -> Component {
    let mut coding = Vec::new();
    if let Some((code, display, _)) = loinc(data_type, None) {
        coding.push(Coding { system: LOINC, code: code.into(), display: Some(display) });
    }
    coding.push(type_coding(data_type));
    let value_quantity = quantity(value, unit, data_type);
    let value_string = value_quantity.is_none().then(|| value.to_owned());
    Component { code: Concept { coding, text: Some(label) }, value_quantity, value_string }
}

/// The record's FHIR resource, with the record itself in an extension if `embed`.
pub(super) fn resource(h: &Health, item_id: &str, embed: bool) -> Resource {
    let mut r = Resource { id: fhir_id(item_id), ..Default::default() };
    if embed {
        let json = serde_json::to_string(h).expect("a record is JSON");
        r.extension.push(Extension { url: RECORD_EXTENSION.into(), value_string: json });
    }
    for f in &h.files {
        r.extension.push(Extension { url: FILE_EXTENSION.into(), value_string: f.clone() });
    }
    match h.kind {
        Kind::Profile => profile(h, &mut r),
        Kind::Clinical => clinical(h, &mut r),
        _ => observation(h, &mut r),
    }
    r
}

fn profile(h: &Health, r: &mut Resource) {
    r.resource_type = "Patient";
    for p in &h.parts {
        let (Some(t), Some(v)) = (p.data_type.as_deref(), p.value.as_deref()) else { continue };
        match t {
            "HKCharacteristicTypeIdentifierDateOfBirth" if chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() => {
                r.birth_date = Some(v.to_owned())
            }
            "HKCharacteristicTypeIdentifierBiologicalSex" if v != "HKBiologicalSexNotSet" => {
                r.gender = Some(match v {
                    "HKBiologicalSexFemale" => "female",
                    "HKBiologicalSexMale" => "male",
                    "HKBiologicalSexOther" => "other",
                    _ => "unknown",
                })
            }
            _ => r.extension.push(Extension { url: format!("{TYPE_SYSTEM}:{t}"), value_string: v.to_owned() }),
        }
    }
}

fn clinical(h: &Health, r: &mut Resource) {
    r.resource_type = "DocumentReference";
    r.status = Some("current");
    r.doc_type = Some(Concept { coding: vec![type_coding(&h.data_type)], text: Some(h.data_type.clone()) });
    if let Some(i) = &h.identifier {
        r.identifier.push(Identifier { system: h.source_url.clone().filter(|u| u.contains("://")), value: i.clone() });
    }
    r.date = h.created.as_ref().map(instant);
    r.description = h.source.clone();
    for f in &h.files {
        let title = f.rsplit('/').next().map(str::to_owned);
        r.content.push(DocContent { attachment: Attachment { content_type: "application/fhir+json", url: f.clone(), title } });
    }
    if r.content.is_empty() {
        // a DocumentReference has its content: here, where the provider has it
        let url = h.source_url.clone().unwrap_or_default();
        r.content.push(DocContent { attachment: Attachment { content_type: "application/fhir+json", url, title: None } });
    }
}

fn observation(h: &Health, r: &mut Resource) {
    r.resource_type = "Observation";
    r.status = Some("final");
    let mapped = loinc(&h.data_type, h.value.as_deref());
    let category = match (h.kind, mapped) {
        (Kind::Workout | Kind::Summary, _) => Some("activity"),
        (_, Some((_, _, c))) if !c.is_empty() => Some(c),
        _ => None,
    };
    if let Some(c) = category {
        r.category.push(Concept { coding: vec![Coding { system: CATEGORY, code: c.into(), display: None }], text: None });
    }
    let mut coding = Vec::new();
    if let Some((code, display, _)) = mapped {
        coding.push(Coding { system: LOINC, code: code.into(), display: Some(display) });
    }
    coding.push(type_coding(&h.data_type));
    r.code = Some(Concept { coding, text: Some(mapped.map_or_else(|| h.data_type.clone(), |(_, d, _)| d.to_owned())) });
    match (&h.start, &h.end, &h.day) {
        (Some(s), Some(e), _) if s != e => r.effective_period = Some(Period { start: instant(s), end: instant(e) }),
        (Some(t), _, _) | (None, Some(t), _) => r.effective_date_time = Some(instant(t)),
        (None, None, Some(d)) => r.effective_date_time = Some(d.to_string()),
        _ => {}
    }
    r.issued = h.created.as_ref().map(instant);
    if let Some(v) = &h.value {
        let sleep = mapped.is_some() && json_number(v).is_none();
        if sleep {
            // a sleep stage's LOINC code is its duration: the seconds between start and end
            if let (Some(s), Some(e)) = (h.start, h.end)
                && e >= s
            {
                r.value_quantity = quantity(&(e - s).num_seconds().to_string(), Some("s"), "");
            }
        } else if let Some(q) = quantity(v, h.unit.as_deref(), &h.data_type) {
            r.value_quantity = Some(q);
        } else {
            let coding = vec![Coding { system: VALUE_SYSTEM, code: v.clone(), display: None }];
            r.value_codeable_concept = Some(Concept { coding, text: Some(v.clone()) });
        }
    }
    if let Some(s) = &h.source {
        let display = match &h.source_version {
            Some(v) => format!("{s} ({v})"),
            None => s.clone(),
        };
        r.device = Some(Display { display });
    }
    for (label, value, unit) in
        [("duration", &h.duration, &h.duration_unit), ("distance", &h.distance, &h.distance_unit), ("energy", &h.energy, &h.energy_unit)]
    {
        if let Some(v) = value {
            r.component.push(component(label.into(), label, v, unit.as_deref()));
        }
    }
    for p in &h.parts {
        part(p, r);
    }
    for (k, v) in &h.metadata {
        r.note.push(Note { text: format!("{k}: {v}") });
    }
}

fn part(p: &Part, r: &mut Resource) {
    let t = p.data_type.as_deref().unwrap_or("");
    match p.role {
        Role::Component => match &p.value {
            Some(v) => r.component.push(component(t.to_owned(), t, v, p.unit.as_deref())),
            None if !p.metadata.is_empty() => {
                let text = p.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
                r.note.push(Note { text: format!("{t}: {text}") });
            }
            None => {}
        },
        Role::Statistic => {
            for (stat, v) in [("sum", &p.value), ("average", &p.average), ("minimum", &p.minimum), ("maximum", &p.maximum)] {
                if let Some(v) = v {
                    r.component.push(component(format!("{t} {stat}"), t, v, p.unit.as_deref()));
                }
            }
        }
        Role::Event | Role::Segment | Role::Beat => {
            let when = p.start.as_ref().map(instant).or_else(|| p.time.clone()).unwrap_or_default();
            let value = p.value.as_deref().map(|v| format!(" {v}{}", p.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default()));
            let role = serde_json::to_value(p.role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            r.note.push(Note { text: format!("{role} {t} {when}{}", value.unwrap_or_default()).trim().to_owned() });
        }
    }
}

/// An item's own file: its resource, with its record.
pub(super) fn resource_file(h: &Health, item_id: &str) -> String {
    serde_json::to_string_pretty(&resource(h, item_id, true)).expect("a resource is JSON") + "\n"
}

/// A container's file in a package: a FHIR `Bundle` of type `batch`, each entry a `PUT`
/// of an item's resource under its stable id.
pub static BUNDLE: Frame = Frame {
    gather: None,
    head: |_, _| "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[\n".into(),
    part: bundle_entry,
    separator: ",\n",
    tail: |_, _| "\n]}\n".into(),
    order: None,
};

fn bundle_entry(id: &str, record: &Record) -> Option<String> {
    let Record::Other(r) = record else { return None };
    let h: Health = r.typed().ok()?;
    let res = resource(&h, id, false);
    let url = format!("{}/{}", res.resource_type, res.id);
    let json = serde_json::to_string(&res).ok()?;
    Some(format!("{{\"resource\":{json},\"request\":{{\"method\":\"PUT\",\"url\":{}}}}}", serde_json::to_string(&url).ok()?))
}

/// A health record from a FHIR resource file: the record it carries, if ferry wrote it;
/// else read from an `Observation`'s (or a `Patient`'s, a `DocumentReference`'s) fields.
pub(super) fn read_file(bytes: &[u8]) -> Result<Health, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let kind = v["resourceType"].as_str().ok_or("not a FHIR resource (no resourceType)")?;
    if let Some(exts) = v["extension"].as_array()
        && let Some(json) = exts.iter().find(|e| e["url"] == RECORD_EXTENSION).and_then(|e| e["valueString"].as_str())
    {
        return serde_json::from_str(json).map_err(|e| format!("its {RECORD_EXTENSION} extension is not a health record ({e})"));
    }
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let time = |v: &Value| v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let mut h = Health::default();
    match kind {
        "Observation" => {
            let codings = v["code"]["coding"].as_array().cloned().unwrap_or_default();
            h.data_type = codings
                .iter()
                .find(|c| c["system"] == TYPE_SYSTEM)
                .or(codings.first())
                .and_then(|c| match (c["system"].as_str(), c["code"].as_str()) {
                    (Some(TYPE_SYSTEM), Some(code)) => Some(code.to_owned()),
                    (Some(s), Some(code)) => Some(format!("{s}|{code}")),
                    (None, Some(code)) => Some(code.to_owned()),
                    _ => None,
                })
                .or_else(|| text(&v["code"]["text"]))
                .ok_or("an Observation without a code")?;
            h.value = exact_value(bytes)?
                .or_else(|| text(&v["valueString"]))
                .or_else(|| text(&v["valueCodeableConcept"]["coding"][0]["code"]))
                .or_else(|| text(&v["valueCodeableConcept"]["text"]));
            h.unit = text(&v["valueQuantity"]["unit"]).or_else(|| text(&v["valueQuantity"]["code"]));
            h.start = time(&v["effectivePeriod"]["start"]).or_else(|| time(&v["effectiveDateTime"]));
            h.end = time(&v["effectivePeriod"]["end"]).or(h.start);
            h.created = time(&v["issued"]);
            h.source = text(&v["device"]["display"]);
        }
        "Patient" => {
            h.kind = Kind::Profile;
            h.data_type = "Patient".into();
            for (t, f) in [("birthDate", "birthDate"), ("gender", "gender")] {
                if let Some(value) = text(&v[f]) {
                    h.parts.push(Part { data_type: Some(t.into()), value: Some(value), ..Default::default() });
                }
            }
        }
        "DocumentReference" => {
            h.kind = Kind::Clinical;
            h.data_type = text(&v["type"]["text"]).unwrap_or_else(|| "DocumentReference".into());
            h.identifier = text(&v["identifier"][0]["value"]);
            h.created = time(&v["date"]);
            h.source = text(&v["description"]);
            h.files = v["content"].as_array().into_iter().flatten().filter_map(|c| text(&c["attachment"]["url"])).collect();
        }
        other => return Err(format!("a FHIR {other} is not a health item ferry reads")),
    }
    Ok(h)
}

/// An Observation's `valueQuantity.value` with its digits as written.
fn exact_value(bytes: &[u8]) -> Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Obs {
        value_quantity: Option<Q>,
    }
    #[derive(serde::Deserialize)]
    struct Q {
        value: Option<Box<RawValue>>,
    }
    let o: Obs = serde_json::from_slice(bytes).map_err(|e| format!("not a FHIR Observation ({e})"))?;
    Ok(o.value_quantity.and_then(|q| q.value).map(|v| v.get().to_owned()))
}
