//! Helpers shared by the CLI tests: run the real `ferry` binary, read packages.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn ferry_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ferry")
}

pub fn example_account() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/account").canonicalize().unwrap()
}

pub fn ferry(data: &Path, args: &[&str]) -> Output {
    Command::new(ferry_bin()).arg("--data-dir").arg(data).args(args).output().expect("ferry runs")
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Kills a ferry child (started with `FERRY_LOG=ferry_engine=info` and its stderr piped)
/// as soon as the engine logs its first committed page. True when it was still running
/// then: the kill landed after some items were confirmed and before the job ended.
pub fn kill_after_first_page(child: std::process::Child) -> bool {
    kill_after(child, |_| true)
}

/// As [`kill_after_first_page`], once a committed page held items (a stream with none,
/// a Mastodon account's posts when it has none, commits a page of none): some items are
/// then confirmed when the kill lands.
pub fn kill_after_first_items(child: std::process::Child) -> bool {
    kill_after(child, |line| line.split_whitespace().any(|w| w.strip_prefix("items=").is_some_and(|n| n != "0")))
}

fn kill_after(mut child: std::process::Child, page: fn(&str) -> bool) -> bool {
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr is piped"));
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(stderr).map_while(Result::ok) {
            if line.contains("page committed") && page(&line) {
                let _ = tx.send(());
            }
        }
    });
    let committed = rx.recv_timeout(std::time::Duration::from_secs(120)).is_ok();
    let killed = committed && child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    killed
}

/// Every item of a ZIP or directory package as (vertical, container, SHA-256 of its
/// content or original), with how many times it occurs.
pub fn package_items(pkg: &Path) -> BTreeMap<(String, String, String), u32> {
    let files = [
        "contacts/contacts.jsonl",
        "calendar/events.jsonl",
        "tasks/tasks.jsonl",
        "mail/messages.jsonl",
        "media/media.jsonl",
        "files/files.jsonl",
    ];
    let mut out = BTreeMap::new();
    for f in files {
        let body = if pkg.is_dir() {
            match std::fs::read_to_string(pkg.join(f)) {
                Ok(b) => b,
                Err(_) => continue,
            }
        } else {
            let mut z = zip::ZipArchive::new(std::fs::File::open(pkg).unwrap()).unwrap();
            let mut s = String::new();
            match z.by_name(f) {
                Ok(mut e) => {
                    e.read_to_string(&mut s).unwrap();
                }
                Err(_) => continue,
            }
            s
        };
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            let sha = match r.get("content") {
                Some(c) => c["sha256"].as_str().unwrap().to_owned(),
                None => hex::encode(Sha256::digest(r["original"]["text"].as_str().unwrap().as_bytes())),
            };
            *out.entry((f.split('/').next().unwrap().to_owned(), r["container"].as_str().unwrap().to_owned(), sha)).or_default() += 1;
        }
    }
    out
}

pub fn count_files(dir: &Path) -> usize {
    walk(dir).len()
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A variable scripts/servers.sh sets; missing means the servers were not started.
pub fn server_env(k: &str) -> String {
    std::env::var(k)
        .unwrap_or_else(|_| panic!("{k} is not set: run the tests with scripts/test.sh, which starts the servers (scripts/servers.sh)"))
}

/// Runs ferry against the test servers: their CA, loopback allowed, the test password.
pub fn run_with_servers(data: &Path, args: &[&str]) -> Output {
    Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .args(["--ca-file", &server_env("FERRY_TEST_CA"), "--allow-private-network"])
        .env("FERRY_PASSWORD", server_env("FERRY_TEST_PASSWORD"))
        .output()
        .unwrap()
}

/// A running `ferry serve`: its address, and its log collected line by line.
pub struct Serve {
    child: std::process::Child,
    pub url: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Serve {
    pub fn start(data: &Path, args: &[&str]) -> Serve {
        Self::start_with_env(data, args, &[])
    }

    pub fn start_with_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = std::process::Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("FERRY_LOG", "debug")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn({
            let log = log.clone();
            move || {
                for line in std::io::BufRead::lines(stderr).map_while(Result::ok) {
                    if let Some(rest) = line.strip_prefix("ferry serve: listening on ") {
                        let _ = tx.send(rest.split_whitespace().next().unwrap().to_owned());
                    }
                    log.lock().unwrap().push(line);
                }
            }
        });
        let url = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("ferry serve says where it listens");
        Serve { child, url, log, reader: Some(reader) }
    }

    /// Stops it with SIGTERM, as an operator's service manager does, and waits for it.
    pub fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        self.stop_now()
    }

    fn stop_now(&mut self) -> (std::process::ExitStatus, Vec<String>) {
        let kill = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }
}

