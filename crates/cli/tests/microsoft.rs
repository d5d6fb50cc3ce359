//! The `microsoft:` connector against a stand-in for Microsoft Graph that follows its
//! published contract (scripts/fakes/microsoft/), and Google contacts moved into it
//! through the Google stand-in, with the report of what Microsoft has no room for.
mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

const GOOGLE_CONTACTS: &str = "https://www.googleapis.com/auth/contacts";

fn ferry_cloud(data: &Path, args: &[&str]) -> Output {
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

fn graph(dir: &Path) -> (Stand, String, String) {
    let g = Stand::start(
        "microsoft",
        dir,
        &["--grant", "dave-refresh=Contacts.ReadWrite offline_access", "--grant", "erin-refresh=Contacts.ReadWrite offline_access"],
    );
    let uri = format!("microsoft://dave?api=http://127.0.0.1:{}", g.port);
    let tokens = g.tokens(dir, "dave-refresh", "/common/oauth2/v2.0/token", "Contacts.ReadWrite offline_access");
    // Microsoft's identity platform takes the client's credentials in the form
    let mut t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&tokens).unwrap()).unwrap();
    t["token_endpoint_auth_method"] = "client_secret_post".into();
    std::fs::write(&tokens, t.to_string()).unwrap();
    (g, uri, tokens)
}

/// Every contact the stand-in holds for `user`.
fn contacts(g: &Stand, user: &str) -> Vec<serde_json::Value> {
    let state = g.call("GET", "/_fake/state", "");
    let u = &state["users"][user];
    let c = &u["contacts"];
    c.as_object()
        .map(|m| m.values().cloned().collect())
        .or_else(|| c.as_array().cloned())
        .unwrap_or_else(|| panic!("no contacts of {user}: {state}"))
}

#[test]
fn google_contacts_go_to_microsoft_and_what_microsoft_cannot_keep_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let google = Stand::start("google", dir.path(), &["--grant", &format!("alice-refresh={GOOGLE_CONTACTS}")]);
    let people: Vec<serde_json::Value> = (0..60)
        .map(|i| serde_json::json!({"names": [{"givenName": format!("Person{i}"), "familyName": "Test"}],
            "emailAddresses": [{"value": format!("p{i}@example.org"), "type": "home"}]}))
        .chain(std::iter::once(serde_json::json!({
            "names": [{"givenName": "Zoë", "familyName": "Ångström"}],
            "emailAddresses": [{"value": "z1@example.org"}, {"value": "z2@example.org"}, {"value": "z3@example.org"}, {"value": "z4@example.org"}],
            "phoneNumbers": [{"value": "+46 70 1", "type": "mobile"}, {"value": "+46 8 2", "type": "workFax"}],
            "birthdays": [{"date": {"month": 2, "day": 29}}],
            "events": [{"date": {"year": 2010, "month": 6, "day": 1}, "type": "anniversary"}],
            "relations": [{"person": "Ada", "type": "spouse"}],
            "userDefined": [{"key": "shoe size", "value": "38"}]
        })))
        .collect();
    google.call("POST", "/_fake/seed", &serde_json::json!({"user": "alice", "contacts": people}).to_string());
    let alice = google.tokens(dir.path(), "alice-refresh", "/token", GOOGLE_CONTACTS);
    let from = format!("google://alice?api=http://127.0.0.1:{}", google.port);
    let (graph, to, dave) = graph(dir.path());
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "contacts", "--from", &from, "--from-token-file", &alice, "--to", &to, "--to-token-file", &dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 61, "{r}");
    let warnings = r["report"]["verticals"]["contacts"]["fidelity_warnings"].to_string();
    for lost in ["z4@example.org", "fax number +46 8 2", "--02-29", "ANNIVERSARY", "X-GOOGLE-USERDEFINED"] {
        assert!(warnings.contains(lost), "the report names what Microsoft could not keep ({lost}): {warnings}");
    }
    let held = contacts(&graph, "dave");
    assert_eq!(held.len(), 61, "each contact once");
    let zoe = held.iter().find(|c| c.to_string().contains("Zoë")).expect("the rich contact");
    assert_eq!(zoe["mobilePhone"], "+46 70 1", "{zoe}");
    assert_eq!(zoe["emailAddresses"].as_array().map(Vec::len), Some(3), "{zoe}");
    // again: nothing new
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 61), "{r}");
    graph.assert_no_violations();
    google.assert_no_violations();
}

