//! The `microsoft:` connector against a stand-in for Microsoft Graph that follows its
//! published contract (scripts/fakes/microsoft/), and Google contacts moved into it
//! through the Google stand-in, with the report of what Microsoft has no room for.
mod common;
mod fault_proxy;

use common::ferry_service as ferry_cloud;
use common::*;
use std::path::Path;
use std::process::Command;

const GOOGLE_CONTACTS: &str = "https://www.googleapis.com/auth/contacts";

fn graph(dir: &Path) -> (Stand, String, String) {
    let g = Stand::start(
        "microsoft",
        dir,
        &["--grant", "dave-refresh=Contacts.ReadWrite offline_access", "--grant", "erin-refresh=Contacts.ReadWrite offline_access"],
    );
    let uri = format!("microsoft://dave?api=http://127.0.0.1:{}", g.port);
    let tokens = g.graph_tokens(dir, "dave-refresh", "Contacts.ReadWrite offline_access");
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
            "names": [{"givenName": "Zoë", "familyName": "Ångström", "phoneticGivenName": "Tsoe"}],
            "emailAddresses": [{"value": "z1@example.org"}, {"value": "z2@example.org"}, {"value": "z3@example.org"}, {"value": "z4@example.org"}],
            "organizations": [{"name": "Contoso", "department": "R&D", "title": "Lead", "symbol": "CTSO"}],
            "occupations": [{"value": "Engineer"}],
            "imClients": [{"username": "zoe", "protocol": "skype"}],
            "locations": [{"value": "Bldg 4", "type": "desk"}],
            "phoneNumbers": [{"value": "+46 70 1", "type": "mobile"}, {"value": "+46 8 2", "type": "workFax"}],
            "birthdays": [{"date": {"month": 2, "day": 29}}],
            "events": [{"date": {"year": 2010, "month": 6, "day": 1}, "type": "anniversary"}],
            "relations": [{"person": "Ada", "type": "spouse"}, {"person": "Hiro", "type": "manager"}, {"person": "Bo", "type": "friend"}],
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
    for lost in ["z4@example.org", "fax number +46 8 2", "--02-29", "ANNIVERSARY", "X-GOOGLE-USERDEFINED", "friend Bo", "symbol of Contoso"]
    {
        assert!(warnings.contains(lost), "the report names what Microsoft could not keep ({lost}): {warnings}");
    }
    let held = contacts(&graph, "dave");
    assert_eq!(held.len(), 61, "each contact once");
    let zoe = held.iter().find(|c| c.to_string().contains("Zoë")).expect("the rich contact");
    assert_eq!(zoe["mobilePhone"], "+46 70 1", "{zoe}");
    assert_eq!(zoe["emailAddresses"].as_array().map(Vec::len), Some(3), "{zoe}");
    // what a Google contact holds beyond ferry's record, in Microsoft's own fields
    for (field, value) in [
        ("companyName", serde_json::json!("Contoso")),
        ("department", serde_json::json!("R&D")),
        ("jobTitle", serde_json::json!("Lead")),
        ("profession", serde_json::json!("Engineer")),
        ("spouseName", serde_json::json!("Ada")),
        ("manager", serde_json::json!("Hiro")),
        ("yomiGivenName", serde_json::json!("Tsoe")),
        ("imAddresses", serde_json::json!(["zoe"])),
    ] {
        assert_eq!(zoe[field], value, "{field}: {zoe}");
    }
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
    let google =
        Stand::start("google", dir.path(), &["--grant", &format!("alice-refresh={scope}"), "--grant", &format!("bob-refresh={scope}")]);
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
    let dave = graph.graph_tokens(dir.path(), "dave-refresh", "Tasks.ReadWrite offline_access");
    let to = format!("microsoft://dave?api=http://127.0.0.1:{}", graph.port);
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "tasks", "--from", &from, "--from-token-file", &alice, "--to", &to, "--to-token-file", &dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 43, "{r}");
    let warnings = r["report"]["verticals"]["tasks"]["fidelity_warnings"].to_string();
    assert!(!warnings.contains("RELATED-TO"), "the subtask went as a step of its parent: {warnings}");
    let state = graph.call("GET", "/_fake/state", "");
    let s = state.to_string();
    for part in ["Pay the rent", "by transfer", "2025-01-10", "Done already", "completed"] {
        assert!(s.contains(part), "{part} at To Do");
    }
    let tasks: Vec<&serde_json::Value> = state["users"]["dave"]["todo_tasks"].as_object().unwrap().values().collect();
    let rent = tasks.iter().find(|t| t["title"] == "Pay the rent").expect("the parent task");
    let steps: Vec<&str> = rent["_steps"].as_array().into_iter().flatten().filter_map(|c| c["displayName"].as_str()).collect();
    assert_eq!(steps, ["Find the receipt"], "{rent}");
    assert!(!tasks.iter().any(|t| t["title"] == "Find the receipt"), "the subtask is no task of its own");
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
    // the step comes out as a subtask of its task
    let out = records(&pkg, "tasks/tasks.jsonl");
    let find = |title: &str| out.iter().find(|t| t.to_string().contains(title)).unwrap_or_else(|| panic!("{title} in {out:?}")).clone();
    let (rent, receipt) = (find("Pay the rent"), find("Find the receipt"));
    let uid = |t: &serde_json::Value| t.pointer("/record/uid").or(t.get("uid")).cloned().unwrap_or_default();
    let parent = |t: &serde_json::Value| t.pointer("/record/parent").or(t.get("parent")).cloned().unwrap_or_default();
    assert!(!uid(&rent).is_null() && parent(&receipt) == uid(&rent), "{receipt} is a subtask of {rent}");
    // and on to another Google account: the step is a subtask there
    let bob = google.tokens(dir.path(), "bob-refresh", "/token", scope);
    let o = ferry_cloud(
        &data,
        &[
            "transfer",
            "--only",
            "tasks",
            "--from",
            &to,
            "--from-token-file",
            &dave,
            "--to",
            &from.replace("alice", "bob"),
            "--to-token-file",
            &bob,
        ],
    );
    let r = report(&o);
    assert_eq!(total(&r, "transferred"), 43, "{}", text(&o));
    assert!(!r["report"]["verticals"]["tasks"]["fidelity_warnings"].to_string().contains("RELATED-TO"), "{r}");
    let state = google.call("GET", "/_fake/state", "");
    let bobs: Vec<serde_json::Value> = state["users"]["bob"]["tasks"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|l| l.as_object().unwrap().values().cloned().collect::<Vec<_>>())
        .collect();
    let at = |title: &str| bobs.iter().find(|t| t["title"] == title).unwrap_or_else(|| panic!("{title} in {bobs:?}")).clone();
    assert_eq!(at("Find the receipt")["parent"], at("Pay the rent")["id"], "{bobs:?}");
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
    let dave = graph.graph_tokens(dir.path(), "dave-refresh", "Contacts.ReadWrite Calendars.ReadWrite offline_access");
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

