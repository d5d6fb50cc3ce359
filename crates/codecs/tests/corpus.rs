//! Real-world oddities, one per file under `tests/corpus/`, each read, checked and put
//! through the codec's writer and read again.
//!
//! The files are written byte for byte on purpose (CRLF or LF, Latin-1, BOM); the
//! `.gitattributes` beside them keeps git from touching their line ends.

use ferry_codecs::contacts_csv::{CsvContactsReader, CsvContactsWriter, Layout};
use ferry_codecs::ical::{CalendarObject, CalendarWriter, IcsReader};
use ferry_codecs::mbox::{Flavor, MboxMessage, MboxReader, MboxWriter};
use ferry_codecs::text_component::{Piece, Splitter};
use ferry_codecs::vcard::{ParsedCard, VcardReader, WriteVersion, build_v4, convert, parse_card};
use ferry_codecs::{CodecError, Limits, maildir};
use ferry_core::Record;
use ferry_core::model::{Contact, ContactName, Event, Task, TypedValue};
use proptest::prelude::*;
use std::io::Cursor;
use std::path::Path;

// ---------------------------------------------------------------------------------------
// helpers

/// Every corpus file a test below (or in `ical_realworld.rs`) reads. `every_corpus_file_is_used`
/// keeps this list and the folder in step, so a file cannot be added without a test.
const CORPUS: &[&str] = &[
    "csv/google_new_layout.csv",
    "csv/google_old_layout.csv",
    "csv/outlook_with_bom.csv",
    "csv/quoted_multiline_notes.csv",
    "ical/all_day_value_date.ics",
    "ical/attendee_quoted_cn_colon_comma.ics",
    "ical/empty_vcalendar.ics",
    "ical/exdate_lists.ics",
    "ical/floating_times.ics",
    "ical/folded_multibyte_utf8.ics",
    "ical/lf_only_line_endings.ics",
    "ical/rdate_period_values.ics",
    "ical/recurrence_id_overrides_around_master.ics",
    "ical/rrule_until.ics",
    "ical/several_vcalendars_methods.ics",
    "ical/sunbird_folded_after_name.ics",
    "ical/two_vcalendars_concatenated.ics",
    "ical/tzid_case_and_folds.ics",
    "ical/utf16le_bom_outlook.ics",
    "ical/valarm_absolute_trigger.ics",
    "ical/vevent_without_uid.ics",
    "ical/vjournal_and_other_components.ics",
    "ical/vtimezone_several_standard_daylight.ics",
    "ical/vtodo_related_to_percent_complete.ics",
    "ical/x_properties.ics",
    "mbox/crlf_messages.mbox",
    "mbox/empty.mbox",
    "mbox/from_line_in_body_without_blank_line.mbox",
    "mbox/leading_blank_lines.mbox",
    "mbox/mboxo_from_escapes.mbox",
    "mbox/mboxrd_from_escapes.mbox",
    "mbox/message_without_trailing_newline.mbox",
    "vcard/android_v21_qp_utf8_photo.vcf",
    "vcard/apple_grouped_properties.vcf",
    "vcard/evolution_v30_label_photo_key.vcf",
    "vcard/ios_v30_grouped_photo.vcf",
    "vcard/kde_v30_logo_geo_categories.vcf",
    "vcard/folded_multibyte_utf8.vcf",
    "vcard/lf_only_line_endings.vcf",
    "vcard/multiple_cards_blank_lines.vcf",
    "vcard/no_fn_only_n.vcf",
    "vcard/no_uid.vcf",
    "vcard/nokia_v21_iso8859_2_bare_quoted_printable.vcf",
    "vcard/note_escaped_comma_semicolon_newline.vcf",
    "vcard/outlook_v21_qp_windows1252_adr_label.vcf",
    "vcard/owncloud_v30_photo.vcf",
    "vcard/shift_jis_v21_quoted_printable.vcf",
    "vcard/tab_folded_lines.vcf",
    "vcard/utf16le_bom.vcf",
    "vcard/utf8_bom.vcf",
    "vcard/v21_agent_nested_card.vcf",
    "vcard/v21_bare_type_params.vcf",
    "vcard/v21_charset_iso8859_1_raw_bytes.vcf",
    "vcard/v21_quoted_printable_iso8859_1.vcf",
    "vcard/v21_quoted_printable_soft_line_breaks.vcf",
    "vcard/v30_base64_photo_folded.vcf",
    "vcard/v40_photo_data_uri.vcf",
    "vcard/x_properties_with_params.vcf",
];

fn corpus_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"))
}

fn corpus(name: &str) -> Vec<u8> {
    assert!(CORPUS.contains(&name), "{name} is not listed in CORPUS");
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_corpus_file_is_used() {
    let mut found = Vec::new();
    for dir in std::fs::read_dir(corpus_dir()).unwrap() {
        let dir = dir.unwrap();
        if !dir.file_type().unwrap().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap();
            found.push(format!("{}/{}", dir.file_name().to_string_lossy(), f.file_name().to_string_lossy()));
        }
    }
    found.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn corpus_files_keep_their_line_ends() {
    // if git (or an editor) normalised the files, the CRLF and LF oddities would be gone
    let crlf = corpus("vcard/no_uid.vcf");
    assert!(crlf.windows(2).filter(|w| w == b"\r\n").count() >= 5);
    let lf = corpus("vcard/lf_only_line_endings.vcf");
    assert!(!lf.contains(&b'\r') && lf.contains(&b'\n'));
    let lf = corpus("ical/lf_only_line_endings.ics");
    assert!(!lf.contains(&b'\r'));
}

// --- vCard ------------------------------------------------------------------------------

fn read_cards(name: &str) -> Vec<ParsedCard> {
    let data = corpus(name);
    VcardReader::new(&data[..], Limits::default()).map(|c| c.unwrap_or_else(|e| panic!("{name}: {e}"))).collect()
}

/// What must survive a conversion: everything but the version and the list of
/// properties the record has no field for (which the converter may rename or drop).
fn surviving(c: &Contact) -> Contact {
    Contact { vcard_version: String::new(), other_properties: Vec::new(), ..c.clone() }
}

/// Converts to 4.0 and to 3.0, parses each again and checks that the record survived;
/// returns the 4.0 text.
fn assert_vcard_round_trips(card: &ParsedCard) -> String {
    let mut v4_text = String::new();
    for (version, label) in [(WriteVersion::V4, "VERSION:4.0"), (WriteVersion::V3, "VERSION:3.0")] {
        let text = convert(&card.original, version).unwrap().text;
        assert!(text.contains(label), "{text}");
        // the output is UTF-8 and not quoted-printable; 3.0 output may say CHARSET=UTF-8
        // (calcard's writer adds it for non-ASCII values), 4.0 output never names a charset
        let upper = text.to_ascii_uppercase();
        assert!(!upper.contains("QUOTED-PRINTABLE") && !upper.contains("ISO-8859"), "{text}");
        assert_eq!(upper.matches("CHARSET=").count(), upper.matches("CHARSET=UTF-8").count(), "{text}");
        if version == WriteVersion::V4 {
            assert!(!upper.contains("CHARSET="), "{text}");
        }
        let back = parse_card(text.as_bytes(), 1).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(surviving(&back), surviving(&card.contact), "after {version:?}:\n{text}");
        assert_eq!(back.vcard_version, if version == WriteVersion::V4 { "4.0" } else { "3.0" });
        // converting the converted card changes the record no more
        let twice = convert(text.as_bytes(), version).unwrap().text;
        assert_eq!(parse_card(twice.as_bytes(), 1).unwrap(), back, "{twice}");
        // and reading it through the reader gives the same record
        let again: Vec<_> = VcardReader::new(text.as_bytes(), Limits::default()).map(Result::unwrap).collect();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].contact, back);
        if version == WriteVersion::V4 {
            v4_text = text;
        }
    }
    v4_text
}

