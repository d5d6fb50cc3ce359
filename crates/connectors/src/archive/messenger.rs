//! Facebook's and Instagram's message threads: `messages/inbox/THREAD/message_1.json`
//! (and `archived_threads`, `filtered_threads`, `message_requests`, `e2ee_cutover`), each
//! `{participants: [{name}], title, thread_path, messages: [...]}`. A long thread is split
//! over `message_1.json`, `message_2.json`, ...: message_1 holds the newest, and each
//! file lists its messages newest first. A thread is one conversation, whatever number of
//! files it takes, its messages oldest first; a thread of more than 64 MiB is handed in
//! parts (`inbox/ann_123`, `inbox/ann_123#2`, ..., each saying so).
//!
//! A message is `{sender_name, timestamp_ms, content, photos, videos, audio_files, files,
//! gifs, sticker, share, reactions: [{reaction, actor}], ...}`; media are named by their
//! path from the archive's root, and attached to the conversation's item.

use super::layouts::Meta;
use super::meta::{Attach, list, millis, repair_value, skip, text};
use super::walk::{Walk, fail};
use ferry_codecs::media::file_media_type;
use ferry_verticals::conversations::{
    Attached, CONVERSATIONS, Conversation, Extra, Found, Kind, MAX_ELEMENT, Message, Part, Person, Reaction,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The most of one thread held as one item (its files' bytes): past it, a part is handed on.
const MAX_PART: u64 = MAX_ELEMENT as u64;

/// A thread file's number: `message_3.json` is 3, 2018's `message.json` is 1.
fn number(path: &str) -> Option<u32> {
    let name = path.rsplit('/').next()?;
    if name.eq_ignore_ascii_case("message.json") {
        return Some(1);
    }
    name.strip_prefix("message_")?.strip_suffix(".json")?.parse().ok()
}

pub fn threads(w: &mut Walk, files: Vec<String>, meta: Meta) {
    if !w.wants(CONVERSATIONS) {
        return skip(w, files, CONVERSATIONS);
    }
    // each thread's files, by their folder; the oldest (highest number) first
    let mut threads: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for f in files {
        let Some(n) = number(&f) else {
            // `message_old.json`: not one of a thread's files
            w.unclaim(&f);
            continue;
        };
        let folder = f.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        threads.entry(folder).or_default().push((n, f));
    }
    for (folder, mut parts) in threads {
        parts.sort_by_key(|p| std::cmp::Reverse(p.0));
        // `inbox/ann_123`: the folder within `messages/`
        let id = folder.split_once("messages/").map_or(folder.as_str(), |(_, t)| t).to_owned();
        let container = id.split('/').next().unwrap_or_default().to_owned();
        let mut t = Thread::new(id, container, meta);
        for (_, file) in parts {
            let size = w.fs.entries.get(&file).map_or(0, |e| e.size());
            if t.bytes > 0 && t.bytes + size > MAX_PART && !t.hand_on(w, true) {
                return;
            }
            t.bytes += size;
            let read = w.fs.read_bounded(&file, MAX_PART).and_then(|b| {
                let v: Value = serde_json::from_slice(&b).map_err(|e| format!("not the JSON expected: {e}"))?;
                if !v["messages"].is_array() {
                    return Err("not a message thread: it has no `messages` list".into());
                }
                Ok(v)
            });
            let name = file.rsplit('/').next().unwrap_or(&file).to_owned();
            match read {
                Ok(mut v) => {
                    repair_value(&mut v);
                    t.read(w, v);
                }
                Err(e) => {
                    t.warnings.push(format!("{name} could not be read ({e}): the messages it holds are missing"));
                    let failed = fail(CONVERSATIONS, &format!("{}/{name}", t.id), &file, e);
                    if !w.send(Err(failed)) {
                        return;
                    }
                }
            }
        }
        if !t.hand_on(w, false) {
            return;
        }
    }
}

/// A thread being read: its header, its messages so far, their files.
struct Thread {
    id: String,
    container: String,
    meta: Meta,
    /// Parts handed on so far.
    parts: u32,
    title: Option<String>,
    participants: Vec<Person>,
    extra: Extra,
    image: Option<String>,
    messages: Vec<Message>,
    /// Message ids used, across the parts.
    ids: HashMap<String, u32>,
    attach: Attach,
    warnings: Vec<String>,
    /// Bytes of the files whose messages this part holds.
    bytes: u64,
    /// Files of this part read (none: every one failed, and was reported).
    read: u32,
}

/// What a message holds that ferry models; the rest goes to its `extra`.
const MODELLED: &[&str] = &[
    "sender_name",
    "senderName",
    "timestamp_ms",
    "timestamp",
    "content",
    "text",
    "share",
    "reactions",
    "photos",
    "videos",
    "audio_files",
    "files",
    "gifs",
    "sticker",
    "media",
];

impl Thread {
    fn new(id: String, container: String, meta: Meta) -> Thread {
        Thread {
            id,
            container,
            meta,
            parts: 0,
            title: None,
            participants: vec![],
            extra: Extra::new(),
            image: None,
            messages: vec![],
            ids: HashMap::new(),
            attach: Attach::default(),
            warnings: vec![],
            bytes: 0,
            read: 0,
        }
    }

    /// One file of the thread: its header (each file repeats it; message_1's, the newest,
    /// read last, stays) and its messages, oldest first.
    fn read(&mut self, w: &mut Walk, mut v: Value) {
        let Some(o) = v.as_object_mut() else { return };
        self.read += 1;
        let messages = o.remove("messages").unwrap_or(Value::Null);
        if let Some(t) = o.remove("title").as_ref().and_then(text) {
            self.title = Some(t);
        }
        if let Some(p) = o.remove("participants").and_then(|p| p.as_array().cloned()) {
            self.participants = p.iter().filter_map(|p| text(&p["name"]).or_else(|| text(p))).map(person).collect();
        }
        if let Some(uri) = o.get("image").and_then(|i| text(&i["uri"])) {
            self.image = Some(uri);
        }
        for (k, v) in std::mem::take(o) {
            self.extra.insert(k, v);
        }
        let mut messages = messages.as_array().cloned().unwrap_or_default();
        messages.reverse();
        for m in messages {
            let m = self.message(w, m);
            self.messages.push(m);
        }
    }

    fn message(&mut self, w: &mut Walk, m: Value) -> Message {
        let sender = text(&m["sender_name"]).or_else(|| text(&m["senderName"]));
        let stamp = if m["timestamp_ms"].is_null() { &m["timestamp"] } else { &m["timestamp_ms"] };
        let created = millis(stamp);
        let base = format!("m{}", stamp.as_i64().map_or_else(|| stamp.to_string(), |n| n.to_string()));
        let n = self.ids.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        let mut content = Vec::new();
        if let Some(t) = text(&m["content"]).or_else(|| text(&m["text"])) {
            content.push(Part::Text { text: t, extra: Extra::new() });
        }
        if m["share"].is_object() {
            let s = &m["share"];
            let t = text(&s["link"]).or_else(|| text(&s["share_text"]));
            content.push(Part::Other { content_type: "share".into(), text: t, value: s.clone() });
        }
        let mut attachments = Vec::new();
        for (key, kind) in [("photos", "photo"), ("videos", "video"), ("audio_files", "audio"), ("files", "file"), ("gifs", "gif")] {
            for f in list(&m[key]) {
                attachments.extend(self.attached(w, &id, f, kind));
            }
        }
        if m["sticker"].is_object() {
            attachments.extend(self.attached(w, &id, &m["sticker"], "sticker"));
        }
        let mut reactions: Vec<Reaction> = Vec::new();
        for r in list(&m["reactions"]) {
            let Some(name) = text(&r["reaction"]) else { continue };
            let pos = reactions.iter().position(|x| x.name == name).unwrap_or_else(|| {
                reactions.push(Reaction { name, count: 0, users: vec![] });
                reactions.len() - 1
            });
            reactions[pos].count += 1;
            if let Some(actor) = text(&r["actor"]) {
                reactions[pos].users.push(actor);
            }
        }
        let extra: Extra = match m {
            Value::Object(o) => o.into_iter().filter(|(k, _)| !MODELLED.contains(&k.as_str())).collect(),
            _ => Extra::new(),
        };
        // a chat's messages are all shown (`Default` would say not)
        let author = sender.map(person).unwrap_or_default();
        Message { id, author, created, content, attachments, reactions, extra, visible: true, ..Default::default() }
    }

    /// A photo, video, sound, file, GIF or sticker of a message, attached when the archive
    /// holds it.
    fn attached(&mut self, w: &mut Walk, id: &str, f: &Value, kind: &str) -> Option<Attached> {
        let uri = text(&f["uri"])?;
        let file = self.attach.add(w, &uri, &format!("message {id}: its {kind}"));
        let name = uri.rsplit('/').next().unwrap_or(&uri).to_owned();
        let mut extra: Extra =
            f.as_object().into_iter().flatten().filter(|(k, _)| *k != "uri").map(|(k, v)| (k.clone(), v.clone())).collect();
        extra.insert("kind".into(), kind.into());
        if file.is_none() {
            extra.insert("uri".into(), uri.into());
        }
        Some(Attached { media_type: Some(file_media_type(&name).to_owned()), name, file, extra, ..Default::default() })
    }

    /// Hands on what is held as one item: a part (`more`: the thread goes on in another)
    /// or the last. False once nobody listens.
    fn hand_on(&mut self, w: &mut Walk, more: bool) -> bool {
        if self.read == 0 {
            // every file of this part failed, each with its reason: no empty conversation
            self.warnings.clear();
            self.bytes = 0;
            return true;
        }
        self.read = 0;
        self.parts += 1;
        let id = if self.parts == 1 { self.id.clone() } else { format!("{}#{}", self.id, self.parts) };
        if let Some(uri) = self.image.clone()
            && let Some(name) = self.attach.add(w, &uri, "the thread's picture")
        {
            self.extra.insert("image_file".into(), name.into());
        }
        let mut messages = std::mem::take(&mut self.messages);
        // a file's order is its own: the time decides, ties kept as read
        messages.sort_by_key(|m| m.created);
        let mut participants = self.participants.clone();
        for m in &messages {
            if m.author.name.is_some() && !participants.contains(&m.author) {
                // one who wrote, and has left since: the list holds those there at export
                participants.push(m.author.clone());
            }
        }
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.append(&mut self.attach.warnings);
        if more || self.parts > 1 {
            warnings.push(format!(
                "part {} of the thread {}: a thread over {} MiB is handed in parts, each its own item",
                self.parts,
                self.id,
                MAX_PART >> 20
            ));
        }
        let record = Conversation {
            title: self.title.clone(),
            platform: self.meta.name().into(),
            kind: Kind::Chat,
            created: messages.first().and_then(|m| m.created),
            updated: messages.last().and_then(|m| m.created),
            participants,
            model: None,
            messages,
            extra: self.extra.clone(),
        };
        let attach = std::mem::take(&mut self.attach);
        let files = attach.names();
        let mut item = Found { id, container: self.container.clone(), record, files, warnings }.into_item();
        item.attachments = attach.list;
        self.bytes = 0;
        w.send(Ok(item))
    }
}

fn person(name: String) -> Person {
    Person { name: Some(name), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn thread_files_are_numbered() {
        assert_eq!(number("messages/inbox/ann_1/message_1.json"), Some(1));
        assert_eq!(number("messages/inbox/ann_1/message_12.json"), Some(12));
        assert_eq!(number("messages/inbox/ann_1/message.json"), Some(1));
        assert_eq!(number("messages/inbox/ann_1/message_x.json"), None);
        assert_eq!(number("messages/inbox/ann_1/message_.json"), None);
    }
}
