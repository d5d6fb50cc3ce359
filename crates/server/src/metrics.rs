//! Prometheus metrics, in the text exposition format at `/metrics`: items and bytes moved
//! (from the job service's events), retries, open event streams, HTTP requests by route
//! and status class with their latencies, and jobs by state (of the latest 1,000).

use ferry_jobs::Outcome;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    items: Mutex<BTreeMap<(String, &'static str), u64>>,
    bytes: AtomicU64,
    retries: AtomicU64,
    sse_open: AtomicI64,
    requests: Mutex<BTreeMap<(String, &'static str), Histogram>>,
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn item(&self, vertical: &str, outcome: Outcome, bytes: u64) {
        *self.items.lock().unwrap().entry((vertical.to_owned(), outcome.as_str())).or_default() += 1;
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sse_opened(&self) {
        self.sse_open.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sse_closed(&self) {
        self.sse_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// One request answered: `route` is the matched route's pattern (never the path
    /// itself, which may hold ids and link tokens).
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let secs = took.as_secs_f64();
        let mut requests = self.requests.lock().unwrap();
        let h = requests.entry((route.to_owned(), class)).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The exposition, with the jobs counted by state.
    pub fn render(&self, jobs: &BTreeMap<&'static str, u64>) -> String {
        let mut out = String::new();
        out.push_str("# HELP ferry_jobs Jobs by state (of the latest 1000).\n# TYPE ferry_jobs gauge\n");
        for (s, n) in jobs {
            let _ = writeln!(out, "ferry_jobs{{state=\"{s}\"}} {n}");
        }
        out.push_str(
            "# HELP ferry_items_total Items handled by this process's jobs, by data type and outcome.\n# TYPE ferry_items_total counter\n",
        );
        for ((v, o), n) in self.items.lock().unwrap().iter() {
            let _ = writeln!(out, "ferry_items_total{{vertical=\"{v}\",outcome=\"{o}\"}} {n}");
        }
        out.push_str("# HELP ferry_bytes_total Bytes moved by this process's jobs.\n# TYPE ferry_bytes_total counter\n");
        let _ = writeln!(out, "ferry_bytes_total {}", self.bytes.load(Ordering::Relaxed));
        out.push_str("# HELP ferry_retries_total Requests retried after an error.\n# TYPE ferry_retries_total counter\n");
        let _ = writeln!(out, "ferry_retries_total {}", self.retries.load(Ordering::Relaxed));
        out.push_str("# HELP ferry_event_streams Open progress event streams.\n# TYPE ferry_event_streams gauge\n");
        let _ = writeln!(out, "ferry_event_streams {}", self.sse_open.load(Ordering::Relaxed));
        out.push_str(
            "# HELP ferry_http_request_duration_seconds HTTP requests by route and status class.\n# TYPE ferry_http_request_duration_seconds histogram\n",
        );
        for ((route, class), h) in self.requests.lock().unwrap().iter() {
            let labels = format!("route=\"{route}\",status=\"{class}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "ferry_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(out, "ferry_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "ferry_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "ferry_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
        out
    }
}
