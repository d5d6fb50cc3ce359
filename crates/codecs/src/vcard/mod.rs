//! vCard 2.1, 3.0 and 4.0 reading; vCard 4.0 (or 3.0 on request) writing.

mod card;
mod decode;
mod scan;
mod write;

pub use scan::MAX_LINES;

use crate::text_component::{Piece, Splitter};
use crate::{CodecError, Limits};
use calcard::vcard::{VCard, VCardEntry, VCardParameterName, VCardProperty, VCardValue, VCardVersion};
use ferry_core::model::{Address, Contact, ContactName, TypedValue};
use std::io::BufRead;

/// One card as read: its bytes as they were, the record parsed from them, and its vCard
/// 4.0 form.
#[derive(Debug, Clone)]
pub struct ParsedCard {
    pub line: u64,
    pub original: Vec<u8>,
    pub contact: Contact,
    pub v4: Converted,
}

/// Reads the cards of a `.vcf` stream one by one.
pub struct VcardReader<R> {
    splitter: Splitter<R>,
}

/// Largest card read, whatever the general record limit: a card is text and a photo or
/// two; reading one takes a few times its size in memory.
pub const MAX_CARD_BYTES: usize = 16 << 20;

impl<R: BufRead> VcardReader<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        let limits = Limits { max_record: limits.max_record.min(MAX_CARD_BYTES), ..limits };
        VcardReader { splitter: Splitter::new(input, 0, limits) }
    }
}

impl<R: BufRead> Iterator for VcardReader<R> {
    type Item = Result<ParsedCard, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            return Some(match self.splitter.next_piece()? {
                Piece::Component(c) if c.name == "VCARD" => {
                    parse_card_v4(&c.bytes, c.line).map(|(contact, v4)| ParsedCard { line: c.line, original: c.bytes, contact, v4 })
                }
                Piece::Component(c) => {
                    Err(CodecError::Syntax { line: c.line, reason: format!("BEGIN:{} where BEGIN:VCARD was expected", c.name) })
                }
                Piece::Broken { error, .. } => Err(error),
                Piece::Stray { line } => Err(CodecError::Syntax { line, reason: "text outside BEGIN:VCARD ... END:VCARD".into() }),
                Piece::WrapperLine(_) => continue,
            });
        }
    }
}

/// Text of a card (unfolded where a fold splits a character; CHARSET honoured).
pub use crate::text_component::decode_text;

/// Parses one card into the canonical record: the card is read (any version, any
/// charset, quoted-printable or base64) and its vCard 4.0 form is what fills the record,
/// so the record holds what a converted card holds.
pub fn parse_card(bytes: &[u8], line: u64) -> Result<Contact, CodecError> {
    parse_card_v4(bytes, line).map(|(contact, _)| contact)
}

/// [`parse_card`], also giving the card's vCard 4.0 form, as [`convert`] makes it (with
/// its warnings), which the parse makes on the way.
pub fn parse_card_v4(bytes: &[u8], line: u64) -> Result<(Contact, Converted), CodecError> {
    let mut warnings = Vec::new();
    let card = card::read(bytes, line, &mut warnings)?;
    let v4 = write::write(&card, WriteVersion::V4, &mut warnings);
    let parsed =
        VCard::parse(v4.as_str()).map_err(|e| CodecError::Syntax { line, reason: format!("not a readable vCard ({})", entry_kind(&e)) })?;
    let mut contact = contact_from(&parsed);
    contact.vcard_version = match card.version.as_str() {
        v @ ("2.0" | "2.1" | "3.0") => v.to_owned(),
        _ => "4.0".into(),
    };
    Ok((contact, Converted { text: v4, warnings }))
}

