//! The response package: what the person receives. A folder (see `docs/requests.md`,
//! "The response package"):
//!
//! ```text
//! manifest.json                        what is in it, what was left out or withheld and why
//! data/<database>/<table>.jsonl        one JSON object per row, fields in map order
//! data/<database>/<table>.csv          the same rows, a header line of field names
//! data/<database>/<table>.vcf          contacts (a table the map says are): vCard 4.0
//! data/<database>/<table>.ics          events (likewise): iCalendar
//! schemas/<database>/<table>.schema.json   JSON Schema of a row, descriptions from the map
//! report.html                          access only: the readable report
//! ```
//!
//! Rows are streamed from the extraction into the files, hashed as they are written;
//! the report shows the first [`REPORT_ROWS`] rows of each table (the data files hold
//! all). [`seal`] makes the finished folder one age-encrypted ZIP.

use crate::extract::{ExtractError, Extracted, Extractor, Identity, Sink, TableOut};
use crate::kind::Part;
use crate::map::{DatasetMap, Vertical, VerticalKind};
use crate::regime::Regime;
use crate::scope::{Omission, PartScope};
use crate::standard::{self, Fields};
use crate::supplementary::{self, Information};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The format name in every manifest.
pub const FORMAT: &str = "ferry-response-package";
pub const VERSION: u32 = 1;

/// Rows of each table the HTML report shows.
pub const REPORT_ROWS: usize = 500;

/// Characters of one value the HTML report shows.
const REPORT_CELL_CHARS: usize = 2000;

