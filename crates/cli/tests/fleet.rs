//! A fleet of `ferry worker` processes sharing one PostgreSQL job store: three queued
//! jobs of 5,000 files each, a worker killed with SIGKILL while it holds a job (another
//! takes the job over once its lease expires, and finishes it), and a worker stopped with
//! SIGSTOP past its lease (once it continues, it commits nothing under the lease it lost,
//! and says so). In the end every file is at each destination exactly once and every job
//! is completed.
//!
//! Needs `FERRY_TEST_POSTGRES` (scripts/servers.sh provides it); each test makes a database
//! of its own and drops it afterwards.

mod common;
use common::*;
use sqlx::{Connection, Executor, Row};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FILES: usize = 5_000;
/// Leases this short make takeovers quick; heartbeats come every third of it.
const LEASE_SECONDS: &str = "2";
/// The key that seals passwords, the same on every worker, as a fleet's must be.
const SECRET_KEY: &str = "5e7a2c0f1b9d48e6a3c5f70b2d8e4a6c1f3b5d7e9a0c2e4f6b8d0a1c3e5f7a9b";

/// A database of its own on the test server, dropped when this goes (the test's processes
/// are ended before that).
struct Database {
    server: String,
    name: String,
    url: String,
    rt: tokio::runtime::Runtime,
}

impl Database {
    fn create() -> Database {
        let server = server_env("FERRY_TEST_POSTGRES");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("ferry_fleet_{}_{nanos}", std::process::id());
        rt.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&server)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to FERRY_TEST_POSTGRES ({server}): {e}"));
            admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("a test database is created");
            admin.close().await.ok();
        });
        let url = with_database(&server, &name);
        Database { server, name, url, rt }
    }

    /// One query's rows, on a connection of its own.
    fn query(&self, sql: &str, job: &str) -> Vec<sqlx::postgres::PgRow> {
        self.rt.block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(job).fetch_all(&mut c).await.unwrap();
            c.close().await.ok();
            rows
        })
    }

    /// A job as the store has it now: state, holder, fence, and whether its lease ended.
    fn job(&self, id: &str) -> JobRow {
        let rows = self.query(
            "SELECT state, worker, fence, COALESCE(lease_expires_at <= clock_timestamp(), true) AS expired FROM jobs WHERE id = $1",
            id,
        );
        let r = rows.first().unwrap_or_else(|| panic!("no job {id} in the store"));
        JobRow { state: r.get("state"), worker: r.get("worker"), fence: r.get("fence"), expired: r.get("expired") }
    }

    /// How many of a job's item rows each take of the job (its fence) committed.
    fn rows_by_fence(&self, id: &str) -> BTreeMap<Option<i64>, i64> {
        self.query("SELECT fence, COUNT(*) AS n FROM job_items WHERE job_id = $1 GROUP BY fence", id)
            .iter()
            .map(|r| (r.get::<Option<i64>, _>("fence"), r.get::<i64, _>("n")))
            .collect()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        self.rt.block_on(async move {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
                let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
                admin.close().await.ok();
            }
        });
    }
}

