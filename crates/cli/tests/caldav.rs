//! CalDAV and CardDAV against real servers: Radicale (HTTPS, accounts) and Xandikos
//! (plain HTTP), both started by scripts/servers.sh.
mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.code() == Some(0) || o.status.code() == Some(3), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(o)))
}

/// (vertical, container, UID or name) of every record in a package.
fn records(pkg: &Path) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
    for f in ["calendar/events.jsonl", "tasks/tasks.jsonl", "contacts/contacts.jsonl"] {
        let mut s = String::new();
        if let Ok(mut e) = z.by_name(f) {
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        }
        for l in s.lines() {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            // contacts by name: a card without a UID is given one on the way in
            let key = r["record"]["formatted_name"].as_str().or(r["record"]["uid"].as_str()).unwrap().to_owned();
            out.insert((f.split('/').next().unwrap().to_owned(), r["container"].as_str().unwrap().to_owned(), key));
        }
    }
    out
}

#[test]
fn radicale_calendars_tasks_contacts_round_trip_and_rerun() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let host = server_env("FERRY_TEST_RADICALE");
    let account = format!("dir:{}", example_account().display());
    let reference = t.path().join("ref.zip");
    let o = run_with_servers(&data, &["export", &account, "--only", "calendar,tasks,contacts", "-o", reference.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    let cal = format!("caldav://dave@{host}");
    let card = format!("carddav://dave@{host}");
    let r = json(&run_with_servers(&data, &["--json", "transfer", "--from", &account, "--to", &cal]));
    assert_eq!(r["report"]["verticals"]["calendar"]["transferred"], 23, "{r}");
    assert_eq!(r["report"]["verticals"]["tasks"]["transferred"], 10, "{r}");
    let r = json(&run_with_servers(&data, &["--json", "transfer", "--from", &account, "--to", &card]));
    let c = &r["report"]["verticals"]["contacts"];
    assert_eq!(c["transferred"], 31, "{r}");
    // Radicale refuses the card with two N properties: listed, with the server's answer
    assert_eq!(c["failed"], 1, "{r}");
    assert!(c["failures"][0]["reason"].as_str().unwrap().contains("400"), "{r}");
    // and what it could not keep as it was is listed too
    let warnings = c["fidelity_warnings"].to_string();
    assert!(warnings.contains("2.1 converted") && warnings.contains("had no UID"), "{warnings}");

    let (pc, pk) = (t.path().join("cal.zip"), t.path().join("card.zip"));
    assert!(run_with_servers(&data, &["export", &cal, "-o", pc.to_str().unwrap()]).status.success());
    assert!(run_with_servers(&data, &["export", &card, "-o", pk.to_str().unwrap()]).status.success());
    let want = records(&reference);
    let mut got = records(&pc);
    got.extend(records(&pk));
    let missing: Vec<_> = want.difference(&got).collect();
    assert_eq!(missing.len(), 1, "only the refused card is missing: {missing:?}");
    assert_eq!(got.len(), want.len() - 1);

    // fidelity: a recurring event with an override and a time zone, a task with a due date
    let mut z = zip::ZipArchive::new(std::fs::File::open(&pc).unwrap()).unwrap();
    let mut events = String::new();
    std::io::Read::read_to_string(&mut z.by_name("calendar/events.jsonl").unwrap(), &mut events).unwrap();
    assert!(events.lines().any(|l| l.contains("\"overrides\"") && l.contains("Europe/Berlin") && l.contains("\"rrule\"")), "{events}");
    let mut tasks = String::new();
    std::io::Read::read_to_string(&mut z.by_name("tasks/tasks.jsonl").unwrap(), &mut tasks).unwrap();
    assert!(tasks.contains("\"due\""));

    // again: nothing new
    let r = json(&run_with_servers(&data, &["--json", "transfer", "--from", &account, "--to", &cal]));
    assert_eq!(r["report"]["verticals"]["calendar"]["transferred"], 0, "{r}");
    assert_eq!(r["report"]["verticals"]["tasks"]["transferred"], 0, "{r}");
    let r = json(&run_with_servers(&data, &["--json", "transfer", "--from", &account, "--to", &card]));
    assert_eq!(r["report"]["verticals"]["contacts"]["transferred"], 0, "{r}");
}

#[test]
fn server_to_server_and_through_a_package() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let host = server_env("FERRY_TEST_RADICALE");
    let account = format!("dir:{}", example_account().display());
    let (cal, card) = (format!("caldav://erin@{host}"), format!("carddav://erin@{host}"));
    assert!(run_with_servers(&data, &["transfer", "--from", &account, "--to", &cal]).status.code() == Some(0));
    assert!(matches!(run_with_servers(&data, &["transfer", "--from", &account, "--to", &card]).status.code(), Some(0) | Some(3)));

    // CardDAV on Radicale to CardDAV on Xandikos (another server, plain HTTP: --insecure)
    let xb = format!("carddav+http://x@{}", server_env("FERRY_TEST_XANDIKOS_B"));
    let o = run_with_servers(&data, &["--json", "transfer", "--from", &card, "--to", &xb, "--insecure"]);
    let r = json(&o);
    // (the Xandikos instances are shared by the tests: count what is there either way)
    let c = &r["report"]["verticals"]["contacts"];
    assert_eq!(c["transferred"].as_u64().unwrap() + c["already_present"].as_u64().unwrap(), 31, "{r}");
    // CalDAV to a package to CalDAV on Xandikos
    let pkg = t.path().join("cal.zip");
    assert!(run_with_servers(&data, &["export", &cal, "-o", pkg.to_str().unwrap()]).status.success());
    let xa = format!("caldav+http://x@{}", server_env("FERRY_TEST_XANDIKOS_A"));
    let o = run_with_servers(&data, &["--json", "import", pkg.to_str().unwrap(), "--to", &xa, "--insecure"]);
    let r = json(&o);
    for (v, n) in [("calendar", 23), ("tasks", 10)] {
        let x = &r["report"]["verticals"][v];
        assert_eq!(x["transferred"].as_u64().unwrap() + x["already_present"].as_u64().unwrap(), n, "{r}");
    }
    let back = t.path().join("back.zip");
    assert!(run_with_servers(&data, &["export", &xa, "-o", back.to_str().unwrap(), "--insecure"]).status.success());
    assert_eq!(records(&back), records(&pkg), "the same events and tasks in the same calendars");

    // plain HTTP needs --insecure
    let o = run_with_servers(&data, &["transfer", "--from", &xa, "--to", &format!("dir:{}", t.path().join("x").display())]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("clear text"), "{}", text(&o));
}