/// A stand-in with these grants (`TOKEN=SCOPES`, more `--flags` after them), and the token
/// file of each grant's user, the client authenticated in the form.
fn stand(dir: &Path, grants: &[&str], flags: &[&str]) -> (Stand, Vec<String>) {
    let mut args: Vec<&str> = grants.iter().flat_map(|g| ["--grant", g]).collect();
    args.extend(flags);
    let g = Stand::start("microsoft", dir, &args);
    let tokens = grants
        .iter()
        .map(|grant| {
            let (refresh, scopes) = grant.split_once('=').unwrap();
            g.graph_tokens(dir, refresh, scopes)
        })
        .collect();
    (g, tokens)
}

fn account(g: &Stand, user: &str) -> String {
    format!("microsoft://{user}?api=http://127.0.0.1:{}", g.port)
}

/// One HTTP/1.1 exchange with the stand-in: (status, JSON answer).
fn exchange(port: u16, head: &str, body: &[u8]) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "{head}Host: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(body.trim()).unwrap_or(serde_json::Value::Null))
}

/// A Graph request as `refresh`'s user (as a test sets up what ferry then reads).
fn graph_as(g: &Stand, refresh: &str, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let form = format!("grant_type=refresh_token&refresh_token={refresh}&client_id=ferry-test&client_secret=s");
    let (status, token) =
        exchange(g.port, "POST /common/oauth2/v2.0/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n", form.as_bytes());
    assert_eq!(status, 200, "{token}");
    let auth = format!("Authorization: Bearer {}\r\n", token["access_token"].as_str().unwrap());
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let kind = if body.is_empty() { String::new() } else { "Content-Type: application/json\r\n".to_owned() };
    let (status, answer) = exchange(g.port, &format!("{method} {path} HTTP/1.1\r\n{auth}{kind}"), body.as_bytes());
    assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
    answer
}

/// The records of one of a package's record files (`mail/messages.jsonl`).
fn records(pkg: &Path, file: &str) -> Vec<serde_json::Value> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
    let mut s = String::new();
    match z.by_name(file) {
        Ok(mut f) => f.read_to_string(&mut s).unwrap(),
        Err(_) => return vec![],
    };
    s.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Requests of this kind (`GET /v1.0/me/messages/{mid}/$value`) the stand-in has answered.
fn requests(g: &Stand, kind: &str) -> u64 {
    g.call("GET", "/_fake/requests", "")["requests"][kind].as_u64().unwrap_or(0)
}

/// Standard base64 (RFC 4648), for a test message's attachment.
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// Writes a maildir message (`flags` as maildir letters).
fn maildir(dir: &Path, name: &str, flags: &str, body: &[u8]) {
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("cur").join(format!("{name}:2,{flags}")), body).unwrap();
}

/// Messages as mail programs write them: 8-bit headers (RFC 6532), a multipart with a
/// binary attachment, one without Message-ID, a sent one, one in a nested folder, and one
/// larger than Graph takes in one request.
fn real_mail(src: &Path) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let eight_bit = "From: Zoë Müller <zoe@example.org>\r\nTo: Jürgen <j@example.org>\r\nSubject: Grüße aus Köln\r\n\
        Date: Mon, 6 Jan 2025 09:00:00 +0100\r\nMessage-ID: <gruss-1@example.org>\r\nMIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHallo, schöne Grüße!\r\n"
        .as_bytes()
        .to_vec();
    let attachment: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 256) as u8).collect();
    let b64 = base64(&attachment);
    let lines: Vec<&str> = b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let multipart = format!(
        "From: Ada <ada@example.org>\r\nTo: bob@example.net\r\nSubject: The plans\r\nDate: Tue, 7 Jan 2025 10:00:00 +0000\r\n\
         Message-ID: <plans-2@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: application/octet-stream; name=\"engine.bin\"\r\n\
         Content-Disposition: attachment; filename=\"engine.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        lines.join("\r\n")
    )
    .into_bytes();
    let no_id = b"From: cron@example.org\r\nTo: root@example.org\r\nSubject: Nightly report\r\nDate: Wed, 8 Jan 2025 03:00:00 +0000\r\n\r\nall good\n"
        .to_vec();
    let sent = b"From: dave@example.com\r\nTo: ada@example.org\r\nSubject: Re: The plans\r\nDate: Wed, 8 Jan 2025 12:00:00 +0000\r\n\
        Message-ID: <re-plans@example.com>\r\nIn-Reply-To: <plans-2@example.org>\r\n\r\nThanks!\r\n"
        .to_vec();
    let nested = b"From: shop@example.org\r\nTo: dave@example.com\r\nSubject: Receipt 42\r\nDate: Thu, 9 Jan 2025 08:00:00 +0000\r\n\
        Message-ID: <receipt-42@example.org>\r\n\r\nTotal: 42\r\n"
        .to_vec();
    let mut big = b"From: a@example.org\r\nSubject: Holiday pictures\r\nDate: Fri, 10 Jan 2025 08:00:00 +0000\r\nMessage-ID: <big@example.org>\r\n\r\n".to_vec();
    big.extend(
        std::iter::repeat_n(b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n".as_slice(), 60_000).flatten(),
    );
    let all = vec![
        ("INBOX", "S", eight_bit),
        ("INBOX", "FS", multipart),
        ("INBOX", "", no_id),
        ("Sent", "S", sent),
        ("Receipts/2024", "S", nested),
        ("INBOX", "S", big),
    ];
    for (n, (folder, flags, body)) in all.iter().enumerate() {
        maildir(&src.join("mail").join(folder), &format!("17000000{n:02}.M{n}P1.host"), flags, body);
    }
    all
}

