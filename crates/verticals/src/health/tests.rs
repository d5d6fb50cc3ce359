use super::apple_health::read_with;
use super::*;
use crate::found::Typed;
use crate::xml::Limits;
use serde_json::Value;

/// A small export with the oddities real ones have: Apple's malformed DTD (an ATTLIST
/// without its `>`, a `>` too many), escaped device strings, a typographic apostrophe,
/// a correlation repeating top-level records, an iOS 15 workout whose totals are only in
/// its statistics, a route, a clinical record, an element ferry does not model.
const EXPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ATTLIST VisionPrescription
  brand            CDATA #IMPLIED
<!ELEMENT RightEye EMPTY>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key              CDATA #IMPLIED
  value            CDATA #IMPLIED
>
>
]>
<HealthData locale="de_DE">
 <ExportDate value="2024-01-04 12:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-04-02" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeAPositive"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Anna’s Apple Watch" sourceVersion="10.2" device="&lt;&lt;HKDevice: 0x281f0a3f0&gt;, name:Apple Watch, manufacturer:Apple Inc.&gt;" unit="count/min" creationDate="2024-01-02 08:00:05 +0100" startDate="2024-01-02 08:00:00 +0100" endDate="2024-01-02 08:00:00 +0100" value="72.50">
  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>
 </Record>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="iPhone" unit="count" creationDate="2024-01-02 09:10:00 +0100" startDate="2024-01-02 09:00:00 +0100" endDate="2024-01-02 09:10:00 +0100" value="1204"/>
 <Record type="HKQuantityTypeIdentifierOxygenSaturation" sourceName="Watch" unit="%" startDate="2024-01-02 03:00:00 +0100" endDate="2024-01-02 03:00:00 +0100" value="0.97"/>
 <Record type="HKQuantityTypeIdentifierFlightsClimbed" sourceName="iPhone" unit="count" startDate="2024-01-02 10:00:00 +0100" endDate="2024-01-02 10:05:00 +0100" value="3"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" startDate="2024-01-02 01:00:00 +0100" endDate="2024-01-02 01:45:30 +0100" value="HKCategoryValueSleepAnalysisAsleepDeep"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" startDate="2024-01-01 23:00:00 +0100" endDate="2024-01-02 07:00:00 +0100" value="HKCategoryValueSleepAnalysisInBed"/>
 <Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" sourceName="Watch" unit="ms" startDate="2024-01-02 04:00:00 +0100" endDate="2024-01-02 04:01:00 +0100" value="48.2">
  <HeartRateVariabilityMetadataList>
   <InstantaneousBeatsPerMinute bpm="61" time="4:00:01.20 AM"/>
   <InstantaneousBeatsPerMinute bpm="63" time="4:00:02.15 AM"/>
  </HeartRateVariabilityMetadataList>
 </Record>
 <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale &amp; Co" unit="lb" startDate="2024-13-40 07:00:00 +0100" endDate="2024-01-02 07:00:00 +0100" value="154.3" futureAttribute="x"/>
 <Record type="HKQuantityTypeIdentifierBloodPressureSystolic" sourceName="Cuff" unit="mmHg" startDate="2024-01-02 08:30:00 +0100" endDate="2024-01-02 08:30:00 +0100" value="121"/>
 <Record type="HKQuantityTypeIdentifierBloodPressureDiastolic" sourceName="Cuff" unit="mmHg" startDate="2024-01-02 08:30:00 +0100" endDate="2024-01-02 08:30:00 +0100" value="79"/>
 <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Cuff" startDate="2024-01-02 08:30:00 +0100" endDate="2024-01-02 08:30:00 +0100">
  <MetadataEntry key="HKWasUserEntered" value="1"/>
  <Record type="HKQuantityTypeIdentifierBloodPressureSystolic" sourceName="Cuff" unit="mmHg" startDate="2024-01-02 08:30:00 +0100" endDate="2024-01-02 08:30:00 +0100" value="121"/>
  <Record type="HKQuantityTypeIdentifierBloodPressureDiastolic" sourceName="Cuff" unit="mmHg" startDate="2024-01-02 08:30:00 +0100" endDate="2024-01-02 08:30:00 +0100" value="79"/>
 </Correlation>
 <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="31.5" durationUnit="min" sourceName="Watch" creationDate="2024-01-02 18:32:00 +0100" startDate="2024-01-02 18:00:00 +0100" endDate="2024-01-02 18:31:30 +0100">
  <MetadataEntry key="HKIndoorWorkout" value="0"/>
  <WorkoutEvent type="HKWorkoutEventTypePause" date="2024-01-02 18:10:00 +0100"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="2024-01-02 18:00:00 +0100" endDate="2024-01-02 18:31:30 +0100" sum="5.21" unit="km"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="2024-01-02 18:00:00 +0100" endDate="2024-01-02 18:31:30 +0100" sum="402.7" unit="kcal"/>
  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="2024-01-02 18:00:00 +0100" endDate="2024-01-02 18:31:30 +0100" average="151" minimum="98" maximum="172" unit="count/min"/>
  <WorkoutRoute sourceName="Watch" startDate="2024-01-02 18:00:00 +0100" endDate="2024-01-02 18:31:30 +0100">
   <MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>
   <FileReference path="/workout-routes/route_2024-01-02_6.31pm.gpx"/>
  </WorkoutRoute>
 </Workout>
 <ActivitySummary dateComponents="2024-01-02" activeEnergyBurned="512.3" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="kcal" appleExerciseTime="34" appleExerciseTimeGoal="30" appleStandHours="11" appleStandHoursGoal="12"/>
 <ClinicalRecord type="HKClinicalTypeIdentifierLabResultRecord" identifier="T18EOBCL62" sourceName="City Hospital" sourceURL="https://fhir.example.org/R4/Observation/T18EOBCL62" fhirVersion="4.0.1" receivedDate="2023-12-20 10:00:00 +0100" resourceFilePath="/clinical-records/Observation-4C3B5A2E.json"/>
 <Audiogram type="HKDataTypeIdentifierAudiogram" sourceName="Mimi" startDate="2023-11-01 10:00:00 +0100" endDate="2023-11-01 10:10:00 +0100">
  <SensitivityPoint frequencyValue="1000" frequencyUnit="Hz" leftEarValue="10" leftEarUnit="dBHL"/>
 </Audiogram>
