//! Platform archives end to end (`archive:PATH`), on archives made by the generators in
//! `fixtures/`: every record arrives in the package with its fields, the package verifies,
//! a package made again from it through `dir:` holds the same items, a file no rule reads
//! is reported, and a damaged or hostile archive fails with its reason and leaves nothing.

mod archive_checks;
mod common;
mod fixtures;
use archive_checks::*;
use common::*;
use fixtures::{Zip, mastodon, takeout, write_tree, x};
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn a_multi_part_takeout_arrives_whole_with_nothing_counted_twice() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let parts = takeout::write_parts(&t.path().join("in"), &takeout::entries(takeout::Locale::English), 3);
    let pkg = t.path().join("takeout.zip");
    // naming any one part reads them all
    let (code, report, out) = export(&data, &format!("archive:{}", parts[1].display()), &pkg);
    assert_eq!(code, Some(3), "the task without an id fails alone: {out}");

    // contacts: three people, the label's file listed as repeating them
    assert_eq!(count(&report, "contacts", "transferred"), 3, "{report}");
    let skipped = problems(&report, "files");
    let family = skipped.iter().find(|(k, _)| k.ends_with("Family.vcf")).expect("the label's file is listed");
    assert!(family.1.contains("All Contacts already holds"), "{family:?}");
    // calendar: the weekly event and its moved occurrence are one item
    assert_eq!(count(&report, "calendar", "transferred"), 2, "{report}");
    // tasks: in their list, the one without an id failed with why
    let tasks = by_id(&records(&pkg, "tasks/tasks.jsonl"));
    assert_eq!((tasks["T1"]["container"].as_str(), tasks["T2"]["record"]["status"].as_str()), (Some("My Tasks"), Some("COMPLETED")));
    assert_eq!(tasks["T2"]["record"]["parent"], "T1");
    assert!(problems(&report, "tasks").values().any(|r| r.contains("without an id")), "{report}");
    // mail: in the folders their labels say, keywords for the rest
    let mail = records(&pkg, "mail/messages.jsonl");
    let folders: BTreeMap<String, (String, Vec<String>)> = mail
        .iter()
        .map(|r| {
            let flags = r["record"]["flags"].as_array().into_iter().flatten().map(|f| f.as_str().unwrap().to_owned()).collect();
            (r["record"]["subject"].as_str().unwrap().to_owned(), (r["container"].as_str().unwrap().to_owned(), flags))
        })
        .collect();
    assert_eq!(folders["hello"].0, "INBOX");
    assert!(folders["hello"].1.contains(&"\\Seen".to_owned()) && folders["hello"].1.contains(&"$CATEGORY_PERSONAL".to_owned()));
    assert_eq!(folders["sent-one"].0, "Sent");
    assert_eq!(folders["plan"].0, "Work, 2021", "{folders:?}");
    assert!(!folders["plan"].1.contains(&"\\Seen".to_owned()), "unread stays unread: {folders:?}");
    assert!(folders["plan"].1.iter().any(|f| f.contains("Gesch")), "the encoded label is a keyword: {folders:?}");

    // photos: the year-folder copy is the album's item; the edited copy is its own
    assert_eq!(count(&report, "media", "transferred"), 5, "{report}");
    let media = by_id(&records(&pkg, "media/media.jsonl"));
    let lisbon = &media["Takeout/Google Photos/Lisbon/IMG_0001.jpg"];
    assert_eq!(lisbon["container"], "Lisbon 2021", "the album's title from its metadata.json");
    assert_eq!(lisbon["record"]["taken_at"], "2021-01-04T10:00:00", "from the sidecar");
    assert_eq!(lisbon["record"]["location"]["latitude"], 38.7223);
    assert!(skipped["Takeout/Google Photos/Photos from 2021/IMG_0001.jpg"].contains("same file as"), "{skipped:?}");
    let copy_sidecar = "Takeout/Google Photos/Photos from 2021/IMG_0001.jpg.supplemental-metadata.json";
    assert!(skipped[copy_sidecar].contains("repeats the one read"), "the copy's sidecar is a repeat, not unknown: {skipped:?}");
    let edited = &media["Takeout/Google Photos/Lisbon/IMG_0001-edited.jpg"];
    assert_eq!(edited["record"]["taken_at"], "2021-01-04T10:00:00", "the edited copy shares its original's sidecar");
    let dup = &media["Takeout/Google Photos/Photos from 2021/IMG_0002(1).jpg"];
    assert_eq!(dup["record"]["location"]["latitude"], 41.1579, "IMG_0002(1).jpg pairs with IMG_0002.jpg(1).json");
    let w = warnings(&report, "media");
    assert!(w["Takeout/Google Photos/Photos from 2021/IMG_0002(1).jpg"].contains("people"), "what has no place is reported: {w:?}");
    let long = &media["Takeout/Google Photos/Photos from 2021/Screenshot_2021-02-03-11-22-33-456_com.example.app.png"];
    assert_eq!(long["record"]["taken_at"], "2021-02-03T11:22:33", "the cut sidecar name is found");
    let video = &media["Takeout/Google Photos/Photos from 2021/PXL_20210405_101112345.mp4"];
    assert_eq!(video["record"]["taken_at"], "2021-04-05T10:11:12", "no sidecar, no EXIF: the name");

    // Keep: a list note with its label and attachment; its HTML listed as a repeat
    let notes = records(&pkg, "notes/notes.jsonl");
    assert_eq!(notes.len(), 1);
    let n = &notes[0]["record"];
    assert_eq!((n["title"].as_str(), n["pinned"].as_bool()), (Some("Shopping"), Some(true)));
    assert!(n["body"].as_str().unwrap().contains("- [x] bread"), "{n}");
    assert_eq!(n["tags"], serde_json::json!(["home"]));
    assert_eq!(n["attachments"], serde_json::json!(["1a2b3c.png"]));
    assert_eq!(n["extra"]["color"], "YELLOW", "what the note has no field for is kept");
    assert!(skipped["Takeout/Keep/Shopping.html"].contains("repeats"));

    // Fit: a session as a workout, a row of the daily metrics as a summary each
    let health = by_id(&records(&pkg, "health/health.jsonl"));
    assert_eq!(health.len(), 3, "{:?}", health.keys().collect::<Vec<_>>());
    assert_eq!(health["fit-day:2021-01-04"]["record"]["metadata"]["Step count"], "8012");
    assert!(health.values().any(|h| h["record"]["kind"] == "workout" && h["record"]["distance"] == "5012.25"));
    // every other file: kept as a file, and said to be not understood
    let fw = warnings(&report, "files");
    for f in [
        "Takeout/My Activity/Search/MyActivity.html",
        "Takeout/Google Photos/print-subscriptions.json",
        "Takeout/Google Photos/Photos from 2021/IMG_0099.jpg.json",
    ] {
        assert!(fw.get(f).is_some_and(|w| w.contains("not understood") && w.contains("bytes")), "{f}: {fw:?}");
    }
    assert!(!fw.contains_key("Takeout/Drive/Reports/report.pdf"), "a Drive file is a file, understood: {fw:?}");
    assert!(skipped.keys().filter(|k| k.ends_with("archive_browser.html")).count() >= 1, "{skipped:?}");
    verifies_and_survives_a_folder(&data, &pkg, &t.path().join("out"));
}

