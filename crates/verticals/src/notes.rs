//! `notes`: a title, a body in Markdown or plain text, tags, created and updated times,
//! pinned and archived, and the names of its attachments. In a folder, a note is a
//! Markdown (or `.txt`) file under `notes/`, its fields in YAML front matter as Obsidian,
//! Joplin and static-site tools write it; in a package, a record in `notes/notes.jsonl`
//! and a `.md` file per note. Front matter that ferry does not model is kept, as
//! written, and written back.

use crate::def::{Codec, Def, DirFile, Per, StandardForm};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const NOTES: Vertical = Vertical::new("notes");

pub const DEF: Def = Def {
    vertical: NOTES,
    record_type: "note",
    schema: || serde_json::to_value(schemars::schema_for!(Note)).expect("a schema is JSON"),
    records_path: "notes/notes.jsonl",
    standard: Some(StandardForm { media_type: "text/markdown", extension: "md", per: Per::Item }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &[],
    item_files: &[],
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub body: String,
    #[serde(default)]
    pub format: NoteFormat,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub archived: bool,
    /// The names of its attached files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Front matter ferry does not model (or could not read as its type), by key, each
    /// value as it was written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteFormat {
    #[default]
    Markdown,
    Plain,
}

/// Front matter longer than this is refused: a note's fields are short.
const MAX_FRONT_MATTER: usize = 64 * 1024;

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("notes") && matches!(f.extension().as_deref(), Some("md" | "markdown" | "txt"))
}

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: NOTES, id: id.to_owned(), location: id.to_owned(), reason };
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8 text ({e})")))?;
    let plain = id.to_ascii_lowercase().ends_with(".txt");
    let mut note = parse(text).map_err(err)?;
    if plain && !note.extra.contains_key("format") {
        note.format = NoteFormat::Plain;
    }
    if note.title.is_none() {
        let last = id.rsplit('/').next().unwrap_or(id);
        note.title = Some(last.rsplit_once('.').map_or(last, |(s, _)| s).to_owned());
    }
    let record = OtherRecord::new(NOTES, "note", &note).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: container.to_owned(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: "text/markdown".into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    })
}

/// The note's Markdown file: the original as it was read, if it was a Markdown file,
/// else made from the record.
fn write(item: &Item) -> Result<Standard, String> {
    if let Some(o) = &item.original
        && o.media_type == "text/markdown"
        && let Ok(text) = std::str::from_utf8(&o.bytes)
    {
        return Ok(Standard { text: text.to_owned(), warnings: vec![] });
    }
    let Record::Other(r) = &item.record else { return Err("not a note".into()) };
    let note: Note = r.typed()?;
    Ok(Standard { text: render(&note), warnings: vec![] })
}

/// Reads a note's file: front matter (a subset of YAML: scalars, quoted strings, inline
/// and block lists) between `---` lines at the very start, then the body.
pub fn parse(text: &str) -> Result<Note, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut note = Note::default();
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        note.body = text.to_owned();
        return Ok(note);
    };
    let mut end = None;
    let mut pos = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare == "..." {
            end = Some((pos, pos + line.len()));
            break;
        }
        pos += line.len();
        if pos > MAX_FRONT_MATTER {
            return Err(format!("front matter longer than {MAX_FRONT_MATTER} bytes"));
        }
    }
    let Some((fm_end, body_start)) = end else {
        return Err("front matter begins with --- but never ends (no closing --- line)".into());
    };
    note.body = rest[body_start..].to_owned();
    let lines: Vec<&str> = rest[..fm_end].lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':').filter(|_| !line.starts_with([' ', '\t', '-'])) else {
            return Err(format!("front matter line {} is not `key: value`: {line}", i + 1));
        };
        let key = key.trim().to_owned();
        let mut raw = value.trim().to_owned();
        // a block: the indented or `- ` lines after an empty value
        let mut block = Vec::new();
        while raw.is_empty() && i < lines.len() && (lines[i].starts_with([' ', '\t']) || lines[i].starts_with("- ")) {
            block.push(lines[i]);
            i += 1;
        }
        let list = if !block.is_empty() {
            raw = block.join("\n");
            block
                .iter()
                .map(|l| l.trim())
                .all(|l| l.starts_with("- ") || l == "-")
                .then(|| block.iter().map(|l| unquote(l.trim().trim_start_matches('-').trim())).collect::<Vec<_>>())
        } else {
            inline_list(&raw)
        };
        let kept = match key.as_str() {
            "title" if block.is_empty() => {
                note.title = Some(unquote(&raw));
                true
            }
            "tags" | "tag" | "keywords" => match list {
                Some(l) => {
                    note.tags.extend(l.into_iter().map(|t| t.trim_start_matches('#').to_owned()).filter(|t| !t.is_empty()));
                    true
                }
                None if block.is_empty() => {
                    let s = unquote(&raw);
                    let sep = if s.contains(',') { ',' } else { ' ' };
                    note.tags.extend(s.split(sep).map(|t| t.trim().trim_start_matches('#').to_owned()).filter(|t| !t.is_empty()));
                    true
                }
                None => false,
            },
            "created" | "date" if note.created.is_none() => date(&unquote(&raw)).map(|d| note.created = Some(d)).is_some(),
            "updated" | "modified" | "lastmod" if note.updated.is_none() => date(&unquote(&raw)).map(|d| note.updated = Some(d)).is_some(),
            "pinned" | "favorite" | "starred" => boolean(&raw).map(|b| note.pinned = b).is_some(),
            "archived" => boolean(&raw).map(|b| note.archived = b).is_some(),
            "format" => match unquote(&raw).as_str() {
                "plain" => {
                    note.format = NoteFormat::Plain;
                    true
                }
                "markdown" => true,
                _ => false,
            },
            "attachments" => list.map(|l| note.attachments.extend(l)).is_some(),
            _ => false,
        };
        if !kept {
            // what ferry does not model is kept as written, not dropped
            note.extra.insert(key, raw);
        }
    }
    Ok(note)
}

