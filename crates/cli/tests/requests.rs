//! `ferry requests`: the register of portability and access requests, step by step, as
//! staff use it from the command line (docs/requests.md).
mod common;

use common::*;
use std::path::Path;

fn json(data: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "requests"];
    all.extend_from_slice(args);
    let o = ferry(data, &all);
    assert_eq!(o.status.code(), Some(0), "ferry {args:?}: {}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n)).to_string()
}

#[test]
fn a_request_goes_from_receipt_to_delivery_with_its_deadline_and_every_step_audited() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // received 40 days ago, identity confirmed 20 days ago: the month counts from then
    let received = days_ago(40);
    let r = json(data, &["new", "--regime", "gdpr", "--kind", "portability", "--email", "Ada@Example.org", "--received", &received]);
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!((r["state"].as_str(), r["kind"].as_str(), r["regime"].as_str()), (Some("received"), Some("portability"), Some("gdpr")));
    let due_then = chrono::NaiveDate::parse_from_str(&received, "%Y-%m-%d").unwrap().checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(r["deadline"]["due"], due_then.to_string(), "one calendar month from receipt: {r}");
    let human = ferry(data, &["requests", "new", "--regime", "uk-gdpr", "--kind", "access", "--customer-id", "C-1001"]);
    assert!(text(&human).contains("due ") && text(&human).contains("(uk-gdpr)"), "{}", text(&human));

    let confirmed = days_ago(20);
    let r = json(data, &["verify", &id, "--how", "replied to a code sent to the address on file", "--on", &confirmed, "--by", "sam"]);
    assert_eq!(r["state"], "in_progress");
    let due = chrono::NaiveDate::parse_from_str(&confirmed, "%Y-%m-%d").unwrap().checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(r["deadline"]["due"], due.to_string(), "the month counts from the day the identity was confirmed: {r}");
    let r = json(data, &["extend", &id, "--months", "2", "--reason", "records in three systems", "--by", "sam"]);
    assert_eq!(r["state"], "extended");
    let extended = chrono::NaiveDate::parse_from_str(&confirmed, "%Y-%m-%d").unwrap().checked_add_months(chrono::Months::new(3)).unwrap();
    assert_eq!(r["deadline"]["due"], extended.to_string(), "{r}");
    // a third month more is past what GDPR allows
    let o = ferry(data, &["requests", "extend", &id, "--months", "1", "--reason", "more"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // a step out of order is refused, naming both states
    let o = ferry(data, &["requests", "deliver", &id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot go from extended to delivered"), "{}", text(&o));
    assert_eq!(json(data, &["review", &id, "--by", "lee"])["state"], "ready_for_review");
    assert_eq!(json(data, &["review", &id, "--send-back", "the orders table is missing", "--by", "lee"])["state"], "in_progress");
    assert_eq!(json(data, &["review", &id, "--by", "sam"])["state"], "ready_for_review");
    let r = json(data, &["deliver", &id, "--by", "lee"]);
    assert_eq!(r["state"], "delivered");
    assert!(r["deadline"]["days_left"].is_null(), "a closed request has no days left: {r}");

    let shown = json(data, &["show", &id]);
    let actions: Vec<&str> = shown["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "received",
            "received→in_progress",
            "in_progress→extended",
            "extended→ready_for_review",
            "ready_for_review→in_progress",
            "in_progress→ready_for_review",
            "ready_for_review→delivered"
        ]
    );
    let actors: Vec<&str> = shown["history"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors[1..], ["sam", "sam", "lee", "lee", "sam", "lee"]);
    // the log checks out; a head the log has not reached (its tail cut off) does not
    let o = ferry(data, &["requests", "audit"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let head = text(&o).split("head ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let (seq, hash) = head.split_once(':').unwrap();
    assert_eq!(seq, "8", "eight entries: {head}");
    let later = format!("{}:{hash}", seq.parse::<i64>().unwrap() + 1);
    let o = ferry(data, &["requests", "audit", "--head", &later]);
    assert_eq!(o.status.code(), Some(4), "a log shorter than its known head fails: {}", text(&o));
    assert!(text(&o).contains("cut short"), "{}", text(&o));
}

#[test]
fn the_same_persons_second_request_is_linked_and_the_queue_is_ordered_by_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let first = json(data, &["new", "--email", "bo@example.org", "--received", &days_ago(27)]);
    assert_eq!(first["kind"], "both", "a request that does not say which right is answered as both");
    let again = json(data, &["new", "--email", " BO@example.ORG ", "--received", &days_ago(3)]);
    assert_eq!(again["duplicate_of"], first["id"], "the same address, another case: {again}");
    let ccpa = json(data, &["new", "--regime", "ccpa", "--email", "cy@example.org", "--received", &days_ago(10)]);
    assert_eq!(ccpa["deadline"]["days_left"], 35, "45 calendar days: {ccpa}");
    let other = json(data, &["new", "--email", "di@example.org"]);
    assert!(other["duplicate_of"].is_null());
    let list = json(data, &["list"]);
    let order: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(order[0], first["id"].as_str().unwrap(), "the nearest deadline first: {list}");
    assert_eq!(list[0]["deadline"]["at_risk"], true, "three days left is at risk: {list}");
    assert_eq!(order.len(), 4);
    // withdrawn and refused requests leave the queue; a refusal carries the right to complain
    json(data, &["withdraw", again["id"].as_str().unwrap()]);
    let refused =
        json(data, &["refuse", other["id"].as_str().unwrap(), "--reason", "identity_not_verified", "--details", "no reply to the code"]);
    assert!(refused["refusal"]["complaint"].as_str().unwrap().contains("complaint"), "{refused}");
    assert_eq!(json(data, &["list"]).as_array().unwrap().len(), 2);
    assert_eq!(json(data, &["list", "--all"]).as_array().unwrap().len(), 4);
    let o = ferry(data, &["requests", "refuse", first["id"].as_str().unwrap(), "--reason", "because"]);
    assert_eq!(o.status.code(), Some(2), "an undocumented reason is refused: {}", text(&o));
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let cases: [(&[&str], &str); 5] = [
        (&["new", "--regime", "hk-pdpo", "--email", "a@example.org"], "no regime `hk-pdpo`"),
        (&["new", "--email", "not-an-address"], "is not an email address"),
        (&["new", "--email", "a@example.org", "--kind", "erasure"], "--kind `erasure`"),
        (&["new", "--email", "a@example.org", "--received", "2999-01-01"], "in the future"),
        (&["show", "R-nothing"], "no request `R-nothing`"),
    ];
    for (args, says) in cases {
        let mut all = vec!["requests"];
        all.extend_from_slice(args);
        let o = ferry(data, &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
    }
    // an identity with SQL metacharacters is only data
    let r = json(data, &["new", "--username", "x'); DROP TABLE requests; --"]);
    assert_eq!(r["identity"]["value"], "x'); DROP TABLE requests; --");
    assert_eq!(json(data, &["list"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_companys_own_regime_is_a_file_kept_for_its_requests() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gdpr = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../requests/regimes/gdpr.toml")).unwrap();
    let own = gdpr.replacen("id = \"gdpr\"", "id = \"swiss-fadp\"", 1).replacen(
        "deadline = { months = 1, extension_months = 2 }",
        "deadline = { days = 30, extension_days = 30 }",
        1,
    );
    let file = dir.path().join("fadp.toml");
    std::fs::write(&file, &own).unwrap();
    let r = json(&data, &["new", "--regime-file", file.to_str().unwrap(), "--email", "e@example.org", "--received", &days_ago(5)]);
    assert_eq!((r["regime"].as_str(), r["deadline"]["days_left"].as_i64()), (Some("swiss-fadp"), Some(25)), "{r}");
    // later steps find it by its id
    let id = r["id"].as_str().unwrap();
    assert_eq!(json(&data, &["verify", id, "--how", "signed in"])["regime"], "swiss-fadp");
}

/// The code in the message the SMTP server delivered to `to` last (aiosmtpd's maildir).
fn code_sent_to(maildir: &Path, to: &str) -> String {
    let mut found = None;
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(maildir.join(sub)).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.lines().any(|l| l.eq_ignore_ascii_case(&format!("To: {to}"))) {
                let modified = e.metadata().unwrap().modified().unwrap();
                let code = text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned);
                if found.as_ref().is_none_or(|(t, _)| modified >= *t) {
                    found = code.map(|c| (modified, c));
                }
            }
        }
    }
    found.unwrap_or_else(|| panic!("no code for {to} in {}", maildir.display())).1
}

/// A one-time code by email, through a real SMTP server (scripts/servers.sh starts
/// aiosmtpd, which delivers into a maildir): a wrong answer counts, the right one confirms
/// the identity; five wrong answers spend a code, even for the right one after.
#[test]
fn the_identity_is_verified_by_a_code_sent_through_a_real_smtp_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let smtp = server_env("FERRY_TEST_SMTP");
    let maildir = std::path::PathBuf::from(server_env("FERRY_TEST_SMTP_MAILDIR"));
    let to = format!("fay.{}@example.org", std::process::id());
    let r = json(data, &["new", "--email", &to]);
    let id = r["id"].as_str().unwrap().to_owned();
    let send = ["verify", &id, "--send-code", "--smtp", &smtp, "--from", "privacy@shop.example", "--company", "Example Shop"];
    assert_eq!(json(data, &send)["state"], "verifying_identity");
    let code = code_sent_to(&maildir, &to);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let o = ferry(data, &["requests", "verify", &id, "--code", wrong]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("4 tries left"), "{}", text(&o));
    let r = json(data, &["verify", &id, "--code", &code]);
    assert_eq!(r["state"], "in_progress", "{r}");
    assert!(r["identity"]["verified"]["how"].as_str().unwrap().contains(&format!("replied to a code sent to {to}")), "{r}");
    let o = ferry(data, &["requests", "verify", &id, "--code", &code]);
    assert_eq!(o.status.code(), Some(2), "a code is used once: {}", text(&o));
    let actions: Vec<String> =
        json(data, &["show", &id])["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["received", "received→verifying_identity", "code_sent", "code_wrong", "verifying_identity→in_progress"]);

    // five wrong answers spend a code
    let to2 = format!("gus.{}@example.org", std::process::id());
    let id2 = json(data, &["new", "--email", &to2])["id"].as_str().unwrap().to_owned();
    json(data, &["verify", &id2, "--send-code", "--smtp", &smtp, "--from", "privacy@shop.example"]);
    let code2 = code_sent_to(&maildir, &to2);
    let wrong2 = if code2 == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(ferry(data, &["requests", "verify", &id2, "--code", wrong2]).status.code(), Some(2));
    }
    let o = ferry(data, &["requests", "verify", &id2, "--code", &code2]);
    assert!(text(&o).contains("the code is spent"), "{}", text(&o));
    // a new code works again
    json(data, &["verify", &id2, "--send-code", "--smtp", &smtp, "--from", "privacy@shop.example"]);
    let code3 = code_sent_to(&maildir, &to2);
    assert_eq!(json(data, &["verify", &id2, "--code", &code3])["state"], "in_progress");
    assert_eq!(ferry(data, &["requests", "audit"]).status.code(), Some(0), "every step audited, the chain intact");
    // the code is not kept anywhere in ferry's data
    let db = std::fs::read(data.join("requests.db")).unwrap();
    assert!(!db.windows(6).any(|w| w == code3.as_bytes()), "the code itself is never stored");
}

fn shop(dir: &Path) -> String {
    common::shop_sqlite(dir).0
}

#[test]
fn the_answer_is_drawn_up_from_the_shops_database_and_sealed_for_the_person() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = shop(dir.path());
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop/map.toml");
    let id = json(&data, &["new", "--email", "alice@example.com", "--kind", "both"])["id"].as_str().unwrap().to_owned();
    let out = dir.path().join("answer");
    let answer = |extra: &[&str]| {
        let mut args = vec!["--json", "requests", "answer", &id, "--map", map.to_str().unwrap(), "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        std::process::Command::new(ferry_bin()).arg("--data-dir").arg(&data).args(&args).env("SHOP_DATABASE_URL", &url).output().unwrap()
    };
    let o = answer(&[]);
    assert_eq!(o.status.code(), Some(2), "not before the identity is verified: {}", text(&o));
    assert!(text(&o).contains("not verified yet"), "{}", text(&o));
    json(&data, &["verify", &id, "--how", "signed in to the account"]);
    let o = answer(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["state"], "ready_for_review", "{r}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("portability/manifest.json")).unwrap()).unwrap();
    let tables: Vec<&str> = manifest["tables"].as_array().unwrap().iter().map(|t| t["table"].as_str().unwrap()).collect();
    assert!(tables.contains(&"orders") && !tables.contains(&"invoices"), "portability: no legal-obligation rows: {tables:?}");
    assert!(out.join("access/report.html").is_file(), "an access answer has its readable report");
    assert!(std::fs::read_to_string(out.join("access/manifest.json")).unwrap().contains("invoices"));
    // again, sealed for the person: only ciphertext stays
    let out2 = dir.path().join("sealed");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    json(&data, &["review", &id, "--send-back", "seal it"]);
    let o = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(&data)
        .args([
            "requests",
            "answer",
            &id,
            "--map",
            map.to_str().unwrap(),
            "-o",
            out2.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ])
        .env("SHOP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut names: Vec<String> = std::fs::read_dir(&out2).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, [format!("{id}-access.zip.age"), format!("{id}-portability.zip.age")]);
    let sealed = std::fs::read(out2.join(format!("{id}-portability.zip.age"))).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1"), "age's format");
    assert!(!sealed.windows(17).any(|w| w == b"alice@example.com"), "no plain text of the answer");
    // an output folder that exists is never written into
    let o = answer(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
