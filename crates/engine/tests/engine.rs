//! Engine guarantees against in-process exporter and importer doubles. (The connectors'
//! own tests run the same guarantees against real files and servers.)

use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::model::FileEntry;
use ferry_core::*;
use ferry_engine::*;
use ferry_store::{Job, JobOptions, JobSpec, JobState, Lease, SqliteStore};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAGE: usize = 10;

struct Source {
    items: Vec<(String, String)>, // id, version
    bad: Vec<usize>,
    pages_opened: AtomicUsize,
    pages_served: Arc<AtomicUsize>,
}

struct Pages {
    items: Vec<(String, String)>,
    bad: Vec<usize>,
    pos: usize,
    served: Arc<AtomicUsize>,
}

#[async_trait]
impl PageStream for Pages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        if self.pos >= self.items.len() {
            return Ok(None);
        }
        self.served.fetch_add(1, Ordering::SeqCst);
        let end = (self.pos + PAGE).min(self.items.len());
        let items = (self.pos..end)
            .map(|i| {
                let (id, version) = &self.items[i];
                if self.bad.contains(&i) {
                    return Err(ItemError {
                        skipped: false,
                        vertical: Vertical::Files,
                        id: id.clone(),
                        location: format!("item {i}"),
                        reason: "broken".into(),
                    });
                }
                let body = Bytes::from(format!("{id}:{version}"));
                Ok(Item {
                    id: id.clone(),
                    container: String::new(),
                    version: version.clone(),
                    record: Record::File(FileEntry { name: id.clone(), ..Default::default() }),
                    original: None,
                    content: Some(Content::from_bytes("text/plain", body)),
                    standard: None,
                    attachments: vec![],
                    references: vec![],
                    source_warnings: vec![],
                })
            })
            .collect();
        self.pos = end;
        Ok(Some(Page { items, cursor: Some(end.to_string()) }))
    }
}

#[async_trait]
impl Exporter for Source {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("all", verticals, &[Vertical::Files]))
    }
    async fn pages(&self, _s: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.pages_opened.fetch_add(1, Ordering::SeqCst);
        let pos = cursor.map(|c| c.parse().unwrap()).unwrap_or(0);
        Ok(Box::new(Pages { items: self.items.clone(), bad: self.bad.clone(), pos, served: self.pages_served.clone() }))
    }
}

fn source(n: usize) -> Source {
    Source {
        items: (0..n).map(|i| (format!("item{i:04}"), "v1".into())).collect(),
        bad: vec![],
        pages_opened: AtomicUsize::new(0),
        pages_served: Arc::new(AtomicUsize::new(0)),
    }
}

/// Stores items by id (idempotent), counts writes, and fails on command.
#[derive(Default)]
struct Dest {
    stored: Mutex<HashMap<String, Vec<u8>>>,
    writes: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    transient_failures: Mutex<HashMap<String, usize>>,
    fatal_at: Mutex<Option<String>>,
    item_error: Mutex<Option<String>>,
    cancel_after: Mutex<Option<(usize, CancellationToken)>>,
    finished: AtomicUsize,
}

#[async_trait]
impl Importer for Dest {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.fatal_at.lock().unwrap().as_deref() == Some(&item.id) {
            return Err(ConnectorError::Fatal("destination is full".into()));
        }
        if self.item_error.lock().unwrap().as_deref() == Some(&item.id) {
            return Err(ConnectorError::Item("rejected by destination".into()));
        }
        if let Some(left) = self.transient_failures.lock().unwrap().get_mut(&item.id)
            && *left > 0
        {
            *left -= 1;
            return Err(ConnectorError::transient("503"));
        }
        let mut body = Vec::new();
        let mut r = item.content.as_ref().unwrap().open_verified().await.unwrap();
        tokio::io::AsyncReadExt::read_to_end(&mut r, &mut body).await.unwrap();
        let created = self.stored.lock().unwrap().insert(item.id.clone(), body.clone()).as_ref() != Some(&body);
        let writes = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((after, token)) = &*self.cancel_after.lock().unwrap()
            && writes >= *after
        {
            token.cancel();
        }
        Ok(PutOutcome {
            dest_id: format!("dest/{}", item.id),
            created,
            warnings: if item.id == "item0003" { vec!["X-FOO not kept".into()] } else { vec![] },
            sha256: None,
        })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn setup() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let mut engine = Engine::new(Arc::new(store));
    engine.retry =
        RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5), max_retries: 3, ..Default::default() };
    (dir, engine)
}

