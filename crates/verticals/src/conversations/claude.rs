//! Claude's `conversations.json` (Settings → Privacy → Export data): a JSON array of
//! conversations (`uuid`, `name`, `created_at`, `updated_at`, `chat_messages`), read one
//! at a time. A message has its `uuid`, `sender` (`human` or `assistant`), `created_at`,
//! its `text` and its `content` blocks (`text`, `thinking`, `tool_use`, `tool_result`, and
//! kinds added since, kept whole with a warning), `attachments` (a file's name, type,
//! size and the text Claude extracted from it) and `files` (uploaded images and
//! documents, by name: the export holds no copy of them that ferry knows of).
//!
//! The list is in the order the messages were written. Where the export gives each
//! message's `parent_message_uuid` (and the conversation's `current_leaf_message_uuid`),
//! the tree and the path shown come from them (edits and retries are siblings); where it
//! does not, each message follows the one before it and all are shown.

use super::fields::{rest, take_str, take_time};
use super::json_array::each_element;
use super::{Attached, Conversation, Extra, Found, Kind, MAX_ELEMENT, Message, Part, Person, time};
use ferry_core::content::sha256_hex;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// The parent Claude gives a conversation's first message.
const ROOT: &str = "00000000-0000-4000-8000-000000000000";

/// Reads Claude's `conversations.json` from `input`, handing each conversation to `each`
/// as soon as it is read (`each` returns false to stop). A conversation that cannot be
/// read is handed as `Err` and reading goes on; a file that is not such a list, or is
/// truncated, is the function's `Err`.
pub fn read_claude(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    each_element(input, Some("conversations"), MAX_ELEMENT, &mut |i, element| {
        let found = element.map_err(|e| format!("conversation {} of conversations.json: {e}", i + 1)).and_then(|bytes| {
            let v: Value =
                serde_json::from_slice(bytes).map_err(|e| format!("conversation {} of conversations.json: not JSON ({e})", i + 1))?;
            conversation(v, bytes).map_err(|e| format!("conversation {} of conversations.json: {e}", i + 1))
        });
        each(found)
    })
    .map_err(|e| format!("conversations.json: {e}"))
}

fn conversation(v: Value, bytes: &[u8]) -> Result<Found, String> {
    let Value::Object(mut o) = v else { return Err("not a conversation (not a JSON object)".into()) };
    let mut warnings = Vec::new();
    let id = take_str(&mut o, "uuid").filter(|u| !u.is_empty()).unwrap_or_else(|| {
        warnings.push("the conversation has no uuid: it is named by a hash of its contents".into());
        format!("sha256-{}", &sha256_hex(bytes)[..32])
    });
    let mut c = Conversation { platform: "claude".into(), kind: Kind::Assistant, ..Default::default() };
    c.title = take_str(&mut o, "name").filter(|t| !t.trim().is_empty());
    c.created = take_time(&mut o, "created_at", time::rfc3339, "the conversation", &mut warnings);
    c.updated = take_time(&mut o, "updated_at", time::rfc3339, "the conversation", &mut warnings);
    c.model = take_str(&mut o, "model");
    // the person's account: the author id of their messages
    let account = o.get("account").and_then(|a| a.get("uuid")).and_then(Value::as_str).map(str::to_owned);
    if let Some(Value::Object(a)) = o.get("account")
        && a.len() == 1
        && account.is_some()
    {
        o.remove("account");
    }
    let leaf = take_str(&mut o, "current_leaf_message_uuid");
    let list = match o.remove("chat_messages") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            warnings.push("its chat_messages is not a list: no messages read (kept as written)".into());
            o.insert("chat_messages".into(), other);
            Vec::new()
        }
    };
    let mut unheld_files = Vec::new();
    let mut messages: Vec<Message> = Vec::new();
    let mut seen_ids = HashSet::new();
    let mut given_parents = false;
    for (i, m) in list.into_iter().enumerate() {
        let Value::Object(m) = m else {
            warnings.push(format!("message {} is not an object: left out", i + 1));
            continue;
        };
        let (mut msg, parent_given) = message(m, i, account.as_deref(), &mut unheld_files, &mut warnings);
        if !seen_ids.insert(msg.id.clone()) {
            warnings.push(format!("message {} has the id {} of an earlier one: read as {}-{}", i + 1, msg.id, msg.id, i + 1));
            msg.id = format!("{}-{}", msg.id, i + 1);
        }
        given_parents |= parent_given;
        messages.push(msg);
    }
    tree(&mut messages, leaf.as_deref(), given_parents, &mut warnings);
    if !unheld_files.is_empty() {
        warnings.push(format!(
            "the export holds the names of {} uploaded file{}, not the files: {}",
            unheld_files.len(),
            if unheld_files.len() == 1 { "" } else { "s" },
            unheld_files.join(", ")
        ));
    }
    for m in &messages {
        let p = Person { role: m.author.role.clone(), name: m.author.name.clone(), id: m.author.id.clone() };
        if !c.participants.contains(&p) {
            c.participants.push(p);
        }
    }
    c.messages = messages;
    c.extra = rest(o);
    let files = super::collect_files(&c);
    Ok(Found { id, container: String::new(), record: c, files, warnings })
}