/// The package's table of contents, `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub regime: String,
    pub part: Part,
    pub right: String,
    pub article: String,
    /// The identity the person was found by.
    pub identity: Identity,
    /// The day the answer was drawn up as of (the look-back counts back from it).
    pub as_of: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Only rows recorded on or after this day were delivered (tables with `recorded_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_since: Option<NaiveDate>,
    /// True when no row of the person was found.
    pub empty: bool,
    /// What the package holds, in a sentence.
    pub statement: String,
    pub tables: Vec<ManifestTable>,
    /// Columns not delivered because the right does not cover them, by reason.
    pub left_out: Vec<Omission>,
    /// Columns covered but withheld (their values are null), by reason.
    pub withheld: Vec<Omission>,
    /// Rows staff withheld on review, each with its reason (not in the data files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows_withheld: Vec<RowWithheld>,
    /// Every other file of the package.
    pub files: Vec<FileEntry>,
}

/// A row withheld on review: which, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RowWithheld {
    pub database: String,
    pub table: String,
    /// The row's [`row_id`].
    pub row: String,
    pub reason: String,
}

/// A row's id within a package: the first 16 hex digits of the SHA-256 of its database,
/// table and JSON Lines line (without the line end). The same row drawn up again has
/// the same id, so that a row withheld on review stays withheld.
pub fn row_id(database: &str, table: &str, line: &str) -> String {
    let mut h = Sha256::new();
    for part in [database, table, line] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// One table of the answer.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestTable {
    pub database: String,
    pub table: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub rows: u64,
    /// The fields of each row, in order.
    pub fields: Vec<String>,
    /// The fields that are withheld, and why.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub withheld: BTreeMap<String, String>,
    /// Its JSON Lines, CSV and JSON Schema files (none when it has no rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jsonl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The rows in a standard format, when the map says they are of a vertical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<StandardFile>,
}

/// A table's rows in a standard format: contacts as vCard, events as iCalendar.
#[derive(Debug, Clone, Serialize)]
pub struct StandardFile {
    pub kind: VerticalKind,
    pub path: String,
    pub media_type: String,
    /// `vCard 4.0 (RFC 6350)` or `iCalendar 2.0 (RFC 5545)`.
    pub format: String,
    /// Records written (cards or events).
    pub records: u64,
    /// Rows that could not be one (an event without a start that is a date or a time, a
    /// contact with nothing to show as its name); they are in the JSON Lines and CSV files.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: u64,
    /// Standard field → the column it came from (the delivered ones only).
    pub fields: BTreeMap<String, String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One file of the package.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    pub media_type: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Extracts the person's rows for `part` and writes the package into `dir` (created;
/// it must not exist). Returns the manifest written. On an error the folder is removed.
pub async fn write_package(
    extractor: &mut Extractor,
    regime: &Regime,
    part: &PartScope,
    identity: &Identity,
    as_of: NaiveDate,
    dir: &Path,
) -> Result<Manifest, ExtractError> {
    write_package_withholding(extractor, regime, part, identity, as_of, dir, &[]).await
}

/// [`write_package`], leaving out the rows staff withheld on review (matched by
/// [`row_id`]); the manifest lists each with its reason.
pub async fn write_package_withholding(
    extractor: &mut Extractor,
    regime: &Regime,
    part: &PartScope,
    identity: &Identity,
    as_of: NaiveDate,
    dir: &Path,
    withheld_rows: &[RowWithheld],
) -> Result<Manifest, ExtractError> {
    let io_err = |e: io::Error| ExtractError::Sink(format!("writing the package in {}: {e}", dir.display()));
    std::fs::create_dir(dir).map_err(io_err)?;
    let verticals = extractor
        .map()
        .databases
        .iter()
        .flat_map(|d| d.tables.iter().filter_map(|t| Some(((d.name.clone(), t.name.clone()), t.vertical.clone()?))))
        .collect();
    let mut withhold: BTreeMap<(String, String), BTreeMap<String, &RowWithheld>> = BTreeMap::new();
    for w in withheld_rows {
        withhold.entry((w.database.clone(), w.table.clone())).or_default().insert(w.row.clone(), w);
    }
    let mut writer = Writer {
        dir: dir.to_path_buf(),
        open: BTreeMap::new(),
        names: BTreeMap::new(),
        report: part.part == Part::Access,
        verticals,
        created_at: Utc::now(),
        withhold,
        skipped: Vec::new(),
    };
    let outcome = match extractor.extract(part, identity, as_of, &mut writer).await {
        Ok(extracted) => writer.finish(extractor.map(), regime, part, identity, as_of, &extracted).map_err(io_err),
        Err(e) => Err(e),
    };
    if outcome.is_err() {
        // the folder is ours (made above): a half-written answer is a person's data left about
        let _ = std::fs::remove_dir_all(dir);
    }
    outcome
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing { inner, hasher: Sha256::new(), bytes: 0 }
    }

    fn entry(mut self, path: &str, media_type: &str) -> io::Result<FileEntry> {
        self.inner.flush()?;
        Ok(FileEntry {
            path: path.to_string(),
            media_type: media_type.to_string(),
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

type Out = Hashing<BufWriter<File>>;

/// The open files of one table.
struct Open {
    stem: String,
    jsonl: Out,
    csv: csv::Writer<Out>,
    /// The first rows, for the report.
    shown: Vec<Vec<Value>>,
    /// The standard file, for a table of a vertical.
    standard: Option<Standard>,
}

/// A standard file being written.
struct Standard {
    fields: Fields,
    path: String,
    out: Out,
    records: u64,
    skipped: u64,
}

struct Writer<'a> {
    dir: PathBuf,
    open: BTreeMap<(String, String), Open>,
    /// File stems given out, to keep two tables from one file.
    names: BTreeMap<String, (String, String)>,
    report: bool,
    /// The verticals of the map's tables, by (database, table).
    verticals: BTreeMap<(String, String), Vertical>,
    created_at: DateTime<Utc>,
    /// Rows to leave out, by table and row id.
    withhold: BTreeMap<(String, String), BTreeMap<String, &'a RowWithheld>>,
    /// The rows left out so far.
    skipped: Vec<RowWithheld>,
}

/// A name safe as one path component: letters, digits, `_`, `-` and `.`, not starting with a dot.
fn safe(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' { c } else { '_' }).collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "_".to_string() } else { s }
}

fn create(path: &Path) -> io::Result<Out> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    Ok(Hashing::new(BufWriter::with_capacity(64 * 1024, File::options().write(true).create_new(true).open(path)?)))
}

impl Writer<'_> {
    fn stem(&mut self, database: &str, table: &str) -> String {
        let base = format!("{}/{}", safe(database), safe(table));
        let mut stem = base.clone();
        let mut n = 2;
        while self.names.get(&stem).is_some_and(|owner| *owner != (database.to_string(), table.to_string())) {
            stem = format!("{base}-{n}");
            n += 1;
        }
        self.names.insert(stem.clone(), (database.to_string(), table.to_string()));
        stem
    }

    fn open(&mut self, table: &TableOut) -> io::Result<&mut Open> {
        let key = (table.database.clone(), table.table.clone());
        if !self.open.contains_key(&key) {
            let stem = self.stem(&table.database, &table.table);
            let jsonl = create(&self.dir.join(format!("data/{stem}.jsonl")))?;
            let mut csv = csv::Writer::from_writer(create(&self.dir.join(format!("data/{stem}.csv")))?);
            csv.write_record(table.columns.iter().map(|c| c.name.as_str())).map_err(io::Error::other)?;
            let standard = match self.verticals.get(&key) {
                Some(vertical) => {
                    let fields = Fields::new(vertical, table);
                    let path = format!("data/{stem}.{}", fields.kind.extension());
                    let mut out = create(&self.dir.join(&path))?;
                    out.write_all(fields.begin().as_bytes())?;
                    Some(Standard { fields, path, out, records: 0, skipped: 0 })
                }
                None => None,
            };
            self.open.insert(key.clone(), Open { stem, jsonl, csv, shown: Vec::new(), standard });
        }
        Ok(self.open.get_mut(&key).expect("just opened"))
    }

    fn write_row(&mut self, table: &TableOut, values: Vec<Value>) -> io::Result<()> {
        let report = self.report;
        let stamp = standard::stamp(self.created_at);
        let mut line = String::from("{");
        for (i, (c, v)) in table.columns.iter().zip(&values).enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&Value::String(c.name.clone()).to_string());
            line.push(':');
            line.push_str(&v.to_string());
        }
        line.push('}');
        if let Some(rows) = self.withhold.get(&(table.database.clone(), table.table.clone()))
            && let Some(w) = rows.get(&row_id(&table.database, &table.table, &line))
        {
            self.skipped.push((*w).clone());
            return Ok(());
        }
        line.push('\n');
        let open = self.open(table)?;
        open.jsonl.write_all(line.as_bytes())?;
        open.csv.write_record(values.iter().map(csv_cell)).map_err(io::Error::other)?;
        if let Some(st) = &mut open.standard {
            match st.fields.record(&values, &stamp) {
                Some(record) => {
                    st.out.write_all(record.as_bytes())?;
                    st.records += 1;
                }
                None => st.skipped += 1,
            }
        }
        if report && open.shown.len() < REPORT_ROWS {
            open.shown.push(values);
        }
        Ok(())
    }

    fn finish(
        mut self,
        map: &DatasetMap,
        regime: &Regime,
        part: &PartScope,
        identity: &Identity,
        as_of: NaiveDate,
        extracted: &Extracted,
    ) -> io::Result<Manifest> {
        let mut files = Vec::new();
        let mut tables = Vec::new();
        let mut shown = Vec::new();
        for (out, rows) in &extracted.tables {
            let table = map.database(&out.database).and_then(|d| d.table(&out.table));
            let mut entry = ManifestTable {
                database: out.database.clone(),
                table: out.table.clone(),
                description: table.and_then(|t| t.description.clone()),
                rows: rows - self.skipped.iter().filter(|w| w.database == out.database && w.table == out.table).count() as u64,
                fields: out.columns.iter().map(|c| c.name.clone()).collect(),
                withheld: out.columns.iter().filter_map(|c| Some((c.name.clone(), c.withheld.clone()?))).collect(),
                jsonl: None,
                csv: None,
                schema: None,
                standard: None,
            };
            if let Some(mut open) = self.open.remove(&(out.database.clone(), out.table.clone())) {
                let (jsonl, csv) = (format!("data/{}.jsonl", open.stem), format!("data/{}.csv", open.stem));
                files.push(open.jsonl.entry(&jsonl, "application/jsonl")?);
                files.push(open.csv.into_inner().map_err(|e| io::Error::other(e.to_string()))?.entry(&csv, "text/csv")?);
                if let Some(mut st) = open.standard.take_if(|st| st.records == 0) {
                    // no row could be a record (none had a name or a start to show):
                    // no file, which would be an empty or, for events, invalid one
                    st.out.flush()?;
                    drop(st.out);
                    std::fs::remove_file(self.dir.join(&st.path))?;
                }
                if let Some(mut st) = open.standard {
                    st.out.write_all(st.fields.end().as_bytes())?;
                    let media_type = st.fields.kind.media_type();
                    files.push(st.out.entry(&st.path, media_type)?);
                    entry.standard = Some(StandardFile {
                        kind: st.fields.kind,
                        path: st.path,
                        media_type: media_type.to_string(),
                        format: match st.fields.kind {
                            VerticalKind::Contacts => "vCard 4.0 (RFC 6350)",
                            VerticalKind::Events => "iCalendar 2.0 (RFC 5545)",
                        }
                        .to_string(),
                        records: st.records,
                        skipped: st.skipped,
                        fields: st.fields.described(out).into_iter().collect(),
                    });
                }
                let schema_path = format!("schemas/{}.schema.json", open.stem);
                let mut schema = table_schema(map, out);
                if let (Some(st), Some(obj)) = (&entry.standard, schema.as_object_mut()) {
                    obj.insert(
                        "x-standard-file".into(),
                        serde_json::json!({ "path": st.path, "media_type": st.media_type, "format": st.format, "fields": st.fields }),
                    );
                }
                let schema = serde_json::to_vec_pretty(&schema).map_err(io::Error::other)?;
                files.push(write_file(&self.dir, &schema_path, "application/schema+json", &schema)?);
                entry.jsonl = Some(jsonl);
                entry.csv = Some(csv);
                entry.schema = Some(schema_path);
                shown.push((out.clone(), open.shown));
            } else {
                shown.push((out.clone(), Vec::new()));
            }
            tables.push(entry);
        }
        let total: u64 = tables.iter().map(|t| t.rows).sum();
        let empty = total == 0 && self.skipped.is_empty();
        let mut statement = if total == 0 {
            format!(
                "We found no personal data about you ({} {}) in the databases this answer covers{}.",
                identity.kind,
                identity.value,
                extracted.since.map(|d| format!(" recorded since {d}")).unwrap_or_default()
            )
        } else {
            let with_rows = tables.iter().filter(|t| t.rows > 0).count();
            format!("This package holds {total} record(s) about you from {with_rows} table(s).")
        };
        if !self.skipped.is_empty() {
            statement = format!(
                "This package holds {total} record(s) about you; {} more were withheld, each for the reason the manifest gives.",
                self.skipped.len()
            );
        }
        let mut manifest = Manifest {
            format: FORMAT.to_string(),
            version: VERSION,
            regime: regime.id.clone(),
            part: part.part,
            right: part.right.clone(),
            article: part.article.clone(),
            identity: identity.clone(),
            as_of,
            created_at: self.created_at,
            recorded_since: extracted.since,
            empty,
            statement,
            tables,
            left_out: part.left_out.clone(),
            withheld: part.withheld.clone(),
            rows_withheld: std::mem::take(&mut self.skipped),
            files,
        };
        if self.report {
            let info = supplementary::information(map, regime, part);
            let html = report(map, regime, &manifest, &info, &shown);
            let entry = write_file(&self.dir, "report.html", "text/html", html.as_bytes())?;
            manifest.files.push(entry);
        }
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
        write_file(&self.dir, "manifest.json", "application/json", &bytes)?;
        Ok(manifest)
    }
}

impl Sink for Writer<'_> {
    fn row(&mut self, table: &TableOut, values: Vec<Value>) -> Result<(), String> {
        self.write_row(table, values).map_err(|e| format!("writing the package in {}: {e}", self.dir.display()))
    }
}

fn write_file(dir: &Path, path: &str, media_type: &str, bytes: &[u8]) -> io::Result<FileEntry> {
    let mut out = create(&dir.join(path))?;
    out.write_all(bytes)?;
    out.entry(path, media_type)
}

/// A value as a CSV cell: text as itself, null as an empty cell, the rest as JSON.
fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The JSON Schema of one table's rows: each field's description is the map's, with
/// where it came from, why it is processed and how long it is kept; a withheld field is
/// always null, and says why.
pub fn table_schema(map: &DatasetMap, out: &TableOut) -> Value {
    let table = map.database(&out.database).and_then(|d| d.table(&out.table));
    let mut properties = serde_json::Map::new();
    for c in &out.columns {
        let col = table.and_then(|t| t.column(&c.name));
        let mut description = col.and_then(|x| x.description.clone()).unwrap_or_default();
        let mut field = serde_json::Map::new();
        if let Some(col) = col {
            let mut about = Vec::new();
            if let Some(o) = col.origin {
                about.push(format!("Source: {}.", supplementary::source(o)));
            }
            if let Some(p) = &col.purpose {
                about.push(format!("Purpose: {p}"));
            }
            if let Some(r) = &col.retention {
                about.push(format!("Kept: {r}"));
            }
            if !about.is_empty() {
                description = format!("{description} {}", about.join(" ")).trim().to_string();
            }
            if let Some(o) = col.origin {
                field.insert("x-origin".into(), Value::from(o.as_str()));
            }
            if let Some(b) = col.basis {
                field.insert("x-legal-basis".into(), Value::from(b.as_str()));
            }
            if let Some(cat) = &col.category {
                field.insert("x-category".into(), Value::from(cat.as_str()));
            }
        }
        if let Some(reason) = &c.withheld {
            description = format!("{description} Withheld: {reason}.").trim().to_string();
            field.insert("type".into(), Value::from("null"));
            field.insert("x-withheld".into(), Value::from(reason.as_str()));
        }
        field.insert("description".into(), Value::from(description));
        properties.insert(c.name.clone(), Value::Object(field));
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("{}.{}", out.database, out.table),
        "description": table.and_then(|t| t.description.clone()).unwrap_or_default(),
        "type": "object",
        "properties": properties,
        "required": out.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell(v: &Value) -> String {
    let text = csv_cell(v);
    if text.chars().count() > REPORT_CELL_CHARS {
        let cut: String = text.chars().take(REPORT_CELL_CHARS).collect();
        format!("{}&hellip;", escape(&cut))
    } else {
        escape(&text)
    }
}

fn list(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("<h3>{}</h3>\n<ul>\n", escape(title)));
    for i in items {
        out.push_str(&format!("<li>{}</li>\n", escape(i)));
    }
    out.push_str("</ul>\n");
}

/// The readable report of an access answer. Everything from the map or the database is
/// escaped; the page loads nothing from elsewhere and runs no script.
fn report(map: &DatasetMap, regime: &Regime, m: &Manifest, info: &Information, shown: &[(TableOut, Vec<Vec<Value>>)]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    h.push_str(&format!("<title>Your personal data: {}</title>\n", escape(&m.right)));
    h.push_str("<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}.withheld{color:#777;font-style:italic}</style>\n");
    h.push_str("</head>\n<body>\n");
    h.push_str(&format!(
        "<h1>Your personal data</h1>\n<p>Our answer to your request under the {} ({}, {}).</p>\n",
        escape(&m.right),
        escape(&m.article),
        escape(&regime.name)
    ));
    h.push_str(&format!(
        "<p>You were identified by your {}: <strong>{}</strong>. This answer was drawn up as of {}.</p>\n",
        escape(m.identity.kind.as_str()),
        escape(&m.identity.value),
        m.as_of
    ));
    if let Some(since) = m.recorded_since {
        h.push_str(&format!("<p>It covers what we recorded on or after {since}.</p>\n"));
    }
    h.push_str(&format!("<p><strong>{}</strong></p>\n", escape(&m.statement)));
    h.push_str("<p>The same data is in this package in machine-readable form: a JSON Lines and a CSV file per table under <code>data/</code> (and, for contacts and events, a vCard or iCalendar file your address book or calendar can import), described by the JSON Schemas under <code>schemas/</code>, all listed in <code>manifest.json</code>.</p>\n");

    h.push_str("<h2>The data</h2>\n");
    for ((out, rows), t) in shown.iter().zip(&m.tables) {
        let table = map.database(&out.database).and_then(|d| d.table(&out.table));
        h.push_str(&format!("<h3>{}</h3>\n", escape(&out.table)));
        if let Some(d) = &t.description {
            h.push_str(&format!("<p>{}</p>\n", escape(d)));
        }
        if t.rows == 0 {
            h.push_str("<p>No records.</p>\n");
            continue;
        }
        h.push_str(&format!("<p>{} record(s)", t.rows));
        if t.rows > rows.len() as u64 {
            h.push_str(&format!(
                "; the first {} are shown, all are in <code>{}</code>",
                rows.len(),
                escape(t.jsonl.as_deref().unwrap_or_default())
            ));
        }
        h.push_str(".</p>\n<table>\n<tr>");
        for c in &out.columns {
            let about = table.and_then(|t| t.column(&c.name)).and_then(|c| c.description.clone()).unwrap_or_default();
            h.push_str(&format!("<th title=\"{}\">{}</th>", escape(&about), escape(&c.name)));
        }
        h.push_str("</tr>\n");
        for row in rows {
            h.push_str("<tr>");
            for (c, v) in out.columns.iter().zip(row) {
                match &c.withheld {
                    Some(reason) => h.push_str(&format!("<td class=\"withheld\" title=\"{}\">withheld</td>", escape(reason))),
                    None => h.push_str(&format!("<td>{}</td>", cell(v))),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }

    h.push_str("<h2>How we process it</h2>\n");
    if !info.categories.is_empty() {
        h.push_str("<table>\n<tr><th>Category</th><th>Purposes</th><th>Recipients</th><th>Kept</th><th>Source</th></tr>\n");
        for c in &info.categories {
            let join = |v: &[String]| v.iter().map(|s| escape(s)).collect::<Vec<_>>().join("<br>");
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&c.name),
                join(&c.purposes),
                join(&c.recipients),
                join(&c.retention),
                join(&c.sources)
            ));
        }
        h.push_str("</table>\n");
    }
    list(&mut h, "Purposes", &info.purposes);
    list(&mut h, "Recipients", &info.recipients);
    list(&mut h, "How long we keep it", &info.retention);
    list(&mut h, "Where it comes from", &info.sources);
    if !info.automated_decisions.is_empty() {
        h.push_str("<h3>Automated decisions</h3>\n<ul>\n");
        for d in &info.automated_decisions {
            h.push_str(&format!("<li><code>{}</code>: {}</li>\n", escape(&d.column), escape(&d.description)));
        }
        h.push_str("</ul>\n");
    }
    if !m.withheld.is_empty() || !m.left_out.is_empty() {
        h.push_str("<h2>What this answer does not show</h2>\n");
        for (what, list) in [("Withheld", &m.withheld), ("Left out", &m.left_out)] {
            for o in list {
                h.push_str(&format!("<h3>{}: {}</h3>\n<ul>\n", what, escape(&o.reason)));
                for c in &o.columns {
                    h.push_str(&format!("<li><code>{}</code></li>\n", escape(c)));
                }
                h.push_str("</ul>\n");
            }
        }
    }
    if !m.rows_withheld.is_empty() {
        h.push_str("<h2>Records withheld on review</h2>\n<ul>\n");
        for w in &m.rows_withheld {
            h.push_str(&format!("<li>A record of <code>{}</code>: {}</li>\n", escape(&w.table), escape(&w.reason)));
        }
        h.push_str("</ul>\n");
    }
    if let Some(r) = &info.rights {
        h.push_str(&format!("<h2>Your rights</h2>\n<p>{}</p>\n", escape(r)));
    }
    if let Some(c) = &info.complaint {
        h.push_str(&format!("<h2>Complaints</h2>\n<p>{}</p>\n", escape(c)));
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// Who can open a sealed package.
#[derive(Clone)]
pub enum Encryption {
    /// A passphrase, given to the person through another channel.
    Passphrase(age::secrecy::SecretString),
    /// The person's age public keys (`age1...`).
    Recipients(Vec<age::x25519::Recipient>),
}

/// Seals the package in `dir` (written by [`write_package`]) as one ZIP of its manifest
/// and files, age-encrypted, at `out` (created; it must not exist). Only ciphertext
/// reaches the disk. Returns the size written.
pub fn seal(dir: &Path, manifest: &Manifest, out: &Path, encryption: &Encryption) -> Result<u64, ExtractError> {
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    pack(dir, &paths, out, Some(encryption))
}

/// [`seal`] for a package folder as it lies on disk (its `manifest.json` lists its
/// files); with no encryption, a plain ZIP (for a transfer over an authenticated channel).
pub fn seal_folder(dir: &Path, out: &Path, encryption: Option<&Encryption>) -> Result<u64, ExtractError> {
    let err = |e: String| ExtractError::Sink(format!("the package in {}: {e}", dir.display()));
    let text = std::fs::read(dir.join("manifest.json")).map_err(|e| err(format!("manifest.json: {e}")))?;
    let manifest: Value = serde_json::from_slice(&text).map_err(|e| err(format!("manifest.json: {e}")))?;
    let paths: Vec<String> = manifest["files"]
        .as_array()
        .ok_or_else(|| err("manifest.json lists no files".into()))?
        .iter()
        .filter_map(|f| f["path"].as_str().map(str::to_owned))
        .collect();
    for p in &paths {
        // written by this module: relative, no way out of the folder
        if p.starts_with('/') || p.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(err(format!("manifest.json names `{p}`, which is not a file of the package")));
        }
    }
    pack(dir, &paths.iter().map(String::as_str).collect::<Vec<_>>(), out, encryption)
}

/// Writes the ZIP of `manifest.json` and `paths` of `dir` to `out`, age-encrypted when asked.
fn pack(dir: &Path, paths: &[&str], out: &Path, encryption: Option<&Encryption>) -> Result<u64, ExtractError> {
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| ExtractError::Sink(format!("sealing the package into {}: {e}", out.display())))?;
    let written = pack_into(file, dir, paths, out, encryption);
    if written.is_err() {
        // made just above, by us: no half package stays
        let _ = std::fs::remove_file(out);
    }
    written
}

fn pack_into(file: File, dir: &Path, paths: &[&str], out: &Path, encryption: Option<&Encryption>) -> Result<u64, ExtractError> {
    let err = |e: String| ExtractError::Sink(format!("sealing the package into {}: {e}", out.display()));
    let counted = Hashing::new(BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true)
        .unix_permissions(0o644);
    fn write_all<W: Write>(
        zip: &mut zip::ZipWriter<zip::write::StreamWriter<W>>,
        dir: &Path,
        paths: &[&str],
        opts: zip::write::SimpleFileOptions,
    ) -> Result<(), String> {
        for path in std::iter::once(&"manifest.json").chain(paths) {
            zip.start_file(*path, opts).map_err(|e| e.to_string())?;
            let mut from = File::open(dir.join(path)).map_err(|e| format!("{path}: {e}"))?;
            io::copy(&mut from, zip).map_err(|e| format!("{path}: {e}"))?;
        }
        Ok(())
    }
    let mut counted = match encryption {
        Some(encryption) => {
            let encryptor = match encryption {
                Encryption::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
                Encryption::Recipients(r) => {
                    age::Encryptor::with_recipients(r.iter().map(|r| r as &dyn age::Recipient)).map_err(|e| err(e.to_string()))?
                }
            };
            let age_out = encryptor.wrap_output(counted).map_err(|e| err(e.to_string()))?;
            let mut zip = zip::ZipWriter::new_stream(age_out);
            write_all(&mut zip, dir, paths, opts).map_err(err)?;
            let age_out = zip.finish().map_err(|e| err(e.to_string()))?.into_inner();
            age_out.finish().map_err(|e| err(e.to_string()))?
        }
        None => {
            let mut zip = zip::ZipWriter::new_stream(counted);
            write_all(&mut zip, dir, paths, opts).map_err(err)?;
            zip.finish().map_err(|e| err(e.to_string()))?.into_inner()
        }
    };
    counted.flush().map_err(|e| err(e.to_string()))?;
    Ok(counted.bytes)
}
