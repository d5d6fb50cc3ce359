//! iCalendar (and the shared line layer under vCard) against what real exporters write:
//! folds right after a property name (Sunbird, libical), TZID references in another case
//! or folded, several VCALENDARs in one file, empty calendars, VJOURNAL and other
//! components, folds that split a UTF-8 character, UTF-16 files (Outlook), hostile sizes.
//! The samples are under `tests/corpus/` and listed in `corpus.rs`'s CORPUS.

use ferry_codecs::ical::{CalendarMerger, CalendarObject, CalendarWriter, HEADER_LIMIT, IcsReader, timezone_warnings};
use ferry_codecs::vcard::VcardReader;
use ferry_codecs::{CodecError, Limits};
use ferry_core::Record;
use ferry_core::model::Event;
use proptest::prelude::*;
use std::io::Cursor;
use std::path::Path;

fn corpus(name: &str) -> Vec<u8> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_all(bytes: &[u8]) -> Vec<Result<CalendarObject, CodecError>> {
    IcsReader::new(Cursor::new(bytes), Limits::default()).unwrap().collect()
}

fn read_ok(bytes: &[u8]) -> Vec<CalendarObject> {
    read_all(bytes).into_iter().map(|o| o.unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn text(o: &CalendarObject) -> String {
    String::from_utf8(o.original.clone()).unwrap()
}

fn event(o: &CalendarObject) -> &Event {
    match &o.record {
        Record::Event(e) => e,
        other => panic!("not an event: {other:?}"),
    }
}

/// Writes the objects into one calendar and reads it back: as many objects, same records.
fn round_trip(objs: &[CalendarObject]) -> String {
    let mut w = CalendarWriter::new(Vec::new(), "test").unwrap();
    for o in objs {
        w.add(&o.original).unwrap();
    }
    let out = w.finish().unwrap();
    let back = read_ok(&out);
    assert_eq!(back.len(), objs.len());
    for (a, b) in objs.iter().zip(&back) {
        assert_eq!(a.record, b.record);
    }
    // a fold may split a character in the output too: the octets are kept as they were
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn sunbird_folds_right_after_the_name() {
    let objs = read_ok(&corpus("ical/sunbird_folded_after_name.ics"));
    // the master and its override are one object, found by their folded UID
    assert_eq!(objs.len(), 2, "{:?}", objs.iter().map(|o| &o.uid).collect::<Vec<_>>());
    assert_eq!(objs[0].uid, "3f8a1c02-6b3e-4a7d-9d41-5c2e0b7f6a10");
    let e = event(&objs[0]);
    assert_eq!(e.summary.as_deref(), Some("Jour fixe"));
    assert_eq!(e.overrides.len(), 1);
    assert_eq!(e.timezones, ["/mozilla.org/20070129_1/Europe/Berlin"]);
    assert_eq!(objs[1].uid, "a51c7e3e-1f0b-44a3-8e0c-2d6f3b9c8e21");
    // the time zone, named on a folded line, travels with both (the task's DUE is folded mid-TZID)
    for o in &objs {
        assert_eq!(text(o).matches("BEGIN:VTIMEZONE").count(), 1, "{}", text(o));
        assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    }
    let merged = round_trip(&objs);
    assert_eq!(merged.matches("BEGIN:VTIMEZONE").count(), 1);
}

#[test]
fn tzid_references_match_in_any_case_and_folded() {
    let objs = read_ok(&corpus("ical/tzid_case_and_folds.ics"));
    let by_uid = |uid: &str| objs.iter().find(|o| o.uid == uid).unwrap_or_else(|| panic!("{uid}"));
    for uid in ["lower-param@example.com", "other-case-value@example.com"] {
        let o = by_uid(uid);
        assert!(text(o).contains("BEGIN:VTIMEZONE\r\nTzid:America/New_Yo\r\n rk\r\n"), "{uid}: {}", text(o));
        assert!(o.warnings.is_empty(), "{uid}: {:?}", o.warnings);
    }
    let tokyo = by_uid("tokyo@example.com");
    assert!(text(tokyo).contains("TZID:\r\n Asia/Tokyo\r\n"), "{}", text(tokyo));
    assert_eq!(text(tokyo).matches("BEGIN:VTIMEZONE").count(), 1);
    let lisbon = by_uid("lisbon@example.com");
    assert!(!text(lisbon).contains("BEGIN:VTIMEZONE"));
    assert_eq!(lisbon.warnings.len(), 1);
    assert!(lisbon.warnings[0].contains("Europe/Lisbon"), "{:?}", lisbon.warnings);
    // an importer finds the same from the object alone
    for o in &objs {
        assert_eq!(timezone_warnings(&o.original), o.warnings, "{}", o.uid);
    }
}

#[test]
fn each_object_keeps_only_its_own_calendars_lines() {
    let objs = read_ok(&corpus("ical/several_vcalendars_methods.ics"));
    // the same UID in two calendars is two objects, one per calendar
    assert_eq!(objs.len(), 3);
    let summaries: Vec<_> = objs.iter().map(|o| event(o).summary.clone().unwrap()).collect();
    assert_eq!(summaries, ["Planning (work copy)", "Review", "Planning (invitation copy)"]);
    for o in &objs[..2] {
        let t = text(o);
        assert_eq!(t.matches("METHOD:").count(), 1, "{t}");
        assert!(t.contains("METHOD:PUBLISH\r\n") && t.contains("X-WR-CALNAME:Work\r\n") && t.contains("X-WR-CALDESC:Team meetings\r\n"));
        assert!(!t.contains("Outlook") && !t.contains("X-WR-CALNAME:Empty"), "{t}");
    }
    let t = text(&objs[2]);
    assert_eq!(t.matches("METHOD:").count(), 1, "{t}");
    assert!(t.contains("METHOD:REQUEST\r\n") && !t.contains("X-WR-CALNAME") && !t.contains("Google"), "{t}");
}

#[test]
fn an_empty_calendar_is_empty_not_an_error() {
    assert!(read_all(&corpus("ical/empty_vcalendar.ics")).is_empty());
    assert!(read_all(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_empty());
    // no calendar at all is still an error, and says which
    let e = IcsReader::new(Cursor::new(&b""[..]), Limits::default()).err().unwrap().to_string();
    assert!(e.contains("empty"), "{e}");
    let e = IcsReader::new(Cursor::new(&b"\r\n\r\n"[..]), Limits::default()).err().unwrap().to_string();
    assert!(e.contains("no BEGIN:VCALENDAR"), "{e}");
}

#[test]
fn vjournal_is_kept_and_other_components_are_named() {
    let items = read_all(&corpus("ical/vjournal_and_other_components.ics"));
    assert_eq!(items.len(), 5, "{items:?}");
    let journal = items[0].as_ref().unwrap();
    let e = event(journal);
    assert_eq!(e.summary.as_deref(), Some("Ideas for the offsite"));
    assert_eq!(e.description.as_deref(), Some("Book the room\nAsk about the projector"));
    assert!(e.end.is_none());
    assert!(text(journal).contains("BEGIN:VJOURNAL\r\nUID:20250402T101010Z-4242-1000-1-7@laptop\r\n"));
    for (i, (name, line)) in [("VFREEBUSY", 14), ("VAVAILABILITY", 21), ("X-VENDOR-NOTEBOOK", 32)].into_iter().enumerate() {
        match &items[i + 1] {
            Err(err @ CodecError::Syntax { line: l, reason }) => {
                assert!(reason.contains(&format!("BEGIN:{name}")), "{reason}");
                assert!(!reason.contains("no VEVENT or VTODO"), "{reason}");
                assert_eq!(*l, line, "{err}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(event(items[4].as_ref().unwrap()).summary.as_deref(), Some("Still read"));
    // a journal goes into a merged calendar like an event
    let out = round_trip(std::slice::from_ref(journal));
    assert!(out.contains("BEGIN:VJOURNAL"));
}

#[test]
fn folds_that_split_a_character_are_read() {
    let data = corpus("ical/folded_multibyte_utf8.ics");
    assert!(std::str::from_utf8(&data).is_err(), "the sample must split a character at a fold");
    let objs = read_ok(&data);
    let e = event(&objs[0]);
    assert_eq!(e.summary.as_deref(), Some("Réunion de préparation à l’assemblée générale des copropriétaires — ordre du jour"));
    assert_eq!(e.description.as_deref(), Some("Привет! Обсуждение бюджета и графика работ на следующий квартал для всех участников"));
    assert_eq!(objs[0].original.len(), data.len(), "the original is kept byte for byte");
    round_trip(&objs);

    let vcf = corpus("vcard/folded_multibyte_utf8.vcf");
    assert!(std::str::from_utf8(&vcf).is_err());
    let cards: Vec<_> = VcardReader::new(&vcf[..], Limits::default()).map(|c| c.unwrap_or_else(|e| panic!("{e}"))).collect();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].contact.formatted_name, "Zoë Ångström-Øyvindsdóttir née Müller, Ärztin für Allgemeinmedizin in München");
    assert_eq!(cards[0].contact.note.as_deref(), Some("日本語のメモ：来週の打ち合わせの前に資料を送ってください。よろしくお願いします。"));
    assert_eq!(cards[0].original, vcf);
}

#[test]
fn utf16_files_are_decoded() {
    let data = corpus("ical/utf16le_bom_outlook.ics");
    assert_eq!(&data[..4], b"\xFF\xFEB\0");
    let objs = read_ok(&data);
    assert_eq!(objs.len(), 1);
    let e = event(&objs[0]);
    assert_eq!(e.summary.as_deref(), Some("Quartalsgespräch"));
    assert_eq!(e.location.as_deref(), Some("Besprechungsraum Süd"));
    assert_eq!(e.description.as_deref(), Some("Bitte Unterlagen mitbringen 📎\n"));
    assert_eq!(e.start.as_ref().unwrap().tzid.as_deref(), Some("W. Europe Standard Time"));
    let t = text(&objs[0]);
    assert!(t.contains("BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n") && t.contains("METHOD:PUBLISH\r\n"), "{t}");
    assert!(objs[0].warnings.is_empty());
    round_trip(&objs);

    let vcf = corpus("vcard/utf16le_bom.vcf");
    let cards: Vec<_> = VcardReader::new(&vcf[..], Limits::default()).map(|c| c.unwrap_or_else(|e| panic!("{e}"))).collect();
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0].contact.formatted_name, "Jürgen Weiß");
    assert_eq!(cards[0].contact.organization.as_deref(), Some("Bäckerei Weiß GmbH"));
    assert_eq!(cards[1].contact.formatted_name, "Hana Ōtsuka 🌸");
    assert_eq!(cards[1].line, 11);
    assert!(std::str::from_utf8(&cards[1].original).unwrap().starts_with("BEGIN:VCARD\r\nVERSION:2.1\r\n"));
}

#[test]
fn utf16_big_endian_many_events_seek_back_and_forth() {
    // more than one decoding checkpoint (64 KiB), with the master at the start and its
    // override at the end, so the second pass seeks far back and forth
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
    text.push_str("BEGIN:VEVENT\r\nUID:master\r\nDTSTART:20250101T100000Z\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Täglich\r\nEND:VEVENT\r\n");
    for i in 0..3000 {
        text.push_str(&format!("BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTART:20250101T100000Z\r\nSUMMARY:Ereignis {i} – ü\r\nEND:VEVENT\r\n"));
    }
    text.push_str(
        "BEGIN:VEVENT\r\nUID:master\r\nRECURRENCE-ID:20250102T100000Z\r\nDTSTART:20250102T120000Z\r\nSUMMARY:Verschoben\r\nEND:VEVENT\r\n",
    );
    text.push_str("END:VCALENDAR\r\n");
    let mut data = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        data.extend_from_slice(&u.to_be_bytes());
    }
    let objs = read_ok(&data);
    assert_eq!(objs.len(), 3001);
    assert_eq!(event(&objs[0]).overrides.len(), 1);
    assert!(text_of(&objs[0]).ends_with("SUMMARY:Verschoben\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
    assert_eq!(event(&objs[2999]).summary.as_deref(), Some("Ereignis 2998 – ü"));
}

fn text_of(o: &CalendarObject) -> String {
    text(o)
}

#[test]
fn hostile_header_does_not_amplify() {
    // thousands of calendar-level lines and thousands of events: each event used to get
    // every line, de-duplicated quadratically
    let mut f = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n");
    for i in 0..4000 {
        f.push_str(&format!("X-FILLER-{i}:some calendar-level text\r\n"));
    }
    for i in 0..4000 {
        f.push_str(&format!("BEGIN:VEVENT\r\nUID:ev{i}\r\nDTSTART:20250101T100000Z\r\nSUMMARY:e{i}\r\nEND:VEVENT\r\n"));
    }
    f.push_str("END:VCALENDAR\r\n");
    let mut out_bytes = 0usize;
    let mut events = 0;
    let mut errors = Vec::new();
    for item in IcsReader::new(Cursor::new(f.as_bytes()), Limits::default()).unwrap() {
        match item {
            Ok(o) => {
                events += 1;
                out_bytes += o.original.len();
                assert!(o.original.len() < HEADER_LIMIT + 200, "{}", o.original.len());
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert_eq!(events, 4000);
    // each object: its own event, the VCALENDAR lines around it and at most HEADER_LIMIT
    // bytes of the calendar's lines (it used to be all 4000 of them: 560 MB)
    assert!(out_bytes <= f.len() + events * (HEADER_LIMIT + 32), "{out_bytes} bytes out of {} in", f.len());
    assert!(out_bytes < 40 * f.len(), "{out_bytes} bytes out of {} in", f.len());
    // the lines past the limit are reported once, with the line where they start
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("line ") && errors[0].contains("not copied"), "{errors:?}");
}

#[test]
fn merger_refuses_one_bad_object_and_goes_on() {
    let good = read_ok(&corpus("ical/sunbird_folded_after_name.ics"));
    let broken =
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:broken\r\nSUMMARY:half an event\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n";
    let empty = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    let mut out = Vec::new();
    let mut m = CalendarMerger::begin(&mut out, "Mixed").unwrap();
    m.add(&mut out, &good[0].original).unwrap();
    let before = out.len();
    let e = m.add(&mut out, broken).unwrap_err();
    assert!(matches!(e, CodecError::Syntax { .. }), "{e}");
    assert!(e.to_string().starts_with("line "), "{e}");
    assert!(m.add(&mut out, empty).is_err());
    assert!(m.add(&mut out, b"not a calendar at all\r\n").is_err());
    assert_eq!(out.len(), before, "nothing of a refused object is written");
    m.add(&mut out, &good[1].original).unwrap();
    m.finish(&mut out).unwrap();
    let back = read_ok(&out);
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].record, good[0].record);
    assert_eq!(back[1].record, good[1].record);
}

#[test]
fn a_failing_input_ends_the_read() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let head = b"BEGIN:VCARD\r\nFN:x\r\n";
            if self.0 < head.len() {
                let n = (head.len() - self.0).min(buf.len());
                buf[..n].copy_from_slice(&head[self.0..self.0 + n]);
                self.0 += n;
                return Ok(n);
            }
            Err(std::io::Error::other("disk gone"))
        }
    }
    let items: Vec<_> = VcardReader::new(std::io::BufReader::new(Failing(0)), Limits::default()).take(10).collect();
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(matches!(&items[0], Err(CodecError::Io(_))), "{items:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the bytes, reading neither panics nor runs away.
    #[test]
    fn any_input_reads_without_panic(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("BEGIN:VCALENDAR".to_owned()), Just("END:VCALENDAR".to_owned()),
                Just("BEGIN:VEVENT".to_owned()), Just("END:VEVENT".to_owned()),
                Just("BEGIN:VTIMEZONE".to_owned()), Just("END:VTIMEZONE".to_owned()),
                Just("BEGIN:VJOURNAL".to_owned()), Just("END:VJOURNAL".to_owned()),
                Just("UID".to_owned()), Just(" :x".to_owned()), Just("TZID:a".to_owned()),
                Just("DTSTART;tzid=a:20250101T000000".to_owned()), Just(" ".to_owned()),
                "[ -~]{0,12}", "\\PC{0,6}",
            ],
            0..40,
        ),
        utf16 in any::<bool>(),
        lf in any::<bool>(),
    ) {
        let text = lines.join(if lf { "\n" } else { "\r\n" });
        let data: Vec<u8> = if utf16 {
            let mut d = vec![0xFF, 0xFE];
            d.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            d
        } else {
            text.into_bytes()
        };
        let limits = Limits { max_line: 64, max_record: 512 };
        if let Ok(r) = IcsReader::new(Cursor::new(&data), limits) {
            let mut w = CalendarWriter::new(Vec::new(), "p").unwrap();
            for o in r.take(100).flatten() {
                let _ = w.add(&o.original);
            }
            w.finish().unwrap();
        }
        let n = VcardReader::new(&data[..], limits).take(1000).count();
        prop_assert!(n < 1000);
    }
}

#[test]
fn events_after_an_overlong_line_are_read_from_the_right_place() {
    let f = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:long\r\nDESCRIPTION:{}\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:after\r\nSUMMARY:Fine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "x".repeat(500)
    );
    let items: Vec<_> = IcsReader::new(Cursor::new(f.as_bytes()), Limits { max_line: 100, max_record: 1 << 20 }).unwrap().collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(&items[0], Err(CodecError::LineTooLong { line: 5, .. })), "{items:?}");
    let after = items[1].as_ref().unwrap();
    assert_eq!(event(after).summary.as_deref(), Some("Fine"));
    assert!(text(after).contains("BEGIN:VEVENT\r\nUID:after\r\n"), "{}", text(after));
}