fn one_card(name: &str) -> ParsedCard {
    let mut cards = read_cards(name);
    assert_eq!(cards.len(), 1, "{name}");
    cards.remove(0)
}

fn tv(value: &str, types: &[&str], preferred: bool) -> TypedValue {
    TypedValue { value: value.into(), types: types.iter().map(|s| s.to_string()).collect(), preferred }
}

#[test]
fn vcard_21_quoted_printable_soft_line_breaks() {
    let card = one_card("vcard/v21_quoted_printable_soft_line_breaks.vcf");
    let c = &card.contact;
    assert_eq!(c.vcard_version, "2.1");
    assert_eq!(c.formatted_name, "Zoë Müller");
    assert_eq!(c.name.as_ref().unwrap().family, "Müller");
    assert_eq!(c.name.as_ref().unwrap().given, "Zoë");
    // the soft breaks (`=` at the end of a line) join, =0D=0A is a line break (`\n` in 3.0 and 4.0)
    assert_eq!(c.note.as_deref(), Some("First line of a long note that goes on\nand a second line with = equals sign"));
    assert_eq!(c.phones, [tv("+49 170 1234567", &["cell"], false)]);
    let v4 = assert_vcard_round_trips(&card);
    assert!(v4.contains("FN:Zoë Müller"), "{v4}");
}

#[test]
fn vcard_21_charset_iso8859_1_raw_bytes() {
    let data = corpus("vcard/v21_charset_iso8859_1_raw_bytes.vcf");
    assert!(std::str::from_utf8(&data).is_err(), "the sample must hold raw Latin-1 bytes");
    let card = one_card("vcard/v21_charset_iso8859_1_raw_bytes.vcf");
    let c = &card.contact;
    assert_eq!(c.formatted_name, "Jörg Müller");
    assert_eq!(c.name.as_ref().unwrap().given, "Jörg");
    let a = &c.addresses[0];
    assert_eq!((a.street.as_str(), a.locality.as_str(), a.postal_code.as_str()), ("Straße 5", "Köln", "50667"));
    assert_eq!(a.types, ["home"]);
    assert_eq!(card.original, data, "the card keeps its bytes as they were");
    let v4 = assert_vcard_round_trips(&card);
    assert!(v4.contains("Straße 5;Köln"), "written as UTF-8: {v4}");
}

#[test]
fn vcard_21_quoted_printable_iso8859_1() {
    let card = one_card("vcard/v21_quoted_printable_iso8859_1.vcf");
    assert_eq!(card.contact.formatted_name, "François José");
    assert_eq!(card.contact.name.as_ref().unwrap().family, "José");
    assert_eq!(card.contact.phones, [tv("+33 1 23 45 67 89", &["work"], false)]);
    assert_vcard_round_trips(&card);
}

#[test]
fn vcard_21_bare_type_params() {
    let card = one_card("vcard/v21_bare_type_params.vcf");
    let c = &card.contact;
    assert_eq!(
        c.phones,
        [tv("+1 555 0100", &["cell", "home"], false), tv("+1 555 0101", &["work", "voice"], true), tv("+1 555 0102", &["fax"], false),]
    );
    assert_eq!(c.emails.len(), 1);
    assert_eq!(c.emails[0].value, "john@example.com");
    assert!(c.emails[0].preferred, "bare PREF makes the address preferred");
    assert_eq!(c.addresses[0].types, ["work"]);
    assert_eq!(c.addresses[0].locality, "Springfield");
    let v4 = assert_vcard_round_trips(&card);
    assert!(v4.to_ascii_uppercase().contains("TEL;TYPE=CELL,HOME:+1 555 0100"), "{v4}");
}

#[test]
fn vcard_30_base64_photo_folded() {
    let data = corpus("vcard/v30_base64_photo_folded.vcf");
    assert!(data.split(|b| *b == b'\n').filter(|l| l.first() == Some(&b' ')).count() > 20, "the photo is folded over many lines");
    let card = one_card("vcard/v30_base64_photo_folded.vcf");
    assert_eq!(card.contact.photo.as_deref(), Some("image/jpeg (1536 bytes)"));
    assert_eq!(card.contact.emails, [tv("pat@example.org", &["internet", "home"], false)]);
    let v4 = assert_vcard_round_trips(&card);
    // every photo byte is still there after the conversion (checked by the record's
    // byte count); the 4.0 form is a data: URI. (calcard writes its comma as `\,`.)
    assert!(v4.contains(":data:image/jpeg;base64"), "{v4}");
    let v3 = convert(&card.original, WriteVersion::V3).unwrap().text;
    assert!(v3.contains("ENCODING=b") && v3.contains("TYPE=JPEG") && v3.contains(":AAECAwQFBgcI"), "{v3}");
}

#[test]
fn vcard_40_photo_data_uri() {
    let card = one_card("vcard/v40_photo_data_uri.vcf");
    assert_eq!(card.contact.photo.as_deref(), Some("image/png (48 bytes)"));
    assert_eq!(card.contact.uid.as_deref(), Some("4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"), "urn:uuid: is stripped");
    assert_vcard_round_trips(&card);
}

