//! Reading a dataset map from TOML. The file is hostile until read: its size and
//! nesting are bounded before the TOML parser sees it, and every database, table and
//! column is read on its own so that an error names where it is (`database "shop",
//! table "orders", column "total": unknown field ...`), and all such errors come at once.

use super::{Column, Database, DatasetMap, Table};
use serde::de::DeserializeOwned;
use std::path::Path;

/// The largest map file read: 4 MiB is thousands of tables.
pub const MAX_MAP_BYTES: usize = 4 * 1024 * 1024;

/// The most tables a map may describe, all databases together.
pub const MAX_TABLES: usize = 5000;

/// The deepest nesting of arrays and inline tables accepted (the format itself needs 2).
pub const MAX_NESTING: usize = 16;

/// Why a dataset map could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MapError {
    #[error("cannot read the dataset map {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the dataset map is {bytes} bytes, more than the {limit} bytes allowed")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the dataset map nests arrays or inline tables more than {limit} deep (line {line})")]
    TooDeep { line: usize, limit: usize },
    #[error("the dataset map is not valid TOML: {0}")]
    Syntax(String),
    #[error("the dataset map has {} error(s):\n{}", .0.len(), .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Reads the dataset map file at `path`.
pub fn load(path: &Path) -> Result<DatasetMap, MapError> {
    let read_error = |e: std::io::Error| MapError::Read { path: path.display().to_string(), reason: e.to_string() };
    let len = std::fs::metadata(path).map_err(read_error)?.len();
    if len > MAX_MAP_BYTES as u64 {
        return Err(MapError::TooLarge { bytes: usize::try_from(len).unwrap_or(usize::MAX), limit: MAX_MAP_BYTES });
    }
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    parse(&text)
}

/// Parses a dataset map from TOML text. Only the file's shape is checked here;
/// [`super::validate`] checks what it says.
pub fn parse(text: &str) -> Result<DatasetMap, MapError> {
    if text.len() > MAX_MAP_BYTES {
        return Err(MapError::TooLarge { bytes: text.len(), limit: MAX_MAP_BYTES });
    }
    check_nesting(text)?;
    let doc: toml::Table = toml::from_str(text).map_err(|e| MapError::Syntax(e.to_string().trim_end().to_string()))?;
    let mut errors = Vec::new();
    let mut databases = Vec::new();
    for key in doc.keys().filter(|k| k.as_str() != "database") {
        errors.push(format!("unknown key `{key}` at the top of the map (expected only `[[database]]` sections)"));
    }
    match doc.get("database") {
        None => errors.push("the map has no `[[database]]` section".to_string()),
        Some(value) => {
            let tables: usize = value.as_array().into_iter().flatten().filter_map(|db| db.get("table")?.as_array()).map(Vec::len).sum();
            if tables > MAX_TABLES {
                return Err(MapError::Invalid(vec![format!("the map describes {tables} tables, more than the {MAX_TABLES} allowed")]));
            }
            for (i, db) in sections(value, "database", "the map", &mut errors).into_iter().enumerate() {
                if let Some(db) = read_database(db, i, &mut errors) {
                    databases.push(db);
                }
            }
        }
    }
    if errors.is_empty() { Ok(DatasetMap { databases }) } else { Err(MapError::Invalid(errors)) }
}

fn read_database(mut section: toml::Table, index: usize, errors: &mut Vec<String>) -> Option<Database> {
    let place = label("database", &section, index);
    let tables = section.remove("table");
    let mut db: Option<Database> = read(section, &place, errors);
    let mut read_tables = Vec::new();
    if let Some(tables) = tables {
        for (i, t) in sections(&tables, "table", &place, errors).into_iter().enumerate() {
            if let Some(t) = read_table(t, i, &place, errors) {
                read_tables.push(t);
            }
        }
    }
    if let Some(db) = db.as_mut() {
        db.tables = read_tables;
    }
    db
}

fn read_table(mut section: toml::Table, index: usize, within: &str, errors: &mut Vec<String>) -> Option<Table> {
    let place = format!("{within}, {}", label("table", &section, index));
    let columns = section.remove("column");
    let mut table: Option<Table> = read(section, &place, errors);
    let mut read_columns = Vec::new();
    if let Some(columns) = columns {
        for (i, c) in sections(&columns, "column", &place, errors).into_iter().enumerate() {
            let column_place = format!("{place}, {}", label("column", &c, i));
            if let Some(c) = read::<Column>(c, &column_place, errors) {
                read_columns.push(c);
            }
        }
    }
    if let Some(table) = table.as_mut() {
        table.columns = read_columns;
    }
    table
}

/// The sections of an array of tables `[[key]]`; anything else is an error.
fn sections(value: &toml::Value, key: &str, within: &str, errors: &mut Vec<String>) -> Vec<toml::Table> {
    let Some(items) = value.as_array() else {
        errors.push(format!("{within}: `{key}` must be a list of `[[{key}]]` sections, not a {}", value.type_str()));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_table() {
            Some(t) => out.push(t.clone()),
            None => errors.push(format!("{within}: `{key}` #{} must be a table, not a {}", i + 1, item.type_str())),
        }
    }
    out
}

/// How an error names a section: by its `name` when it has one, else by its position.
fn label(kind: &str, section: &toml::Table, index: usize) -> String {
    match section.get("name").and_then(toml::Value::as_str) {
        Some(name) => format!("{kind} \"{}\"", name.escape_debug()),
        None => format!("{kind} #{}", index + 1),
    }
}

fn read<T: DeserializeOwned>(section: toml::Table, place: &str, errors: &mut Vec<String>) -> Option<T> {
    match toml::Value::Table(section).try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(format!("{place}: {}", e.message().trim_end()));
            None
        }
    }
}

/// Refuses text that nests arrays or inline tables deeper than [`MAX_NESTING`], before
/// a parser recurses into it. Brackets inside strings and comments do not count.
fn check_nesting(text: &str) -> Result<(), MapError> {
    let bytes = text.as_bytes();
    let (mut depth, mut line, mut i) = (0usize, 1usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            q @ (b'"' | b'\'') => {
                let triple = bytes[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"'''" });
                let delim = &bytes[i..i + if triple { 3 } else { 1 }];
                i += delim.len();
                loop {
                    match bytes.get(i) {
                        None => break,
                        // a one-line string ends at the line's end, closed or not
                        Some(b'\n') if !triple => break,
                        Some(b'\n') => {
                            line += 1;
                            i += 1;
                        }
                        // an escape (in basic strings only); a line-ending backslash
                        // continues only a multi-line string
                        Some(b'\\') if q == b'"' => match bytes.get(i + 1) {
                            Some(b'\n') if !triple => i += 1,
                            Some(b'\n') => {
                                line += 1;
                                i += 2;
                            }
                            Some(_) => i += 2,
                            None => i += 1,
                        },
                        Some(_) if bytes[i..].starts_with(delim) => {
                            i += delim.len();
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(MapError::TooDeep { line, limit: MAX_NESTING });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}
