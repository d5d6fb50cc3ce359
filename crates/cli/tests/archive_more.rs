//! More platforms' archives end to end: ChatGPT and Claude (conversations), a Slack
//! workspace, Spotify (playlists), Apple Health, a folder of bank statements (finance),
//! Amazon's order history (orders), each made by `fixtures::more`, and a Takeout's Chrome
//! bookmarks and history (web, `fixtures::chrome`): every record arrives with its fields,
//! the package verifies and survives a folder, unknown files are reported, a broken file
//! fails alone.

mod archive_checks;
mod common;
mod fixtures;
use archive_checks::*;
use common::*;
use fixtures::{Zip, chrome, more};
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Run {
    pkg: PathBuf,
    report: Value,
    code: Option<i32>,
    out: String,
}

impl Run {
    /// The package survives a folder `t/NAME-folder` (see `verifies_and_survives_a_folder`).
    fn survives_a_folder(&self, t: &Path) {
        let name = self.pkg.file_stem().unwrap().to_str().unwrap().replace("-package", "-folder");
        verifies_and_survives_a_folder(&t.join("data"), &self.pkg, &t.join(name));
    }
}

fn run(t: &Path, name: &str, entries: &[(String, Vec<u8>)]) -> Run {
    let zip = t.join(format!("{name}.zip"));
    let mut z = Zip::create(&zip);
    for (n, b) in entries {
        z.add(n, b);
    }
    z.finish();
    let pkg = t.join(format!("{name}-package.zip"));
    let o = ferry(&t.join("data"), &["--json", "export", &format!("archive:{}", zip.display()), "-o", pkg.to_str().unwrap()]);
    let report = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let v = ferry(&t.join("data"), &["verify", pkg.to_str().unwrap()]);
    assert!(!pkg.exists() || v.status.success(), "{}", text(&v));
    Run { pkg, report, code: o.status.code(), out: text(&o) }
}

#[test]
fn chatgpt_conversations_keep_their_branches_and_files() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), "chatgpt", &more::chatgpt());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let convs = records(&r.pkg, "conversations/conversations.jsonl");
    assert_eq!(convs.len(), 2, "{convs:?}");
    let c = convs.iter().find(|c| c["record"]["title"] == "Ferries").expect("the first conversation");
    let messages = c["record"]["messages"].as_array().unwrap();
    // the edited question and its first answer are kept, off the visible path
    let hidden: Vec<&Value> = messages.iter().filter(|m| m["visible"] == false).collect();
    assert!(hidden.iter().any(|m| m["id"] == "u1") && hidden.iter().any(|m| m["id"] == "a1"), "{messages:?}");
    assert!(messages.iter().any(|m| m["id"] == "a2" && m["visible"] == true));
    assert_eq!(c["record"]["model"], "gpt-4o", "{c}");
    assert_eq!(c["attached"].as_array().map(Vec::len), Some(1), "the image the question shows: {c}");
    assert!(listed(&r.report, "files", "failures")["chat.html"].contains("repeats"));
    assert!(not_understood(&r.report, "message_feedback.json"), "{}", r.report);
    r.survives_a_folder(t.path());
    // a cut-off conversations.json: the conversations before the cut, and the file fails with why
    let mut entries = more::chatgpt();
    let cut = entries[0].1.len() - 40;
    entries[0].1.truncate(cut);
    let r = run(t.path(), "cut", &entries);
    assert_eq!(r.code, Some(3), "{}", r.out);
    let failures = listed(&r.report, "conversations", "failures");
    assert!(failures.values().any(|w| w.contains("conversations.json")), "{failures:?}");
}

#[test]
fn claude_conversations_and_a_slack_workspace_arrive_as_conversations() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), "claude", &more::claude());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let convs = records(&r.pkg, "conversations/conversations.jsonl");
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["record"]["platform"], "claude");
    assert_eq!(convs[0]["record"]["messages"].as_array().map(Vec::len), Some(2));
    assert!(listed(&r.report, "files", "fidelity_warnings")["projects.json"].contains("projects"));
    r.survives_a_folder(t.path());

    let r = run(t.path(), "slack", &more::slack());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let convs = records(&r.pkg, "conversations/conversations.jsonl");
    assert_eq!(convs.len(), 1, "a channel over two days is one conversation: {convs:?}");
    let messages = convs[0]["record"]["messages"].as_array().unwrap();
    assert!(messages.len() >= 3, "{messages:?}");
    let reply = messages.iter().find(|m| m["content"].to_string().contains("Same again")).unwrap();
    assert!(reply["parent"].as_str().is_some(), "a reply on the next day stays in its thread: {reply}");
    assert!(not_understood(&r.report, "integration_logs.json"), "{}", r.report);
    r.survives_a_folder(t.path());
}