/// The bytes and media type of a card's embedded photo (PHOTO as base64 in vCard 2.1 or
/// 3.0, or a `data:` URI in 4.0); `None` when it has none or only a link.
pub fn photo_bytes(bytes: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut warnings = Vec::new();
    let card = card::read(bytes, 1, &mut warnings).ok()?;
    let v4 = write::write(&card, WriteVersion::V4, &mut warnings);
    let parsed = VCard::parse(v4.as_str()).ok()?;
    parsed.entries.iter().filter(|e| e.name == VCardProperty::Photo).find_map(|e| match e.values.first() {
        Some(VCardValue::Binary(d)) if !d.data.is_empty() => {
            Some((d.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()), d.data.clone()))
        }
        _ => None,
    })
}

pub(crate) fn entry_kind(e: &calcard::Entry) -> String {
    match e {
        calcard::Entry::InvalidLine(l) => format!("invalid line `{}`", l.chars().take(60).collect::<String>()),
        calcard::Entry::UnterminatedComponent(c) => format!("unterminated {c:?}"),
        calcard::Entry::UnexpectedComponentEnd { expected, found } => {
            format!("END:{found:?} where END:{expected:?} was expected")
        }
        calcard::Entry::Eof => "empty".into(),
        _ => "unexpected content".into(),
    }
}

fn value_text(v: &VCardValue) -> String {
    match v {
        VCardValue::Text(s) => s.clone(),
        VCardValue::Component(parts) => parts.join(","),
        VCardValue::Integer(i) => i.to_string(),
        VCardValue::Float(f) => f.to_string(),
        VCardValue::Boolean(b) => b.to_string(),
        VCardValue::PartialDateTime(d) => format_partial_date(d),
        VCardValue::Binary(d) => d.content_type.clone().unwrap_or_default(),
        other => other.as_text().unwrap_or_default().to_owned(),
    }
}

fn format_partial_date(d: &calcard::common::PartialDateTime) -> String {
    let mut s = match (d.year, d.month, d.day) {
        (Some(y), Some(m), Some(day)) => format!("{y:04}-{m:02}-{day:02}"),
        (None, Some(m), Some(day)) => format!("--{m:02}-{day:02}"),
        (Some(y), Some(m), None) => format!("{y:04}-{m:02}"),
        (Some(y), None, None) => format!("{y:04}"),
        _ => String::new(),
    };
    if let (Some(h), Some(mi)) = (d.hour, d.minute) {
        s.push_str(&format!("T{h:02}:{mi:02}:{:02}", d.second.unwrap_or(0)));
    }
    s
}

fn entry_text(e: &VCardEntry) -> String {
    e.values.iter().map(value_text).collect::<Vec<_>>().join(",")
}

fn components(e: &VCardEntry) -> Vec<String> {
    e.values.iter().map(value_text).collect()
}

fn typed(e: &VCardEntry) -> TypedValue {
    let mut types = Vec::new();
    let mut preferred = false;
    for p in &e.params {
        match p.name {
            VCardParameterName::Type => {
                let t = p.value.clone().into_text().to_ascii_lowercase();
                if t == "pref" {
                    preferred = true;
                } else if !t.is_empty() && !types.contains(&t) {
                    types.push(t);
                }
            }
            VCardParameterName::Pref => preferred = true,
            _ => {}
        }
    }
    TypedValue { value: entry_text(e), types, preferred }
}

