//! Google Takeout's contacts, calendars, Gmail and Keep. Photos are in `photos.rs`.

use super::walk::{Walk, fail};
use crate::google::gmail;
use crate::standard_files::{MboxItems, calendar_item, card_item, codec_err};
use ferry_codecs::Limits;
use ferry_codecs::ical::IcsReader;
use ferry_codecs::mbox::{Flavor, MboxReader};
use ferry_codecs::vcard::VcardReader;
use ferry_core::content::sha256_hex;
use ferry_core::{Attachment, Item, ItemError, OtherRecord, Record, Vertical};
use ferry_verticals::notes::{NOTES, Note, NoteFormat};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Seek, Write};

fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// The vCard files of the Contacts folder. `All Contacts.vcf` (whatever its localized
/// name: the largest file) holds everyone; each label's file repeats some of them. A
/// person is one item, from the first file that holds them; a label file that adds
/// nobody is listed as a repeat.
pub fn contacts(w: &mut Walk, mut files: Vec<String>) {
    if !w.wants(Vertical::Contacts) {
        return skip_all(w, files, Vertical::Contacts);
    }
    files.sort_by_key(|f| std::cmp::Reverse(w.fs.entries.get(f).map_or(0, |e| e.size())));
    let mut seen: HashSet<String> = HashSet::new();
    let first = files.first().cloned().unwrap_or_default();
    for file in files {
        let input = match w.fs.open_file(&file) {
            Ok(r) => BufReader::with_capacity(256 * 1024, r),
            Err(e) => {
                if !w.send(Err(fail(Vertical::Contacts, &file, &file, e))) {
                    return;
                }
                continue;
            }
        };
        let container = stem(&file).to_owned();
        let (mut cards, mut new) = (0, 0);
        for card in VcardReader::new(input, Limits::default()) {
            cards += 1;
            let item = match card {
                Ok(c) => {
                    // the same person in a label's file: the card without its CATEGORIES
                    let key = person_key(&c.original);
                    if !seen.insert(key) {
                        continue;
                    }
                    new += 1;
                    Ok(card_item(c, &container))
                }
                Err(e) => Err(codec_err(Vertical::Contacts, &file, e)),
            };
            if !w.send(item) {
                return;
            }
        }
        if new == 0 && cards > 0 && file != first {
            let why = format!("repeats {cards} contact(s) that {} already holds: a label's own list of them", stem(&first));
            if !w.skipped(&file, why) {
                return;
            }
        }
    }
}

/// What identifies a person's card across Takeout's files: its lines but the labels.
fn person_key(card: &[u8]) -> String {
    let text = String::from_utf8_lossy(card);
    let kept: Vec<&str> = text.lines().filter(|l| !l.to_ascii_uppercase().starts_with("CATEGORIES")).collect();
    sha256_hex(kept.join("\n").as_bytes())
}

/// A vertical not asked for: its files are listed, so the report still shows them.
fn skip_all(w: &mut Walk, files: Vec<String>, v: Vertical) {
    for f in files {
        if !w.skipped(&f, format!("holds {v}, which was not asked for")) {
            return;
        }
    }
}

/// One calendar per `.ics` file, named after it.
pub fn calendar(w: &mut Walk, files: Vec<String>) {
    let home = if w.wants(Vertical::Calendar) {
        Vertical::Calendar
    } else if w.wants(Vertical::Tasks) {
        Vertical::Tasks
    } else {
        return skip_all(w, files, Vertical::Calendar);
    };
    for file in files {
        let reader =
            w.fs.open_file(&file)
                .map_err(|e| fail(home, &file, &file, e))
                .and_then(|r| seekable(r).map_err(|e| fail(home, &file, &file, e)))
                .and_then(|r| IcsReader::new(r, Limits::default()).map_err(|e| codec_err(home, &file, e)));
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                if !w.send(Err(e)) {
                    return;
                }
                continue;
            }
        };
        let container = stem(&file).to_owned();
        for obj in reader {
            let item = match obj {
                Ok(o) if !w.wants(o.record.vertical()) => continue,
                Ok(o) => Ok(calendar_item(o, container.clone())),
                Err(e) => Err(codec_err(home, &file, e)),
            };
            if !w.send(item) {
                return;
            }
        }
    }
}

