//! The `google:` connector against a stand-in for Google's APIs that follows their
//! published contract (scripts/fakes/google/: the same paths, fields, page sizes, sync
//! tokens, error bodies and limits, and a check of every request ferry sends against
//! what Google would accept: a test fails on any request Google would refuse).
mod common;

use common::ferry_service as ferry_google;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
const CONTACTS_RO: &str = "https://www.googleapis.com/auth/contacts.readonly";

/// The stand-in with three users: alice and bob may write contacts, carol only read them.
struct Fake {
    stand: Stand,
    dir: PathBuf,
    port: u16,
}

impl Fake {
    fn start(dir: &Path, args: &[&str]) -> Fake {
        let (a, b, c) = (format!("alice-refresh={CONTACTS}"), format!("bob-refresh={CONTACTS}"), format!("carol-refresh={CONTACTS_RO}"));
        let mut all = vec!["--grant", &a, "--grant", &b, "--grant", &c];
        all.extend_from_slice(args);
        let stand = Stand::start("google", dir, &all);
        let port = stand.port;
        Fake { stand, dir: dir.to_owned(), port }
    }

    fn uri(&self) -> String {
        format!("google://me?api=http://127.0.0.1:{}", self.port)
    }

    fn tokens(&self, user: &str, scope: &str) -> String {
        self.stand.tokens(&self.dir, &format!("{user}-refresh"), "/token", scope)
    }

    fn call(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        self.stand.call(method, path, body)
    }

    fn answered(&self, status: u16) -> usize {
        self.stand.answered(status)
    }

    fn assert_no_violations(&self) {
        self.stand.assert_no_violations()
    }
}

/// Address books as phones and other services write them: two books, vCard 3.0 and 2.1.
fn address_books(dir: &Path, n: usize) -> String {
    let src = dir.join("books");
    std::fs::create_dir_all(src.join("contacts")).unwrap();
    let mut family = String::new();
    for i in 0..n {
        family.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-{i}\r\nFN:Person {i}\r\nN:{i};Person;;;\r\nEMAIL;TYPE=HOME:p{i}@example.org\r\nTEL;TYPE=CELL:+49 30 {i:07}\r\nEND:VCARD\r\n"
        ));
    }
    family.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:rich\r\nFN:Zoë Ångström-Núñez\r\nN:Ångström-Núñez;Zoë;;Dr.;\r\nEMAIL;TYPE=HOME:zoe@example.org\r\nEMAIL;TYPE=WORK:z@example.com\r\nTEL;TYPE=WORK,FAX:+46 8 1\r\nADR;TYPE=HOME:;;Drottninggatan 1;Stockholm;;111 51;Sweden\r\nBDAY:--02-29\r\nORG:Ferry AB;Research\r\nTITLE:Researcher\r\nROLE:Chemist\r\nX-PHONETIC-FIRST-NAME:Tsoe\r\nX-MANAGER:Hiro\r\nIMPP:xmpp:zoe@example.org\r\nNOTE:Met at the conference\\, twice.\r\nX-SHOE-SIZE:38\r\nEND:VCARD\r\n");
    std::fs::write(src.join("contacts/Family.vcf"), family).unwrap();
    std::fs::write(
        src.join("contacts/Work.vcf"),
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nUID:v21\r\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\nFN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=FCller\r\nTEL;CELL;PREF:+49 171 5550100\r\nEND:VCARD\r\n",
    )
    .unwrap();
    format!("dir:{}", src.display())
}