#[test]
fn microsoft_contacts_come_out_by_folder_and_incrementally_through_throttling_and_an_expired_delta() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, uri, dave) = graph(dir.path());
    let data = dir.path().join("data");
    // two address books in, as two folders (the first the default one's contacts, the second a folder)
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("contacts")).unwrap();
    let card = |i: usize| format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:m{i}\r\nFN:Member {i}\r\nEMAIL:m{i}@example.org\r\nEND:VCARD\r\n");
    std::fs::write(src.join("contacts/Friends.vcf"), (0..250).map(card).collect::<String>()).unwrap();
    std::fs::write(src.join("contacts/Club.vcf"), (250..300).map(card).collect::<String>()).unwrap();
    let o = ferry_cloud(&data, &["transfer", "--from", &format!("dir:{}", src.display()), "--to", &uri, "--to-token-file", &dave]);
    assert_eq!(total(&report(&o), "transferred"), 300, "{}", text(&o));
    // out to a package, through throttling (429 with Retry-After) and a 503
    graph.call("POST", "/_fake/faults", r#"{"throttle_after": 1, "times": 2, "retry_after": 1}"#);
    let pkg = dir.path().join("out.zip");
    let o = ferry_cloud(
        &data,
        &["transfer", "--only", "contacts", "--from", &uri, "--from-token-file", &dave, "--to", &format!("package:{}", pkg.display())],
    );
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 300, "{r}");
    assert!(graph.answered(429) >= 2, "the throttling happened");
    let items = package_items(&pkg);
    assert_eq!(items.values().sum::<u32>(), 300);
    let containers: std::collections::BTreeSet<&str> = items.keys().map(|(_, c, _)| c.as_str()).collect();
    assert!(containers.contains("Friends") && containers.contains("Club"), "{containers:?}");

    // incrementally into a folder: the first round lists all, the next only the changes
    let out = format!("dir:{}", dir.path().join("out").display());
    let inc = ["transfer", "--incremental", "--only", "contacts", "--from", &uri, "--from-token-file", &dave, "--to", &out];
    assert_eq!(total(&report(&ferry_cloud(&data, &inc)), "transferred"), 300);
    let more = dir.path().join("more");
    std::fs::create_dir_all(more.join("contacts")).unwrap();
    std::fs::write(more.join("contacts/Club.vcf"), (1000..1002).map(card).collect::<String>()).unwrap();
    let add = ["transfer", "--from", &format!("dir:{}", more.display()), "--to", &uri, "--to-token-file", &dave];
    assert_eq!(total(&report(&ferry_cloud(&data, &add)), "transferred"), 2);
    let r = report(&ferry_cloud(&data, &inc));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (2, 2), "only the changes were listed: {r}");
    // every delta link expires: a full round, only the new one moved
    std::fs::write(more.join("contacts/Club.vcf"), card(1002)).unwrap();
    assert_eq!(total(&report(&ferry_cloud(&data, &add)), "transferred"), 1);
    graph.call("POST", "/_fake/faults", r#"{"expire_delta_tokens": true}"#);
    let r = report(&ferry_cloud(&data, &inc));
    assert_eq!(r["report"]["state"], "completed", "{r}");
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (303, 1), "listed in full, one new: {r}");
    graph.assert_no_violations();
}

