mod common;
use common::*;

#[test]
fn example_account_round_trips_through_a_package_and_a_folder() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let account = example_account();
    let p1 = t.path().join("one.zip");
    let o = ferry(&data, &["export", &format!("dir:{}", account.display()), "-o", p1.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = ferry(&data, &["verify", p1.to_str().unwrap()]);
    assert!(o.status.success() && text(&o).contains("OK"), "{}", text(&o));
    let folder = t.path().join("restored");
    let o = ferry(&data, &["import", p1.to_str().unwrap(), "--to", &format!("dir:{}", folder.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let p2 = t.path().join("two.zip");
    let o = ferry(&data, &["export", &format!("dir:{}", folder.display()), "-o", p2.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let (a, b) = (package_items(&p1), package_items(&p2));
    assert_eq!(a.values().sum::<u32>(), 122, "every example item is in the package");
    assert_eq!(a, b, "the two packages hold the same items with the same hashes");
    for v in ["contacts", "calendar", "tasks", "mail", "media", "files"] {
        assert!(a.keys().any(|k| k.0 == v), "{v} present");
    }
    // photo metadata from EXIF and from Takeout sidecars survives both ways
    for pkg in [&p1, &p2] {
        let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
        let mut media = String::new();
        std::io::Read::read_to_string(&mut z.by_name("media/media.jsonl").unwrap(), &mut media).unwrap();
        let recs: Vec<serde_json::Value> = media.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let with = |f: &str| recs.iter().filter(|r| !r["record"][f].is_null()).count();
        assert_eq!(with("taken_at"), 8, "{media}");
        assert!(with("location") >= 6, "{media}");
        assert!(with("camera") >= 6, "{media}");
        assert_eq!(with("description"), 2, "sidecar descriptions: {media}");
    }
}

#[test]
fn running_a_transfer_twice_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let dst = t.path().join("dst");
    let args = ["--json", "transfer", "--from", &format!("dir:{}", example_account().display()), "--to", &format!("dir:{}", dst.display())]
        .map(str::to_owned);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = ferry(&data, &args);
    assert!(o.status.success(), "{}", text(&o));
    let files_before: Vec<_> = {
        let mut w = walk(&dst);
        w.sort();
        w
    };
    let o = ferry(&data, &args);
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for (v, r) in report["report"]["verticals"].as_object().unwrap() {
        assert_eq!(r["transferred"], 0, "{v}: nothing new on the second run: {r}");
        assert_eq!(r["already_present"], r["found"], "{v}");
    }
    let files_after: Vec<_> = {
        let mut w = walk(&dst);
        w.sort();
        w
    };
    assert_eq!(files_before, files_after);
    // the incremental run does not even touch the destination
    let mut inc = args.clone();
    inc.push("--incremental");
    let o = ferry(&data, &inc);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn encrypted_packages_open_only_with_the_key() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let key = age::x25519::Identity::generate();
    let id_file = t.path().join("key.txt");
    use age::secrecy::ExposeSecret;
    std::fs::write(&id_file, format!("{}\n", key.to_string().expose_secret())).unwrap();
    let pkg = t.path().join("secret.age");
    let o = ferry(
        &data,
        &[
            "export",
            &format!("dir:{}", example_account().display()),
            "-o",
            pkg.to_str().unwrap(),
            "--only",
            "contacts,mail",
            "--recipient",
            &key.to_public().to_string(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let raw = std::fs::read(&pkg).unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1"));
    assert!(!raw.windows(5).any(|w| w == b"VCARD"), "nothing readable inside");
    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("encrypted"), "{}", text(&o));
    let o = ferry(&data, &["verify", pkg.to_str().unwrap(), "--identity", id_file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = t.path().join("out");
    let o = ferry(
        &data,
        &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", out.display()), "--identity", id_file.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(count_files(&out.join("mail")), 40);
    // a passphrase works too
    let pass = t.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let pkg2 = t.path().join("pass.age");
    let o = ferry(
        &data,
        &[
            "export",
            &format!("dir:{}", example_account().display()),
            "-o",
            pkg2.to_str().unwrap(),
            "--only",
            "tasks",
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(&pass, "wrong\n").unwrap();
    let o = ferry(&data, &["inspect", pkg2.to_str().unwrap(), "--passphrase-file", pass.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
}

#[test]
fn connectors_jobs_and_dry_run() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let o = ferry(&data, &["connectors"]);
    assert!(o.status.success());
    assert!(text(&o).contains("dir") && text(&o).contains("package"));
    let dst = t.path().join("dst");
    let o = ferry(
        &data,
        &[
            "transfer",
            "--dry-run",
            "--only",
            "contacts",
            "--from",
            &format!("dir:{}", example_account().display()),
            "--to",
            &format!("dir:{}", dst.display()),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("dry run"));
    assert!(!dst.join("contacts").exists(), "dry run writes nothing");
    let o = ferry(&data, &["--json", "jobs"]);
    let jobs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = jobs[0]["id"].as_str().unwrap().to_owned();
    let o = ferry(&data, &["jobs", &id]);
    assert!(text(&o).contains("contacts") && text(&o).contains("32"), "{}", text(&o));
    let o = ferry(&data, &["transfer", "--from", "nope:x", "--to", "dir:/tmp/x"]);
    assert_eq!(o.status.code(), Some(2), "an unknown scheme is a usage error");
    assert!(text(&o).contains("no connector for `nope:`"), "{}", text(&o));
    let o = ferry(&data, &["resume", "0000"]);
    assert!(text(&o).contains("no job with id"), "{}", text(&o));
}

#[test]
fn contacts_can_be_written_as_vcard_3() {
    let t = tempfile::tempdir().unwrap();
    let dst = t.path().join("v3");
    let o = ferry(
        &t.path().join("data"),
        &[
            "transfer",
            "--only",
            "contacts",
            "--from",
            &format!("dir:{}", example_account().display()),
            "--to",
            &format!("dir:{}?vcard=3.0", dst.display()),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let cards = walk(&dst);
    assert_eq!(cards.len(), 32);
    for c in cards {
        let body = std::fs::read_to_string(&c).unwrap();
        assert!(body.contains("VERSION:3.0") && !body.contains("VERSION:4.0") && !body.contains("VERSION:2.1"), "{body}");
    }
}