#[test]
fn contacts_go_into_google_and_out_again_and_a_rerun_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(dir.path(), &[]);
    let data = dir.path().join("data");
    let src = address_books(dir.path(), 120);
    let alice = fake.tokens("alice", CONTACTS);
    let o = ferry_google(&data, &["transfer", "--from", &src, "--to", &fake.uri(), "--to-token-file", &alice]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 122, "{r}");
    assert!(r.to_string().contains("X-SHOE-SIZE: Google contacts have no place for it"), "what Google cannot keep is a warning: {r}");
    // what the card holds beyond ferry's record is in the Person's own fields
    let zoe = people(&fake, "alice").into_iter().find(|p| p.to_string().contains("Zoë")).expect("the rich contact");
    let org = &zoe["organizations"][0];
    assert_eq!(
        (org["name"].as_str(), org["department"].as_str(), org["title"].as_str()),
        (Some("Ferry AB"), Some("Research"), Some("Researcher")),
        "{zoe}"
    );
    assert_eq!(zoe["occupations"][0]["value"], "Chemist", "{zoe}");
    assert_eq!(zoe["names"][0]["phoneticGivenName"], "Tsoe", "{zoe}");
    assert_eq!((zoe["relations"][0]["person"].as_str(), zoe["relations"][0]["type"].as_str()), (Some("Hiro"), Some("manager")), "{zoe}");
    assert_eq!(
        (zoe["imClients"][0]["username"].as_str(), zoe["imClients"][0]["protocol"].as_str()),
        (Some("zoe@example.org"), Some("jabber"))
    );
    // again: nothing new
    let o = ferry_google(&data, &["transfer", "--from", &src, "--to", &fake.uri(), "--to-token-file", &alice]);
    let r = report(&o);
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 122), "{r}");
    // and out again, field by field
    let back = dir.path().join("back.zip");
    let o = ferry_google(&data, &["export", &fake.uri(), "--only", "contacts", "--from-token-file", &alice, "-o", back.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let items = package_items(&back);
    assert_eq!(items.values().sum::<u32>(), 122);
    fake.assert_no_violations();
}

/// The people of `user` at the stand-in, by display name.
fn people(fake: &Fake, user: &str) -> Vec<serde_json::Value> {
    let state = fake.call("GET", "/_fake/state", "");
    let users = &state["users"][user];
    let people = users["people"].as_object().map(|m| m.values().cloned().collect()).or_else(|| users["people"].as_array().cloned());
    people.unwrap_or_else(|| panic!("no people of {user} in {}", &state.to_string()[..state.to_string().len().min(2000)]))
}

#[test]
fn one_google_account_moves_to_another_through_rate_limits_errors_and_expired_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(dir.path(), &[]);
    let data = dir.path().join("data");
    let (alice, bob) = (fake.tokens("alice", CONTACTS), fake.tokens("bob", CONTACTS));
    let a = format!("google://alice?api=http://127.0.0.1:{}", fake.port);
    let b = format!("google://bob?api=http://127.0.0.1:{}", fake.port);
    let o = ferry_google(&data, &["transfer", "--from", &address_books(dir.path(), 450), "--to", &a, "--to-token-file", &alice]);
    assert_eq!(total(&report(&o), "transferred"), 452, "{}", text(&o));
    // on the way from A to B: two 429s without Retry-After, a 403 userRateLimitExceeded
    // with one, two 503s, and every access token revoked
    fake.call("POST", "/_fake/faults", r#"{"rate_limit_after": 3, "status": 429, "retry_after": null, "times": 2}"#);
    fake.call("POST", "/_fake/faults", r#"{"server_error": 503, "after": 6, "times": 2}"#);
    fake.call("POST", "/_fake/faults", r#"{"expire_tokens": true}"#);
    let o = ferry_google(
        &data,
        &["transfer", "--only", "contacts", "--from", &a, "--from-token-file", &alice, "--to", &b, "--to-token-file", &bob],
    );
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 452, "{r}");
    fake.call(
        "POST",
        "/_fake/faults",
        r#"{"rate_limit_after": 2, "status": 403, "reason": "userRateLimitExceeded", "retry_after": 1, "times": 1}"#,
    );
    let o = ferry_google(
        &data,
        &["transfer", "--only", "contacts", "--from", &a, "--from-token-file", &alice, "--to", &b, "--to-token-file", &bob],
    );
    let r = report(&o);
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 452), "a rerun writes nothing: {r}");
    assert_eq!(fake.answered(403), 1, "the per-user rate limit happened");
    let at_b = people(&fake, "bob");
    assert_eq!(at_b.len(), 452, "each contact once at B");
    let rich = at_b.iter().find(|p| p.to_string().contains("Zoë")).expect("the rich contact");
    let s = rich.to_string();
    for part in ["z@example.com", "workFax", "Drottninggatan 1", "Ferry AB", "Researcher", r#""month":2"#, "Met at the conference, twice."]
    {
        assert!(s.contains(part), "{part} in {rich}");
    }
    fake.assert_no_violations();
}

#[test]
fn an_incremental_run_reads_only_changes_and_survives_an_expired_sync_token() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(dir.path(), &[]);
    let data = dir.path().join("data");
    let (alice, bob) = (fake.tokens("alice", CONTACTS), fake.tokens("bob", CONTACTS));
    let a = format!("google://alice?api=http://127.0.0.1:{}", fake.port);
    let b = format!("google://bob?api=http://127.0.0.1:{}", fake.port);
    let o = ferry_google(&data, &["transfer", "--from", &address_books(dir.path(), 40), "--to", &a, "--to-token-file", &alice]);
    assert_eq!(total(&report(&o), "transferred"), 42, "{}", text(&o));
    let ab =
        ["transfer", "--incremental", "--only", "contacts", "--from", &a, "--from-token-file", &alice, "--to", &b, "--to-token-file", &bob];
    let o = ferry_google(&data, &ab);
    assert_eq!(total(&report(&o), "transferred"), 42, "{}", text(&o));
    // two more at A: the next incremental run lists those two only
    let more = dir.path().join("more");
    std::fs::create_dir_all(more.join("contacts")).unwrap();
    std::fs::write(
        more.join("contacts/Family.vcf"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:n1\r\nFN:New One\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nUID:n2\r\nFN:New Two\r\nEND:VCARD\r\n",
    )
    .unwrap();
    let o = ferry_google(&data, &["transfer", "--from", &format!("dir:{}", more.display()), "--to", &a, "--to-token-file", &alice]);
    assert_eq!(total(&report(&o), "transferred"), 2, "{}", text(&o));
    let o = ferry_google(&data, &ab);
    let r = report(&o);
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (2, 2), "only the changes: {r}");
    // two more, and every sync token expires: a full listing, the new ones moved alone
    std::fs::write(more.join("contacts/Family.vcf"), "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:n3\r\nFN:New Three\r\nEND:VCARD\r\n").unwrap();
    let o = ferry_google(&data, &["transfer", "--from", &format!("dir:{}", more.display()), "--to", &a, "--to-token-file", &alice]);
    assert_eq!(total(&report(&o), "transferred"), 1, "{}", text(&o));
    fake.call("POST", "/_fake/faults", r#"{"expire_sync_tokens": true}"#);
    let o = ferry_google(&data, &ab);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (45, 1), "listed in full, one new: {r}");
    assert_eq!(people(&fake, "bob").len(), 45, "no duplicates at B");
    fake.assert_no_violations();
}

#[test]
fn a_read_only_grant_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(dir.path(), &[]);
    let carol = fake.tokens("carol", CONTACTS_RO);
    let o = ferry_google(
        &dir.path().join("data"),
        &["transfer", "--from", &address_books(dir.path(), 3), "--to", &fake.uri(), "--to-token-file", &carol],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("needs the scope https://www.googleapis.com/auth/contacts"), "{}", text(&o));
    // a token file that does not say its scopes: Google's 403 says it
    let path = dir.path().join("carol-quiet.json");
    let mut t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&carol).unwrap()).unwrap();
    t.as_object_mut().unwrap().remove("scope");
    std::fs::write(&path, t.to_string()).unwrap();
    let o = ferry_google(
        &dir.path().join("data"),
        &["transfer", "--from", &address_books(dir.path(), 3), "--to", &fake.uri(), "--to-token-file", path.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("connect it again"), "{}", text(&o));
    assert!(people_or_none(&fake, "carol") == 0, "nothing was written");
}

fn people_or_none(fake: &Fake, user: &str) -> usize {
    let state = fake.call("GET", "/_fake/state", "");
    let p = &state["users"][user]["people"];
    p.as_object().map(|m| m.len()).or_else(|| p.as_array().map(Vec::len)).unwrap_or(0)
}

#[test]
fn a_transfer_into_google_killed_mid_way_resumes_with_each_contact_once() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::start(dir.path(), &[]);
    let data = dir.path().join("data");
    let alice = fake.tokens("alice", CONTACTS);
    let src = address_books(dir.path(), 1500);
    let child = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["transfer", "--from", &src, "--to", &fake.uri(), "--to-token-file", &alice, "--insecure", "--allow-private-network"])
        .env("FERRY_LOG", "ferry_engine=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(kill_after_first_page(child), "killed after its first page and before its end");
    let jobs: serde_json::Value = serde_json::from_slice(&ferry(&data, &["--json", "jobs"]).stdout).unwrap();
    let job = jobs[0]["id"].as_str().unwrap().to_owned();
    let o = ferry_google(&data, &["resume", &job, "--to-token-file", &alice]);
    assert_eq!(report(&o)["report"]["state"], "completed", "{}", text(&o));
    let at = people(&fake, "alice");
    assert_eq!(at.len(), 1502, "each contact once after SIGKILL and resume");
    fake.assert_no_violations();
}