async fn job(engine: &Engine, options: JobOptions) -> Job {
    engine
        .store
        .create_job(&JobSpec {
            source: "test:src".into(),
            destination: "test:dst".into(),
            verticals: vec![Vertical::Files],
            options,
            owner: None,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn transfers_everything_and_reports_failures_and_warnings() {
    let (_d, engine) = setup().await;
    let mut src = source(95);
    src.bad = vec![7];
    let dst = Dest::default();
    *dst.item_error.lock().unwrap() = Some("item0050".into());
    dst.transient_failures.lock().unwrap().insert("item0020".into(), 2);
    let j = job(&engine, JobOptions::default()).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    let f = &report.verticals[&Vertical::Files];
    assert_eq!((f.found, f.transferred, f.failed), (95, 93, 2));
    assert!(f.failures.iter().any(|p| p.item == "item0007" && p.reason.contains("broken")));
    assert!(f.failures.iter().any(|p| p.item == "item0050" && p.reason.contains("rejected")));
    assert_eq!(f.fidelity_warnings[0].item, "item0003");
    assert_eq!(report.state, Some(JobState::CompletedWithErrors));
    assert_eq!(dst.stored.lock().unwrap().len(), 93);
    assert_eq!(dst.finished.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn streaming_one_page_at_a_time_and_bounded_concurrency() {
    let (_d, engine) = setup().await;
    let src = source(500);
    let dst = Dest::default();
    let j = job(&engine, JobOptions::default()).await;
    engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    assert_eq!(src.pages_served.load(Ordering::SeqCst), 50);
    assert!(dst.max_in_flight.load(Ordering::SeqCst) <= engine.concurrency);
    assert!(dst.max_in_flight.load(Ordering::SeqCst) > 1, "items go in parallel");
}

#[tokio::test]
async fn fatal_error_stops_the_job_and_resume_finishes_without_duplicates() {
    let (_d, engine) = setup().await;
    let src = source(60);
    let dst = Dest::default();
    *dst.fatal_at.lock().unwrap() = Some("item0034".into());
    let j = job(&engine, JobOptions::default()).await;
    let err = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap_err();
    assert!(err.to_string().contains("destination is full"), "{err}");
    let state = engine.store.job(&j.id).await.unwrap();
    assert_eq!(state.state, JobState::Failed);
    assert!(state.reason.unwrap().contains("item0034"));
    assert!(dst.stored.lock().unwrap().len() < 60);
    assert_eq!(dst.finished.load(Ordering::SeqCst), 0);

    *dst.fatal_at.lock().unwrap() = None;
    let writes_before = dst.writes.load(Ordering::SeqCst);
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    let f = &report.verticals[&Vertical::Files];
    assert_eq!((f.found, f.transferred, f.failed), (60, 60, 0));
    assert_eq!(dst.stored.lock().unwrap().len(), 60);
    // only the page that was cut short is read again
    assert!(dst.writes.load(Ordering::SeqCst) - writes_before <= 60 - 30);
}

#[tokio::test]
async fn cancellation_pauses_and_resume_completes() {
    let (_d, engine) = setup().await;
    let src = source(200);
    let dst = Dest::default();
    let token = CancellationToken::new();
    *dst.cancel_after.lock().unwrap() = Some((45, token.clone()));
    let j = job(&engine, JobOptions::default()).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &token).await.unwrap();
    assert_eq!(report.state, Some(JobState::Paused));
    assert!(dst.stored.lock().unwrap().len() < 200);
    *dst.cancel_after.lock().unwrap() = None;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    assert_eq!(report.state, Some(JobState::Completed));
    assert_eq!(report.verticals[&Vertical::Files].transferred, 200);
    assert_eq!(dst.stored.lock().unwrap().len(), 200);
    assert!(dst.writes.load(Ordering::SeqCst) <= 200 + PAGE, "at most one page is written twice");
}

#[tokio::test]
async fn incremental_rerun_moves_only_changes() {
    let (_d, engine) = setup().await;
    let mut src = source(30);
    let dst = Dest::default();
    let first = job(&engine, JobOptions { incremental: true, ..Default::default() }).await;
    engine.run(&first, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    src.items[4].1 = "v2".into();
    src.items.push(("item9999".into(), "v1".into()));
    let writes_before = dst.writes.load(Ordering::SeqCst);
    let second = job(&engine, JobOptions { incremental: true, ..Default::default() }).await;
    let report = engine.run(&second, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    let f = &report.verticals[&Vertical::Files];
    assert_eq!((f.found, f.transferred, f.already_present), (31, 2, 29));
    assert_eq!(dst.writes.load(Ordering::SeqCst) - writes_before, 2);
    assert_eq!(dst.stored.lock().unwrap()["item0004"], b"item0004:v2");
}

#[tokio::test]
async fn non_incremental_rerun_checks_the_destination() {
    let (_d, engine) = setup().await;
    let src = source(25);
    let dst = Dest::default();
    let a = job(&engine, JobOptions::default()).await;
    engine.run(&a, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    let b = job(&engine, JobOptions::default()).await;
    let report = engine.run(&b, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    let f = &report.verticals[&Vertical::Files];
    assert_eq!((f.transferred, f.already_present), (0, 25));
    assert_eq!(dst.stored.lock().unwrap().len(), 25);
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let (_d, engine) = setup().await;
    let src = source(15);
    let dst = Dest::default();
    let j = job(&engine, JobOptions { dry_run: true, ..Default::default() }).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.verticals[&Vertical::Files].found, 15);
    assert_eq!(dst.writes.load(Ordering::SeqCst), 0);
    assert_eq!(dst.finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn exhausted_retries_fail_only_that_item() {
    let (_d, engine) = setup().await;
    let src = source(12);
    let dst = Dest::default();
    dst.transient_failures.lock().unwrap().insert("item0002".into(), 100);
    let j = job(&engine, JobOptions::default()).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    let f = &report.verticals[&Vertical::Files];
    assert_eq!((f.transferred, f.failed), (11, 1));
    assert!(f.failures[0].reason.contains("gave up after 3 retries"));
}

/// A source that tracks changes: each item carries the sequence number of its last
/// change, and the sync state is the highest one.
struct Tracked {
    items: Mutex<Vec<(String, String, u64)>>, // id, version, changed at
}

struct TrackedPages {
    items: Vec<(String, String)>,
    pos: usize,
    state: u64,
}

#[async_trait]
impl PageStream for TrackedPages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let mut inner = Pages { items: self.items.clone(), bad: vec![], pos: self.pos, served: Arc::new(AtomicUsize::new(0)) };
        let page = inner.next_page().await?;
        self.pos = inner.pos;
        Ok(page)
    }
    fn sync_state(&self) -> Option<String> {
        Some(self.state.to_string())
    }
}

impl Tracked {
    fn list(&self, since: u64, cursor: Option<String>) -> Box<dyn PageStream> {
        let all = self.items.lock().unwrap();
        let items = all.iter().filter(|i| i.2 > since).map(|i| (i.0.clone(), i.1.clone())).collect();
        let state = all.iter().map(|i| i.2).max().unwrap_or(0);
        Box::new(TrackedPages { items, pos: cursor.map(|c| c.parse().unwrap()).unwrap_or(0), state })
    }
}

#[async_trait]
impl Exporter for Tracked {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("all", verticals, &[Vertical::Files]))
    }
    async fn pages(&self, _s: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        Ok(self.list(0, cursor))
    }
    async fn changes(&self, _s: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        Ok(self.list(since.parse().unwrap(), cursor))
    }
}

#[tokio::test]
async fn incremental_jobs_list_only_changes_where_the_source_tracks_them() {
    let (_d, engine) = setup().await;
    let src = Tracked { items: Mutex::new((0..30).map(|i| (format!("item{i:04}"), "v1".into(), i as u64 + 1)).collect()) };
    let dst = Dest::default();
    let run = |options| async {
        let j = job(&engine, options).await;
        let r = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
        r.verticals[&Vertical::Files].clone()
    };
    // a full job saves the state
    let f = run(JobOptions::default()).await;
    assert_eq!((f.found, f.transferred), (30, 30));
    // one changed, one new: an incremental job is offered just those two
    {
        let mut items = src.items.lock().unwrap();
        items[4] = ("item0004".into(), "v2".into(), 31);
        items.push(("item9999".into(), "v1".into(), 32));
    }
    let f = run(JobOptions { incremental: true, ..Default::default() }).await;
    assert_eq!((f.found, f.transferred), (2, 2));
    assert_eq!(dst.stored.lock().unwrap()["item0004"], b"item0004:v2");
    // nothing changed: nothing listed
    let f = run(JobOptions { incremental: true, ..Default::default() }).await;
    assert_eq!(f.found, 0);
    // a change that fails at the destination keeps the old state: offered again next time
    src.items.lock().unwrap()[7] = ("item0007".into(), "v2".into(), 33);
    *dst.item_error.lock().unwrap() = Some("item0007".into());
    let f = run(JobOptions { incremental: true, ..Default::default() }).await;
    assert_eq!((f.found, f.failed), (1, 1));
    *dst.item_error.lock().unwrap() = None;
    let f = run(JobOptions { incremental: true, ..Default::default() }).await;
    assert_eq!((f.found, f.transferred), (1, 1), "the failed change is listed again");
    // a job that is not incremental lists everything
    let f = run(JobOptions::default()).await;
    assert_eq!(f.found, 31);
}

/// The job store as the engine sees it, counting calls and the largest batch handed over.
struct CountingStore {
    inner: SqliteStore,
    commits: AtomicUsize,
    lookups: AtomicUsize,
    reports: AtomicUsize,
    largest_batch: AtomicUsize,
    largest_commit: AtomicUsize,
    /// Commits that named a ledger pair.
    ledger_commits: AtomicUsize,
    /// When set: the ids the destination has made durable; a commit recording any other
    /// as transferred fails the test.
    durable: Option<Arc<Mutex<HashSet<String>>>>,
}

impl CountingStore {
    async fn new(dir: &std::path::Path, durable: Option<Arc<Mutex<HashSet<String>>>>) -> Self {
        CountingStore {
            inner: SqliteStore::open(dir).await.unwrap(),
            commits: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            reports: AtomicUsize::new(0),
            largest_batch: AtomicUsize::new(0),
            largest_commit: AtomicUsize::new(0),
            ledger_commits: AtomicUsize::new(0),
            durable,
        }
    }
}

#[async_trait]
impl ferry_store::JobStore for CountingStore {
    async fn create_job(&self, spec: &JobSpec) -> ferry_store::Result<Job> {
        self.inner.create_job(spec).await
    }
    async fn job(&self, id: &str) -> ferry_store::Result<Job> {
        self.inner.job(id).await
    }
    async fn jobs(&self, owner: Option<&str>, limit: u32) -> ferry_store::Result<Vec<Job>> {
        self.inner.jobs(owner, limit).await
    }
    async fn set_state(&self, id: &str, state: JobState, reason: Option<&str>, lease: Option<&Lease>) -> ferry_store::Result<()> {
        self.inner.set_state(id, state, reason, lease).await
    }
    async fn acquire(&self, id: &str, worker: &str, ttl: Duration, take_over: bool) -> ferry_store::Result<(Job, Lease)> {
        self.inner.acquire(id, worker, ttl, take_over).await
    }
    async fn claim(&self, worker: &str, ttl: Duration) -> ferry_store::Result<Option<(Job, Lease)>> {
        self.inner.claim(worker, ttl).await
    }
    async fn heartbeat(&self, lease: &mut Lease, ttl: Duration) -> ferry_store::Result<bool> {
        self.inner.heartbeat(lease, ttl).await
    }
    async fn release(&self, lease: &Lease) -> ferry_store::Result<()> {
        self.inner.release(lease).await
    }
    async fn request_cancel(&self, id: &str) -> ferry_store::Result<()> {
        self.inner.request_cancel(id).await
    }
    async fn cursor(&self, job: &str, stream: &str) -> ferry_store::Result<Option<ferry_store::CursorRow>> {
        self.inner.cursor(job, stream).await
    }
    async fn commit_page(
        &self,
        lease: Option<&Lease>,
        job: &str,
        pair: Option<&str>,
        stream: &str,
        rows: &[ferry_store::ItemRow],
        cursor: Option<&str>,
        done: bool,
    ) -> ferry_store::Result<()> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        self.largest_commit.fetch_max(rows.len(), Ordering::SeqCst);
        self.ledger_commits.fetch_add(pair.is_some() as usize, Ordering::SeqCst);
        if let Some(durable) = &self.durable {
            let durable = durable.lock().unwrap();
            for r in rows.iter().filter(|r| r.outcome == ferry_store::Outcome::Transferred) {
                assert!(durable.contains(&r.source_id), "{} recorded before the destination made it durable", r.source_id);
            }
        }
        self.inner.commit_page(lease, job, pair, stream, rows, cursor, done).await
    }
    async fn recorded(&self, job: &str, v: Vertical, ids: &[&str]) -> ferry_store::Result<HashMap<String, ferry_store::Outcome>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.largest_batch.fetch_max(ids.len(), Ordering::SeqCst);
        self.inner.recorded(job, v, ids).await
    }
    async fn ledger(&self, pair: &str, v: Vertical, ids: &[&str]) -> ferry_store::Result<HashMap<String, ferry_store::LedgerEntry>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.largest_batch.fetch_max(ids.len(), Ordering::SeqCst);
        self.inner.ledger(pair, v, ids).await
    }
    async fn report(&self, job: &str) -> ferry_store::Result<ferry_store::Report> {
        self.reports.fetch_add(1, Ordering::SeqCst);
        self.inner.report(job).await
    }
    async fn sync_state(&self, pair: &str, stream: &str) -> ferry_store::Result<Option<String>> {
        self.inner.sync_state(pair, stream).await
    }
    async fn set_sync_state(&self, pair: &str, stream: &str, state: &str) -> ferry_store::Result<()> {
        self.inner.set_sync_state(pair, stream, state).await
    }
    async fn put_secret(&self, job: &str, name: &str, nonce: &[u8], ciphertext: &[u8]) -> ferry_store::Result<()> {
        self.inner.put_secret(job, name, nonce, ciphertext).await
    }
    async fn secret(&self, job: &str, name: &str) -> ferry_store::Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.inner.secret(job, name).await
    }
    async fn delete_secrets(&self, job: &str) -> ferry_store::Result<()> {
        self.inner.delete_secrets(job).await
    }
    async fn create_api_token(&self, name: &str, hash: &[u8]) -> ferry_store::Result<ferry_store::ApiToken> {
        self.inner.create_api_token(name, hash).await
    }
    async fn api_tokens(&self) -> ferry_store::Result<Vec<ferry_store::ApiToken>> {
        self.inner.api_tokens().await
    }
    async fn api_token(&self, hash: &[u8]) -> ferry_store::Result<Option<ferry_store::ApiToken>> {
        self.inner.api_token(hash).await
    }
    async fn revoke_api_token(&self, id: &str) -> ferry_store::Result<bool> {
        self.inner.revoke_api_token(id).await
    }
    async fn put_account(&self, a: &ferry_store::Account) -> ferry_store::Result<()> {
        self.inner.put_account(a).await
    }
    async fn accounts(&self, owner: Option<&str>) -> ferry_store::Result<Vec<ferry_store::Account>> {
        self.inner.accounts(owner).await
    }
    async fn account(&self, id: &str) -> ferry_store::Result<Option<ferry_store::Account>> {
        self.inner.account(id).await
    }
    async fn update_account(&self, id: &str, nonce: &[u8], ciphertext: &[u8]) -> ferry_store::Result<bool> {
        self.inner.update_account(id, nonce, ciphertext).await
    }
    async fn delete_account(&self, id: &str) -> ferry_store::Result<bool> {
        self.inner.delete_account(id).await
    }
}

/// What makes a large job cheap and flat: the store is looked up once per page, never
/// once per item and never with more than a page of ids; outcomes are committed a page
/// or more at a time (the first page at once, then what came since, at most every second
/// and at most COMMIT_ROWS rows), so nothing in the engine holds the job's ids.
#[tokio::test]
async fn the_store_is_called_per_page_not_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(CountingStore::new(dir.path(), None).await);
    let engine = Engine::new(store.clone());
    let src = source(1000);
    let dst = Dest::default();
    let j = job(&engine, JobOptions::default()).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    assert_eq!(report.verticals[&Vertical::Files].transferred, 1000);
    let pages = 1000 / PAGE;
    // the first page, what came after (together, as this run takes well under a second
    // on most machines), and the vertical's end; never more than a commit per page
    let commits = store.commits.load(Ordering::SeqCst);
    assert!((2..=pages + 1).contains(&commits), "{commits} commits for {pages} pages");
    assert_eq!(store.lookups.load(Ordering::SeqCst), pages);
    assert_eq!(store.largest_batch.load(Ordering::SeqCst), PAGE);
    let largest = store.largest_commit.load(Ordering::SeqCst);
    assert!((PAGE..=ferry_engine::COMMIT_ROWS).contains(&largest), "{largest} rows in one commit");
    // the counts come from the store at the end, not from a tally of every item
    assert!(store.reports.load(Ordering::SeqCst) <= 3, "{} reports", store.reports.load(Ordering::SeqCst));
}

