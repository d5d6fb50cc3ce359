//! Times one person's portability package on a generated shop (bench/requests.sh makes
//! it): `extract_bench URL CUSTOMERS PEOPLE [EMAIL]`. Without EMAIL, PEOPLE customers
//! spread over the shop are answered one after another and the median and 90th
//! percentile printed; with EMAIL, that one person. Then the process's peak RSS.

use chrono::NaiveDate;
use ferry_requests::extract::{Extractor, Identity, Sink, TableOut};
use ferry_requests::map::{self, IdentityKind};
use ferry_requests::regime::Regime;
use ferry_requests::scope::scope;
use ferry_requests::{Part, RequestKind, response};
use std::path::Path;
use std::time::Instant;

/// Drops every row (to count look-ups without keeping anything).
struct Discard;

impl Sink for Discard {
    fn row(&mut self, _: &TableOut, _: Vec<serde_json::Value>) -> Result<(), String> {
        Ok(())
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, customers, people, rest @ ..] = args.as_slice() else {
        eprintln!("usage: extract_bench URL CUSTOMERS PEOPLE [EMAIL]");
        std::process::exit(2);
    };
    let customers: u64 = customers.parse().expect("CUSTOMERS");
    let people: u64 = people.parse().expect("PEOPLE");
    let map_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop/map.toml");
    let mut m = map::load(&map_path).expect("the shop's map");
    m.databases[0].url = url.clone();
    let gdpr = Regime::builtin("gdpr").unwrap();
    let part = scope(&m, &gdpr, RequestKind::Portability).unwrap().part(Part::Portability).unwrap().clone();
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let started = Instant::now();
    let mut ex = Extractor::open(&m).await.unwrap_or_else(|e| panic!("{e}"));
    println!("open (connect, check the map against the database): {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    let tmp = tempfile::tempdir().unwrap();
    let emails: Vec<String> = match rest.first() {
        Some(email) => vec![email.clone()],
        None => (0..people).map(|i| format!("c{}@example.com", 1 + i * customers / people.max(1))).collect(),
    };
    let mut times = Vec::new();
    let mut rows = Vec::new();
    let batch = Instant::now();
    for (i, email) in emails.iter().enumerate() {
        let dir = tmp.path().join(format!("p{i}"));
        let t = Instant::now();
        let manifest = response::write_package(&mut ex, &gdpr, &part, &Identity::new(IdentityKind::Email, email.clone()), as_of, &dir)
            .await
            .unwrap_or_else(|e| panic!("{email}: {e}"));
        times.push(t.elapsed().as_secs_f64() * 1e3);
        rows.push(manifest.tables.iter().map(|t| t.rows).sum::<u64>());
        std::fs::remove_dir_all(&dir).ok();
    }
    let total = batch.elapsed().as_secs_f64();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() as f64 - 1.0) * p).round() as usize];
    let mut r = rows.clone();
    r.sort_unstable();
    println!(
        "portability packages: {} people, rows per person median {} (min {}, max {}); time median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        times.len(),
        r[r.len() / 2],
        r[0],
        r[r.len() - 1],
        pct(0.5),
        pct(0.9),
        pct(1.0)
    );
    println!("one after another: {} packages in {total:.2} s, {:.0} a minute", times.len(), times.len() as f64 * 60.0 / total);
    let first = Identity::new(IdentityKind::Email, emails[0].clone());
    let got = ex.extract(&part, &first, as_of, &mut Discard).await.unwrap();
    println!("{}: {} rows, {} look-ups, at most {} key values held", emails[0], got.rows(), got.queries, got.keys_held);
    println!("peak RSS: {} MiB", peak_rss_kib() / 1024);
}