</HealthData>
"#;

fn read_all(xml: &str, limits: Limits) -> (Vec<Result<Found, String>>, Result<(), String>) {
    let mut out = Vec::new();
    let r = read_with(xml.as_bytes(), limits, &mut |f| {
        out.push(f);
        true
    });
    (out, r)
}

fn found(xml: &str) -> Vec<Found> {
    let (out, r) = read_all(xml, Limits::default());
    r.unwrap();
    out.into_iter().map(|f| f.unwrap()).collect()
}

fn by_type<'a>(all: &'a [Found], t: &str) -> Vec<&'a Found> {
    all.iter().filter(|f| f.record.data_type == t).collect()
}

#[test]
fn an_export_gives_one_item_per_top_level_element_and_a_correlation_counts_once() {
    let all = found(EXPORT);
    // Me, 10 records, a correlation, a workout, a summary, a clinical record, an audiogram
    assert_eq!(all.len(), 16, "{:#?}", all.iter().map(|f| &f.record.data_type).collect::<Vec<_>>());
    let ids: std::collections::HashSet<_> = all.iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique");
    // the same input gives the same ids
    assert_eq!(found(EXPORT).iter().map(|f| f.id.clone()).collect::<Vec<_>>(), all.iter().map(|f| f.id.clone()).collect::<Vec<_>>());

    let bp = by_type(&all, "HKCorrelationTypeIdentifierBloodPressure")[0];
    assert_eq!(bp.container, "BloodPressure");
    assert_eq!(bp.record.parts.len(), 2);
    assert_eq!(bp.record.metadata["HKWasUserEntered"], "1");
    // its samples are the top-level items (the same ids), not items again
    let systolic = by_type(&all, "HKQuantityTypeIdentifierBloodPressureSystolic");
    assert_eq!(systolic.len(), 1, "a correlation's records are not items twice");
    assert_eq!(bp.record.parts[0].sample_id.as_deref(), Some(systolic[0].id.as_str()));
    assert_eq!(bp.record.parts[0].value.as_deref(), Some("121"));
    let refs = bp.record.references();
    assert_eq!(refs.len(), 2);
    assert!(refs.iter().all(|r| ids.contains(&r.id) && r.rel == "component"));
}

