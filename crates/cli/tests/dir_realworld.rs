//! The dir connector on folders as they are found in the wild: maildirs nested in
//! maildirs (Maildir++ dot-folders and plain), maildirs whose empty folders a copy
//! dropped, flags written with `;2,`, links and FIFOs where files should be, and a
//! destination that already holds files ferry did not write.

mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs ferry through a shell, with a umask and a time limit (a read that blocks on a
/// FIFO must fail the test, not hang it: `timeout` exits 124).
fn ferry_sh(data: &Path, umask: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("ferry runs")
}

/// `ferry --json transfer --from dir:SRC --to dir:DST`; the report.
fn transfer(t: &Path, src: &Path, dst: &Path) -> (Output, serde_json::Value) {
    let o = ferry_sh(
        &t.join("data"),
        "022",
        &["--json", "transfer", "--from", &format!("dir:{}", src.display()), "--to", &format!("dir:{}", dst.display())],
    );
    assert_ne!(o.status.code(), Some(124), "ferry hung: {}", text(&o));
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (o, report)
}

fn vertical<'a>(report: &'a serde_json::Value, v: &str) -> &'a serde_json::Value {
    &report["report"]["verticals"][v]
}

/// `item: reason` of every failure (or fidelity warning) of a vertical.
fn problems(report: &serde_json::Value, v: &str, kind: &str) -> Vec<String> {
    vertical(report, v)[kind]
        .as_array()
        .map(|a| a.iter().map(|p| format!("{}: {}", p["item"].as_str().unwrap_or(""), p["reason"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default()
}

fn write(p: &Path, body: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn message(n: u32) -> Vec<u8> {
    format!("From: a@example.org\r\nTo: b@example.org\r\nSubject: message {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\nbody {n}\r\n")
        .into_bytes()
}

/// Every message written under `dst/mail`: its number -> (folder, flag letters), with how
/// many copies there are.
fn written_messages(dst: &Path) -> BTreeMap<u32, Vec<(String, String)>> {
    let mut out: BTreeMap<u32, Vec<(String, String)>> = BTreeMap::new();
    for p in walk(&dst.join("mail")) {
        let sub = p.parent().unwrap();
        let leaf = sub.file_name().unwrap().to_string_lossy();
        if leaf != "cur" && leaf != "new" {
            continue;
        }
        let folder = sub.parent().unwrap().strip_prefix(dst.join("mail")).unwrap().to_string_lossy().into_owned();
        let body = std::fs::read_to_string(&p).unwrap();
        let n: u32 = body.split("Subject: message ").nth(1).unwrap().split('\r').next().unwrap().parse().unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let flags = name.split_once(":2,").map(|(_, f)| f.to_owned()).unwrap_or_default();
        out.entry(n).or_default().push((folder, flags));
    }
    out
}

fn expect(pairs: &[(u32, &str, &str)]) -> BTreeMap<u32, Vec<(String, String)>> {
    pairs.iter().map(|(n, f, fl)| (*n, vec![((*f).to_owned(), (*fl).to_owned())])).collect()
}

#[test]
fn a_maildir_plus_plus_root_as_the_source_gives_every_folder_once() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("Maildir");
    // the root (INBOX), complete
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(src.join(d)).unwrap();
    }
    write(&src.join("cur/1700000001.M1P1.host:2,S"), &message(1));
    write(&src.join("new/1700000002.M2P1.host"), &message(2));
    write(&src.join("dovecot-uidlist"), b"3 V1700000000 N3\n");
    write(&src.join("subscriptions"), b"Sent\nArchive.2012\n");
    // Maildir++ folders whose empty tmp/ (and new/ or cur/) a copy dropped
    write(&src.join(".Sent/cur/1700000003.M3P1.host:2,RS"), &message(3));
    write(&src.join(".Sent/maildirfolder"), b"");
    write(&src.join(".Archive.2012/cur/1700000004.M4P1.host;2,FS"), &message(4));
    write(&src.join(".Archive.2012/cur/1700000005.M5P1.host!2,D"), &message(5));
    write(&src.join(".Entw&APw-rfe/new/1700000006.M6P1.host"), &message(6));
    // a Dovecot keyword letter (b = Work, from that folder's own keywords file), which a
    // maildir destination cannot keep
    write(&src.join(".Archive/dovecot-keywords"), b"0 $Junk\n1 Work\n");
    write(&src.join(".Archive/cur/1700000007.M7P1.host:2,Sb"), &message(7));

    let dst = t.path().join("dst");
    let (o, report) = transfer(t.path(), &src, &dst);
    assert!(o.status.success(), "{}", text(&o));
    let got = written_messages(&dst);
    let want = expect(&[
        (1, "INBOX", "S"),
        (2, "INBOX", ""),
        (3, "Sent", "RS"),
        (4, "Archive/2012", "FS"),
        (5, "Archive/2012", "D"),
        (6, "Entwürfe", ""),
        (7, "Archive", "S"),
    ]);
    assert_eq!(got, want);
    assert_eq!(vertical(&report, "mail")["found"], 7, "{report}");
    // the maildir's own files are not data
    assert_eq!(vertical(&report, "files")["found"], 0, "{report}");
    let warnings = problems(&report, "mail", "fidelity_warnings");
    assert!(warnings.iter().any(|w| w.contains("keyword Work not kept")), "{warnings:?}");
}

#[test]
fn nested_plain_maildirs_and_dot_folders_inside_a_tree_are_all_found() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    // mail/work is a maildir holding the maildir mail/work/project, which holds another
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(src.join("mail/work").join(d)).unwrap();
    }
    write(&src.join("mail/work/cur/1700000011.M1P1.host:2,S"), &message(11));
    write(&src.join("mail/work/project/cur/1700000012.M2P1.host:2,F"), &message(12));
    write(&src.join("mail/work/project/2019/new/1700000013.M3P1.host"), &message(13));
    // a home folder's Maildir with a dot-folder beside it (only cur/ survived the copy)
    write(&src.join("home/Maildir/cur/1700000014.M4P1.host;2,RS"), &message(14));
    write(&src.join("home/Maildir/.Lists.rust/cur/1700000015.M5P1.host;2,S"), &message(15));
    // an ordinary file beside them stays a file
    write(&src.join("home/notes.txt"), b"notes");

    let dst = t.path().join("dst");
    let (o, report) = transfer(t.path(), &src, &dst);
    assert!(o.status.success(), "{}", text(&o));
    let want = expect(&[
        (11, "work", "S"),
        (12, "work/project", "F"),
        (13, "work/project/2019", ""),
        (14, "home/Maildir", "RS"),
        (15, "home/Maildir/Lists/rust", "S"),
    ]);
    assert_eq!(written_messages(&dst), want);
    assert_eq!(vertical(&report, "mail")["found"], 5, "{report}");
    assert_eq!(vertical(&report, "files")["found"], 1, "only notes.txt: {report}");
}

#[test]
fn a_maildir_message_outside_a_maildir_is_reported_under_mail() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    // a flattened backup: messages with maildir names but no cur/ or new/
    write(&src.join("backup/1700000021.M1P1.host:2,S"), &message(21));
    let dst = t.path().join("dst");
    let (o, report) = transfer(t.path(), &src, &dst);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let failures = problems(&report, "mail", "failures");
    assert!(failures.iter().any(|f| f.contains("backup/1700000021.M1P1.host:2,S") && f.contains("carried as a file")), "{failures:?}");
    assert_eq!(vertical(&report, "files")["transferred"], 1, "{report}");
}

