//! Builds the final package from what is staged. Runs on a blocking thread: the staged
//! rows arrive, one pass at a time, over a bounded channel from the async side.

use crate::index::IndexRow;
use crate::journal::JournalReader;
use crate::layout::{self, safe_container, safe_segment};
use crate::manifest::{FileList, Manifest, VerticalSummary};
use crate::record::{ContentRef, PackageRecord, schemas};
use crate::sink::Sink;
use crate::writer::StagingState;
use crate::{FORMAT_NAME, FORMAT_VERSION, PackageError, readme};
use chrono::{DateTime, Utc};
use ferry_codecs::contacts_csv;
use ferry_codecs::ical::CalendarMerger;
use ferry_codecs::mbox::write_message;
use ferry_codecs::vcard::{WriteVersion, build_v4, convert};
use ferry_core::{Record, Vertical};
use ferry_verticals::{Frame, Per, StandardForm};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A staged content file: (path under the staging, size, SHA-256).
pub(crate) type Staged = Option<(String, u64, String)>;

/// One staged item as the assembly needs it.
pub(crate) struct StagedRow {
    pub id: String,
    pub container: String,
    /// The record, as staged (JSON): decoded only where a pass needs its fields.
    pub body: Vec<u8>,
    /// The item as the standard file holds it (a vCard 4.0), where it was made when staged.
    pub standard: Option<Vec<u8>>,
    /// A contact's CSV row, made when it was staged.
    pub csv: Option<Vec<u8>>,
    pub staged: Staged,
    pub media_type: String,
}

impl StagedRow {
    fn record(&self) -> Result<PackageRecord, PackageError> {
        serde_json::from_slice(&self.body).map_err(|e| PackageError::invalid(format!("staged record {}", self.id), e.to_string()))
    }
}

pub(crate) type RowResult = Result<StagedRow, PackageError>;

/// What the async side found in the staging before the assembly starts.
pub(crate) struct Plan {
    pub staging: PathBuf,
    pub created: DateTime<Utc>,
    pub source: String,
    pub job: String,
    /// Each vertical with items: its item count and containers.
    pub verticals: Vec<(Vertical, u64, Vec<String>)>,
}

/// The staged rows, read one pass at a time in package order, in chunks (memory stays
/// bounded whatever the item count).
pub(crate) struct Rows {
    pub state: Arc<Mutex<StagingState>>,
    pub journal: PathBuf,
}

/// Rows read from the index at once.
const CHUNK: usize = 512;

impl Rows {
    fn pass(&self, v: Vertical) -> Result<impl Iterator<Item = RowResult> + '_, PackageError> {
        let journal = JournalReader::open(&self.journal).map_err(|e| PackageError::io("cannot open the staged records", e))?;
        let mut after: Option<(String, String)> = None;
        let mut chunk = std::collections::VecDeque::new();
        let mut done = false;
        Ok(std::iter::from_fn(move || {
            if chunk.is_empty() && !done {
                let next = self
                    .state
                    .lock()
                    .map_err(|_| PackageError::Staging("poisoned".into()))
                    .and_then(|s| s.index.chunk(v.as_str(), after.as_ref(), CHUNK));
                match next {
                    Ok(rows) => {
                        done = rows.len() < CHUNK;
                        if let Some(last) = rows.last() {
                            after = Some((last.container.clone(), last.id.clone()));
                        }
                        chunk.extend(rows);
                    }
                    Err(e) => {
                        done = true;
                        return Some(Err(e));
                    }
                }
            }
            let row = chunk.pop_front()?;
            Some(read_row(row, &journal))
        }))
    }
}

/// An index row with its record read back from the journal (checked against its hash).
fn read_row(row: IndexRow, journal: &JournalReader) -> RowResult {
    let mut body = journal.read(&row.body).map_err(|e| PackageError::io("reading the staged records", e))?;
    // record | standard text | CSV row
    let csv = (row.csv_len > 0).then(|| body.split_off((row.body.len - row.csv_len) as usize));
    let standard = (row.std_len > 0).then(|| body.split_off((row.body.len - row.csv_len - row.std_len) as usize));
    Ok(StagedRow {
        id: row.id,
        container: row.container,
        body,
        standard,
        csv,
        staged: row.content,
        media_type: row.media_type.unwrap_or_default(),
    })
}

