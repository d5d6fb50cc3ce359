//! Reads an Apple Health `export.xml` through ferry's reader and says what it found, how
//! fast: for `bench/apple_health.sh`.
//!
//!   read_health PATH [--items]
//!
//! `--items` also makes each record the item the archive connector hands on (its record
//! as JSON, the version its SHA-256), the work the connector adds to the reader's.

use ferry_verticals::health::read_apple_health;
use std::collections::BTreeMap;
use std::io::BufReader;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), items) = (args.first(), args.get(1).is_some_and(|a| a == "--items")) else {
        eprintln!("usage: read_health PATH [--items]");
        std::process::exit(2)
    };
    let file = std::fs::File::open(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let started = Instant::now();
    let (mut found, mut failed, mut warnings, mut made) = (0u64, 0u64, 0u64, 0u64);
    let mut by_container: BTreeMap<String, u64> = BTreeMap::new();
    let result = read_apple_health(BufReader::with_capacity(256 * 1024, file), &mut |f| {
        match f {
            Ok(f) => {
                found += 1;
                warnings += f.warnings.len() as u64;
                *by_container.entry(f.container.clone()).or_default() += 1;
                if items {
                    // the record as JSON, hashed for its version: as the connector hands it on
                    made += u64::from(!f.into_item().version.is_empty());
                }
            }
            Err(_) => failed += 1,
        }
        true
    });
    let seconds = started.elapsed().as_secs_f64();
    let out = serde_json::json!({
        "items": found,
        "failed": failed,
        "warnings": warnings,
        "seconds": seconds,
        "items_per_second": found as f64 / seconds.max(1e-9),
        "items_made": made,
        "containers": by_container,
        "error": result.err(),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