/// A folder `outside/` with what must never be read through a link.
fn outside(t: &Path) -> PathBuf {
    let o = t.join("outside");
    write(&o.join("passwd"), b"root:x:0:0:OUTSIDE-SECRET:/root:/bin/sh\n");
    write(&o.join("meta.json"), br#"{"title":"OUTSIDE-SECRET"}"#);
    o
}

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

fn nothing_leaked(dst: &Path) {
    for p in walk(dst) {
        let body = std::fs::read(&p).unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("OUTSIDE-SECRET"), "{} holds what a link pointed to", p.display());
    }
}

#[test]
fn links_and_fifos_in_maildirs_are_reported_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let out = outside(t.path());
    let src = t.path().join("src");
    // m1: cur/ is a link to another folder
    for d in ["new", "tmp"] {
        std::fs::create_dir_all(src.join("m1").join(d)).unwrap();
    }
    write(&src.join("m1/new/1700000031.M1P1.host"), &message(31));
    std::os::unix::fs::symlink(&out, src.join("m1/cur")).unwrap();
    // m2: a linked message and a FIFO among real messages
    write(&src.join("m2/cur/1700000032.M2P1.host:2,S"), &message(32));
    std::os::unix::fs::symlink(out.join("passwd"), src.join("m2/cur/1700000033.M3P1.host:2,S")).unwrap();
    mkfifo(&src.join("m2/cur/1700000034.M4P1.host:2,S"));

    let dst = t.path().join("dst");
    let (o, report) = transfer(t.path(), &src, &dst);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    nothing_leaked(&dst);
    assert_eq!(written_messages(&dst), expect(&[(31, "m1", ""), (32, "m2", "S")]));
    let failures = problems(&report, "mail", "failures");
    assert!(failures.iter().any(|f| f.starts_with("m1/cur:") && f.contains("symbolic link")), "{failures:?}");
    assert!(failures.iter().any(|f| f.contains("1700000033") && f.contains("symbolic link")), "{failures:?}");
    assert!(failures.iter().any(|f| f.contains("1700000034") && f.contains("special file")), "{failures:?}");
    assert_eq!(failures.len(), 3, "each once: {failures:?}");
}