#[test]
fn vcard_apple_grouped_properties() {
    let card = one_card("vcard/apple_grouped_properties.vcf");
    let c = &card.contact;
    assert_eq!(c.emails, [tv("johnny@example.com", &["internet"], true)]);
    assert_eq!(c.phones, [tv("+1 555 0199", &[], false)]);
    assert_eq!(c.addresses[0].street, "1 Infinite Loop");
    assert_eq!(c.urls, ["https://example.com/johnny"]);
    assert_eq!(c.other_properties, ["X-ABADR", "X-ABLABEL"], "a set, in name order");
    let v4 = assert_vcard_round_trips(&card);
    // the group names tie each label to its value, so they must be kept
    for kept in ["item1.EMAIL", "item1.X-ABLabel:_$!<Other>!$_", "item2.X-ABLabel:Satellite", "item3.X-ABADR:us"] {
        assert!(v4.contains(kept), "{kept} lost:\n{v4}");
    }
}

#[test]
fn vcard_lf_only_line_endings() {
    let card = one_card("vcard/lf_only_line_endings.vcf");
    assert_eq!(card.contact.formatted_name, "Lena Linefeed");
    assert_eq!(card.contact.note.as_deref(), Some("folded over two lines with LF only"));
    assert!(!card.original.contains(&b'\r'), "original bytes are kept as they were");
    assert_vcard_round_trips(&card);
}

#[test]
fn vcard_no_fn_only_n() {
    let card = one_card("vcard/no_fn_only_n.vcf");
    let c = &card.contact;
    assert_eq!(c.formatted_name, "Dr. Nora Q. Nameless PhD", "FN is made from N");
    assert_eq!(
        c.name,
        Some(ContactName {
            family: "Nameless".into(),
            given: "Nora".into(),
            additional: "Q.".into(),
            prefix: "Dr.".into(),
            suffix: "PhD".into()
        })
    );
    assert_vcard_round_trips(&card);
}

#[test]
fn vcard_no_uid() {
    let card = one_card("vcard/no_uid.vcf");
    assert_eq!(card.contact.uid, None);
    assert_eq!(card.contact.phones, [tv("+44 20 7946 0000", &["cell"], false)]);
    let v4 = assert_vcard_round_trips(&card);
    assert!(!v4.contains("UID"), "no UID is made up: {v4}");
}

#[test]
fn vcard_utf8_bom() {
    let data = corpus("vcard/utf8_bom.vcf");
    assert!(data.starts_with(b"\xEF\xBB\xBFBEGIN:VCARD"));
    let card = one_card("vcard/utf8_bom.vcf");
    assert_eq!(card.contact.formatted_name, "Bea Böm");
    assert_eq!(card.line, 1);
    assert!(card.original.starts_with(b"BEGIN:VCARD"), "the BOM is not part of the card");
    assert_vcard_round_trips(&card);
}

#[test]
fn vcard_multiple_cards_blank_lines() {
    let cards = read_cards("vcard/multiple_cards_blank_lines.vcf");
    let names: Vec<_> = cards.iter().map(|c| c.contact.formatted_name.as_str()).collect();
    assert_eq!(names, ["First Card", "Second Card", "Third Card"]);
    assert_eq!(cards.iter().map(|c| c.line).collect::<Vec<_>>(), [3, 10, 17]);
    assert_eq!(cards[2].contact.vcard_version, "4.0");
    for c in &cards {
        assert!(c.original.starts_with(b"BEGIN:VCARD") && c.original.ends_with(b"END:VCARD\r\n"));
        assert_vcard_round_trips(c);
    }
}

#[test]
fn vcard_x_properties_with_params() {
    let card = one_card("vcard/x_properties_with_params.vcf");
    assert_eq!(card.contact.other_properties, ["X-ANNIVERSARY", "X-CUSTOM-FLAG", "X-SKYPE", "X-SOCIALPROFILE"], "a set, in name order");
    let v4 = assert_vcard_round_trips(&card);
    // unknown properties travel with their parameters and values
    let upper = v4.to_ascii_uppercase();
    assert!(upper.contains("X-SKYPE;TYPE=HOME:XAVIER.EXT"), "{v4}");
    assert!(v4.contains("https://twitter.com/xav"), "{v4}");
    assert!(v4.contains("quoted;value"), "{v4}");
}

#[test]
fn vcard_note_escaped_comma_semicolon_newline() {
    let card = one_card("vcard/note_escaped_comma_semicolon_newline.vcf");
    let c = &card.contact;
    assert_eq!(c.formatted_name, "Esc, Aped");
    assert_eq!(c.note.as_deref(), Some("one, two; three\nfour\nfive \\ backslash"));
    assert_eq!(c.title.as_deref(), Some("Head; of things"));
    assert_eq!(c.organization.as_deref(), Some("ACME, Inc., R&D"));
    assert_vcard_round_trips(&card);
}

#[test]
fn vcard_tab_folded_lines() {
    let card = one_card("vcard/tab_folded_lines.vcf");
    let c = &card.contact;
    // unfolding removes the line break and the one tab or space after it
    assert_eq!(c.formatted_name, "Tom Tabs");
    assert_eq!(c.note.as_deref(), Some("a note folded with a tab and again with a space"));
    assert_eq!(c.emails[0].value, "tom@example.org");
    assert_vcard_round_trips(&card);
}

// --- iCalendar ----------------------------------------------------------------------------

fn read_ics(bytes: &[u8]) -> Vec<CalendarObject> {
    IcsReader::new(Cursor::new(bytes), Limits::default()).unwrap().map(|o| o.unwrap_or_else(|e| panic!("{e}"))).collect()
}

/// Reads a corpus file, writes every object with CalendarWriter, reads that again: the
/// same objects with the same records, and writing them once more gives the same bytes.
fn ics_round_trip(name: &str) -> Vec<CalendarObject> {
    let objs = read_ics(&corpus(name));
    assert!(!objs.is_empty(), "{name}");
    let write = |objs: &[CalendarObject]| {
        let mut w = CalendarWriter::new(Vec::new(), "corpus").unwrap();
        for o in objs {
            w.add(&o.original).unwrap();
        }
        w.finish().unwrap()
    };
    let out = write(&objs);
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(text.matches("BEGIN:VCALENDAR").count(), 1, "{text}");
    let back = read_ics(&out);
    assert_eq!(back.len(), objs.len(), "{name}:\n{text}");
    for (a, b) in objs.iter().zip(&back) {
        assert_eq!(a.uid, b.uid, "{name}");
        assert_eq!(a.record, b.record, "{name}");
        // each object read on its own gives the same record too
        let alone = read_ics(&a.original);
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].record, a.record);
    }
    assert_eq!(write(&back), out, "{name}: writing is stable");
    objs
}