/// A note as a Markdown file with front matter.
pub fn render(note: &Note) -> String {
    let mut fm = String::new();
    if let Some(t) = &note.title {
        fm.push_str(&format!("title: {}\n", quote(t)));
    }
    if note.format == NoteFormat::Plain {
        fm.push_str("format: plain\n");
    }
    if !note.tags.is_empty() {
        fm.push_str(&format!("tags: [{}]\n", note.tags.iter().map(|t| quote(t)).collect::<Vec<_>>().join(", ")));
    }
    for (k, d) in [("created", note.created), ("updated", note.updated)] {
        if let Some(d) = d {
            fm.push_str(&format!("{k}: {}\n", d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)));
        }
    }
    if note.pinned {
        fm.push_str("pinned: true\n");
    }
    if note.archived {
        fm.push_str("archived: true\n");
    }
    if !note.attachments.is_empty() {
        fm.push_str(&format!("attachments: [{}]\n", note.attachments.iter().map(|a| quote(a)).collect::<Vec<_>>().join(", ")));
    }
    for (k, v) in &note.extra {
        // a block value was kept with its own lines, which follow the key
        if v.contains('\n') { fm.push_str(&format!("{k}:\n{v}\n")) } else { fm.push_str(&format!("{k}: {v}\n")) }
    }
    if fm.is_empty() && !note.body.starts_with("---") { note.body.clone() } else { format!("---\n{fm}---\n{}", note.body) }
}

/// A double-quoted YAML string (escaping what would end or bend it).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar without its quotes: `"…"` with escapes, `'…'` with `''`, or plain.
fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let mut out = String::new();
        let mut chars = s[1..s.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
                }
                Some(c) => out.push(c),
                None => out.push('\\'),
            }
        }
        return out;
    }
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        return s[1..s.len() - 1].replace("''", "'");
    }
    // a plain scalar may end in a comment
    s.split(" #").next().unwrap_or(s).trim().to_owned()
}

