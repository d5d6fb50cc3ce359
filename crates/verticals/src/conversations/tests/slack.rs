use super::*;
use serde_json::json;

fn workspace() -> SlackWorkspace {
    let users = json!([
        {"id": "U1", "name": "ana", "real_name": "Ana Lima", "profile": {"real_name": "Ana Lima", "display_name": "ana"}},
        {"id": "U2", "name": "ben", "profile": {"real_name": "", "display_name": "Ben"}},
        {"id": "B1", "name": "deploybot", "is_bot": true, "profile": {"real_name": "Deploy Bot"}},
        "not a member"
    ]);
    let channels = json!([
        {"id": "C1", "name": "general", "created": "1355517523", "creator": "U1", "is_archived": false, "is_general": true,
         "members": ["U1", "U2", "B1"], "topic": {"value": "Everything", "creator": "U1", "last_set": 0}, "purpose": {"value": ""}},
        {"id": "C2", "name": "random", "created": 1355517600, "members": ["U1"]}
    ]);
    let dms = json!([{"id": "D1", "created": 1400000000, "members": ["U1", "U2"]}]);
    let mut w = SlackWorkspace::new();
    w.add_users(users.to_string().as_bytes()).unwrap();
    w.add_channels(SlackKind::Channels, channels.to_string().as_bytes()).unwrap();
    w.add_channels(SlackKind::of_list("dms.json").unwrap(), dms.to_string().as_bytes()).unwrap();
    w
}

fn day1() -> String {
    json!([
        {"type": "message", "user": "U1", "text": "Lunch at noon?", "ts": "1704103200.000100",
         "thread_ts": "1704103200.000100", "reply_count": 2, "replies": [{"user": "U2", "ts": "1704189600.000200"}],
         "reactions": [{"name": "thumbsup", "users": ["U2", "U1"], "count": "2"}],
         "user_profile": {"real_name": "Ana Lima"}, "blocks": [{"type": "rich_text"}]},
        {"type": "message", "subtype": "bot_message", "bot_id": "B9", "username": "CI", "text": "build passed", "ts": 1704103300.0},
        {"type": "message", "user": "U2", "text": "", "ts": "1704103400.000300",
         "files": [
            {"id": "F1", "name": "menu.pdf", "title": "Menu", "mimetype": "application/pdf", "size": "3000",
             "url_private": "https://files.slack.com/files-pri/T1-F1/menu.pdf",
             "url_private_download": "https://files.slack.com/files-pri/T1-F1/download/menu.pdf?t=xoxe-secret-token&x=1",
             "thumb_64": "https://files.slack.com/files-tmb/T1-F1/menu_64.png?t=xoxe-secret-token"},
            {"id": "F2", "mode": "tombstone"}
         ]},
        {"type": "message", "user": "U1", "text": "edited text", "ts": "1704103500.000400", "edited": {"user": "U1", "ts": "1704103600.000000"}}
    ])
    .to_string()
}

fn day2() -> String {
    json!([
        {"type": "message", "user": "U2", "text": "Yes!", "ts": "1704189600.000200", "thread_ts": "1704103200.000100", "parent_user_id": "U1"},
        {"type": "message", "user": "U1", "text": "edited text", "ts": "1704103500.000400"},
        {"type": "message", "subtype": "channel_join", "user": "U9", "text": "<@U9> has joined the channel", "ts": "1704189700.000000",
         "user_profile": {"real_name": "Guest Nine"}},
        {"ts": "yesterday", "text": "broken time"},
        ["not", "a", "message"]
    ])
    .to_string()
}

