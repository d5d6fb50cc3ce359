//! Items from the standard files a folder or an archive holds (a `.vcf` of many cards, an
//! `.ics`, an mbox), read from any reader: one builder each, shared by the `dir` and
//! `archive` connectors so that both give the same item for the same card or message.

use bytes::Bytes;
use ferry_codecs::CodecError;
use ferry_codecs::ical::CalendarObject;
use ferry_codecs::mail_meta::read_meta;
use ferry_codecs::mbox::MboxMessage;
use ferry_codecs::vcard::ParsedCard;
use ferry_core::content::sha256_hex;
use ferry_core::{Content, Item, ItemError, Original, Record, Standard, Vertical};
use std::collections::HashMap;

/// A card's item, in `container`: its id is the container and its UID (or a hash of the
/// card when it has none).
pub fn card_item(c: ParsedCard, container: &str) -> Item {
    let sha = sha256_hex(&c.original);
    let id = format!("{container}/{}", c.contact.uid.clone().unwrap_or_else(|| format!("sha-{}", &sha[..24])));
    Item {
        id,
        container: container.to_owned(),
        version: sha,
        record: Record::Contact(c.contact),
        original: Some(Original { media_type: "text/vcard".into(), bytes: Bytes::from(c.original) }),
        content: None,
        standard: Some(Standard { text: c.v4.text, warnings: c.v4.warnings }),
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    }
}

/// A calendar object's item (an event with its overrides, or a task), in `container`.
pub fn calendar_item(o: CalendarObject, container: String) -> Item {
    Item {
        id: format!("{container}/{}", o.uid),
        container,
        version: sha256_hex(&o.original),
        record: o.record,
        original: Some(Original { media_type: "text/calendar".into(), bytes: Bytes::from(o.original) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    }
}

/// The messages of one mbox file: ids are the file and the message's hash (a second
/// copy of the same message gets `~2`).
pub struct MboxItems {
    file: String,
    seen: HashMap<String, u32>,
}

impl MboxItems {
    pub fn new(file: &str) -> Self {
        MboxItems { file: file.to_owned(), seen: HashMap::new() }
    }

    /// The message's item, in `container`.
    pub fn item(&mut self, m: MboxMessage, container: &str) -> Item {
        let mut record = read_meta(&m.bytes);
        let content = Content::from_bytes("message/rfc822", Bytes::from(m.bytes));
        let sha = content.sha256.clone().expect("hashed from bytes");
        let n = self.seen.entry(sha[..16].to_owned()).or_default();
        *n += 1;
        let id = if *n == 1 { format!("{}#{}", self.file, &sha[..16]) } else { format!("{}#{}~{n}", self.file, &sha[..16]) };
        record.received = m.received;
        record.envelope_from = m.envelope_from;
        Item {
            id,
            container: container.to_owned(),
            version: sha,
            record: Record::Mail(record),
            original: None,
            content: Some(content),
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        }
    }
}

/// A codec's failure as a failed item of `vertical`, placed at its line of `file`.
pub fn codec_err(vertical: Vertical, file: &str, e: CodecError) -> ItemError {
    let (id, location) = match &e {
        CodecError::Syntax { line, .. }
        | CodecError::LineTooLong { line, .. }
        | CodecError::RecordTooLarge { line, .. }
        | CodecError::InvalidUtf8 { line } => (format!("{file}:{line}"), format!("{file} line {line}")),
        _ => (format!("{file}:?"), file.to_owned()),
    };
    let reason = match &e {
        CodecError::Syntax { reason, .. } => reason.clone(),
        CodecError::LineTooLong { limit, .. } => format!("line longer than the {limit} byte limit; the record is skipped"),
        CodecError::RecordTooLarge { limit, .. } => format!("record larger than the {limit} byte limit; it is skipped"),
        CodecError::InvalidUtf8 { .. } => "not valid UTF-8, and no CHARSET says what it is".into(),
        CodecError::Io(e) => format!("cannot read: {e}"),
    };
    ItemError { skipped: false, vertical, id, location, reason }
}

/// The file name of a later vertical's item in a folder (`dir:`, a WebDAV folder): its
/// id's last part, readable, with a hash of its id (the name is ferry's own, the same on
/// every run) and the standard form's extension: `Shopping-3f2a9c0b1d4e.md`.
pub fn item_file_name(item: &Item, extension: &str) -> String {
    let last = item.id.rsplit('/').next().unwrap_or(&item.id);
    let stem = last.strip_suffix(&format!(".{extension}")).unwrap_or(last);
    let readable: String = stem.chars().filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ')).take(80).collect();
    let tag = &sha256_hex(item.id.as_bytes())[..12];
    match readable.trim() {
        "" => format!("{tag}.{extension}"),
        r => format!("{r}-{tag}.{extension}"),
    }
}