#[test]
fn google_tasks_go_to_microsoft_to_do_with_what_to_do_cannot_keep_reported() {
    let dir = tempfile::tempdir().unwrap();
    let scope = "https://www.googleapis.com/auth/tasks";
    let google = Stand::start("google", dir.path(), &["--grant", &format!("alice-refresh={scope}")]);
    let seed = serde_json::json!({"user": "alice", "tasklists": [
        {"title": "Home", "tasks": [
            {"title": "Pay the rent", "notes": "by transfer", "due": "2025-01-10T00:00:00.000Z"},
            {"title": "Find the receipt", "parent": 0},
            {"title": "Done already", "status": "completed", "completed": "2025-01-02T10:00:00.000Z"}
        ]},
        {"title": "Work", "tasks": (0..40).map(|i| serde_json::json!({"title": format!("Task {i}")})).collect::<Vec<_>>()}
    ]});
    google.call("POST", "/_fake/seed", &seed.to_string());
    let alice = google.tokens(dir.path(), "alice-refresh", "/token", scope);
    let from = format!("google://alice?api=http://127.0.0.1:{}", google.port);
    let graph = Stand::start("microsoft", dir.path(), &["--grant", "dave-refresh=Tasks.ReadWrite offline_access"]);
    let dave = graph.tokens(dir.path(), "dave-refresh", "/common/oauth2/v2.0/token", "Tasks.ReadWrite offline_access");
    let mut t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dave).unwrap()).unwrap();
    t["token_endpoint_auth_method"] = "client_secret_post".into();
    std::fs::write(&dave, t.to_string()).unwrap();
    let to = format!("microsoft://dave?api=http://127.0.0.1:{}", graph.port);
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "tasks", "--from", &from, "--from-token-file", &alice, "--to", &to, "--to-token-file", &dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 43, "{r}");
    let warnings = r["report"]["verticals"]["tasks"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("To Do has no subtasks"), "the subtask is reported: {warnings}");
    let state = graph.call("GET", "/_fake/state", "");
    let s = state.to_string();
    for part in ["Pay the rent", "by transfer", "2025-01-10", "Done already", "completed"] {
        assert!(s.contains(part), "{part} at To Do");
    }
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 43), "a rerun writes nothing: {r}");
    // and back out of To Do into a package: the lists as containers
    let pkg = dir.path().join("todo.zip");
    let o = ferry_cloud(
        &data,
        &["transfer", "--only", "tasks", "--from", &to, "--from-token-file", &dave, "--to", &format!("package:{}", pkg.display())],
    );
    assert_eq!(total(&report(&o), "transferred"), 43, "{}", text(&o));
    let containers: std::collections::BTreeSet<String> = package_items(&pkg).keys().map(|(_, c, _)| c.clone()).collect();
    assert!(containers.contains("Home") && containers.contains("Work"), "{containers:?}");
    graph.assert_no_violations();
    google.assert_no_violations();
}

