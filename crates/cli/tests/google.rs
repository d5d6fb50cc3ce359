//! The `google:` connector against a stand-in for Google's APIs that follows their
//! published contract (scripts/fakes/google/: the same paths, fields, page sizes, sync
//! tokens, error bodies and limits, and a check of every request ferry sends against
//! what Google would accept: a test fails on any request Google would refuse).
mod common;

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

fn ferry_google(data: &Path, args: &[&str]) -> Output {
    Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .args(args)
        .args(["--insecure", "--allow-private-network"])
        .env_remove("FERRY_PASSWORD")
        .env("FERRY_LOG", "ferry_engine=info")
        .output()
        .unwrap()
}

fn report(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(o)))
}

fn total(r: &serde_json::Value, what: &str) -> u64 {
    r["report"]["verticals"].as_object().unwrap().values().map(|v| v[what].as_u64().unwrap_or(0)).sum()
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
    family.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:rich\r\nFN:Zoë Ångström-Núñez\r\nN:Ångström-Núñez;Zoë;;Dr.;\r\nEMAIL;TYPE=HOME:zoe@example.org\r\nEMAIL;TYPE=WORK:z@example.com\r\nTEL;TYPE=WORK,FAX:+46 8 1\r\nADR;TYPE=HOME:;;Drottninggatan 1;Stockholm;;111 51;Sweden\r\nBDAY:--02-29\r\nORG:Ferry AB\r\nTITLE:Researcher\r\nNOTE:Met at the conference\\, twice.\r\nX-SHOE-SIZE:38\r\nEND:VCARD\r\n");
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