#[test]
fn a_german_takeout_extracted_to_a_folder_reads_the_same() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let root = t.path().join("Takeout-extracted");
    let mut entries = takeout::entries(takeout::Locale::German);
    // a folder records no CRC-32: two photos of one name and size in an album and a year
    // folder are one item only when their bytes are the same (IMG_0001 is; these are not)
    entries.push(("Takeout/Google Fotos/Lisbon/IMG_0003.jpg".into(), fixtures::photo_bytes(7, 1800)));
    entries.push(("Takeout/Google Fotos/Fotos von 2021/IMG_0003.jpg".into(), fixtures::photo_bytes(8, 1800)));
    write_tree(&root, &entries);
    let pkg = t.path().join("p.zip");
    let (code, report, out) = export(&data, &format!("archive:{}", root.display()), &pkg);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(count(&report, "contacts", "transferred"), 3, "{report}");
    assert_eq!(count(&report, "mail", "transferred"), 3, "{report}");
    assert_eq!(count(&report, "media", "transferred"), 7, "Fotos von 2021 is a year folder, -bearbeitet an edited copy: {report}");
    let media = by_id(&records(&pkg, "media/media.jsonl"));
    assert_eq!(media["Takeout/Google Fotos/Lisbon/IMG_0001-bearbeitet.jpg"]["record"]["taken_at"], "2021-01-04T10:00:00");
    assert!(!media.contains_key("Takeout/Google Fotos/Fotos von 2021/IMG_0001.jpg"), "the same bytes are one item");
    for f in ["Lisbon", "Fotos von 2021"] {
        assert!(media.contains_key(&format!("Takeout/Google Fotos/{f}/IMG_0003.jpg")), "{f}: other bytes are an item of their own");
    }
    // asking for contacts only: the rest is listed, not read
    let only = t.path().join("only.zip");
    let o = ferry(&data, &["--json", "export", &format!("archive:{}", root.display()), "--only", "contacts", "-o", only.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(records(&only, "contacts/contacts.jsonl").len(), 3);
}

#[test]
fn a_mastodon_archive_gives_posts_boosts_likes_and_relations_with_their_media() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let zip = t.path().join("archive-20230601-ann.zip");
    let mut z = Zip::create(&zip);
    for (name, bytes) in mastodon::entries() {
        z.add(&name, &bytes);
    }
    z.finish();
    let pkg = t.path().join("p.zip");
    let (code, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
    assert_eq!(code, Some(0), "{out}");
    let social = by_id(&records(&pkg, "social/social.jsonl"));
    // 4 posts, 1 boost, 2 likes, 1 bookmark, 1 followed account, 1 list
    assert_eq!(social.len(), 10, "{:?}", social.keys().collect::<Vec<_>>());
    let first = &social["https://social.example/users/ann/statuses/101"];
    assert_eq!(first["record"]["visibility"], "public");
    assert_eq!(first["attached"].as_array().map(Vec::len), Some(1), "{first}");
    assert_eq!(social["https://social.example/users/ann/statuses/102"]["record"]["visibility"], "unlisted");
    assert_eq!(
        social["https://social.example/users/ann/statuses/102"]["record"]["in_reply_to"],
        "https://other.example/users/bob/statuses/5"
    );
    assert_eq!(social["https://social.example/users/ann/statuses/103"]["record"]["visibility"], "private");
    assert_eq!(social["https://social.example/users/ann/statuses/104"]["record"]["visibility"], "direct");
    assert_eq!(social["https://social.example/users/ann/statuses/105"]["record"]["kind"], "repost");
    assert_eq!(social["like:https://third.example/notes/9"]["record"]["kind"], "like");
    assert_eq!(social["bookmark:https://third.example/notes/9"]["record"]["kind"], "bookmark");
    assert_eq!(social["list:Friends"]["record"]["members"], serde_json::json!(["bob@other.example", "carl@third.example"]));
    let w = warnings(&report, "social");
    assert!(w["https://social.example/users/ann/statuses/101"].contains("gone.png"), "a missing media file is said: {w:?}");
    let fw = warnings(&report, "files");
    assert!(fw["actor.json"].contains("profile"), "{fw:?}");
    assert!(fw["featured_tags.json"].contains("not understood"), "{fw:?}");
    assert!(!fw.contains_key("media_attachments/files/110/000/001/original/abc123.jpg"), "the post's media is the post's: {fw:?}");
    // the CSV files Mastodon's import page takes
    let mut zp = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let mut csv = String::new();
    std::io::Read::read_to_string(&mut zp.by_name("social/following_accounts.csv").unwrap(), &mut csv).unwrap();
    assert!(csv.contains("bob@other.example,true,false"), "{csv}");
    // and the ActivityStreams collections, as Mastodon's archive has them
    let mut collection = |path: &str| -> Value {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zp.by_name(path).unwrap(), &mut s).unwrap();
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("{path}: {e}: {s}"))
    };
    let outbox = collection("social/outbox.json");
    assert_eq!(outbox["type"], "OrderedCollection");
    let types: Vec<&str> = outbox["orderedItems"].as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!((types.iter().filter(|t| **t == "Create").count(), types.iter().filter(|t| **t == "Announce").count()), (4, 1), "{types:?}");
    assert_eq!(collection("social/likes.json")["orderedItems"].as_array().map(Vec::len), Some(2));
    assert_eq!(collection("social/following.json")["orderedItems"], serde_json::json!(["bob@other.example"]));
    assert_eq!(collection("social/followers.json")["orderedItems"], serde_json::json!([]));
    verifies_and_survives_a_folder(&data, &pkg, &t.path().join("out"));
}