#[test]
fn records_keep_what_the_export_says_as_written() {
    let all = found(EXPORT);
    let hr = by_type(&all, "HKQuantityTypeIdentifierHeartRate")[0];
    assert_eq!(hr.container, "HeartRate");
    let r = &hr.record;
    assert_eq!((r.value.as_deref(), r.unit.as_deref()), (Some("72.50"), Some("count/min")));
    assert_eq!(r.source.as_deref(), Some("Anna’s Apple Watch"));
    assert_eq!(r.device.as_deref(), Some("<<HKDevice: 0x281f0a3f0>, name:Apple Watch, manufacturer:Apple Inc.>"));
    assert_eq!(r.start.unwrap().to_rfc3339(), "2024-01-02T08:00:00+01:00");
    assert_eq!(r.created.unwrap().to_rfc3339(), "2024-01-02T08:00:05+01:00");
    assert_eq!(r.metadata["HKMetadataKeyHeartRateMotionContext"], "1");
    assert!(hr.warnings.is_empty(), "{:?}", hr.warnings);

    let hrv = &by_type(&all, "HKQuantityTypeIdentifierHeartRateVariabilitySDNN")[0].record;
    assert_eq!(hrv.parts.len(), 2);
    assert_eq!(
        (hrv.parts[1].role, hrv.parts[1].value.as_deref(), hrv.parts[1].time.as_deref()),
        (Role::Beat, Some("63"), Some("4:00:02.15 AM"))
    );

    // a date Apple would not write, and an attribute ferry does not know: kept, said
    let weight = by_type(&all, "HKQuantityTypeIdentifierBodyMass")[0];
    assert_eq!(weight.record.source.as_deref(), Some("Scale & Co"));
    assert_eq!(weight.record.start, None);
    assert_eq!(weight.record.extra["startDate"], "2024-13-40 07:00:00 +0100");
    assert_eq!(weight.record.extra["futureAttribute"], "x");
    assert!(weight.warnings.iter().any(|w| w.contains("startDate")), "{:?}", weight.warnings);

    let w = &by_type(&all, "HKWorkoutActivityTypeRunning")[0];
    assert_eq!((w.record.kind, w.container.as_str()), (Kind::Workout, "Workouts"));
    // iOS 15 and later: the totals come from the statistics
    assert_eq!((w.record.distance.as_deref(), w.record.distance_unit.as_deref()), (Some("5.21"), Some("km")));
    assert_eq!((w.record.energy.as_deref(), w.record.energy_unit.as_deref()), (Some("402.7"), Some("kcal")));
    assert_eq!(w.record.duration.as_deref(), Some("31.5"));
    assert_eq!(w.files, ["workout-routes/route_2024-01-02_6.31pm.gpx"]);
    assert_eq!(w.record.files, w.files);
    assert_eq!(w.record.metadata["WorkoutRoute/HKMetadataKeySyncVersion"], "2");
    assert_eq!(w.record.parts.iter().filter(|p| p.role == Role::Statistic).count(), 3);
    assert_eq!(w.record.parts.iter().find(|p| p.role == Role::Event).and_then(|p| p.data_type.as_deref()), Some("HKWorkoutEventTypePause"));

    let s = &by_type(&all, "ActivitySummary")[0].record;
    assert_eq!((s.kind, s.day.map(|d| d.to_string())), (Kind::Summary, Some("2024-01-02".into())));
    let energy = s.parts.iter().find(|p| p.data_type.as_deref() == Some("activeEnergyBurned")).unwrap();
    assert_eq!((energy.value.as_deref(), energy.unit.as_deref()), (Some("512.3"), Some("kcal")));

    let c = &by_type(&all, "HKClinicalTypeIdentifierLabResultRecord")[0];
    assert_eq!(
        (c.record.kind, c.record.fhir_version.as_deref(), c.record.identifier.as_deref()),
        (Kind::Clinical, Some("4.0.1"), Some("T18EOBCL62"))
    );
    assert_eq!(c.files, ["clinical-records/Observation-4C3B5A2E.json"]);

    let me = all.iter().find(|f| f.record.kind == Kind::Profile).unwrap();
    assert_eq!(me.record.parts.len(), 3);

    let a = &by_type(&all, "HKDataTypeIdentifierAudiogram")[0];
    assert_eq!(a.record.parts[0].metadata["frequencyValue"], "1000");
}