/// A test that fails midway does not leave its server running.
impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stand-in for a service that cannot run here (scripts/fakes/NAME/server.py), started
/// on a free port of 127.0.0.1 and stopped when dropped; its request log is kept in DIR.
pub struct Stand {
    child: std::process::Child,
    pub port: u16,
    log: PathBuf,
}

impl Stand {
    pub fn start(name: &str, dir: &Path, args: &[&str]) -> Stand {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../scripts/fakes/{name}/server.py"));
        let log = dir.join(format!("{name}-fake.log"));
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("GOOGLE_FAKE_LOG", "1")
            .env("MICROSOFT_FAKE_LOG", "1")
            .env("MASTODON_FAKE_LOG", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // the one line it prints when it listens
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in `{line}`"));
        Stand { child, port, log }
    }

    /// A test hook or an API call without credentials; the JSON answer (2xx required).
    pub fn call(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 2"), "{method} {path}: {answer}");
        serde_json::from_str(body.trim()).unwrap_or(serde_json::Value::Null)
    }

    /// Answers of this status in its log.
    pub fn answered(&self, status: u16) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().filter(|l| l.contains(&format!("\" {status} "))).count()
    }

    /// Requests the real service would have refused: there must be none.
    pub fn assert_no_violations(&self) {
        let v = self.call("GET", "/_fake/violations", "");
        assert!(v["violations"].as_array().is_some_and(|a| a.is_empty()), "requests the service would refuse: {v}");
    }

    /// A token file whose access token the service no longer takes (the first request
    /// refreshes it with `refresh`) at its token endpoint `token_path`.
    pub fn tokens(&self, dir: &Path, refresh: &str, token_path: &str, scope: &str) -> String {
        let path = dir.join(format!("{refresh}-tokens.json"));
        let body = serde_json::json!({
            "access_token": "stale", "refresh_token": refresh, "token_type": "Bearer", "expires_in": 3600,
            "token_endpoint": format!("http://127.0.0.1:{}{token_path}", self.port), "client_id": "ferry-test", "client_secret": "s",
            "scope": scope
        });
        std::fs::write(&path, body.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Stand {
    /// As [`Stand::tokens`] for Microsoft's identity platform, which takes the client's
    /// credentials in the form.
    #[allow(dead_code)]
    pub fn graph_tokens(&self, dir: &Path, refresh: &str, scope: &str) -> String {
        let path = self.tokens(dir, refresh, "/common/oauth2/v2.0/token", scope);
        let mut t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        t["token_endpoint_auth_method"] = "client_secret_post".into();
        std::fs::write(&path, t.to_string()).unwrap();
        path
    }
}

impl Drop for Stand {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ferry against a stand-in service (plain HTTP on loopback): `--json`, the report's
/// output, no password from the environment.
#[allow(dead_code)]
pub fn ferry_service(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .args(args)
        .args(["--insecure", "--allow-private-network"])
        .env_remove("FERRY_PASSWORD")
        .env("FERRY_LOG", "ferry_engine=info")
        .output()
        .unwrap()
}

/// The JSON a `--json` run printed.
#[allow(dead_code)]
pub fn report(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(o)))
}

/// A count of the report summed over its verticals (`transferred`, `already_present`…).
#[allow(dead_code)]
pub fn total(r: &serde_json::Value, what: &str) -> u64 {
    r["report"]["verticals"].as_object().unwrap().values().map(|v| v[what].as_u64().unwrap_or(0)).sum()
}

/// The sample shop (examples/requests/shop/) in SQLite under `dir`, loaded with Python's
/// sqlite3, and a copy of its dataset map that points at it: (database URL, map).
pub fn shop_sqlite(dir: &Path) -> (String, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop");
    let db = dir.join("shop.db");
    let o = Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.executescript(open(sys.argv[3]).read()); c.commit()"])
        .arg(&db)
        .arg(root.join("schema.sqlite.sql"))
        .arg(root.join("seed.sql"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let url = format!("sqlite:{}", db.display());
    let map = dir.join("map.toml");
    std::fs::write(&map, std::fs::read_to_string(root.join("map.toml")).unwrap().replace("env:SHOP_DATABASE_URL", &url)).unwrap();
    (url, map)
}

/// A `ferry serve` configuration file in `dir` that answers requests from the shop `map`.
pub fn requests_config(dir: &Path, map: &Path, smtp: Option<&str>) -> PathBuf {
    let mut text = format!("[requests]\nmap = {:?}\ncompany = \"Example Shop\"\nsender_id = \"shop.example\"\n", map.display().to_string());
    if let Some(s) = smtp {
        text.push_str(&format!("smtp_url = {s:?}\nsmtp_from = \"privacy@shop.example\"\n"));
    }
    let path = dir.join("serve.toml");
    std::fs::write(&path, text).unwrap();
    path
}