#[test]
fn both_x_archive_variants_give_tweets_with_media_likes_and_follows() {
    for variant in [x::Variant::Y2022, x::Variant::Y2019] {
        let t = tempfile::tempdir().unwrap();
        let data = t.path().join("data");
        let zip = t.path().join("twitter-2022-10-10.zip");
        let mut z = Zip::create(&zip);
        for (name, bytes) in x::entries(variant) {
            z.add(&name, &bytes);
        }
        z.finish();
        let pkg = t.path().join("p.zip");
        let (code, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
        assert_eq!(code, Some(0), "{out}");
        let social = by_id(&records(&pkg, "social/social.jsonl"));
        assert_eq!(social.len(), 7, "3 tweets, a like, a follower, two followed: {:?}", social.keys().collect::<Vec<_>>());
        let first = &social["1050118621198921728"];
        assert_eq!(first["record"]["published"], "2018-10-10T20:19:24Z");
        assert_eq!(first["attached"].as_array().map(Vec::len), Some(1), "{first}");
        assert_eq!(first["record"]["activity"]["x:tweet"]["favorite_count"], "3", "the tweet travels whole");
        assert_eq!(social["1050118621198921729"]["record"]["in_reply_to"], "https://x.com/bob/status/1050000000000000000");
        let rt = &social["1050118621198921730"]["record"];
        assert_eq!(rt["kind"], "repost");
        assert_eq!(rt["url"], "https://x.com/i/web/status/1050118621198921730", "{rt}");
        assert!(rt["object"].is_null(), "the archive does not say which tweet a retweet repeats: {rt}");
        assert_eq!(social["following:333"]["record"]["account"], "https://x.com/intent/user?user_id=333", "a number as an id");
        // a direct-message conversation, in time order, with its reaction and its image
        let dms = records(&pkg, "conversations/conversations.jsonl");
        assert_eq!(dms.len(), 1);
        let m = dms[0]["record"]["messages"].as_array().unwrap();
        assert_eq!((m[0]["id"].as_str(), m[1]["id"].as_str(), m[1]["parent"].as_str()), (Some("554"), Some("555"), Some("554")));
        assert_eq!(m[1]["reactions"][0]["name"], "like");
        assert_eq!(dms[0]["attached"].as_array().map(Vec::len), Some(1), "{}", dms[0]);
        let fw = warnings(&report, "files");
        assert!(!fw.contains_key("data/direct_messages_media/555-x.jpg"), "the message's image is the message's: {fw:?}");
        assert!(fw["data/ad-engagements.js"].contains("not understood"), "{fw:?}");
        assert!(fw["data/account.js"].contains("profile"), "{fw:?}");
        assert!(problems(&report, "files")["Your archive.html"].contains("repeats"));
        verifies_and_survives_a_folder(&data, &pkg, &t.path().join("out"));
    }
}

#[test]
fn damaged_hostile_and_unknown_archives_fail_with_their_reason_and_leave_nothing() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    // truncated: the second half of a part is missing
    let parts = takeout::write_parts(&t.path().join("in"), &takeout::entries(takeout::Locale::English), 2);
    let bytes = std::fs::read(&parts[0]).unwrap();
    std::fs::write(&parts[0], &bytes[..bytes.len() / 2]).unwrap();
    let pkg = t.path().join("p.zip");
    let (code, _, out) = export(&data, &format!("archive:{}", parts[0].display()), &pkg);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("not a readable ZIP"), "{out}");
    assert!(!pkg.exists(), "no half-written package");

    // a path that climbs out, and a link in an extracted folder
    let evil = t.path().join("evil.zip");
    let mut z = Zip::create(&evil);
    z.add("outbox.json", b"{}");
    z.add("../actor.json", b"{}");
    z.finish();
    let (code, _, out) = export(&data, &format!("archive:{}", evil.display()), &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("unsafe path"), "{out}");
    let linked = t.path().join("linked");
    write_tree(&linked, &mastodon::entries());
    std::os::unix::fs::symlink("/etc/passwd", linked.join("likes2.json")).unwrap();
    let (code, _, out) = export(&data, &format!("archive:{}", linked.display()), &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("link"), "{out}");

    // a ZIP bomb: one entry that unpacks to far more than its size allows
    let bomb = t.path().join("bomb.zip");
    let mut z = Zip::create(&bomb);
    z.add("outbox.json", b"{}");
    z.add("actor.json", b"{}");
    z.add_streamed("likes.json", {
        let mut left = 64u32;
        move |w| {
            w.write_all(&[b' '; 1 << 20]).unwrap();
            left -= 1;
            left > 0
        }
    });
    z.finish();
    let (code, _, out) = export(&data, &format!("archive:{}", bomb.display()), &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("ZIP bomb"), "{out}");

    // an archive of no platform ferry knows
    let other = t.path().join("other.zip");
    let mut z = Zip::create(&other);
    z.add("photos/a.jpg", b"x");
    z.finish();
    let (code, _, out) = export(&data, &format!("archive:{}", other.display()), &pkg);
    assert_ne!(code, Some(0));
    assert!(out.contains("not an archive ferry recognises") && out.contains("Google Takeout") && out.contains("photos"), "{out}");
    assert!(!pkg.exists());
}