fn event(o: &CalendarObject) -> &Event {
    match &o.record {
        Record::Event(e) => e,
        other => panic!("not an event: {other:?}"),
    }
}

fn task(o: &CalendarObject) -> &Task {
    match &o.record {
        Record::Task(t) => t,
        other => panic!("not a task: {other:?}"),
    }
}

fn date_values(v: &[ferry_core::model::DateOrDateTime]) -> Vec<&str> {
    v.iter().map(|d| d.value.as_str()).collect()
}

#[test]
fn ical_vtimezone_several_standard_daylight() {
    let objs = ics_round_trip("ical/vtimezone_several_standard_daylight.ics");
    let e = event(&objs[0]);
    assert_eq!(e.timezones, ["America/New_York"]);
    let start = e.start.as_ref().unwrap();
    assert_eq!((start.value.as_str(), start.tzid.as_deref()), ("2025-03-10T09:00:00", Some("America/New_York")));
    let text = String::from_utf8(objs[0].original.clone()).unwrap();
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
    assert_eq!(text.matches("BEGIN:DAYLIGHT").count(), 2, "all the time zone's rules travel with the object");
    assert_eq!(text.matches("BEGIN:STANDARD").count(), 2);
}

#[test]
fn ical_rrule_until() {
    let objs = ics_round_trip("ical/rrule_until.ics");
    assert_eq!(event(&objs[0]).rrule.as_deref(), Some("FREQ=DAILY;UNTIL=20250131T080000Z;BYDAY=MO,WE,FR"));
}

#[test]
fn ical_exdate_lists() {
    let objs = ics_round_trip("ical/exdate_lists.ics");
    let e = event(&objs[0]);
    assert_eq!(date_values(&e.exdates), ["2025-01-02T12:00:00Z", "2025-01-03T12:00:00Z", "2025-01-05T12:00:00Z", "2025-01-08T12:00:00Z"]);
    assert_eq!(e.duration.as_deref(), Some("PT1H"));
    assert_eq!(e.end, None);
}

#[test]
fn ical_rdate_period_values() {
    let objs = ics_round_trip("ical/rdate_period_values.ics");
    let e = event(&objs[0]);
    // a PERIOD (start/end or start/duration) counts by its start
    assert_eq!(date_values(&e.rdates), ["2025-02-03T09:00:00Z", "2025-02-05T14:00:00Z", "2025-02-10T09:00:00Z"]);
    assert!(e.rdates.iter().all(|d| !d.date_only));
    assert!(e.other_properties.is_empty(), "{:?}", e.other_properties);
}

#[test]
fn ical_recurrence_id_overrides_around_master() {
    let objs = ics_round_trip("ical/recurrence_id_overrides_around_master.ics");
    let uids: Vec<_> = objs.iter().map(|o| o.uid.as_str()).collect();
    assert_eq!(uids, ["series@corpus", "other@corpus", "todo-between@corpus"], "one object per UID, in order of first sight");
    let e = event(&objs[0]);
    assert_eq!(e.summary.as_deref(), Some("Weekly sync"), "the master is the record, wherever it stands");
    assert_eq!(e.rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=8"));
    assert_eq!(date_values(&e.overrides), ["2025-01-08T10:00:00Z", "2025-01-22T10:00:00Z"]);
    let text = String::from_utf8(objs[0].original.clone()).unwrap();
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 3);
    assert!(text.contains("listed before the master") && text.contains("listed after the master"));
    assert!(!text.contains("Something else in between") && !text.contains("VTODO"));
    assert_eq!(event(&objs[1]).summary.as_deref(), Some("Something else in between"));
    assert_eq!(task(&objs[2]).summary.as_deref(), Some("A task in between"));
}

#[test]
fn ical_all_day_value_date() {
    let objs = ics_round_trip("ical/all_day_value_date.ics");
    let e = event(&objs[0]);
    let (s, end) = (e.start.as_ref().unwrap(), e.end.as_ref().unwrap());
    assert!(s.date_only && end.date_only);
    assert_eq!((s.value.as_str(), end.value.as_str()), ("2025-07-04", "2025-07-05"));
    assert_eq!(e.other_properties, ["TRANSP"]);
}

#[test]
fn ical_floating_times() {
    let objs = ics_round_trip("ical/floating_times.ics");
    let s = event(&objs[0]).start.clone().unwrap();
    assert_eq!(s.value, "2025-03-15T07:30:00", "no Z and no offset: floating");
    assert_eq!(s.tzid, None);
    assert!(!s.date_only);
    assert!(event(&objs[0]).timezones.is_empty());
}

#[test]
fn ical_valarm_absolute_trigger() {
    let objs = ics_round_trip("ical/valarm_absolute_trigger.ics");
    let alarms = &event(&objs[0]).alarms;
    assert_eq!(alarms.len(), 2);
    assert_eq!((alarms[0].action.as_str(), alarms[0].trigger.as_str()), ("DISPLAY", "2025-04-01T08:30:00Z"));
    assert_eq!(alarms[0].description.as_deref(), Some("Leave now"));
    assert_eq!((alarms[1].action.as_str(), alarms[1].trigger.as_str()), ("AUDIO", "PT5M"));
}

#[test]
fn ical_attendee_quoted_cn_colon_comma() {
    let objs = ics_round_trip("ical/attendee_quoted_cn_colon_comma.ics");
    let e = event(&objs[0]);
    let org = e.organizer.as_ref().unwrap();
    assert_eq!((org.name.as_deref(), org.address.as_str()), (Some("Boss: The Big One"), "mailto:boss@example.com"));
    assert_eq!(e.attendees.len(), 2);
    assert_eq!(e.attendees[0].name.as_deref(), Some("Doe, Jane"));
    assert_eq!(e.attendees[0].address, "mailto:jane@example.com");
    assert_eq!(e.attendees[0].status.as_deref(), Some("ACCEPTED"));
    assert_eq!(e.attendees[1].name.as_deref(), Some("Re: Ops, Team"));
    assert_eq!(e.attendees[1].role.as_deref(), Some("OPT-PARTICIPANT"));
    assert_eq!(e.attendees[1].address, "mailto:ops@example.com");
}

#[test]
fn ical_x_properties() {
    let objs = ics_round_trip("ical/x_properties.ics");
    let e = event(&objs[0]);
    assert_eq!(
        e.other_properties,
        ["X-APPLE-TRAVEL-ADVISORY-BEHAVIOR", "X-MICROSOFT-CDO-BUSYSTATUS", "X-MOZ-GENERATION"],
        "a set, in name order"
    );
    let text = String::from_utf8(objs[0].original.clone()).unwrap();
    // the calendar's own X- lines go with every object read from it
    assert!(text.contains("X-WR-CALNAME:Corpus") && text.contains("X-APPLE-TRAVEL-ADVISORY-BEHAVIOR;X-PARAM=1:AUTOMATIC"), "{text}");
}