/// Calendar files up to this size are read into memory; a larger one is copied into an
/// unnamed temporary file (removed when closed), since the calendar reader reads twice.
const IN_MEMORY: u64 = 16 << 20;

/// An archive file as a reader that can go back to its start.
fn seekable(mut r: Box<dyn std::io::Read + Send>) -> Result<BufReader<Spooled>, String> {
    let mut head = Vec::new();
    (&mut r).take(IN_MEMORY + 1).read_to_end(&mut head).map_err(|e| format!("cannot read: {e}"))?;
    if head.len() as u64 <= IN_MEMORY {
        return Ok(BufReader::new(Spooled::Memory(std::io::Cursor::new(head))));
    }
    let mut f = tempfile::tempfile().map_err(|e| format!("cannot make a temporary file: {e}"))?;
    f.write_all(&head).and_then(|_| std::io::copy(&mut r, &mut f)).map_err(|e| format!("cannot copy to a temporary file: {e}"))?;
    f.seek(std::io::SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    Ok(BufReader::with_capacity(256 * 1024, Spooled::File(f)))
}

pub enum Spooled {
    Memory(std::io::Cursor<Vec<u8>>),
    File(std::fs::File),
}

impl std::io::Read for Spooled {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Spooled::Memory(c) => c.read(buf),
            Spooled::File(f) => f.read(buf),
        }
    }
}

impl Seek for Spooled {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            Spooled::Memory(c) => c.seek(pos),
            Spooled::File(f) => f.seek(pos),
        }
    }
}

/// Gmail's mbox: each message in the folder its labels put it in (as the Gmail connector
/// places it: Trash or Spam, else its first own label, else Drafts, Inbox or Sent, else
/// Archive), its other labels as keywords, read or unread from the `Unread` label.
pub fn gmail_mbox(w: &mut Walk, files: Vec<String>) {
    if !w.wants(Vertical::Mail) {
        return skip_all(w, files, Vertical::Mail);
    }
    for file in files {
        let input = match w.fs.open_file(&file) {
            Ok(r) => BufReader::with_capacity(256 * 1024, r),
            Err(e) => {
                if !w.send(Err(fail(Vertical::Mail, &file, &file, e))) {
                    return;
                }
                continue;
            }
        };
        let mut items = MboxItems::new(&file);
        for msg in MboxReader::new(input, Flavor::Mboxrd, Limits::default()) {
            let item = msg.map_err(|e| codec_err(Vertical::Mail, &file, e)).map(|m| {
                let (ids, labels) = label_ids(&m.bytes);
                let placed = gmail::place(&ids, &labels);
                let mut item = items.item(m, &placed.container);
                if let Record::Mail(r) = &mut item.record {
                    r.flags = placed.flags;
                }
                item.version = format!("{}-{}", item.version, placed.names.join(","));
                item
            });
            if !w.send(item) {
                return;
            }
        }
    }
}

/// Takeout's label names as the Gmail API's system label ids.
const SYSTEM: [(&str, &str); 14] = [
    ("inbox", "INBOX"),
    ("sent", "SENT"),
    ("spam", "SPAM"),
    ("trash", "TRASH"),
    ("drafts", "DRAFT"),
    ("draft", "DRAFT"),
    ("important", "IMPORTANT"),
    ("starred", "STARRED"),
    ("unread", "UNREAD"),
    ("chat", "CHAT"),
    ("category personal", "CATEGORY_PERSONAL"),
    ("category social", "CATEGORY_SOCIAL"),
    ("category promotions", "CATEGORY_PROMOTIONS"),
    ("category updates", "CATEGORY_UPDATES"),
];