/// Text pasted from a PDF carries a form feed: Xandikos refuses such an event with a
/// `valid-calendar-data` precondition (a 207 holding 412). That event fails with the
/// server's reason; the others are written, and the server holds exactly them.
#[test]
fn an_event_the_server_refuses_fails_alone_with_its_reason() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let name = format!("refused-{}", std::process::id());
    let src = t.path().join("src");
    std::fs::create_dir_all(src.join("calendar")).unwrap();
    let event = |i: usize, summary: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{name}-{i}\r\nDTSTAMP:20250106T090000Z\r\nDTSTART:2025020{i}T090000Z\r\nDTEND:2025020{i}T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
        )
    };
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ferry//test//EN\r\n{}{}{}END:VCALENDAR\r\n",
        event(1, "Planning"),
        event(2, "Minutes page 1\u{0c}page 2"),
        event(3, "Review")
    );
    std::fs::write(src.join(format!("calendar/{name}.ics")), ics).unwrap();
    let xa = format!("caldav+http://x@{}", server_env("FERRY_TEST_XANDIKOS_F"));
    let from = format!("dir:{}", src.display());
    let o = run_with_servers(&data, &["--json", "transfer", "--only", "calendar", "--from", &from, "--to", &xa, "--insecure"]);
    assert_eq!(o.status.code(), Some(3), "done with errors: {}", text(&o));
    let r = json(&o);
    let c = &r["report"]["verticals"]["calendar"];
    assert_eq!((c["transferred"].as_u64(), c["failed"].as_u64()), (Some(2), Some(1)), "{r}");
    let reason = c["failures"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("valid-calendar-data") && reason.contains("SUMMARY"), "{reason}");

    // what the server holds: the two it took, not the refused one
    let back = t.path().join("back.zip");
    let o = run_with_servers(&data, &["export", &xa, "--only", "calendar", "-o", back.to_str().unwrap(), "--insecure"]);
    assert!(o.status.success(), "{}", text(&o));
    let held: BTreeSet<String> = records(&back).into_iter().filter(|(_, c, _)| *c == name).map(|(_, _, uid)| uid).collect();
    assert_eq!(held, BTreeSet::from([format!("{name}-1"), format!("{name}-3")]));
}

/// A collection the user may not write to (Radicale refuses another user's calendar with
/// 403 and no precondition) stops the job: no item can go anywhere.
#[test]
fn a_forbidden_collection_stops_the_job() {
    let t = tempfile::tempdir().unwrap();
    let host = server_env("FERRY_TEST_RADICALE");
    let account = format!("dir:{}", example_account().display());
    let o = run_with_servers(
        &t.path().join("data"),
        &["transfer", "--only", "calendar", "--from", &account, "--to", &format!("caldav://frank@{host}/alice/")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("403"), "{}", text(&o));
}
