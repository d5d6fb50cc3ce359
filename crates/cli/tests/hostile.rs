//! Hostile and broken input: each gives a clear error and a non-zero exit, and nothing
//! is written outside the destination.
mod common;
use common::*;
use std::io::Write;
use std::path::Path;

fn zip_with(path: &Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, body) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true))
            .unwrap();
        z.write_all(body).unwrap();
    }
    z.finish().unwrap();
}

const MANIFEST: &[u8] =
    br#"{"format":"ferry-package","version":1,"created":"2025-01-01T00:00:00Z","generator":"x","source":"x","verticals":{},"files":[]}"#;

#[test]
fn zip_with_traversal_or_absolute_paths_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let dst = t.path().join("inner").join("dst");
    for bad in ["../../evil.txt", "/tmp/ferry-evil-absolute.txt", "media/../../evil.txt"] {
        let z = t.path().join("bad.zip");
        zip_with(&z, &[("manifest.json", MANIFEST), (bad, b"gotcha")]);
        let o = ferry(&data, &["import", z.to_str().unwrap(), "--to", &format!("dir:{}", dst.display())]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("unsafe path"), "{bad}: {}", text(&o));
        let o = ferry(&data, &["verify", z.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    }
    assert!(!t.path().join("evil.txt").exists() && !t.path().join("inner/evil.txt").exists());
    assert!(!Path::new("/tmp/ferry-evil-absolute.txt").exists());
}

#[test]
fn zip_bomb_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let z = t.path().join("bomb.zip");
    let zeros = vec![0u8; 256 << 20];
    zip_with(&z, &[("manifest.json", MANIFEST), ("files/zeros.bin", &zeros)]);
    drop(zeros);
    assert!(std::fs::metadata(&z).unwrap().len() < 2 << 20, "a tiny file");
    let o = ferry(&t.path().join("data"), &["import", z.to_str().unwrap(), "--to", &format!("dir:{}", t.path().join("dst").display())]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("ZIP bomb"), "{}", text(&o));
    assert!(!t.path().join("dst/files").exists());
}

#[test]
fn symlink_in_a_source_folder_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    std::fs::create_dir_all(src.join("files")).unwrap();
    std::fs::write(t.path().join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(t.path().join("secret.txt"), src.join("files/link.txt")).unwrap();
    std::fs::write(src.join("files/ok.txt"), "inside").unwrap();
    let dst = t.path().join("dst");
    let o = ferry(
        &t.path().join("data"),
        &["transfer", "--from", &format!("dir:{}", src.display()), "--to", &format!("dir:{}", dst.display())],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
    assert!(dst.join("files/ok.txt").exists());
    let copied: Vec<_> = walk(&dst).into_iter().filter(|p| std::fs::read_to_string(p).map(|s| s == "outside").unwrap_or(false)).collect();
    assert!(copied.is_empty(), "the linked file was not copied: {copied:?}");
}

fn transfer_expecting_item_errors(files: &[(&str, Vec<u8>)], expect: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    for (name, body) in files {
        let p = src.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let dst = t.path().join("dst");
    let o = ferry(
        &t.path().join("data"),
        &["transfer", "--from", &format!("dir:{}", src.display()), "--to", &format!("dir:{}", dst.display())],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains(expect), "expected `{expect}` in: {}", text(&o));
    text(&o)
}

#[test]
fn truncated_mbox() {
    let mbox =
        b"From a@x Mon Jan  6 09:00:00 2025\nSubject: one\n\nbody\n\nFrom b@x Mon Jan  6 09:00:00 2025\nSubject: two\nFrom: b@x\nTo: som"
            .to_vec();
    let out = transfer_expecting_item_errors(&[("mail/INBOX.mbox", mbox)], "truncated");
    assert!(out.contains("INBOX.mbox"), "{out}");
}

#[test]
fn vcard_with_a_100_mb_line() {
    let mut card = b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Huge\r\nNOTE:".to_vec();
    card.resize(card.len() + (100 << 20), b'x');
    card.extend_from_slice(b"\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nUID:ok\r\nFN:Fine\r\nEND:VCARD\r\n");
    let out = transfer_expecting_item_errors(&[("contacts/big.vcf", card)], "line longer than");
    assert!(out.contains("big.vcf line 4"), "{out}");
    assert!(out.contains("contacts         2            1"), "the good card still goes: {out}");
}

#[test]
fn invalid_utf8() {
    let card = b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u\r\nFN:Bad \xff\xfe\r\nEND:VCARD\r\n".to_vec();
    transfer_expecting_item_errors(&[("contacts/bad.vcf", card)], "not valid UTF-8");
}

#[test]
fn ics_with_an_unterminated_component() {
    let ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20250101T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:cut\r\nSUMMARY:never closed\r\n".to_vec();
    let out = transfer_expecting_item_errors(&[("calendar/cut.ics", ics)], "never closed");
    assert!(out.contains("calendar         2            1"), "{out}");
}

#[test]
fn tampered_package_fails_verify_and_import_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let pkg = t.path().join("pkg");
    let o = ferry(&data, &["export", &format!("dir:{}", example_account().display()), "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // change one photo by one byte
    let photo = walk(&pkg.join("media")).into_iter().find(|p| p.extension().is_some_and(|e| e == "jpg")).unwrap();
    let mut bytes = std::fs::read(&photo).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 1;
    std::fs::write(&photo, bytes).unwrap();
    let name = photo.strip_prefix(&pkg).unwrap().to_string_lossy().into_owned();
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains(&name) && text(&o).contains("altered"), "{}", text(&o));
    let o = ferry(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", t.path().join("dst").display())]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("SHA-256"), "{}", text(&o));

    // a manifest whose hash for a file does not match
    let pkg2 = t.path().join("pkg2");
    let o = ferry(&data, &["export", &format!("dir:{}", example_account().display()), "-o", pkg2.to_str().unwrap(), "--only", "contacts"]);
    assert!(o.status.success(), "{}", text(&o));
    let m = std::fs::read_to_string(pkg2.join("manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&m).unwrap();
    for f in manifest["files"].as_array_mut().unwrap() {
        if f["path"] == "contacts/contacts.jsonl" {
            f["sha256"] = serde_json::Value::String("0".repeat(64));
        }
    }
    std::fs::write(pkg2.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    let o = ferry(&data, &["verify", pkg2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(text(&o).contains("contacts/contacts.jsonl"), "{}", text(&o));
    let o = ferry(&data, &["import", pkg2.to_str().unwrap(), "--to", &format!("dir:{}", t.path().join("dst2").display())]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("contacts/contacts.jsonl") && text(&o).contains("does not match the manifest"), "{}", text(&o));
}

#[test]
fn not_a_package() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("x.zip");
    std::fs::write(&f, b"this is no zip").unwrap();
    let o = ferry(&t.path().join("data"), &["verify", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(text(&o).contains("not a readable ZIP"), "{}", text(&o));
    let missing = t.path().join("missing.zip");
    let o = ferry(&t.path().join("data"), &["import", missing.to_str().unwrap(), "--to", "dir:/tmp/ferry-x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("missing.zip"), "{}", text(&o));
}
