//! vCard conversion checked by an independent reading: every card of the corpus is
//! decoded by the small reader below (its own unfolding, quoted-printable, base64,
//! charsets and escapes; not the code under test), converted to 4.0 and to 3.0, the
//! output decoded again, and every value compared. A value that differs must be named
//! by a fidelity warning; the output must hold nothing the original did not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ferry_codecs::vcard::{MAX_LINES, VcardReader, WriteVersion, convert};
use ferry_codecs::{CodecError, Limits};
use std::path::Path;

// --- the independent reader ---------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum V {
    /// Components (one for a plain text value), unescaped, line breaks as `\n`.
    Text(Vec<String>),
    Bytes(Vec<u8>, Option<String>),
    Card(Vec<P>),
}

#[derive(Debug, Clone, PartialEq)]
struct P {
    name: String,
    /// (NAME, value), upper-case names; bare 2.1 values under TYPE (or ENCODING).
    params: Vec<(String, String)>,
    value: V,
}

impl P {
    fn types(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .params
            .iter()
            .filter(|(n, _)| n == "TYPE")
            .map(|(_, v)| v.to_ascii_lowercase())
            .filter(|v| v != "pref" && !v.is_empty())
            .collect();
        t.sort();
        t
    }
    fn pref(&self) -> bool {
        self.params.iter().any(|(n, v)| n == "PREF" || n == "TYPE" && v.eq_ignore_ascii_case("pref"))
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        match &self.value {
            V::Text(c) => c.join(";"),
            other => format!("{other:?}"),
        }
    }
}

struct Read {
    version: String,
    props: Vec<P>,
}

fn read_all(bytes: &[u8]) -> Vec<Read> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut logical: Vec<Vec<u8>> = Vec::new();
    for raw in bytes.split(|b| *b == b'\n') {
        let l = raw.strip_suffix(b"\r").unwrap_or(raw);
        if l.trim_ascii().is_empty() {
            continue;
        }
        if let Some(prev) = logical.last_mut() {
            let header_end = prev.iter().position(|b| *b == b':').unwrap_or(prev.len());
            let qp = String::from_utf8_lossy(&prev[..header_end]).to_ascii_uppercase().contains("QUOTED-PRINTABLE");
            if qp && prev.last() == Some(&b'=') {
                prev.pop();
                prev.extend_from_slice(l);
                continue;
            }
            if l.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                prev.extend_from_slice(&l[1..]);
                continue;
            }
            let base64 = String::from_utf8_lossy(&prev[..header_end]).to_ascii_uppercase().contains("BASE64");
            if base64 && !l.contains(&b':') {
                // 2.1 base64 lines that are not indented
                prev.extend_from_slice(l);
                continue;
            }
        }
        logical.push(l.to_vec());
    }
    let mut cards = Vec::new();
    let mut i = 0;
    while i < logical.len() {
        let (card, next) = read_card(&logical, i);
        cards.push(card);
        i = next;
    }
    cards
}

