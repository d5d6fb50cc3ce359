//! A vertical with a framed standard form (`Per::Framed`) gets one file per container,
//! made from its items' records, with their attached files beside: health's FHIR
//! Bundles, finance's OFX statements.

use bytes::Bytes;
use ferry_core::{Attachment, Content, Item};
use ferry_package::{PackageReader, PackageWriter, UnpackLimits, verify};
use ferry_verticals::{finance, health};

const EXPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<HealthData locale="en_US">
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" startDate="2024-01-02 08:00:00 +0100" endDate="2024-01-02 08:00:00 +0100" value="72"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" startDate="2024-01-02 08:05:00 +0100" endDate="2024-01-02 08:05:00 +0100" value="75.5"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="2024-01-02 09:00:00 +0100" endDate="2024-01-02 09:10:00 +0100" value="800"/>
 <Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="60" durationUnit="min" sourceName="Watch" startDate="2024-01-02 17:00:00 +0100" endDate="2024-01-02 18:00:00 +0100">
  <WorkoutRoute sourceName="Watch" startDate="2024-01-02 17:00:00 +0100" endDate="2024-01-02 18:00:00 +0100"><FileReference path="/workout-routes/route_1.gpx"/></WorkoutRoute>
 </Workout>
</HealthData>"#;

const OFX: &str = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR\
<BANKACCTFROM><BANKID>100<ACCTID>DE001<ACCTTYPE>SAVINGS</BANKACCTFROM><BANKTRANLIST><DTSTART>20240101<DTEND>20240131\
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240103<TRNAMT>10,00<FITID>A1<NAME>Anna</STMTTRN>\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240104<TRNAMT>-2.50<FITID>A2<NAME>Kiosk<MEMO>Zeitung</STMTTRN>\
</BANKTRANLIST><LEDGERBAL><BALAMT>107.50<DTASOF>20240131</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>";

fn health_items() -> Vec<Item> {
    let mut items = Vec::new();
    health::read_apple_health(EXPORT.as_bytes(), &mut |f| {
        let f = f.unwrap();
        let files = f.files.clone();
        let mut item = f.into_item();
        for name in files {
            let gpx = Bytes::from_static(b"<gpx version=\"1.1\"><trk><trkseg><trkpt lat=\"52.5\" lon=\"13.4\"/></trkseg></trk></gpx>");
            item.attachments.push(Attachment {
                name: name.rsplit('/').next().unwrap().into(),
                content: Content::from_bytes("application/gpx+xml", gpx),
            });
        }
        items.push(item);
        true
    })
    .unwrap();
    items
}

fn finance_items() -> Vec<Item> {
    let mut items = Vec::new();
    finance::read_ofx(OFX.as_bytes(), &mut |f| {
        items.push(f.unwrap().into_item());
        true
    })
    .unwrap();
    items
}

#[tokio::test]
async fn framed_verticals_are_one_file_per_container() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("package");
    let writer = PackageWriter::open(&target, "test", "job-framed", None).await.unwrap();
    let (h, f) = (health_items(), finance_items());
    for item in h.iter().chain(&f) {
        let added = writer.add(item).await.unwrap();
        if item.vertical() == finance::FINANCE && item.id.ends_with("A1") {
            // what the OFX cannot hold is said per item, as for any standard file
            assert!(added.warnings.is_empty(), "{:?}", added.warnings);
        }
    }
    writer.finish().await.unwrap();

    // health: a FHIR batch Bundle per type, every entry a PUT of its Observation
    let hr: serde_json::Value = serde_json::from_slice(&std::fs::read(target.join("health/HeartRate.json")).unwrap()).unwrap();
    assert_eq!((hr["resourceType"].as_str(), hr["type"].as_str()), (Some("Bundle"), Some("batch")));
    let entries = hr["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["resource"]["code"]["coding"][0]["code"] == "8867-4" && e["request"]["method"] == "PUT"));
    assert!(target.join("health/StepCount.json").is_file() && target.join("health/Workouts.json").is_file());
    assert!(!target.join("health/default.json").exists());
    // the workout's route is its attached file
    let routes: Vec<_> = walk(&target.join("health/attachments")).into_iter().filter(|p| p.ends_with("route_1.gpx")).collect();
    assert_eq!(routes.len(), 1, "{routes:?}");

    // finance: one OFX statement for the account, its transactions and balance in it
    let ofx = std::fs::read(target.join("finance/DE001.ofx")).unwrap();
    let mut back = Vec::new();
    finance::read_ofx(&ofx[..], &mut |f| {
        back.push(f.unwrap().record);
        true
    })
    .unwrap();
    assert_eq!(back.len(), 3, "{}", String::from_utf8_lossy(&ofx));
    assert_eq!((back[0].amount.as_deref(), back[1].description.as_deref()), (Some("10.00"), Some("Zeitung")));
    assert_eq!((back[2].balance.as_deref(), back[2].account_type.as_deref()), (Some("107.50"), Some("SAVINGS")));
    let csv = std::fs::read_to_string(target.join("finance/transactions.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // the package reads back and verifies: every record, every attached file
    let reader = PackageReader::open(&target, None, dir.path(), UnpackLimits::default()).unwrap();
    let report = verify(&reader).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    for (v, want) in [(health::HEALTH, h.len()), (finance::FINANCE, f.len())] {
        let items: Vec<Item> = reader.items(v).unwrap().map(|i| i.unwrap()).collect();
        assert_eq!(items.len(), want, "{v}");
        if v == health::HEALTH {
            assert_eq!(items.iter().map(|i| i.attachments.len()).sum::<usize>(), 1);
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