fn contact_from(card: &VCard) -> Contact {
    let mut c = Contact {
        vcard_version: match card.version() {
            Some(VCardVersion::V2_0) => "2.0",
            Some(VCardVersion::V2_1) => "2.1",
            Some(VCardVersion::V3_0) => "3.0",
            _ => "4.0",
        }
        .into(),
        ..Default::default()
    };
    for e in &card.entries {
        match &e.name {
            VCardProperty::Fn => {
                if c.formatted_name.is_empty() {
                    c.formatted_name = entry_text(e);
                }
            }
            VCardProperty::N => {
                let p = components(e);
                let get = |i: usize| p.get(i).cloned().unwrap_or_default();
                c.name = Some(ContactName { family: get(0), given: get(1), additional: get(2), prefix: get(3), suffix: get(4) });
            }
            VCardProperty::Nickname => c.nicknames.extend(components(e)),
            VCardProperty::Email => c.emails.push(typed(e)),
            VCardProperty::Tel => c.phones.push(typed(e)),
            VCardProperty::Adr => {
                let p = components(e);
                let get = |i: usize| p.get(i).cloned().unwrap_or_default();
                c.addresses.push(Address {
                    types: typed(e).types,
                    po_box: get(0),
                    extended: get(1),
                    street: get(2),
                    locality: get(3),
                    region: get(4),
                    postal_code: get(5),
                    country: get(6),
                });
            }
            // the first organization and title are the contact's (a later one is another job's)
            VCardProperty::Org if c.organization.is_none() => {
                let parts: Vec<String> = components(e).into_iter().filter(|s| !s.is_empty()).collect();
                c.organization = Some(parts.join(", "));
            }
            VCardProperty::Title if c.title.is_none() => c.title = Some(entry_text(e)),
            VCardProperty::Org | VCardProperty::Title => {}
            VCardProperty::Bday => c.birthday = Some(entry_text(e)),
            VCardProperty::Url => c.urls.push(entry_text(e)),
            VCardProperty::Categories => c.categories.extend(components(e)),
            VCardProperty::Note => c.note = Some(entry_text(e)),
            VCardProperty::Uid => {
                let uid = entry_text(e);
                c.uid = Some(uid.strip_prefix("urn:uuid:").map(str::to_owned).unwrap_or(uid));
            }
            VCardProperty::Photo => {
                c.photo = Some(match e.values.first() {
                    Some(VCardValue::Binary(d)) => {
                        format!("{} ({} bytes)", d.content_type.as_deref().unwrap_or("application/octet-stream"), d.data.len())
                    }
                    Some(v) => value_text(v),
                    None => String::new(),
                })
            }
            VCardProperty::Begin | VCardProperty::End | VCardProperty::Version => {}
            VCardProperty::Prodid | VCardProperty::Rev | VCardProperty::Kind => {}
            other => {
                let name = other.as_str().to_ascii_uppercase();
                if !c.other_properties.contains(&name) {
                    c.other_properties.push(name);
                }
            }
        }
    }
    // a set, in name order: servers reorder properties
    c.other_properties.sort();
    if c.formatted_name.is_empty() {
        c.formatted_name = c
            .name
            .as_ref()
            .map(|n| {
                [n.prefix.as_str(), &n.given, &n.additional, &n.family, &n.suffix]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|s| !s.is_empty())
            .or_else(|| c.organization.clone())
            .or_else(|| c.emails.first().map(|e| e.value.clone()))
            .unwrap_or_default();
    }
    c
}

/// Which vCard version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteVersion {
    V3,
    V4,
}

/// A card rewritten in another version, and what it could not keep exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub text: String,
    /// Fidelity warnings, each naming the property.
    pub warnings: Vec<String>,
}

/// Rewrites a card in vCard 4.0 (or 3.0): every property kept, values decoded from
/// quoted-printable, base64 and their CHARSET into UTF-8 text (4.0 binaries as `data:`
/// URIs), vCard 2.1's bare parameters as `TYPE=`. What the target cannot hold exactly
/// (a 2.1 AGENT card in 4.0, bytes not valid in their charset...) is a warning.
pub fn convert(original: &[u8], version: WriteVersion) -> Result<Converted, CodecError> {
    let mut warnings = Vec::new();
    let card = card::read(original, 1, &mut warnings)?;
    let text = write::write(&card, version, &mut warnings);
    Ok(Converted { text, warnings })
}