#[test]
fn mail_as_clients_write_it_goes_to_outlook_and_comes_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) = stand(dir.path(), &["dave-refresh=Mail.ReadWrite offline_access"], &[]);
    let (to, dave) = (account(&graph, "dave"), &tokens[0]);
    let src = dir.path().join("src");
    let mail = real_mail(&src);
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "mail", "--from", &format!("dir:{}", src.display()), "--to", &to, "--to-token-file", dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    let m = &r["report"]["verticals"]["mail"];
    assert_eq!((m["transferred"].as_u64(), m["failed"].as_u64()), (Some(5), Some(1)), "{}", text(&o));
    let failures = m["failures"].to_string();
    assert!(failures.contains("4 MB") && failures.contains("not written"), "the large message fails with the limit named: {failures}");
    let warnings = m["fidelity_warnings"].to_string();
    assert!(warnings.contains("draft dated at the import"), "the draft state is reported: {warnings}");
    // in Outlook: each message once, in its folder, with its flags
    let state = graph.call("GET", "/_fake/state", "");
    let u = &state["users"]["dave"];
    let folder_named = |name: &str| {
        u["mail_folders"].as_object().unwrap().values().find(|f| f["displayName"] == name).unwrap_or_else(|| panic!("no folder {name}"))["id"]
            .clone()
    };
    let messages: Vec<&serde_json::Value> = u["messages"].as_object().unwrap().values().filter(|m| m.get("_deleted").is_none()).collect();
    assert_eq!(messages.len(), 5, "{messages:?}");
    let by = |subject: &str| *messages.iter().find(|m| m["subject"] == subject).unwrap_or_else(|| panic!("no {subject}"));
    let plans = by("The plans");
    assert_eq!((plans["isRead"].as_bool(), plans["flag"]["flagStatus"].as_str()), (Some(true), Some("flagged")));
    assert_eq!(plans["parentFolderId"], folder_named("Inbox"));
    assert_eq!(by("Nightly report")["isRead"], false);
    assert_eq!(by("Grüße aus Köln")["from"]["emailAddress"]["name"], "Zoë Müller");
    assert_eq!(by("Re: The plans")["parentFolderId"], folder_named("Sent Items"));
    let receipts = by("Receipt 42");
    let year = u["mail_folders"][receipts["parentFolderId"].as_str().unwrap()].clone();
    assert_eq!(
        (year["displayName"].as_str(), &u["mail_folders"][year["parentFolderId"].as_str().unwrap()]["displayName"]),
        (Some("2024"), &serde_json::json!("Receipts"))
    );

    // again: each is found (by Message-ID, the one without by its Date and Subject), none written twice
    let r = report(&ferry_cloud(&data, &args));
    let m = &r["report"]["verticals"]["mail"];
    assert_eq!((m["transferred"].as_u64(), m["already_present"].as_u64()), (Some(0), Some(5)), "{r}");
    assert_eq!(requests(&graph, "POST /v1.0/me/mailFolders/{fid}/messages"), 5, "nothing posted again");

    // out to a package: the bytes as they went in, the folders as containers, the flags kept
    let pkg = dir.path().join("mail.zip");
    let o = ferry_cloud(
        &data,
        &["transfer", "--only", "mail", "--from", &to, "--from-token-file", dave, "--to", &format!("package:{}", pkg.display())],
    );
    assert_eq!(total(&report(&o), "transferred"), 5, "{}", text(&o));
    let out = records(&pkg, "mail/messages.jsonl");
    assert_eq!(out.len(), 5);
    for (folder, flags, body) in mail.iter().filter(|(_, _, b)| b.len() < 3 << 20) {
        let rec =
            out.iter().find(|r| r["content"]["sha256"] == sha(body)).unwrap_or_else(|| panic!("{folder}: not byte for byte in {out:?}"));
        assert_eq!(rec["container"], *folder, "{rec}");
        let got: Vec<&str> = rec["record"]["flags"].as_array().map(|f| f.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default();
        let want: Vec<&str> = flags.chars().map(|c| if c == 'S' { "\\Seen" } else { "\\Flagged" }).collect();
        assert_eq!(got.iter().copied().collect::<std::collections::BTreeSet<_>>(), want.into_iter().collect(), "{rec}");
    }
    graph.assert_no_violations();
}

