//! The `remote:` connector against the protocol's reference service
//! (examples/remote-service/ferry_service.py), each test with a service of its own started
//! with the options the case needs: tokens that expire mid-transfer, a rate limit the
//! service keeps quiet about and one it publishes, a daily quota that runs out, sync
//! tokens that expire. The behaviour suite (behaviour.rs) runs the common steps; a
//! hostile service of this test's own checks what ferry refuses to believe.
mod common;
mod fixtures;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A running reference service: its address and its request log.
struct Service {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Service {
    fn start(dir: &Path, args: &[&str]) -> Service {
        let log = dir.join("service.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/remote-service/ferry_service.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--data", dir.join("service").to_str().unwrap(), "--listen", "127.0.0.1:0", "--key", "k1:key-secret"])
            .args(["--token", "static-token", "--test-hooks"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // the one line it prints when it listens
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in `{line}`"));
        Service { child, port, log }
    }

    fn uri(&self, account: &str) -> String {
        format!("remote+http://k1@127.0.0.1:{}/{account}/", self.port)
    }

    /// Lines of the request log (method path status ms).
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap().lines().map(str::to_owned).collect()
    }

    fn count(&self, what: &str) -> usize {
        self.requests().iter().filter(|l| l.contains(what)).count()
    }

    fn hook(&self, account: &str, what: &str, body: &str) {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "POST /_test/{account}/{what} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 2"), "{answer}");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ferry with the key's secret as the password (request signatures), loopback allowed.
fn ferry_signed(data: &Path, args: &[&str]) -> Output {
    Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("--json")
        .args(args)
        .args(["--insecure", "--allow-private-network"])
        .env("FERRY_PASSWORD", "key-secret")
        .env("FERRY_LOG", "ferry_engine=info")
        .output()
        .unwrap()
}

fn report(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(o)))
}

fn total(r: &serde_json::Value, what: &str) -> u64 {
    r["report"]["verticals"].as_object().unwrap().values().map(|v| v[what].as_u64().unwrap_or(0)).sum()
}

/// `n` contacts in one address book.
fn contacts(dir: &Path, n: usize, from: usize) -> String {
    let src = dir.join(format!("contacts-{from}"));
    std::fs::create_dir_all(src.join("contacts")).unwrap();
    let vcf: String = (from..from + n)
        .map(|i| format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-{i}\r\nFN:Person {i}\r\nEMAIL:p{i}@example.org\r\nEND:VCARD\r\n"))
        .collect();
    std::fs::write(src.join("contacts/Friends.vcf"), vcf).unwrap();
    format!("dir:{}", src.display())
}

#[test]
fn a_token_that_expires_mid_transfer_is_refreshed_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    // the token file's access token looks valid for an hour but the service refuses it (a
    // 401, then a refresh); the tokens the service gives live one second, so they expire
    // again and again during the transfer (one item at a time keeps it longer than that)
    let svc = Service::start(dir.path(), &["--token-lifetime", "1", "--batch-max", "1"]);
    let tokens = dir.path().join("tokens.json");
    let body = serde_json::json!({
        "access_token": "revoked-by-the-service", "refresh_token": "static-token", "token_type": "Bearer", "expires_in": 3600,
        "token_endpoint": format!("http://127.0.0.1:{}/oauth/token", svc.port), "client_id": "ferry"
    });
    std::fs::write(&tokens, body.to_string()).unwrap();
    let src = contacts(dir.path(), 150, 0);
    let to = format!("remote+http://127.0.0.1:{}/tok/", svc.port);
    let o = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--json", "transfer", "--from", &src, "--to", &to, "--concurrency", "1"])
        .args(["--to-token-file", tokens.to_str().unwrap(), "--insecure", "--allow-private-network"])
        .env_remove("FERRY_PASSWORD")
        .output()
        .unwrap();
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 150, "{r}");
    let refreshes = svc.count("POST /oauth/token 200");
    assert!(refreshes >= 2, "the one-second tokens were refreshed along the way ({refreshes} times): {:?}", svc.requests());
    assert_eq!(svc.count(" 401 "), 1, "the refused token was refreshed once, later ones before they expired: {:?}", svc.requests());
    // every contact once at the service
    let back = dir.path().join("back.zip");
    let o = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["export", &to, "-o", back.to_str().unwrap()])
        .args(["--from-token-file", tokens.to_str().unwrap(), "--insecure", "--allow-private-network"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(package_items(&back).values().sum::<u32>(), 150);
    assert!(package_items(&back).values().all(|n| *n == 1));
}

/// A platform's archive goes to a service through the protocol, whatever its verticals: a
/// ChatGPT archive's conversations (with the image one shows) and its kept files arrive,
/// and come back the same.
#[test]
fn an_archives_later_verticals_travel_through_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[]);
    let zip = dir.path().join("chatgpt.zip");
    let mut z = fixtures::Zip::create(&zip);
    for (n, b) in fixtures::more::chatgpt() {
        z.add(&n, &b);
    }
    z.finish();
    let data = dir.path().join("data");
    let o = ferry_signed(&data, &["transfer", "--from", &format!("archive:{}", zip.display()), "--to", &svc.uri("ai")]);
    let r = report(&o);
    assert_eq!(r["report"]["verticals"]["conversations"]["transferred"], 2, "{}", text(&o));
    let back = dir.path().join("back.zip");
    let o = ferry_signed(&data, &["export", &svc.uri("ai"), "--only", "conversations", "-o", back.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut zb = zip::ZipArchive::new(std::fs::File::open(&back).unwrap()).unwrap();
    let mut jsonl = String::new();
    zb.by_name("conversations/conversations.jsonl").unwrap().read_to_string(&mut jsonl).unwrap();
    let convs: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(convs.len(), 2, "{jsonl}");
    let ferries = convs.iter().find(|c| c["record"]["title"] == "Ferries").expect("the conversation came back");
    assert_eq!(ferries["record"]["messages"].as_array().map(Vec::len), Some(5), "every branch: {ferries}");
    assert_eq!(ferries["attached"].as_array().map(Vec::len), Some(1), "its image: {ferries}");
}

#[test]
fn a_rate_limit_the_service_keeps_quiet_about_is_waited_out() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &["--rate", "10", "--batch-max", "1"]);
    let o = ferry_signed(&dir.path().join("data"), &["transfer", "--from", &contacts(dir.path(), 60, 0), "--to", &svc.uri("quiet")]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 60, "{r}");
    assert!(svc.count(" 429 ") >= 1, "the service refused some requests: {:?}", svc.requests());
}