/// Google contacts and calendars to Outlook: a weekly series with a moved and a cancelled
/// occurrence, an all-day event, a meeting with attendees; what Outlook has no form for is
/// reported, and a rule it cannot hold fails that event with the reason.
#[test]
fn google_contacts_and_calendars_go_to_microsoft_with_what_outlook_cannot_keep_reported() {
    let dir = tempfile::tempdir().unwrap();
    let scopes = "https://www.googleapis.com/auth/contacts https://www.googleapis.com/auth/calendar";
    let google = Stand::start("google", dir.path(), &["--grant", &format!("alice-refresh={scopes}")]);
    let berlin = |d: &str| serde_json::json!({"dateTime": d, "timeZone": "Europe/Berlin"});
    let seed = serde_json::json!({"user": "alice",
    "contacts": [{"names": [{"givenName": "Ada", "familyName": "Lovelace"}], "emailAddresses": [{"value": "ada@example.org"}],
        "birthdays": [{"date": {"year": 1815, "month": 12, "day": 10}}], "sipAddresses": [{"value": "sip:ada@example.org"}]}],
    "calendars": [{"summary": "Work", "timeZone": "Europe/Berlin", "events": [
        {"iCalUID": "standup@example.org", "summary": "Stand-up", "start": berlin("2025-03-03T09:00:00"), "end": berlin("2025-03-03T09:15:00"),
         "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8", "EXDATE;TZID=Europe/Berlin:20250310T090000"],
         "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 10}, {"method": "email", "minutes": 60}]}},
        {"iCalUID": "standup@example.org", "summary": "Stand-up (moved)", "originalStartTime": berlin("2025-03-17T09:00:00"),
         "start": berlin("2025-03-17T11:00:00"), "end": berlin("2025-03-17T11:15:00")},
        {"iCalUID": "review@example.org", "summary": "Review", "location": "Room 4", "description": "Quarterly\nnumbers",
         "start": berlin("2025-03-05T14:00:00"), "end": berlin("2025-03-05T15:00:00"), "visibility": "private",
         "attendees": [{"email": "bob@example.org", "displayName": "Bob", "responseStatus": "accepted"},
                       {"email": "eve@example.org", "optional": true, "responseStatus": "needsAction"}]},
        {"iCalUID": "trip@example.org", "summary": "Trip", "start": {"date": "2025-04-01"}, "end": {"date": "2025-04-04"}, "transparency": "transparent"},
        {"iCalUID": "twice@example.org", "summary": "Twice a month", "start": berlin("2025-03-01T08:00:00"), "end": berlin("2025-03-01T08:30:00"),
         "recurrence": ["RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15"]}
    ]}]});
    google.call("POST", "/_fake/seed", &seed.to_string());
    let alice = google.tokens(dir.path(), "alice-refresh", "/token", scopes);
    let from = format!("google://alice?api=http://127.0.0.1:{}", google.port);
    let graph = Stand::start("microsoft", dir.path(), &["--grant", "dave-refresh=Contacts.ReadWrite Calendars.ReadWrite offline_access"]);
    let dave =
        graph.tokens(dir.path(), "dave-refresh", "/common/oauth2/v2.0/token", "Contacts.ReadWrite Calendars.ReadWrite offline_access");
    let mut t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dave).unwrap()).unwrap();
    t["token_endpoint_auth_method"] = "client_secret_post".into();
    std::fs::write(&dave, t.to_string()).unwrap();
    let to = format!("microsoft://dave?api=http://127.0.0.1:{}", graph.port);
    let data = dir.path().join("data");
    let args =
        ["transfer", "--only", "contacts,calendar", "--from", &from, "--from-token-file", &alice, "--to", &to, "--to-token-file", &dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    let cal = &r["report"]["verticals"]["calendar"];
    assert_eq!((cal["transferred"].as_u64(), cal["failed"].as_u64()), (Some(3), Some(1)), "{}", text(&o));
    assert_eq!(r["report"]["verticals"]["contacts"]["transferred"], 1, "{r}");
    let failures = cal["failures"].to_string();
    assert!(failures.contains("BYMONTHDAY"), "the event Outlook cannot hold fails with the reason: {failures}");
    let warnings = cal["fidelity_warnings"].to_string();
    assert!(warnings.contains("one reminder"), "the second reminder is reported: {warnings}");
    assert!(warnings.contains("ACCEPTED"), "an attendee's answer is reported: {warnings}");
    let state = graph.call("GET", "/_fake/state", "");
    let events: Vec<serde_json::Value> = state["users"]["dave"]["events"].as_object().unwrap().values().cloned().collect();
    let by = |s: &str| events.iter().find(|e| e["subject"] == s).unwrap_or_else(|| panic!("no {s} in {events:?}")).clone();
    let standup = by("Stand-up");
    assert_eq!(standup["recurrence"]["pattern"]["type"], "weekly", "{standup}");
    assert_eq!(standup["recurrence"]["range"]["numberOfOccurrences"], 8);
    assert_eq!(standup["start"]["timeZone"], "Europe/Berlin");
    assert_eq!(standup["reminderMinutesBeforeStart"], 10);
    let ex = standup["_exceptions"].as_object().unwrap();
    assert_eq!(ex.get("20250310T080000Z").map(|e| e["cancelled"].clone()), Some(serde_json::json!(true)), "{ex:?}");
    assert_eq!(ex["20250317T080000Z"]["fields"]["subject"], "Stand-up (moved)", "{ex:?}");
    let review = by("Review");
    assert_eq!((review["sensitivity"].as_str(), review["attendees"].as_array().map(Vec::len)), (Some("private"), Some(2)));
    assert_eq!(review["body"]["content"], "Quarterly\nnumbers");
    let trip = by("Trip");
    assert_eq!((trip["isAllDay"].as_bool(), trip["showAs"].as_str()), (Some(true), Some("free")));
    assert!(events.iter().all(|e| e["subject"] != "Twice a month"), "the event Outlook cannot hold was not written wrong");
    // a rerun writes nothing and finds each one
    let r = report(&ferry_cloud(&data, &args));
    let cal = &r["report"]["verticals"]["calendar"];
    assert_eq!((cal["transferred"].as_u64(), cal["already_present"].as_u64()), (Some(0), Some(3)), "{r}");
    graph.assert_no_violations();
    google.assert_no_violations();
}