#[test]
fn ical_vtodo_related_to_percent_complete() {
    let objs = ics_round_trip("ical/vtodo_related_to_percent_complete.ics");
    let (parent, child) = (task(&objs[0]), task(&objs[1]));
    assert_eq!(parent.percent_complete, Some(40));
    assert_eq!(parent.priority, Some(2));
    assert_eq!(parent.status.as_deref(), Some("IN-PROCESS"));
    assert!(parent.due.as_ref().unwrap().date_only);
    assert_eq!(parent.parent, None);
    assert_eq!(child.parent.as_deref(), Some("parent-todo@corpus"));
    assert_eq!(child.percent_complete, Some(100));
    assert_eq!(child.completed.as_ref().unwrap().value, "2025-01-15T17:00:00Z");
}

#[test]
fn ical_two_vcalendars_concatenated() {
    let objs = ics_round_trip("ical/two_vcalendars_concatenated.ics");
    assert_eq!(objs.len(), 2);
    assert_eq!(event(&objs[0]).summary.as_deref(), Some("From the first calendar"));
    assert_eq!(event(&objs[1]).summary.as_deref(), Some("From the second calendar"));
    for o in &objs {
        let text = String::from_utf8(o.original.clone()).unwrap();
        assert_eq!(text.matches("BEGIN:VCALENDAR").count(), 1, "{text}");
        assert_eq!(text.matches("VERSION:2.0").count(), 1, "{text}");
    }
}

#[test]
fn ical_lf_only_line_endings() {
    let objs = ics_round_trip("ical/lf_only_line_endings.ics");
    let e = event(&objs[0]);
    assert_eq!(e.summary.as_deref(), Some("Line feeds only, folded over two lines"));
    assert_eq!(e.description.as_deref(), Some("multi\nline"));
}

#[test]
fn ical_vevent_without_uid() {
    let objs = ics_round_trip("ical/vevent_without_uid.ics");
    assert_eq!(objs.len(), 2, "two events without UID are two objects, not one");
    assert_ne!(objs[0].uid, objs[1].uid);
    for o in &objs {
        assert!(o.uid.starts_with("no-uid-"), "{}", o.uid);
        assert_eq!(event(o).uid, "", "the record says there was no UID");
    }
    assert_eq!(event(&objs[1]).summary.as_deref(), Some("Me neither"));
    // the made-up key depends on the component's bytes only: reading again finds it again
    assert_eq!(read_ics(&objs[0].original)[0].uid, objs[0].uid);
}

#[test]
fn ical_bom_before_begin_vcalendar() {
    let mut data = b"\xEF\xBB\xBF".to_vec();
    data.extend_from_slice(&corpus("ical/floating_times.ics"));
    let objs = read_ics(&data);
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0].record, read_ics(&corpus("ical/floating_times.ics"))[0].record);
}

// --- mbox ---------------------------------------------------------------------------------

fn read_mbox(data: &[u8], flavor: Flavor) -> Vec<Result<MboxMessage, CodecError>> {
    MboxReader::new(data, flavor, Limits::default()).collect()
}

fn read_mbox_ok(data: &[u8], flavor: Flavor) -> Vec<MboxMessage> {
    read_mbox(data, flavor).into_iter().map(|m| m.unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn write_mbox(msgs: &[MboxMessage]) -> Vec<u8> {
    let mut w = MboxWriter::new(Vec::new());
    let mut total = 0;
    for m in msgs {
        assert_eq!(w.position(), total);
        total += w.append(m.envelope_from.as_deref(), m.received, &m.bytes).unwrap();
    }
    let out = w.finish().unwrap();
    assert_eq!(out.len() as u64, total);
    out
}

/// read -> MboxWriter -> read: the same messages, byte for byte, and the same envelopes.
fn assert_mbox_round_trips(msgs: &[MboxMessage]) -> Vec<u8> {
    let out = write_mbox(msgs);
    let back = read_mbox_ok(&out, Flavor::Mboxrd);
    assert_eq!(back.len(), msgs.len());
    for (a, b) in msgs.iter().zip(&back) {
        assert_eq!(String::from_utf8_lossy(&a.bytes), String::from_utf8_lossy(&b.bytes));
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.envelope_from, b.envelope_from);
        assert_eq!(a.received, b.received);
        assert_eq!(a.index, b.index);
    }
    out
}

#[test]
fn mbox_mboxrd_from_escapes() {
    let data = corpus("mbox/mboxrd_from_escapes.mbox");
    let msgs = read_mbox_ok(&data, Flavor::Mboxrd);
    assert_eq!(msgs.len(), 2);
    let body = String::from_utf8(msgs[0].bytes.clone()).unwrap();
    assert!(
        body.ends_with(
            "\n\nFrom the start of a line\n>From a quoted one\n>>From deeper still\nFromage is not escaped\n \
            >From with a leading space is not escaped\n"
        ),
        "{body}"
    );
    assert_eq!(msgs[0].envelope_from.as_deref(), Some("alice@example.org"));
    assert_eq!(msgs[1].received.unwrap().to_rfc3339(), "2025-01-07T10:30:00+00:00");
    assert_eq!((msgs[0].line, msgs[1].line), (1, 11));
    let out = assert_mbox_round_trips(&msgs);
    assert_eq!(out, data, "a file in ferry's own form is written back byte for byte");
}

#[test]
fn mbox_mboxo_from_escapes() {
    let data = corpus("mbox/mboxo_from_escapes.mbox");
    let msgs = read_mbox_ok(&data, Flavor::Mboxo);
    assert_eq!(msgs.len(), 2);
    let body = String::from_utf8(msgs[0].bytes.clone()).unwrap();
    // mboxo takes one `>` off `>From ` only; `>>From ` is left as it is
    assert!(body.ends_with("\n\nFrom was escaped by an mboxo writer\n>>From was already quoted and stays so\n"), "{body}");
    // as mboxrd the same file unquotes both lines by one level
    let rd = read_mbox_ok(&data, Flavor::Mboxrd);
    let rd_body = String::from_utf8(rd[0].bytes.clone()).unwrap();
    assert!(rd_body.ends_with("\n\nFrom was escaped by an mboxo writer\n>From was already quoted and stays so\n"), "{rd_body}");
    // written as mboxrd, the mboxo reading survives exactly
    let out = assert_mbox_round_trips(&msgs);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\n>From was escaped by an mboxo writer\n>>>From was already quoted and stays so\n"), "{text}");
}

#[test]
fn mbox_message_without_trailing_newline() {
    let data = corpus("mbox/message_without_trailing_newline.mbox");
    assert!(!data.ends_with(b"\n"));
    let items = read_mbox(&data, Flavor::Mboxrd);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().bytes, b"Subject: one\n\nfirst\n");
    // a last line cut short cannot be told from a truncated file: it is reported, with
    // the line of its separator, and not passed off as complete
    assert!(
        matches!(&items[1], Err(CodecError::Syntax { line: 6, reason }) if reason.contains("message 2") && reason.contains("truncated")),
        "{:?}",
        items[1]
    );
    assert_mbox_round_trips(&[items[0].as_ref().unwrap().clone()]);
    // a message without a final newline given to the writer gets one, and only one
    let mut w = MboxWriter::new(Vec::new());
    w.append(None, None, b"Subject: x\n\nno newline").unwrap();
    w.append(None, None, b"Subject: y\n\nnext\n").unwrap();
    let back = read_mbox_ok(&w.finish().unwrap(), Flavor::Mboxrd);
    assert_eq!(back[0].bytes, b"Subject: x\n\nno newline\n");
    assert_eq!(back[1].bytes, b"Subject: y\n\nnext\n");
}

