//! The IMAP connector against a real Dovecot, started by scripts/servers.sh (the test
//! command does it). Each test uses its own users, so tests do not see each other's mail.
mod common;
use common::*;
use std::path::Path;
use std::process::Output;

pub struct Server {
    pub addr: String,
    pub ca: String,
    pub password: String,
}

pub fn dovecot() -> Server {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run the tests with scripts/test.sh, which starts Dovecot (scripts/servers.sh)"));
    Server { addr: var("FERRY_TEST_IMAP"), ca: var("FERRY_TEST_CA"), password: var("FERRY_TEST_PASSWORD") }
}

fn user(tag: &str) -> String {
    format!("{tag}-{}", std::process::id() as u64 * 1000 + rand_u16() as u64)
}

fn rand_u16() -> u16 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 65521) as u16
}

fn run(s: &Server, data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .args(["--ca-file", &s.ca, "--allow-private-network"])
        .env("FERRY_PASSWORD", &s.password)
        .output()
        .unwrap()
}

fn mail_only(items: std::collections::BTreeMap<(String, String, String), u32>) -> std::collections::BTreeMap<(String, String, String), u32> {
    items.into_iter().filter(|(k, _)| k.0 == "mail").collect()
}

#[test]
fn imap_to_imap_round_trip_rerun_and_incremental() {
    let s = dovecot();
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let (alice, bob) = (user("alice"), user("bob"));
    let a = format!("imap://{alice}@{}", s.addr);
    let b = format!("imap://{bob}@{}", s.addr);
    let account = format!("dir:{}", example_account().display());

    // the example mail, as a package, is what every later package must equal
    let reference = t.path().join("reference.zip");
    let o = run(&s, &data, &["export", &account, "--only", "mail", "-o", reference.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let expected = mail_only(package_items(&reference));
    assert_eq!(expected.values().sum::<u32>(), 40);

    let o = run(&s, &data, &["transfer", "--only", "mail", "--from", &account, "--to", &a]);
    assert!(o.status.success(), "{}", text(&o));
    let pa = t.path().join("alice.zip");
    let o = run(&s, &data, &["export", &a, "-o", pa.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&s, &data, &["transfer", "--from", &a, "--to", &b]);
    assert!(o.status.success(), "{}", text(&o));
    let pb = t.path().join("bob.zip");
    let o = run(&s, &data, &["export", &b, "-o", pb.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let (in_alice, in_bob) = (mail_only(package_items(&pa)), mail_only(package_items(&pb)));
    assert_eq!(in_alice, in_bob, "IMAP to IMAP: same folders, same messages byte for byte");
    // the example's messages have LF line ends; IMAP carries CRLF: same messages, same folders
    let per_folder = |m: &std::collections::BTreeMap<(String, String, String), u32>| {
        let mut c = std::collections::BTreeMap::new();
        for ((_, folder, _), n) in m {
            *c.entry(folder.clone()).or_insert(0) += n;
        }
        c
    };
    assert_eq!(per_folder(&in_alice), per_folder(&expected));

    // flags and the special-use folders made it
    let body = {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&pb).unwrap()).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name("mail/messages.jsonl").unwrap(), &mut s).unwrap();
        s
    };
    assert!(body.contains("\\\\Flagged") && body.contains("\\\\Answered"), "flags kept");
    assert!(body.contains("\"container\":\"Sent\""));

    // the same transfer again appends nothing
    let o = run(&s, &data, &["--json", "transfer", "--from", &a, "--to", &b]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["mail"]["transferred"], 0, "{r}");
    assert_eq!(r["report"]["verticals"]["mail"]["already_present"], 40, "{r}");

    // add two messages at the source: an incremental run moves only those
    let extra = t.path().join("extra");
    std::fs::create_dir_all(extra.join("mail")).unwrap();
    std::fs::write(extra.join("mail/INBOX.mbox"), "From x@example.org Tue Jan  7 10:00:00 2025\nMessage-ID: <new-1@example.org>\nSubject: new one\n\nhello\n\nFrom x@example.org Tue Jan  7 10:05:00 2025\nSubject: no message id\n\nhello again\n\n").unwrap();
    let o = run(&s, &data, &["transfer", "--from", &format!("dir:{}", extra.display()), "--to", &a]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&s, &data, &["--json", "transfer", "--incremental", "--from", &a, "--to", &b]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["mail"]["transferred"], 2, "{r}");
    // and once more: nothing
    let o = run(&s, &data, &["--json", "transfer", "--incremental", "--from", &a, "--to", &b]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["mail"]["transferred"], 0, "{r}");
}

#[test]
fn imap_to_maildir_folder() {
    let s = dovecot();
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let a = format!("imap://{}@{}", user("carol"), s.addr);
    let o = run(&s, &data, &["transfer", "--only", "mail", "--from", &format!("dir:{}", example_account().display()), "--to", &a]);
    assert!(o.status.success(), "{}", text(&o));
    let out = t.path().join("out");
    let o = run(&s, &data, &["transfer", "--from", &a, "--to", &format!("dir:{}", out.display())]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(count_files(&out.join("mail")), 40);
    assert!(out.join("mail/Sent/cur").is_dir() && out.join("mail/INBOX/cur").is_dir());
}

#[test]
fn tls_and_private_network_guards() {
    let s = dovecot();
    let t = tempfile::tempdir().unwrap();
    let a = format!("imap://{}@{}", user("dave"), s.addr);
    let out = format!("dir:{}", t.path().join("out").display());
    // no --allow-private-network: refused before connecting
    let o = std::process::Command::new(ferry_bin()).arg("--data-dir").arg(t.path().join("d")).args(["transfer", "--from", &a, "--to", &out, "--ca-file", &s.ca]).env("FERRY_PASSWORD", &s.password).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("internal address") && text(&o).contains("--allow-private-network"), "{}", text(&o));
    // the test CA not given: the certificate is refused
    let o = std::process::Command::new(ferry_bin()).arg("--data-dir").arg(t.path().join("d")).args(["transfer", "--from", &a, "--to", &out, "--allow-private-network"]).env("FERRY_PASSWORD", &s.password).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("certificate"), "{}", text(&o));
    // a wrong password: a clear, fatal error
    let o = std::process::Command::new(ferry_bin()).arg("--data-dir").arg(t.path().join("d")).args(["transfer", "--from", &a, "--to", &out, "--allow-private-network", "--ca-file", &s.ca]).env("FERRY_PASSWORD", "wrong").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("login as"), "{}", text(&o));
    assert!(!text(&o).contains("wrong"), "the password is never printed: {}", text(&o));
}