/// A text property of a card as read, for a writer that has a place for what the record
/// has no field for (a spouse as `RELATED;TYPE=spouse`, a department as the second part of
/// `ORG`).
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The group it is in (`item1` of `item1.X-ABLABEL`), if any.
    pub group: Option<String>,
    /// Upper-case (`X-ABLABEL`, `RELATED`).
    pub name: String,
    /// TYPE values, as written (`domesticPartner`).
    pub types: Vec<String>,
    /// The other parameters (upper-case names), values as written.
    pub params: Vec<(String, Vec<String>)>,
    /// The value, unescaped.
    pub value: String,
    /// The value split at its unescaped `;`, each part unescaped (`N`, `ADR`, `ORG`).
    pub parts: Vec<String>,
}

impl Property {
    /// The first value of parameter `name` (upper-case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.first()).map(String::as_str)
    }

    pub fn has_type(&self, t: &str) -> bool {
        self.types.iter().any(|x| x.eq_ignore_ascii_case(t))
    }
}

/// The text properties of a card (any version), in order; none when it cannot be read.
/// Binary values (a photo's bytes) and nested cards are left out.
pub fn properties(bytes: &[u8]) -> Vec<Property> {
    let mut warnings = Vec::new();
    let Ok(card) = card::read(bytes, 1, &mut warnings) else { return Vec::new() };
    card.props
        .iter()
        .filter_map(|p| {
            let text = p.text()?;
            Some(Property {
                group: p.group.clone(),
                name: p.name.clone(),
                types: p.types.clone(),
                params: p.params.iter().map(|q| (q.name.to_ascii_uppercase(), q.values.clone())).collect(),
                value: decode::unescape(text),
                parts: decode::split_escaped(text, ';').into_iter().map(decode::unescape).collect(),
            })
        })
        .collect()
}

/// [`build_v4`] with `extra` whole property lines (`RELATED;TYPE=spouse;VALUE=text:Ada`)
/// for what the record has no field for: their names go into the record's
/// `other_properties`, and the lines into the card before its end.
///
/// An `ORG` line among them (the organization with its units, `ORG:Contoso;Sales`) takes
/// the place of the one the record's organization would make; a property the record has
/// a field for is not named in `other_properties`.
pub fn build_v4_with(c: &mut Contact, extra: &[String]) -> String {
    const MODELLED: [&str; 2] = ["ORG", "TITLE"];
    // the name without its group (`org2.ORG` is an ORG)
    let name_of = |l: &str| {
        let head = l.split([';', ':']).next().unwrap_or_default();
        head.rsplit('.').next().unwrap_or(head).to_ascii_uppercase()
    };
    c.other_properties = extra.iter().map(|l| name_of(l)).filter(|n| !MODELLED.contains(&n.as_str())).collect();
    c.other_properties.sort();
    c.other_properties.dedup();
    let mut card =
        if extra.iter().any(|l| name_of(l) == "ORG") { build_v4(&Contact { organization: None, ..c.clone() }) } else { build_v4(c) };
    if !extra.is_empty() {
        let end = card.rfind("END:VCARD").unwrap_or(card.len());
        card.insert_str(end, &extra.iter().map(|l| format!("{l}\r\n")).collect::<String>());
    }
    card
}