#[test]
fn photo_sidecars_that_are_links_or_fifos_are_not_read() {
    let t = tempfile::tempdir().unwrap();
    let out = outside(t.path());
    let src = t.path().join("src");
    for n in ["zero", "fifo", "away"] {
        write(&src.join(format!("media/{n}.jpg")), format!("not really a jpeg: {n}").as_bytes());
    }
    std::os::unix::fs::symlink("/dev/zero", src.join("media/zero.jpg.json")).unwrap();
    mkfifo(&src.join("media/fifo.jpg.json"));
    std::os::unix::fs::symlink(out.join("meta.json"), src.join("media/away.jpg.json")).unwrap();

    let dst = t.path().join("dst");
    let (o, report) = transfer(t.path(), &src, &dst);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    nothing_leaked(&dst);
    // the photos go, each sidecar is reported once (under media, not again under files)
    for n in ["zero", "fifo", "away"] {
        assert!(dst.join(format!("media/{n}.jpg")).is_file(), "{n}");
    }
    let failures = problems(&report, "media", "failures");
    for n in ["zero", "fifo", "away"] {
        assert!(failures.iter().any(|f| f.starts_with(&format!("media/{n}.jpg.json:"))), "{n}: {failures:?}");
    }
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert_eq!(vertical(&report, "files")["found"], 0, "{report}");
}

#[test]
fn a_broken_calendar_file_is_counted_once_with_its_line() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    // only blank lines (an export that wrote nothing): the whole file fails, not one object
    write(&src.join("calendar/broken.ics"), b"\r\n\r\n");
    // stray text: an object-level failure, also once
    write(&src.join("calendar/stray.ics"), b"this is not a calendar\n");
    write(
        &src.join("calendar/good.ics"),
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250102T090000Z\r\nSUMMARY:e\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    );
    let dst = t.path().join("dst");
    let (o, report) = transfer(t.path(), &src, &dst);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let cal = problems(&report, "calendar", "failures");
    assert_eq!(cal.len(), 2, "{cal:?}");
    assert!(cal.iter().any(|c| c.contains("calendar/broken.ics line 1") && c.contains("no BEGIN:VCALENDAR")), "{cal:?}");
    assert!(cal.iter().any(|c| c.contains("calendar/stray.ics line 1")), "{cal:?}");
    assert_eq!(vertical(&report, "tasks")["failed"], 0, "{report}");
    assert_eq!(vertical(&report, "tasks")["transferred"], 1, "{report}");
}