/// Calendars as other software writes them: an Apple-style series with an override and an
/// EXDATE, a Thunderbird all-day event without DTEND, an event with DURATION, a UTC event,
/// a floating one, attendees and alarms, two calendars.
fn calendars(dir: &Path) -> String {
    let src = dir.join("cals");
    std::fs::create_dir_all(src.join("calendar")).unwrap();
    let work = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 14.4//EN\r\n\
        BEGIN:VEVENT\r\nUID:6B29FC40-CA47-1067-B31D-00DD010662DA\r\nDTSTAMP:20250101T000000Z\r\n\
        DTSTART;TZID=Europe/Berlin:20250303T090000\r\nDTEND;TZID=Europe/Berlin:20250303T091500\r\nSUMMARY:Stand-up\r\n\
        RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20250428T070000Z\r\nEXDATE;TZID=Europe/Berlin:20250310T090000\r\n\
        ORGANIZER;CN=Alice:mailto:alice@example.com\r\nATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:bob@example.org\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:6B29FC40-CA47-1067-B31D-00DD010662DA\r\nDTSTAMP:20250101T000000Z\r\n\
        RECURRENCE-ID;TZID=Europe/Berlin:20250317T090000\r\nDTSTART;TZID=Europe/Berlin:20250317T110000\r\n\
        DTEND;TZID=Europe/Berlin:20250317T111500\r\nSUMMARY:Stand-up (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n\
        BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:review-1@example.org\r\nDTSTAMP:20250101T000000Z\r\n\
        DTSTART:20250305T130000Z\r\nDURATION:PT1H\r\nSUMMARY:Review\\, quarterly\r\nDESCRIPTION:Numbers\\nand plans\r\n\
        LOCATION:Room 4\r\nCLASS:PRIVATE\r\nCATEGORIES:Work\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let home = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n\
        BEGIN:VEVENT\r\nUID:trip-2025\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;VALUE=DATE:20250401\r\nSUMMARY:Trip\r\n\
        TRANSP:TRANSPARENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n\
        BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:floating-1\r\nDTSTAMP:20250101T000000Z\r\n\
        DTSTART:20250402T080000\r\nDTEND:20250402T090000\r\nSUMMARY:Breakfast\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    std::fs::write(src.join("calendar/Work.ics"), work).unwrap();
    std::fs::write(src.join("calendar/Home.ics"), home).unwrap();
    format!("dir:{}", src.display())
}

#[test]
fn calendars_go_to_google_and_back_and_a_second_account_follows_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let cal = "https://www.googleapis.com/auth/calendar";
    let (a, b) = (format!("alice-refresh={cal}"), format!("bob-refresh={cal}"));
    let stand = Stand::start("google", dir.path(), &["--grant", &a, "--grant", &b]);
    let uri = format!("google://me?api=http://127.0.0.1:{}", stand.port);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", cal);
    let bob = stand.tokens(dir.path(), "bob-refresh", "/token", cal);
    let data = dir.path().join("data");
    let src = calendars(dir.path());
    let put = ["transfer", "--only", "calendar", "--from", &src, "--to", &uri, "--to-token-file", &alice];
    let o = ferry_google(&data, &put);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 4, "{r}");
    let warnings = r["report"]["verticals"]["calendar"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("CATEGORIES") && warnings.contains("floating"), "{warnings}");
    // Google holds the series as a master, an exception and a cancelled occurrence
    let state = stand.call("GET", "/_fake/state", "");
    let s = state.to_string();
    for part in [
        "UNTIL=20250428T070000Z",
        "EXDATE;TZID=Europe/Berlin:20250310T090000",
        "Stand-up (moved)",
        "review-1@example.org",
        "Numbers\\nand plans",
    ] {
        assert!(s.contains(part), "{part} at Google: {s}");
    }
    let r = report(&ferry_google(&data, &put));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 4), "a rerun writes nothing: {r}");
    // out of Google into a package: one item per series, the override inside it
    let pkg = dir.path().join("google.zip");
    let o = ferry_google(
        &data,
        &["transfer", "--only", "calendar", "--from", &uri, "--from-token-file", &alice, "--to", &format!("package:{}", pkg.display())],
    );
    assert_eq!(total(&report(&o), "transferred"), 4, "{}", text(&o));
    let mut events = String::new();
    let f = std::fs::File::open(&pkg).unwrap();
    std::io::Read::read_to_string(&mut zip::ZipArchive::new(f).unwrap().by_name("calendar/events.jsonl").unwrap(), &mut events).unwrap();
    let series = events.lines().find(|l| l.contains("6B29FC40")).expect("the series");
    assert!(series.contains("FREQ=WEEKLY") && series.contains("2025-03-17T09:00:00") && series.contains("2025-03-10T09:00:00"), "{series}");
    let containers: std::collections::BTreeSet<String> = package_items(&pkg).keys().map(|(_, c, _)| c.clone()).collect();
    assert!(containers.contains("Work") && containers.contains("Home"), "{containers:?}");
    // A to B incrementally: all, then only what changed, then in full when the token expired
    let ab = [
        "transfer",
        "--incremental",
        "--only",
        "calendar",
        "--from",
        &uri,
        "--from-token-file",
        &alice,
        "--to",
        &uri,
        "--to-token-file",
        &bob,
    ];
    let o = ferry_google(&data, &ab);
    assert_eq!(total(&report(&o), "transferred"), 4, "{}", text(&o));
    let more = dir.path().join("more");
    std::fs::create_dir_all(more.join("calendar")).unwrap();
    std::fs::write(
        more.join("calendar/Home.ics"),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:new-1\r\nDTSTART;VALUE=DATE:20250501\r\nSUMMARY:New\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let add = ["transfer", "--only", "calendar", "--from", &format!("dir:{}", more.display()), "--to", &uri, "--to-token-file", &alice];
    assert_eq!(total(&report(&ferry_google(&data, &add)), "transferred"), 1);
    let r = report(&ferry_google(&data, &ab));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (1, 1), "only the change: {r}");
    stand.call("POST", "/_fake/faults", r#"{"expire_sync_tokens": true}"#);
    let r = report(&ferry_google(&data, &ab));
    assert_eq!(r["report"]["state"], "completed", "{r}");
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (5, 0), "listed in full, nothing new: {r}");
    let state = stand.call("GET", "/_fake/state", "");
    let bobs = state["users"]["bob"].to_string();
    assert_eq!(bobs.matches("\"iCalUID\":\"6B29FC40-CA47-1067-B31D-00DD010662DA\"").count(), 2, "the series and its exception once at B");
    stand.assert_no_violations();
}

const GMAIL: &str = "https://www.googleapis.com/auth/gmail.modify";
const GMAIL_RO: &str = "https://www.googleapis.com/auth/gmail.readonly";
const DRIVE: &str = "https://www.googleapis.com/auth/drive";
const DRIVE_RO: &str = "https://www.googleapis.com/auth/drive.readonly";

/// As [`ferry_google`], with uploads in chunks of 256 KiB (Google's smallest), so that a
/// file of a few MiB goes in several.
fn ferry_chunked(data: &Path, args: &[&str]) -> Output {
    Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .args(args)
        .args(["--insecure", "--allow-private-network"])
        .env_remove("FERRY_PASSWORD")
        .env("FERRY_LOG", "ferry_engine=info")
        .env("FERRY_GOOGLE_UPLOAD_CHUNK", "262144")
        .output()
        .unwrap()
}

