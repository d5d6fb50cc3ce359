//! The docs stay true: every dataset map in docs/dataset-map.md parses and validates,
//! the regime keys shown in docs/requests.md are the GDPR file's, and its worked
//! deadline examples are what the code computes.

use chrono::NaiveDate;
use ferry_requests::Regime;
use ferry_requests::deadline::{Period, Rule};
use ferry_requests::map;
use std::path::Path;

fn doc(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs").join(name)).unwrap()
}

fn toml_blocks(text: &str) -> Vec<String> {
    text.split("```toml\n").skip(1).map(|b| b.split("```").next().unwrap().to_string()).collect()
}

#[test]
fn the_maps_in_the_dataset_map_doc_are_valid() {
    let blocks = toml_blocks(&doc("dataset-map.md"));
    assert_eq!(blocks.len(), 3);
    for block in blocks {
        let m = map::parse(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert_eq!(map::validate(&m), Vec::new(), "{block}");
    }
}

#[test]
fn the_regime_shown_in_the_requests_doc_uses_the_gdpr_files_values() {
    let blocks = toml_blocks(&doc("requests.md"));
    let shown = &blocks[0];
    let gdpr = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("regimes/gdpr.toml")).unwrap();
    for line in shown.lines().filter(|l| !l.starts_with('#') && !l.starts_with('[') && !l.is_empty()) {
        let line = line.split("  #").next().unwrap().trim_end();
        // shortened values are checked up to the ellipsis
        let line = line.split("...").next().unwrap();
        let line = line.strip_suffix(", ").unwrap_or(line);
        assert!(gdpr.contains(line), "docs/requests.md shows `{line}`, which regimes/gdpr.toml does not have");
    }
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text.split(" (").next().unwrap().trim(), "%d %b %Y").unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn the_worked_deadline_examples_are_computed() {
    let text = doc("requests.md");
    let gdpr = Regime::builtin("gdpr").unwrap().deadline;
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip_while(|l| !l.starts_with("| received | identity confirmed |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 5);
    for row in rows {
        let confirmed = (row[1] != "—").then(|| date(row[1]));
        let start = Rule::start(date(row[0]), confirmed);
        let dl = gdpr.deadline(start, &[]);
        assert_eq!(dl.due, date(row[2]), "{row:?}");
        assert_eq!(gdpr.deadline(start, &[Period::Months(2)]).due, date(row[3]), "{row:?}");
        assert_eq!(dl.tell_by, date(row[4]), "{row:?}");
    }
}
