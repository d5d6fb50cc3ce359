//! LinkedIn's "Get a copy of your data" archive: CSV files, UTF-8 (often with a BOM), some
//! (`Connections.csv`) starting with a `Notes:` preamble before their header row. Read:
//! `Connections.csv` (followed accounts: a connection goes both ways), `messages.csv`
//! (conversations, a row a message), `Shares.csv` (posts), `Reactions.csv` (likes) and
//! `Comments.csv` (posts in reply to the post they name). Columns are found by their
//! header's names, in any order and case; a row that cannot be read fails alone.

use super::layouts::LinkedInFile;
use super::meta::{Ids, prune, skip};
use super::walk::{Walk, fail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ferry_core::Item;
use ferry_core::content::sha256_hex;
use ferry_verticals::conversations::{CONVERSATIONS, Conversation, Extra, Found, Kind as ChatKind, Message, Part, Person};
use ferry_verticals::found::hash_id;
use ferry_verticals::social::{Kind, SOCIAL, Social};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Largest CSV file read (each is read whole; `messages.csv` is held to group its rows).
const MAX_CSV: u64 = 128 << 20;

/// Rows before the header that may be a preamble (`Notes:` and its text).
const MAX_PREAMBLE: usize = 20;

/// A row: its line and cells, or its line and why it cannot be read.
type Row = Result<(u64, Vec<String>), (u64, String)>;

/// A CSV file's rows as column name -> cell (names as the header has them).
struct Table {
    header: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    /// Reads `bytes`: the header is the first row with a cell named `key` (case ignored),
    /// after at most [`MAX_PREAMBLE`] rows of preamble.
    fn read(bytes: &[u8], key: &str) -> Result<Table, String> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let mut header = None;
        let mut rows = Vec::new();
        for (i, r) in rdr.records().enumerate() {
            let line = match &r {
                Ok(r) => r.position().map(|p| p.line()),
                Err(e) => e.position().map(|p| p.line()),
            }
            .unwrap_or(i as u64 + 1);
            match (&header, r) {
                (None, Ok(r)) => {
                    if r.iter().any(|c| c.trim().eq_ignore_ascii_case(key)) {
                        header = Some(r.iter().map(|c| c.trim().to_owned()).collect::<Vec<_>>());
                    } else if i >= MAX_PREAMBLE {
                        break;
                    }
                }
                (None, Err(_)) if i < MAX_PREAMBLE => {}
                (None, Err(_)) => break,
                (Some(_), Ok(r)) => {
                    let cells: Vec<String> = r.iter().map(str::to_owned).collect();
                    if cells.iter().any(|c| !c.trim().is_empty()) {
                        rows.push(Ok((line, cells)));
                    }
                }
                (Some(_), Err(e)) => rows.push(Err((line, format!("line {line}: {e}")))),
            }
        }
        let header = header.ok_or_else(|| format!("no header row with a `{key}` column within its first {MAX_PREAMBLE} rows"))?;
        Ok(Table { header, rows })
    }

    /// The cell of column `name` (case ignored), trimmed; `None` when absent or empty.
    fn cell<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        let i = self.header.iter().position(|h| h.eq_ignore_ascii_case(name))?;
        row.get(i).map(|c| c.trim()).filter(|c| !c.is_empty())
    }

    /// Every non-empty cell, by its column's name.
    fn all(&self, row: &[String]) -> BTreeMap<String, String> {
        self.header
            .iter()
            .zip(row)
            .filter(|(h, c)| !h.is_empty() && !c.trim().is_empty())
            .map(|(h, c)| (h.clone(), c.trim().to_owned()))
            .collect()
    }
}