fn write(p: &Path, body: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// `n` bytes of base64 text in lines of 76, the same on every run.
fn base64_lines(n: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u32 = 2463534242;
    let mut out = String::with_capacity(n + n / 38);
    while out.len() < n {
        for _ in 0..76 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            out.push(alphabet[(x % 64) as usize] as char);
        }
        out.push_str("\r\n");
    }
    out
}

/// Mail as mail programs leave it: a maildir INBOX (CRLF; 8-bit headers; flags in the
/// names, one message unread in new/; a multipart with an attachment; a message without
/// Message-ID; one over 5 MB), a folder `Work` as an mbox with LF line ends (Status
/// headers as mutt writes them), a Sent mbox, and a Drafts maildir.
fn mailboxes(dir: &Path) -> String {
    let src = dir.join("mailboxes");
    let inbox = src.join("mail/INBOX");
    std::fs::create_dir_all(inbox.join("tmp")).unwrap();
    write(
        &inbox.join("cur/1736150400.M1P100.laptop:2,FS"),
        "From: Jürgen Müller <juergen@example.de>\r\nTo: alice@example.com\r\nSubject: Grüße aus Köln\r\n\
         Date: Mon, 06 Jan 2025 09:00:00 +0100\r\nMessage-ID: <m1@example.de>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHallo Alice, schöne Grüße!\r\n"
            .as_bytes(),
    );
    write(
        &inbox.join("new/1736251200.M2P100.laptop"),
        b"From: bob@example.org\nTo: alice@example.com\nSubject: lunch?\nDate: Tue, 07 Jan 2025 12:00:00 +0000\nMessage-ID: <m2@example.org>\n\nAt noon?\n",
    );
    write(
        &inbox.join("cur/1736325000.M3P100.laptop:2,S"),
        b"From: carol@example.org\r\nTo: alice@example.com\r\nSubject: the slides\r\nDate: Wed, 08 Jan 2025 08:30:00 +0000\r\n\
          Message-ID: <m3@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
          Content-Type: text/plain\r\n\r\nSlides attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"slides.pdf\"\r\n\
          Content-Disposition: attachment; filename=\"slides.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
          JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n--b1--\r\n",
    );
    write(
        &inbox.join("cur/1736325600.M4P100.laptop:2,S"),
        b"From: scanner@example.net\r\nTo: alice@example.com\r\nSubject: scan\r\nDate: Wed, 08 Jan 2025 08:40:00 +0000\r\n\r\nA message without a Message-ID.\r\n",
    );
    let big = format!(
        "From: dave@example.org\r\nTo: alice@example.com\r\nSubject: the raw photos\r\nDate: Thu, 09 Jan 2025 10:00:00 +0000\r\n\
         Message-ID: <m5@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n--b2\r\n\
         Content-Type: text/plain\r\n\r\nAll of them.\r\n--b2\r\nContent-Type: application/octet-stream; name=\"raw.zip\"\r\n\
         Content-Disposition: attachment; filename=\"raw.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--b2--\r\n",
        base64_lines(6 << 20)
    );
    write(&inbox.join("cur/1736416800.M5P100.laptop:2,S"), big.as_bytes());
    write(
        &src.join("mail/Work.mbox"),
        b"From alice@example.com Fri Jan 10 09:00:00 2025\nFrom: erin@example.com\nTo: alice@example.com\nSubject: budget\n\
          Date: Fri, 10 Jan 2025 09:00:00 +0000\nMessage-ID: <w1@example.com>\nStatus: RO\n\nThe numbers.\n\n\
          From alice@example.com Fri Jan 10 10:00:00 2025\nFrom: frank@example.com\nTo: alice@example.com\nSubject: review\n\
          Date: Fri, 10 Jan 2025 10:00:00 +0000\nMessage-ID: <w2@example.com>\n\nStill to read.\n\n",
    );
    write(
        &src.join("mail/Sent.mbox"),
        b"From alice@example.com Sat Jan 11 09:00:00 2025\nFrom: alice@example.com\nTo: bob@example.org\nSubject: Re: lunch?\n\
          Date: Sat, 11 Jan 2025 09:00:00 +0000\nMessage-ID: <s1@example.com>\nIn-Reply-To: <m2@example.org>\nStatus: RO\n\nYes.\n\n",
    );
    let drafts = src.join("mail/Drafts");
    std::fs::create_dir_all(drafts.join("tmp")).unwrap();
    std::fs::create_dir_all(drafts.join("new")).unwrap();
    write(
        &drafts.join("cur/1736600000.M9P100.laptop:2,DS"),
        b"From: alice@example.com\r\nTo: grace@example.org\r\nSubject: half a thought\r\nDate: Sat, 11 Jan 2025 13:00:00 +0000\r\n\
          Message-ID: <d1@example.com>\r\n\r\nDear Grace,\r\n",
    );
    format!("dir:{}", src.display())
}

/// The messages of a package: (container, SHA-256) -> count; and each record by subject.
fn package_mail(pkg: &Path) -> (std::collections::BTreeMap<(String, String), u32>, std::collections::BTreeMap<String, serde_json::Value>) {
    let shas = package_items(pkg).into_iter().filter(|(k, _)| k.0 == "mail").map(|((_, c, s), n)| ((c, s), n)).collect();
    let mut body = String::new();
    let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
    std::io::Read::read_to_string(&mut z.by_name("mail/messages.jsonl").unwrap(), &mut body).unwrap();
    let records = body
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|r| (r["record"]["subject"].as_str().unwrap_or_default().to_owned(), r))
        .collect();
    (shas, records)
}

fn gmail_messages(stand: &Stand, user: &str) -> usize {
    stand.call("GET", "/_fake/state", "")["users"][user]["gmail"]["messages"].as_object().map_or(0, |m| m.len())
}