fn fhir_of(all: &[Found], t: &str) -> Value {
    let f = by_type(all, t)[0];
    serde_json::from_str(&fhir::resource_file(&f.record, &f.id)).unwrap()
}

fn codes(v: &Value) -> Vec<String> {
    v["code"]["coding"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn fhir_observations_carry_loinc_and_ucum_where_known_and_the_type_always() {
    let all = found(EXPORT);
    let hr = fhir_of(&all, "HKQuantityTypeIdentifierHeartRate");
    assert_eq!(hr["resourceType"], "Observation");
    assert_eq!(codes(&hr), ["8867-4", "HKQuantityTypeIdentifierHeartRate"]);
    assert_eq!(hr["category"][0]["coding"][0]["code"], "vital-signs");
    assert_eq!((hr["valueQuantity"]["code"].as_str(), hr["valueQuantity"]["unit"].as_str()), (Some("/min"), Some("count/min")));
    assert_eq!(hr["effectiveDateTime"], "2024-01-02T08:00:00+01:00");
    // the exact digits, trailing zero too
    let f = by_type(&all, "HKQuantityTypeIdentifierHeartRate")[0];
    assert!(fhir::resource_file(&f.record, &f.id).contains("\"value\": 72.50"));

    let spo2 = fhir_of(&all, "HKQuantityTypeIdentifierOxygenSaturation");
    assert_eq!(codes(&spo2), ["2708-6", "HKQuantityTypeIdentifierOxygenSaturation"]);
    assert_eq!(spo2["valueQuantity"]["value"], 97, "Apple's fraction is per cent in FHIR");

    let steps = fhir_of(&all, "HKQuantityTypeIdentifierStepCount");
    assert_eq!((codes(&steps)[0].as_str(), steps["valueQuantity"]["code"].as_str()), ("55423-8", Some("{steps}")));
    assert_eq!(steps["effectivePeriod"]["end"], "2024-01-02T09:10:00+01:00");

    let flights = fhir_of(&all, "HKQuantityTypeIdentifierFlightsClimbed");
    assert_eq!(codes(&flights), ["HKQuantityTypeIdentifierFlightsClimbed"], "no LOINC code where the mapping is not known");
    assert!(flights.get("category").is_none());

    let sleep: Vec<Value> = by_type(&all, "HKCategoryTypeIdentifierSleepAnalysis")
        .iter()
        .map(|f| serde_json::from_str(&fhir::resource_file(&f.record, &f.id)).unwrap())
        .collect();
    assert_eq!(codes(&sleep[0])[0], "93831-6");
    assert_eq!((sleep[0]["valueQuantity"]["value"].as_i64(), sleep[0]["valueQuantity"]["code"].as_str()), (Some(2730), Some("s")));
    assert_eq!(codes(&sleep[1]), ["HKCategoryTypeIdentifierSleepAnalysis"], "in bed has no LOINC code");
    assert_eq!(sleep[1]["valueCodeableConcept"]["coding"][0]["code"], "HKCategoryValueSleepAnalysisInBed");

    let bp = fhir_of(&all, "HKCorrelationTypeIdentifierBloodPressure");
    assert_eq!(codes(&bp)[0], "85354-9");
    let comps: Vec<(String, Value)> = bp["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"]["coding"][0]["code"].as_str().unwrap().to_owned(), c["valueQuantity"].clone()))
        .collect();
    assert_eq!((comps[0].0.as_str(), comps[1].0.as_str()), ("8480-6", "8462-4"));
    assert_eq!((comps[0].1["value"].as_i64(), comps[0].1["code"].as_str()), (Some(121), Some("mm[Hg]")));

    let w = fhir_of(&all, "HKWorkoutActivityTypeRunning");
    assert_eq!(w["category"][0]["coding"][0]["code"], "activity");
    assert!(w["extension"].as_array().unwrap().iter().any(|e| e["valueString"] == "workout-routes/route_2024-01-02_6.31pm.gpx"));
    let distance = w["component"].as_array().unwrap().iter().find(|c| c["code"]["text"] == "distance").unwrap();
    assert_eq!((distance["valueQuantity"]["value"].as_f64(), distance["valueQuantity"]["code"].as_str()), (Some(5.21), Some("km")));

    let me = fhir_of(&all, "Me");
    assert_eq!(
        (me["resourceType"].as_str(), me["gender"].as_str(), me["birthDate"].as_str()),
        (Some("Patient"), Some("female"), Some("1990-04-02"))
    );
    let c = fhir_of(&all, "HKClinicalTypeIdentifierLabResultRecord");
    assert_eq!(c["resourceType"], "DocumentReference");
    assert_eq!(c["content"][0]["attachment"]["url"], "clinical-records/Observation-4C3B5A2E.json");
    assert_eq!(c["identifier"][0]["system"], "https://fhir.example.org/R4/Observation/T18EOBCL62");
}