#[test]
fn mbox_crlf_messages() {
    let data = corpus("mbox/crlf_messages.mbox");
    let msgs = read_mbox_ok(&data, Flavor::Mboxrd);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].bytes, b"Subject: crlf one\r\nFrom: a@example.org\r\n\r\nline one\r\nFrom escaped\r\n");
    assert_eq!(msgs[1].bytes, b"Subject: crlf two\r\n\r\nline two\r\n");
    assert_eq!(msgs[0].envelope_from.as_deref(), Some("a@example.org"), "no \\r in the envelope");
    assert!(msgs[0].received.is_some());
    assert_mbox_round_trips(&msgs);
}

#[test]
fn mbox_from_line_in_body_without_blank_line() {
    let data = corpus("mbox/from_line_in_body_without_blank_line.mbox");
    let msgs = read_mbox_ok(&data, Flavor::Mboxrd);
    assert_eq!(msgs.len(), 2, "a `From ` line not after an empty line does not start a message");
    assert!(msgs[0].bytes.windows(15).any(|w| w == b"\nFrom the desk "));
    assert_eq!(msgs[1].envelope_from.as_deref(), Some("b@example.org"));
    let out = assert_mbox_round_trips(&msgs);
    assert!(out.windows(16).any(|w| w == b"\n>From the desk "), "the writer escapes it");
}

#[test]
fn mbox_empty() {
    let data = corpus("mbox/empty.mbox");
    assert!(data.is_empty());
    assert!(read_mbox(&data, Flavor::Mboxrd).is_empty());
    assert!(read_mbox(&data, Flavor::Mboxo).is_empty());
    assert!(read_mbox(b"\n\n\r\n", Flavor::Mboxrd).is_empty(), "blank lines only is empty too");
    assert!(assert_mbox_round_trips(&[]).is_empty());
}

#[test]
fn mbox_leading_blank_lines() {
    let data = corpus("mbox/leading_blank_lines.mbox");
    let msgs = read_mbox_ok(&data, Flavor::Mboxrd);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].line, 4);
    assert_eq!(msgs[0].bytes, b"Subject: after blank lines\n\nbody\n");
    let out = assert_mbox_round_trips(&msgs);
    assert_eq!(&data[4..], &out[..], "written without the blank lines, otherwise the same");
}

// --- contacts CSV -------------------------------------------------------------------------

fn read_csv(data: &[u8]) -> (Layout, Vec<(u64, Contact)>) {
    let r = CsvContactsReader::new(data).unwrap();
    let layout = r.layout();
    (layout, r.map(|(line, c)| (line, c.unwrap_or_else(|e| panic!("line {line}: {e}")))).collect())
}

/// read -> CsvContactsWriter -> read: the same names, e-mails and phones (and what else
/// the Google layout has a column for).
fn assert_csv_round_trips(contacts: &[Contact]) {
    let mut w = CsvContactsWriter::new(Vec::new()).unwrap();
    for c in contacts {
        w.write(c, "corpus").unwrap();
    }
    let out = w.finish().unwrap();
    // rows made one by one (as a package stages them) make the same file
    let mut apart = ferry_codecs::contacts_csv::header_bytes().unwrap();
    for c in contacts {
        apart.extend(ferry_codecs::contacts_csv::row_bytes(c, "corpus").unwrap());
    }
    assert_eq!(apart, out, "rows made apart differ from the writer's");
    let (layout, back) = read_csv(&out);
    assert_eq!(layout, Layout::Google);
    assert_eq!(back.len(), contacts.len());
    for (a, (_, b)) in contacts.iter().zip(&back) {
        assert_eq!(a.formatted_name, b.formatted_name);
        assert_eq!(a.name, b.name);
        assert_eq!(a.emails, b.emails);
        assert_eq!(a.phones, b.phones);
        assert_eq!(a.note, b.note);
        assert_eq!(a.organization, b.organization);
        assert_eq!(a.birthday, b.birthday);
        assert_eq!(a.categories, b.categories);
        assert_eq!(a.nicknames, b.nicknames);
        assert_eq!(a.urls, b.urls);
        assert_eq!(a.addresses.len(), b.addresses.len());
    }
}

#[test]
fn csv_google_old_layout() {
    let (layout, rows) = read_csv(&corpus("csv/google_old_layout.csv"));
    assert_eq!(layout, Layout::Google);
    assert_eq!(rows.len(), 2);
    let ada = &rows[0].1;
    assert_eq!(ada.formatted_name, "Ada Lovelace");
    assert_eq!(ada.name.as_ref().unwrap().given, "Ada");
    assert_eq!(ada.emails, [tv("ada@example.org", &["home"], true), tv("ada@work.example", &["work"], false)]);
    assert_eq!(ada.phones, [tv("+44 20 0000 0001", &["cell"], false), tv("+44 20 0000 0002", &["home"], false)]);
    assert_eq!(ada.addresses[0].street, "12 St James's Square");
    assert_eq!(ada.addresses[0].postal_code, "SW1Y 4JH");
    assert_eq!(ada.organization.as_deref(), Some("Analytical Engines Ltd"));
    assert_eq!(ada.title.as_deref(), Some("Countess"));
    assert_eq!(ada.urls, ["https://ada.example"]);
    // "* My Contacts" is Google's system group, not a label the person made
    assert_eq!(ada.categories, ["Friends"]);
    let charles = &rows[1].1;
    assert!(charles.categories.is_empty(), "{:?}", charles.categories);
    assert_eq!(charles.phones.iter().map(|p| p.value.as_str()).collect::<Vec<_>>(), ["+44 20 0000 0003", "+44 20 0000 0004"]);
    let contacts: Vec<_> = rows.into_iter().map(|(_, c)| c).collect();
    assert_csv_round_trips(&contacts);
}

