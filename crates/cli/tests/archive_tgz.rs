//! Platform archives as `.tgz` / `.tar.gz` (`archive:PATH`), end to end: the same files
//! as a ZIP give the same package (every record, every content), whether the tar comes in
//! parts, in a folder of parts, or whole; a damaged or hostile one fails with its reason
//! and leaves nothing.

mod common;
mod fixtures;
use common::*;
use fixtures::{LongNames, Tgz, Zip, mastodon, takeout};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

fn export(data: &Path, source: &Path, pkg: &Path) -> (Option<i32>, Value, String) {
    let o = ferry(data, &["--json", "export", &format!("archive:{}", source.display()), "-o", pkg.to_str().unwrap()]);
    let report = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code(), report, text(&o))
}

/// Every record file of a package (`*.jsonl`), its lines sorted, and every CSV it keeps.
fn package_records(pkg: &Path) -> BTreeMap<String, Vec<String>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
    let names: Vec<String> =
        z.file_names().filter_map(Result::ok).map(|n| n.into_owned()).filter(|n| n.ends_with(".jsonl") || n.ends_with(".csv")).collect();
    names
        .into_iter()
        .map(|n| {
            let mut s = String::new();
            z.by_name(&n).unwrap().read_to_string(&mut s).unwrap();
            let mut lines: Vec<String> = s.lines().map(str::to_owned).collect();
            lines.sort();
            (n, lines)
        })
        .collect()
}

/// What the report says of each vertical: counts, failures and warnings with their reasons.
fn report_summary(report: &Value) -> BTreeMap<String, Value> {
    let verticals = report["report"]["verticals"].as_object().cloned().unwrap_or_default();
    verticals
        .into_iter()
        .map(|(v, r)| {
            let sorted = |k: &str| {
                let mut list: Vec<String> = r[k].as_array().into_iter().flatten().map(|p| format!("{} -> {}", p["item"], p["reason"])).collect();
                list.sort();
                list
            };
            let summary = serde_json::json!({"transferred": r["transferred"], "failures": sorted("failures"), "warnings": sorted("fidelity_warnings")});
            (v, summary)
        })
        .collect()
}