fn io_err(ctx: &str) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |e| PackageError::io(ctx, e)
}

/// Writes every staged item, the schemas, the READMEs and the manifest (last) to `sink`.
pub(crate) fn assemble(plan: &Plan, rows: &Rows, sink: &mut Sink) -> Result<(), PackageError> {
    let mut summaries = BTreeMap::new();
    for (v, count, containers) in &plan.verticals {
        write_vertical(plan, rows, sink, *v)?;
        summaries.insert(
            v.as_str().to_owned(),
            VerticalSummary { items: *count, containers: containers.clone(), records: layout::records_path(*v).into() },
        );
    }
    for (file, schema) in schemas() {
        sink.add_bytes(&format!("schemas/{file}"), "application/schema+json", &serde_json::to_vec_pretty(&schema).expect("json"))?;
    }
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        created: plan.created,
        generator: format!("ferry {}", env!("CARGO_PKG_VERSION")),
        source: plan.source.clone(),
        job: (!plan.job.is_empty()).then(|| plan.job.clone()),
        verticals: summaries,
        files: Vec::new(),
    };
    let (txt, html) = readme::render(&manifest);
    sink.add_bytes("README.txt", "text/plain; charset=utf-8", txt.as_bytes())?;
    sink.add_bytes("README.html", "text/html; charset=utf-8", html.as_bytes())?;
    // the list from here on holds only manifest.json, which the manifest does not list
    let files = std::mem::replace(&mut sink.files, FileList::new(&parts_path(&plan.staging).join("manifest.files"))?);
    let Manifest { format, version, created, generator, source, job, verticals, files: _ } = manifest;
    let manifest = Manifest { format, version, created, generator, source, job, verticals, files: files.finish()? };
    // written as it is serialized: it lists every file, and a package may hold many
    sink.start_stream("manifest.json", "application/json", true)?;
    let mut out = std::io::BufWriter::with_capacity(64 << 10, &mut *sink);
    serde_json::to_writer_pretty(&mut out, &manifest).map_err(|e| PackageError::io("writing manifest.json", e.into()))?;
    std::io::Write::flush(&mut out).map_err(io_err("writing manifest.json"))?;
    drop(out);
    sink.end_stream()
}

/// The passes over a vertical's staged items besides the standard format's, each writing
/// its own files of the package.
#[derive(Clone, Copy)]
enum Pass {
    /// The canonical records, with where each item's content is.
    Records,
    /// Contacts also as CSV.
    Csv,
    /// The CSV files the vertical's module declares (`Def::tables`).
    Tables,
}

/// Where the passes' parts are written (inside the staging) before they are joined.
pub(crate) fn parts_path(staging: &Path) -> PathBuf {
    staging.join("parts")
}

/// Runs a vertical's passes at once: the standard format (media and files, most of the
/// bytes) straight into the package on this thread, each other pass on its own thread into
/// its own part (compression is most of their work); then joins the parts after it in
/// order: the package holds the same files, in the same order, as when the passes ran one
/// after the other.
fn write_vertical(plan: &Plan, rows: &Rows, sink: &mut Sink, v: Vertical) -> Result<(), PackageError> {
    let mut passes = vec![Pass::Records];
    if v == Vertical::Contacts {
        passes.push(Pass::Csv);
    }
    if ferry_verticals::find(v).is_some_and(|d| !d.tables.is_empty()) {
        passes.push(Pass::Tables);
    }
    let dir = parts_path(&plan.staging);
    let parts = (0..passes.len()).map(|i| sink.part(&dir, &format!("{v}-{i}.zip"))).collect::<Result<Vec<_>, _>>()?;
    let (first, done): (Result<(), PackageError>, Vec<Result<Sink, PackageError>>) = std::thread::scope(|s| {
        let running: Vec<_> = passes
            .iter()
            .zip(parts)
            .map(|(&pass, mut part)| {
                s.spawn(move || {
                    match pass {
                        Pass::Records => records_pass(rows, &mut part, v),
                        Pass::Csv => csv_pass(rows, &mut part, v),
                        Pass::Tables => tables_pass(rows, &mut part, v),
                    }
                    .map(|()| part)
                })
            })
            .collect();
        let first = standard_pass(plan, rows, sink, v);
        let done = running
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Err(PackageError::Staging("a pass building the package stopped".into()))))
            .collect();
        (first, done)
    });
    first?;
    for part in done {
        sink.absorb(part?)?;
    }
    Ok(())
}

