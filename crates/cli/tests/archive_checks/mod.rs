//! What the platform-archive tests check of every export: the report's lists, the
//! package's records, and that a package survives a trip through a folder (`dir:`).
#![allow(dead_code)]

use crate::common::{ferry, package_items, text};
use crate::fixtures::Zip;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Exports `source` into `pkg`: exit code, the JSON report, and what was printed.
pub fn export(data: &Path, source: &str, pkg: &Path) -> (Option<i32>, Value, String) {
    let o = ferry(data, &["--json", "export", source, "-o", pkg.to_str().unwrap()]);
    let report = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code(), report, text(&o))
}

/// A ZIP `dir/name` of `entries`, in order.
pub fn zip_of(dir: &Path, name: &str, entries: &[(String, Vec<u8>)]) -> PathBuf {
    let zip = dir.join(name);
    let mut z = Zip::create(&zip);
    for (n, bytes) in entries {
        z.add(n, bytes);
    }
    z.finish();
    zip
}

/// The names of a record's attached files.
pub fn attached(r: &Value) -> Vec<String> {
    r["attached"].as_array().into_iter().flatten().map(|a| a["name"].as_str().unwrap().to_owned()).collect()
}

/// The records of a package's JSON Lines file (none if the package has no such file).
pub fn records(pkg: &Path, path: &str) -> Vec<Value> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
    let Ok(mut f) = z.by_name(path) else { return vec![] };
    let mut s = String::new();
    std::io::Read::read_to_string(&mut f, &mut s).unwrap();
    s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

pub fn by_id(recs: &[Value]) -> BTreeMap<String, Value> {
    recs.iter().map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone())).collect()
}

/// A list of a vertical's report (`failures`, `fidelity_warnings`, `skipped`…): item ->
/// its reasons, one a line.
pub fn listed(report: &Value, v: &str, what: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for p in report["report"]["verticals"][v][what].as_array().into_iter().flatten() {
        let reasons = out.entry(p["item"].as_str().unwrap().to_owned()).or_default();
        if !reasons.is_empty() {
            reasons.push('\n');
        }
        reasons.push_str(p["reason"].as_str().unwrap());
    }
    out
}

pub fn problems(report: &Value, v: &str) -> BTreeMap<String, String> {
    listed(report, v, "failures")
}

pub fn warnings(report: &Value, v: &str) -> BTreeMap<String, String> {
    listed(report, v, "fidelity_warnings")
}

/// A count of a vertical's report (`transferred`, `skipped`…).
pub fn count(report: &Value, v: &str, what: &str) -> u64 {
    report["report"]["verticals"][v][what].as_u64().unwrap_or(0)
}

/// Whether the report lists the archive's file `path` as not understood.
pub fn not_understood(report: &Value, path: &str) -> bool {
    warnings(report, "files").get(path).is_some_and(|w| w.contains("not understood"))
}

/// Per vertical added after the first wave: its records file, and the fields of a record
/// its standard format holds (what must come back from a folder).
const KEPT: &[(&str, &[&str])] = &[
    ("social/social.jsonl", &["kind", "content", "in_reply_to", "url", "object", "account", "title", "members", "published"]),
    ("notes/notes.jsonl", &["title", "body", "tags", "pinned", "attachments"]),
    ("conversations/conversations.jsonl", &["title", "platform", "participants", "messages"]),
    ("playlists/playlists.jsonl", &["title", "kind", "description", "tracks"]),
    ("health/health.jsonl", &["kind", "data_type", "value", "unit", "start", "end", "parts"]),
    ("finance/finance.jsonl", &["kind", "date", "amount", "currency", "counterparty", "description", "balance"]),
    ("orders/orders.jsonl", &["number", "seller", "date", "status", "currency", "total", "lines"]),
    ("web/web.jsonl", &["kind", "url", "title", "folders", "added", "visited", "transition"]),
];

/// The package verifies, and a package made again from it through a folder holds the
/// same contents and the same records (the fields their standard formats hold), with as
/// many attached files each.
pub fn verifies_and_survives_a_folder(data: &Path, pkg: &Path, dir: &Path) {
    let o = ferry(data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ferry(data, &["transfer", "--from", &format!("package:{}", pkg.display()), "--to", &format!("dir:{}", dir.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let again = pkg.with_extension("again.zip");
    let (_, report, out) = export(data, &format!("dir:{}", dir.display()), &again);
    assert!(report.is_object(), "{out}");
    // a photo kept as a file comes back as a photo (a folder tells them by extension): the
    // content is what must be the same
    let contents = |p: &Path| -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        for ((_, _, sha), n) in package_items(p) {
            *out.entry(sha).or_default() += n;
        }
        out
    };
    assert_eq!(contents(pkg), contents(&again), "the folder gives back other files: {out}");
    let mut compared = 0;
    for (path, keys) in KEPT {
        let project = |p: &Path| -> Vec<String> {
            let mut v: Vec<String> = records(p, path)
                .iter()
                .map(|r| {
                    let mut fields: Vec<String> = keys.iter().map(|k| r["record"][k].to_string()).collect();
                    fields.push(format!("{} attached", r["attached"].as_array().map_or(0, Vec::len)));
                    fields.join("|")
                })
                .collect();
            v.sort();
            v
        };
        let before = project(pkg);
        assert_eq!(before, project(&again), "{path}: the folder gives back other records");
        compared += before.len();
    }
    assert!(compared > 0 || !contents(pkg).is_empty(), "the package holds nothing to compare");
}