#[test]
fn a_channel_is_one_conversation_its_threads_inside() {
    let mut w = workspace();
    let found = std::cell::RefCell::new(Vec::new());
    let mut each = |f: Result<Found, String>| {
        found.borrow_mut().push(f.unwrap());
        true
    };
    w.add_day("general", "2024-01-01", day1().as_bytes(), &mut each).unwrap();
    w.add_day("general", "2024-01-02", day2().as_bytes(), &mut each).unwrap();
    assert!(found.borrow().is_empty(), "the channel is handed when it is done");
    w.add_day("D1", "2024-01-03", json!([{"user": "U2", "text": "hi", "ts": "1704276000.000100"}]).to_string().as_bytes(), &mut each)
        .unwrap();
    assert_eq!(found.borrow().len(), 1, "the next channel's first day hands the last");
    w.add_day("lost-channel", "2024-01-03", &b"[]"[..], &mut each).unwrap();
    w.finish(&mut each);
    let found = found.into_inner();
    assert_eq!(found.len(), 3);

    let g = &found[0];
    let c = &g.record;
    assert_eq!((g.id.as_str(), g.container.as_str(), c.title.as_deref()), ("C1", "channels", Some("#general")));
    assert_eq!((c.platform.as_str(), c.kind), ("slack", Kind::Chat));
    assert_eq!(c.created.unwrap().to_rfc3339(), "2012-12-14T20:38:43+00:00", "created written as a string");
    assert_eq!(c.extra["topic"]["value"], "Everything");
    // in time order, a message in two day files kept once, the unreadable ones said
    let ids: Vec<&str> = c.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1704103200.000100", "1704103300.0", "1704103400.000300", "1704103500.000400", "1704189600.000200", "1704189700.000000"]
    );
    let w = g.warnings.join("\n");
    assert!(
        w.contains("twice") && w.contains("message 4 left out") && w.contains("message 5 left out") && w.contains("F2 is deleted"),
        "{w}"
    );
    // the thread: a reply's parent is the thread's first message; all shown
    let reply = msg(c, "1704189600.000200");
    assert_eq!(reply.parent.as_deref(), Some("1704103200.000100"));
    assert_eq!(msg(c, "1704103200.000100").parent, None, "a thread's first message names itself: no parent");
    assert!(c.messages.iter().all(|m| m.visible));
    // authors by name; a bot; someone the lists do not know, by the message's profile
    let first = msg(c, "1704103200.000100");
    assert_eq!(first.author, Person { role: None, name: Some("Ana Lima".into()), id: Some("U1".into()) });
    assert_eq!(reply.author.name.as_deref(), Some("Ben"), "a display name where there is no real name");
    assert_eq!(
        msg(c, "1704103300.0").author,
        Person { role: Some("bot".into()), name: Some("CI".into()), id: Some("B9".into()) },
        "ts as a number"
    );
    assert_eq!(msg(c, "1704189700.000000").author.name.as_deref(), Some("Guest Nine"));
    assert!(!first.extra.contains_key("user_profile") && first.extra.contains_key("blocks") && first.extra.contains_key("reply_count"));
    // reactions, with a count written as a string
    assert_eq!(first.reactions, [Reaction { name: "thumbsup".into(), count: 2, users: vec!["U2".into(), "U1".into()] }]);
    // an edit: its time; the author's own edit says no more
    let edited = msg(c, "1704103500.000400");
    assert_eq!(edited.updated.unwrap().to_rfc3339(), "2024-01-01T10:06:40+00:00");
    assert!(!edited.extra.contains_key("edited"));
    // files: by name, the token taken out of every link
    let files = &msg(c, "1704103400.000300").attachments;
    assert_eq!((files[0].name.as_str(), files[0].file.as_deref(), files[0].size), ("menu.pdf", Some("menu.pdf"), Some(3000)));
    assert_eq!(files[0].url.as_deref(), Some("https://files.slack.com/files-pri/T1-F1/download/menu.pdf?x=1"));
    assert_eq!(files[0].extra["thumb_64"], "https://files.slack.com/files-tmb/T1-F1/menu_64.png");
    assert_eq!(files[0].extra["url_private"], "https://files.slack.com/files-pri/T1-F1/menu.pdf");
    assert_eq!((files[1].name.as_str(), files[1].file.as_deref()), ("F2", None));
    assert!(!serde_json::to_string(c).unwrap().contains("xoxe"), "no token anywhere");
    assert_eq!(g.files, ["menu.pdf"]);
    // the members, by name, and who else wrote
    let names: Vec<&str> = c.participants.iter().map(|p| p.name.as_deref().unwrap_or("?")).collect();
    assert_eq!(names, ["Ana Lima", "Ben", "Deploy Bot", "CI", "Guest Nine"]);
    assert_eq!(c.participants[2].role.as_deref(), Some("bot"));
    assert_eq!(&through_the_transcript(g), c);

    let d = &found[1];
    assert_eq!((d.id.as_str(), d.container.as_str(), d.record.title.as_deref()), ("D1", "dms", Some("Direct messages with Ana Lima, Ben")));
    let lost = &found[2];
    assert_eq!((lost.id.as_str(), lost.container.as_str()), ("lost-channel", "channels"));
    assert!(lost.warnings[0].contains("none of the export's lists"));
}