fn standard_pass(plan: &Plan, rows: &Rows, sink: &mut Sink, v: Vertical) -> Result<(), PackageError> {
    let form = ferry_verticals::find(v).and_then(|d| d.standard);
    if let Some(form) = form.filter(|f| f.per == Per::Item) {
        return item_files_pass(plan, rows, sink, v, form);
    }
    if let Some(form) = form
        && let Per::Framed(frame) = form.per
    {
        return framed_pass(plan, rows, sink, v, form, frame);
    }
    let staged_path = |f: &str| plan.staging.join(f);
    let mut namer = Namer::default();
    let mut open_path: Option<String> = None;
    let mut cal: Option<CalendarMerger> = None;
    for row in rows.pass(v)? {
        let row = row?;
        if let Some(path) = layout::standard_path(v, &row.container)
            && open_path.as_deref() != Some(&path)
        {
            if open_path.is_some() {
                if let Some(c) = cal.take() {
                    c.finish(sink).map_err(io_err("writing calendar"))?;
                }
                sink.end_stream()?;
            }
            let media_type = form.map_or("application/octet-stream", |f| f.media_type);
            // mail is mostly attachments that do not compress: stored, like media
            sink.start_stream(&path, media_type, v != Vertical::Mail)?;
            if matches!(v, Vertical::Calendar | Vertical::Tasks) {
                cal = Some(CalendarMerger::begin(sink, &row.container).map_err(io_err("writing calendar"))?);
            }
            open_path = Some(path);
        }
        if let Some(text) = &row.standard {
            sink.write_stream(text)?;
            continue;
        }
        let StagedRow { staged, media_type, .. } = &row;
        let rec = row.record()?;
        match &rec.record {
            Record::Contact(c) => {
                let original = rec.original().ok().flatten();
                let text = original.and_then(|o| convert(&o.bytes, WriteVersion::V4).ok()).map(|c| c.text).unwrap_or_else(|| build_v4(c));
                sink.write_stream(text.as_bytes())?;
            }
            Record::Event(_) | Record::Task(_) => {
                // items are checked when staged; one that still does not merge (staged by an
                // older ferry) is left out of the .ics only: its record keeps it, whole
                if let Ok(Some(o)) = rec.original() {
                    let mut piece = Vec::new();
                    if CalendarMerger::default().add(&mut piece, &o.bytes).is_ok() {
                        cal.as_mut().expect("open").add(sink, &o.bytes).map_err(|e| PackageError::invalid(&rec.id, e.to_string()))?;
                    }
                }
            }
            Record::Mail(m) => {
                let (file, _, _) = staged.as_ref().ok_or_else(|| PackageError::invalid(&rec.id, "message has no content"))?;
                let bytes = std::fs::read(staged_path(file)).map_err(io_err("reading staged message"))?;
                write_message(sink, m.envelope_from.as_deref(), m.received, &bytes).map_err(io_err("writing mbox"))?;
            }
            Record::Media(_) | Record::File(_) => {
                let (file, size, sha) = staged.as_ref().ok_or_else(|| PackageError::invalid(&rec.id, "item has no content"))?;
                let path = namer.path(v, &rec);
                sink.add_staged(&path, media_type, &staged_path(file), *size, sha, v == Vertical::Files)?;
            }
            // a later vertical's file is its staged standard text (above); its record keeps it
            Record::Other(_) => {}
        }
    }
    if open_path.is_some() {
        if let Some(c) = cal.take() {
            c.finish(sink).map_err(io_err("writing calendar"))?;
        }
        sink.end_stream()?;
    }
    Ok(())
}