#[test]
fn a_published_rate_limit_is_kept_without_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &["--rate", "10", "--batch-max", "1", "--publish-limits"]);
    let start = std::time::Instant::now();
    let o = ferry_signed(&dir.path().join("data"), &["transfer", "--from", &contacts(dir.path(), 60, 0), "--to", &svc.uri("paced")]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(total(&r, "transferred"), 60, "{r}");
    assert_eq!(svc.count(" 429 "), 0, "ferry kept to the published limit: {:?}", svc.requests());
    // 60 puts at 10 a second (after a burst of 10) cannot take less than 5 seconds
    assert!(start.elapsed() >= std::time::Duration::from_secs(4), "{:?}", start.elapsed());
}

#[test]
fn a_spent_daily_quota_pauses_the_job_until_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &["--daily-quota", "1000000", "--batch-max", "1"]);
    // 20 requests left today, then none until the quota comes back in an hour
    svc.hook("daily", "quota", r#"{"remaining": 20, "reset_in_seconds": 3600}"#);
    let data = dir.path().join("data");
    let o = ferry_signed(&data, &["transfer", "--from", &contacts(dir.path(), 50, 0), "--to", &svc.uri("daily"), "--concurrency", "1"]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "paused", "{}", text(&o));
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("paused: "), "the reason is printed: {}", text(&o));
    let reason = r["report"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("paused until") && reason.contains("quota"), "the reason says until when: {reason}");
    let done = total(&r, "transferred");
    assert!((1..50).contains(&done), "some items moved before the quota ran out: {r}");
    assert_eq!(total(&r, "failed"), 0, "no item failed for the quota: {r}");
    // the quota comes back; the job goes on where it stopped
    svc.hook("daily", "quota", r#"{"remaining": 1000, "reset_in_seconds": 3600}"#);
    let jobs: serde_json::Value = serde_json::from_slice(&ferry(&data, &["--json", "jobs"]).stdout).unwrap();
    let job = jobs[0]["id"].as_str().unwrap().to_owned();
    let o = ferry_signed(&data, &["resume", &job]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    let back = dir.path().join("back.zip");
    let o = ferry_signed(&data, &["export", &svc.uri("daily"), "-o", back.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let items = package_items(&back);
    assert_eq!(items.values().sum::<u32>(), 50, "each contact once after the pause");
    assert!(items.values().all(|n| *n == 1));
}

#[test]
fn a_published_daily_quota_pauses_the_job_before_the_service_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &["--daily-quota", "15", "--batch-max", "1", "--publish-limits"]);
    let o = ferry_signed(&dir.path().join("data"), &["transfer", "--from", &contacts(dir.path(), 40, 0), "--to", &svc.uri("own")]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "paused", "{}", text(&o));
    assert!(r["report"]["reason"].as_str().unwrap_or_default().contains("is spent"), "{r}");
    assert_eq!(svc.count(" 429 "), 0, "ferry stopped before the service had to refuse: {:?}", svc.requests());
}

#[test]
fn an_expired_sync_token_falls_back_to_a_full_listing_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[]);
    let data = dir.path().join("data");
    let (a, b) = (svc.uri("sync-a"), svc.uri("sync-b"));
    let o = ferry_signed(&data, &["transfer", "--from", &contacts(dir.path(), 30, 0), "--to", &a]);
    assert_eq!(total(&report(&o), "transferred"), 30, "{}", text(&o));
    let o = ferry_signed(&data, &["transfer", "--from", &a, "--to", &b]);
    assert_eq!(total(&report(&o), "transferred"), 30, "{}", text(&o));
    // two more at A, then every sync token A gave expires
    let o = ferry_signed(&data, &["transfer", "--from", &contacts(dir.path(), 2, 100), "--to", &a]);
    assert_eq!(total(&report(&o), "transferred"), 2, "{}", text(&o));
    svc.hook("sync-a", "expire-sync-tokens", "{}");
    let o = ferry_signed(&data, &["transfer", "--incremental", "--from", &a, "--to", &b]);
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert!(svc.count("/changes 410") >= 1, "the service said the token expired: {:?}", svc.requests());
    assert_eq!(total(&r, "found"), 32, "listed in full: {r}");
    assert_eq!(total(&r, "transferred"), 2, "only the new ones moved: {r}");
    let back = dir.path().join("b.zip");
    let o = ferry_signed(&data, &["export", &b, "-o", back.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let items = package_items(&back);
    assert_eq!(items.values().sum::<u32>(), 32);
    assert!(items.values().all(|n| *n == 1), "no duplicates: {items:?}");
    // and the next incremental run lists only changes again
    let o = ferry_signed(&data, &["transfer", "--incremental", "--from", &a, "--to", &b]);
    assert_eq!(total(&report(&o), "found"), 0, "{}", text(&o));
}

/// A service that answers what a broken or hostile one would, by path (one answer per
/// connection): `/v2/` speaks another protocol version, `/bad/` gives a page of damaged
/// items beside good ones, `/loop/` gives the same cursor for ever, `/huge/` announces a
/// page of 100 MB, `/evil/` points content at another origin. It counts the requests to
/// the other origin, which must stay at none.
struct Hostile {
    port: u16,
    elsewhere: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

fn answer(s: &mut std::net::TcpStream, status: &str, body: &str) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl Hostile {
    fn start() -> Hostile {
        let elsewhere = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // the other origin: a listener that only counts
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other_port = other.local_addr().unwrap().port();
        let count = elsewhere.clone();
        std::thread::spawn(move || {
            for s in other.incoming().flatten() {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(s);
            }
        });
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                let account = path.split('/').nth(1).unwrap_or("");
                let rest = path.splitn(3, '/').nth(2).unwrap_or("");
                let sha = "a".repeat(64);
                let contact = |id: &str| {
                    format!(
                        r#"{{"id":"{id}","container":"","version":"1","record":{{"type":"contact","uid":"{id}","formatted_name":"P {id}","vcard_version":"4.0"}}}}"#
                    )
                };
                match (account, rest) {
                    ("v2", "") => answer(&mut s, "200 OK", r#"{"protocol":"ferry-connector/2","exports":["contacts"]}"#),
                    (_, "") => answer(
                        &mut s,
                        "200 OK",
                        r#"{"protocol":"ferry-connector/1","exports":["contacts","files"],"imports":[],"page_size_max":50}"#,
                    ),
                    (_, "containers") if query.contains("files") => {
                        answer(&mut s, "200 OK", r#"{"containers":[{"id":"f","vertical":"files","path":""}]}"#)
                    }
                    (_, "containers") => answer(&mut s, "200 OK", r#"{"containers":[{"id":"c","vertical":"contacts","path":""}]}"#),
                    ("huge", _) => {
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{{\"items\":["
                        );
                    }
                    ("loop", _) => answer(&mut s, "200 OK", &format!(r#"{{"items":[{}],"next_cursor":"same"}}"#, contact("x"))),
                    // A, B, A, ...: a cycle of two
                    ("cycle", _) => {
                        let next = if query.contains("cursor=A") { "B" } else { "A" };
                        answer(&mut s, "200 OK", &format!(r#"{{"items":[{}],"next_cursor":"{next}"}}"#, contact(next)))
                    }
                    // more than the 50 a page may hold
                    ("toomany", _) => {
                        let items: Vec<String> = (0..51).map(|i| contact(&format!("t{i}"))).collect();
                        answer(&mut s, "200 OK", &format!(r#"{{"items":[{}],"next_cursor":null}}"#, items.join(",")))
                    }
                    // an item that claims a container it was not listed in
                    ("claims", _) => {
                        let moved = contact("moved").replace(r#""container":"""#, r#""container":"../Elsewhere""#);
                        answer(&mut s, "200 OK", &format!(r#"{{"items":[{},{moved}],"next_cursor":null}}"#, contact("ok")))
                    }
                    ("evil", "containers/f/items") => answer(
                        &mut s,
                        "200 OK",
                        &format!(
                            r#"{{"items":[{{"id":"f1","container":"","version":"1","record":{{"type":"file","name":"f1.txt"}},"content":{{"sha256":"{sha}","size":3,"media_type":"text/plain","url":"http://127.0.0.1:{other_port}/steal"}}}}],"next_cursor":null}}"#
                        ),
                    ),
                    ("evil", _) | ("bad", "containers/f/items") => answer(&mut s, "200 OK", r#"{"items":[],"next_cursor":null}"#),
                    ("bad", _) => answer(
                        &mut s,
                        "200 OK",
                        &format!(
                            r#"{{"items":[{},{{"id":"no-version","record":{{"type":"contact","formatted_name":"x","vcard_version":"4.0"}}}},{{"id":"wrong-type","version":"1","record":{{"type":"event","uid":"e","summary":"s","start":{{"value":"2025-01-01"}}}}}},{{"id":"bad-original","version":"1","record":{{"type":"contact","formatted_name":"y","vcard_version":"4.0"}},"original":{{"media_type":"text/vcard","base64":"%%%"}}}},{}],"failures":[{{"id":"held-back","reason":"the record is damaged at the service"}}],"next_cursor":null}}"#,
                            contact("good-1"),
                            contact("good-2")
                        ),
                    ),
                    _ => answer(&mut s, "404 Not Found", r#"{"error":{"code":"not_found","message":"no such thing"}}"#),
                }
            }
        });
        Hostile { port, elsewhere }
    }

    fn uri(&self, account: &str) -> String {
        format!("remote+http://k1@127.0.0.1:{}/{account}/", self.port)
    }
}

#[test]
fn a_hostile_service_is_not_believed_and_nothing_it_holds_is_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start();
    let data = dir.path().join("data");
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();

    // another major version of the protocol
    let o = ferry_signed(&data, &["export", &h.uri("v2"), "-o", &out("v2.zip")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("ferry-connector/2") && text(&o).contains("ferry-connector/1"), "{}", text(&o));

    // damaged items fail one by one, with their reasons; the good ones and the service's
    // own failures are in the report
    let o = ferry_signed(&data, &["transfer", "--from", &h.uri("bad"), "--to", &format!("package:{}", out("bad.zip"))]);
    let r = report(&o);
    assert_eq!(total(&r, "transferred"), 2, "{r}");
    assert_eq!(total(&r, "failed"), 4, "three damaged items and one the service held back: {r}");
    let listed = r.to_string();
    for (id, why) in [
        ("no-version", "version"),
        ("wrong-type", "a calendar record in a contacts container"),
        ("bad-original", "base64"),
        ("held-back", "damaged at the service"),
    ] {
        assert!(listed.contains(id) && listed.contains(why), "{id}: {why}: {listed}");
    }

    // the same cursor again would never end
    let o = ferry_signed(&data, &["export", &h.uri("loop"), "--only", "contacts", "-o", &out("loop.zip")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("same cursor"), "{}", text(&o));

    // a cycle of cursors, and a page larger than asked for
    let o = ferry_signed(&data, &["export", &h.uri("cycle"), "--only", "contacts", "-o", &out("cycle.zip")]);
    assert!(!o.status.success() && text(&o).contains("same cursor again"), "{}", text(&o));
    let o = ferry_signed(&data, &["export", &h.uri("toomany"), "--only", "contacts", "-o", &out("toomany.zip")]);
    assert!(!o.status.success() && text(&o).contains("for a page of at most 50"), "{}", text(&o));

    // an item may not move itself into another container
    let to = format!("package:{}", out("claims.zip"));
    let o = ferry_signed(&data, &["transfer", "--only", "contacts", "--from", &h.uri("claims"), "--to", &to]);
    let r = report(&o);
    assert_eq!((total(&r, "transferred"), total(&r, "failed")), (1, 1), "{r}");
    assert!(r.to_string().contains("claims container `../Elsewhere`"), "{r}");

    // a page too large to hold is refused before it is read
    let o = ferry_signed(&data, &["export", &h.uri("huge"), "--only", "contacts", "-o", &out("huge.zip")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("larger than"), "{}", text(&o));

    // content on another origin is never fetched (the credential would go along)
    let o =
        ferry_signed(&data, &["transfer", "--only", "files", "--from", &h.uri("evil"), "--to", &format!("package:{}", out("evil.zip"))]);
    let r = report(&o);
    assert_eq!(total(&r, "failed"), 1, "{r}");
    assert_eq!(h.elsewhere.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was sent to the other origin");
}
