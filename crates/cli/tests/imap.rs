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
    let var = |k: &str| {
        std::env::var(k)
            .unwrap_or_else(|_| panic!("{k} is not set: run the tests with scripts/test.sh, which starts Dovecot (scripts/servers.sh)"))
    };
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

fn mail_only(
    items: std::collections::BTreeMap<(String, String, String), u32>,
) -> std::collections::BTreeMap<(String, String, String), u32> {
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
    std::fs::write(
        extra.join("mail/INBOX.mbox"),
        "From x@example.org Tue Jan  7 10:00:00 2025\nMessage-ID: \
        <new-1@example.org>\nSubject: new one\n\nhello\n\nFrom x@example.org Tue Jan  7 10:05:00 2025\nSubject: \
        no message id\n\nhello again\n\n",
    )
    .unwrap();
    let o = run(&s, &data, &["transfer", "--from", &format!("dir:{}", extra.display()), "--to", &a]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&s, &data, &["--json", "transfer", "--incremental", "--from", &a, "--to", &b]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["mail"]["transferred"], 2, "{r}");
    assert_eq!(r["report"]["verticals"]["mail"]["found"], 2, "only the new messages are listed (UIDNEXT, CONDSTORE): {r}");
    // and once more: nothing, and nothing listed
    let o = run(&s, &data, &["--json", "transfer", "--incremental", "--from", &a, "--to", &b]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["mail"]["transferred"], 0, "{r}");
    assert_eq!(r["report"]["verticals"]["mail"]["found"], 0, "{r}");

    // Dovecot forgets alice's INBOX UIDs (its uidlist and indexes gone), so the folder
    // gets a new UIDVALIDITY: the saved state no longer applies to it, it is listed whole,
    // and the destination already holds every message
    std::thread::sleep(std::time::Duration::from_millis(1100)); // UIDVALIDITY is a time in seconds
    let maildir =
        Path::new(&std::env::var("FERRY_SERVERS_DIR").expect("set by scripts/test.sh")).join("dovecot/home").join(&alice).join("Maildir");
    for e in std::fs::read_dir(&maildir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let in_inbox = ["cur", "new"].iter().map(|d| std::fs::read_dir(maildir.join(d)).unwrap().count()).sum::<usize>();
    assert!(in_inbox >= 2, "alice's INBOX holds the example's and the two new messages");
    let o = run(&s, &data, &["--json", "transfer", "--incremental", "--from", &a, "--to", &b]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mail = &r["report"]["verticals"]["mail"];
    assert_eq!(
        (mail["found"].as_u64(), mail["transferred"].as_u64(), mail["already_present"].as_u64()),
        (Some(in_inbox as u64), Some(0), Some(in_inbox as u64)),
        "a folder with a new UIDVALIDITY is listed whole: {r}"
    );
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
    let o = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("d"))
        .args(["transfer", "--from", &a, "--to", &out, "--ca-file", &s.ca])
        .env("FERRY_PASSWORD", &s.password)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("internal address") && text(&o).contains("--allow-private-network"), "{}", text(&o));
    // the test CA not given: the certificate is refused
    let o = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("d"))
        .args(["transfer", "--from", &a, "--to", &out, "--allow-private-network"])
        .env("FERRY_PASSWORD", &s.password)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("certificate"), "{}", text(&o));
    // a wrong password: a clear, fatal error
    let o = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("d"))
        .args(["transfer", "--from", &a, "--to", &out, "--allow-private-network", "--ca-file", &s.ca])
        .env("FERRY_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("login as"), "{}", text(&o));
    assert!(!text(&o).contains("wrong"), "the password is never printed: {}", text(&o));
}