/// Asked for tasks alone, a calendar file that cannot be read is still reported (under
/// tasks), and one walk of the tree gives the tasks of a file that also holds events.
#[test]
fn a_broken_calendar_file_is_reported_when_only_tasks_are_asked() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    write(&src.join("calendar/broken.ics"), b"\r\n\r\n");
    write(
        &src.join("calendar/good.ics"),
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250102T090000Z\r\nSUMMARY:e\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    );
    let dst = t.path().join("dst");
    let o = ferry_sh(
        &t.path().join("data"),
        "022",
        &["--json", "transfer", "--from", &format!("dir:{}", src.display()), "--to", &format!("dir:{}", dst.display()), "--only", "tasks"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tasks = problems(&report, "tasks", "failures");
    assert!(tasks.len() == 1 && tasks[0].contains("calendar/broken.ics line 1"), "{tasks:?}");
    assert_eq!(vertical(&report, "tasks")["transferred"], 1, "{report}");
    assert!(report["report"]["verticals"].get("calendar").is_none(), "events were not asked for: {report}");
}

#[test]
fn the_destination_never_replaces_a_file_ferry_did_not_write() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    write(&src.join("files/notes.txt"), b"notes from the source");
    write(&src.join("media/p.jpg"), b"photo bytes");
    write(&src.join("media/p.jpg.json"), br#"{"title":"Source title"}"#);
    let dst = t.path().join("dst");
    write(&dst.join("files/notes.txt"), b"the user's own notes");
    write(&dst.join("media/p.jpg"), b"photo bytes");
    write(&dst.join("media/p.jpg.json"), br#"{"title":"The user's title"}"#);

    let (o, report) = transfer(t.path(), &src, &dst);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(dst.join("files/notes.txt")).unwrap(), b"the user's own notes");
    assert_eq!(std::fs::read(dst.join("media/p.jpg.json")).unwrap(), br#"{"title":"The user's title"}"#);
    // the source's file went beside it, under a name with a hash of its id
    let beside: Vec<_> = walk(&dst.join("files")).into_iter().filter(|p| std::fs::read(p).unwrap() == b"notes from the source").collect();
    assert_eq!(beside.len(), 1, "{beside:?}");
    assert!(beside[0].file_name().unwrap().to_string_lossy().starts_with("notes ("), "{beside:?}");
    let warnings = problems(&report, "media", "fidelity_warnings");
    assert!(warnings.iter().any(|w| w.contains("p.jpg.json") && w.contains("did not write")), "{warnings:?}");
    // a second run changes nothing
    let before: Vec<_> = walk(&dst);
    let (o, report) = transfer(t.path(), &src, &dst);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(vertical(&report, "files")["already_present"], 1, "{report}");
    assert_eq!(walk(&dst).len(), before.len());
}

#[test]
fn a_link_planted_at_a_temporary_name_is_not_written_through() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    write(&src.join("files/notes.txt"), b"notes from the source");
    let victim = t.path().join("victim.txt");
    write(&victim, b"must stay");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    // the temporary name ferry used to write to, guessable from the item id
    let tag = &hex::encode(Sha256::digest(b"files/notes.txt"))[..8];
    let dst = t.path().join("dst");
    std::fs::create_dir_all(dst.join("files")).unwrap();
    std::os::unix::fs::symlink(&victim, dst.join(format!("files/.notes ({tag}).txt.ferry-tmp"))).unwrap();

    let (o, _) = transfer(t.path(), &src, &dst);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&victim).unwrap(), b"must stay");
    assert_eq!(std::fs::metadata(&victim).unwrap().permissions().mode() & 0o7777, 0o600);
    assert_eq!(std::fs::read(dst.join("files/notes.txt")).unwrap(), b"notes from the source");
}

#[test]
fn file_modes_are_masked_by_the_umask_and_never_set_id() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    write(&src.join("files/tool.sh"), b"#!/bin/sh\n");
    std::fs::set_permissions(src.join("files/tool.sh"), std::fs::Permissions::from_mode(0o6777)).unwrap();
    let dst = t.path().join("dst");
    let o = ferry_sh(
        &t.path().join("data"),
        "027",
        &["transfer", "--from", &format!("dir:{}", src.display()), "--to", &format!("dir:{}", dst.display())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let mode = std::fs::metadata(dst.join("files/tool.sh")).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o750, "{mode:o}");
}

/// An event that names a time zone no VTIMEZONE in its file defines arrives as written,
/// with a fidelity warning naming the zone, at a folder and in a package; one whose zone is
/// defined (in another case, by a lower-case parameter) has none.
#[test]
fn a_time_zone_defined_nowhere_is_a_fidelity_warning() {
    let t = tempfile::tempdir().unwrap();
    let (src, dst) = (t.path().join("src"), t.path().join("dst"));
    let tz = "BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{tz}BEGIN:VEVENT\r\nUID:defined\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;tzid=europe/oslo:20250301T100000\r\nSUMMARY:zone \
            defined\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:undefined\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Mars/Olympus_Mons:20250301T100000\r\nSUMMARY:zone \
            nowhere\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    write(&src.join("calendar/Home.ics"), ics.as_bytes());
    let (o, report) = transfer(t.path(), &src, &dst);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let warnings = problems(&report, "calendar", "fidelity_warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("Mars/Olympus_Mons"), "{warnings:?}");
    let pkg = t.path().join("p.zip");
    let o = ferry(&t.path().join("data"), &["--json", "export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings = problems(&report, "calendar", "fidelity_warnings");
    assert!(warnings.len() == 1 && warnings[0].contains("Mars/Olympus_Mons"), "{warnings:?}");
}