#[test]
fn csv_google_new_layout() {
    let (layout, rows) = read_csv(&corpus("csv/google_new_layout.csv"));
    assert_eq!(layout, Layout::Google);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3], "line numbers of the rows");
    let grace = &rows[0].1;
    assert_eq!(grace.formatted_name, "Rear Admiral Grace Brewster Hopper");
    assert_eq!(grace.nicknames, ["Amazing Grace"]);
    assert_eq!(grace.emails[0], tv("grace@navy.example", &["work"], true));
    assert_eq!(grace.phones[0], tv("+1 555 0100", &["cell"], false));
    assert_eq!(grace.categories, ["Pioneers"]);
    assert_eq!(grace.birthday.as_deref(), Some("1906-12-09"));
    assert_eq!(grace.addresses[0].region, "VA");
    let alan = &rows[1].1;
    assert_eq!(alan.emails.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), ["alan@example.org", "alan.turing@example.org"]);
    let contacts: Vec<_> = rows.into_iter().map(|(_, c)| c).collect();
    assert_csv_round_trips(&contacts);
}

#[test]
fn csv_outlook_with_bom() {
    let data = corpus("csv/outlook_with_bom.csv");
    assert!(data.starts_with(b"\xEF\xBB\xBF\"First Name\""));
    let (layout, rows) = read_csv(&data);
    assert_eq!(layout, Layout::Outlook);
    assert_eq!(rows.len(), 1);
    let m = &rows[0].1;
    assert_eq!(m.formatted_name, "Margaret Hamilton");
    assert_eq!(m.emails, [tv("margaret@example.com", &[], true), tv("mh@apollo.example", &[], false)]);
    assert_eq!(
        m.phones,
        [tv("+1 617 555 0102", &["cell"], false), tv("+1 617 555 0100", &["home"], false), tv("+1 617 555 0101", &["work"], false)]
    );
    assert_eq!(m.birthday, None, "Outlook's 0/0/00 means no birthday");
    assert_eq!(m.categories, ["Apollo", "Heroes"]);
    assert_eq!(m.addresses[0].country, "United States");
    let contacts: Vec<_> = rows.into_iter().map(|(_, c)| c).collect();
    assert_csv_round_trips(&contacts);
}

#[test]
fn csv_quoted_multiline_notes() {
    let (_, rows) = read_csv(&corpus("csv/quoted_multiline_notes.csv"));
    assert_eq!(rows.len(), 2, "the line breaks inside quotes do not start rows");
    assert_eq!(rows[0].1.note.as_deref(), Some("First line of the note\r\nsecond line, with a comma\r\nand a \"quoted\" word"));
    assert_eq!(rows[1].1.formatted_name, "Next Row");
    assert_eq!(rows[1].1.note.as_deref(), Some("single"));
    let contacts: Vec<_> = rows.into_iter().map(|(_, c)| c).collect();
    assert_csv_round_trips(&contacts);
}

// --- properties ---------------------------------------------------------------------------

/// Text with the characters vCard escapes, folding-sensitive ones and non-ASCII.
fn vcard_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\\".to_string()),
        Just("\\n".to_string()),
        Just("\n".to_string()),
        Just(":".to_string()),
        Just("\"".to_string()),
        Just(" ".to_string()),
        "[a-zA-Z0-9]{1,8}",
        "[éßüØ中文😀🦀\u{00a0}\u{200d}]{1,4}",
        "\\PC{1,8}",
    ];
    proptest::collection::vec(piece, 1..12)
        .prop_map(|v| v.concat())
        // values are trimmed where they are read; an all-blank value reads as empty
        .prop_filter("non-blank, no outer whitespace", |s| !s.trim().is_empty() && s.trim() == s)
}