fn seeded_message(n: u32) -> serde_json::Value {
    let mime = format!(
        "From: list@example.org\r\nTo: dave@example.com\r\nSubject: Issue {n}\r\nDate: Mon, 6 Jan 2025 09:{:02}:00 +0000\r\nMessage-ID: <issue-{n}@example.org>\r\n\r\nNumber {n}\r\n",
        n % 60
    );
    serde_json::json!({"folder": "inbox", "mime": base64(mime.as_bytes())})
}

/// Messages in a maildir tree, by Message-ID, with how many copies.
fn maildir_ids(root: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for p in walk(root) {
        let body = std::fs::read_to_string(&p).unwrap_or_default();
        if let Some(id) = body.lines().find_map(|l| l.strip_prefix("Message-ID: ")) {
            *out.entry(id.trim().to_owned()).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn outlook_mail_comes_out_incrementally_and_an_expired_delta_link_lists_all_once_more() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) = stand(dir.path(), &["dave-refresh=Mail.Read offline_access"], &[]);
    let (from, dave) = (account(&graph, "dave"), &tokens[0]);
    let first: Vec<serde_json::Value> = (0..25).map(seeded_message).collect();
    graph.call("POST", "/_fake/seed", &serde_json::json!({"user": "dave", "mimeMessages": first}).to_string());
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    let args = [
        "transfer",
        "--incremental",
        "--only",
        "mail",
        "--from",
        &from,
        "--from-token-file",
        dave,
        "--to",
        &format!("dir:{}", out.display()),
    ];
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (25, 25), "{r}");
    // one more: the delta link lists it alone
    graph.call("POST", "/_fake/seed", &serde_json::json!({"user": "dave", "mimeMessages": [seeded_message(25)]}).to_string());
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (1, 1), "only the new message was listed: {r}");
    // the delta links expire: every folder is listed in full, the ledger moves nothing twice
    graph.call("POST", "/_fake/faults", r#"{"expire_delta_tokens": true}"#);
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!(r["report"]["state"], "completed", "{r}");
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (26, 0), "listed in full, nothing new: {r}");
    assert!(graph.answered(410) >= 1, "the expired links were refused");
    let held = maildir_ids(&out.join("mail"));
    assert_eq!(held.len(), 26, "{held:?}");
    assert!(held.values().all(|n| *n == 1), "no message twice: {held:?}");
    assert!(out.join("mail/INBOX").is_dir(), "the Inbox is INBOX, as IMAP names it");
    graph.assert_no_violations();
}