/// A minimal vCard 4.0 for a record that came without one (from CSV, say).
pub fn build_v4(c: &Contact) -> String {
    fn esc(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        decode::escape_into(&mut out, s, true, true);
        out
    }
    let mut lines = vec!["BEGIN:VCARD".to_owned(), "VERSION:4.0".to_owned()];
    if let Some(uid) = &c.uid {
        lines.push(format!("UID:{}", esc(uid)));
    }
    lines.push(format!("FN:{}", esc(&c.formatted_name)));
    if let Some(n) = &c.name {
        lines.push(format!("N:{};{};{};{};{}", esc(&n.family), esc(&n.given), esc(&n.additional), esc(&n.prefix), esc(&n.suffix)));
    }
    for (prop, list) in [("EMAIL", &c.emails), ("TEL", &c.phones)] {
        for v in list {
            let mut params = String::new();
            if !v.types.is_empty() {
                params.push_str(&format!(";TYPE={}", v.types.join(",")));
            }
            if v.preferred {
                params.push_str(";PREF=1");
            }
            lines.push(format!("{prop}{params}:{}", esc(&v.value)));
        }
    }
    for a in &c.addresses {
        let params = if a.types.is_empty() { String::new() } else { format!(";TYPE={}", a.types.join(",")) };
        lines.push(format!(
            "ADR{params}:{};{};{};{};{};{};{}",
            esc(&a.po_box),
            esc(&a.extended),
            esc(&a.street),
            esc(&a.locality),
            esc(&a.region),
            esc(&a.postal_code),
            esc(&a.country)
        ));
    }
    if let Some(o) = &c.organization {
        lines.push(format!("ORG:{}", esc(o)));
    }
    if let Some(t) = &c.title {
        lines.push(format!("TITLE:{}", esc(t)));
    }
    if let Some(b) = &c.birthday {
        lines.push(format!("BDAY:{b}"));
    }
    for u in &c.urls {
        lines.push(format!("URL:{}", esc(u)));
    }
    if !c.categories.is_empty() {
        lines.push(format!("CATEGORIES:{}", c.categories.iter().map(|s| esc(s)).collect::<Vec<_>>().join(",")));
    }
    if let Some(n) = &c.note {
        lines.push(format!("NOTE:{}", esc(n)));
    }
    lines.push("END:VCARD".into());
    let raw = lines.join("\r\n") + "\r\n";
    // round it through the parser so that folding is right
    if let Ok(card) = VCard::parse(&raw) {
        let mut out = String::new();
        if card.write_to(&mut out, VCardVersion::V4_0).is_ok() {
            return out;
        }
    }
    raw
}

#[cfg(test)]
mod photo_tests {
    use super::*;