/// Reads the card starting at `lines[start]` (BEGIN:VCARD); returns it and the index after
/// its END.
fn read_card(lines: &[Vec<u8>], start: usize) -> (Read, usize) {
    assert!(lines[start].eq_ignore_ascii_case(b"BEGIN:VCARD"), "{}", String::from_utf8_lossy(&lines[start]));
    let version = lines[start..]
        .iter()
        .find_map(|l| l.to_ascii_uppercase().strip_prefix(b"VERSION:").map(|v| String::from_utf8_lossy(v).trim().to_owned()))
        .unwrap_or_default();
    let v21 = version.starts_with('2');
    let mut props: Vec<P> = Vec::new();
    let mut i = start + 1;
    loop {
        let l = &lines[i];
        if l.eq_ignore_ascii_case(b"END:VCARD") {
            return (Read { version, props }, i + 1);
        }
        if l.eq_ignore_ascii_case(b"BEGIN:VCARD") {
            let (nested, next) = read_card(lines, i);
            match props.last_mut() {
                Some(p) if p.name == "AGENT" => p.value = V::Card(nested.props),
                _ => panic!("a nested card without AGENT"),
            }
            i = next;
            continue;
        }
        i += 1;
        let colon = l.iter().position(|b| *b == b':').expect("a property");
        let header = String::from_utf8_lossy(&l[..colon]).into_owned();
        let raw = &l[colon + 1..];
        let mut parts = split_q(&header, ';').into_iter();
        let name = parts.next().unwrap().rsplit('.').next().unwrap().to_ascii_uppercase();
        let mut params = Vec::new();
        for p in parts {
            match p.split_once('=') {
                Some((n, vs)) => {
                    for v in split_q(vs, ',') {
                        params.push((n.to_ascii_uppercase(), v.trim_matches('"').to_owned()));
                    }
                }
                None if ["QUOTED-PRINTABLE", "BASE64"].contains(&p.to_ascii_uppercase().as_str()) => {
                    params.push(("ENCODING".into(), p.to_owned()))
                }
                None => params.push(("TYPE".into(), p.to_owned())),
            }
        }
        if name == "VERSION" {
            continue;
        }
        let encoding = params.iter().find(|(n, _)| n == "ENCODING").map(|(_, v)| v.to_ascii_uppercase());
        let charset = params.iter().find(|(n, _)| n == "CHARSET").map(|(_, v)| v.clone());
        let media = ["PHOTO", "LOGO", "SOUND", "KEY"].contains(&name.as_str());
        let value = match encoding.as_deref() {
            Some("B" | "BASE64") => {
                let clean: Vec<u8> = raw.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
                let data = STANDARD.decode(clean).expect("base64");
                if media || name.starts_with("X-") {
                    V::Bytes(data, None)
                } else {
                    text_value(&name, &charset_decode(&data, charset.as_deref()), v21)
                }
            }
            Some("QUOTED-PRINTABLE") => text_value(&name, &charset_decode(&qp(raw), charset.as_deref()), v21),
            _ => {
                let s = charset_decode(raw, charset.as_deref());
                match s.strip_prefix("data:").and_then(|r| r.split_once(',')) {
                    Some((head, data)) if media && !head.ends_with('\\') => {
                        let mt = head.strip_suffix(";base64").expect("base64 data URI");
                        V::Bytes(STANDARD.decode(data).expect("base64 in data URI"), Some(mt.to_owned()))
                    }
                    _ => text_value(&name, &s, v21),
                }
            }
        };
        params.retain(|(n, _)| n != "ENCODING" && n != "CHARSET");
        props.push(P { name, params, value });
    }
}

/// Splits on `sep` outside double quotes.
fn split_q(s: &str, sep: char) -> Vec<&str> {
    let mut quoted = false;
    s.split(|c| {
        quoted ^= c == '"';
        c == sep && !quoted
    })
    .collect()
}

fn qp(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'='
            && i + 3 <= raw.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

fn charset_decode(bytes: &[u8], charset: Option<&str>) -> String {
    let enc = charset.map(|c| encoding_rs::Encoding::for_label(c.as_bytes()).expect("a known charset")).unwrap_or(encoding_rs::UTF_8);
    let (s, _, bad) = enc.decode(bytes);
    assert!(!bad, "sample bytes not valid {}", enc.name());
    s.into_owned()
}

fn text_value(name: &str, s: &str, v21: bool) -> V {
    let structured = ["N", "ADR", "ORG"].contains(&name);
    let mut parts = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = parts.last_mut().unwrap();
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => cur.push('\n'),
                Some(o @ (';' | ',' | '\\')) => cur.push(o),
                Some(o) if v21 => {
                    cur.push('\\');
                    cur.push(o)
                }
                Some(o) => cur.push(o),
                None => cur.push('\\'),
            },
            ';' if structured => parts.push(String::new()),
            '\r' if chars.peek() == Some(&'\n') => {}
            c => cur.push(c),
        }
    }
    // 4.0 pads N and ADR; empty trailing components carry nothing
    while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    V::Text(parts)
}

// --- comparing ------------------------------------------------------------------------------

fn basic(s: &str) -> String {
    s.replace(['-', ':'], "")
}