/// Outlook answers a mailbox's fifth request in flight with 429: ferry never sends one,
/// though a package reads eight messages at once. The stand-in holds the requests that
/// reach it until the test lets them go, so the four in flight are seen without timing.
#[test]
fn no_more_than_four_requests_are_in_flight_to_one_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) = stand(dir.path(), &["dave-refresh=Mail.Read offline_access"], &["--max-concurrent", "4"]);
    let (from, dave) = (account(&graph, "dave"), &tokens[0]);
    let seed: Vec<serde_json::Value> = (0..24).map(seeded_message).collect();
    graph.call("POST", "/_fake/seed", &serde_json::json!({"user": "dave", "mimeMessages": seed}).to_string());
    let pkg = dir.path().join("out.zip");
    let child = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args([
            "--json",
            "transfer",
            "--only",
            "mail",
            "--from",
            &from,
            "--from-token-file",
            dave,
            "--to",
            &format!("package:{}", pkg.display()),
        ])
        .args(["--insecure", "--allow-private-network"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // let the listing through one request at a time, until the Inbox's delta page is in:
    // what comes next is the messages' MIME, read in parallel
    let mut listed = false;
    for _ in 0..40 {
        let held = graph.call("POST", "/_fake/faults", r#"{"hold": 1000, "await_held": 1}"#)["held"].as_u64();
        // one while ferry lists; once the MIME is read, up to four may be in by now
        assert!(held.is_some_and(|h| (1..=4).contains(&h)), "ferry's next request is held: {held:?}");
        if requests(&graph, "GET /v1.0/me/mailFolders/{fid}/messages/delta") > 0 {
            listed = true;
            break;
        }
    }
    assert!(listed, "the Inbox was listed");
    let held = graph.call("POST", "/_fake/faults", r#"{"await_held": 4}"#)["held"].as_u64();
    assert_eq!(held, Some(4), "four reads in flight at once");
    graph.call("POST", "/_fake/faults", r#"{"release": true}"#);
    let o = child.wait_with_output().unwrap();
    let r = report(&o);
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 24), "{}", text(&o));
    assert_eq!(requests(&graph, "GET (concurrency limit)"), 0, "no fifth request reached the mailbox");
    assert_eq!(graph.answered(429), 0);
    graph.assert_no_violations();
}

/// A file's bytes, the same on every run (not compressible, as photos and archives are not).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A folder tree for the files vertical: (path under `files/`, bytes).
fn file_tree(src: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let tree = vec![
        ("notes.txt", b"remember the milk\n".to_vec()),
        ("empty.txt", Vec::new()),
        ("what:is.txt", b"a name OneDrive does not take\n".to_vec()),
        ("docs/report.txt", b"Q1: fine\n".to_vec()),
        ("docs/deep/data.bin", noise(100_000, 1)),
        ("big.bin", noise((13 << 20) + 12_345, 2)),
    ];
    for (path, bytes) in &tree {
        let p = src.join("files").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_588_334_400); // 2020-05-01T12:00:00Z
    std::fs::File::options().write(true).open(src.join("files/notes.txt")).unwrap().set_modified(when).unwrap();
    tree
}

/// The stand-in's drive items of `user`: path -> (size, base64 of the bytes, item).
fn drive(g: &Stand, user: &str) -> std::collections::BTreeMap<String, (u64, String, serde_json::Value)> {
    let state = g.call("GET", "/_fake/state", "");
    let d = &state["users"][user]["drive"];
    let items = d["items"].as_object().unwrap();
    let path = |it: &serde_json::Value| {
        let mut parts = vec![];
        let mut at = it.clone();
        while let Some(p) = at["_parent"].as_str().map(str::to_owned) {
            parts.push(at["name"].as_str().unwrap().to_owned());
            at = items[&p].clone();
        }
        parts.reverse();
        parts.join("/")
    };
    items
        .values()
        .filter(|it| it.get("_deleted").is_none() && it["_folder"] == false)
        .map(|it| {
            (path(it), (it["size"].as_u64().unwrap(), d["blobs"][it["id"].as_str().unwrap()].as_str().unwrap_or("").to_owned(), it.clone()))
        })
        .collect()
}

#[test]
fn a_folder_tree_goes_to_onedrive_large_files_in_sessions_and_comes_back_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) = stand(dir.path(), &["dave-refresh=Files.ReadWrite offline_access"], &[]);
    let (to, dave) = (account(&graph, "dave"), &tokens[0]);
    let src = dir.path().join("src");
    let tree = file_tree(&src);
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "files", "--from", &format!("dir:{}", src.display()), "--to", &to, "--to-token-file", dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    let f = &r["report"]["verticals"]["files"];
    assert_eq!((f["transferred"].as_u64(), f["failed"].as_u64()), (Some(6), Some(0)), "{}", text(&o));
    assert!(f["fidelity_warnings"].to_string().contains("what:is.txt"), "the renamed file is reported: {f}");
    let held = drive(&graph, "dave");
    for (path, bytes) in &tree {
        let at = path.replace(':', "_");
        let (size, blob, _) = held.get(&at).unwrap_or_else(|| panic!("{at} not in {:?}", held.keys()));
        assert_eq!((*size, blob.as_str()), (bytes.len() as u64, base64(bytes).as_str()), "{at} arrived whole");
    }
    assert_eq!(held.len(), 6, "{:?}", held.keys());
    assert_eq!(held["notes.txt"].2["fileSystemInfo"]["lastModifiedDateTime"], "2020-05-01T12:00:00Z", "the file's time is kept");
    assert_eq!(requests(&graph, "POST /v1.0/me/drive/{item}:/{path}"), 1, "one upload session, for the large file");
    assert_eq!(requests(&graph, "PUT /_upload/{token}"), 3, "13 MiB in fragments of 5 MiB");
    assert_eq!(requests(&graph, "PUT /v1.0/me/drive/{item}:/{path}"), 5, "the small ones in one request each");

    // again: every file is found by its path, size and QuickXorHash; nothing is sent
    let r = report(&ferry_cloud(&data, &args));
    let f = &r["report"]["verticals"]["files"];
    assert_eq!((f["transferred"].as_u64(), f["already_present"].as_u64()), (Some(0), Some(6)), "{r}");
    assert_eq!(requests(&graph, "PUT /_upload/{token}") + requests(&graph, "PUT /v1.0/me/drive/{item}:/{path}"), 8, "nothing sent twice");

    // out to a package: the folders as containers, the bytes as they went in
    let pkg = dir.path().join("files.zip");
    let o = ferry_cloud(
        &data,
        &["transfer", "--only", "files", "--from", &to, "--from-token-file", dave, "--to", &format!("package:{}", pkg.display())],
    );
    assert_eq!(total(&report(&o), "transferred"), 6, "{}", text(&o));
    let out = records(&pkg, "files/files.jsonl");
    for (path, bytes) in &tree {
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        let rec = out.iter().find(|r| r["content"]["sha256"] == sha(bytes)).unwrap_or_else(|| panic!("{path} not in {out:?}"));
        assert_eq!(
            (rec["container"].as_str(), rec["record"]["name"].as_str()),
            (Some(folder), Some(name.replace(':', "_").as_str())),
            "{rec}"
        );
    }
    let notes = out.iter().find(|r| r["record"]["name"] == "notes.txt").unwrap();
    assert_eq!(notes["record"]["modified"], "2020-05-01T12:00:00Z", "{notes}");

    // incrementally into a folder: then only what changed
    let dst = dir.path().join("out");
    let inc = [
        "transfer",
        "--incremental",
        "--only",
        "files",
        "--from",
        &to,
        "--from-token-file",
        dave,
        "--to",
        &format!("dir:{}", dst.display()),
    ];
    assert_eq!(total(&report(&ferry_cloud(&data, &inc)), "transferred"), 6);
    graph.call(
        "POST",
        "/_fake/seed",
        &serde_json::json!({"user": "dave", "driveItems": [{"path": "/docs/new.txt", "content": "new\n"}]}).to_string(),
    );
    let r = report(&ferry_cloud(&data, &inc));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (1, 1), "only the new file: {r}");
    assert_eq!(std::fs::read(dst.join("files/docs/new.txt")).unwrap(), b"new\n");
    // the delta link expires: all listed again, none written again
    graph.call("POST", "/_fake/faults", r#"{"expire_delta_tokens": true}"#);
    let r = report(&ferry_cloud(&data, &inc));
    assert_eq!((r["report"]["state"].as_str(), total(&r, "found"), total(&r, "transferred")), (Some("completed"), 7, 0), "{r}");
    assert_eq!(std::fs::read(dst.join("files/big.bin")).unwrap(), tree[5].1, "the large file came down whole");
    graph.assert_no_violations();
}