#[test]
fn an_items_file_reads_back_exactly_and_a_foreign_observation_by_its_fields() {
    for f in found(EXPORT) {
        let item = f.clone().into_item();
        let file = write(&item).unwrap().text;
        let back = read("health/x/a.json", &f.container, file.as_bytes()).unwrap();
        assert_eq!(Health::of(&back).unwrap(), f.record, "{file}");
        // read from a file, it is written again byte for byte
        assert_eq!(write(&back).unwrap().text, file);
    }
    let foreign = br#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8310-5"}]},
        "effectiveDateTime":"2024-02-01T07:00:00Z","valueQuantity":{"value":36.60,"unit":"Cel"},"device":{"display":"Thermometer"}}"#;
    let h = Health::of(&read("health/t.json", "", foreign).unwrap()).unwrap();
    assert_eq!((h.data_type.as_str(), h.value.as_deref(), h.unit.as_deref()), ("http://loinc.org|8310-5", Some("36.60"), Some("Cel")));
    assert_eq!(h.source.as_deref(), Some("Thermometer"));
    for (bytes, says) in [
        (&b"nope"[..], "not JSON"),
        (br#"{"a":1}"#, "resourceType"),
        (br#"{"resourceType":"Medication"}"#, "Medication"),
        (br#"{"resourceType":"Observation","status":"final"}"#, "without a code"),
        (br#"{"resourceType":"Observation","extension":[{"url":"urn:ferry:record","valueString":"[]"}]}"#, "not a health record"),
    ] {
        let e = read("health/x.json", "", bytes).unwrap_err();
        assert!(e.reason.contains(says), "{says}: {}", e.reason);
    }
    assert!(read("health/x.json", "", &vec![b' '; MAX_FILE + 1]).unwrap_err().reason.contains("larger"));
    let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
    assert!(recognises(&f("health/HeartRate/a.json")) && !recognises(&f("health/a.gpx")) && !recognises(&f("notes/a.json")));
}

#[test]
fn a_container_is_one_fhir_batch_bundle() {
    let all = found(EXPORT);
    let frame = &fhir::BUNDLE;
    let mut text = (frame.head)("HeartRate", &Value::Null);
    let parts: Vec<String> = all.iter().filter_map(|f| (frame.part)(&f.id, &f.clone().into_item().record)).collect();
    assert_eq!(parts.len(), all.len());
    text.push_str(&parts.join(frame.separator));
    text.push_str(&(frame.tail)("HeartRate", &Value::Null));
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((bundle["resourceType"].as_str(), bundle["type"].as_str()), (Some("Bundle"), Some("batch")));
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), all.len());
    for (e, f) in entries.iter().zip(&all) {
        assert_eq!(e["request"]["method"], "PUT");
        assert_eq!(e["request"]["url"].as_str().unwrap(), format!("{}/{}", e["resource"]["resourceType"].as_str().unwrap(), f.id));
        assert!(e["resource"].get("extension").is_none_or(|x| !x.to_string().contains(fhir::RECORD_EXTENSION)), "no record in a bundle");
    }
    assert!(matches!(DEF.standard.unwrap().per, Per::Framed(f) if std::ptr::eq(f, &fhir::BUNDLE)));
}

#[test]
fn hostile_and_broken_exports() {
    // a billion laughs in the DTD: never expanded, the reference kept as written
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE HealthData [
      <!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
      <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
      <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
      <!ENTITY ext SYSTEM "file:///etc/passwd">]>
      <HealthData><Record type="HKQuantityTypeIdentifierStepCount" sourceName="&lol9;&ext;" value="1" startDate="2024-01-02 09:00:00 +0100" endDate="2024-01-02 09:00:00 +0100"/></HealthData>"#;
    let all = found(laughs);
    assert_eq!(all[0].record.source.as_deref(), Some("&lol9;&ext;"));
    assert!(!all[0].warnings.is_empty());

    // cut short: what came before is read, then the file fails
    let cut = &EXPORT[..EXPORT.find("<Workout").unwrap() + 20];
    let (out, r) = read_all(cut, Limits::default());
    assert_eq!(out.len(), 12);
    assert!(r.unwrap_err().contains("cut short"));

    let (out, r) = read_all("<?xml version=\"1.0\"?><Library><Record type=\"x\"/></Library>", Limits::default());
    assert!(out.is_empty() && r.unwrap_err().contains("not an Apple Health export"));
    assert!(read_all("", Limits::default()).1.unwrap_err().contains("no <HealthData>"));
    assert!(read_all("{\"json\": true}", Limits::default()).1.is_err());
    assert!(
        read_all("<HealthData><Record type=\"a\"></Workout></HealthData>", Limits::default()).1.unwrap_err().contains("not well-formed")
    );

    // a record without its type is an error of its own; reading goes on
    let xml = "<HealthData><Record value=\"1\"/><Record type=\"HKQuantityTypeIdentifierStepCount\" value=\"2\"/></HealthData>";
    let (out, r) = read_all(xml, Limits::default());
    r.unwrap();
    assert!(out[0].as_ref().unwrap_err().contains("without its type"));
    assert_eq!(out[1].as_ref().unwrap().record.value.as_deref(), Some("2"));

    // `each` stops the reading
    let mut n = 0;
    read_with(EXPORT.as_bytes(), Limits::default(), &mut |_| {
        n += 1;
        n < 3
    })
    .unwrap();
    assert_eq!(n, 3);
}

/// An export made as it is read, never held: `records` heart rate samples.
struct Generated {
    records: usize,
    done: usize,
    pending: Vec<u8>,
    at: usize,
}

impl std::io::Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            self.pending.clear();
            self.at = 0;
            if self.done == 0 {
                self.pending.extend_from_slice(b"<?xml version=\"1.0\"?>\n<HealthData locale=\"en_US\">\n");
            }
            if self.done < self.records {
                let i = self.done;
                let s = format!(
                    " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"Watch\" unit=\"count/min\" startDate=\"2024-01-02 08:{:02}:{:02} +0100\" endDate=\"2024-01-02 08:{:02}:{:02} +0100\" value=\"{}\"><MetadataEntry key=\"n\" value=\"{i}\"/></Record>\n",
                    (i / 60) % 60,
                    i % 60,
                    (i / 60) % 60,
                    i % 60,
                    60 + i % 100
                );
                self.pending.extend_from_slice(s.as_bytes());
                self.done += 1;
            } else if self.done == self.records {
                self.pending.extend_from_slice(b"</HealthData>\n");
                self.done += 1;
            } else {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn a_large_export_streams_in_bounded_memory() {
    // ~40 MB read with bounds far smaller than the file: one element at a time
    let limits = Limits { token: 64 << 10, element: 256 << 10, doctype: 64 << 10, depth: 32 };
    let mut n = 0;
    read_with(Generated { records: 200_000, done: 0, pending: Vec::new(), at: 0 }, limits, &mut |f| {
        assert!(f.is_ok());
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(n, 200_000);

    // one element over its bound is an error of its own; the next ones are read
    let mut xml = String::from("<HealthData><Workout workoutActivityType=\"HKWorkoutActivityTypeWalking\">");
    for i in 0..20_000 {
        xml.push_str(&format!("<WorkoutEvent type=\"HKWorkoutEventTypeLap\" date=\"2024-01-02 08:00:{:02} +0100\"/>", i % 60));
    }
    xml.push_str("</Workout><Record type=\"HKQuantityTypeIdentifierStepCount\" value=\"5\"/></HealthData>");
    let (out, r) = read_all(&xml, limits);
    r.unwrap();
    assert!(out[0].as_ref().unwrap_err().contains("<Workout> is larger than"), "{:?}", out[0].as_ref().err());
    assert_eq!(out[1].as_ref().unwrap().record.value.as_deref(), Some("5"));
}