/// The benchmark's generated Takeout (`bench/takeout.sh`), small and in several parts:
/// ferry finds every item it was made with, keeps every file no rule reads, and lists
/// every repeat: the counts the benchmark checks, so that a benchmark run cannot be the
/// first to notice a change.
#[test]
fn the_benchmarks_generated_takeout_arrives_with_the_counts_it_was_made_with() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let c = takeout::write_large(&t.path().join("parts"), 0.05, 8_000_000);
    assert!(c.parts.len() >= 3, "{:?}", c.parts);
    let pkg = t.path().join("out.zip");
    let (code, report, out) = export(&data, &format!("archive:{}", c.parts[1].display()), &pkg);
    assert_eq!(code, Some(0), "{out}");
    for (v, n) in [
        ("contacts", c.contacts),
        ("calendar", c.events),
        ("mail", c.messages),
        ("media", c.media),
        ("notes", c.notes),
        ("web", c.chrome_visits),
    ] {
        assert_eq!((count(&report, v, "transferred"), count(&report, v, "failed")), (n, 0), "{v}: {out}");
    }
    assert_eq!(count(&report, "files", "transferred"), c.not_understood, "{out}");
    // album copies, the year-folder sidecars of photos also in an album, label files,
    // Keep's HTML, and the index page every part repeats (one id)
    let listed = c.album_copies + c.album_sidecars + c.label_files + c.repeats + 1;
    assert_eq!(count(&report, "files", "skipped"), listed, "{out}");
    assert!(c.album_sidecars > 0 && c.edited > 0 && c.album_copies > c.album_sidecars, "{c:?}");
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

