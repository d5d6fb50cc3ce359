//! schemathesis (PyPI, pinned in scripts/schemathesis/requirements.txt, installed by
//! scripts/test.sh into target/venv) against `ferry serve`'s served OpenAPI document: every
//! route, as an operator, with examples, generated and fuzzed requests and links followed
//! from a new job to its routes. No server error, no answer outside the document.

mod common;

use common::{Serve, ferry_bin, text};
use std::path::Path;
use std::process::Command;

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let st = std::env::var("FERRY_SCHEMATHESIS").map(Into::into).unwrap_or_else(|_| root.join("target/venv/bin/st"));
    assert!(st.exists(), "schemathesis is not installed at {}: scripts/test.sh installs it", st.display());
    let t = tempfile::tempdir().unwrap();
    let files = t.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let token =
        Command::new(ferry_bin()).arg("--data-dir").arg(t.path()).args(["admin", "token", "create", "schemathesis"]).output().unwrap();
    assert!(token.status.success(), "{}", text(&token));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    // the controller side too: the sample shop in SQLite, and its map
    let (_, map) = common::shop_sqlite(t.path());
    let config = common::requests_config(t.path(), &map, None);
    let serve = Serve::start_with_env(
        t.path(),
        &["--files-root", files.to_str().unwrap(), "--config", config.to_str().unwrap()],
        &[("FERRY_SERVE_CLIENT_REQUESTS_PER_SECOND", "5000")],
    );
    let run = Command::new(&st)
        .arg("--config-file")
        .arg(root.join("scripts/schemathesis/schemathesis.toml"))
        .args(["run", &format!("{}/api/openapi.json", serve.url), "--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", "40", "--seed", "1", "--no-color"])
        .env("FERRY_TOKEN", &token)
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap();
    let (status, log) = serve.stop();
    assert!(run.status.success(), "schemathesis found problems:\n{}", text(&run));
    assert!(status.success());
    assert!(!log.iter().any(|l| l.contains("panicked")), "a handler panicked:\n{}", log.join("\n"));
}
