//! Package targets and staging are never a danger to the person's files: a folder that is
//! not ferry's is not replaced, two processes on one package do not touch the sources,
//! staging belongs to one job, temporaries are never followed through links, encrypted
//! exports leave no plaintext, and bad items fail alone.
mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every file under `dir` with the SHA-256 of its bytes.
fn hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    walk(dir).into_iter().map(|p| (p.clone(), hex::encode(Sha256::digest(std::fs::read(&p).unwrap())))).collect()
}

/// `n` files of pseudo-random bytes under `src/files/`.
fn source_files(src: &Path, n: usize, max_len: u64) {
    let mut seed = 7u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..n {
        let dir = src.join(format!("files/d{}", i % 20));
        std::fs::create_dir_all(&dir).unwrap();
        let len = (rnd() % max_len + 1) as usize;
        let body: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        std::fs::write(dir.join(format!("f{i}.bin")), body).unwrap();
    }
}

fn spawn(data: &Path, args: &[&str]) -> Child {
    Command::new(ferry_bin()).arg("--data-dir").arg(data).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn output(child: Child) -> (Option<i32>, String) {
    let o = child.wait_with_output().unwrap();
    (o.status.code(), text(&o))
}

#[test]
fn export_into_a_folder_with_other_files_is_refused_and_the_folder_is_intact() {
    let t = tempfile::tempdir().unwrap();
    let docs = t.path().join("Documents");
    std::fs::create_dir_all(docs.join("taxes")).unwrap();
    std::fs::write(docs.join("thesis.tex"), "my thesis").unwrap();
    std::fs::write(docs.join("taxes/2024.pdf"), "%PDF- 2024").unwrap();
    let before = hashes(&docs);
    let o = ferry(&t.path().join("data"), &["export", &format!("dir:{}", example_account().display()), "-o", docs.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("not empty"), "{}", text(&o));
    assert_eq!(hashes(&docs), before, "the folder changed");
    assert!(!t.path().join("Documents.ferry-partial").exists(), "work was done before the refusal");
    // a ZIP target that is not a ferry package is not replaced either
    let zip = t.path().join("photos.zip");
    std::fs::write(&zip, "not a package").unwrap();
    let o = ferry(&t.path().join("data"), &["export", &format!("dir:{}", example_account().display()), "-o", zip.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&zip).unwrap(), b"not a package");
    // an empty folder is fine
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = ferry(&t.path().join("data"), &["export", &format!("dir:{}", example_account().display()), "-o", empty.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(empty.join("manifest.json").exists());
}

#[test]
fn two_exports_to_one_zip_at_once_leave_every_source_file_intact() {
    let t = tempfile::tempdir().unwrap();
    let (src, data) = (t.path().join("src"), t.path().join("data"));
    source_files(&src, 3000, 4000);
    let before = hashes(&src);
    let pkg = t.path().join("p.zip");
    let args = ["export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()];
    let (a, b) = (spawn(&data, &args), spawn(&data, &args));
    let (ra, rb) = (output(a), output(b));
    assert_eq!(hashes(&src), before, "a source file changed:\n{}\n{}", ra.1, rb.1);
    let ok = [&ra, &rb].iter().filter(|r| r.0 == Some(0)).count();
    assert!(ok >= 1, "neither export finished:\n{}\n{}", ra.1, rb.1);
    if ok == 1 {
        let loser = if ra.0 == Some(0) { &rb.1 } else { &ra.1 };
        // refused by the winner's lock, or, if it came later, by its staging (checked
        // before the loser's job is even created)
        let locked = loser.contains("is in use by job") && loser.contains("process");
        let staged = loser.contains("holds the unfinished staging of job");
        assert!(locked || staged, "{loser}");
    }
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(package_items(&pkg).values().sum::<u32>(), 3000);
}

fn last_job(data: &Path) -> String {
    let o = ferry(data, &["--json", "jobs"]);
    let jobs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    jobs[0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn leftover_staging_of_one_job_is_refused_for_another() {
    let t = tempfile::tempdir().unwrap();
    let (a, b, data) = (t.path().join("a"), t.path().join("b"), t.path().join("data"));
    source_files(&a, 2000, 20_000);
    source_files(&b, 5, 100);
    let pkg = t.path().join("p.zip");
    let staged = t.path().join("p.zip.ferry-partial/content");
    let mut child = spawn(&data, &["export", &format!("dir:{}", a.display()), "-o", pkg.to_str().unwrap()]);
    // kill it once some items are staged
    let start = Instant::now();
    while count_files(&staged) < 20 && start.elapsed() < Duration::from_secs(120) {
        assert!(child.try_wait().unwrap().is_none(), "the export ended before it could be interrupted");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let job_a = last_job(&data);
    let o = ferry(&data, &["export", &format!("dir:{}", b.display()), "-o", pkg.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&job_a) && text(&o).contains("ferry resume"), "{}", text(&o));
    assert!(!pkg.exists(), "a package was written from another job's staging");
    // the staging's own job still finishes, with only its own items
    let o = ferry(&data, &["resume", &job_a]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(package_items(&pkg).values().sum::<u32>(), 2000);
    let m: serde_json::Value = {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
        serde_json::from_reader(z.by_name("manifest.json").unwrap()).unwrap()
    };
    assert!(m["source"].as_str().unwrap().ends_with("/a"), "{}", m["source"]);
}

#[test]
fn links_planted_at_temporary_names_are_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victim = t.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    for name in [".p.age.tmp", ".p.age.age.tmp", ".p.age.tmp.tmp"] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    let pkg = out.join("p.age");
    let o = Command::new(ferry_bin())
        .args(["--data-dir", t.path().join("data").to_str().unwrap(), "export", &format!("dir:{}", example_account().display())])
        .args(["-o", pkg.to_str().unwrap()])
        .env("FERRY_PASSPHRASE", "correct horse")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(&victim).unwrap()).chars().take(40).collect::<String>(),
        "precious",
        "the link was followed"
    );
    assert_eq!(std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read(&pkg).unwrap().starts_with(b"age-encryption.org/v1"));
}

#[test]
fn a_failed_encrypted_export_leaves_no_plaintext_and_its_staging_is_private() {
    let t = tempfile::tempdir().unwrap();
    let (src, out) = (t.path().join("src"), t.path().join("out"));
    std::fs::create_dir(&out).unwrap();
    // 40 incompressible files of up to 200 KB: each fits under the file size limit set
    // below, the package does not, so writing the package fails (EFBIG)
    source_files(&src, 40, 200_000);
    let pkg = out.join("p.age");
    let script = format!(
        "trap '' XFSZ; ulimit -f 3000; exec {} --data-dir {} export dir:{} -o {}",
        ferry_bin(),
        t.path().join("data").display(),
        src.display(),
        pkg.display()
    );
    let o = Command::new("sh").arg("-c").arg(script).env("FERRY_PASSPHRASE", "correct horse").output().unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!pkg.exists());
    let staging = out.join("p.age.ferry-partial");
    let entries: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries, vec![staging.clone()], "something beside the staging: {entries:?}");
    let mut stack = vec![staging];
    while let Some(d) = stack.pop() {
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700, "{}", d.display());
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600, "{}", p.display());
            let head: Vec<u8> = std::fs::read(&p).unwrap().into_iter().take(4).collect();
            assert_ne!(head, b"PK\x03\x04", "a plaintext ZIP is left: {}", p.display());
        }
    }
}

/// Rewrites one file of a folder package and its manifest entry, as a careful forger would.
fn forge(pkg: &Path, rel: &str, body: &[u8]) {
    std::fs::write(pkg.join(rel), body).unwrap();
    let mpath = pkg.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == rel {
            f["size"] = body.len().into();
            f["sha256"] = hex::encode(Sha256::digest(body)).into();
        }
    }
    std::fs::write(&mpath, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

#[test]
fn one_broken_calendar_entry_fails_alone_and_the_package_is_written() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let pkg = t.path().join("pkg");
    let o = ferry(&data, &["export", &format!("dir:{}", example_account().display()), "--only", "calendar", "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let events = std::fs::read_to_string(pkg.join("calendar/events.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = events.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let broken_id = lines[0]["id"].as_str().unwrap().to_owned();
    lines[0]["original"]["text"] = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:broken\r\nSUMMARY:never ends\r\n".into();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    forge(&pkg, "calendar/events.jsonl", body.as_bytes());
    let copy = t.path().join("copy.zip");
    let o = ferry(&data, &["transfer", "--from", &format!("package:{}", pkg.display()), "--to", &format!("package:{}", copy.display())]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains(&broken_id), "{}", text(&o));
    let o = ferry(&data, &["verify", copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(package_items(&copy).values().sum::<u32>(), lines.len() as u32 - 1);
}

#[test]
fn package_text_is_escaped_on_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let pkg = t.path().join("pkg");
    let o = ferry(&data, &["export", &format!("dir:{}", example_account().display()), "--only", "contacts", "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mpath = pkg.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    m["source"] = "dir:/x\u{1b}]52;c;cm0gLXJmIH4K\u{7}\u{1b}[2J".into();
    m["generator"] = "ferry \u{9b}31m".into();
    std::fs::write(&mpath, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    std::fs::write(pkg.join("contacts/evil\u{1b}[2J.txt"), "x").unwrap();
    for cmd in ["inspect", "verify"] {
        let o = ferry(&data, &[cmd, pkg.to_str().unwrap()]);
        let all = text(&o);
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{7}') && !all.contains('\u{9b}'),
            "{cmd} printed a raw control character: {all:?}"
        );
        assert!(all.contains("\\u{1b}"), "{cmd}: {all}");
    }
}

#[test]
fn an_oversized_manifest_is_refused_with_bounded_memory() {
    let t = tempfile::tempdir().unwrap();
    let pkg = t.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    // 300 MB of nothing (a sparse file): reading it whole would show in the memory use
    std::fs::File::create(pkg.join("manifest.json")).unwrap().set_len(300 << 20).unwrap();
    let o = Command::new("/usr/bin/time")
        .args(["-f", "maxrss-kb=%M", ferry_bin(), "--data-dir", t.path().join("data").to_str().unwrap(), "verify", pkg.to_str().unwrap()])
        .output()
        .unwrap();
    let all = text(&o);
    assert_eq!(o.status.code(), Some(4), "{all}");
    assert!(all.contains("manifest.json is 314572800 bytes, over the"), "{all}");
    let kb: u64 = all.split("maxrss-kb=").nth(1).unwrap().trim().parse().unwrap();
    assert!(kb < 150_000, "verify used {kb} KB to refuse the manifest");
}