#[derive(Debug)]
struct JobRow {
    state: String,
    worker: Option<String>,
    fence: i64,
    expired: bool,
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host = base.find("://").map_or(0, |i| i + 3);
    let base = base[host..].find('/').map_or(base, |i| &base[..host + i]);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// A `ferry worker` process with its own data directory (as on a machine of its own), its
/// log collected line by line. Dropped, it is killed.
struct Worker {
    name: &'static str,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    fn start(name: &'static str, db: &Database, data: &Path, jobs: u16) -> Worker {
        let mut child = Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(data)
            .args(["worker", "--jobs", &jobs.to_string()])
            .env("FERRY_DATABASE", &db.url)
            .env("FERRY_SECRET_KEY", SECRET_KEY)
            .env("FERRY_LEASE_SECONDS", LEASE_SECONDS)
            .env("FERRY_LOG", "ferry_engine=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ferry worker starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Worker { name, child, log, reader: Some(reader) }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Whether a lease's holder (`ferry worker PID on HOST`) is this worker.
    fn holds(&self, holder: Option<&str>) -> bool {
        holder.is_some_and(|h| h.starts_with(&format!("ferry worker {} on ", self.pid())))
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The first line from `from` on that matches, waiting for it up to `limit`.
    fn wait_line(&mut self, from: usize, limit: Duration, what: &str, matches: impl Fn(&str) -> bool) -> (usize, String) {
        let start = Instant::now();
        loop {
            let lines = self.lines();
            if let Some((i, l)) = lines.iter().enumerate().skip(from).find(|(_, l)| matches(l)) {
                return (i, l.clone());
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("worker {} ended ({status}) before {what}:\n{}", self.name, lines.join("\n"));
            }
            assert!(start.elapsed() < limit, "worker {} did not log {what} within {limit:?}:\n{}", self.name, lines.join("\n"));
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn signal(&self, signal: &str) {
        let ok = Command::new("kill").args([signal, &self.pid()]).status().unwrap().success();
        assert!(ok, "kill {signal} {}", self.pid());
    }

    /// Waits up to `limit` for the process to end; its exit code (None: killed by a signal).
    fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(r) = self.reader.take() {
                    r.join().unwrap();
                }
                return status.code();
            }
            assert!(start.elapsed() < limit, "worker {} did not end within {limit:?}:\n{}", self.name, self.lines().join("\n"));
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").args(["-CONT", &self.pid()]).status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The job a "page committed" line of the engine's log names.
fn job_of(line: &str) -> Option<String> {
    let at = line.find(" job=")? + 5;
    Some(line[at..].split_whitespace().next()?.to_owned())
}

fn committed_for(job: &str) -> impl Fn(&str) -> bool + '_ {
    move |l: &str| l.contains("page committed") && job_of(l).as_deref() == Some(job)
}

/// Polls until `ready` holds, up to `limit`.
fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// FILES small files in 50 folders, of several sizes and contents.
fn generate(src: &Path) {
    let mut seed = 7u64;
    for i in 0..FILES {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let dir = src.join(format!("d{:02}", i % 50));
        if i < 50 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let body = format!("file {i} {seed:x}\n").repeat(1 + (seed % 40) as usize);
        std::fs::write(dir.join(format!("f{i:05}.txt")), body).unwrap();
    }
}

/// Every file under `dir` by its path relative to it, with its content.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(dir).into_iter().map(|p| (p.strip_prefix(dir).unwrap().to_owned(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn workers_share_queued_jobs_take_over_dead_and_stalled_ones_and_deliver_each_item_once() {
    let db = Database::create();
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    generate(&src);

    // three jobs queued from a machine that runs nothing
    let submitter = t.path().join("submitter");
    let mut jobs = Vec::new();
    for k in 1..=3 {
        let o = Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(&submitter)
            .args(["--json", "transfer", "--detach", "--from", &format!("dir:{}", src.display())])
            .args(["--to", &format!("dir:{}", t.path().join(format!("dst{k}")).display())])
            .env("FERRY_DATABASE", &db.url)
            .env("FERRY_SECRET_KEY", SECRET_KEY)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(out["state"], "queued", "{out}");
        let id = out["job"].as_str().unwrap().to_owned();
        assert_eq!(db.job(&id).state, "queued");
        jobs.push(id);
    }
    assert!(!t.path().join("dst1").exists(), "--detach runs nothing");

    // two workers, one job at a time each
    let w1 = Worker::start("w1", &db, &t.path().join("w1"), 1);
    let w2 = Worker::start("w2", &db, &t.path().join("w2"), 1);

    // the first worker to commit a page is killed there and then
    let limit = Duration::from_secs(120);
    let start = Instant::now();
    let (mut killed, mut survivor, line) = loop {
        let page = |w: &Worker| w.lines().into_iter().find(|l| l.contains("page committed"));
        if let Some(l) = page(&w1) {
            break (w1, w2, l);
        }
        if let Some(l) = page(&w2) {
            break (w2, w1, l);
        }
        assert!(start.elapsed() < limit, "no worker committed a page:\n{}\n{}", w1.lines().join("\n"), w2.lines().join("\n"));
        std::thread::sleep(Duration::from_millis(2));
    };
    killed.signal("-KILL");
    assert_eq!(killed.wait_exit(Duration::from_secs(30)), None, "killed by SIGKILL");
    let orphan = job_of(&line).expect("the line names its job");
    let dead = db.job(&orphan);
    assert!(killed.holds(dead.worker.as_deref()), "the killed worker held {orphan}: {dead:?}");
    assert_eq!(dead.state, "running");

    // the survivor ends its own job, then takes the orphan over once its lease expired
    // (it is older than the third job, which is still queued), and finishes it
    wait_until(limit, "the survivor takes the killed worker's job over", || survivor.holds(db.job(&orphan).worker.as_deref()));
    let taken = db.job(&orphan);
    assert!(taken.fence > dead.fence, "a new lease: {taken:?} after {dead:?}");
    wait_until(limit, "the survivor finishes the job it took over", || db.job(&orphan).state == "completed");
    let by_fence = db.rows_by_fence(&orphan);
    assert!(by_fence.get(&Some(dead.fence)).is_some_and(|n| *n > 0), "the killed worker committed a page: {by_fence:?}");
    assert!(by_fence.get(&Some(taken.fence)).is_some_and(|n| *n > 0), "the survivor committed the rest: {by_fence:?}");
    assert_eq!(by_fence.values().sum::<i64>(), FILES as i64, "{by_fence:?}");

    // the third job: the survivor is stopped (SIGSTOP) on its first committed page, past its
    // lease, while another worker joins and takes that job over
    let third = jobs.iter().find(|j| db.job(j).state != "completed").expect("a job still to run").clone();
    let (_, _) = survivor.wait_line(0, limit, "a page of the third job", committed_for(&third));
    survivor.signal("-STOP");
    let stalled = db.job(&third);
    assert!(survivor.holds(stalled.worker.as_deref()), "the stopped worker held {third}: {stalled:?}");
    let mut w3 = Worker::start("w3", &db, &t.path().join("w3"), 1);
    wait_until(limit, "the new worker takes the stalled worker's job over", || w3.holds(db.job(&third).worker.as_deref()));
    let taken = db.job(&third);
    assert!(taken.fence > stalled.fence, "a new lease: {taken:?} after {stalled:?}");
    assert!(!taken.expired, "{taken:?}");
    // what the stalled worker had committed before it lost its lease
    let before = db.rows_by_fence(&third).get(&Some(stalled.fence)).copied().unwrap_or(0);
    assert!(before > 0, "the stalled worker committed a page first");

    // continued, it finds its lease lost, says so, and commits nothing more
    let resumed_at = survivor.lines().len();
    survivor.signal("-CONT");
    let (_, lost) = survivor.wait_line(resumed_at, limit, "that it lost the lease", |l| l.contains("lost the job's lease"));
    assert!(lost.contains(&third), "{lost}");
    wait_until(limit, "the new worker finishes the job", || db.job(&third).state == "completed");
    let by_fence = db.rows_by_fence(&third);
    assert_eq!(by_fence.get(&Some(stalled.fence)).copied().unwrap_or(0), before, "nothing committed under the stale lease: {by_fence:?}");
    assert!(by_fence.get(&Some(taken.fence)).is_some_and(|n| *n > 0), "the new holder committed the rest: {by_fence:?}");
    assert_eq!(by_fence.values().sum::<i64>(), FILES as i64, "{by_fence:?}");
    for job in &jobs {
        wait_until(limit, "every job completes", || db.job(job).state == "completed");
    }

    // the workers stop when told, with nothing left to pause
    for w in [&mut survivor, &mut w3] {
        w.signal("-TERM");
        assert_eq!(w.wait_exit(Duration::from_secs(60)), Some(0), "{}", w.lines().join("\n"));
    }

    // every file at every destination exactly once, byte for byte
    let expected = tree(&src);
    assert_eq!(expected.len(), FILES);
    for (k, job) in (1..=3).zip(&jobs) {
        // A put in flight when a worker was stopped holds its temporary file (locked, so
        // the next holder's sweep leaves it alone); dropped when the worker finds its lease
        // gone, it leaves that file behind: hidden, named as ferry's, never read as an item,
        // and removed by a later run's sweep of the folder. Only the stalled job's
        // destination may have them; nothing else is there but the items.
        let (temps, items): (Vec<_>, Vec<_>) = tree(&t.path().join(format!("dst{k}"))).into_iter().partition(|(p, _)| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with('.') && name.ends_with(".ferry-tmp")
        });
        assert!(temps.is_empty() || *job == third, "dst{k}: {:?}", temps.iter().map(|(p, _)| p).collect::<Vec<_>>());
        // a folder destination keeps files under files/
        let got: BTreeMap<PathBuf, Vec<u8>> = items
            .into_iter()
            .map(|(p, body)| (p.strip_prefix("files").map(Path::to_owned).unwrap_or_else(|_| Path::new("(outside files/)").join(&p)), body))
            .collect();
        let extra: Vec<_> = got.keys().filter(|p| !expected.contains_key(*p)).take(10).collect();
        let missing: Vec<_> = expected.keys().filter(|p| !got.contains_key(*p)).take(10).collect();
        assert!(extra.is_empty() && missing.is_empty(), "dst{k}: extra {extra:?}, missing {missing:?} (the first ten)");
        assert!(got == expected, "dst{k}: a file's content differs");
    }
    for job in &jobs {
        let o = Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(&submitter)
            .args(["--json", "jobs", job])
            .env("FERRY_DATABASE", &db.url)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["report"]["state"], "completed", "{r}");
        let files = &r["report"]["verticals"]["files"];
        assert_eq!(files["found"], FILES as u64, "{r}");
        assert_eq!(files["failed"], 0, "{r}");
        assert_eq!(files["transferred"].as_u64().unwrap() + files["already_present"].as_u64().unwrap(), FILES as u64, "{r}");
    }
}

/// `ferry serve` in front of the fleet: with the shared PostgreSQL store and no workers
/// of its own, a job created through its API waits in the queue until a `ferry worker`
/// (another process, sharing only the database and the key) runs it; the API then shows
/// it completed.
#[test]
fn a_server_in_front_of_the_fleet_queues_jobs_that_a_worker_runs() {
    let db = Database::create();
    let t = tempfile::tempdir().unwrap();
    let files = t.path().join("files");
    generate(&files.join("in"));
    let env = [("FERRY_DATABASE", db.url.as_str()), ("FERRY_SECRET_KEY", SECRET_KEY)];
    let token = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("admin"))
        .args(["admin", "token", "create", "fleet"])
        .envs(env)
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", text(&token));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let serve = Serve::start_with_env(&t.path().join("serve"), &["--workers", "0", "--files-root", files.to_str().unwrap()], &env);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let api = |method: reqwest::Method, path: String, body: Option<serde_json::Value>| {
        let mut req = http.request(method, format!("{}{path}", serve.url)).bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        db.rt.block_on(async { req.send().await.unwrap().json::<serde_json::Value>().await.unwrap() })
    };
    let body = serde_json::json!({"source": {"connector": "dir", "address": "in"}, "destination": {"connector": "dir", "address": "out"}});
    let job = api(reqwest::Method::POST, "/api/jobs".into(), Some(body));
    let id = job["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(api(reqwest::Method::GET, format!("/api/jobs/{id}"), None)["state"], "queued", "no worker yet: it waits");
    let mut worker = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("worker"))
        .args(["worker", "--jobs", "1"])
        .envs(env)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let state = loop {
        let state = api(reqwest::Method::GET, format!("/api/jobs/{id}"), None)["state"].as_str().unwrap().to_owned();
        if state == "completed" || start.elapsed() > Duration::from_secs(60) {
            break state;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().unwrap();
    worker.wait().unwrap();
    let (status, _) = serve.stop();
    assert_eq!(state, "completed");
    assert!(status.success());
    let report = api_report(&db, &id);
    assert_eq!(report, FILES as i64, "every file once, as the store counts them");
    assert_eq!(walk(&files.join("out")).len(), FILES, "every file at the destination");
}

/// The items a job recorded as transferred, in the shared store.
fn api_report(db: &Database, id: &str) -> i64 {
    db.query("SELECT COUNT(*) AS n FROM job_items WHERE job_id = $1 AND outcome = 'transferred'", id)[0].get("n")
}