#[test]
fn mail_goes_into_gmail_byte_for_byte_and_out_again_with_its_labels_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let grant = format!("alice-refresh={GMAIL}");
    let stand = Stand::start("google", dir.path(), &["--grant", &grant]);
    let uri = format!("google://alice?api=http://127.0.0.1:{}", stand.port);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", GMAIL);
    let data = dir.path().join("data");
    let src = mailboxes(dir.path());
    // what the messages are, read by ferry from the folders
    let reference = dir.path().join("reference.zip");
    let o = ferry_google(&data, &["export", &src, "--only", "mail", "-o", reference.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let (expected, _) = package_mail(&reference);
    assert_eq!(expected.values().sum::<u32>(), 9, "{expected:?}");

    let put = ["transfer", "--only", "mail", "--from", &src, "--to", &uri, "--to-token-file", &alice];
    let o = ferry_chunked(&data, &put);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 9, "{r}");
    let warnings = r["report"]["verticals"]["mail"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("Imported drafts"), "a draft is said to be a message now: {warnings}");
    // the large message went in a resumable session, in several chunks
    let requests = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    assert_eq!(requests["POST /upload/gmail/v1/users/{userId}/messages/import"], 9, "{requests}");
    assert!(requests["PUT /upload/gmail/v1/users/{userId}/messages/import"].as_u64().unwrap() >= 24, "{requests}");
    // again: Gmail would take every message a second time; ferry finds each instead
    let o = ferry_chunked(&data, &put);
    let r = report(&o);
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 9), "a rerun writes nothing: {r}");
    assert_eq!(gmail_messages(&stand, "alice"), 9);

    // out again: each message byte for byte, folders as labels and back, flags kept
    let pkg = dir.path().join("gmail.zip");
    let o = ferry_google(
        &data,
        &["transfer", "--only", "mail", "--from", &uri, "--from-token-file", &alice, "--to", &format!("package:{}", pkg.display())],
    );
    assert_eq!(total(&report(&o), "transferred"), 9, "{}", text(&o));
    let (got, records) = package_mail(&pkg);
    let drafts_moved: std::collections::BTreeMap<(String, String), u32> =
        expected.into_iter().map(|((c, s), n)| ((if c == "Drafts" { "Imported drafts".to_owned() } else { c }, s), n)).collect();
    assert_eq!(got, drafts_moved, "every message byte for byte, in its folder");
    let flags = |subject: &str| records[subject]["record"]["flags"].as_array().cloned().unwrap_or_default();
    assert_eq!(flags("Grüße aus Köln"), [serde_json::json!("\\Flagged"), serde_json::json!("\\Seen")]);
    assert_eq!(flags("lunch?"), Vec::<serde_json::Value>::new(), "unread stays unread");
    assert_eq!(flags("review"), Vec::<serde_json::Value>::new(), "an mbox message without Status R is unread");
    assert_eq!(flags("budget"), [serde_json::json!("\\Seen")]);
    assert_eq!(records["Re: lunch?"]["container"], "Sent");
    assert!(records["the raw photos"]["record"]["received"].as_str().unwrap().starts_with("2025-01-09T10:00:00"), "internalDate kept");
    stand.assert_no_violations();
}

#[test]
fn gmail_follows_gmail_by_history_and_lists_everything_again_when_the_history_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (format!("alice-refresh={GMAIL}"), format!("bob-refresh={GMAIL}"));
    let stand = Stand::start("google", dir.path(), &["--grant", &a, "--grant", &b]);
    let uri = |user: &str| format!("google://{user}?api=http://127.0.0.1:{}", stand.port);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", GMAIL);
    let bob = stand.tokens(dir.path(), "bob-refresh", "/token", GMAIL);
    let data = dir.path().join("data");
    let o = ferry_chunked(
        &data,
        &["transfer", "--only", "mail", "--from", &mailboxes(dir.path()), "--to", &uri("alice"), "--to-token-file", &alice],
    );
    assert_eq!(total(&report(&o), "transferred"), 9, "{}", text(&o));
    let ab = [
        "transfer",
        "--incremental",
        "--only",
        "mail",
        "--from",
        &uri("alice"),
        "--from-token-file",
        &alice,
        "--to",
        &uri("bob"),
        "--to-token-file",
        &bob,
    ];
    let r = report(&ferry_chunked(&data, &ab));
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 9), "{r}");
    // B has A's labels: a user label per folder, the system ones for INBOX and Sent
    let state = stand.call("GET", "/_fake/state", "");
    let names: Vec<&str> =
        state["users"]["bob"]["gmail"]["labels"].as_object().unwrap().values().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Work") && names.contains(&"Imported drafts") && !names.contains(&"Sent"), "{names:?}");
    // one more at A: the next run reads A's history and moves that one only
    let more = dir.path().join("more");
    write(
        &more.join("mail/Work.mbox"),
        b"From x Sun Jan 12 09:00:00 2025\nFrom: heidi@example.com\nTo: alice@example.com\nSubject: new\nDate: Sun, 12 Jan 2025 09:00:00 +0000\nMessage-ID: <n1@example.com>\n\nNew.\n\n",
    );
    let o = ferry_google(
        &data,
        &["transfer", "--only", "mail", "--from", &format!("dir:{}", more.display()), "--to", &uri("alice"), "--to-token-file", &alice],
    );
    assert_eq!(total(&report(&o), "transferred"), 1, "{}", text(&o));
    let before = stand.call("GET", "/_fake/requests", "")["requests"]["GET /gmail/v1/users/{userId}/messages/{id}"].as_u64().unwrap_or(0);
    let r = report(&ferry_chunked(&data, &ab));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (1, 1), "only the new one: {r}");
    let after = stand.call("GET", "/_fake/requests", "")["requests"]["GET /gmail/v1/users/{userId}/messages/{id}"].as_u64().unwrap_or(0);
    assert!(after - before <= 3, "one message read at A (and one label check at B), not all: {}", after - before);
    // A's history is gone: everything is listed, nothing is written twice
    stand.call("POST", "/_fake/faults", r#"{"expire_sync_tokens": true, "user": "alice"}"#);
    let o = ferry_chunked(&data, &ab);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (10, 0), "listed in full, nothing new: {r}");
    assert_eq!(gmail_messages(&stand, "bob"), 10, "no message twice at B");
    stand.assert_no_violations();
}

#[test]
fn a_spent_gmail_quota_is_waited_out_and_the_job_completes() {
    let dir = tempfile::tempdir().unwrap();
    let grant = format!("alice-refresh={GMAIL}");
    // 50 units a minute: the second message's import (25) does not fit until the first
    // message's units come back, a minute later
    let stand = Stand::start("google", dir.path(), &["--grant", &grant, "--gmail-user-units", "50"]);
    let uri = format!("google://alice?api=http://127.0.0.1:{}", stand.port);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", GMAIL);
    let src = dir.path().join("two");
    write(
        &src.join("mail/INBOX.mbox"),
        b"From x Mon Jan 13 09:00:00 2025\nFrom: a@example.org\nSubject: one\nDate: Mon, 13 Jan 2025 09:00:00 +0000\nMessage-ID: <q1@example.org>\nStatus: RO\n\n1\n\n\
          From x Mon Jan 13 09:01:00 2025\nFrom: a@example.org\nSubject: two\nDate: Mon, 13 Jan 2025 09:01:00 +0000\nMessage-ID: <q2@example.org>\nStatus: RO\n\n2\n\n",
    );
    let started = std::time::Instant::now();
    let o = ferry_google(
        &dir.path().join("data"),
        &["transfer", "--only", "mail", "--from", &format!("dir:{}", src.display()), "--to", &uri, "--to-token-file", &alice],
    );
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 2, "{r}");
    assert!(stand.answered(403) >= 1, "Gmail said userRateLimitExceeded");
    assert!(started.elapsed() >= std::time::Duration::from_secs(45), "the job waited for the quota: {:?}", started.elapsed());
    assert_eq!(gmail_messages(&stand, "alice"), 2, "each message once");
    stand.assert_no_violations();
}