    #[test]
    fn an_embedded_photo_is_found_in_every_version_and_a_link_is_not() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        let b64 = decode::base64_encode(png);
        for card in [
            format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nPHOTO;ENCODING=b;TYPE=PNG:{b64}\r\nEND:VCARD\r\n"),
            format!("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:A\r\nPHOTO;PNG;ENCODING=BASE64:{b64}\r\n\r\nEND:VCARD\r\n"),
            format!("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nPHOTO:data:image/png;base64,{b64}\r\nEND:VCARD\r\n"),
        ] {
            let (media_type, bytes) = photo_bytes(card.as_bytes()).unwrap_or_else(|| panic!("{card}"));
            assert_eq!((media_type.as_str(), bytes.as_slice()), ("image/png", &png[..]), "{card}");
        }
        assert!(photo_bytes(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nPHOTO:https://example.org/a.jpg\r\nEND:VCARD\r\n").is_none());
        assert!(photo_bytes(b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n").is_none());
        assert!(photo_bytes(b"not a card").is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vcard_21_quoted_printable() {
        let input = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Zo=C3=AB;;;\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Zo=C3=AB \
            M=\r\n=C3=BCller\r\nTEL;CELL;HOME:+49 123\r\nEND:VCARD\r\n";
        let cards: Vec<_> = VcardReader::new(&input[..], Limits::default()).collect();
        let c = &cards[0].as_ref().unwrap().contact;
        assert_eq!(c.formatted_name, "Zoë Müller");
        assert_eq!(c.name.as_ref().unwrap().family, "Müller");
        assert_eq!(c.phones[0].types, ["cell", "home"]);
        assert_eq!(c.vcard_version, "2.1");
        let v4 = convert(&cards[0].as_ref().unwrap().original, WriteVersion::V4).unwrap().text;
        assert!(v4.contains("VERSION:4.0") && v4.contains("FN:Zoë Müller") && !v4.contains("CHARSET"), "{v4}");
    }

    #[test]
    fn latin1_with_charset_is_decoded_and_bad_utf8_is_an_error() {
        let mut input = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN;CHARSET=ISO-8859-1:Jos".to_vec();
        input.extend_from_slice(&[0xE9]);
        input.extend_from_slice(b"\r\nEND:VCARD\r\n");
        let c = parse_card(&input, 1).unwrap();
        assert_eq!(c.formatted_name, "José");
        let bad = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jos\xE9\r\nEND:VCARD\r\n";
        assert!(matches!(parse_card(bad, 10), Err(CodecError::InvalidUtf8 { line: 12 })));
    }

    #[test]
    fn built_card_parses_back() {
        let c = Contact {
            uid: Some("u1".into()),
            formatted_name: "A; B".into(),
            emails: vec![TypedValue { value: "a@b.c".into(), types: vec!["work".into()], preferred: true }],
            birthday: Some("1990-04-05".into()),
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        let text = build_v4(&c);
        let back = parse_card(text.as_bytes(), 1).unwrap();
        assert_eq!(back.formatted_name, "A; B");
        assert_eq!(back.emails, c.emails);
        assert_eq!(back.uid.as_deref(), Some("u1"));
    }

    #[test]
    fn a_built_cards_line_breaks_are_escaped_whatever_their_kind() {
        let c = Contact {
            formatted_name: "a\r\nb\rc\nd, e; f \\".into(),
            note: Some("x\ry".into()),
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        let text = build_v4(&c);
        assert!(text.split_terminator("\r\n").all(|l| !l.contains(['\r', '\n'])), "{text:?}");
        let back = parse_card(text.as_bytes(), 1).unwrap();
        assert_eq!(back.formatted_name, "a\nb\nc\nd, e; f \\");
        assert_eq!(back.note.as_deref(), Some("x\ny"));
    }

    #[test]
    fn a_cards_properties_are_read_for_a_writer_in_any_version() {
        let card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ada\r\nORG:Engines;Research\r\nTITLE:Analyst\r\nitem2.ORG:Royal Society\r\n\
            item2.TITLE:Fellow\r\nRELATED;TYPE=domesticPartner;VALUE=text:Wil\\, liam\r\nX-NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Z=C3=B6e\r\n\
            END:VCARD\r\n";
        let props = properties(card);
        let org = props.iter().find(|p| p.name == "ORG").unwrap();
        assert_eq!((org.group.as_deref(), org.parts.as_slice()), (None, &["Engines".to_owned(), "Research".to_owned()][..]));
        let related = props.iter().find(|p| p.name == "RELATED").unwrap();
        assert_eq!((related.value.as_str(), related.types.as_slice()), ("Wil, liam", &["domesticPartner".to_owned()][..]));
        assert!(related.has_type("DOMESTICPARTNER") && related.param("VALUE") == Some("text"));
        assert_eq!(props.iter().find(|p| p.name == "X-NOTE").map(|p| p.value.as_str()), Some("Zöe"), "decoded");
        assert_eq!(props.iter().filter(|p| p.group.as_deref() == Some("item2")).count(), 2);
        // the first organization and title are the contact's
        let c = parse_card(card, 1).unwrap();
        assert_eq!((c.organization.as_deref(), c.title.as_deref()), (Some("Engines, Research"), Some("Analyst")));
        assert!(properties(b"not a card").is_empty());
    }

    #[test]
    fn an_org_line_with_its_unit_takes_the_records_place() {
        let mut c = Contact {
            formatted_name: "Ada".into(),
            organization: Some("Engines".into()),
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        let card = build_v4_with(&mut c, &["ORG:Engines;Research".into(), "org2.ORG:Royal Society".into(), "X-MANAGER:Charles".into()]);
        assert_eq!(card.matches("ORG:").count(), 2, "{card}");
        assert!(card.contains("\r\nORG:Engines;Research\r\n") && !card.contains("\r\nORG:Engines\r\n"), "{card}");
        assert_eq!(c.other_properties, ["X-MANAGER"], "ORG is the record's");
    }
}
