use super::*;
use serde_json::json;

/// A conversation as ChatGPT exports one: a null root, a hidden system message, an edited
/// question (two versions, the second shown), two answers to the first version (one
/// regenerated), an answer with an image, code, reasoning, a tool's output, and a part of
/// a kind ferry does not know. Times as floats, one as a string, one null.
fn trip() -> serde_json::Value {
    json!({
        "title": "Trip plans",
        "create_time": 1714557600.123456,
        "update_time": "1714558000.5",
        "mapping": {
            "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
            "sys": {"id": "sys", "parent": "root", "children": ["u1", "u1b"], "message": {
                "id": "sys", "author": {"role": "system", "name": null, "metadata": {}}, "create_time": null, "update_time": null,
                "content": {"content_type": "text", "parts": [""]}, "status": "finished_successfully", "end_turn": true, "weight": 0.0,
                "metadata": {"is_visually_hidden_from_conversation": true}, "recipient": "all", "channel": null}},
            "u1": {"id": "u1", "parent": "sys", "children": ["a1", "a1b"], "message": {
                "id": "u1", "author": {"role": "user", "name": null, "metadata": {}}, "create_time": 1714557601.0,
                "content": {"content_type": "text", "parts": ["Where should we go?"]}, "metadata": {}, "recipient": "all"}},
            "a1": {"id": "a1", "parent": "u1", "children": [], "message": {
                "id": "a1", "author": {"role": "assistant"}, "create_time": 1714557602.5,
                "content": {"content_type": "text", "parts": ["Lisbon."]}, "metadata": {"model_slug": "gpt-4o"}, "recipient": "all"}},
            "a1b": {"id": "a1b", "parent": "u1", "children": [], "message": {
                "id": "a1b", "author": {"role": "assistant"}, "create_time": 1714557603.5,
                "content": {"content_type": "text", "parts": ["Porto, maybe."]}, "metadata": {"model_slug": "gpt-4o"}, "recipient": "all"}},
            "u1b": {"id": "u1b", "parent": "sys", "children": ["think"], "message": {
                "id": "u1b", "author": {"role": "user"}, "create_time": 1714557610.0,
                "content": {"content_type": "text", "parts": ["Where should we go in May?"]}, "metadata": {}, "recipient": "all"}},
            "think": {"id": "think", "parent": "u1b", "children": ["code"], "message": {
                "id": "think", "author": {"role": "assistant"}, "create_time": 1714557611.0,
                "content": {"content_type": "thoughts", "thoughts": [{"summary": "Weather", "content": "May is mild in the south."}], "source_analysis_msg_id": "x"},
                "metadata": {"model_slug": "o3"}, "recipient": "all"}},
            "code": {"id": "code", "parent": "think", "children": ["out"], "message": {
                "id": "code", "author": {"role": "assistant"}, "create_time": 1714557612.0,
                "content": {"content_type": "code", "language": "python", "text": "print(sum([18, 21, 24]) / 3)", "response_format_name": null},
                "metadata": {"model_slug": "o3"}, "recipient": "python"}},
            "out": {"id": "out", "parent": "code", "children": ["a2"], "message": {
                "id": "out", "author": {"role": "tool", "name": "python"}, "create_time": 1714557613.0,
                "content": {"content_type": "execution_output", "text": "21.0"}, "metadata": {}, "recipient": "all"}},
            "a2": {"id": "a2", "parent": "out", "children": [], "message": {
                "id": "a2", "author": {"role": "assistant"}, "create_time": 1714557614.25,
                "content": {"content_type": "multimodal_text", "parts": [
                    {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_00000000abc123", "size_bytes": 48029, "width": 1024, "height": 1024},
                    "Seville: about 21°C on average.",
                    {"content_type": "hologram", "text": "a spinning globe"}
                ]},
                "metadata": {"model_slug": "o3", "finish_details": {"type": "stop"}}, "recipient": "all"}}
        },
        "current_node": "a2",
        "conversation_id": "c-1",
        "id": "c-1",
        "default_model_slug": "gpt-4o",
        "is_archived": false,
        "safe_urls": []
    })
}

fn read(text: &str) -> (Vec<Result<Found, String>>, Result<(), String>) {
    read_all(|each| read_chatgpt(text.as_bytes(), each))
}

#[test]
fn the_tree_the_path_shown_and_every_branch() {
    let (found, r) = read(&json!([trip()]).to_string());
    r.unwrap();
    let f = found.into_iter().next().unwrap().unwrap();
    let c = &f.record;
    assert_eq!((f.id.as_str(), f.container.as_str()), ("c-1", ""));
    assert_eq!((c.title.as_deref(), c.platform.as_str(), c.kind), (Some("Trip plans"), "chatgpt", Kind::Assistant));
    assert_eq!(c.created.unwrap().to_rfc3339(), "2024-05-01T10:00:00.123456+00:00");
    assert_eq!(c.updated.unwrap().to_rfc3339(), "2024-05-01T10:06:40.500+00:00", "a time written as a string");
    assert_eq!(c.model.as_deref(), Some("gpt-4o"));
    // depth first, children in their listed order; the null root is no message
    let ids: Vec<&str> = c.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["sys", "u1", "a1", "a1b", "u1b", "think", "code", "out", "a2"]);
    assert_eq!(msg(c, "sys").parent, None, "the root's child is a first message");
    assert_eq!(msg(c, "a1b").parent.as_deref(), Some("u1"));
    // the path shown: from current_node up; the first version and its answers are kept
    let shown: Vec<&str> = c.visible().map(|m| m.id.as_str()).collect();
    assert_eq!(shown, ["sys", "u1b", "think", "code", "out", "a2"]);
    assert!(!msg(c, "u1").visible && !msg(c, "a1").visible && !msg(c, "a1b").visible);
    // hidden: the system message, and the assistant's call to the python tool
    assert!(msg(c, "sys").hidden && msg(c, "code").hidden && !msg(c, "out").hidden && !msg(c, "a2").hidden);
    // content of every kind
    assert!(matches!(&msg(c, "think").content[..], [Part::Thinking { text, .. }] if text == "Weather\n\nMay is mild in the south."));
    assert!(
        matches!(&msg(c, "code").content[..], [Part::Code { language: Some(l), text, .. }] if l == "python" && text.starts_with("print"))
    );
    assert!(
        matches!(&msg(c, "out").content[..], [Part::Other { content_type, text: Some(t), .. }] if content_type == "execution_output" && t == "21.0")
    );
    let a2 = msg(c, "a2");
    assert_eq!(a2.model.as_deref(), Some("o3"));
    assert!(matches!(&a2.content[0], Part::File { file, extra, .. } if file == "file_00000000abc123" && extra["width"] == 1024));
    assert!(matches!(&a2.content[1], Part::Text { text, .. } if text.starts_with("Seville")));
    assert!(matches!(&a2.content[2], Part::Other { content_type, .. } if content_type == "hologram"));
    assert_eq!(a2.extra["metadata"]["finish_details"]["type"], "stop", "metadata ferry does not model is kept");
    assert_eq!(msg(c, "u1").content, [Part::Text { text: "Where should we go?".into(), extra: Extra::new() }]);
    assert!(msg(c, "sys").content.is_empty(), "an empty part is nothing");
    // the files the conversation attaches, and what could not be known
    assert_eq!(f.files, ["file_00000000abc123"]);
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert!(f.warnings[0].contains("hologram") && f.warnings[0].contains("kept whole"), "{:?}", f.warnings);
    assert_eq!(c.extra.get("is_archived"), Some(&json!(false)));
    assert!(!c.extra.contains_key("id") && !c.extra.contains_key("mapping"));
    assert_eq!(c.participants.iter().map(|p| p.role.as_deref().unwrap()).collect::<Vec<_>>(), ["system", "user", "assistant", "tool"]);
    // the item: its record, a version from it, the warnings as the source's
    let item = f.clone().into_item();
    assert_eq!((item.vertical(), item.id.as_str()), (CONVERSATIONS, "c-1"));
    assert_eq!(item.source_warnings, f.warnings);
    assert_eq!(item.version, f.clone().into_item().version);
    // and the transcript holds all of it
    assert_eq!(&through_the_transcript(&f), c);
}

