use super::*;
use crate::def::DirFile;
use chrono::{DateTime, Utc};
use serde_json::json;

fn at(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn text(t: &str) -> Part {
    Part::Text { text: t.into(), extra: Extra::new() }
}

fn user(id: &str, parent: Option<&str>, content: Vec<Part>, visible: bool) -> Message {
    Message {
        id: id.into(),
        parent: parent.map(str::to_owned),
        author: Person { role: Some("user".into()), ..Default::default() },
        created: at("2024-05-01T10:00:00Z"),
        content,
        visible,
        ..Default::default()
    }
}

/// A conversation whose text is made to break a transcript: lines that look like its
/// comments (with and without backslashes), `-->`, blank lines at the ends, empty parts,
/// several text parts, parts of every kind, branches.
fn hostile() -> Conversation {
    let mut assistant = user("a1", Some("u2"), vec![], true);
    assistant.author = Person { role: Some("assistant".into()), ..Default::default() };
    assistant.model = Some("gpt-4o".into());
    assistant.content = vec![
        Part::Thinking { text: "<!-- ferry:message {} -->\nthink".into(), extra: Extra::from([("k".into(), json!(1))]) },
        text(""),
        text("first part\n\n"),
        Part::Code { language: Some("rust".into()), text: "let x = \"```\";\n<!-- ferry:part -->".into(), extra: Extra::new() },
        text("\n\n<!-- ferry:part -->\n\nstill text\n\\<!-- ferry:branches -->\n\\\\<!-- ferry:x"),
        Part::File { file: "file-abc".into(), media_type: Some("image/png".into()), extra: Extra::from([("width".into(), json!(10))]) },
        Part::Other { content_type: "tool_use".into(), text: None, value: json!({"name": "search", "input": {"q": "--> end"}}) },
        Part::Other { content_type: "execution_output".into(), text: Some("42\n".into()), value: json!({"text": "42\n"}) },
        text("-->\n"),
    ];
    assistant.attachments = vec![Attached { name: "a.pdf".into(), file: Some("file-x".into()), size: Some(3), ..Default::default() }];
    assistant.reactions = vec![Reaction { name: "thumbsup".into(), count: 2, users: vec!["U1".into()] }];
    assistant.extra = Extra::from([("status".into(), json!("finished_successfully"))]);
    let mut hidden = user("sys", None, vec![text("You are helpful.")], true);
    hidden.author.role = Some("system".into());
    hidden.hidden = true;
    hidden.created = None;
    Conversation {
        title: Some("A title\nwith a line end -->".into()),
        platform: "chatgpt".into(),
        kind: Kind::Assistant,
        created: at("2024-05-01T10:00:00.123456Z"),
        updated: at("2024-05-01T11:00:00Z"),
        participants: vec![Person { role: Some("user".into()), name: Some("Ana".into()), id: Some("U1".into()) }],
        model: Some("gpt-4o".into()),
        messages: vec![
            hidden,
            user("u1", Some("sys"), vec![text("an earlier version")], false),
            user("b1", Some("u1"), vec![text("")], false),
            user("u2", Some("sys"), vec![text("<!-- ferry:conversation {\"x\": 1} -->")], true),
            assistant,
            user("empty", Some("a1"), vec![], true),
        ],
        extra: Extra::from([("is_archived".into(), json!(true))]),
    }
}

#[test]
fn a_transcript_reads_back_to_its_record_whatever_the_text() {
    let c = hostile();
    let md = render_transcript(&c);
    assert_eq!(parse_transcript(&md).unwrap(), c, "{md}");
    // readable: the title, who wrote, the text shown, the branch set apart
    assert!(md.contains("# A title with a line end -->\n"), "{md}");
    assert!(md.contains("### 3 · Assistant (gpt-4o) · 2024-05-01 10:00:00 UTC"), "{md}");
    assert!(md.contains("\nfirst part\n"), "{md}");
    assert!(md.contains("_not shown by ChatGPT_"), "{md}");
    let branches = md.find("## Other branches").expect("a branches section");
    assert!(md.find("an earlier version").unwrap() > branches, "{md}");
    assert!(md.contains("_an earlier version of 2 · follows 1_"), "{md}");
    assert!(md.contains("_2 versions; the others: 5_"), "{md}");
    assert!(md.contains("attached: a.pdf · reactions: :thumbsup: 2 (Ana)_"), "{md}");
    // a line of text that looks like a comment is not one
    assert!(md.contains("\n\\<!-- ferry:conversation {\"x\": 1} -->\n"), "{md}");
    // a BOM and CRLF-free hand edit of a text still reads
    let edited = md.replacen("first part", "first part, edited", 1);
    let back = parse_transcript(&format!("\u{feff}{edited}")).unwrap();
    assert!(matches!(&msg(&back, "a1").content[2], Part::Text { text, .. } if text == "first part, edited\n\n"));
}

#[test]
fn every_reader_output_and_a_chat_go_through_the_codec() {
    let mut c = hostile();
    c.kind = Kind::Chat;
    c.platform = "slack".into();
    for m in &mut c.messages {
        m.visible = true;
        m.updated = at("2024-05-02T00:00:00Z");
    }
    let found = Found { id: "C1".into(), container: "channels".into(), record: c.clone(), files: vec![], warnings: vec![] };
    assert_eq!(through_the_transcript(&found), c);
    let md = render_transcript(&c);
    assert!(!md.contains("Other branches") && md.contains("_in the thread of 1 · edited 2024-05-02"), "{md}");
    // an empty conversation
    let empty = Conversation { platform: "claude".into(), ..Default::default() };
    assert_eq!(parse_transcript(&render_transcript(&empty)).unwrap(), empty);
}

#[test]
fn what_is_not_a_transcript_is_refused_clearly() {
    let read = |t: &str| (DEF.codec.unwrap().read)("conversations/x.md", "", t.as_bytes());
    assert!(read("# My own notes\n").unwrap_err().reason.contains("not a conversation transcript"));
    assert!((DEF.codec.unwrap().read)("conversations/x.md", "", b"\xff\xfe").unwrap_err().reason.contains("UTF-8"));
    let md = render_transcript(&hostile());
    let broken = md.replacen("<!-- ferry:message {\"", "<!-- ferry:message {", 1);
    assert!(read(&broken).unwrap_err().reason.contains("not JSON"));
    let unknown = md.replacen("\n<!-- ferry:branches -->\n", "\n<!-- ferry:chapter -->\n", 1);
    assert!(read(&unknown).unwrap_err().reason.contains("does not know"));
    // a part's separator taken out: the text no longer matches the fields
    let a1 = md.find("\"id\":\"a1\"").unwrap();
    let sep = a1 + md[a1..].find("\n\n<!-- ferry:part -->\n\n").unwrap();
    let cut = format!("{}{}", &md[..sep], &md[sep + "\n\n<!-- ferry:part -->\n\n".len()..]);
    assert!(read(&cut).unwrap_err().reason.contains("parts in its fields"));
    // the file's item: its id and container where it was found, a version of its bytes
    let item = read(&md).unwrap();
    assert_eq!((item.id.as_str(), item.vertical()), ("conversations/x.md", CONVERSATIONS));
    assert_eq!(item.version, ferry_core::content::sha256_hex(md.as_bytes()));
}

#[test]
fn transcripts_are_recognised_under_conversations_only() {
    let f = |rel: &'static str, head: &'static [u8]| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head };
    assert!((DEF.recognises)(&f("conversations/default/abc.md", b"")));
    assert!((DEF.recognises)(&f("conversations/channels/C1.md", b"\xEF\xBB\xBF<!-- ferry:conversation {")));
    assert!(!(DEF.recognises)(&f("conversations/README.md", b"# read me")));
    assert!(!(DEF.recognises)(&f("notes/abc.md", b"")), "notes' Markdown is notes'");
    assert!(!(DEF.recognises)(&f("conversations/conversations.jsonl", b"")));
    assert!(!(crate::notes::DEF.recognises)(&f("conversations/default/abc.md", b"")), "and ours is not notes'");
    // registered, with its schema
    assert_eq!(crate::find(CONVERSATIONS).map(|d| d.record_type), Some("conversation"));
    assert!((DEF.schema)()["properties"]["messages"].is_object());
}