fn records_pass(rows: &Rows, sink: &mut Sink, v: Vertical) -> Result<(), PackageError> {
    let records_path = layout::records_path(v);
    sink.start_stream(records_path, "application/jsonl", true)?;
    let mut namer = Namer::default();
    let mut mbox_index: BTreeMap<String, u64> = BTreeMap::new();
    let attaches = ferry_verticals::find(v).is_some_and(|d| d.codec.is_some());
    for row in rows.pass(v)? {
        let row = row?;
        // attached files: their staged paths become the package's (see `item_files_pass`)
        if attaches && row.body.windows(12).any(|w| w == b"\"attached\":[") {
            let mut rec = row.record()?;
            let names: Vec<String> = rec.attached.iter().map(|a| a.name.clone()).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            for (a, path) in rec.attached.iter_mut().zip(layout::attachment_paths(v, &rec.id, &names)) {
                a.content.path = path;
            }
            let mut line = serde_json::to_vec(&rec).expect("json");
            line.push(b'\n');
            sink.write_stream(&line)?;
            continue;
        }
        let Some((_, size, sha)) = &row.staged else {
            // nothing to add: the record goes as it was staged
            sink.write_stream(&row.body)?;
            sink.write_stream(b"\n")?;
            continue;
        };
        let (size, sha256, media_type) = (*size, sha.clone(), row.media_type.clone());
        let mut rec = row.record()?;
        rec.content = Some(if v == Vertical::Mail {
            let path = layout::standard_path(v, &rec.container).expect("mail has an mbox");
            let i = mbox_index.entry(path.clone()).or_default();
            let r = ContentRef { path, index: Some(*i), size, sha256, media_type };
            *i += 1;
            r
        } else {
            ContentRef { path: namer.path(v, &rec), index: None, size, sha256, media_type }
        });
        let mut line = serde_json::to_vec(&rec).expect("json");
        line.push(b'\n');
        sink.write_stream(&line)?;
    }
    sink.end_stream()
}

fn csv_pass(rows: &Rows, sink: &mut Sink, v: Vertical) -> Result<(), PackageError> {
    let bad = |e: ferry_codecs::CodecError| PackageError::invalid(layout::CONTACTS_CSV, e.to_string());
    sink.start_stream(layout::CONTACTS_CSV, "text/csv; charset=utf-8", true)?;
    sink.write_stream(&contacts_csv::header_bytes().map_err(bad)?)?;
    for row in rows.pass(v)? {
        let row = row?;
        if let Some(line) = &row.csv {
            sink.write_stream(line)?;
            continue;
        }
        // a row the staging could not make: from the record
        let rec = row.record()?;
        if let Record::Contact(c) = &rec.record {
            sink.write_stream(&contacts_csv::row_bytes(c, &rec.container).map_err(bad)?)?;
        }
    }
    sink.end_stream()
}

/// Each CSV (or JSON Lines) file the vertical declares, from its records (one pass over
/// them a file).
fn tables_pass(rows: &Rows, sink: &mut Sink, v: Vertical) -> Result<(), PackageError> {
    for table in ferry_verticals::find(v).map(|d| d.tables).unwrap_or_default() {
        let media_type = match table.path.rsplit_once('.').map(|(_, e)| e) {
            Some("jsonl") => "application/jsonl",
            Some("json") => "application/json",
            _ => "text/csv; charset=utf-8",
        };
        sink.start_stream(table.path, media_type, true)?;
        sink.write_stream(table.header.as_bytes())?;
        let mut first = true;
        for row in rows.pass(v)? {
            let rec = row?.record()?;
            for line in (table.rows)(&rec.record) {
                if !first {
                    sink.write_stream(table.separator.as_bytes())?;
                }
                first = false;
                sink.write_stream(line.as_bytes())?;
            }
        }
        sink.write_stream(table.footer.as_bytes())?;
        sink.end_stream()?;
    }
    Ok(())
}

/// Checks, when an item is staged, what the assembly will do with it, so that a bad item
/// fails then (one failed item) instead of failing the whole package at the end.
pub(crate) fn check_item(rec: &PackageRecord) -> Result<(), String> {
    let original = rec.original()?;
    if let (Record::Event(_) | Record::Task(_), Some(o)) = (&rec.record, &original) {
        CalendarMerger::default().add(&mut std::io::sink(), &o.bytes).map_err(|e| format!("not a usable calendar object: {e}"))?;
    }
    Ok(())
}

pub(crate) fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        t.year().clamp(1980, 2107) as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