/// The message's labels from its `X-Gmail-Labels` header, as label ids and the user
/// labels among them (`Opened` and `Archived` say only what their absence would).
fn label_ids(message: &[u8]) -> (Vec<String>, HashMap<String, gmail::Label>) {
    let mut ids = Vec::new();
    let mut labels = HashMap::new();
    let Some(value) = header(message, "x-gmail-labels") else { return (ids, labels) };
    for name in split_labels(&value) {
        // an encoded word right after a comma is not decoded with the header: each label is
        let name =
            if name.contains("=?") { header(format!("Subject: {name}\r\n\r\n").as_bytes(), "subject").unwrap_or(name) } else { name };
        let lower = name.to_lowercase();
        if lower == "opened" || lower == "archived" || name.is_empty() {
            continue;
        }
        if lower == "category forums" {
            ids.push("CATEGORY_FORUMS".to_owned());
        } else if let Some((_, id)) = SYSTEM.iter().find(|(n, _)| *n == lower) {
            ids.push((*id).to_owned());
        } else {
            labels.insert(name.clone(), gmail::Label { name: name.clone(), user: true });
            ids.push(name);
        }
    }
    (ids, labels)
}

/// A header's value, unfolded and with RFC 2047 encoded words decoded.
fn header(message: &[u8], name: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse_headers(message)?;
    parsed.header(name).and_then(|h| h.as_text()).map(str::to_owned)
}

/// Comma-separated labels, a label with a comma in double quotes.
fn split_labels(value: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

/// Largest Tasks file read (task lists are text).
const MAX_TASKS: u64 = 64 << 20;

/// Google Tasks' `Tasks.json`: its lists (`items`) and their tasks, as the Tasks API
/// gives them; each task in its list, as the Google connector reads it.
pub fn tasks(w: &mut Walk, files: Vec<String>) {
    if !w.wants(Vertical::Tasks) {
        return skip_all(w, files, Vertical::Tasks);
    }
    for file in files {
        let v =
            w.fs.read_bounded(&file, MAX_TASKS)
                .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| format!("not Google Tasks' JSON ({e})")));
        let v = match v {
            Ok(v) => v,
            Err(e) => {
                if !w.send(Err(fail(Vertical::Tasks, &file, &file, e))) {
                    return;
                }
                continue;
            }
        };
        for (l, list) in v["items"].as_array().into_iter().flatten().enumerate() {
            let title = list["title"].as_str().unwrap_or("Tasks").to_owned();
            for (n, g) in list["items"].as_array().into_iter().flatten().enumerate() {
                if g["deleted"].as_bool().unwrap_or(false) {
                    // listed, not dropped: the archive holds it, marked deleted
                    let id = format!("{file}#{}", g["id"].as_str().unwrap_or_default());
                    let skip = ItemError {
                        skipped: true,
                        vertical: Vertical::Tasks,
                        id: id.clone(),
                        location: file.clone(),
                        reason: "a task Google Tasks marks deleted: not carried".into(),
                    };
                    if !w.send(Err(skip)) {
                        return;
                    }
                    continue;
                }
                let item = match g["id"].as_str().filter(|i| !i.is_empty()) {
                    Some(id) => {
                        let (task, text) = crate::google::tasks::task_from_google(g);
                        let version = g["updated"].as_str().unwrap_or_default();
                        Ok(Item::of_record(id, &title, version, Record::Task(task), "text/calendar", text))
                    }
                    None => Err(fail(Vertical::Tasks, &format!("{file}#{l}.{n}"), &file, "a task without an id")),
                };
                if !w.send(item) {
                    return;
                }
            }
        }
    }
}

/// Largest Keep note read (a note is text and a list).
const MAX_NOTE: u64 = 8 << 20;

/// Google Keep's notes, one JSON file each, with their attached files beside them.
pub fn keep(w: &mut Walk, files: Vec<String>) {
    if !w.wants(NOTES) {
        return skip_all(w, files, NOTES);
    }
    for file in files {
        let item =
            w.fs.read_bounded(&file, MAX_NOTE).and_then(|bytes| keep_note(w, &file, &bytes)).map_err(|e| fail(NOTES, &file, &file, e));
        if !w.send(item) {
            return;
        }
    }
}

fn usec(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let n = v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))?;
    chrono::DateTime::from_timestamp_micros(n)
}

