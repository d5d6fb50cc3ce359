//! The crash test: a transfer of 5,000 mixed items, killed with SIGKILL at several
//! points, then resumed: every item arrives exactly once and byte-identical.
mod common;
use common::*;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 2,000 contacts, 500 events, 1,500 messages, 1,000 files.
fn generate(src: &Path) {
    let mut seed = 42u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for book in 0..4 {
        let mut vcf = String::new();
        for i in 0..500 {
            let n = book * 500 + i;
            write!(vcf, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:contact-{n}\r\nFN:Person {n}\r\nN:{n};Person;;;\r\nEMAIL;TYPE=home:p{n}@example.org\r\nTEL;TYPE=cell:+49 \
                30 {:07}\r\nNOTE:{}\r\nEND:VCARD\r\n", rnd() % 10_000_000, "x".repeat((rnd() % 200) as usize)).unwrap();
        }
        std::fs::create_dir_all(src.join("contacts")).unwrap();
        std::fs::write(src.join(format!("contacts/book{book}.vcf")), vcf).unwrap();
    }
    for cal in 0..2 {
        let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
        for i in 0..250 {
            let n = cal * 250 + i;
            write!(
                ics,
                "BEGIN:VEVENT\r\nUID:event-{n}\r\nDTSTART:2025{:02}{:02}T100000Z\r\nSUMMARY:Event {n}\r\nEND:VEVENT\r\n",
                1 + n % 12,
                1 + n % 28
            )
            .unwrap();
        }
        ics.push_str("END:VCALENDAR\r\n");
        std::fs::create_dir_all(src.join("calendar")).unwrap();
        std::fs::write(src.join(format!("calendar/cal{cal}.ics")), ics).unwrap();
    }
    std::fs::create_dir_all(src.join("mail")).unwrap();
    for folder in 0..3 {
        let mut mbox = String::new();
        for i in 0..500 {
            let n = folder * 500 + i;
            let body: String = (0..(rnd() % 200 + 5))
                .map(|l| if l % 17 == 3 { "From the start of a line\n".to_owned() } else { format!("line {l} of message {n}\n") })
                .collect();
            write!(
                mbox,
                "From sender{n}@example.org Mon Jan  6 09:00:00 2025\nMessage-ID: <m{n}@example.org>\nFrom: \
                sender{n}@example.org\nSubject: message {n}\n\n{}\n",
                body.replace("\nFrom ", "\n>From ")
            )
            .unwrap();
        }
        std::fs::write(src.join(format!("mail/folder{folder}.mbox")), mbox).unwrap();
    }
    for i in 0..1000 {
        let dir = src.join(format!("files/d{}/e{}", i % 10, i % 7));
        std::fs::create_dir_all(&dir).unwrap();
        let len = (rnd() % 50_000) as usize;
        let body: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        std::fs::write(dir.join(format!("file{i}.bin")), body).unwrap();
    }
}

fn spawn(data: &Path, args: &[&str]) -> Child {
    Command::new(ferry_bin()).arg("--data-dir").arg(data).arg("-q").args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits until the destination holds `threshold` files (or the process ends), then kills it.
fn kill_at(mut child: Child, dst: &Path, threshold: usize, signal: &str) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if count_files(dst) >= threshold || start.elapsed() > Duration::from_secs(120) {
            Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
            return child.wait().unwrap().code();
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

fn last_job(data: &Path) -> String {
    let o = ferry(data, &["--json", "jobs"]);
    let jobs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    jobs[0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn sigkill_at_several_points_then_resume_gives_each_item_once() {
    let t = tempfile::tempdir().unwrap();
    let (src, dst, data) = (t.path().join("src"), t.path().join("dst"), t.path().join("data"));
    generate(&src);
    let reference = t.path().join("reference.zip");
    let o = ferry(&data, &["export", &format!("dir:{}", src.display()), "-o", reference.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let expected = package_items(&reference);
    assert_eq!(expected.values().sum::<u32>(), 5000);

    let from = format!("dir:{}", src.display());
    let to = format!("dir:{}", dst.display());
    let first = spawn(&data, &["transfer", "--from", &from, "--to", &to, "--concurrency", "8"]);
    let code = kill_at(first, &dst, 400, "-KILL");
    assert_eq!(code, None, "killed, not finished");
    let job = last_job(&data);
    let mut kills = 1;
    for threshold in [1800, 3300, 4500] {
        let child = spawn(&data, &["resume", &job, "--concurrency", "8"]);
        if kill_at(child, &dst, threshold, "-KILL").is_none() {
            kills += 1;
        }
    }
    assert!(kills >= 3, "the job was killed at several points ({kills})");
    let o = ferry(&data, &["resume", &job]);
    assert!(o.status.success(), "{}", text(&o));

    let leftovers: Vec<_> = walk(&dst)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("ferry-tmp") || p.parent().is_some_and(|d| d.ends_with("tmp")))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let check = t.path().join("check.zip");
    let o = ferry(&data, &["export", &to, "-o", check.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(package_items(&check), expected, "every item exactly once, byte-identical");
    let o = ferry(&data, &["--json", "jobs", &job]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: u64 = report["report"]["verticals"].as_object().unwrap().values().map(|v| v["found"].as_u64().unwrap()).sum();
    assert_eq!(found, 5000, "{report}");
}

#[test]
fn interrupted_package_export_resumes_into_a_valid_package() {
    let t = tempfile::tempdir().unwrap();
    let (src, data) = (t.path().join("src"), t.path().join("data"));
    generate(&src);
    let pkg = t.path().join("out.zip");
    let partial = t.path().join("out.zip.ferry-partial");
    let child = spawn(&data, &["export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()]);
    let code = kill_at(child, &partial, 800, "-KILL");
    assert_eq!(code, None);
    let job = last_job(&data);
    // Ctrl-C (SIGINT) pauses the job cleanly; it exits with 5
    let child = spawn(&data, &["resume", &job]);
    let code = kill_at(child, &partial, 1600, "-INT");
    assert!(code == Some(5) || code == Some(0), "{code:?}");
    let o = ferry(&data, &["resume", &job]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(package_items(&pkg).values().sum::<u32>(), 5000);
    assert!(!partial.exists(), "staging removed");
}