#[test]
fn spotify_playlists_and_library_arrive_as_playlists() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), "spotify", &more::spotify());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let lists = records(&r.pkg, "playlists/playlists.jsonl");
    let titles: Vec<&str> = lists.iter().map(|l| l["record"]["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Road trip") && titles.contains(&"Mr. Brightside covers") && titles.contains(&"Liked Songs"), "{titles:?}");
    let road = lists.iter().find(|l| l["record"]["title"] == "Road trip").unwrap();
    assert_eq!(road["record"]["tracks"].as_array().map(Vec::len), Some(2), "the local file without a URI is kept: {road}");
    assert!(not_understood(&r.report, "Spotify Account Data/StreamingHistory_music_0.json"), "{}", r.report);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&r.pkg).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(names.iter().any(|n| n.ends_with("Road trip.xspf")) && names.iter().any(|n| n.ends_with("Road trip.m3u8")), "{names:?}");
    let _ = z.by_name("playlists/playlists.jsonl").unwrap();
    r.survives_a_folder(t.path());
}

#[test]
fn apple_health_samples_workouts_and_routes_arrive_once_each() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), "export", &more::apple_health());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let recs = records(&r.pkg, "health/health.jsonl");
    let kinds: Vec<&str> = recs.iter().map(|h| h["record"]["kind"].as_str().unwrap()).collect();
    // 4 samples, the blood-pressure correlation (its two samples are not counted again),
    // a workout, a daily summary, and the profile
    assert_eq!(recs.len(), 8, "{kinds:?}");
    let workout = recs.iter().find(|h| h["record"]["kind"] == "workout").unwrap();
    assert_eq!(workout["attached"].as_array().map(Vec::len), Some(1), "the route: {workout}");
    assert!(listed(&r.report, "files", "failures")["apple_health_export/export_cda.xml"].contains("repeats"));
    assert!(not_understood(&r.report, "apple_health_export/electrocardiograms/ecg_2024-01-12.csv"), "{}", r.report);
    r.survives_a_folder(t.path());
}

#[test]
fn bank_statements_and_an_order_history_keep_money_exact() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), "bank", &more::bank());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let recs = records(&r.pkg, "finance/finance.jsonl");
    let amounts: Vec<&str> = recs.iter().filter_map(|f| f["record"]["amount"].as_str()).collect();
    for a in ["-12.50", "2000.00", "-850.00", "-3.40"] {
        assert!(amounts.contains(&a), "{a} in {amounts:?}");
    }
    assert!(not_understood(&r.report, "statements/notes.xml"), "an XML file that is no statement: {}", r.report);
    r.survives_a_folder(t.path());

    let r = run(t.path(), "orders", &more::amazon());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let orders = records(&r.pkg, "orders/orders.jsonl");
    assert_eq!(orders.len(), 2, "two rows of one order are one order: {orders:?}");
    let o = orders.iter().find(|o| o["record"]["number"] == "111-1").unwrap();
    assert_eq!(o["record"]["lines"].as_array().map(Vec::len), Some(2), "{o}");
    assert!(not_understood(&r.report, "Retail.CustomerReturns.1.1/Retail.CustomerReturns.1.1.csv"), "{}", r.report);
    r.survives_a_folder(t.path());
}