#[test]
fn a_full_onedrive_stops_the_job_as_full() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) = stand(dir.path(), &["dave-refresh=Files.ReadWrite.All offline_access"], &["--drive-quota", "6000000"]);
    let src = dir.path().join("src");
    for n in 0..3 {
        std::fs::create_dir_all(src.join("files")).unwrap();
        std::fs::write(src.join(format!("files/part{n}.bin")), noise(2_500_000, n)).unwrap();
    }
    let data = dir.path().join("data");
    let o = ferry_cloud(
        &data,
        &[
            "transfer",
            "--only",
            "files",
            "--from",
            &format!("dir:{}", src.display()),
            "--to",
            &account(&graph, "dave"),
            "--to-token-file",
            &tokens[0],
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("quotaLimitReached") && text(&o).contains("the destination is full"), "{}", text(&o));
    assert_eq!(drive(&graph, "dave").len(), 2, "what fitted is there");
    graph.assert_no_violations();
}

/// The answer to an upload fragment is lost (the connection cut after the stand-in stored
/// it): ferry asks the session where it stands and goes on from there, in the same session.
#[test]
fn an_upload_session_goes_on_where_it_stands_after_a_lost_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) = stand(dir.path(), &["dave-refresh=Files.ReadWrite offline_access"], &[]);
    let proxy = fault_proxy::Proxy::start(
        &format!("127.0.0.1:{}", graph.port),
        fault_proxy::Plan { markers: vec![(b"PUT /_upload/".to_vec(), 1)], ..Default::default() },
    );
    let src = dir.path().join("src");
    let big = noise((11 << 20) + 7, 3);
    std::fs::create_dir_all(src.join("files/video")).unwrap();
    std::fs::write(src.join("files/video/talk.bin"), &big).unwrap();
    let to = format!("microsoft://dave?api=http://{}", proxy.addr);
    let data = dir.path().join("data");
    let o = ferry_cloud(
        &data,
        &["transfer", "--only", "files", "--from", &format!("dir:{}", src.display()), "--to", &to, "--to-token-file", &tokens[0]],
    );
    let r = report(&o);
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 1), "{}", text(&o));
    assert_eq!(proxy.stats.lost_answers.load(std::sync::atomic::Ordering::SeqCst), 1, "{}", proxy.stats.summary());
    let held = drive(&graph, "dave");
    assert_eq!(held["video/talk.bin"].1, base64(&big), "the file is whole and right");
    assert!(requests(&graph, "GET /_upload/{token}") >= 1, "the session was asked where it stands");
    assert_eq!(requests(&graph, "POST /v1.0/me/drive/{item}:/{path}"), 1, "the same session went on");
    assert_eq!(requests(&graph, "PUT /_upload/{token}"), 3, "no fragment sent twice");
    graph.assert_no_violations();
}

