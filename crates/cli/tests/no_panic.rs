//! No input may panic ferry. Every parser's samples (the codec corpus and the example
//! account) are mutated (truncated, bytes flipped, hostile snippets spliced in) and fed
//! through the real binary: export into a package, verify it, import it; then the
//! package itself is mutated and verified, inspected and imported. A panic (exit code
//! 101, "panicked at") or a hang fails the test.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Snippets that have broken parsers in this field: escapes cut short, multi-byte
/// characters after `%` and `=`, folds at odd places, nesting, NULs, huge lines.
const HOSTILE: &[&[u8]] = &[
    b"%\xc3\xa9",
    b"%",
    b"%e",
    b"=\r\n",
    b"=C3",
    b"=\xe2\x82",
    b"\r\n ",
    b"\r\n\t:",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
    b"BEGIN:VCARD\r\n",
    b"END:VCARD\r\n",
    b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
    b"END:VEVENT\r\n",
    b"BEGIN:VTIMEZONE\r\nTZID:\r\n",
    b"DTSTART;TZID=\"\xe2\x82:20250101T000000\r\n",
    b"RRULE:FREQ=SECONDLY;COUNT=999999999\r\n",
    b"ENCODING=QUOTED-PRINTABLE:",
    b";CHARSET=x-unknown:",
    b"PHOTO;ENCODING=b;TYPE=JPEG:////\r\n",
    b"\nFrom nobody Mon Jan  1 00:00:00 2024\n",
    b"Content-Type: multipart/mixed; boundary=\"\"\r\n",
    b"Content-Transfer-Encoding: base64\r\n\r\n====",
    b"\"\"\"",
    b",,,,;;;;",
    b"{\"photoTakenTime\":{\"timestamp\":\"-99999999999999999999\"}}",
];

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let at = rng.below(v.len());
                v.truncate(at);
            }
            1 if !v.is_empty() => {
                for _ in 0..=rng.below(8) {
                    let at = rng.below(v.len());
                    v[at] = rng.next() as u8;
                }
            }
            2 | 3 => {
                let at = rng.below(v.len() + 1);
                let s = HOSTILE[rng.below(HOSTILE.len())];
                v.splice(at..at, s.iter().copied());
            }
            4 if v.len() > 2 => {
                let a = rng.below(v.len());
                let b = (a + rng.below(4096)).min(v.len());
                let piece = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, piece.into_iter().cycle().take((b - a) * (1 + rng.below(3))));
            }
            _ => {
                let at = rng.below(v.len() + 1);
                v.splice(at..at, std::iter::repeat_n(b'A', 70_000));
            }
        }
    }
    v
}

fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in [root.join("crates/codecs/tests/corpus"), root.join("examples/account")] {
        for e in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            let bytes = std::fs::read(e.path()).unwrap();
            if bytes.len() <= 2 << 20 {
                out.push((e.path().to_owned(), bytes));
            }
        }
    }
    assert!(out.len() > 40, "the seeds are there: {}", out.len());
    out
}

/// Runs ferry with a time limit; fails on a panic or a hang.
fn run_bounded(data: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("-q")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("ferry {args:?} hung for 5 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = reader.join().unwrap();
    let code = status.code().unwrap_or(-1);
    assert_ne!(code, 101, "ferry {args:?} panicked: {err}");
    assert!(!err.contains("panicked at"), "ferry {args:?} panicked: {err}");
    assert!(status.code().is_some(), "ferry {args:?} died of a signal: {err}");
    (code, err)
}

#[test]
fn mutated_inputs_of_every_parser_never_panic_ferry() {
    let t = tempfile::tempdir().unwrap();
    let (src, data) = (t.path().join("src"), t.path().join("data"));
    let mut rng = Rng(0x5eed_f00d_cafe_d00d);
    let seeds = seeds();
    for (n, (path, bytes)) in seeds.iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for k in 0..12 {
            let dir = src.join(format!("s{n:03}"));
            // mail also as maildir messages, so the maildir reader sees them
            let target = if name.ends_with(".eml") || (name.ends_with(".mbox") && k % 3 == 0) {
                dir.join("Maildir/cur").join(format!("{k}.{n}.host:2,S"))
            } else {
                dir.join(format!("{k}-{name}"))
            };
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, mutate(bytes, &mut rng)).unwrap();
        }
    }
    let pkg = t.path().join("out.zip");
    let (code, err) = run_bounded(&data, &["export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()]);
    assert!([0, 3].contains(&code), "the export ends with a report, exit {code}: {err}");
    run_bounded(&data, &["verify", pkg.to_str().unwrap()]);
    let (code, err) = run_bounded(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", t.path().join("back").display())]);
    assert!([0, 3].contains(&code), "the import ends with a report, exit {code}: {err}");
    let (code, err) =
        run_bounded(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}?vcard=4.0", t.path().join("v4").display())]);
    assert!([0, 3].contains(&code), "the vCard 4.0 import ends with a report, exit {code}: {err}");

    // the package itself, mutated
    let good = std::fs::read(&pkg).unwrap();
    for k in 0..24 {
        let bad = t.path().join(format!("bad{k}.zip"));
        std::fs::write(&bad, mutate(&good, &mut rng)).unwrap();
        run_bounded(&data, &["verify", bad.to_str().unwrap()]);
        run_bounded(&data, &["inspect", bad.to_str().unwrap()]);
        run_bounded(&data, &["import", bad.to_str().unwrap(), "--to", &format!("dir:{}", t.path().join(format!("bad{k}")).display())]);
    }
}