/// A message, and whether the export gave its parent.
fn message(
    mut m: Map<String, Value>,
    i: usize,
    account: Option<&str>,
    unheld: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> (Message, bool) {
    let id = take_str(&mut m, "uuid").filter(|u| !u.is_empty()).unwrap_or_else(|| format!("message-{}", i + 1));
    let whose = format!("message {id}");
    let mut extra = Extra::new();
    let sender = take_str(&mut m, "sender");
    let role = match sender.as_deref() {
        Some("human") => Some("user".to_owned()),
        other => other.map(str::to_owned),
    };
    let author = Person { id: if role.as_deref() == Some("user") { account.map(str::to_owned) } else { None }, role, name: None };
    let created = take_time(&mut m, "created_at", time::rfc3339, &whose, warnings);
    let updated = take_time(&mut m, "updated_at", time::rfc3339, &whose, warnings);
    let (parent, parent_given) = match m.remove("parent_message_uuid") {
        Some(Value::String(p)) => ((p != ROOT && !p.is_empty()).then_some(p), true),
        Some(Value::Null) => (None, true),
        Some(other) => {
            m.insert("parent_message_uuid".into(), other);
            (None, false)
        }
        None => (None, false),
    };
    let text = take_str(&mut m, "text");
    let mut content: Vec<Part> = match m.remove("content") {
        Some(Value::Array(blocks)) => blocks.into_iter().filter_map(|b| block(b, &whose, warnings)).collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            warnings.push(format!("{whose}: its content is not a list; kept whole"));
            vec![Part::Other { content_type: "unknown".into(), text: None, value: other }]
        }
    };
    // `text` repeats the text blocks; kept apart only where it says something else
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        let joined: String =
            content.iter().filter_map(|p| if let Part::Text { text, .. } = p { Some(text.as_str()) } else { None }).collect();
        if !content.iter().any(|p| matches!(p, Part::Text { .. })) {
            content.insert(0, Part::Text { text, extra: Extra::new() });
        } else if joined != text && joined.trim() != text.trim() {
            extra.insert("text".into(), Value::String(text));
        }
    }
    let mut attachments = Vec::new();
    if let Some(Value::Array(list)) = m.remove("attachments") {
        for a in list {
            let Value::Object(mut a) = a else { continue };
            let name = take_str(&mut a, "file_name").unwrap_or_else(|| "attachment".into());
            let media_type = take_str(&mut a, "file_type");
            let size = a.get("file_size").and_then(time::count);
            if size.is_some() {
                a.remove("file_size");
            }
            let text = take_str(&mut a, "extracted_content");
            attachments.push(Attached { name, file: None, media_type, size, url: None, text, extra: rest(a) });
        }
    }
    for key in ["files", "files_v2"] {
        let Some(Value::Array(list)) = m.remove(key) else { continue };
        for f in list {
            let Value::Object(mut f) = f else { continue };
            let name = take_str(&mut f, "file_name").unwrap_or_else(|| "file".into());
            // the same file is often in both lists
            if key == "files_v2" && attachments.iter().any(|a| a.name == name && a.extra.get("from") == Some(&Value::from("files"))) {
                continue;
            }
            f.insert("from".into(), Value::from(key));
            unheld.push(name.clone());
            attachments.push(Attached { name, file: None, media_type: None, size: None, url: None, text: None, extra: rest(f) });
        }
    }
    extra.extend(rest(m));
    let message = Message {
        id,
        parent,
        author,
        created,
        updated,
        model: None,
        content,
        attachments,
        reactions: vec![],
        visible: true,
        hidden: false,
        extra,
    };
    (message, parent_given)
}