/// `zip` and `tgz` give packages with the same records and contents, and reports that say
/// the same; the records, for the caller's own checks.
fn same_package(data: &Path, zip: &Path, tgz: &Path, out: &Path) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, Value>) {
    let (from_zip, from_tgz) = (out.join("from-zip.zip"), out.join("from-tgz.zip"));
    // the Takeout fixture holds a task without an id: it fails alone (exit 3), the same way
    let (zip_code, zip_report, text_zip) = export(data, zip, &from_zip);
    assert!(matches!(zip_code, Some(0 | 3)), "{text_zip}");
    let (code, tgz_report, text_tgz) = export(data, tgz, &from_tgz);
    assert_eq!(code, zip_code, "{text_tgz}");
    let records = package_records(&from_zip);
    assert_eq!(records, package_records(&from_tgz), "the tar gives other records");
    assert_eq!(package_items(&from_zip), package_items(&from_tgz), "the tar gives other contents");
    let summary = report_summary(&zip_report);
    assert_eq!(summary, report_summary(&tgz_report), "the reports differ");
    let o = ferry(data, &["verify", from_tgz.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    (records, summary)
}

#[test]
fn a_takeout_in_tgz_parts_gives_the_items_its_zip_parts_give() {
    let t = tempfile::tempdir().unwrap();
    let entries = takeout::entries(takeout::Locale::English);
    let zips = takeout::write_parts(&t.path().join("zip"), &entries, 2);
    let tgzs = takeout::write_tgz_parts(&t.path().join("tgz"), &entries, 2);
    // naming the second part finds the first
    let (records, summary) = same_package(&t.path().join("data"), &zips[0], &tgzs[1], t.path());
    // and what they agree on is the whole Takeout, not nothing
    let count = |v: &str| summary[v]["transferred"].as_u64().unwrap_or(0);
    assert_eq!((count("contacts"), count("calendar"), count("mail"), count("media"), count("notes")), (3, 2, 3, 5, 1), "{summary:?}");
    let media = &records["media/media.jsonl"];
    let lisbon = media.iter().find(|l| l.contains("Lisbon/IMG_0001.jpg\"")).expect("the album's photo");
    assert!(lisbon.contains("Lisbon 2021") && lisbon.contains("38.7223"), "{lisbon}");
    // a photo's two copies are told apart by size and CRC-32 as in the ZIP
    let skipped = summary["files"]["failures"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(skipped.iter().any(|s| s.contains("Photos from 2021/IMG_0001.jpg") && s.contains("same file as")), "{skipped:?}");
    assert!(skipped.iter().any(|s| s.contains("archive_browser.html") && s.contains("repeats")), "{skipped:?}");
}

#[test]
fn a_german_takeout_in_a_folder_of_tgz_parts_reads_as_its_zip_parts() {
    let t = tempfile::tempdir().unwrap();
    let entries = takeout::entries(takeout::Locale::German);
    let zips = takeout::write_parts(&t.path().join("zip"), &entries, 3);
    takeout::write_tgz_parts(&t.path().join("tgz"), &entries, 3);
    let (_, summary) = same_package(&t.path().join("data"), &zips[2], &t.path().join("tgz"), t.path());
    assert_eq!(summary["media"]["transferred"], 5, "{summary:?}");
    assert_eq!(summary["mail"]["transferred"], 3, "{summary:?}");
}

#[test]
fn an_old_mastodon_tar_gz_gives_the_items_its_zip_gives() {
    let t = tempfile::tempdir().unwrap();
    let mut entries = mastodon::entries();
    // a name over tar's 100 bytes: split into ustar's prefix, as Ruby's tar writer does
    let long = format!("media_attachments/files/110/000/003/original/{}.png", "0123456789abcdef".repeat(5));
    entries.push((long.clone(), fixtures::photo_bytes(22, 500)));
    let zip = t.path().join("archive-20230601-ann.zip");
    let mut z = Zip::create(&zip);
    let tgz = t.path().join("archive-20230601-ann.tar.gz");
    let mut g = Tgz::create(&tgz, LongNames::UstarPrefix);
    for (name, bytes) in &entries {
        z.add(name, bytes);
        g.add(name, bytes);
    }
    z.finish();
    g.finish();
    let (records, summary) = same_package(&t.path().join("data"), &zip, &tgz, t.path());
    assert_eq!(records["social/social.jsonl"].len(), 10, "{records:?}");
    let first = records["social/social.jsonl"].iter().find(|l| l.contains("statuses/101\"")).unwrap();
    assert!(first.contains("abc123.jpg"), "the post's media from the tar: {first}");
    let warned = summary["files"]["warnings"].as_array().unwrap();
    assert!(warned.iter().any(|w| w.as_str().unwrap().contains(&long) && w.as_str().unwrap().contains("not understood")), "{warned:?}");
}

#[test]
fn a_damaged_or_hostile_tgz_fails_with_its_reason_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let pkg = t.path().join("p.zip");
    // truncated: the first part cut in half
    let parts = takeout::write_tgz_parts(&t.path().join("cut"), &takeout::entries(takeout::Locale::English), 2);
    let bytes = std::fs::read(&parts[0]).unwrap();
    std::fs::write(&parts[0], &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, out) = export(&data, &parts[1], &pkg);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("truncated") && out.contains("-001.tgz"), "{out}");
    assert!(!pkg.exists(), "no half-written package");
    // a path that climbs out of the archive
    let evil = t.path().join("evil.tar.gz");
    let mut g = Tgz::create(&evil, LongNames::UstarPrefix);
    g.add("outbox.json", b"{}");
    g.add("../actor.json", b"{}");
    g.finish();
    let (code, _, out) = export(&data, &evil, &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("unsafe path") && out.contains("../actor.json"), "{out}");
    // a tar bomb: a file that unpacks to far more than the archive's size allows
    let bomb = t.path().join("bomb.tgz");
    let mut g = Tgz::create(&bomb, LongNames::Gnu);
    g.add("outbox.json", b"{}");
    g.add("likes.json", &vec![b' '; 64 << 20]);
    g.finish();
    let (code, _, out) = export(&data, &bomb, &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("tar bomb"), "{out}");
    // a tar that is not compressed: said so, with what to do
    let plain = t.path().join("archive.tar");
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&evil).unwrap()).read_to_end(&mut tar).unwrap();
    std::fs::write(&plain, &tar).unwrap();
    let (code, _, out) = export(&data, &plain, &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("not compressed") && out.contains(".tgz"), "{out}");
    assert!(!pkg.exists());
}
