//! What ferry prints: a progress bar on a terminal, plain lines otherwise, JSON on request.

use ferry_core::{Stream, Vertical};
use ferry_engine::Progress;
use ferry_store::{Outcome, Report};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Console {
    bar: Option<ProgressBar>,
    plain: bool,
    items: AtomicU64,
    bytes: AtomicU64,
    /// The vertical the bar shows, as the address of its name (0: none yet).
    shown: AtomicUsize,
    last_line: Mutex<Instant>,
}

impl Console {
    pub fn new(quiet: bool) -> Console {
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(ProgressStyle::with_template("{spinner} {prefix:>9} {pos} items, {msg} [{elapsed_precise}]").expect("template"));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Console {
            bar,
            plain: !quiet && !tty,
            items: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            shown: AtomicUsize::new(0),
            last_line: Mutex::new(Instant::now()),
        }
    }

    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

impl Progress for Console {
    fn stream_started(&self, stream: &Stream) {
        if self.plain {
            let names: Vec<&str> = stream.verticals.iter().map(|v| v.as_str()).collect();
            eprintln!("ferry: {}...", names.join(", "));
        }
    }

    fn item_done(&self, v: Vertical, _o: Outcome, bytes: u64) {
        // the bar's prefix is the vertical of the latest item (a stream may mix them)
        if let Some(b) = &self.bar
            && self.shown.swap(v.as_str().as_ptr() as usize, Ordering::Relaxed) != v.as_str().as_ptr() as usize
        {
            b.set_prefix(v.to_string());
        }
        let n = self.items.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(b) = &self.bar {
            b.set_position(n);
            b.set_message(human_bytes(total));
        } else if self.plain {
            let mut last = self.last_line.lock().unwrap();
            if last.elapsed() >= Duration::from_secs(5) {
                *last = Instant::now();
                eprintln!("ferry: {n} items, {}", human_bytes(total));
            }
        }
    }

    fn retrying(&self, what: &str, error: &str, delay: Duration) {
        let line = format!("ferry: {what}: {error}; retrying in {:.1}s", delay.as_secs_f64());
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
}

/// The end-of-job proof, as a table.
pub fn print_report(report: &Report, source: &str, destination: &str) {
    let state = report.state.map(|s| s.to_string()).unwrap_or_default();
    println!("Job {} {state}{}", report.job_id, if report.dry_run { " (dry run: nothing was written)" } else { "" });
    println!("  from {}\n  to   {}", safe(source), safe(destination));
    if let Some(r) = &report.reason {
        println!("  {}", safe(r));
    }
    println!();
    println!("  {:<9} {:>8} {:>12} {:>9} {:>7} {:>7} {:>9}", "", "found", "transferred", "present", "skipped", "failed", "warnings");
    for (v, r) in &report.verticals {
        println!(
            "  {:<9} {:>8} {:>12} {:>9} {:>7} {:>7} {:>9}",
            v.as_str(),
            r.found,
            r.transferred,
            r.already_present,
            r.skipped,
            r.failed,
            r.fidelity_warnings.len()
        );
    }
    let t = report.totals();
    println!("  {:<9} {:>8} {:>12} {:>9} {:>7} {:>7}", "total", t.found, t.transferred, t.already_present, t.skipped, t.failed);
    let problems: Vec<_> = report.verticals.iter().flat_map(|(v, r)| r.failures.iter().map(move |p| (v, p))).collect();
    if !problems.is_empty() {
        println!("\nNot transferred:");
        for (v, p) in problems {
            println!("  {v}: {}: {}", safe(&p.item), safe(&p.reason));
        }
    }
    let warnings: Vec<_> = report.verticals.iter().flat_map(|(v, r)| r.fidelity_warnings.iter().map(move |p| (v, p))).collect();
    if !warnings.is_empty() {
        println!("\nTransferred, but the destination could not keep everything:");
        for (v, p) in warnings {
            println!("  {v}: {}: {}", safe(&p.item), safe(&p.reason));
        }
    }
}

/// Text from a package, a server or a file, made safe to print on a terminal: control
/// characters (C0, DEL, C1, which can move the cursor, clear the screen or set the
/// clipboard) and bidirectional overrides are shown as `\u{..}` escapes; a backslash is
/// doubled so that an escape cannot be faked.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c == '\\' || c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(safe("plain text, ünïcode"), "plain text, ünïcode");
        assert_eq!(safe("\x1b[2J\x1b]52;c;aGk=\x07"), "\\u{1b}[2J\\u{1b}]52;c;aGk=\\u{7}");
        assert_eq!(safe("a\u{9b}b\u{202e}c\\u{1b}"), "a\\u{9b}b\\u{202e}c\\\\u{1b}");
        assert_eq!(safe("line\nbreak\r"), "line\\u{a}break\\u{d}");
    }
}