/// A photo whose bytes were damaged inside the ZIP after it was written (its CRC-32 no
/// longer matches): that photo fails, with the reason, and every other item arrives; the
/// package holds no damaged copy and verifies.
#[test]
fn a_photo_damaged_inside_the_zip_fails_alone_with_its_reason() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let zip = t.path().join("takeout-20250101T120000Z-001.zip");
    let (good, bad) = (fixtures::photo_bytes(1, 300_000), fixtures::photo_bytes(2, 300_000));
    let mut z = Zip::create(&zip);
    z.add("Takeout/Google Photos/Photos from 2021/IMG_20210704_183005.jpg", &good);
    z.add("Takeout/Google Photos/Photos from 2021/IMG_20210705_090000.jpg", &bad);
    z.finish();
    let mut bytes = std::fs::read(&zip).unwrap();
    let at = bytes.windows(64).position(|w| w == &bad[1000..1064]).expect("the photo is stored");
    bytes[at + 10] ^= 0x01;
    std::fs::write(&zip, &bytes).unwrap();

    let pkg = t.path().join("out.zip");
    let (_, report, out) = export(&data, &format!("archive:{}", zip.display()), &pkg);
    assert_eq!(count(&report, "media", "transferred"), 1, "{out}");
    assert_eq!(count(&report, "media", "failed"), 1, "{out}");
    let why = problems(&report, "media");
    let reason = &why["Takeout/Google Photos/Photos from 2021/IMG_20210705_090000.jpg"];
    assert!(reason.contains("CRC-32"), "{reason}");
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let recs = records(&pkg, "media/media.jsonl");
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["id"], "Takeout/Google Photos/Photos from 2021/IMG_20210704_183005.jpg");
}
