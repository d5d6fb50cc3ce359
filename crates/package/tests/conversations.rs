//! Conversations in a package: the records, a Markdown transcript each, the AI
//! conversations in the DTI schema (as JSON Lines), and what that file cannot hold said
//! as each conversation's fidelity warning.

use ferry_package::{PackageReader, PackageWriter, UnpackLimits, verify};
use ferry_verticals::conversations::{CONVERSATIONS, Conversation, DTI_PATH, Extra, Kind, Message, Part, Person, parse_transcript};

fn message(id: &str, parent: Option<&str>, role: &str, text: &str, visible: bool) -> Message {
    Message {
        id: id.into(),
        parent: parent.map(str::to_owned),
        author: Person { role: Some(role.into()), ..Default::default() },
        created: Some(format!("2024-05-01T10:00:0{}Z", id.len()).parse().unwrap()),
        content: vec![Part::Text { text: text.into(), extra: Extra::new() }],
        visible,
        ..Default::default()
    }
}

#[tokio::test]
async fn conversations_are_written_read_and_their_losses_said() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("pkg");
    let ai = Conversation {
        title: Some("Trip".into()),
        platform: "chatgpt".into(),
        kind: Kind::Assistant,
        model: Some("gpt-4o".into()),
        messages: vec![
            message("u", None, "user", "Where?", true),
            message("a1", Some("u"), "assistant", "Lisbon.", false),
            message("a22", Some("u"), "assistant", "Porto.", true),
        ],
        ..Default::default()
    };
    let chat = Conversation {
        title: Some("#general".into()),
        platform: "slack".into(),
        kind: Kind::Chat,
        messages: vec![message("1.0", None, "user", "hi", true), message("2.00", Some("1.0"), "user", "hello", true)],
        ..Default::default()
    };
    let w = PackageWriter::open(&target, "test", "job-c", None).await.unwrap();
    let added = w.add(&ai.item("c-1", "").unwrap()).await.unwrap();
    let lost = added.warnings.join("\n");
    assert!(lost.contains(DTI_PATH) && lost.contains("1 message on other branches") && lost.contains("gpt-4o"), "{lost}");
    let added = w.add(&chat.item("C1", "channels").unwrap()).await.unwrap();
    assert!(added.warnings.is_empty(), "a chat is not in the DTI file, and loses nothing: {:?}", added.warnings);
    w.finish().await.unwrap();

    let read = |p: &str| std::fs::read_to_string(target.join(p)).unwrap();
    // a transcript each, which reads back to the record
    assert_eq!(parse_transcript(&read("conversations/default/c-1.md")).unwrap(), ai);
    assert_eq!(parse_transcript(&read("conversations/channels/C1.md")).unwrap(), chat);
    // the DTI file: the AI conversation only, the path shown
    let dti = read(DTI_PATH);
    let lines: Vec<serde_json::Value> = dti.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{dti}");
    let texts: Vec<&str> = lines[0]["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Where?", "Porto."]);
    // listed, with its media type; the package checks out and reads back
    let reader = PackageReader::open(&target, None, t.path(), UnpackLimits::default()).unwrap();
    let entry = reader.manifest().files.iter().find(|f| f.path == DTI_PATH).expect("listed");
    assert_eq!(entry.media_type, "application/jsonl");
    assert!(reader.manifest().files.iter().any(|f| f.path == "schemas/conversation.schema.json"));
    let report = verify(&reader).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let items: Vec<_> = reader.items(CONVERSATIONS).unwrap().map(Result::unwrap).collect();
    assert_eq!(items.len(), 2);
    let back: Vec<Conversation> = items.iter().map(|i| Conversation::of(i).unwrap()).collect();
    assert!(back.contains(&ai) && back.contains(&chat));
}