/// A destination whose puts are durable only after `sync` (as a package's staging is).
#[derive(Default)]
struct Buffered {
    inner: Dest,
    written: Mutex<Vec<String>>,
    durable: Arc<Mutex<HashSet<String>>>,
    syncs: AtomicUsize,
}

#[async_trait]
impl Importer for Buffered {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let out = self.inner.put(item).await?;
        self.written.lock().unwrap().push(item.id.clone());
        Ok(out)
    }
    async fn sync(&self) -> Result<(), ConnectorError> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        let written = std::mem::take(&mut *self.written.lock().unwrap());
        self.durable.lock().unwrap().extend(written);
        Ok(())
    }
    async fn finish(&self) -> Result<(), ConnectorError> {
        self.inner.finish().await
    }
}

/// The job store records an item only once the destination has made it durable
/// (`Importer::sync` before every commit, which then runs while the next pages are
/// written); a destination written whole gets no ledger rows.
#[tokio::test]
async fn items_are_recorded_only_once_durable_and_whole_destinations_get_no_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let dst = Buffered::default();
    let store = Arc::new(CountingStore::new(dir.path(), Some(dst.durable.clone())).await);
    let mut engine = Engine::new(store.clone());
    let src = source(500);
    let j = job(&engine, JobOptions::default()).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    assert_eq!(report.verticals[&Vertical::Files].transferred, 500);
    assert_eq!(dst.durable.lock().unwrap().len(), 500);
    assert!(dst.syncs.load(Ordering::SeqCst) >= 2);
    let commits = store.commits.load(Ordering::SeqCst);
    assert_eq!(store.ledger_commits.load(Ordering::SeqCst), commits, "a kept destination gets its ledger");

    engine.ledger = false;
    let dst = Buffered { durable: dst.durable.clone(), ..Default::default() };
    dst.durable.lock().unwrap().clear();
    let j = job(&engine, JobOptions::default()).await;
    let report = engine.run(&j, &src, &dst, &NoProgress, &CancellationToken::new()).await.unwrap();
    assert_eq!(report.verticals[&Vertical::Files].transferred, 500);
    assert_eq!(store.ledger_commits.load(Ordering::SeqCst), commits, "no ledger rows for a destination written whole");
    assert!(store.commits.load(Ordering::SeqCst) > commits);
}