#[test]
fn a_channel_too_large_or_apart_comes_in_parts() {
    let mut w = workspace();
    w.max_part = 300;
    let mut found = Vec::new();
    let mut each = |f: Result<Found, String>| {
        found.push(f.unwrap());
        true
    };
    let day = |n: u64| {
        let msgs: Vec<_> =
            (0..3).map(|i| json!({"user": "U1", "text": "x".repeat(60), "ts": format!("{}.00000{i}", 1704103200 + n * 86400)})).collect();
        json!(msgs).to_string()
    };
    w.add_day("random", "2024-01-01", day(0).as_bytes(), &mut each).unwrap();
    w.add_day("random", "2024-01-02", day(1).as_bytes(), &mut each).unwrap();
    w.add_day("general", "2024-01-01", &b"[]"[..], &mut each).unwrap();
    w.add_day("random", "2024-01-03", day(2).as_bytes(), &mut each).unwrap();
    w.finish(&mut each);
    let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
    // about 108 bytes a message: two to a part of 300
    assert_eq!(ids, ["C2", "C2#2", "C2#3", "C1", "C2#4", "C2#5"], "each part a conversation; a channel met again continues");
    let all: usize = found.iter().filter(|f| f.id.starts_with("C2")).map(|f| f.record.messages.len()).sum();
    assert_eq!(all, 9, "no message lost between parts");
    assert!(found[0].warnings.join("\n").contains("in parts"));
    assert!(found[1].warnings.join("\n").contains("continues part 1"));
    assert!(found[4].warnings.join("\n").contains("came apart"));
    assert_eq!(found[2].record.messages.len(), 2);
}

#[test]
fn broken_day_files_and_lists_and_stopping() {
    let mut w = workspace();
    let mut found = Vec::new();
    let mut each = |f: Result<Found, String>| {
        found.push(f.unwrap());
        true
    };
    let truncated = r#"[{"user": "U1", "text": "kept", "ts": "1.000001"}, {"user": "U1", "te"#;
    let e = w.add_day("general", "2024-02-01", truncated.as_bytes(), &mut each).unwrap_err();
    assert!(e.contains("general/2024-02-01.json") && e.contains("truncated"), "{e}");
    let huge = format!(
        r#"[{{"user": "U1", "text": "{}", "ts": "2.0"}}, {{"user": "U1", "text": "small", "ts": "3.0"}}]"#,
        "y".repeat(MAX_MESSAGE)
    );
    w.add_day("general", "2024-02-02", huge.as_bytes(), &mut each).unwrap();
    assert!(w.add_day("general", "2024-02-03", &b"{\"not\": \"a list\"}"[..], &mut each).is_err());
    w.finish(&mut each);
    let c = &found[0];
    assert_eq!(c.record.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["1.000001", "3.0"]);
    let warnings = c.warnings.join("\n");
    assert!(warnings.contains("could not be read whole") && warnings.contains("larger than 4 MiB"), "{warnings}");

    assert!(SlackWorkspace::new().add_users(&b"{\"members\": []}"[..]).unwrap_err().starts_with("users.json"));
    assert!(SlackWorkspace::new().add_channels(SlackKind::Groups, &b"[{\"id\": 1}, "[..]).unwrap_err().starts_with("groups.json"));
    assert_eq!(SlackKind::of_list("canvases.json"), None);

    // `each` says stop: nothing more is handed
    let mut w = workspace();
    let mut n = 0;
    let mut stop = |_: Result<Found, String>| {
        n += 1;
        false
    };
    w.add_day("general", "d", &b"[]"[..], &mut stop).unwrap();
    w.add_day("random", "d", &b"[]"[..], &mut stop).unwrap();
    w.add_day("general", "d", &b"[]"[..], &mut stop).unwrap();
    w.finish(&mut stop);
    assert_eq!(n, 1);
}