/// A URL path segment, percent-encoded (Graph's ids may hold `=`, `+`, `/`).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn outlook_calendars_come_out_as_icalendar_with_their_series_and_go_back_to_outlook_once() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, tokens) =
        stand(dir.path(), &["dave-refresh=Calendars.ReadWrite offline_access", "erin-refresh=Calendars.ReadWrite offline_access"], &[]);
    let (dave, erin) = (account(&graph, "dave"), account(&graph, "erin"));
    let at = |d: &str, z: &str| serde_json::json!({"dateTime": d, "timeZone": z});
    let seed = serde_json::json!({"user": "dave",
    "events": [
        {"subject": "Stand-up", "start": at("2025-03-03T09:00:00", "W. Europe Standard Time"), "end": at("2025-03-03T09:15:00", "W. Europe Standard Time"),
         "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday"},
                        "range": {"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 6}},
         "isReminderOn": true, "reminderMinutesBeforeStart": 10},
        {"subject": "Trip", "isAllDay": true, "start": at("2025-04-01T00:00:00", "UTC"), "end": at("2025-04-04T00:00:00", "UTC"), "showAs": "free"},
        {"subject": "Call with Seattle", "start": at("2025-03-05T08:00:00", "Pacific Standard Time"), "end": at("2025-03-05T09:00:00", "Pacific Standard Time")}
    ],
    "calendars": [{"name": "Work", "events": [
        {"subject": "Review", "start": at("2025-03-06T14:00:00", "Europe/Berlin"), "end": at("2025-03-06T15:00:00", "Europe/Berlin"), "sensitivity": "private"}
    ]}]});
    let made = graph.call("POST", "/_fake/seed", &seed.to_string());
    let series = made["events"][0].as_str().unwrap().to_owned();
    // in Outlook: the second Monday cancelled, the third moved to 11:00
    let instances = graph_as(
        &graph,
        "dave-refresh",
        "GET",
        &format!("/v1.0/me/events/{}/instances?startDateTime=2025-03-01T00:00:00Z&endDateTime=2025-05-01T00:00:00Z", pct(&series)),
        None,
    );
    let occ: Vec<String> = instances["value"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(occ.len(), 6, "{instances}");
    graph_as(&graph, "dave-refresh", "DELETE", &format!("/v1.0/me/events/{}", pct(&occ[1])), None);
    let moved = serde_json::json!({"subject": "Stand-up (moved)", "start": at("2025-03-17T11:00:00", "Europe/Berlin"), "end": at("2025-03-17T11:15:00", "Europe/Berlin")});
    graph_as(&graph, "dave-refresh", "PATCH", &format!("/v1.0/me/events/{}", pct(&occ[2])), Some(moved));

    let data = dir.path().join("data");
    let pkg = dir.path().join("cal.zip");
    let o = ferry_cloud(
        &data,
        &[
            "transfer",
            "--only",
            "calendar",
            "--from",
            &dave,
            "--from-token-file",
            &tokens[0],
            "--to",
            &format!("package:{}", pkg.display()),
        ],
    );
    let r = report(&o);
    assert_eq!((r["report"]["state"].as_str(), total(&r, "transferred")), (Some("completed"), 4), "{}", text(&o));
    let out = records(&pkg, "calendar/events.jsonl");
    let ics = |summary: &str| {
        out.iter()
            .find(|r| r["original"]["text"].as_str().is_some_and(|t| t.contains(&format!("SUMMARY:{summary}\r\n"))))
            .unwrap_or_else(|| panic!("no {summary} in {out:?}"))
    };
    let standup = ics("Stand-up");
    let text_of = |r: &serde_json::Value| r["original"]["text"].as_str().unwrap().replace("\r\n ", "");
    let s = text_of(standup);
    for line in [
        "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6",
        "DTSTART;TZID=Europe/Berlin:20250303T090000",
        "EXDATE;TZID=Europe/Berlin:20250310T090000",
        "RECURRENCE-ID;TZID=Europe/Berlin:20250317T090000",
        "DTSTART;TZID=Europe/Berlin:20250317T110000",
        "SUMMARY:Stand-up (moved)",
        "TRIGGER:-PT10M",
    ] {
        assert!(s.contains(line), "{line} in\n{s}");
    }
    assert_eq!(s.matches("BEGIN:VEVENT").count(), 2, "the series and its one exception: {s}");
    assert_eq!(standup["container"], "", "the default calendar");
    let trip = text_of(ics("Trip"));
    assert!(
        trip.contains("DTSTART;VALUE=DATE:20250401") && trip.contains("DTEND;VALUE=DATE:20250404") && trip.contains("TRANSP:TRANSPARENT"),
        "{trip}"
    );
    assert!(
        text_of(ics("Call with Seattle")).contains("DTSTART;TZID=America/Los_Angeles:20250305T080000"),
        "a Windows zone name becomes its IANA zone"
    );
    let review = ics("Review");
    assert_eq!(review["container"], "Work");
    assert!(text_of(review).contains("CLASS:PRIVATE"));

    // and into another Outlook: the series with its exception and cancellation, once
    let args =
        ["transfer", "--only", "calendar", "--from", &format!("package:{}", pkg.display()), "--to", &erin, "--to-token-file", &tokens[1]];
    let o = ferry_cloud(&data, &args);
    assert_eq!(total(&report(&o), "transferred"), 4, "{}", text(&o));
    let state = graph.call("GET", "/_fake/state", "");
    let u = &state["users"]["erin"];
    let events: Vec<&serde_json::Value> = u["events"].as_object().unwrap().values().filter(|e| e.get("_deleted").is_none()).collect();
    let by = |s: &str| *events.iter().find(|e| e["subject"] == s).unwrap_or_else(|| panic!("no {s} in {events:?}"));
    let standup = by("Stand-up");
    assert_eq!(
        (standup["recurrence"]["pattern"]["type"].as_str(), standup["recurrence"]["range"]["numberOfOccurrences"].as_u64()),
        (Some("weekly"), Some(6))
    );
    assert_eq!(
        (standup["start"]["dateTime"].as_str().map(|d| &d[..19]), standup["start"]["timeZone"].as_str()),
        (Some("2025-03-03T09:00:00"), Some("Europe/Berlin"))
    );
    let ex = standup["_exceptions"].as_object().unwrap();
    assert_eq!(ex["20250310T080000Z"]["cancelled"], true, "{ex:?}");
    assert_eq!(ex["20250317T080000Z"]["fields"]["subject"], "Stand-up (moved)", "{ex:?}");
    assert_eq!(by("Trip")["isAllDay"], true);
    assert_eq!(by("Call with Seattle")["start"]["timeZone"], "America/Los_Angeles");
    let work = u["calendars"].as_object().unwrap().values().find(|c| c["name"] == "Work").expect("the Work calendar");
    assert_eq!(by("Review")["_cal"], work["id"]);
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 4), "a rerun writes nothing: {r}");

    // incrementally: every event is listed each time, the unchanged ones are passed over
    let inc = [
        "transfer",
        "--incremental",
        "--only",
        "calendar",
        "--from",
        &dave,
        "--from-token-file",
        &tokens[0],
        "--to",
        &format!("dir:{}", dir.path().join("out").display()),
    ];
    assert_eq!(total(&report(&ferry_cloud(&data, &inc)), "transferred"), 4);
    let r = report(&ferry_cloud(&data, &inc));
    assert_eq!((total(&r, "found"), total(&r, "transferred")), (4, 0), "{r}");
    graph.assert_no_violations();
}

/// The package's items as (vertical, container, content hash) without the containers: what
/// two services name their folders differently does not hide a lost or changed byte.
fn contents(pkg: &Path) -> std::collections::BTreeMap<String, u32> {
    let mut out = std::collections::BTreeMap::new();
    for ((v, _, sha), n) in package_items(pkg) {
        *out.entry(format!("{v}|{sha}")).or_default() += n;
    }
    out
}