/// Is `q` (from the output) the same property as `o` (from the original)?
fn same(o: &P, q: &P, version: WriteVersion) -> bool {
    let v4 = version == WriteVersion::V4;
    let names = match (o.name.as_str(), v4) {
        ("AGENT", true) => q.name == "RELATED" && q.types() == ["agent"],
        ("LABEL", true) => q.name == "ADR",
        // an inline binary's TYPE is its media type (checked on its own)
        (n, _) if matches!(o.value, V::Bytes(..)) => q.name == n,
        (n, _) => q.name == n && q.types() == o.types() && q.pref() == o.pref(),
    };
    if !names {
        return false;
    }
    if o.name != "AGENT" && o.name != "LABEL" {
        // LANGUAGE, X- parameters... travel
        for (n, v) in &o.params {
            if !["TYPE", "PREF", "VALUE"].contains(&n.as_str()) && q.param(n) != Some(v.as_str()) {
                return false;
            }
        }
    }
    match (&o.value, &q.value) {
        (V::Card(nested), V::Text(t)) => {
            // the nested card, written as text, reads back the same
            let text = t.join(";");
            let back = read_all(text.as_bytes());
            back.len() == 1 && cards_match(nested, &back[0].props, version, &[]).is_ok()
        }
        (V::Text(a), _) if o.name == "LABEL" && v4 => q.param("LABEL").map(|l| l.replace("^n", "\n")) == Some(a.join(";")),
        (V::Bytes(a, _), V::Bytes(b, mt)) => a == b && (version == WriteVersion::V3 || mt.as_ref().is_some_and(|m| m.contains('/'))),
        (V::Text(a), V::Text(b)) if ["BDAY", "REV", "ANNIVERSARY"].contains(&o.name.as_str()) => basic(&a.join(";")) == basic(&b.join(";")),
        (V::Text(a), V::Text(b)) if o.name == "GEO" => {
            let nums = |s: &str| s.trim_start_matches("geo:").split([';', ',']).map(str::to_owned).collect::<Vec<_>>();
            nums(&a.join(";")) == nums(&b.join(";"))
        }
        (a, b) => a == b,
    }
}

/// Every original property is in the output (or named by a warning) and every output
/// property comes from the original.
fn cards_match(original: &[P], output: &[P], version: WriteVersion, warnings: &[String]) -> Result<(), String> {
    let mut used = vec![false; output.len()];
    for o in original {
        // in 4.0 a LABEL is a parameter of an ADR that is there for its own sake too
        let shared = o.name == "LABEL" && version == WriteVersion::V4;
        let found = output.iter().enumerate().position(|(i, q)| (shared || !used[i]) && same(o, q, version));
        match found {
            Some(i) => used[i] = true,
            None if warnings.iter().any(|w| w.starts_with(&format!("{}:", o.name))) => {}
            None => return Err(format!("{} ({:?}) not in the output", o.name, o.value)),
        }
    }
    for (q, used) in output.iter().zip(used) {
        let made_fn = q.name == "FN" && !original.iter().any(|o| o.name == "FN");
        let labels_adr = q.name == "ADR" && q.text().trim_matches(';').is_empty() && q.param("LABEL").is_some();
        if !used && !made_fn && !labels_adr {
            return Err(format!("{} ({:?}) in the output comes from nothing in the original", q.name, q.value));
        }
    }
    Ok(())
}

fn corpus_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/vcard");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn cards_of(name: &str) -> Vec<ferry_codecs::vcard::ParsedCard> {
    let data = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/vcard").join(name)).unwrap();
    VcardReader::new(&data[..], Limits::default()).map(|c| c.unwrap_or_else(|e| panic!("{name}: {e}"))).collect()
}

fn v4_props(original: &[u8]) -> (Vec<P>, String, Vec<String>) {
    let c = convert(original, WriteVersion::V4).unwrap();
    let mut read = read_all(c.text.as_bytes());
    assert_eq!(read.len(), 1, "{}", c.text);
    (read.remove(0).props, c.text, c.warnings)
}

fn find<'a>(props: &'a [P], name: &str) -> &'a P {
    props.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no {name}"))
}

