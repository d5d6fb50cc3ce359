use super::*;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn at(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn m(id: &str, role: &str, t: Option<&str>, text: &str, visible: bool) -> Message {
    Message {
        id: id.into(),
        author: Person { role: Some(role.into()), ..Default::default() },
        created: t.and_then(at),
        content: vec![Part::Text { text: text.into(), extra: Extra::new() }],
        visible,
        ..Default::default()
    }
}

fn ai() -> Conversation {
    let mut answer = m("a2", "assistant", Some("2024-05-01T10:00:09Z"), "Seville.", true);
    answer.content.insert(0, Part::File { file: "file-1".into(), media_type: None, extra: Extra::new() });
    answer.content.push(Part::Code { language: Some("py".into()), text: "print(1)".into(), extra: Extra::new() });
    answer.model = Some("o3".into());
    let mut sys = m("s", "system", None, "", true);
    sys.hidden = true;
    Conversation {
        title: Some("Trip".into()),
        platform: "chatgpt".into(),
        kind: Kind::Assistant,
        created: at("2024-05-01T09:59:00Z"),
        updated: at("2024-05-01T11:00:00Z"),
        model: Some("gpt-4o".into()),
        messages: vec![
            sys,
            m("u1", "user", Some("2024-05-01T10:00:00Z"), "Where?", false),
            m("u2", "user", None, "Where in May?", true),
            m("t", "tool", Some("2024-05-01T10:00:05Z"), "21.0", true),
            answer,
        ],
        ..Default::default()
    }
}

/// What the DTI schema (https://schemas.pub/schemas/24) requires of an object.
fn check_schema(v: &Value) {
    for k in ["createdBy", "createdAt", "startTime", "endTime"] {
        assert!(v["details"][k].is_string(), "details.{k}: {v}");
    }
    for k in ["createdAt", "startTime", "endTime"] {
        DateTime::parse_from_rfc3339(v["details"][k].as_str().unwrap()).unwrap();
    }
    let ids = v["identifiers"].as_array().unwrap();
    assert!(!ids.is_empty() && ids.iter().all(|i| i["name"].is_string() && i["identifier"].is_string()), "{v}");
    let msgs = v["messages"].as_array().unwrap();
    assert!(!msgs.is_empty());
    for msg in msgs {
        assert!(msg["text"].is_string() && msg["sender"].is_string(), "{msg}");
        DateTime::parse_from_rfc3339(msg["sentAt"].as_str().unwrap()).unwrap();
        let s = msg["sender"].as_str().unwrap();
        assert!(s == "AI" || ids.iter().any(|i| i["identifier"] == s), "every sender is identified but the AI: {s}");
    }
}

#[test]
fn an_ai_conversation_flat_the_path_shown_and_what_it_loses() {
    let d = to_dti(&ai()).unwrap();
    check_schema(&d.json);
    assert_eq!(d.json["details"]["createdBy"], "ChatGPT");
    assert_eq!(d.json["details"]["modality"], "text");
    let msgs = d.json["messages"].as_array().unwrap();
    let flat: Vec<(&str, &str)> = msgs.iter().map(|m| (m["sender"].as_str().unwrap(), m["text"].as_str().unwrap())).collect();
    assert_eq!(flat, [("user", "Where in May?"), ("AI", "Seville.\n\n```py\nprint(1)\n```")], "the path shown; no system, no tool");
    // a message without a time takes the conversation's start
    assert_eq!(msgs[0]["sentAt"], "2024-05-01T09:59:00Z");
    assert_eq!(d.json["details"]["endTime"], "2024-05-01T10:00:09Z");
    assert_eq!(d.json["details"]["createdAt"], "2024-05-01T11:00:00Z");
    let lost = d.lost.join("; ");
    for says in [
        "title (\"Trip\")",
        "gpt-4o, o3",
        "1 message on other branches",
        "2 system, tool and hidden messages",
        "1 file (file-1)",
        "times of 1 message",
    ] {
        assert!(lost.contains(says), "{says}: {lost}");
    }
    // the package's line and warning
    let item = Found { id: "c".into(), container: String::new(), record: ai(), files: vec![], warnings: vec![] }.into_item();
    let rows = (DEF.tables[0].rows)(&item.record);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].ends_with('\n') && !rows[0][..rows[0].len() - 1].contains('\n'));
    assert_eq!(serde_json::from_str::<Value>(&rows[0]).unwrap(), d.json);
    assert_eq!(DEF.tables[0].path, DTI_PATH);
    let w = crate::table_losses(&item.record);
    assert_eq!(w.len(), 1, "one warning an item");
    assert!(w[0].contains(DTI_PATH) && w[0].contains("other branches"), "{w:?}");
}

#[test]
fn what_does_not_fit_is_left_out_and_said() {
    let mut chat = ai();
    chat.kind = Kind::Chat;
    let item = chat.item("C1", "channels").unwrap();
    assert!(to_dti(&chat).is_err());
    assert!(
        (DEF.tables[0].rows)(&item.record).is_empty() && crate::table_losses(&item.record).is_empty(),
        "a chat is not an AI conversation"
    );
    // no time anywhere
    let mut untimed = ai();
    untimed.created = None;
    untimed.updated = None;
    for m in &mut untimed.messages {
        m.created = None;
    }
    assert!(to_dti(&untimed).unwrap_err().contains("no message has a time"));
    let w = crate::table_losses(&untimed.item("x", "").unwrap().record);
    assert!(w[0].contains("leaves this conversation out"), "{w:?}");
    // only the AI spoke: the schema still gets the person it names
    let mut only_ai = ai();
    only_ai.messages.retain(|m| m.author.role.as_deref() == Some("assistant"));
    check_schema(&to_dti(&only_ai).unwrap().json);
    // nothing lost: no warning
    let plain = Conversation {
        platform: "claude".into(),
        kind: Kind::Assistant,
        messages: vec![
            m("1", "user", Some("2024-01-01T00:00:00Z"), "hi", true),
            m("2", "assistant", Some("2024-01-01T00:00:01Z"), "hello", true),
        ],
        ..Default::default()
    };
    assert!(to_dti(&plain).unwrap().lost.is_empty());
    assert!(crate::table_losses(&plain.item("p", "").unwrap().record).is_empty());
    // another vertical's record says nothing
    let note = crate::notes::DEF;
    let rec = ferry_core::OtherRecord::new(note.vertical, "note", &json!({"body": "x"})).unwrap();
    assert!(crate::table_losses(&ferry_core::Record::Other(rec)).is_empty());
}
