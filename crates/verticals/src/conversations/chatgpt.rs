//! ChatGPT's `conversations.json` (Settings → Data controls → Export data): a JSON array
//! (or an object holding it under `conversations`) of conversations, read one at a time.
//!
//! A conversation's messages are a tree: `mapping` holds each node by id (`message`,
//! `parent`, `children`); the root's message is null; an edited message or a regenerated
//! answer is a further child of the same parent; `current_node` is the last message of
//! the path ChatGPT shows. Times are epoch seconds as floats (sometimes null, sometimes
//! strings). A message's `content` is `text` or `multimodal_text` (its `parts` strings,
//! or objects such as an image's `asset_pointer`, `file-service://file-abc` or
//! `sediment://file_abc`, naming a file of the archive, `file-abc…`), `code`, reasoning
//! (`thoughts`, `reasoning_recap`), a tool's output, and more kinds over the years: one
//! ferry does not know is kept whole, with a warning.

use super::fields::{rest, safe_file_ref, take_str, take_time};
use super::json_array::each_element;
use super::{Attached, Conversation, Extra, Found, Kind, MAX_ELEMENT, Message, Part, Person, time};
use ferry_core::content::sha256_hex;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// Reads ChatGPT's `conversations.json` from `input`, handing each conversation to
/// `each` as soon as it is read (`each` returns false to stop). A conversation that
/// cannot be read is handed as `Err` and reading goes on; a file that is not such a list,
/// or is truncated, is the function's `Err`.
pub fn read_chatgpt(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
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

/// Content types known to hold no more than their text (in the field named) and what
/// `Other` keeps whole.
const KNOWN_OTHER: &[(&str, &str)] = &[
    ("execution_output", "text"),
    ("tether_quote", "text"),
    ("tether_browsing_display", "result"),
    ("system_error", "text"),
    ("sonic_webpage", "text"),
    ("reasoning_recap", "content"),
    ("user_editable_context", "user_instructions"),
    ("model_editable_context", "model_set_context"),
    ("audio_transcription", "text"),
];

struct Node {
    parent: Option<String>,
    children: Vec<String>,
    message: Option<Map<String, Value>>,
}

fn conversation(v: Value, bytes: &[u8]) -> Result<Found, String> {
    let Value::Object(mut o) = v else { return Err("not a conversation (not a JSON object)".into()) };
    let mut warnings = Vec::new();
    let id = match (take_str(&mut o, "conversation_id"), o.get("id").and_then(Value::as_str).map(str::to_owned)) {
        (Some(c), Some(i)) if c == i => {
            o.remove("id");
            c
        }
        (Some(c), _) => c,
        (None, Some(_)) => take_str(&mut o, "id").expect("a string"),
        (None, None) => {
            warnings.push("the conversation has no id: it is named by a hash of its contents".into());
            format!("sha256-{}", &sha256_hex(bytes)[..32])
        }
    };
    let mut c = Conversation { platform: "chatgpt".into(), kind: Kind::Assistant, ..Default::default() };
    c.title = take_str(&mut o, "title").filter(|t| !t.is_empty());
    c.created = take_time(&mut o, "create_time", time::epoch, "the conversation", &mut warnings);
    c.updated = take_time(&mut o, "update_time", time::epoch, "the conversation", &mut warnings);
    c.model = take_str(&mut o, "default_model_slug").or_else(|| take_str(&mut o, "model_slug"));
    let current = take_str(&mut o, "current_node");
    let nodes = match o.remove("mapping") {
        Some(Value::Object(m)) => nodes(m, &mut warnings),
        None | Some(Value::Null) => {
            warnings.push("the conversation has no mapping: no messages".into());
            HashMap::new()
        }
        Some(other) => {
            warnings.push("its mapping is not an object: no messages read (kept as written)".into());
            o.insert("mapping".into(), other);
            HashMap::new()
        }
    };
    c.messages = messages(nodes, current.as_deref(), &mut warnings);
    if c.model.is_none() {
        c.model = c.messages.iter().rev().filter(|m| m.visible).find_map(|m| m.model.clone());
    }
    for m in &c.messages {
        let p = Person { role: m.author.role.clone(), name: m.author.name.clone(), id: None };
        if !c.participants.contains(&p) {
            c.participants.push(p);
        }
    }
    c.extra = rest(o);
    let files = super::collect_files(&c);
    Ok(Found { id, container: String::new(), record: c, files, warnings })
}

fn nodes(mapping: Map<String, Value>, warnings: &mut Vec<String>) -> HashMap<String, Node> {
    let mut out = HashMap::new();
    for (key, node) in mapping {
        let Value::Object(mut n) = node else {
            warnings.push(format!("node {key} is not an object: left out"));
            continue;
        };
        let parent = take_str(&mut n, "parent");
        let children = match n.remove("children") {
            Some(Value::Array(a)) => a.into_iter().filter_map(|c| c.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        let message = match n.remove("message") {
            Some(Value::Object(m)) => Some(m),
            None | Some(Value::Null) => None,
            Some(_) => {
                warnings.push(format!("node {key}: its message is not an object: left out"));
                None
            }
        };
        out.insert(key, Node { parent, children, message });
    }
    out
}

/// The messages in tree order (depth first, children in the order the node lists them),
/// with their parents (the nearest node above that holds a message) and the path shown.
fn messages(mut nodes: HashMap<String, Node>, current: Option<&str>, warnings: &mut Vec<String>) -> Vec<Message> {
    let mut keys: Vec<String> = nodes.keys().cloned().collect();
    keys.sort();
    // children by the parents' own word; the order of a node's `children` list first
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    let mut roots = Vec::new();
    for k in &keys {
        match nodes[k].parent.clone() {
            Some(p) if nodes.contains_key(&p) => children.entry(p).or_default().push(k.clone()),
            Some(p) => {
                warnings.push(format!("node {k}: its parent {p} is not in the conversation; it is read as a first message"));
                roots.push(k.clone());
            }
            None => roots.push(k.clone()),
        }
    }
    for (p, kids) in children.iter_mut() {
        let listed = &nodes[p].children;
        kids.sort_by_key(|k| listed.iter().position(|l| l == k).unwrap_or(usize::MAX));
    }
    // depth first, each node once; nodes in a loop of parents (no root) are read from
    // the first of them, with a warning
    let mut order: Vec<(String, Option<String>)> = Vec::new(); // node, message parent
    let mut tree_parent: HashMap<String, Option<String>> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut starts = roots.clone();
    let mut k = 0;
    loop {
        if k == starts.len() {
            match keys.iter().find(|key| !seen.contains(*key)) {
                Some(stray) => {
                    warnings.push(format!("node {stray} is in a loop of parents; it is read as a first message"));
                    starts.push(stray.clone());
                }
                None => break,
            }
        }
        let start = starts[k].clone();
        k += 1;
        if !seen.insert(start.clone()) {
            continue;
        }
        tree_parent.insert(start.clone(), None);
        let mut stack = vec![(start, None::<String>)];
        while let Some((n, msg_parent)) = stack.pop() {
            let has_message = nodes[&n].message.is_some();
            let below = if has_message { Some(n.clone()) } else { msg_parent.clone() };
            for kid in children.get(&n).into_iter().flatten().rev() {
                if seen.insert(kid.clone()) {
                    tree_parent.insert(kid.clone(), Some(n.clone()));
                    stack.push((kid.clone(), below.clone()));
                }
            }
            order.push((n, msg_parent));
        }
    }
    // the path shown: from the current node up
    let mut shown: HashSet<String> = HashSet::new();
    let leaf = match current {
        Some(c) if nodes.contains_key(c) => Some(c.to_owned()),
        other => {
            if !nodes.is_empty() {
                warnings.push(match other {
                    Some(c) => format!("current_node {c} is not in the conversation: the newest branch is marked as the one shown"),
                    None => "no current_node: the newest branch is marked as the one shown".into(),
                });
            }
            // from the first root, the last child at each step
            let mut at = starts.first().cloned();
            while let Some(kid) = at.as_ref().and_then(|a| children.get(a)).and_then(|k| k.last()).cloned() {
                at = Some(kid);
            }
            at
        }
    };
    let mut at = leaf;
    while let Some(n) = at {
        at = tree_parent.get(&n).cloned().flatten();
        shown.insert(n);
    }
    order
        .into_iter()
        .filter_map(|(key, parent)| {
            let message = nodes.get_mut(&key)?.message.take()?;
            Some(message_of(key.clone(), parent, message, shown.contains(&key), warnings))
        })
        .collect()
}

fn message_of(key: String, parent: Option<String>, mut m: Map<String, Value>, visible: bool, warnings: &mut Vec<String>) -> Message {
    let whose = format!("message {key}");
    let mut extra = Extra::new();
    if let Some(id) = take_str(&mut m, "id").filter(|id| *id != key) {
        extra.insert("message_id".into(), Value::String(id));
    }
    let mut author = Person::default();
    if let Some(Value::Object(mut a)) = m.remove("author") {
        author.role = take_str(&mut a, "role");
        author.name = take_str(&mut a, "name");
        if a.get("metadata").is_some_and(|md| md.as_object().is_some_and(Map::is_empty)) {
            a.remove("metadata");
        }
        if !a.is_empty() {
            extra.insert("author".into(), Value::Object(a));
        }
    }
    let created = take_time(&mut m, "create_time", time::epoch, &whose, warnings);
    let updated = take_time(&mut m, "update_time", time::epoch, &whose, warnings);
    let mut model = None;
    let mut attachments = Vec::new();
    let mut hidden = author.role.as_deref() == Some("system");
    if let Some(Value::Object(mut md)) = m.remove("metadata") {
        model = take_str(&mut md, "model_slug");
        if md.get("is_visually_hidden_from_conversation") == Some(&Value::Bool(true)) {
            hidden = true;
        }
        if author.role.as_deref() == Some("system") && md.get("is_user_system_message") == Some(&Value::Bool(true)) {
            hidden = false;
        }
        if let Some(Value::Array(list)) = md.remove("attachments") {
            attachments = list.into_iter().filter_map(|a| attached(a, &whose, warnings)).collect();
        }
        if !md.is_empty() {
            extra.insert("metadata".into(), Value::Object(md));
        }
    }
    // an assistant's message to a tool, not to the person
    if author.role.as_deref() == Some("assistant") && m.get("recipient").and_then(Value::as_str).is_some_and(|r| r != "all") {
        hidden = true;
    }
    let content = match m.remove("content") {
        Some(Value::Object(c)) => parts(c, &whose, &mut extra, warnings),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            warnings.push(format!("{whose}: its content is not an object; kept whole"));
            vec![Part::Other { content_type: "unknown".into(), text: other.as_str().map(str::to_owned), value: other }]
        }
    };
    extra.extend(rest(m));
    Message { id: key, parent, author, created, updated, model, content, attachments, reactions: vec![], visible, hidden, extra }
}

fn attached(a: Value, whose: &str, warnings: &mut Vec<String>) -> Option<Attached> {
    let Value::Object(mut a) = a else {
        warnings.push(format!("{whose}: an attachment that is not an object, left out"));
        return None;
    };
    let id = take_str(&mut a, "id");
    let name = take_str(&mut a, "name").or_else(|| id.clone()).unwrap_or_else(|| "attachment".into());
    let file = id.as_deref().and_then(safe_file_ref);
    if let (Some(id), None) = (&id, &file) {
        a.insert("id".into(), Value::String(id.clone()));
        warnings.push(format!("{whose}: attachment {name} names its file {id:?}, which is not a file name; kept as written"));
    }
    let media_type = take_str(&mut a, "mime_type").or_else(|| take_str(&mut a, "mimeType"));
    let size = a.get("size").and_then(time::count);
    if size.is_some() {
        a.remove("size");
    }
    Some(Attached { name, file, media_type, size, url: None, text: None, extra: rest(a) })
}

fn parts(mut c: Map<String, Value>, whose: &str, extra: &mut Extra, warnings: &mut Vec<String>) -> Vec<Part> {
    let content_type = c.get("content_type").and_then(Value::as_str).unwrap_or("").to_owned();
    match content_type.as_str() {
        "text" | "multimodal_text" => {
            c.remove("content_type");
            let list = match c.remove("parts") {
                Some(Value::Array(a)) => a,
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![other],
            };
            if !c.is_empty() {
                extra.insert("content".into(), Value::Object(c));
            }
            list.into_iter()
                .filter_map(|p| match p {
                    Value::String(s) if s.is_empty() => None,
                    Value::String(text) => Some(Part::Text { text, extra: Extra::new() }),
                    Value::Object(o) => Some(part_object(o, whose, warnings)),
                    Value::Null => None,
                    other => Some(Part::Text { text: other.to_string(), extra: Extra::new() }),
                })
                .collect()
        }
        "code" => {
            c.remove("content_type");
            let language = take_str(&mut c, "language");
            let text = take_str(&mut c, "text").unwrap_or_default();
            vec![Part::Code { language, text, extra: rest(c) }]
        }
        "thoughts" => {
            let text = c
                .get("thoughts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").trim().to_owned();
                    [s("summary"), s("content")].into_iter().filter(|x| !x.is_empty()).collect::<Vec<_>>().join("\n\n")
                })
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            c.remove("content_type");
            vec![Part::Thinking { text, extra: rest(c) }]
        }
        known => {
            let field = KNOWN_OTHER.iter().find(|(t, _)| *t == known).map(|(_, f)| *f);
            if field.is_none() {
                warnings.push(format!("{whose}: content of type {content_type:?}, which ferry does not know; kept whole"));
            }
            let text = c.get(field.unwrap_or("text")).and_then(Value::as_str).map(str::to_owned);
            let content_type = if content_type.is_empty() { "unknown".into() } else { content_type };
            vec![Part::Other { content_type, text, value: Value::Object(c) }]
        }
    }
}

/// An object among a multimodal message's parts: a file by its asset pointer, a voice
/// message's transcription, or another kind kept whole.
fn part_object(mut o: Map<String, Value>, whose: &str, warnings: &mut Vec<String>) -> Part {
    let kind = o.get("content_type").and_then(Value::as_str).unwrap_or("unknown").to_owned();
    if let Some(pointer) = o.get("asset_pointer").and_then(Value::as_str) {
        let id = pointer.split_once("://").map_or(pointer, |(_, rest)| rest);
        match safe_file_ref(id) {
            Some(file) => {
                let media_type = take_str(&mut o, "mime_type");
                return Part::File { file, media_type, extra: rest(o) };
            }
            None => warnings.push(format!("{whose}: asset pointer {pointer:?} does not name a file; kept whole")),
        }
    } else if !KNOWN_OTHER.iter().any(|(t, _)| *t == kind) {
        warnings.push(format!("{whose}: a part of type {kind:?}, which ferry does not know; kept whole"));
    }
    let text = o.get("text").and_then(Value::as_str).map(str::to_owned);
    Part::Other { content_type: kind, text, value: Value::Object(o) }
}
