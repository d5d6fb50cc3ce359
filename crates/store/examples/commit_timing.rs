//! How long `commit_page` takes as a job grows: COMMITS pages of ROWS items (each with
//! its ledger entry) into one job, timed one by one, on the SQLite store (a temporary
//! directory) and, given a URL of an empty database, on PostgreSQL.
//!
//! ```sh
//! cargo run --release -p ferry-store --example commit_timing -- [ROWS [COMMITS [POSTGRES_URL]]]
//! ```
//!
//! Ids are hashes (random order, as a photo library's or a mail store's may be), the
//! worst case for the job's item index.

use ferry_core::Vertical;
use ferry_store::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: usize = args.first().map_or(5000, |a| a.parse().expect("ROWS is a number"));
    let commits: usize = args.get(1).map_or(200, |a| a.parse().expect("COMMITS is a number"));
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn JobStore> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    run("SQLite", sqlite, rows, commits).await;
    if let Some(url) = args.get(2) {
        let pg: Arc<dyn JobStore> = Arc::new(PostgresStore::connect(url).await.unwrap());
        run("PostgreSQL", pg, rows, commits).await;
    }
}

async fn run(name: &str, store: Arc<dyn JobStore>, rows: usize, commits: usize) {
    let spec = JobSpec {
        source: "dir:/bench/from".into(),
        destination: "dir:/bench/to".into(),
        verticals: vec![Vertical::Media, Vertical::Files],
        options: JobOptions::default(),
        owner: None,
    };
    let job = store.create_job(&spec).await.unwrap();
    let (_, lease) = store.acquire(&job.id, "commit_timing", Duration::from_secs(3600), false).await.unwrap();
    let pair = job.pair();
    let mut times = Vec::with_capacity(commits);
    let started = Instant::now();
    for c in 0..commits {
        let page: Vec<ItemRow> = (0..rows)
            .map(|i| {
                let n = (c * rows + i) as u64;
                // a scrambled id: consecutive items land far apart in the index
                let h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29) ^ 0x5555_5555_5555_5555;
                ItemRow {
                    vertical: if i % 4 == 0 { Vertical::Files } else { Vertical::Media },
                    source_id: format!("{h:016x}/IMG_{n:07}.jpg"),
                    outcome: Outcome::Transferred,
                    reason: None,
                    version: format!("{}:{}", 1_000_000 + n, 1_700_000_000 + n),
                    dest_id: Some(format!("photos/{h:016x}/IMG_{n:07}.jpg")),
                    sha256: Some(format!("{h:016x}{h:016x}{h:016x}{h:016x}")),
                    warnings: vec![],
                }
            })
            .collect();
        let t = Instant::now();
        store.commit_page(Some(&lease), &job.id, Some(&pair), "media", &page, Some(&format!("c{c}")), false).await.unwrap();
        times.push(t.elapsed());
    }
    let total = started.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let tenth = (commits / 10).max(1);
    let stats = |part: &[Duration]| {
        let mut s = part.to_vec();
        s.sort();
        (ms(s[s.len() / 2]), ms(s[s.len() * 95 / 100]), ms(*s.last().unwrap()))
    };
    let (p50a, p95a, _) = stats(&times[..tenth]);
    let (p50z, p95z, maxz) = stats(&times[times.len() - tenth..]);
    let (p50, p95, max) = stats(&times);
    println!(
        "{name}: {commits} commits of {rows} rows ({} items) in {:.1} s; per commit: median {p50:.1} ms, p95 {p95:.1} ms, \
         max {max:.1} ms; first tenth median {p50a:.1} / p95 {p95a:.1} ms; last tenth median {p50z:.1} / p95 {p95z:.1} / \
         max {maxz:.1} ms",
        commits * rows,
        total.as_secs_f64()
    );
    let report = store.report(&job.id).await.unwrap();
    assert_eq!(report.totals().transferred as usize, commits * rows);
}