/// Files as a folder holds them: a tree with a file of a few MiB (several upload chunks),
/// a small text, an empty file.
fn file_tree(dir: &Path) -> (String, String) {
    let src = dir.join("tree");
    let big: Vec<u8> = base64_lines(1_300_000).into_bytes();
    write(&src.join("files/Documents/Projects/ferry/big.bin"), &big);
    write(&src.join("files/Documents/notes.txt"), "Notizen: Grüße\n".as_bytes());
    // 2024-05-01T12:00:00Z
    let may = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_714_564_800);
    std::fs::File::options().write(true).open(src.join("files/Documents/notes.txt")).unwrap().set_modified(may).unwrap();
    write(&src.join("files/Documents/empty.txt"), b"");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&big));
    (format!("dir:{}", src.display()), sha)
}

/// The files of a package: (container, name) -> SHA-256.
fn package_files(pkg: &Path) -> std::collections::BTreeMap<(String, String), String> {
    package_file_records(pkg).into_iter().map(|(k, r)| (k, r["content"]["sha256"].as_str().unwrap().to_owned())).collect()
}

/// The records of a package's files by (container, name).
fn package_file_records(pkg: &Path) -> std::collections::BTreeMap<(String, String), serde_json::Value> {
    let mut body = String::new();
    let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
    std::io::Read::read_to_string(&mut z.by_name("files/files.jsonl").unwrap(), &mut body).unwrap();
    body.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|r| ((r["container"].as_str().unwrap().to_owned(), r["record"]["name"].as_str().unwrap().to_owned()), r))
        .collect()
}

#[test]
fn files_go_into_drive_and_out_again_with_docs_exported_and_follow_by_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (format!("alice-refresh={DRIVE}"), format!("bob-refresh={DRIVE}"));
    let stand = Stand::start("google", dir.path(), &["--grant", &a, "--grant", &b]);
    let uri = |user: &str| format!("google://{user}?api=http://127.0.0.1:{}", stand.port);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", DRIVE);
    let bob = stand.tokens(dir.path(), "bob-refresh", "/token", DRIVE);
    let data = dir.path().join("data");
    let (src, big_sha) = file_tree(dir.path());
    let put = ["transfer", "--only", "files", "--from", &src, "--to", &uri("alice"), "--to-token-file", &alice];
    let o = ferry_chunked(&data, &put);
    let r = report(&o);
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 3), "{}", text(&o));
    let requests = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    assert!(requests["PUT /upload/drive/v3/files"].as_u64().unwrap() >= 7, "1.3 MB in 256 KiB chunks: {requests}");
    let r = report(&ferry_chunked(&data, &put));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 3), "a rerun writes nothing: {r}");
    // a Google document beside them, made in Google's editor
    stand.call(
        "POST",
        "/_fake/seed",
        r#"{"user": "alice", "drive": {"files": [{"name": "Plan", "mimeType": "application/vnd.google-apps.document", "content": "Step one.", "contentType": "text/plain"}]}}"#,
    );
    let pkg = dir.path().join("drive.zip");
    let o = ferry_google(
        &data,
        &[
            "transfer",
            "--only",
            "files",
            "--from",
            &uri("alice"),
            "--from-token-file",
            &alice,
            "--to",
            &format!("package:{}", pkg.display()),
        ],
    );
    let r = report(&o);
    assert_eq!(total(&r, "transferred"), 4, "{}", text(&o));
    let warnings = r["report"]["verticals"]["files"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("exported as Word (.docx"), "the export's format is named: {warnings}");
    let files = package_files(&pkg);
    assert_eq!(files[&("Documents/Projects/ferry".to_owned(), "big.bin".to_owned())], big_sha, "byte for byte: {files:?}");
    let empty = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b""));
    assert_eq!(files[&("Documents".to_owned(), "empty.txt".to_owned())], empty);
    assert!(files.contains_key(&(String::new(), "Plan.docx".to_owned())), "{files:?}");
    let notes = &package_file_records(&pkg)[&("Documents".to_owned(), "notes.txt".to_owned())];
    assert!(notes["record"]["modified"].as_str().unwrap().starts_with("2024-05-01T12:00:00"), "modifiedTime kept: {notes}");
    // A to B by Drive's change log: everything, then only the new file
    let ab = [
        "transfer",
        "--incremental",
        "--only",
        "files",
        "--from",
        &uri("alice"),
        "--from-token-file",
        &alice,
        "--to",
        &uri("bob"),
        "--to-token-file",
        &bob,
    ];
    let r = report(&ferry_chunked(&data, &ab));
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 4), "{r}");
    let more = dir.path().join("more");
    write(&more.join("files/Documents/later.txt"), b"later\n");
    let o = ferry_google(
        &data,
        &["transfer", "--only", "files", "--from", &format!("dir:{}", more.display()), "--to", &uri("alice"), "--to-token-file", &alice],
    );
    assert_eq!(total(&report(&o), "transferred"), 1, "{}", text(&o));
    let r = report(&ferry_chunked(&data, &ab));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (1, 1), "only the change: {r}");
    let state = stand.call("GET", "/_fake/state", "");
    let at_b: Vec<&str> =
        state["users"]["bob"]["drive"]["files"].as_object().unwrap().values().map(|f| f["name"].as_str().unwrap()).collect();
    for name in ["big.bin", "notes.txt", "empty.txt", "Plan.docx", "later.txt", "Documents", "Projects", "ferry"] {
        assert_eq!(at_b.iter().filter(|n| **n == name).count(), 1, "{name} once at B: {at_b:?}");
    }
    stand.assert_no_violations();
}

/// The API requests a stand-in's fault counters count so far: every request but those to
/// `/token` and those refused for their (stale) access token.
fn counted_requests(stand: &Stand) -> u64 {
    let r = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    let all: u64 = r.as_object().unwrap().iter().filter(|(k, _)| !k.ends_with(" /token")).map(|(_, v)| v.as_u64().unwrap()).sum();
    all - stand.answered(401) as u64
}