/// A content block as a part: text, thinking, and the rest kept whole.
fn block(b: Value, whose: &str, warnings: &mut Vec<String>) -> Option<Part> {
    let Value::Object(mut b) = b else {
        warnings.push(format!("{whose}: a content block that is not an object; kept whole"));
        return Some(Part::Other { content_type: "unknown".into(), text: b.as_str().map(str::to_owned), value: b });
    };
    let kind = b.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
    match kind.as_str() {
        "text" => {
            b.remove("type");
            let text = take_str(&mut b, "text").unwrap_or_default();
            // an empty citations list says nothing
            if b.get("citations").and_then(Value::as_array).is_some_and(Vec::is_empty) {
                b.remove("citations");
            }
            Some(Part::Text { text, extra: rest(b) })
        }
        "thinking" => {
            b.remove("type");
            let text = take_str(&mut b, "thinking").unwrap_or_default();
            Some(Part::Thinking { text, extra: rest(b) })
        }
        "tool_use" | "tool_result" | "token_budget" | "voice_note" => {
            let text = match kind.as_str() {
                "tool_result" => tool_result_text(&b),
                "voice_note" => b.get("text").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            };
            Some(Part::Other { content_type: kind, text, value: Value::Object(b) })
        }
        _ => {
            warnings.push(format!("{whose}: a content block of type {kind:?}, which ferry does not know; kept whole"));
            let text = b.get("text").and_then(Value::as_str).map(str::to_owned);
            Some(Part::Other { content_type: if kind.is_empty() { "unknown".into() } else { kind }, text, value: Value::Object(b) })
        }
    }
}

fn tool_result_text(b: &Map<String, Value>) -> Option<String> {
    match b.get("content")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let t: Vec<&str> = items.iter().filter_map(|i| i.get("text").and_then(Value::as_str)).collect();
            (!t.is_empty()).then(|| t.join("\n"))
        }
        _ => None,
    }
}

/// Parents and the path shown: as the export gives them, else each message after the
/// one before it.
fn tree(messages: &mut [Message], leaf: Option<&str>, given: bool, warnings: &mut Vec<String>) {
    if !given {
        for i in 1..messages.len() {
            messages[i].parent = Some(messages[i - 1].id.clone());
        }
        return;
    }
    let index: HashMap<String, usize> = messages.iter().enumerate().map(|(i, m)| (m.id.clone(), i)).collect();
    for m in messages.iter_mut() {
        if let Some(p) = m.parent.take_if(|p| !index.contains_key(p)) {
            warnings.push(format!("message {}: its parent {p} is not in the conversation; it is read as a first message", m.id));
            m.extra.insert("parent_message_uuid".into(), Value::String(p));
        }
    }
    let leaf = match leaf.and_then(|l| index.get(l)) {
        Some(&i) => i,
        None => {
            if let Some(l) = leaf {
                warnings.push(format!(
                    "current_leaf_message_uuid {l} is not in the conversation: the last message's branch is marked as the one shown"
                ));
            }
            messages.len().saturating_sub(1)
        }
    };
    for m in messages.iter_mut() {
        m.visible = false;
    }
    let mut at = Some(leaf).filter(|_| !messages.is_empty());
    let mut steps = 0;
    while let Some(i) = at {
        if messages[i].visible || steps > messages.len() {
            warnings.push("the messages' parents make a loop: the path shown ends there".into());
            break;
        }
        messages[i].visible = true;
        steps += 1;
        at = messages[i].parent.as_ref().and_then(|p| index.get(p)).copied();
    }
    // parents before their children, as the record promises (the export's order is by
    // time, which already is, unless a parent came later)
    let mut placed = HashSet::new();
    let ids: Vec<Option<String>> = messages.iter().map(|m| m.parent.clone()).collect();
    if ids.iter().enumerate().all(|(i, p)| {
        let ok = p.as_ref().is_none_or(|p| placed.contains(p));
        placed.insert(messages[i].id.clone());
        ok
    }) {
        return;
    }
    let mut order: Vec<usize> = Vec::new();
    let mut done = HashSet::new();
    for i in 0..messages.len() {
        // up to a placed message (or a first one), then placed from the top down
        let mut chain = Vec::new();
        let mut at = Some(i);
        while let Some(j) = at {
            if done.contains(&j) || chain.len() > messages.len() {
                break;
            }
            chain.push(j);
            at = messages[j].parent.as_ref().and_then(|p| index.get(p)).copied();
        }
        for j in chain.into_iter().rev() {
            if done.insert(j) {
                order.push(j);
            }
        }
    }
    let sorted: Vec<Message> = order.iter().map(|&i| messages[i].clone()).collect();
    messages.clone_from_slice(&sorted);
}
