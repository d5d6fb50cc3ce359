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
    let ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20250101T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:cut\r\nSUMMARY:never \
        closed\r\n".to_vec();
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
    assert_eq!(o.status.code(), Some(2), "a missing source is a usage error: {}", text(&o));
    assert!(text(&o).contains("missing.zip"), "{}", text(&o));
}

/// A real package (contacts only) as a ZIP, for forging.
fn real_zip(dir: &Path) -> std::path::PathBuf {
    let pkg = dir.join("real.zip");
    let o = ferry(
        &dir.join("data"),
        &["export", &format!("dir:{}", example_account().display()), "--only", "contacts", "-o", pkg.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = ferry(&dir.join("data"), &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    pkg
}

fn replace_bytes(bytes: &mut [u8], from: &[u8], to: &[u8], only_first: bool) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            n += 1;
            if only_first {
                break;
            }
        }
        i += 1;
    }
    n
}

#[test]
fn zip_with_two_entries_of_one_name_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let real = real_zip(t.path());
    // a hidden README first, then every entry of the real package: the ZIP library keeps
    // the last entry of a name, other tools the first
    let forged = t.path().join("forged.zip");
    {
        let mut src = zip::ZipArchive::new(std::fs::File::open(&real).unwrap()).unwrap();
        let mut z = zip::ZipWriter::new(std::fs::File::create(&forged).unwrap());
        z.start_file("README.tx_", zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)).unwrap();
        z.write_all(b"Ignore the manifest; the real data is at http://evil.example").unwrap();
        for i in 0..src.len() {
            z.raw_copy_file(src.by_index(i).unwrap()).unwrap();
        }
        z.finish().unwrap();
    }
    let mut bytes = std::fs::read(&forged).unwrap();
    assert_eq!(replace_bytes(&mut bytes, b"README.tx_", b"README.txt", false), 2);
    std::fs::write(&forged, bytes).unwrap();
    let o = ferry(&t.path().join("data"), &["verify", forged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("same name"), "{}", text(&o));
}

#[test]
fn zip_whose_local_header_names_another_file_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let real = real_zip(t.path());
    let mut bytes = std::fs::read(&real).unwrap();
    // the first occurrence is the local header; the central directory keeps the real name
    assert_eq!(replace_bytes(&mut bytes, b"README.txt", b"README.exe", true), 1);
    let forged = t.path().join("forged.zip");
    std::fs::write(&forged, bytes).unwrap();
    let o = ferry(&t.path().join("data"), &["verify", forged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("inconsistent"), "{}", text(&o));
}

/// One MiB of zeros, compressed once (about 1 KB).
fn compressed_mib(dir: &Path) -> zip::ZipArchive<std::fs::File> {
    let p = dir.join("one.zip");
    zip_with(&p, &[("z", &vec![0u8; 1 << 20])]);
    zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap()
}

#[test]
fn zip_of_many_small_high_ratio_entries_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let mut one = compressed_mib(t.path());
    let bomb = t.path().join("bomb.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
        z.start_file("manifest.json", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(MANIFEST).unwrap();
        // 1,200 entries of 1 MiB each (none over the per-entry floor): 1.2 GB from ~1.5 MB
        for i in 0..1200 {
            z.raw_copy_file_rename(one.by_index(0).unwrap(), format!("files/z{i}.bin")).unwrap();
        }
        z.finish().unwrap();
    }
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 << 20);
    let data = t.path().join("data");
    let o = ferry(&data, &["verify", bomb.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("ZIP bomb"), "{}", text(&o));
    let o = ferry(&data, &["import", bomb.to_str().unwrap(), "--to", &format!("dir:{}", t.path().join("dst").display())]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("ZIP bomb"), "{}", text(&o));
    assert!(!t.path().join("dst/files").exists());
}

#[test]
fn zip_whose_entries_share_one_compressed_block_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let bomb = t.path().join("shared.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
        z.start_file("manifest.json", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(MANIFEST).unwrap();
        z.start_file("files/z0.bin", zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated))
            .unwrap();
        z.write_all(&vec![0u8; 1 << 20]).unwrap();
        for i in 1..100 {
            z.shallow_copy_file("files/z0.bin", &format!("files/z{i}.bin")).unwrap();
        }
        z.finish().unwrap();
    }
    let o = ferry(&t.path().join("data"), &["verify", bomb.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("ZIP bomb") || text(&o).contains("inconsistent"), "{}", text(&o));
}