#[test]
fn an_upload_broken_off_mid_file_resumes_where_drive_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (format!("alice-refresh={DRIVE}"), format!("bob-refresh={DRIVE}"));
    let stand = Stand::start("google", dir.path(), &["--grant", &a, "--grant", &b]);
    let uri = |user: &str| format!("google://{user}?api=http://127.0.0.1:{}", stand.port);
    let src = dir.path().join("big");
    let big = base64_lines(1_300_000).into_bytes();
    write(&src.join("files/Projects/big.bin"), &big);
    let src = format!("dir:{}", src.display());
    let chunks = (big.len() as u64).div_ceil(262_144);
    // the requests ferry makes up to the file's first chunk, counted on bob's Drive
    let bob = stand.tokens(dir.path(), "bob-refresh", "/token", DRIVE);
    let o = ferry_chunked(
        &dir.path().join("bob"),
        &["transfer", "--only", "files", "--from", &src, "--to", &uri("bob"), "--to-token-file", &bob],
    );
    assert_eq!(total(&report(&o), "transferred"), 1, "{}", text(&o));
    let requests = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    assert_eq!(requests["PUT /upload/drive/v3/files"], chunks, "{requests}");
    let first_chunk = counted_requests(&stand) - chunks + 1;
    // on alice's: the second chunk fails (503), and so does the first question what the
    // session holds; the upload goes on in the same session from where Drive has it
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", DRIVE);
    stand.call("POST", "/_fake/faults", &format!(r#"{{"server_error": 503, "after": {first_chunk}, "times": 2}}"#));
    let o = ferry_chunked(
        &dir.path().join("alice"),
        &["transfer", "--only", "files", "--from", &src, "--to", &uri("alice"), "--to-token-file", &alice],
    );
    let r = report(&o);
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 1), "{}", text(&o));
    assert_eq!(stand.answered(503), 2, "the chunk and the first status query failed");
    let requests = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    assert_eq!(requests["POST /upload/drive/v3/files"], 2, "one session each, none started over: {requests}");
    assert_eq!(requests["PUT /upload/drive/v3/files"], 2 * chunks + 3, "two status queries and the chunk again: {requests}");
    let pkg = dir.path().join("alice.zip");
    let o = ferry_google(
        &dir.path().join("alice"),
        &[
            "transfer",
            "--only",
            "files",
            "--from",
            &uri("alice"),
            "--from-token-file",
            &alice,
            "--to",
            &format!("package:{}", pkg.display()),
        ],
    );
    assert_eq!(total(&report(&o), "transferred"), 1, "{}", text(&o));
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&big));
    assert_eq!(package_files(&pkg)[&("Projects".to_owned(), "big.bin".to_owned())], sha, "byte for byte");
    stand.assert_no_violations();
}

#[test]
fn a_full_drive_stops_the_job_as_a_full_destination_and_read_only_grants_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, c, m) = (format!("alice-refresh={DRIVE}"), format!("carol-refresh={DRIVE_RO}"), format!("mallory-refresh={GMAIL_RO}"));
    let stand = Stand::start("google", dir.path(), &["--grant", &a, "--grant", &c, "--grant", &m, "--drive-storage-limit", "1000000"]);
    let uri = format!("google://me?api=http://127.0.0.1:{}", stand.port);
    let (src, _) = file_tree(dir.path());
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", DRIVE);
    let o =
        ferry_chunked(&dir.path().join("data"), &["transfer", "--only", "files", "--from", &src, "--to", &uri, "--to-token-file", &alice]);
    assert!(!o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("storageQuotaExceeded") && said.contains("the destination is full"), "{said}");
    let carol = stand.tokens(dir.path(), "carol-refresh", "/token", DRIVE_RO);
    let o =
        ferry_chunked(&dir.path().join("data2"), &["transfer", "--only", "files", "--from", &src, "--to", &uri, "--to-token-file", &carol]);
    assert!(!o.status.success() && text(&o).contains("needs the scope https://www.googleapis.com/auth/drive"), "{}", text(&o));
    let mallory = stand.tokens(dir.path(), "mallory-refresh", "/token", GMAIL_RO);
    let o = ferry_chunked(
        &dir.path().join("data3"),
        &["transfer", "--only", "mail", "--from", &mailboxes(dir.path()), "--to", &uri, "--to-token-file", &mallory],
    );
    assert!(!o.status.success() && text(&o).contains("needs the scope https://www.googleapis.com/auth/gmail.modify"), "{}", text(&o));
    let state = stand.call("GET", "/_fake/state", "");
    for user in ["carol", "mallory"] {
        assert!(state["users"][user]["drive"]["files"].as_object().is_none_or(|f| f.len() <= 1), "nothing at {user}'s");
        assert!(state["users"][user]["gmail"]["messages"].as_object().is_none_or(|m| m.is_empty()), "nothing at {user}'s");
    }
    stand.assert_no_violations();
}

const PHOTOS_APPEND: &str = "https://www.googleapis.com/auth/photoslibrary.appendonly";
const PHOTOS_READ: &str = "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata";

/// Photos as a phone or Takeout leaves them: two albums holding a file of the same name,
/// a Takeout sidecar with a title, description, time and place, a video, a photo outside
/// any album, and a text file in the album folder (not media: it stays out).
fn photo_tree(dir: &Path) -> (String, std::collections::BTreeMap<String, String>) {
    let src = dir.join("photos");
    let mut shas = std::collections::BTreeMap::new();
    let mut put = |rel: &str, body: Vec<u8>| {
        shas.insert(rel.rsplit('/').next().unwrap().to_owned() + "|" + rel, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)));
        write(&src.join("media").join(rel), &body);
    };
    let jpeg = |n: u8| [b"\xff\xd8\xff\xe0\x00\x10JFIF\x00".as_slice(), &[n; 300], b"\xff\xd9"].concat();
    put("Holidays 2025/beach.jpg", jpeg(1));
    put("Holidays 2025/IMG_0001.JPG", jpeg(2));
    put("Trip/IMG_0001.JPG", jpeg(3));
    put("Trip/clip.mp4", [b"\x00\x00\x00\x18ftypmp42".as_slice(), &[7u8; 2000]].concat());
    put("loose.png", [b"\x89PNG\r\n\x1a\n".as_slice(), &[9u8; 100]].concat());
    write(
        &src.join("media/Holidays 2025/beach.jpg.json"),
        br#"{"title":"Pier at dusk","description":"Sunset at the pier","photoTakenTime":{"timestamp":"1736150400"},"geoData":{"latitude":54.1,"longitude":12.1,"altitude":0.0}}"#,
    );
    (format!("dir:{}", src.display()), shas)
}