/// Microsoft mail to Gmail, through both stand-ins: every message byte for byte (the
/// contents of the two mailboxes exported to packages are the same), the folders as
/// labels, a rerun writes nothing, and the report says what Gmail cannot keep.
#[test]
fn outlook_mail_goes_to_gmail_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let graph = Stand::start("microsoft", dir.path(), &["--grant", "dave-refresh=Mail.ReadWrite offline_access"]);
    let dave = graph.graph_tokens(dir.path(), "dave-refresh", "Mail.ReadWrite offline_access");
    let umlauts = "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\nTo: dave@example.com\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n\
        Date: Tue, 7 Jan 2025 10:00:00 +0100\r\nMessage-ID: <gruss@example.de>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
        Content-Transfer-Encoding: 8bit\r\n\r\nGr\u{fc}\u{df}e aus K\u{f6}ln\r\n";
    let attached = "From: a@example.org\r\nTo: dave@example.com\r\nSubject: Report\r\nDate: Wed, 8 Jan 2025 08:00:00 +0000\r\n\
        Message-ID: <report@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
        Content-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n\
        Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\r\nJVBERi0xLjQKJcfsj6IK\r\n--b1--\r\n";
    let sent = "From: dave@example.com\r\nTo: a@example.org\r\nSubject: Re: Report\r\nDate: Wed, 8 Jan 2025 09:00:00 +0000\r\n\
        Message-ID: <reply@example.com>\r\nIn-Reply-To: <report@example.org>\r\n\r\nThanks.\r\n";
    let seed = serde_json::json!({"user": "dave", "mimeMessages": [
        {"folder": "inbox", "mime": base64(umlauts.as_bytes())},
        {"folder": "inbox", "mime": base64(attached.as_bytes())},
        {"folder": "sentitems", "mime": base64(sent.as_bytes())}]});
    graph.call("POST", "/_fake/seed", &seed.to_string());
    let from = format!("microsoft://dave?api=http://127.0.0.1:{}", graph.port);
    let scope = "https://mail.google.com/";
    let google = Stand::start("google", dir.path(), &["--grant", &format!("alice-refresh={scope}")]);
    let alice = google.tokens(dir.path(), "alice-refresh", "/token", scope);
    let to = format!("google://alice?api=http://127.0.0.1:{}", google.port);
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "mail", "--from", &from, "--from-token-file", &dave, "--to", &to, "--to-token-file", &alice];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 3, "{r}");
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 3), "a rerun writes nothing: {r}");
    let (outlook, gmail) = (dir.path().join("outlook.zip"), dir.path().join("gmail.zip"));
    let out = |uri: &str, tokens: &str, pkg: &Path| {
        let o = ferry_cloud(
            &data,
            &["transfer", "--only", "mail", "--from", uri, "--from-token-file", tokens, "--to", &format!("package:{}", pkg.display())],
        );
        assert_eq!(total(&report(&o), "transferred"), 3, "{}", text(&o));
    };
    out(&from, &dave, &outlook);
    out(&to, &alice, &gmail);
    assert_eq!(contents(&outlook), contents(&gmail), "every message byte for byte");
    let containers: std::collections::BTreeSet<String> = package_items(&gmail).keys().map(|(_, c, _)| c.clone()).collect();
    assert!(containers.contains("INBOX") && containers.contains("Sent"), "Outlook's folders as Gmail's labels: {containers:?}");
    graph.assert_no_violations();
    google.assert_no_violations();
}

/// Google Drive to OneDrive: a folder tree, a file large enough for an upload session and
/// a Google document, which goes as the format the report names.
#[test]
fn google_drive_goes_to_onedrive_with_documents_exported() {
    let dir = tempfile::tempdir().unwrap();
    let scope = "https://www.googleapis.com/auth/drive";
    let google = Stand::start("google", dir.path(), &["--grant", &format!("alice-refresh={scope}")]);
    let big: Vec<u8> = (0..6_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let seed = serde_json::json!({"user": "alice", "drive": {"files": [
        {"name": "Projects", "mimeType": "application/vnd.google-apps.folder"},
        {"name": "notes.txt", "parent": 0, "content": "Zeile eins\nZeile zwei\n", "contentType": "text/plain", "modifiedTime": "2024-05-01T10:00:00Z"},
        {"name": "Überweisung März.csv", "parent": 0, "content": "a;b\n1;2\n", "contentType": "text/csv"},
        {"name": "video.bin", "contentBase64": base64(&big), "contentType": "application/octet-stream"},
        {"name": "Plan", "parent": 0, "mimeType": "application/vnd.google-apps.document", "content": "The plan"}]}});
    google.call("POST", "/_fake/seed", &seed.to_string());
    let alice = google.tokens(dir.path(), "alice-refresh", "/token", scope);
    let from = format!("google://alice?api=http://127.0.0.1:{}", google.port);
    let graph = Stand::start("microsoft", dir.path(), &["--grant", "dave-refresh=Files.ReadWrite offline_access"]);
    let dave = graph.graph_tokens(dir.path(), "dave-refresh", "Files.ReadWrite offline_access");
    let to = format!("microsoft://dave?api=http://127.0.0.1:{}", graph.port);
    let data = dir.path().join("data");
    let args = ["transfer", "--only", "files", "--from", &from, "--from-token-file", &alice, "--to", &to, "--to-token-file", &dave];
    let o = ferry_cloud(&data, &args);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 4, "{r}");
    let warnings = r["report"]["verticals"]["files"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("docx") || warnings.contains("wordprocessingml"), "the document's format is named: {warnings}");
    let r = report(&ferry_cloud(&data, &args));
    assert_eq!((total(&r, "transferred"), total(&r, "already_present")), (0, 4), "a rerun writes nothing: {r}");
    let (drive, onedrive) = (dir.path().join("drive.zip"), dir.path().join("onedrive.zip"));
    for (uri, tokens, pkg) in [(&from, &alice, &drive), (&to, &dave, &onedrive)] {
        let o = ferry_cloud(
            &data,
            &["transfer", "--only", "files", "--from", uri, "--from-token-file", tokens, "--to", &format!("package:{}", pkg.display())],
        );
        assert_eq!(total(&report(&o), "transferred"), 4, "{}", text(&o));
    }
    assert_eq!(package_items(&drive), package_items(&onedrive), "the same files in the same folders, byte for byte");
    let state = graph.call("GET", "/_fake/state", "").to_string();
    assert!(state.contains("Plan.docx") && state.contains("Überweisung März.csv"), "names kept at OneDrive");
    graph.assert_no_violations();
    google.assert_no_violations();
}