#[test]
fn odd_conversations_are_read_with_what_they_lack_said() {
    let odd = json!({
        "title": null,
        "create_time": null,
        "update_time": "not a time",
        "mapping": {
            "a": {"id": "a", "parent": "gone", "children": ["b", "c"], "message": {"id": "a", "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["first"]}}},
            "b": {"id": "b", "parent": "a", "children": [], "message": {"id": "b", "author": {"role": "assistant"}, "content": {"content_type": "quantum_text", "text": "?"}}},
            "c": {"id": "c", "parent": "a", "children": [], "message": {"id": "c", "author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["newest"]}}},
            "x": {"id": "x", "parent": "y", "children": ["y"], "message": {"id": "x", "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["loop 1"]}}},
            "y": {"id": "y", "parent": "x", "children": ["x"], "message": {"id": "y", "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["loop 2"]}}},
            "z": "not a node"
        }
    });
    let text = json!([odd]).to_string();
    let (found, r) = read(&text);
    r.unwrap();
    let f = found[0].as_ref().unwrap();
    let c = &f.record;
    assert!(f.id.starts_with("sha256-"), "no id: a hash of the conversation");
    assert_eq!(read(&text).0[0].as_ref().unwrap().id, f.id, "the same on every run");
    assert_eq!((c.title.clone(), c.created, c.updated), (None, None, None));
    assert_eq!(c.extra["update_time"], "not a time", "a time that is not one is kept as written");
    let w = f.warnings.join("\n");
    for says in ["no id", "update_time", "parent gone", "loop of parents", "no current_node", "quantum_text", "node z"] {
        assert!(w.contains(says), "{says}: {w}");
    }
    // every message kept; the newest branch marked as the one shown
    assert_eq!(c.messages.len(), 5);
    assert_eq!(c.visible().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
    assert!(
        matches!(&msg(c, "b").content[..], [Part::Other { content_type, text: Some(t), .. }] if content_type == "quantum_text" && t == "?")
    );
    // the loop is broken at its first node
    assert_eq!((msg(c, "x").parent.as_deref(), msg(c, "y").parent.as_deref()), (None, Some("x")));
    assert_eq!(&through_the_transcript(f), c);
}

#[test]
fn uploaded_files_by_their_ids_and_hostile_ones_refused() {
    let conv = json!({
        "id": "c-files",
        "current_node": "u",
        "mapping": {"u": {"id": "u", "parent": null, "children": [], "message": {
            "id": "u", "author": {"role": "user"}, "create_time": 1700000000,
            "content": {"content_type": "multimodal_text", "parts": [
                {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-Ab12Cd"},
                {"content_type": "image_asset_pointer", "asset_pointer": "file-service://../../etc/passwd"},
                "What is in these?"
            ]},
            "metadata": {"attachments": [
                {"id": "file-Ab12Cd", "name": "beach.jpg", "size": "20480", "mime_type": "image/jpeg", "width": 800},
                {"id": "file-Pdf9", "name": "ticket.pdf", "size": 1024, "mime_type": "application/pdf"},
                {"id": "..", "name": "sneaky"}
            ]}
        }}}
    });
    let (found, r) = read(&json!({"conversations": [conv]}).to_string());
    r.unwrap();
    let f = found[0].as_ref().unwrap();
    assert_eq!(f.files, ["file-Ab12Cd", "file-Pdf9"], "each once, no path");
    let u = msg(&f.record, "u");
    assert_eq!(u.attachments[0].name, "beach.jpg");
    assert_eq!(
        (u.attachments[0].size, u.attachments[0].media_type.as_deref()),
        (Some(20480), Some("image/jpeg")),
        "a size written as a string"
    );
    assert_eq!(u.attachments[2].file, None);
    assert!(matches!(&u.content[1], Part::Other { value, .. } if value["asset_pointer"] == "file-service://../../etc/passwd"));
    let w = f.warnings.join("\n");
    assert!(w.contains("does not name a file") && w.contains("sneaky"), "{w}");
}

#[test]
fn a_broken_conversation_fails_alone_a_broken_file_fails_whole() {
    let good = json!({"id": "ok", "mapping": {}});
    // an element that is not a conversation, then one that is
    let (found, r) = read(&format!("[\"just a string\", {good}, 42]"));
    r.unwrap();
    assert!(found[0].as_ref().unwrap_err().contains("conversation 1") && found[0].as_ref().unwrap_err().contains("not a JSON object"));
    assert_eq!(found[1].as_ref().unwrap().id, "ok");
    assert!(found[2].is_err());
    // truncated: what was whole was handed, then the file's error
    let (found, r) = read(&format!("[{good}, {{\"id\": \"cut\", \"mapping\": {{\"a\": "));
    assert_eq!(found.len(), 1);
    assert!(r.unwrap_err().contains("truncated"));
    // not JSON inside an element: that conversation alone
    let (found, r) = read(&format!("[{{\"id\": tru}}, {good}]"));
    r.unwrap();
    assert!(found[0].as_ref().unwrap_err().contains("not JSON"));
    assert!(found[1].is_ok());
    // nested past any parser's depth: that conversation alone
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (found, r) = read(&format!("[{deep}, {good}]"));
    r.unwrap();
    assert!(found[0].as_ref().unwrap_err().contains("not JSON"), "{:?}", found[0]);
    assert!(found[1].is_ok());
    for bad in ["", "{\"nothing\": 1}", "<html>", "null"] {
        assert!(read(bad).1.unwrap_err().starts_with("conversations.json"), "{bad}");
    }
    // stopping
    let mut n = 0;
    read_chatgpt(format!("[{good}, {good}]").as_bytes(), &mut |_| {
        n += 1;
        false
    })
    .unwrap();
    assert_eq!(n, 1);
}

/// A reader of a conversation larger than the bound, made as it is read (never held).
struct Huge {
    head: Vec<u8>,
    filler: usize,
    tail: Vec<u8>,
    at: usize,
}

impl std::io::Read for Huge {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (h, f) = (self.head.len(), self.filler);
        let n = if self.at < h {
            let n = buf.len().min(h - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            n
        } else if self.at < h + f {
            let n = buf.len().min(h + f - self.at);
            buf[..n].fill(b'x');
            n
        } else {
            let rest = &self.tail[(self.at - h - f).min(self.tail.len())..];
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            n
        };
        self.at += n;
        Ok(n)
    }
}

#[test]
fn a_huge_conversation_is_refused_not_held() {
    let input = Huge {
        head: br#"[{"id": "huge", "title": ""#.to_vec(),
        filler: MAX_ELEMENT + 1,
        tail: br#"", "mapping": {}}, {"id": "after", "mapping": {}}]"#.to_vec(),
        at: 0,
    };
    let (found, r) = read_all(|each| read_chatgpt(input, each));
    r.unwrap();
    assert!(found[0].as_ref().unwrap_err().contains("larger than 64 MiB"), "{:?}", found[0]);
    assert_eq!(found[1].as_ref().unwrap().id, "after");
}