fn keep_note(w: &mut Walk, file: &str, bytes: &[u8]) -> Result<Item, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a Keep note ({e})"))?;
    let o = v.as_object().ok_or("not a Keep note (not a JSON object)")?;
    let mut note = Note { format: NoteFormat::Plain, ..Default::default() };
    let mut warnings = Vec::new();
    let mut attachments = Vec::new();
    let folder = file.rsplit_once('/').map_or("", |(f, _)| f);
    for (k, val) in o {
        match k.as_str() {
            "title" => note.title = val.as_str().filter(|t| !t.is_empty()).map(str::to_owned),
            "textContent" => note.body = val.as_str().unwrap_or_default().to_owned(),
            "listContent" => {
                note.format = NoteFormat::Markdown;
                let mut body = String::new();
                for entry in val.as_array().into_iter().flatten() {
                    let mark = if entry["isChecked"].as_bool().unwrap_or(false) { "x" } else { " " };
                    body.push_str(&format!("- [{mark}] {}\n", entry["text"].as_str().unwrap_or_default()));
                }
                note.body = body;
            }
            "labels" => note.tags = val.as_array().into_iter().flatten().filter_map(|l| l["name"].as_str().map(str::to_owned)).collect(),
            "isPinned" => note.pinned = val.as_bool().unwrap_or(false),
            "isArchived" => note.archived = val.as_bool().unwrap_or(false),
            "createdTimestampUsec" => note.created = usec(val),
            "userEditedTimestampUsec" => note.updated = usec(val),
            "attachments" => {
                for a in val.as_array().into_iter().flatten() {
                    let Some(name) = a["filePath"].as_str() else {
                        warnings.push(format!("an attachment the note lists without a file path: {a}"));
                        continue;
                    };
                    let path = if folder.is_empty() { name.to_owned() } else { format!("{folder}/{name}") };
                    if w.fs.entries.contains_key(&path) {
                        w.claim(&path);
                        let media_type = a["mimetype"].as_str().unwrap_or("application/octet-stream");
                        attachments.push(Attachment { name: name.to_owned(), content: w.fs.content(&path, media_type) });
                        note.attachments.push(name.to_owned());
                    } else {
                        warnings.push(format!("attachment {name}: the note names it, the archive does not hold it"));
                    }
                }
            }
            // what the note model has no field for is kept, as Keep wrote it
            _ => {
                note.extra.insert(k.clone(), val.as_str().map_or_else(|| val.to_string(), str::to_owned));
            }
        }
    }
    if note.title.is_none() {
        note.title = Some(stem(file).to_owned());
    }
    let record = OtherRecord::new(NOTES, "note", &note)?;
    Ok(Item {
        id: file.to_owned(),
        container: "Keep".into(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: None,
        content: None,
        standard: None,
        attachments,
        references: vec![],
        source_warnings: warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_ids_and_user_labels() {
        let msg = b"X-Gmail-Labels: Inbox,Opened,\"Work, old\",Category Forums,=?UTF-8?Q?F=C3=A4lle?=\r\nSubject: x\r\n\r\nbody";
        let (ids, labels) = label_ids(msg);
        assert_eq!(ids, ["INBOX", "Work, old", "CATEGORY_FORUMS", "Fälle"]);
        assert!(labels.contains_key("Fälle") && labels.contains_key("Work, old"));
        let placed = gmail::place(&ids, &labels);
        assert_eq!(placed.container, "Work, old");
        assert!(placed.flags.contains(&"\\Seen".to_owned()), "{:?}", placed.flags);
        let (ids, _) = label_ids(b"X-Gmail-Labels: Unread,Trash\r\n\r\n");
        let placed = gmail::place(&ids, &HashMap::new());
        assert_eq!(placed.container, "Trash");
        assert!(!placed.flags.contains(&"\\Seen".to_owned()));
        assert_eq!(label_ids(b"Subject: none\r\n\r\n").0, Vec::<String>::new());
    }

    #[test]
    fn a_person_is_the_same_across_label_files() {
        let a = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nCATEGORIES:myContacts,Family\r\nEND:VCARD\r\n";
        let b = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nCATEGORIES:myContacts\r\nEND:VCARD\r\n";
        let c = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEND:VCARD\r\n";
        assert_eq!(person_key(a), person_key(b));
        assert_ne!(person_key(a), person_key(c));
    }
}
