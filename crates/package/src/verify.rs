//! `ferry verify`: every file against the manifest, every record and message against
//! its hash, every reference to a file that exists.

use crate::reader::PackageReader;
use crate::{PackageError, layout};
use ferry_core::Vertical;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::Read;

#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    pub files_checked: u64,
    pub bytes_checked: u64,
    pub items_checked: BTreeMap<String, u64>,
    /// Each problem names the file (and line or item) it is about.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub fn verify(reader: &PackageReader) -> Result<VerifyReport, PackageError> {
    let mut report = VerifyReport::default();
    let fs = reader.fs();
    let manifest = reader.manifest();
    let present: BTreeMap<String, u64> = fs.files().into_iter().collect();
    let mut listed = HashSet::new();
    // every listed (size, SHA-256), to look content up in constant time
    let contents: HashSet<(u64, &str)> = manifest.files.iter().map(|f| (f.size, f.sha256.as_str())).collect();
    for f in &manifest.files {
        listed.insert(f.path.as_str());
        let Some(&size) = present.get(&f.path) else {
            report.problems.push(format!("{}: listed in the manifest but missing", f.path));
            continue;
        };
        if size != f.size {
            report.problems.push(format!("{}: {} bytes, the manifest says {}", f.path, size, f.size));
            continue;
        }
        let mut r = fs.open_file(&f.path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n_total = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    report.problems.push(format!("{}: cannot be read: {e}", f.path));
                    break;
                }
            };
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            n_total += n as u64;
        }
        report.files_checked += 1;
        report.bytes_checked += n_total;
        let digest = hex::encode(h.finalize());
        if digest != f.sha256 {
            report.problems.push(format!("{}: SHA-256 is {digest}, the manifest says {} (the file was altered)", f.path, f.sha256));
        }
    }
    for path in present.keys() {
        if path != "manifest.json" && !listed.contains(path.as_str()) {
            report.problems.push(format!("{path}: not listed in the manifest"));
        }
    }
    for (name, summary) in &manifest.verticals {
        let Ok(v) = ferry_verticals::parse(name) else {
            report.problems.push(format!("manifest.json: unknown vertical `{name}`"));
            continue;
        };
        if summary.records != layout::records_path(v) || !listed.contains(summary.records.as_str()) {
            report.problems.push(format!("manifest.json: {name} records should be in {}", layout::records_path(v)));
            continue;
        }
        let mut n = 0u64;
        for item in reader.items(v)? {
            n += 1;
            match item {
                Ok(item) => {
                    if let Some(c) = &item.content
                        && v != Vertical::Mail
                    {
                        let listed = match (c.size, c.sha256.as_deref()) {
                            (Some(size), Some(sha)) => contents.contains(&(size, sha)),
                            _ => false,
                        };
                        if !listed {
                            report.problems.push(format!(
                                "{}: item {} refers to content that no listed file has",
                                layout::records_path(v),
                                item.id
                            ));
                        }
                    }
                }
                Err(e) => report.problems.push(format!("{e}")),
            }
        }
        if n != summary.items {
            report.problems.push(format!("{}: {n} records, the manifest says {}", layout::records_path(v), summary.items));
        }
        report.items_checked.insert(name.clone(), n);
    }
    Ok(report)
}
