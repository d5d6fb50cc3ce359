//! Notes end to end: Markdown files with front matter in a folder, through a package and
//! back into another folder, byte for byte; a broken note fails alone, with its reason.

mod common;
use common::*;
use std::path::Path;

fn write(p: &Path, body: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().display().to_string(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn notes_go_through_a_package_and_back_unchanged() {
    let t = tempfile::tempdir().unwrap();
    let (src, data) = (t.path().join("src"), t.path().join("data"));
    let joplin = b"---\ntitle: Shopping\nupdated: 2021-03-20 15:21:09Z\ncreated: 2021-03-20 15:20:58Z\ntags:\n  - home\n---\n\nmilk\n";
    let obsidian = "\u{feff}---\r\ntags: [\"#idea\", project]\r\naliases: [Big idea]\r\n---\r\nText \u{e9}\r\n".as_bytes();
    write(&src.join("notes/Home/shopping.md"), joplin);
    write(&src.join("notes/idea.md"), obsidian);
    write(&src.join("notes/todo.txt"), b"call the bank\n");
    write(&src.join("notes/broken.md"), b"---\ntitle: never closed\nbody\n");
    write(&src.join("README.md"), b"# not a note: outside notes/\n");
    let pkg = t.path().join("p.zip");
    let o = ferry(&data, &["--json", "export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "the broken note fails alone: {}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = &report["report"]["verticals"]["notes"];
    assert_eq!((notes["transferred"].as_u64(), notes["failed"].as_u64()), (Some(3), Some(1)), "{report}");
    assert!(notes["failures"][0]["reason"].as_str().unwrap().contains("never ends"), "{report}");
    assert_eq!(report["report"]["verticals"]["files"]["transferred"], 1, "README.md stays a file: {report}");

    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut z = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(names.iter().any(|n| n == "notes/notes.jsonl"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("notes/Home/") && n.ends_with(".md")), "{names:?}");
    assert!(names.iter().any(|n| n == "schemas/note.schema.json"), "{names:?}");
    let mut jsonl = String::new();
    std::io::Read::read_to_string(&mut z.by_name("notes/notes.jsonl").unwrap(), &mut jsonl).unwrap();
    let shopping =
        jsonl.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|r| r["id"] == "notes/Home/shopping.md");
    let rec = &shopping.expect("the note's record")["record"];
    assert_eq!((rec["type"].as_str(), rec["vertical"].as_str(), rec["title"].as_str()), (Some("note"), Some("notes"), Some("Shopping")));
    assert_eq!(rec["tags"], serde_json::json!(["home"]));
    assert_eq!(rec["created"], "2021-03-20T15:20:58Z");

    let dst = t.path().join("dst");
    let o = ferry(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", dst.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let back = files_under(&dst.join("notes"));
    let bodies: Vec<&[u8]> = back.iter().map(|(_, b)| b.as_slice()).collect();
    for want in [joplin.as_slice(), obsidian, b"call the bank\n"] {
        assert_eq!(bodies.iter().filter(|b| **b == want).count(), 1, "{:?} once in {back:?}", String::from_utf8_lossy(want));
    }
    assert!(back.iter().any(|(p, _)| p.starts_with("Home/")), "the notebook is kept: {back:?}");
    // and again: nothing doubled
    let o = ferry(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", dst.display())]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(files_under(&dst.join("notes")), back);
}

/// A note's attached files (`NAME.attachments/` beside it) travel with it, through a
/// package and into another folder, and are not also counted as files or photos.
#[test]
fn attached_files_travel_with_their_note() {
    let t = tempfile::tempdir().unwrap();
    let (src, data) = (t.path().join("src"), t.path().join("data"));
    let png: Vec<u8> = [b"\x89PNG\r\n\x1a\n".as_slice(), &(0..=255u8).collect::<Vec<_>>()].concat();
    write(&src.join("notes/Home/plan.md"), b"---\ntitle: Plan\nattachments: [diagram.png, data.csv]\n---\nsee the diagram\n");
    write(&src.join("notes/Home/plan.attachments/diagram.png"), &png);
    write(&src.join("notes/Home/plan.attachments/data.csv"), b"a,b\n1,2\n");
    // a folder of that form with no note beside it is plain files
    write(&src.join("notes/orphan.attachments/x.bin"), b"x");
    let pkg = t.path().join("p.zip");
    let o = ferry(&data, &["--json", "export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = &report["report"]["verticals"];
    assert_eq!((v["notes"]["transferred"].as_u64(), v["files"]["transferred"].as_u64()), (Some(1), Some(1)), "{report}");
    assert_eq!(v["media"]["transferred"], 0, "the diagram is the note's, not a photo: {report}");
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let z = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert_eq!(names.iter().filter(|n| n.starts_with("notes/attachments/")).count(), 2, "{names:?}");

    let dst = t.path().join("dst");
    for _ in 0..2 {
        let o = ferry(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", dst.display())]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let back = files_under(&dst.join("notes/Home"));
    assert_eq!(back.len(), 3, "the note and its two files, once: {back:?}");
    let find = |suffix: &str| back.iter().find(|(p, _)| p.ends_with(suffix)).map(|(p, b)| (p.clone(), b.clone()));
    let (note, _) = find(".md").expect("the note");
    let (diagram, bytes) = find(".attachments/diagram.png").expect("its diagram");
    assert_eq!(bytes, png);
    assert_eq!(diagram.trim_end_matches("/diagram.png"), format!("{}.attachments", note.trim_end_matches(".md")));
    assert_eq!(find(".attachments/data.csv").unwrap().1, b"a,b\n1,2\n");

    // and folder to folder again: the copy's attachments are read as its own
    let again = t.path().join("again");
    let o = ferry(&data, &["--json", "transfer", "--from", &format!("dir:{}", dst.display()), "--to", &format!("dir:{}", again.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["report"]["verticals"]["files"]["transferred"], 1, "only the orphan folder's file: {report}");
    assert_eq!(files_under(&again.join("notes/Home")).len(), 3);
}