fn vcard_contact() -> impl Strategy<Value = Contact> {
    (vcard_text(), vcard_text(), vcard_text(), vcard_text(), vcard_text(), vcard_text()).prop_map(
        |(fname, family, given, note, title, email)| Contact {
            uid: Some("prop-uid".into()),
            formatted_name: fname,
            name: Some(ContactName { family, given, ..Default::default() }),
            note: Some(note),
            title: Some(title),
            emails: vec![TypedValue { value: email, types: vec!["home".into()], preferred: true }],
            vcard_version: "4.0".into(),
            ..Default::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// build_v4 -> parse_card keeps every text value, whatever it holds.
    #[test]
    fn vcard_text_values_survive_build_and_parse(c in vcard_contact()) {
        let text = build_v4(&c);
        prop_assert!(text.lines().all(|l| l.len() <= 76), "lines are folded:\n{}", text);
        let back = parse_card(text.as_bytes(), 1).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &c, "{}", text);
        // and 4.0 -> 3.0 -> parse keeps it too
        let v3 = convert(text.as_bytes(), WriteVersion::V3).unwrap().text;
        let back3 = parse_card(v3.as_bytes(), 1).unwrap();
        prop_assert_eq!(surviving(&back3), surviving(&c), "{}", v3);
    }

    /// Any bytes but NUL, with `From ` lines (quoted or not) and mixed line ends: what is
    /// written as mboxrd reads back byte for byte.
    #[test]
    fn mbox_arbitrary_bodies_round_trip(
        messages in proptest::collection::vec(
            proptest::collection::vec(
                (
                    prop_oneof![Just(&b""[..]), Just(&b"From "[..]), Just(&b">From "[..]), Just(&b">>From "[..]), Just(&b"\r"[..])],
                    proptest::collection::vec(any::<u8>().prop_filter("no NUL, no LF", |b| *b != 0 && *b != b'\n'), 0..40),
                    prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..])],
                ),
                0..12,
            ),
            1..4,
        ),
        envelope in proptest::option::of("[a-z]{1,8}@[a-z]{1,8}\\.example"),
        secs in 0i64..4_000_000_000,
    ) {
        let received = chrono::DateTime::from_timestamp(secs, 0);
        let msgs: Vec<Vec<u8>> = messages
            .iter()
            .map(|lines| {
                let mut m = b"Subject: p\n\n".to_vec();
                for (prefix, body, eol) in lines {
                    m.extend_from_slice(prefix);
                    m.extend_from_slice(body);
                    m.extend_from_slice(eol);
                }
                m
            })
            .collect();
        let mut w = MboxWriter::new(Vec::new());
        for m in &msgs {
            w.append(envelope.as_deref(), received, m).unwrap();
        }
        let out = w.finish().unwrap();
        let back = read_mbox(&out, Flavor::Mboxrd);
        prop_assert_eq!(back.len(), msgs.len());
        for (m, b) in msgs.iter().zip(back) {
            let b = b.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&b.bytes, m);
            prop_assert_eq!(b.envelope_from.as_deref(), Some(envelope.as_deref().unwrap_or("MAILER-DAEMON")));
            prop_assert_eq!(b.received, received);
        }
    }

    /// The `:2,` suffix written for a set of flags reads back as the same set.
    #[test]
    fn maildir_flag_suffix_round_trips(
        unique in "[A-Za-z0-9._-]{1,40}",
        picks in proptest::collection::vec(any::<bool>(), 6),
        extra in proptest::collection::vec(prop_oneof![Just("$Label1"), Just("\\Recent"), Just("Junk")], 0..3),
        lower in any::<bool>(),
    ) {
        let all = ["\\Draft", "\\Flagged", "$Forwarded", "\\Answered", "\\Seen", "\\Deleted"];
        let chosen: Vec<String> = all.iter().zip(&picks).filter(|(_, p)| **p).map(|(f, _)| f.to_string()).collect();
        let mut given: Vec<String> = chosen.iter().rev().map(|f| if lower { f.to_lowercase() } else { f.clone() }).collect();
        given.extend(extra.iter().map(|s| s.to_string()));
        let suffix = maildir::flag_suffix(&given);
        prop_assert!(suffix.starts_with(":2,"));
        let letters = &suffix[3..];
        prop_assert!(letters.chars().zip(letters.chars().skip(1)).all(|(a, b)| a < b), "letters in ASCII order: {}", letters);
        let name = format!("{unique}{suffix}");
        let (u, flags) = maildir::parse_name(&name);
        prop_assert_eq!(u, unique.as_str());
        prop_assert_eq!(&flags, &chosen);
        // the `!2,` spelling some systems use reads the same
        let bang = format!("{unique}!2,{letters}");
        let (u2, flags2) = maildir::parse_name(&bang);
        prop_assert_eq!((u2, flags2), (unique.as_str(), chosen.clone()));
        let unrep = maildir::unrepresentable(&given);
        prop_assert!(unrep.iter().all(|f| f == "$Label1" || f == "Junk"));
        prop_assert_eq!(unrep.len(), extra.iter().filter(|e| **e != "\\Recent").count());
    }

    /// Names, e-mails, phones and notes with commas, quotes and line breaks survive the
    /// CSV writer and reader.
    #[test]
    fn csv_values_round_trip(
        given in "[A-Za-zé]([A-Za-zéü,\"' ]{0,12}[A-Za-zé])?",
        family in "[A-Za-zé]([A-Za-zéü,\"' ]{0,12}[A-Za-zé])?",
        note in "[a-z]([A-Za-z0-9,\"'\n ;]{0,40}[a-z])?",
        emails in proptest::collection::vec("[a-z0-9.+]{1,10}@[a-z]{1,8}\\.example", 0..5),
        phones in proptest::collection::vec("\\+[0-9]{1,3}( [0-9]{2,4}){1,3}", 0..5),
    ) {
        let c = Contact {
            formatted_name: format!("{given} {family}"),
            name: Some(ContactName { given, family, ..Default::default() }),
            emails: emails.iter().enumerate().map(|(i, e)| TypedValue { value: e.clone(), types: vec!["home".into()], preferred: i == 0 }).collect(),
            phones: phones.iter().map(|p| TypedValue { value: p.clone(), types: vec!["cell".into()], preferred: false }).collect(),
            note: Some(note),
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        let mut w = CsvContactsWriter::new(Vec::new()).unwrap();
        w.write(&c, "book").unwrap();
        let out = w.finish().unwrap();
        let (_, back) = read_csv(&out);
        prop_assert_eq!(back.len(), 1);
        let b = &back[0].1;
        prop_assert_eq!(&b.formatted_name, &c.formatted_name);
        prop_assert_eq!(&b.name, &c.name);
        prop_assert_eq!(&b.note, &c.note);
        prop_assert_eq!(b.emails.iter().map(|e| &e.value).collect::<Vec<_>>(), emails.iter().collect::<Vec<_>>());
        prop_assert_eq!(b.phones.iter().map(|p| &p.value).collect::<Vec<_>>(), phones.iter().collect::<Vec<_>>());
        // the types of the first two of each kind are kept; the third cell shares one label
        for (x, y) in b.emails.iter().zip(&c.emails).take(2) {
            prop_assert_eq!(x, y);
        }
    }

    /// The splitter hands out each card's bytes exactly as they stand in the input, at the
    /// offset it says, whatever the line ends, blank lines and a leading BOM.
    #[test]
    fn splitter_offsets_point_at_the_bytes(
        cards in proptest::collection::vec(("[A-Za-z][A-Za-z ]{0,19}", any::<bool>(), 0usize..3), 1..6),
        bom in any::<bool>(),
    ) {
        let mut input = Vec::new();
        if bom {
            input.extend_from_slice(b"\xEF\xBB\xBF");
        }
        for (name, crlf, blanks) in &cards {
            let eol = if *crlf { "\r\n" } else { "\n" };
            input.extend_from_slice(format!("BEGIN:VCARD{eol}VERSION:4.0{eol}FN:{name}{eol}END:VCARD{eol}").as_bytes());
            for _ in 0..*blanks {
                input.extend_from_slice(eol.as_bytes());
            }
        }
        let mut s = Splitter::new(&input[..], 0, Limits::default());
        let mut found = Vec::new();
        while let Some(p) = s.next_piece() {
            match p {
                Piece::Component(c) => {
                    let at = c.offset as usize;
                    prop_assert_eq!(&input[at..at + c.bytes.len()], &c.bytes[..]);
                    found.push(c);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(found.len(), cards.len());
        let names: Vec<_> = found.iter().map(|c| parse_card(&c.bytes, c.line).unwrap().formatted_name).collect();
        let want: Vec<_> = cards.iter().map(|c| c.0.clone()).collect();
        prop_assert_eq!(names, want);
    }
}
