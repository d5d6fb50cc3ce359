use super::*;
use serde_json::json;

fn read(text: &str) -> (Vec<Result<Found, String>>, Result<(), String>) {
    read_all(|each| read_claude(text.as_bytes(), each))
}

/// A conversation as Claude's export holds one, without parents: an upload with the
/// text Claude extracted from it, an image by name only, an answer with reasoning, a tool
/// call and its result, and a block of a kind ferry does not know.
fn recipe() -> serde_json::Value {
    json!({
        "uuid": "k-1", "name": "Bread", "summary": "",
        "created_at": "2024-03-01T10:00:00.000000Z", "updated_at": "2024-03-01T10:05:00+00:00",
        "account": {"uuid": "acc-1"},
        "chat_messages": [
            {"uuid": "m1", "text": "Can you read this?", "sender": "human",
             "content": [{"type": "text", "text": "Can you read this?", "start_timestamp": "2024-03-01T10:00:00Z", "stop_timestamp": "2024-03-01T10:00:00Z", "citations": []}],
             "created_at": "2024-03-01T10:00:00Z", "updated_at": "2024-03-01T10:00:00Z",
             "attachments": [{"file_name": "recipe.txt", "file_type": "txt", "file_size": "120", "extracted_content": "flour, water, salt"}],
             "files": [{"file_name": "loaf.jpg"}], "files_v2": [{"file_name": "loaf.jpg", "file_kind": "image"}]},
            {"uuid": "m2", "text": "", "sender": "assistant", "created_at": "2024-03-01T10:00:05Z",
             "content": [
                {"type": "thinking", "thinking": "A simple bread.", "summaries": [{"summary": "Reading"}]},
                {"type": "text", "text": "Flour, water and salt."},
                {"type": "tool_use", "name": "web_search", "input": {"query": "bread hydration"}},
                {"type": "tool_result", "name": "web_search", "content": [{"type": "text", "text": "70% is usual"}], "is_error": false},
                {"type": "mystery", "data": 1}
             ],
             "attachments": [], "files": []}
        ]
    })
}