#[test]
fn chrome_bookmarks_and_history_arrive_as_web_items_and_come_back_from_a_folder() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), "takeout-chrome", &chrome::entries());
    assert_eq!(r.code, Some(0), "{}", r.out);
    let recs = records(&r.pkg, "web/web.jsonl");
    let find = |url: &str, kind: &str| {
        recs.iter().find(|w| w["record"]["url"] == url && w["record"]["kind"] == kind).unwrap_or_else(|| panic!("{url} in {recs:?}"))
    };
    // four bookmarks, one reading list entry, three visits
    assert_eq!(recs.len(), 8, "{recs:?}");
    let ferry_bar = find("https://ferry.example/?a=1&b=2", "bookmark");
    assert_eq!(ferry_bar["container"], "Bookmarks bar");
    assert_eq!(ferry_bar["record"]["title"], "Ferry & boats");
    assert_eq!(ferry_bar["record"]["added"], "2021-01-01T00:01:40Z");
    assert_eq!(ferry_bar["record"]["position"], 1);
    assert_eq!(ferry_bar["record"]["options"]["ICON"], "data:image/png;base64,iVBORw0KGgo=");
    assert_eq!(ferry_bar["record"]["folders"][0]["options"]["PERSONAL_TOOLBAR_FOLDER"], "true");
    let mail = find("https://mail.example/", "bookmark");
    assert_eq!((mail["container"].as_str(), mail["record"]["position"].as_u64()), (Some("Bookmarks bar/Work"), Some(2)));
    assert_eq!(mail["record"]["title"], "Mail – Posteingang");
    assert_eq!(find("https://wiki.example/start", "bookmark")["container"], "Bookmarks bar/Work");
    assert_eq!(find("https://recipes.example/bread", "bookmark")["container"], "Other bookmarks");
    let later = find("https://news.example/long-read", "bookmark");
    assert_eq!(
        (later["container"].as_str(), later["record"]["added"].as_str()),
        (Some("Reading list"), Some("2021-01-01T00:10:00.123456Z"))
    );
    let search = find("https://www.google.com/search?q=ferries", "visit");
    assert_eq!(search["container"], "History");
    assert_eq!(search["record"]["visited"], "2021-01-01T00:00:00.123456Z");
    assert_eq!(search["record"]["transition"], "LINK");
    assert_eq!(search["record"]["client_id"], "c1Ab==");
    assert_eq!(search["record"]["favicon_url"], "https://www.google.com/favicon.ico");
    assert_eq!(search["record"]["title"], "ferries - Google Search");
    let redirect = find("https://ferry.example/", "visit");
    assert_eq!(
        (redirect["record"]["visited"].as_str(), redirect["record"]["transition"].as_str()),
        (Some("2021-01-01T00:01:00Z"), Some("CLIENT_REDIRECT"))
    );
    assert!(redirect["record"].get("title").is_none(), "an empty title is none: {redirect}");
    // the state beside the history is said, not kept as items
    let warned = listed(&r.report, "web", "fidelity_warnings");
    assert!(warned.values().any(|w| w.contains("`Typed Url` (1 entries)")), "{warned:?}");
    // Chrome's other files, and My Activity's, are not understood
    for f in [
        "Chrome/Autofill.json",
        "Chrome/Extensions.json",
        "Chrome/Dictionary.csv",
        "Chrome/Device Information.json",
        "My Activity/Chrome/MyActivity.html",
    ] {
        assert!(not_understood(&r.report, &format!("Takeout/{f}")), "{f}: {}", r.report);
    }
    // a browser's bookmark file per folder, in the folder's order; the history as CSV
    let mut z = zip::ZipArchive::new(std::fs::File::open(&r.pkg).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}")), &mut s).unwrap();
        s
    };
    let work = read("web/Bookmarks bar/Work.html");
    assert!(work.starts_with("<!DOCTYPE NETSCAPE-Bookmark-file-1>"), "{work}");
    assert!(work.contains("PERSONAL_TOOLBAR_FOLDER=\"true\">Bookmarks bar</H3>") && work.contains(">Work</H3>"), "{work}");
    assert!(work.find("https://wiki.example/start").unwrap() < work.find("https://mail.example/").unwrap(), "{work}");
    assert!(read("web/Bookmarks bar.html").contains("HREF=\"https://ferry.example/?a=1&amp;b=2\""));
    let csv = read("web/history.csv");
    assert!(csv.starts_with("Time,URL,Title,Transition,Client ID,Favicon URL\n"), "{csv}");
    assert!(
        csv.contains(
            "2021-01-01T00:02:00.000001Z,https://wiki.example/start,\"Wiki, \"\"start\"\"\",TYPED,c1Ab==,https://wiki.example/favicon.ico\n"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(!names.iter().any(|n| n == "web/History.html"), "visits are in no bookmark file: {names:?}");

    // into a folder and out again: the same items
    let dir = t.path().join("dir");
    let o = ferry(&t.path().join("data"), &["import", r.pkg.to_str().unwrap(), "--to", &format!("dir:{}", dir.display())]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.join("web/Bookmarks bar/Work").is_dir() && dir.join("web/History").is_dir(), "{:?}", walk(&dir));
    let again = t.path().join("again.zip");
    let o = ferry(
        &t.path().join("data"),
        &["--json", "export", &format!("dir:{}", dir.display()), "-o", again.to_str().unwrap(), "--only", "web"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let items = |recs: Vec<Value>| {
        let mut v: Vec<String> = recs.iter().map(|w| format!("{} {}", w["container"], w["record"])).collect();
        v.sort();
        v
    };
    assert_eq!(items(records(&again, "web/web.jsonl")), items(recs));
}