/// Unique, safe file names for media and files, the same on every pass.
/// A vertical whose standard file holds one item (a note's `.md`): a file each, named
/// after the item, in its container's folder.
fn item_files_pass(plan: &Plan, rows: &Rows, sink: &mut Sink, v: Vertical, form: StandardForm) -> Result<(), PackageError> {
    let mut namer = Namer::default();
    for row in rows.pass(v)? {
        let row = row?;
        let rec = row.record()?;
        // its attached files, where the records pass says they are
        let names: Vec<&str> = rec.attached.iter().map(|a| a.name.as_str()).collect();
        for (a, path) in rec.attached.iter().zip(layout::attachment_paths(v, &rec.id, &names)) {
            let c = &a.content;
            sink.add_staged(&path, &c.media_type, &plan.staging.join(&c.path), c.size, &c.sha256, true)?;
        }
        let Some(text) = &row.standard else { continue };
        let stem = namer.item_stem(v, &rec, form.extension);
        sink.start_stream(&format!("{stem}.{}", form.extension), form.media_type, true)?;
        sink.write_stream(text)?;
        sink.end_stream()?;
        // the item's further files (a playlist's `.m3u8`), named as its standard file is
        for also in ferry_verticals::find(v).map(|d| d.item_files).unwrap_or_default() {
            if let Some(text) = (also.write)(&rec.record) {
                sink.start_stream(&format!("{stem}.{}", also.extension), also.media_type, true)?;
                sink.write_stream(text.as_bytes())?;
                sink.end_stream()?;
            }
        }
    }
    Ok(())
}

/// A vertical whose package file holds a container's items in a [`Frame`] (a FHIR Bundle,
/// an account's OFX): per container, the head, the items' parts, the tail, made from the
/// records; the items' attached files as [`item_files_pass`] writes them.
fn framed_pass(plan: &Plan, rows: &Rows, sink: &mut Sink, v: Vertical, form: StandardForm, frame: &Frame) -> Result<(), PackageError> {
    // what the heads and tails say of their containers, in a pass of its own (a small value
    // per container)
    let mut gathered: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    if let Some(gather) = frame.gather {
        for row in rows.pass(v)? {
            let rec = row?.record()?;
            gather(gathered.entry(rec.container.clone()).or_default(), &rec.record);
        }
    }
    let nothing = serde_json::Value::Null;
    if let Some(order) = frame.order {
        ordered_parts(rows, sink, v, form, frame, order, &gathered)?;
        return attached_files(plan, rows, sink, v);
    }
    // the open container, and whether a part was written in it
    let mut open: Option<(String, bool)> = None;
    let close = |sink: &mut Sink, container: &str| -> Result<(), PackageError> {
        sink.write_stream((frame.tail)(container, gathered.get(container).unwrap_or(&nothing)).as_bytes())?;
        sink.end_stream()
    };
    for row in rows.pass(v)? {
        let rec = row?.record()?;
        if open.as_ref().is_none_or(|(c, _)| *c != rec.container) {
            if let Some((c, _)) = open.take() {
                close(sink, &c)?;
            }
            let path = layout::standard_path(v, &rec.container).expect("a framed form has a file per container");
            sink.start_stream(&path, form.media_type, true)?;
            sink.write_stream((frame.head)(&rec.container, gathered.get(&rec.container).unwrap_or(&nothing)).as_bytes())?;
            open = Some((rec.container.clone(), false));
        }
        if let Some(part) = (frame.part)(&rec.id, &rec.record)
            && let Some((_, written)) = &mut open
        {
            if *written {
                sink.write_stream(frame.separator.as_bytes())?;
            }
            sink.write_stream(part.as_bytes())?;
            *written = true;
        }
    }
    if let Some((c, _)) = open {
        close(sink, &c)?;
    }
    attached_files(plan, rows, sink, v)
}