#[test]
fn a_conversation_without_parents_is_a_line_all_shown() {
    let (found, r) = read(&json!([recipe()]).to_string());
    r.unwrap();
    let f = found[0].as_ref().unwrap();
    let c = &f.record;
    assert_eq!((f.id.as_str(), c.title.as_deref(), c.platform.as_str(), c.kind), ("k-1", Some("Bread"), "claude", Kind::Assistant));
    assert_eq!(c.updated.unwrap().to_rfc3339(), "2024-03-01T10:05:00+00:00");
    assert_eq!((msg(c, "m1").parent.as_deref(), msg(c, "m2").parent.as_deref()), (None, Some("m1")));
    assert!(c.messages.iter().all(|m| m.visible && !m.hidden));
    let m1 = msg(c, "m1");
    assert_eq!(m1.author, Person { role: Some("user".into()), name: None, id: Some("acc-1".into()) }, "human is the user, by the account");
    assert!(
        matches!(&m1.content[..], [Part::Text { text, extra }] if text == "Can you read this?" && extra.contains_key("start_timestamp") && !extra.contains_key("citations"))
    );
    assert!(!m1.extra.contains_key("text"), "text that repeats the blocks is not kept twice");
    assert_eq!(m1.attachments[0].name, "recipe.txt");
    assert_eq!((m1.attachments[0].size, m1.attachments[0].text.as_deref()), (Some(120), Some("flour, water, salt")));
    assert_eq!(m1.attachments.iter().filter(|a| a.name == "loaf.jpg").count(), 1, "a file in files and files_v2 is one");
    assert!(f.files.is_empty(), "the export holds no copy of the uploads");
    let m2 = msg(c, "m2");
    let kinds: Vec<String> = m2
        .content
        .iter()
        .map(|p| match p {
            Part::Thinking { .. } => "thinking".into(),
            Part::Text { .. } => "text".into(),
            Part::Other { content_type, .. } => content_type.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["thinking", "text", "tool_use", "tool_result", "mystery"]);
    assert!(matches!(&m2.content[3], Part::Other { text: Some(t), .. } if t == "70% is usual"));
    let w = f.warnings.join("\n");
    assert!(w.contains("mystery") && w.contains("names of 1 uploaded file") && w.contains("loaf.jpg"), "{w}");
    assert_eq!(c.extra.get("summary"), Some(&json!("")));
    assert!(!c.extra.contains_key("account"), "the account's uuid is the user's id");
    assert_eq!(&through_the_transcript(f), c);
}

#[test]
fn parents_and_the_current_leaf_give_the_tree() {
    let root = "00000000-0000-4000-8000-000000000000";
    let m = |id: &str, parent: &str, sender: &str, text: &str, at: &str| json!({"uuid": id, "parent_message_uuid": parent, "sender": sender, "text": text, "content": [{"type": "text", "text": text}], "created_at": at});
    let conv = json!({"uuid": "k-2", "name": "", "current_leaf_message_uuid": "m3", "chat_messages": [
        m("m1", root, "human", "Name a colour", "2024-01-01T00:00:00Z"),
        m("m2", "m1", "assistant", "Blue", "2024-01-01T00:00:01Z"),
        m("m2b", "m1", "assistant", "Green", "2024-01-01T00:00:02Z"),
        m("m3", "m2b", "human", "Why green?", "2024-01-01T00:00:03Z"),
    ]});
    // a child written before its parent, and a leaf that is not there
    let late = json!({"uuid": "k-3", "current_leaf_message_uuid": "nope", "chat_messages": [
        m("b", "a", "assistant", "answer", "2024-01-01T00:00:01Z"),
        m("a", root, "human", "question", "2024-01-01T00:00:00Z"),
        m("c", "elsewhere", "human", "orphan", "2024-01-01T00:00:02Z"),
    ]});
    let (found, r) = read(&json!([conv, late]).to_string());
    r.unwrap();
    let c = &found[0].as_ref().unwrap().record;
    assert_eq!(c.title, None, "an empty name is no title");
    assert_eq!(msg(c, "m1").parent, None, "Claude's root parent is no parent");
    assert_eq!(msg(c, "m2b").parent.as_deref(), Some("m1"));
    assert_eq!(c.visible().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m1", "m2b", "m3"]);
    assert!(!msg(c, "m2").visible, "the answer retried is kept, not shown");
    assert_eq!(&through_the_transcript(found[0].as_ref().unwrap()), c);

    let f = found[1].as_ref().unwrap();
    let ids: Vec<&str> = f.record.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"], "parents before their children");
    assert_eq!(msg(&f.record, "c").parent, None);
    assert_eq!(msg(&f.record, "c").extra["parent_message_uuid"], "elsewhere");
    let w = f.warnings.join("\n");
    assert!(w.contains("nope") && w.contains("elsewhere"), "{w}");
    // the last message's branch is the one shown
    assert_eq!(f.record.visible().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["c"]);
}

#[test]
fn broken_conversations_and_files() {
    let odd = json!({"name": "no uuid", "created_at": "garbage", "chat_messages": "oops"});
    let dup = json!({"uuid": "k-4", "chat_messages": [
        {"uuid": "same", "sender": "human", "text": "one"},
        {"uuid": "same", "sender": "assistant", "text": "two"},
        7
    ]});
    let (found, r) = read(&json!([odd, dup, "x"]).to_string());
    r.unwrap();
    let f = found[0].as_ref().unwrap();
    assert!(f.id.starts_with("sha256-"));
    assert_eq!(f.record.extra["created_at"], "garbage");
    assert_eq!(f.record.extra["chat_messages"], "oops");
    assert!(f.warnings.join("\n").contains("not a list"));
    let f = found[1].as_ref().unwrap();
    assert_eq!(f.record.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["same", "same-2"]);
    assert!(
        matches!(&msg(&f.record, "same-2").content[..], [Part::Text { text, .. }] if text == "two"),
        "text without blocks is a text part"
    );
    assert!(f.warnings.join("\n").contains("message 3 is not an object"));
    assert!(found[2].is_err());
    assert!(read("[{\"uuid\": \"a\"}, ").1.unwrap_err().contains("truncated"));
}
