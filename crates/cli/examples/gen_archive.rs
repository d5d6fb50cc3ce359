//! Writes a large synthetic platform archive for the benchmarks in `bench/`, with the
//! layout logic the archive tests use (`tests/fixtures/`):
//!
//!   gen_archive takeout DIR SCALE_GB [PART_BYTES]
//!
//! writes a multi-part Google Takeout of about SCALE_GB × 10^9 bytes into DIR (parts of
//! PART_BYTES, default 2 GB, named `takeout-20250101T120000Z-00N.zip`) and prints what it
//! holds (the counts ferry should find) as JSON. The same scale gives the same bytes.

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_archive takeout DIR SCALE_GB [PART_BYTES]";
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["takeout", dir, scale, ref rest @ ..] if rest.len() <= 1 => {
            let scale: f64 = scale.parse().ok().filter(|s: &f64| *s > 0.0 && *s <= 100.0).unwrap_or_else(|| fail(usage));
            let part: u64 = rest.first().map_or(Some(2_000_000_000), |p| p.parse().ok()).unwrap_or_else(|| fail(usage));
            let dir = Path::new(dir);
            if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
                fail(&format!("{} is not empty", dir.display()));
            }
            let counts = fixtures::takeout::write_large(dir, scale, part);
            println!("{}", serde_json::to_string_pretty(&counts).unwrap());
        }
        _ => fail(usage),
    }
}

fn fail(why: &str) -> ! {
    eprintln!("{why}");
    std::process::exit(2)
}