/// A framed form whose parts have an order of their own (a bookmark's place in its
/// folder): a container's parts are held until its last item, then written in that order
/// (items of one place in package order); a container without parts has no file.
fn ordered_parts(
    rows: &Rows,
    sink: &mut Sink,
    v: Vertical,
    form: StandardForm,
    frame: &Frame,
    order: fn(&Record) -> u64,
    gathered: &BTreeMap<String, serde_json::Value>,
) -> Result<(), PackageError> {
    let nothing = serde_json::Value::Null;
    let flush = |sink: &mut Sink, container: &str, parts: &mut Vec<(u64, String)>| -> Result<(), PackageError> {
        if parts.is_empty() {
            return Ok(());
        }
        parts.sort_by_key(|(k, _)| *k);
        let g = gathered.get(container).unwrap_or(&nothing);
        let path = layout::standard_path(v, container).expect("a framed form has a file per container");
        sink.start_stream(&path, form.media_type, true)?;
        sink.write_stream((frame.head)(container, g).as_bytes())?;
        for (i, (_, part)) in parts.drain(..).enumerate() {
            if i > 0 {
                sink.write_stream(frame.separator.as_bytes())?;
            }
            sink.write_stream(part.as_bytes())?;
        }
        sink.write_stream((frame.tail)(container, g).as_bytes())?;
        sink.end_stream()
    };
    let mut container: Option<String> = None;
    let mut parts: Vec<(u64, String)> = Vec::new();
    for row in rows.pass(v)? {
        let rec = row?.record()?;
        if container.as_deref() != Some(rec.container.as_str()) {
            if let Some(c) = container.take() {
                flush(sink, &c, &mut parts)?;
            }
            container = Some(rec.container.clone());
        }
        if let Some(part) = (frame.part)(&rec.id, &rec.record) {
            parts.push((order(&rec.record), part));
        }
    }
    if let Some(c) = container {
        flush(sink, &c, &mut parts)?;
    }
    Ok(())
}

/// The items' attached files (a workout's route), once no container's file is open: a
/// ZIP takes one file at a time.
fn attached_files(plan: &Plan, rows: &Rows, sink: &mut Sink, v: Vertical) -> Result<(), PackageError> {
    for row in rows.pass(v)? {
        let rec = row?.record()?;
        let names: Vec<&str> = rec.attached.iter().map(|a| a.name.as_str()).collect();
        for (a, path) in rec.attached.iter().zip(layout::attachment_paths(v, &rec.id, &names)) {
            let c = &a.content;
            sink.add_staged(&path, &c.media_type, &plan.staging.join(&c.path), c.size, &c.sha256, true)?;
        }
    }
    Ok(())
}

#[derive(Default)]
struct Namer {
    used: HashSet<String>,
    container: String,
}

impl Namer {
    fn path(&mut self, v: Vertical, rec: &PackageRecord) -> String {
        if rec.container != self.container {
            self.used.clear();
            self.container = rec.container.clone();
        }
        let name = match &rec.record {
            Record::Media(m) => m.file_name.clone(),
            Record::File(f) => f.name.clone(),
            // the last part of the id: a note's file name where it came from
            _ => rec.id.rsplit('/').next().unwrap_or(&rec.id).to_owned(),
        };
        let name = safe_segment(&name);
        let dir =
            if rec.container.is_empty() && v == Vertical::Files { String::new() } else { format!("{}/", safe_container(&rec.container)) };
        let (stem, ext) = match name.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
            _ => (name.clone(), String::new()),
        };
        let mut candidate = name.clone();
        let mut n = 1;
        while !self.used.insert(candidate.to_lowercase()) {
            n += 1;
            candidate = format!("{stem} ({n}){ext}");
        }
        format!("{}/{dir}{candidate}", v.as_str())
    }

    /// The path, without its extension, of an item's standard file (and of its further
    /// files): `VERTICAL/CONTAINER/NAME`, NAME the last part of its id without the
    /// extension it had (`idea.md`, `idea.txt`), unique within its container once it has
    /// `extension` (`Mr. Brightside` and `Mr. Jones` stay two names).
    fn item_stem(&mut self, v: Vertical, rec: &PackageRecord, extension: &str) -> String {
        if rec.container != self.container {
            self.used.clear();
            self.container = rec.container.clone();
        }
        let last = rec.id.rsplit('/').next().unwrap_or(&rec.id);
        let stem = match last.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() && (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()) => s,
            _ => last,
        };
        let stem = safe_segment(stem);
        let mut candidate = stem.clone();
        let mut n = 1;
        while !self.used.insert(format!("{candidate}.{extension}").to_lowercase()) {
            n += 1;
            candidate = format!("{stem} ({n})");
        }
        format!("{}/{}/{candidate}", v.as_str(), safe_container(&rec.container))
    }
}

/// Where the assembly writes before the package is moved into place: inside the locked,
/// private staging folder, so no other process or user can reach it.
pub(crate) fn build_path(staging: &Path) -> PathBuf {
    staging.join("package.tmp")
}