/// The file as UTF-8 bytes: UTF-16 with a byte-order mark (as Outlook writes) decoded
/// here, independently of the reader under test.
fn utf8_of(data: &[u8]) -> Vec<u8> {
    let units = |le: bool| -> Vec<u16> {
        data[2..].chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }).collect()
    };
    match data {
        [0xFF, 0xFE, ..] => String::from_utf16(&units(true)).unwrap().into_bytes(),
        [0xFE, 0xFF, ..] => String::from_utf16(&units(false)).unwrap().into_bytes(),
        _ => data.to_vec(),
    }
}

// --- tests ------------------------------------------------------------------------------------

#[test]
fn every_corpus_card_converts_to_4_0_and_3_0_value_for_value() {
    let mut checked = 0;
    for path in corpus_files() {
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = read_all(&utf8_of(&data));
        let cards: Vec<_> = VcardReader::new(&data[..], Limits::default()).map(|c| c.unwrap_or_else(|e| panic!("{name}: {e}"))).collect();
        assert_eq!(cards.len(), expected.len(), "{name}: every card is read, no more");
        for (card, want) in cards.iter().zip(&expected) {
            // the 4.0 form the reader hands over (a package keeps it as is) is the
            // conversion's, text and warnings (line numbers counted from the card's file)
            let alone = convert(&card.original, WriteVersion::V4).unwrap();
            assert_eq!(card.v4.text, alone.text, "{name}");
            let unnumbered = |w: &[String]| w.iter().map(|w| w.split(" (line").next().unwrap().to_owned()).collect::<Vec<_>>();
            assert_eq!(unnumbered(&card.v4.warnings), unnumbered(&alone.warnings), "{name}");
            for version in [WriteVersion::V4, WriteVersion::V3] {
                let c = convert(&card.original, version).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!c.text.contains('\u{FFFD}'), "{name}: replacement characters in\n{}", c.text);
                let upper = c.text.to_ascii_uppercase();
                assert!(!upper.contains("QUOTED-PRINTABLE") && !upper.contains("CHARSET="), "{name}:\n{}", c.text);
                assert!(c.text.split("\r\n").all(|l| l.len() <= 75), "{name}: folded\n{}", c.text);
                let got = read_all(c.text.as_bytes());
                assert_eq!(got.len(), 1, "{name}:\n{}", c.text);
                assert_eq!(got[0].version, if version == WriteVersion::V4 { "4.0" } else { "3.0" });
                // no bare 2.1 parameters: each one is NAME=value
                for line in c.text.split("\r\n").filter(|l| !l.starts_with(' ') && l.contains(':')) {
                    let header = &line[..line.find(':').unwrap()];
                    assert!(split_q(header, ';').iter().skip(1).all(|p| p.contains('=')), "{name}: bare parameter in `{line}`");
                }
                if let Err(e) = cards_match(&want.props, &got[0].props, version, &c.warnings) {
                    panic!("{name} to {version:?}: {e}\nwarnings: {:?}\n{}", c.warnings, c.text);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * 25, "{checked}");
}

#[test]
fn shift_jis_and_iso_8859_2_quoted_printable_are_decoded() {
    let card = &cards_of("shift_jis_v21_quoted_printable.vcf")[0];
    let (props, text, warnings) = v4_props(&card.original);
    assert_eq!(find(&props, "FN").text(), "田中 太郎", "{text}");
    assert_eq!(find(&props, "N").value, V::Text(vec!["田中".into(), "太郎".into()]));
    assert_eq!(find(&props, "NOTE").text(), "会議は月曜日\n午前10時から");
    assert_eq!(find(&props, "X-GN").text(), "友人");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(card.contact.formatted_name, "田中 太郎");
    let card = &cards_of("nokia_v21_iso8859_2_bare_quoted_printable.vcf")[0];
    let (props, text, _) = v4_props(&card.original);
    // the bare QUOTED-PRINTABLE parameter: decoded, whole over its soft line breaks
    assert_eq!(find(&props, "FN").text(), "Łukasz Wójcik z Łodzi, Żółć gęślą jaźń", "{text}");
    assert!(!text.contains("=F3") && !text.to_ascii_uppercase().contains("QUOTED"), "{text}");
    assert_eq!(card.contact.name.as_ref().unwrap().given, "Łukasz");
}

#[test]
fn photos_logos_and_keys_become_valid_data_uris_with_their_media_type() {
    for (file, prop, media_type) in [
        ("android_v21_qp_utf8_photo.vcf", "PHOTO", "image/jpeg"),
        // no TYPE at all: the bytes say PNG
        ("outlook_v21_qp_windows1252_adr_label.vcf", "PHOTO", "image/png"),
        ("nokia_v21_iso8859_2_bare_quoted_printable.vcf", "PHOTO", "image/gif"),
        ("evolution_v30_label_photo_key.vcf", "PHOTO", "image/jpeg"),
        ("evolution_v30_label_photo_key.vcf", "KEY", "application/pgp-keys"),
        ("kde_v30_logo_geo_categories.vcf", "LOGO", "image/png"),
    ] {
        let card = &cards_of(file)[0];
        let (props, text, _) = v4_props(&card.original);
        assert!(!text.contains("base64\\,"), "{file}: the comma of a data URI is not escaped\n{text}");
        match &find(&props, prop).value {
            V::Bytes(data, Some(mt)) => {
                assert_eq!(mt, media_type, "{file} {prop}");
                assert!(data.len() > 100, "{file} {prop}");
            }
            other => panic!("{file} {prop}: {other:?}\n{text}"),
        }
    }
}

#[test]
fn an_address_over_soft_line_breaks_stays_one_address() {
    let card = &cards_of("outlook_v21_qp_windows1252_adr_label.vcf")[0];
    let (props, text, warnings) = v4_props(&card.original);
    let adrs: Vec<_> = props.iter().filter(|p| p.name == "ADR").collect();
    assert_eq!(adrs.len(), 1, "{text}");
    let want: Vec<String> =
        ["", "", "Königstraße 12\nHinterhaus, 2. OG", "München", "Bayern", "80331", "Deutschland"].map(String::from).into();
    assert_eq!(adrs[0].value, V::Text(want));
    // 4.0 has no LABEL property: the label is the ADR's LABEL parameter
    assert_eq!(
        adrs[0].param("LABEL").map(|l| l.replace("^n", "\n")).as_deref(),
        Some("Königstraße 12\nHinterhaus, 2. OG\n80331 München\nDeutschland")
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let a = &card.contact.addresses[0];
    assert_eq!((a.street.as_str(), a.locality.as_str(), a.postal_code.as_str()), ("Königstraße 12\nHinterhaus, 2. OG", "München", "80331"));
}

#[test]
fn a_nested_agent_card_keeps_the_outer_cards_properties() {
    let cards = cards_of("v21_agent_nested_card.vcf");
    let names: Vec<_> = cards.iter().map(|c| c.contact.formatted_name.as_str()).collect();
    assert_eq!(names, ["Barbara Boss", "Sam Second"]);
    let boss = &cards[0].contact;
    assert_eq!(boss.emails.len(), 1);
    assert_eq!(boss.emails[0].value, "barbara@example.com");
    assert_eq!(boss.note.as_deref(), Some("After the agent"));
    assert_eq!(boss.title.as_deref(), Some("Director"));
    let (props, text, warnings) = v4_props(&cards[0].original);
    let related = find(&props, "RELATED");
    assert_eq!(related.types(), ["agent"]);
    assert!(related.text().contains("FN:Fred Friday"), "{text}");
    assert!(warnings.iter().any(|w| w.starts_with("AGENT:") && w.contains("Fred Friday")), "{warnings:?}");
    let v3 = convert(&cards[0].original, WriteVersion::V3).unwrap();
    assert!(v3.text.contains("AGENT:BEGIN:VCARD\\nVERSION:3.0\\n"), "{}", v3.text);
    assert!(v3.warnings.is_empty(), "3.0 keeps AGENT: {:?}", v3.warnings);
}

#[test]
fn vcard_21_to_3_0_escapes_line_breaks_and_names_types() {
    let card = &cards_of("outlook_v21_qp_windows1252_adr_label.vcf")[0];
    let v3 = convert(&card.original, WriteVersion::V3).unwrap().text;
    let note = v3.replace("\r\n ", "");
    let note = note.lines().find(|l| l.starts_with("NOTE")).unwrap();
    assert_eq!(note, "NOTE:Erste Zeile\\nZweite Zeile mit € und „Zitat“");
    let unfolded = v3.replace("\r\n ", "");
    assert!(unfolded.contains("\nEMAIL;TYPE=INTERNET,pref:juergen.mueller@example.de\r\n"), "{v3}");
    assert!(unfolded.contains("\nTEL;TYPE=WORK,VOICE:+49 89 1234567\r\n"), "{v3}");
    assert!(unfolded.contains("\nLABEL;TYPE=WORK,pref:Königstraße 12\\nHinterhaus\\, 2. OG\\n80331 München\\nDeutschland\r\n"), "{v3}");
}

#[test]
fn bytes_not_valid_in_their_charset_are_a_warning_naming_the_property() {
    // 0x82 0x20 is no Shift_JIS character
    let card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ok\r\nNOTE;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:=82 x\r\nEND:VCARD\r\n";
    let c = convert(card, WriteVersion::V4).unwrap();
    assert!(c.warnings.iter().any(|w| w.starts_with("NOTE:") && w.contains("SHIFT_JIS")), "{:?}", c.warnings);
    // and a bad quoted-printable escape
    let card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;ENCODING=QUOTED-PRINTABLE:50=ZZ off\r\nEND:VCARD\r\n";
    let c = convert(card, WriteVersion::V4).unwrap();
    assert!(c.text.contains("FN:50=ZZ off"), "{}", c.text);
    assert!(c.warnings.iter().any(|w| w.starts_with("FN:")), "{:?}", c.warnings);
}

fn hostile(lines: usize) -> Vec<u8> {
    let mut card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Hostile\r\n".to_vec();
    for i in 0..lines {
        card.extend_from_slice(format!("EMAIL:{i}@x.y\r\n").as_bytes());
    }
    card.extend_from_slice(b"END:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Next\r\nEND:VCARD\r\n");
    card
}

#[test]
fn a_card_of_a_million_lines_is_refused_not_parsed() {
    // 40 MB: over the size of a card
    let got: Vec<_> = VcardReader::new(&hostile(1_000_000)[..], Limits::default()).collect();
    assert_eq!(got.len(), 2);
    assert!(matches!(&got[0], Err(CodecError::RecordTooLarge { line: 1, .. })), "{:?}", got[0].as_ref().map(|c| c.line));
    assert_eq!(got[1].as_ref().unwrap().contact.formatted_name, "Next", "reading goes on after it");
    // under the size limit, but too many lines
    let card = hostile(500_000);
    assert!(card.len() < ferry_codecs::vcard::MAX_CARD_BYTES);
    let got: Vec<_> = VcardReader::new(&card[..], Limits::default()).collect();
    match &got[0] {
        Err(CodecError::Syntax { line: 1, reason }) => assert!(reason.contains(&MAX_LINES.to_string()), "{reason}"),
        other => panic!("{:?}", other.as_ref().map(|c| c.line)),
    }
    assert_eq!(got[1].as_ref().unwrap().contact.formatted_name, "Next");
    assert!(convert(&card, WriteVersion::V4).is_err());
}

#[test]
fn a_card_over_the_vcard_size_limit_is_a_clear_error() {
    let photo = "A".repeat(ferry_codecs::vcard::MAX_CARD_BYTES);
    let card = format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Huge\r\nPHOTO;ENCODING=b:\r\n{}\r\nEND:VCARD\r\n", fold(&photo));
    let got: Vec<_> = VcardReader::new(card.as_bytes(), Limits::default()).collect();
    assert!(
        matches!(&got[..], [Err(CodecError::RecordTooLarge { .. })]),
        "{:?}",
        got.iter().map(|r| r.as_ref().err().map(|e| e.to_string())).collect::<Vec<_>>()
    );
}

fn fold(s: &str) -> String {
    s.as_bytes().chunks(74).map(|c| format!(" {}", std::str::from_utf8(c).unwrap())).collect::<Vec<_>>().join("\r\n")
}