#[test]
fn photos_go_into_google_photos_and_only_what_ferry_put_comes_back_out() {
    let dir = tempfile::tempdir().unwrap();
    let both = format!("{PHOTOS_APPEND} {PHOTOS_READ}");
    let (a, b) = (format!("alice-refresh={both}"), format!("bob-refresh={both}"));
    let stand = Stand::start("google", dir.path(), &["--grant", &a, "--grant", &b]);
    let uri = |user: &str| format!("google://{user}?api=http://127.0.0.1:{}", stand.port);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", &both);
    let bob = stand.tokens(dir.path(), "bob-refresh", "/token", &both);
    // a photo alice took herself: the API must never show it to ferry
    stand.call(
        "POST",
        "/_fake/seed",
        r#"{"user": "alice", "photos": {"items": [{"filename": "mine.jpg", "mimeType": "image/jpeg", "contentBase64": "/9j/4AAQ"}]}}"#,
    );
    let (src, shas) = photo_tree(dir.path());
    // a server error and a rate limit on the way in
    stand.call("POST", "/_fake/faults", r#"{"server_error": 503, "times": 1, "after": 2}"#);
    let data = dir.path().join("data");
    let put = ["transfer", "--only", "media", "--from", &src, "--to", &uri("alice"), "--to-token-file", &alice];
    let o = ferry_google(&data, &put);
    let r = report(&o);
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 5), "{}", text(&o));
    let warnings = r["report"]["verticals"]["media"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("taken_at, location, camera"), "the sidecar's time and place have no place in the API: {warnings}");
    assert!(warnings.contains("title: Google Photos keeps a description only"), "{warnings}");
    let requests = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    let uploads = requests["POST /v1/uploads"].as_u64().unwrap();
    assert!((5..=6).contains(&uploads), "one upload each, and one again for what the server error broke: {requests}");
    assert!(
        requests["POST /v1/mediaItems:batchCreate"].as_u64().unwrap() <= 4,
        "made in batches per album (three), one again after the server error: {requests}"
    );
    // again, and again with a job store that knows nothing: each found, none made twice
    let r = report(&ferry_google(&data, &put));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 5), "{r}");
    let r = report(&ferry_google(&dir.path().join("fresh-data"), &put));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 5), "found in their albums by name: {r}");
    let state = stand.call("GET", "/_fake/state", "");
    let lib = &state["users"]["alice"]["photos_lib"];
    assert_eq!(lib["items"].as_object().unwrap().len(), 6, "five of ferry's and alice's own: {lib}");
    let titles: std::collections::BTreeSet<&str> =
        lib["albums"].as_object().unwrap().values().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Holidays 2025", "Trip"].into_iter().collect(), "{lib}");

    // out again: what ferry put, byte for byte, in its albums; the rest said to be skipped
    let pkg = dir.path().join("photos.zip");
    let o = ferry_google(
        &data,
        &[
            "transfer",
            "--only",
            "media",
            "--from",
            &uri("alice"),
            "--from-token-file",
            &alice,
            "--to",
            &format!("package:{}", pkg.display()),
        ],
    );
    let r = report(&o);
    let media = &r["report"]["verticals"]["media"];
    assert_eq!((media["transferred"].as_u64(), media["skipped"].as_u64(), media["failed"].as_u64()), (Some(5), Some(1), Some(0)), "{r}");
    assert!(media["failures"].to_string().contains("since 31 March 2025"), "the report says why the library stays: {media}");
    let got: std::collections::BTreeMap<String, String> = package_items(&pkg)
        .into_iter()
        .filter(|(k, _)| k.0 == "media")
        .map(|((_, c, s), _)| (c, s))
        .fold(Default::default(), |mut m, (c, s)| {
            m.insert(format!("{c}|{s}"), s);
            m
        });
    for (key, sha) in &shas {
        let album = key.split('|').nth(1).unwrap().rsplit_once('/').map(|x| x.0).unwrap_or("");
        assert!(got.contains_key(&format!("{album}|{sha}")), "{key} in {album:?} byte for byte: {got:?}");
    }
    assert_eq!(got.len(), 5, "alice's own photo is not there: {got:?}");
    let mut body = String::new();
    std::io::Read::read_to_string(
        &mut zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap().by_name("media/media.jsonl").unwrap(),
        &mut body,
    )
    .unwrap();
    assert!(body.contains("Sunset at the pier"), "the description came back: {body}");

    // Google to Google: bob gets the same albums
    let ab =
        ["transfer", "--only", "media", "--from", &uri("alice"), "--from-token-file", &alice, "--to", &uri("bob"), "--to-token-file", &bob];
    let r = report(&ferry_google(&data, &ab));
    assert_eq!((total(&r, "transferred"), total(&r, "skipped")), (5, 1), "{r}");
    let state = stand.call("GET", "/_fake/state", "");
    assert_eq!(state["users"]["bob"]["photos_lib"]["items"].as_object().unwrap().len(), 5, "{state}");
    stand.assert_no_violations();
}

#[test]
fn a_photos_grant_that_cannot_read_back_is_refused_before_anything_is_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let g = format!("alice-refresh={PHOTOS_APPEND}");
    let stand = Stand::start("google", dir.path(), &["--grant", &g]);
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", PHOTOS_APPEND);
    let (src, _) = photo_tree(dir.path());
    let to = format!("google://alice?api=http://127.0.0.1:{}", stand.port);
    let o =
        ferry_google(&dir.path().join("data"), &["transfer", "--only", "media", "--from", &src, "--to", &to, "--to-token-file", &alice]);
    assert!(text(&o).contains("photoslibrary.readonly.appcreateddata"), "the scope it needs is named: {}", text(&o));
    let requests = stand.call("GET", "/_fake/requests", "")["requests"].clone();
    assert!(requests.get("POST /v1/uploads").is_none(), "nothing uploaded: {requests}");
}

/// An invitation to one occurrence of someone else's series: Google lists the occurrence
/// (with `recurringEventId`) and not the series' master, which is in the organizer's
/// calendar. It is carried like any event, not passed over as a part of a series whose
/// master the listing will meet.
#[test]
fn one_occurrence_of_another_persons_series_is_carried_without_its_master() {
    let dir = tempfile::tempdir().unwrap();
    let cal = "https://www.googleapis.com/auth/calendar";
    let grant = format!("alice-refresh={cal}");
    let stand = Stand::start("google", dir.path(), &["--grant", &grant]);
    stand.call(
        "POST",
        "/_fake/seed",
        r#"{"user": "alice", "events": [
            {"iCalUID": "standup@elsewhere.example", "recurringEventId": "organizersSeries1", "originalStartTime": {"dateTime": "2026-12-03T10:00:00Z"},
             "start": {"dateTime": "2026-12-03T10:00:00Z"}, "end": {"dateTime": "2026-12-03T10:15:00Z"}, "summary": "Stand-up (the one I was asked to)"},
            {"iCalUID": "dentist@example.org", "start": {"dateTime": "2026-12-04T08:00:00Z"}, "end": {"dateTime": "2026-12-04T09:00:00Z"}, "summary": "Dentist"}]}"#,
    );
    let alice = stand.tokens(dir.path(), "alice-refresh", "/token", cal);
    let pkg = dir.path().join("cal.zip");
    let uri = format!("google://alice?api=http://127.0.0.1:{}", stand.port);
    let o = ferry_google(
        &dir.path().join("data"),
        &["transfer", "--only", "calendar", "--from", &uri, "--from-token-file", &alice, "--to", &format!("package:{}", pkg.display())],
    );
    let r = report(&o);
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (2, 2), "{}", text(&o));
    let mut body = String::new();
    std::io::Read::read_to_string(
        &mut zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap().by_name("calendar/events.jsonl").unwrap(),
        &mut body,
    )
    .unwrap();
    assert!(body.contains("Stand-up (the one I was asked to)"), "{body}");
    stand.assert_no_violations();
}