#[test]
fn killed_imap_transfer_resumes_without_the_password_and_without_duplicates() {
    let s = dovecot();
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let (a, b) = (format!("imap://{}@{}", user("erin"), s.addr), format!("imap://{}@{}", user("frank"), s.addr));
    // 600 messages of 1 to 30 KB in two folders
    let src = t.path().join("src/mail");
    std::fs::create_dir_all(&src).unwrap();
    for folder in ["INBOX", "Projects"] {
        let mut mbox = String::new();
        for i in 0..300 {
            let body = format!("line of message {i} in {folder}\n").repeat(1 + (i * 37) % 900);
            mbox.push_str(&format!(
                "From a@example.org Mon Jan  6 09:00:00 2025\nMessage-ID: <{folder}-{i}@example.org>\nSubject: {folder} {i}\n\n{body}\n"
            ));
        }
        std::fs::write(src.join(format!("{folder}.mbox")), mbox).unwrap();
    }
    let o = run(
        &s,
        &data,
        &["transfer", "--from", &format!("dir:{}", t.path().join("src").display()), "--to", &a, "--connections", "8", "--concurrency", "8"],
    );
    assert!(o.status.success(), "{}", text(&o));

    let spawn = |args: &[&str], with_password: bool| {
        let mut c = std::process::Command::new(ferry_bin());
        c.arg("--data-dir").arg(&data).arg("-q").args(args).args(["--ca-file", &s.ca, "--allow-private-network"]);
        if with_password {
            c.env("FERRY_PASSWORD", &s.password);
        } else {
            c.env_remove("FERRY_PASSWORD");
        }
        c.env("FERRY_LOG", "ferry_engine=info").stderr(std::process::Stdio::piped());
        c.stdin(std::process::Stdio::null()).spawn().unwrap()
    };
    // one message at a time; killed as soon as the engine says a page is committed, so
    // the kill lands after some messages are confirmed and before the rest are
    let child = spawn(&["transfer", "--from", &a, "--to", &b, "--concurrency", "1"], true);
    assert!(kill_after_first_page(child), "the transfer was killed after its first page and before its end");
    let o = ferry(&data, &["--json", "jobs"]);
    let jobs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let job = jobs[0]["id"].as_str().unwrap().to_owned();
    // the password is in the job store only sealed
    let db = std::fs::read(data.join("ferry.db")).unwrap_or_default();
    let wal = std::fs::read(data.join("ferry.db-wal")).unwrap_or_default();
    assert!(
        !db.windows(s.password.len()).any(|w| w == s.password.as_bytes())
            && !wal.windows(s.password.len()).any(|w| w == s.password.as_bytes()),
        "no plaintext password at rest"
    );
    assert_eq!(sealed_secrets(&data, &job), 2, "both passwords are kept, sealed, while the job can be resumed");
    // resumed without a password (the sealed one is used), and interrupted again if it is
    // still running after its first page
    let again = spawn(&["resume", &job, "--concurrency", "1"], false);
    kill_after_first_page(again);
    let done = spawn(&["resume", &job], false).wait_with_output().unwrap();
    assert!(done.status.success(), "resume without a password: {:?}", done);

    let (pa, pb) = (t.path().join("a.zip"), t.path().join("b.zip"));
    for (uri, p) in [(&a, &pa), (&b, &pb)] {
        let o = run(&s, &data, &["export", uri, "-o", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let (ia, ib) = (mail_only(package_items(&pa)), mail_only(package_items(&pb)));
    assert_eq!(ia.values().sum::<u32>(), 600);
    assert_eq!(ia, ib, "every message exactly once at the destination");
    // the job has ended: its sealed password is gone too
    let o = ferry(&data, &["--json", "jobs", &job]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["state"], "completed", "{r}");
    assert_eq!(sealed_secrets(&data, &job), 0, "the sealed passwords are deleted when the job ends");
}

/// How many sealed credentials the job store holds for a job.
fn sealed_secrets(data: &std::path::Path, job: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("ferry.db")).read_only(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM job_secrets WHERE job_id = ?").bind(job).fetch_one(&pool).await.unwrap()
    })
}

#[test]
fn large_message_with_a_fresh_data_dir_is_spooled_and_the_spool_removed() {
    let s = dovecot();
    let t = tempfile::tempdir().unwrap();
    // a data directory that does not exist yet: its tmp folder neither
    let data = t.path().join("brand-new");
    let src = t.path().join("src/mail");
    std::fs::create_dir_all(&src).unwrap();
    let line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopq\n";
    let body = line.repeat((9 << 20) / line.len() + 1);
    std::fs::write(
        src.join("INBOX.mbox"),
        format!("From a@example.org Mon Jan  6 09:00:00 2025\nMessage-ID: <big@example.org>\nSubject: 9 MiB\n\n{body}\n"),
    )
    .unwrap();
    let a = format!("imap://{}@{}", user("gina"), s.addr);
    let o = run(&s, &data, &["--json", "transfer", "--from", &format!("dir:{}", t.path().join("src").display()), "--to", &a]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["mail"]["transferred"], 1, "{r}");
    // the message is on the server whole (CRLF line ends: one more byte a line)
    let pkg = t.path().join("back.zip");
    let o = run(&s, &data, &["export", &a, "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut z = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let mut jsonl = String::new();
    std::io::Read::read_to_string(&mut z.by_name("mail/messages.jsonl").unwrap(), &mut jsonl).unwrap();
    let rec: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    let lines = body.lines().count() + 4;
    assert!(rec["content"]["size"].as_u64().unwrap() > 9 << 20, "{rec}");
    assert!(rec["content"]["size"].as_u64().unwrap() >= (body.len() + lines) as u64, "{rec}");
    // the spool file and its private folder are gone
    let left = walk(&data.join("tmp"));
    assert!(left.is_empty(), "spool files left behind: {left:?}");
}

#[test]
fn trace_log_never_shows_the_password() {
    let s = dovecot();
    let t = tempfile::tempdir().unwrap();
    let a = format!("imap://{}@{}", user("hank"), s.addr);
    let src = t.path().join("src/mail");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("INBOX.mbox"),
        "From a@example.org Mon Jan  6 09:00:00 2025\nMessage-ID: <t@example.org>\nSubject: t\n\nhi\n\n",
    )
    .unwrap();
    for args in [
        vec!["transfer".to_owned(), "--from".into(), format!("dir:{}", t.path().join("src").display()), "--to".into(), a.clone()],
        vec!["export".to_owned(), a.clone(), "-o".into(), t.path().join("out.zip").display().to_string()],
    ] {
        let o = std::process::Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(t.path().join("data"))
            .args(&args)
            .args(["--ca-file", &s.ca, "--allow-private-network"])
            .env("FERRY_PASSWORD", &s.password)
            .env("FERRY_LOG", "trace")
            .output()
            .unwrap();
        let all = text(&o);
        assert!(o.status.success(), "{all}");
        // the trace log is on and shows the IMAP conversation
        assert!(all.contains("CAPABILITY") && all.contains("LIST"), "{all}");
        assert!(!all.contains(&s.password), "the password is in the output of {args:?}");
    }
}
