//! Header fields of an RFC 5322 message, for the mail record.

use chrono::{DateTime, Utc};
use ferry_core::model::MailMessage;
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

/// Reads the record fields from a message. Never fails: a field that cannot be read is
/// left empty (the message itself is kept byte for byte).
pub fn read_meta(message: &[u8]) -> MailMessage {
    let mut m = MailMessage::default();
    let Some(parsed) = MessageParser::default().parse(message) else { return m };
    m.message_id = parsed.message_id().map(|s| format!("<{s}>"));
    m.subject = parsed.subject().map(str::to_owned);
    m.from = parsed.from().and_then(first_address);
    m.to = parsed.to().map(all_addresses).unwrap_or_default();
    m.cc = parsed.cc().map(all_addresses).unwrap_or_default();
    m.date = parsed.date().and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));
    m.in_reply_to = match parsed.in_reply_to() {
        HeaderValue::Text(t) => Some(format!("<{t}>")),
        HeaderValue::TextList(l) => l.first().map(|t| format!("<{t}>")),
        _ => None,
    };
    m.references = match parsed.references() {
        HeaderValue::Text(t) => vec![format!("<{t}>")],
        HeaderValue::TextList(l) => l.iter().map(|t| format!("<{t}>")).collect(),
        _ => Vec::new(),
    };
    m.attachments = parsed.attachments().map(|a| a.attachment_name().unwrap_or("(unnamed)").to_owned()).collect();
    // mutt and other mbox writers keep flags in Status / X-Status
    let status = parsed.header_raw("Status").unwrap_or_default().to_owned() + parsed.header_raw("X-Status").unwrap_or_default();
    for (c, f) in [('R', "\\Seen"), ('A', "\\Answered"), ('F', "\\Flagged"), ('D', "\\Deleted"), ('T', "\\Draft")] {
        if status.contains(c) && !m.flags.iter().any(|x| x == f) {
            m.flags.push(f.to_owned());
        }
    }
    m
}

fn format_addr(a: &mail_parser::Addr) -> String {
    match (a.name(), a.address()) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (None, Some(e)) => e.to_owned(),
        (Some(n), None) => n.to_owned(),
        (None, None) => String::new(),
    }
}

fn first_address(a: &Address) -> Option<String> {
    a.first().map(format_addr)
}

fn all_addresses(a: &Address) -> Vec<String> {
    a.iter().map(format_addr).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers_and_encoded_words() {
        let msg = b"Message-ID: <a@b>\r\nFrom: =?UTF-8?B?Wm/DqyBNw7xsbGVy?= <zoe@example.org>\r\nTo: \
            a@x, B <b@x>\r\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\nDate: Mon, 6 Jan 2025 09:00:00 +0100\r\nIn-Reply-To: \
            <p@b>\r\nReferences: <o@b> <p@b>\r\nStatus: RO\r\n\r\nhi\r\n";
        let m = read_meta(msg);
        assert_eq!(m.message_id.as_deref(), Some("<a@b>"));
        assert_eq!(m.from.as_deref(), Some("Zoë Müller <zoe@example.org>"));
        assert_eq!(m.subject.as_deref(), Some("Grüße"));
        assert_eq!(m.to, ["a@x", "B <b@x>"]);
        assert_eq!(m.date.unwrap().to_rfc3339(), "2025-01-06T08:00:00+00:00");
        assert_eq!(m.references.len(), 2);
        assert_eq!(m.flags, ["\\Seen"]);
    }

    #[test]
    fn garbage_gives_an_empty_record() {
        let m = read_meta(b"\xff\xfe not a message");
        assert!(m.message_id.is_none());
    }
}
