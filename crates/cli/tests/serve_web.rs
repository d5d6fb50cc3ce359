//! `ferry serve` end to end: the real binary, a person in headless chromium
//! (scripts/browser/flow.mjs: Debian's chromium, playwright-core, axe-core), a real IMAP
//! server (Dovecot, from scripts/servers.sh) as one of the sources. The packages the
//! browser downloads must pass `ferry verify`; the IMAP password, given in the form, must
//! be nowhere afterwards: not in a page or an answer (the browser script checks those), a
//! log line, or a file of the data directory. Screenshots of every step, at a desktop and
//! a phone viewport, are kept in target/browser-artifacts/.

mod common;

use common::{Serve, ferry_bin, text};
use std::path::{Path, PathBuf};
use std::process::Command;

fn var(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run the tests with scripts/test.sh, which starts the servers"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()).map(|e| e.into_path()).collect()
}

#[test]
fn a_person_moves_data_through_the_web_app_on_a_desktop_and_a_phone() {
    let browser = repo().join("scripts/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and scripts/browser's npm packages: scripts/test.sh installs both"
    );
    let (imap, ca, password) = (var("FERRY_TEST_IMAP"), var("FERRY_TEST_CA"), var("FERRY_TEST_PASSWORD"));
    let t = tempfile::tempdir().unwrap();
    let user = format!("web-{}", std::process::id());
    let address = format!("imap://{user}@{imap}");
    // the IMAP account gets the example account's mail first, with the CLI
    let seed = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("cli"))
        .args(["transfer", "--only", "mail", "--from"])
        .arg(format!("dir:{}", common::example_account().display()))
        .args(["--to", &address, "--ca-file", &ca, "--allow-private-network"])
        .env("FERRY_PASSWORD", &password)
        .output()
        .unwrap();
    assert!(seed.status.success(), "{}", text(&seed));

    let files = t.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let data = t.path().join("data");
    let serve = Serve::start(&data, &["--files-root", files.to_str().unwrap(), "--allow-private-network", "--ca-file", &ca]);
    let artifacts = repo().join("target/browser-artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    let flow = Command::new("node")
        .arg(browser.join("flow.mjs"))
        .env("FERRY_URL", &serve.url)
        .env("ARTIFACTS", &artifacts)
        .env("IMAP_ADDRESS", &address)
        .env("IMAP_PASSWORD", &password)
        .output()
        .unwrap();
    let (status, log) = serve.stop();
    assert!(flow.status.success(), "the browser found problems:\n{}", text(&flow));
    assert!(status.success(), "ferry serve ends cleanly on SIGTERM: {status:?}");

    // every downloaded package is whole
    let packages: Vec<String> = String::from_utf8_lossy(&flow.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["package"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(packages.len(), 4, "two packages at each viewport: {packages:?}");
    for p in &packages {
        let v = Command::new(ferry_bin()).arg("--data-dir").arg(t.path().join("cli")).args(["verify", p]).output().unwrap();
        assert!(v.status.success(), "{p}: {}", text(&v));
    }
    let imap_items = common::package_items(Path::new(packages.iter().find(|p| p.ends_with("imap.zip")).unwrap()));
    let example_mail = common::package_items(Path::new(packages.iter().find(|p| p.ends_with("example.zip")).unwrap()))
        .into_iter()
        .filter(|(k, _)| k.0 == "mail")
        .count();
    assert_eq!(imap_items.len(), example_mail, "the IMAP account's messages, each once");
    // the folders written below the files root
    for vp in ["desktop", "phone"] {
        let n = files_below(&files.join("people").join(vp)).len();
        assert!(n >= 30, "{vp}: {n} files in the folder");
    }
    // screenshots of each step at both viewports
    let shots: Vec<_> = files_below(&artifacts).into_iter().filter(|p| p.extension().is_some_and(|e| e == "png")).collect();
    for vp in ["desktop", "phone"] {
        assert!(shots.iter().filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(vp)).count() >= 10, "{shots:?}");
    }
    // the password: in no log line and no file of the data directory
    assert!(log.iter().any(|l| l.contains("job ended")), "the log says what happened");
    assert!(log.iter().all(|l| !l.contains(&password)), "a log line holds the password");
    for f in files_below(&data) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "{} holds the password", f.display());
    }
}

/// The controller side in the browser: a person asks on the request page, staff sign in,
/// draw the answer up, withhold a row and deliver it; the person's page gives the links
/// (scripts/browser/rights.mjs). Every page passes axe-core's WCAG 2.1 A and AA checks.
#[test]
fn a_person_asks_for_their_data_and_staff_answer_it_in_the_browser() {
    let browser = repo().join("scripts/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and scripts/browser's npm packages: scripts/test.sh installs both"
    );
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let (_, map) = common::shop_sqlite(t.path());
    let config = common::requests_config(t.path(), &map, Some(&var("FERRY_TEST_SMTP")));
    let token = Command::new(ferry_bin()).arg("--data-dir").arg(&data).args(["admin", "token", "create", "staff"]).output().unwrap();
    assert!(token.status.success(), "{}", text(&token));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let serve = Serve::start(&data, &["--config", config.to_str().unwrap()]);
    let flow = Command::new("node")
        .arg(browser.join("rights.mjs"))
        .env("FERRY_URL", &serve.url)
        .env("ARTIFACTS", repo().join("target/browser-artifacts-rights"))
        .env("STAFF_TOKEN", &token)
        .output()
        .unwrap();
    let (status, log) = serve.stop();
    let warnings: Vec<&String> = log.iter().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    assert!(flow.status.success(), "the browser found problems:\n{}\nthe server's warnings: {warnings:#?}", text(&flow));
    assert!(status.success());
    assert!(!log.iter().any(|l| l.contains(&token)), "the staff token is in no log line");
}