/// `[a, "b, c", 'd']` as its items; `None` if it is not an inline list.
fn inline_list(s: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let (mut cur, mut quote_char) = (String::new(), None);
    for c in inner.chars() {
        match (quote_char, c) {
            (None, '"' | '\'') => {
                quote_char = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote_char = None;
                cur.push(c);
            }
            (None, ',') => items.push(unquote(&std::mem::take(&mut cur))),
            (_, c) => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        items.push(unquote(&cur));
    }
    Some(items.into_iter().filter(|i| !i.is_empty()).collect())
}

fn boolean(s: &str) -> Option<bool> {
    match unquote(s).to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The date forms notes carry: RFC 3339, `YYYY-MM-DD HH:MM:SS[Z]` (Joplin), without
/// seconds, and a bare date (read as midnight UTC).
fn date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = s.trim_end_matches('Z');
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(d.and_utc());
        }
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S %z") {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note_of(item: &Item) -> Note {
        let Record::Other(r) = &item.record else { panic!("not a note") };
        r.typed().unwrap()
    }

    #[test]
    fn a_note_survives_the_record_and_its_file() {
        let note = Note {
            title: Some("Plans: \"Q3\" \\ and more".into()),
            body: "# Plans\n\n- one\n- two\n".into(),
            tags: vec!["work".into(), "a, b".into()],
            created: date("2024-05-01T09:30:00Z"),
            updated: date("2024-05-02T10:00:00.5Z"),
            pinned: true,
            archived: true,
            attachments: vec!["diagram.png".into()],
            extra: BTreeMap::from([("aliases".into(), "[plan]".into()), ("cssclasses".into(), "  - wide\n  - dark".into())]),
            ..Default::default()
        };
        let text = render(&note);
        assert_eq!(parse(&text).unwrap(), note, "{text}");
        let record = OtherRecord::new(NOTES, "note", &note).unwrap();
        assert_eq!(record.typed::<Note>().unwrap(), note);
        let json = serde_json::to_string(&Record::Other(record.clone())).unwrap();
        assert!(json.contains(r#""type":"note""#) && json.contains(r#""vertical":"notes""#), "{json}");
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), Record::Other(record));
    }

    #[test]
    fn front_matter_as_note_apps_write_it() {
        // Joplin's "Markdown + Front Matter": spaces in dates, a block list of tags
        let joplin = "---\ntitle: Shopping\nupdated: 2021-03-20 15:21:09Z\ncreated: 2021-03-20 15:20:58Z\ntags:\n  - home\n  - errands\n---\n\nmilk\n";
        let n = parse(joplin).unwrap();
        assert_eq!(n.title.as_deref(), Some("Shopping"));
        assert_eq!(n.tags, ["home", "errands"]);
        assert_eq!(n.created, date("2021-03-20T15:20:58Z"));
        assert_eq!(n.updated, date("2021-03-20T15:21:09Z"));
        assert_eq!(n.body, "\nmilk\n");
        // Obsidian: inline list with #, aliases kept, CRLF, a BOM
        let obsidian = "\u{feff}---\r\ntags: [\"#idea\", project]\r\naliases: [Big idea]\r\ncreated: 2024-01-02T10:00\r\n---\r\nText\r\n";
        let n = parse(obsidian).unwrap();
        assert_eq!(n.tags, ["idea", "project"]);
        assert_eq!(n.extra.get("aliases").map(String::as_str), Some("[Big idea]"));
        assert_eq!(n.created, date("2024-01-02T10:00:00Z"));
        assert_eq!(n.body, "Text\r\n");
        // a static-site post: a bare date, a comma-separated scalar of tags, a draft flag
        let hugo = "---\ntitle: 'It''s here'\ndate: 2020-02-03\ntags: a, b\ndraft: true\n---\nbody";
        let n = parse(hugo).unwrap();
        assert_eq!(n.title.as_deref(), Some("It's here"));
        assert_eq!(n.tags, ["a", "b"]);
        assert_eq!(n.created, date("2020-02-03T00:00:00Z"));
        assert_eq!(n.extra.get("draft").map(String::as_str), Some("true"));
    }

    #[test]
    fn what_is_not_understood_is_kept_not_dropped() {
        let n = parse("---\ncreated: last tuesday\npinned: maybe\nlocation:\n  lat: 1\n  lon: 2\n---\nx").unwrap();
        assert_eq!(n.created, None);
        assert_eq!(n.extra.get("created").map(String::as_str), Some("last tuesday"));
        assert_eq!(n.extra.get("pinned").map(String::as_str), Some("maybe"));
        assert_eq!(n.extra.get("location").map(String::as_str), Some("  lat: 1\n  lon: 2"));
        let again = parse(&render(&n)).unwrap();
        assert_eq!(again, n);
    }

    #[test]
    fn broken_and_hostile_files_are_clear_errors() {
        assert!(parse("---\ntitle: never closed\n\nbody").unwrap_err().contains("never ends"));
        assert!(parse("---\n  indented: first\n---\n").unwrap_err().contains("not `key: value`"));
        let huge = format!("---\n{}---\n", "k: v\n".repeat(20_000));
        assert!(parse(&huge).unwrap_err().contains("longer than"));
        let e = read("notes/x.md", "", b"\xff\xfe not text").unwrap_err();
        assert!(e.reason.contains("UTF-8") && e.vertical == NOTES, "{e}");
        // no front matter: the whole file is the body, the title the file's name
        let item = read("notes/Work/Idea one.md", "Work", b"just text, --- not front matter").unwrap();
        let n = note_of(&item);
        assert_eq!((n.title.as_deref(), n.body.as_str()), (Some("Idea one"), "just text, --- not front matter"));
        // a body that itself starts with --- is not taken for front matter when written
        let tricky = Note { body: "---\nnot: fm\n---\n".into(), ..Default::default() };
        assert_eq!(parse(&render(&tricky)).unwrap(), tricky);
    }

    #[test]
    fn files_under_notes_are_recognised_and_plain_text_stays_plain() {
        let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
        assert!(recognises(&f("notes/a.md")) && recognises(&f("notes/Work/b.txt")));
        assert!(!recognises(&f("README.md")) && !recognises(&f("files/notes/a.md")) && !recognises(&f("notes/a.png")));
        let item = read("notes/todo.txt", "", b"buy milk\n").unwrap();
        assert_eq!(note_of(&item).format, NoteFormat::Plain);
        // written back byte for byte from the original; from the record when there is none
        assert_eq!(write(&item).unwrap().text, "buy milk\n");
        let mut bare = item.clone();
        bare.original = None;
        let text = write(&bare).unwrap().text;
        assert_eq!(parse(&text).unwrap().format, NoteFormat::Plain);
        assert_eq!(parse(&text).unwrap().body, "buy milk\n");
    }
}