/// LinkedIn's times: `2024-01-15 14:30:00 UTC` (messages), `2024-01-15 14:30:00` (shares,
/// reactions, comments), `15 Jan 2024` (connections), and `01/15/24` in older files; UTC.
pub fn date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let bare = s.strip_suffix(" UTC").unwrap_or(s);
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%y, %I:%M %p", "%m/%d/%Y %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, f) {
            return Some(t.and_utc());
        }
    }
    for f in ["%d %b %Y", "%Y-%m-%d", "%m/%d/%y", "%m/%d/%Y", "%b %d, %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(bare, f) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

pub fn read(w: &mut Walk, files: Vec<String>, which: LinkedInFile) {
    let vertical = if which == LinkedInFile::Messages { CONVERSATIONS } else { SOCIAL };
    if !w.wants(vertical) {
        return skip(w, files, vertical);
    }
    let key = match which {
        LinkedInFile::Connections => "First Name",
        LinkedInFile::Messages => "CONVERSATION ID",
        LinkedInFile::Shares => "ShareLink",
        LinkedInFile::Reactions | LinkedInFile::Comments => "Link",
    };
    for file in files {
        let table = match w.fs.read_bounded(&file, MAX_CSV).and_then(|b| Table::read(&b, key)) {
            Ok(t) => t,
            Err(e) => {
                if !w.send(Err(fail(vertical, &file, &file, e))) {
                    return;
                }
                continue;
            }
        };
        let go_on = match which {
            LinkedInFile::Messages => messages(w, &file, &table),
            _ => social(w, &file, &table, which),
        };
        if !go_on {
            return;
        }
    }
}

/// A row's item of the social vertical.
fn social(w: &mut Walk, file: &str, t: &Table, which: LinkedInFile) -> bool {
    let mut ids = Ids::default();
    for row in &t.rows {
        let item = match row {
            Ok((line, row)) => social_row(t, row, which, &mut ids).map_err(|e| fail(SOCIAL, &format!("{file}#{line}"), file, e)),
            Err((line, e)) => Err(fail(SOCIAL, &format!("{file}#{line}"), file, e.clone())),
        };
        if !w.send(item) {
            return false;
        }
    }
    true
}

fn social_row(t: &Table, row: &[String], which: LinkedInFile, ids: &mut Ids) -> Result<Item, String> {
    let cells = t.all(row);
    let when = |col: &str| t.cell(row, col).and_then(date);
    let mut warnings = Vec::new();
    for col in ["Date", "Connected On"] {
        if let Some(d) = t.cell(row, col)
            && date(d).is_none()
        {
            warnings.push(format!("{col} `{d}`: not a date ferry reads"));
        }
    }
    let (id, s) = match which {
        LinkedInFile::Connections => {
            let name = [t.cell(row, "First Name"), t.cell(row, "Last Name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
            let account =
                t.cell(row, "URL").map(str::to_owned).or((!name.is_empty()).then_some(name)).ok_or("a connection without a name or URL")?;
            let options = [
                ("First Name", "first_name"),
                ("Last Name", "last_name"),
                ("Email Address", "email_address"),
                ("Company", "company"),
                ("Position", "position"),
            ]
            .into_iter()
            .filter_map(|(col, key)| Some((key.to_owned(), t.cell(row, col)?.to_owned())))
            .collect();
            let s = Social {
                kind: Kind::Following,
                account: Some(account.clone()),
                published: when("Connected On"),
                options,
                ..Default::default()
            };
            (format!("connection:{account}"), s)
        }
        LinkedInFile::Shares => {
            let link = t.cell(row, "ShareLink").map(str::to_owned);
            let content = t.cell(row, "ShareCommentary").map(str::to_owned);
            let published = when("Date");
            let visibility = t.cell(row, "Visibility").and_then(|v| match v.to_ascii_uppercase().as_str() {
                "PUBLIC" | "ANYONE" => Some("public".to_owned()),
                "CONNECTIONS" | "MEMBER_NETWORK" | "CONNECTIONS_ONLY" => Some("private".to_owned()),
                _ => None,
            });
            let mut attachment = Vec::new();
            if let Some(u) = t.cell(row, "SharedUrl") {
                attachment.push(json!({"type": "Link", "href": u}));
            }
            if let Some(u) = t.cell(row, "MediaUrl") {
                attachment.push(json!({"type": "Document", "url": u}));
            }
            let activity = json!({"type": "Create", "published": published.map(|p| p.to_rfc3339()),
                "object": {"id": link, "type": "Note", "content": content, "url": link, "attachment": attachment},
                "linkedin:row": cells});
            let id = link
                .clone()
                .unwrap_or_else(|| format!("share:{}", hash_id(&[t.cell(row, "Date").unwrap_or(""), content.as_deref().unwrap_or("")])));
            (
                id,
                Social {
                    kind: Kind::Post,
                    content,
                    published,
                    visibility,
                    url: link,
                    activity: Some(prune(activity)),
                    ..Default::default()
                },
            )
        }
        LinkedInFile::Reactions => {
            let link = t.cell(row, "Link").ok_or("a reaction without the post's Link")?.to_owned();
            let options = t.cell(row, "Type").map(|r| ("reaction".to_owned(), r.to_owned())).into_iter().collect();
            let s = Social { kind: Kind::Like, object: Some(link.clone()), published: when("Date"), options, ..Default::default() };
            (format!("like:{link}"), s)
        }
        _ => {
            let link = t.cell(row, "Link").map(str::to_owned);
            let content = t.cell(row, "Message").map(str::to_owned);
            let published = when("Date");
            let activity = json!({"type": "Create", "published": published.map(|p| p.to_rfc3339()),
                "object": {"type": "Note", "content": content, "inReplyTo": link}, "linkedin:row": cells});
            let id = format!(
                "comment:{}",
                hash_id(&[t.cell(row, "Date").unwrap_or(""), link.as_deref().unwrap_or(""), content.as_deref().unwrap_or("")])
            );
            (id, Social { kind: Kind::Post, content, published, in_reply_to: link, activity: Some(prune(activity)), ..Default::default() })
        }
    };
    let id = ids.unique(id);
    let version = sha256_hex(serde_json::to_string(&cells).unwrap_or_default().as_bytes());
    let mut item = s.item(&id, "", &version)?;
    item.source_warnings = warnings;
    Ok(item)
}

/// `messages.csv`: its rows by `CONVERSATION ID`, each conversation its messages oldest
/// first; its people from `FROM`/`SENDER PROFILE URL` and `TO`/`RECIPIENT PROFILE URLS`.
fn messages(w: &mut Walk, file: &str, t: &Table) -> bool {
    let mut threads: BTreeMap<String, Vec<&[String]>> = BTreeMap::new();
    for row in &t.rows {
        match row {
            Ok((line, row)) => match t.cell(row, "CONVERSATION ID") {
                Some(id) => threads.entry(id.to_owned()).or_default().push(row),
                None => {
                    if !w.send(Err(fail(CONVERSATIONS, &format!("{file}#{line}"), file, "a message without a CONVERSATION ID"))) {
                        return false;
                    }
                }
            },
            Err((line, e)) => {
                if !w.send(Err(fail(CONVERSATIONS, &format!("{file}#{line}"), file, e.clone()))) {
                    return false;
                }
            }
        }
    }
    for (id, rows) in threads {
        if !w.send(Ok(conversation(t, id, rows))) {
            return false;
        }
    }
    true
}

fn people(names: Option<&str>, urls: Option<&str>) -> Vec<Person> {
    let split = |s: Option<&str>| -> Vec<String> {
        s.map(|s| s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()).unwrap_or_default()
    };
    let (names, urls) = (split(names), split(urls));
    if names.len() == urls.len() {
        names.into_iter().zip(urls).map(|(n, u)| Person { name: Some(n), id: Some(u), role: None }).collect()
    } else {
        // a name with a comma in it: the names cannot be paired with the links
        let name = names.join(", ");
        vec![Person { name: (!name.is_empty()).then_some(name), id: None, role: None }]
    }
}

fn conversation(t: &Table, id: String, rows: Vec<&[String]>) -> Item {
    let mut participants: Vec<Person> = Vec::new();
    let mut messages = Vec::new();
    let mut warnings = Vec::new();
    let mut ids = Ids::default();
    let mut title = None;
    for row in rows {
        title = title.or_else(|| t.cell(row, "CONVERSATION TITLE").map(str::to_owned));
        let from = people(t.cell(row, "FROM"), t.cell(row, "SENDER PROFILE URL")).into_iter().next().unwrap_or_default();
        for p in std::iter::once(from.clone()).chain(people(t.cell(row, "TO"), t.cell(row, "RECIPIENT PROFILE URLS"))) {
            if p.name.is_some() && !participants.iter().any(|q| q.name == p.name && (q.id == p.id || p.id.is_none())) {
                participants.push(p);
            }
        }
        let raw_date = t.cell(row, "DATE").unwrap_or("");
        let created = date(raw_date);
        if created.is_none() && !raw_date.is_empty() {
            warnings.push(format!("DATE `{raw_date}`: not a date ferry reads"));
        }
        let content = t.cell(row, "CONTENT").map(str::to_owned);
        let mid = ids.unique(hash_id(&[raw_date, from.name.as_deref().unwrap_or(""), content.as_deref().unwrap_or("")])[..16].to_owned());
        let known = ["CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "DATE", "CONTENT"];
        let extra: Extra = t
            .all(row)
            .into_iter()
            .filter(|(k, _)| !known.iter().any(|c| c.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.to_ascii_lowercase().replace(' ', "_"), Value::String(v)))
            .collect();
        let content = content.map(|text| vec![Part::Text { text, extra: Extra::new() }]).unwrap_or_default();
        messages.push(Message { id: mid, author: from, created, content, extra, visible: true, ..Default::default() });
    }
    // newest first in the file: the time decides, ties kept as read
    messages.reverse();
    messages.sort_by_key(|m| m.created);
    let record = Conversation {
        title,
        platform: "linkedin".into(),
        kind: ChatKind::Chat,
        created: messages.first().and_then(|m| m.created),
        updated: messages.last().and_then(|m| m.created),
        participants,
        model: None,
        messages,
        extra: Extra::new(),
    };
    Found { id, container: String::new(), record, files: vec![], warnings }.into_item()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_preamble_is_read_past() {
        let text = "Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are missing, see https://www.linkedin.com/help\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\nAnn,Lee,https://www.linkedin.com/in/ann,,\"Acme, Inc.\",Engineer,15 Jan 2024\n";
        let t = Table::read(text.as_bytes(), "First Name").unwrap();
        assert_eq!(t.rows.len(), 1);
        let row = t.rows[0].as_ref().unwrap().1.clone();
        assert_eq!(t.cell(&row, "company"), Some("Acme, Inc."));
        assert_eq!(t.cell(&row, "Email Address"), None);
        // a file with a BOM and no preamble
        let t = Table::read(b"\xef\xbb\xbfDate,Type,Link\n2024-01-15 14:30:00,LIKE,https://x.example/1\n", "Link").unwrap();
        assert_eq!(t.rows.len(), 1);
        // a file without the header: said
        let e = Table::read(b"a,b\n1,2\n", "Link").err().unwrap();
        assert!(e.contains("no header row with a `Link` column"), "{e}");
        let long = "x\n".repeat(50) + "Date,Link\n";
        assert!(Table::read(long.as_bytes(), "Link").is_err(), "a preamble has an end");
    }

    #[test]
    fn a_bad_row_fails_alone() {
        let bytes = b"Date,Type,Link\n2024-01-15 14:30:00,LIKE,https://x.example/1\n2024-01-16 10:00:00,\xff\xfe,https://x.example/2\n2024-01-17 10:00:00,LIKE,https://x.example/3\n";
        let t = Table::read(bytes, "Link").unwrap();
        assert_eq!(t.rows.iter().filter(|r| r.is_ok()).count(), 2);
        let (line, e) = t.rows[1].as_ref().unwrap_err();
        assert!(*line == 3 && e.contains("UTF-8"), "{line}: {e}");
    }

    #[test]
    fn linkedins_dates_are_read() {
        assert_eq!(date("2024-01-15 14:30:00 UTC").unwrap().to_rfc3339(), "2024-01-15T14:30:00+00:00");
        assert_eq!(date("2024-01-15 14:30:00"), date("2024-01-15 14:30:00 UTC"));
        assert_eq!(date("15 Jan 2024").unwrap().to_rfc3339(), "2024-01-15T00:00:00+00:00");
        assert_eq!(date("01/15/24"), date("15 Jan 2024"));
        assert_eq!(date("yesterday"), None);
        assert_eq!(date(""), None);
    }

    #[test]
    fn recipients_pair_with_their_links_when_they_can() {
        let p = people(Some("Ann Lee, Bob Roe"), Some("https://www.linkedin.com/in/ann,https://www.linkedin.com/in/bob"));
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].id.as_deref(), Some("https://www.linkedin.com/in/bob"));
        let p = people(Some("Lee, Ann"), Some("https://www.linkedin.com/in/ann"));
        assert_eq!((p.len(), p[0].name.as_deref()), (1, Some("Lee, Ann")));
    }
}
