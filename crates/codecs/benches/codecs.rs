//! Codec throughput: vCard cards/s, iCalendar events/s, mbox read and write MB/s.
//!
//!     CARGO_TARGET_DIR=... cargo bench -p ferry-codecs --bench codecs -- --warm-up-time 1 --measurement-time 3

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, black_box, criterion_group, criterion_main};
use ferry_codecs::Limits;
use ferry_codecs::ical::IcsReader;
use ferry_codecs::mbox::{Flavor, MboxReader, MboxWriter};
use ferry_codecs::vcard::VcardReader;
use std::io::Cursor;

const CARDS: usize = 10_000;
const EVENTS: usize = 10_000;
const MBOX_BYTES: usize = 50 << 20;

/// `CARDS` vCard 4.0 cards of the size address books have (about 600 bytes each).
fn vcards() -> Vec<u8> {
    let mut out = String::with_capacity(CARDS * 700);
    for i in 0..CARDS {
        out.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:00000000-0000-4000-8000-{i:012}\r\n\
             FN:Given{i} Family{i}\r\nN:Family{i};Given{i};M.;Dr.;\r\nNICKNAME:Nick{i}\r\n\
             EMAIL;TYPE=work;PREF=1:given{i}@work.example\r\nEMAIL;TYPE=home:g{i}@home.example\r\n\
             TEL;TYPE=cell:+1 555 {:04}\r\nTEL;TYPE=work,voice:+1 555 {:04}\r\n\
             ADR;TYPE=home:;;{i} Main Street;Springfield;IL;62701;USA\r\n\
             ORG:ACME\\, Inc.;Research\r\nTITLE:Engineer\r\nBDAY:1980-{:02}-{:02}\r\n\
             URL:https://example.com/people/{i}\r\nCATEGORIES:friends,work\r\n\
             NOTE:Met at the conference in {}\\; likes tea\\, not coffee. A longer note th\r\n at is folded over two lines.\r\n\
             X-CUSTOM;X-PARAM=1:value {i}\r\nEND:VCARD\r\n",
            i % 10_000,
            (i * 7) % 10_000,
            i % 12 + 1,
            i % 28 + 1,
            2000 + i % 25,
        ));
    }
    out.into_bytes()
}

/// One VCALENDAR with a VTIMEZONE and `EVENTS` VEVENTs (some recurring, with alarms).
fn ics() -> Vec<u8> {
    let mut out = String::with_capacity(EVENTS * 600);
    out.push_str(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ferry//bench//EN\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
         BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
         BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
         END:VTIMEZONE\r\n",
    );
    for i in 0..EVENTS {
        let (month, day, hour) = (i % 12 + 1, i % 28 + 1, 8 + i % 10);
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:event-{i}@bench.example\r\nDTSTAMP:20250101T000000Z\r\n\
             DTSTART;TZID=Europe/Berlin:2025{month:02}{day:02}T{hour:02}0000\r\n\
             DTEND;TZID=Europe/Berlin:2025{month:02}{day:02}T{:02}3000\r\n\
             SUMMARY:Meeting number {i}\r\nLOCATION:Room {}\r\n\
             DESCRIPTION:Agenda for meeting {i}: status\\, plans\\; and a long description t\r\n hat is folded.\r\n\
             ORGANIZER;CN=\"Boss, The\":mailto:boss@example.com\r\n\
             ATTENDEE;CN=Person {i};PARTSTAT=ACCEPTED:mailto:p{i}@example.com\r\n",
            hour + 1,
            i % 50,
        ));
        if i % 4 == 0 {
            out.push_str("RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20250210T090000\r\n");
        }
        if i % 3 == 0 {
            out.push_str("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n");
        }
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out.into_bytes()
}

/// Messages of 1–9 KB (with `From ` lines in the bodies that need escaping) adding up
/// to about `MBOX_BYTES`.
fn messages() -> Vec<Vec<u8>> {
    let mut msgs = Vec::new();
    let mut total = 0;
    let line = "The quick brown fox jumps over the lazy dog; lorem ipsum dolor sit amet, ok.\n";
    let mut i = 0usize;
    while total < MBOX_BYTES {
        let mut m = format!(
            "Message-ID: <{i}@bench.example>\nFrom: Sender {i} <s{i}@example.com>\nTo: r@example.com\n\
             Subject: Message {i}\nDate: Mon, 6 Jan 2025 09:00:00 +0100\nContent-Type: text/plain; charset=utf-8\n\n"
        );
        for l in 0..(12 + (i * 37) % 100) {
            if l % 25 == 7 {
                m.push_str("From the body, a line that mboxrd escapes\n");
            } else if l % 40 == 11 {
                m.push_str(">From an already quoted line\n");
            } else {
                m.push_str(line);
            }
        }
        total += m.len();
        msgs.push(m.into_bytes());
        i += 1;
    }
    msgs
}

fn write_all(msgs: &[Vec<u8>], capacity: usize) -> Vec<u8> {
    let mut w = MboxWriter::new(Vec::with_capacity(capacity));
    for m in msgs {
        w.append(Some("sender@example.com"), None, m).unwrap();
    }
    w.finish().unwrap()
}

fn bench_vcard(c: &mut Criterion) {
    let data = vcards();
    let mut g = c.benchmark_group("vcard");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Elements(CARDS as u64));
    g.bench_function(BenchmarkId::new("read_v4_cards", CARDS), |b| {
        b.iter(|| {
            let mut n = 0;
            for card in VcardReader::new(black_box(&data[..]), Limits::default()) {
                let card = card.unwrap();
                n += card.contact.emails.len();
            }
            assert_eq!(n, 2 * CARDS);
            n
        })
    });
    g.finish();
}

fn bench_ical(c: &mut Criterion) {
    let data = ics();
    let mut g = c.benchmark_group("ical");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function(BenchmarkId::new("read_vevents_with_vtimezone", EVENTS), |b| {
        b.iter(|| {
            let reader = IcsReader::new(Cursor::new(black_box(&data[..])), Limits::default()).unwrap();
            let mut n = 0;
            for o in reader {
                o.unwrap();
                n += 1;
            }
            assert_eq!(n, EVENTS);
            n
        })
    });
    g.finish();
}

fn bench_mbox(c: &mut Criterion) {
    let msgs = messages();
    let data = write_all(&msgs, MBOX_BYTES + (MBOX_BYTES >> 3));
    let mut g = c.benchmark_group("mbox");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function(BenchmarkId::new("read_mboxrd", format!("{}MB", data.len() >> 20)), |b| {
        b.iter(|| {
            let mut n = 0;
            for m in MboxReader::new(black_box(&data[..]), Flavor::Mboxrd, Limits::default()) {
                n += m.unwrap().bytes.len();
            }
            assert!(n > MBOX_BYTES);
            n
        })
    });
    g.bench_function(BenchmarkId::new("write_mboxrd", format!("{}MB", data.len() >> 20)), |b| {
        b.iter(|| {
            let out = write_all(black_box(&msgs), data.len());
            assert_eq!(out.len(), data.len());
            out
        })
    });
    g.finish();
}

criterion_group!(benches, bench_vcard, bench_ical, bench_mbox);
criterion_main!(benches);
