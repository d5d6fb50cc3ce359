use crate::{Progress, RetryPolicy};
use ferry_core::{ConnectorError, Exporter, Importer, Item, ItemError, PageStream, Stream, Vertical};
use ferry_jobs::{ItemRow, Job, JobState, JobStore, Lease, Outcome, Report, StoreError};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The job cannot go on; it is marked failed with this reason and can be resumed.
    #[error("{0}")]
    Fatal(String),
    /// The run's lease on the job expired or was taken over (the store says which): the
    /// run stopped at once and wrote nothing more. Another worker may run the job now.
    #[error("lost the job's lease: {0}")]
    LeaseLost(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::LeaseLost(why) => EngineError::LeaseLost(why),
            e => EngineError::Store(e),
        }
    }
}

/// How long a lease lasts unless renewed, when the caller does not say.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

pub struct Engine {
    pub store: Arc<dyn JobStore>,
    pub retry: RetryPolicy,
    /// Items in flight at once (the importer's own limit applies on top).
    pub concurrency: usize,
    /// Whether the ledger records where each item went, for a later incremental job to
    /// the same destination: not for a destination written whole by every job
    /// ([`ferry_core::Capabilities::written_whole`]), which nothing would ever read.
    pub ledger: bool,
    /// The lease this run holds on the job (from [`JobStore::acquire`] or
    /// [`JobStore::claim`]): every state change and commit is fenced with it, and a
    /// heartbeat renews it every third of `lease_ttl` while the job runs. A cancel
    /// requested meanwhile ([`JobStore::request_cancel`]) stops the job after the items in
    /// flight and ends it cancelled; a lost lease stops the run at once. None: writes are
    /// not fenced, and nothing is renewed.
    pub lease: Option<Lease>,
    pub lease_ttl: Duration,
}

enum Stop {
    Cancelled,
    /// The lease ran out before this process could renew it: nothing more is written.
    LeaseLost(String),
    Fatal(String),
    /// A request quota of a side is spent: paused, to go on when it comes back.
    Pause(String),
}

/// How an error that ends the job ends it: a spent quota pauses it (saying until when),
/// anything else fails it.
fn stop_for(context: String, e: &ConnectorError) -> Stop {
    match e.resume_at() {
        Some(at) => Stop::Pause(format!(
            "{context}: {e}; paused until the quota comes back at {}: run `ferry resume` then",
            at.format("%Y-%m-%dT%H:%M:%SZ")
        )),
        None => Stop::Fatal(format!("{context}: {e}")),
    }
}

impl Engine {
    pub fn new(store: Arc<dyn JobStore>) -> Self {
        Engine { store, retry: RetryPolicy::default(), concurrency: 4, ledger: true, lease: None, lease_ttl: DEFAULT_LEASE_TTL }
    }

    /// Runs (or resumes) a job to its end, or until `cancel` fires (the job is then
    /// paused and `ferry resume` finishes it). Returns the job's report. Under a lease,
    /// a heartbeat renews it meanwhile; a cancel request seen then ends the job cancelled,
    /// and a lost lease ends the run at once with [`EngineError::LeaseLost`].
    pub async fn run(
        &self,
        job: &Job,
        exporter: &dyn Exporter,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
    ) -> Result<Report, EngineError> {
        let Some(mut lease) = self.lease.clone() else {
            return self.run_job(job, exporter, importer, progress, cancel, &AtomicBool::new(false), None).await;
        };
        let stop = cancel.child_token();
        let requested = Arc::new(AtomicBool::new(false));
        // renewed at once: from here on this process knows, by its own clock, until when
        // the lease is surely its own
        let clock = Arc::new(LeaseClock::new());
        let sent = clock.now();
        if self.store.heartbeat(&mut lease, self.lease_ttl).await? {
            requested.store(true, Ordering::SeqCst);
            stop.cancel();
        }
        clock.renewed(sent, self.lease_ttl);
        let (lost_tx, lost_rx) = tokio::sync::oneshot::channel();
        let beat =
            tokio::spawn(heartbeat(self.store.clone(), lease, self.lease_ttl, clock.clone(), stop.clone(), requested.clone(), lost_tx));
        let lost = async {
            match lost_rx.await {
                Ok(why) => why,
                // the heartbeat ended without losing the lease: nothing to wait for
                Err(_) => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            biased;
            // the run is dropped where it stands: anything it would write now is refused
            why = lost => Err(EngineError::LeaseLost(why)),
            r = self.run_job(job, exporter, importer, progress, &stop, &requested, Some(&clock)) => r,
        };
        beat.abort();
        result
    }

    // the run's parts, as `run_stream` has them; a struct for them would only rename them
    #[allow(clippy::too_many_arguments)]
    async fn run_job(
        &self,
        job: &Job,
        exporter: &dyn Exporter,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
        cancel_requested: &AtomicBool,
        clock: Option<&LeaseClock>,
    ) -> Result<Report, EngineError> {
        let lease = self.lease.as_ref();
        self.store.set_state(&job.id, JobState::Running, None, lease).await?;
        let mut stop = None;
        // the source says how it is read: each stream once, whatever verticals it holds
        let plan =
            self.retry.run(|| exporter.plan(&job.spec.verticals), |e, d| progress.retrying("opening the source", &e.to_string(), d)).await;
        match plan {
            Ok(streams) => {
                for stream in &streams {
                    match self.run_stream(job, stream, exporter, importer, progress, cancel, clock).await {
                        Ok(()) => {}
                        Err(RunError::Stop(Stop::LeaseLost(why))) => return Err(EngineError::LeaseLost(why)),
                        Err(RunError::Stop(s)) => {
                            stop = Some(s);
                            break;
                        }
                        Err(RunError::Store(e)) => return Err(e.into()),
                    }
                }
            }
            Err(e) => stop = Some(stop_for("cannot read the source".into(), &e)),
        }
        if stop.is_none() && !job.spec.options.dry_run {
            let finish = self.retry.run(|| importer.finish(), |e, d| progress.retrying("finishing", &e.to_string(), d)).await;
            if let Err(e) = finish {
                stop = Some(stop_for("the destination could not be completed".into(), &e));
            }
        }
        // the report is read once (it counts every item of the job), then given the job's end
        let mut report = self.store.report(&job.id).await?;
        let (state, reason) = match stop {
            Some(Stop::Cancelled) if cancel_requested.load(Ordering::SeqCst) => (JobState::Cancelled, Some("cancelled".to_owned())),
            Some(Stop::Cancelled) => (JobState::Paused, Some("interrupted; run `ferry resume` to finish".to_owned())),
            Some(Stop::Fatal(r)) => (JobState::Failed, Some(r)),
            Some(Stop::Pause(r)) => (JobState::Paused, Some(r)),
            Some(Stop::LeaseLost(why)) => return Err(EngineError::LeaseLost(why)),
            None => match report.totals().failed {
                0 => (JobState::Completed, None),
                n => (JobState::CompletedWithErrors, Some(format!("{n} item(s) failed"))),
            },
        };
        self.store.set_state(&job.id, state, reason.as_deref(), lease).await?;
        if let (JobState::Failed, Some(r)) = (state, &reason) {
            return Err(EngineError::Fatal(r.clone()));
        }
        report.state = Some(state);
        report.reason = reason;
        Ok(report)
    }

    /// The source's pages: everything, or, given a sync state, only what changed since.
    async fn open_pages(
        &self,
        exporter: &dyn Exporter,
        stream: &Stream,
        cursor: Option<String>,
        since: &Option<String>,
        progress: &dyn Progress,
    ) -> Result<Box<dyn PageStream>, RunError> {
        self.retry
            .run(
                || async {
                    match since {
                        Some(s) => exporter.changes(stream, cursor.clone(), s.clone()).await,
                        None => exporter.pages(stream, cursor.clone()).await,
                    }
                },
                |e, d| progress.retrying("opening the source", &e.to_string(), d),
            )
            .await
            .map_err(|e| RunError::Stop(stop_for(format!("cannot read {} from the source", what(stream)), &e)))
    }

    /// Reads one stream to its end, writing and committing as it goes.
    #[allow(clippy::too_many_arguments)]
    async fn run_stream(
        &self,
        job: &Job,
        stream: &Stream,
        exporter: &dyn Exporter,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
        clock: Option<&LeaseClock>,
    ) -> Result<(), RunError> {
        let saved = self.store.cursor(&job.id, &stream.name).await?;
        if saved.as_ref().is_some_and(|c| c.done) {
            return Ok(());
        }
        progress.stream_started(stream);
        let mut cursor = saved.and_then(|c| c.cursor);
        let pair = job.pair();
        // an incremental job lists only what changed since the last complete export, where
        // the source tracks changes
        let since = if job.spec.options.incremental { self.store.sync_state(&pair, &stream.name).await? } else { None };
        let mut pages = self.open_pages(exporter, stream, cursor.clone(), &since, progress).await?;
        let mut source_retries = 0;
        let mut throttled = crate::retry::Throttled::default();
        // the next page is read while the current one is written
        let mut ahead = None;
        // rows written but not yet committed: a commit costs a write of every page of the
        // store it touches, so pages are committed together, the first one at once, then
        // at most every COMMIT_EVERY (or COMMIT_ROWS rows); on a crash, what was not
        // committed is listed and put again (importers are idempotent)
        let mut pending = Pending::default();
        let stopped: Result<(), RunError> = loop {
            if cancel.is_cancelled() {
                break Err(RunError::Stop(Stop::Cancelled));
            }
            let next = match ahead.take() {
                Some(n) => n,
                None => pages.next_page().await,
            };
            let page = match next {
                Ok(Some(p)) => p,
                Ok(None) => break Ok(()),
                Err(e) if e.is_transient() && (source_retries < self.retry.max_retries || e.throttled_until().is_some()) => {
                    // page streams are stateful: start again after the last page written; a
                    // throttle is waited out without spending a retry
                    let delay = match self.retry.throttle_wait(&e, &mut throttled) {
                        Some(wait) => wait,
                        None if source_retries < self.retry.max_retries => {
                            source_retries += 1;
                            self.retry.delay(source_retries, &e)
                        }
                        None => break Err(RunError::Stop(stop_for(format!("reading {} from the source failed", what(stream)), &e))),
                    };
                    progress.retrying("reading the source", &e.to_string(), delay);
                    tokio::time::sleep(delay).await;
                    match self.open_pages(exporter, stream, cursor.clone(), &since, progress).await {
                        Ok(p) => pages = p,
                        Err(e) => break Err(e),
                    }
                    continue;
                }
                Err(e) => break Err(RunError::Stop(stop_for(format!("reading {} from the source failed", what(stream)), &e))),
            };
            source_retries = 0;
            throttled = Default::default();
            let ((rows, stop), fetched) = tokio::join!(self.write_page(job, &page, &pending, importer, progress, cancel, clock), async {
                if page.cursor.is_some() { pages.next_page().await } else { Ok(None) }
            });
            match rows {
                Ok(rows) => pending.add(rows),
                Err(e) => break Err(e.into()),
            }
            if let Some(s) = stop {
                // what was confirmed is kept; the page itself is read again on resume
                break Err(RunError::Stop(s));
            }
            if page.cursor.is_some() {
                cursor = page.cursor;
                ahead = Some(fetched);
            }
            if pending.due() {
                self.commit(job, &stream.name, importer, &mut pending, cursor.as_deref(), false, false).await?;
            }
        };
        if let Err(e) = stopped {
            if let RunError::Stop(Stop::LeaseLost(_)) = e {
                // written nowhere: the store would refuse it, and the job is another's now
                return Err(e);
            }
            self.commit(job, &stream.name, importer, &mut pending, cursor.as_deref(), false, true).await?;
            return Err(e);
        }
        self.commit(job, &stream.name, importer, &mut pending, cursor.as_deref(), true, true).await?;
        // remembered only when nothing failed: a failed item must be offered again
        if let Some(state) = pages.sync_state()
            && !job.spec.options.dry_run
            && self.store.report(&job.id).await?.verticals.iter().all(|(v, r)| !stream.carries(*v) || r.failed == 0)
        {
            self.store.set_sync_state(&pair, &stream.name, &state).await?;
        }
        Ok(())
    }
}

/// Pages are committed together at most this often, after the first.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// ... or when this many rows wait. Also what bounds a commit's memory: its rows, their JSON
/// and SQLite's parsed copy of it (5,000 rows held 11 MiB at the peak of a Takeout's export).
pub const COMMIT_ROWS: usize = 1_000;

/// Rows of pages written since the last commit, and their ids (an id listed again before
/// the commit is not put twice); and the commit sent to the job store, if it has not
/// answered yet (the next pages are written meanwhile).
#[derive(Default)]
struct Pending {
    rows: Vec<ItemRow>,
    ids: HashSet<(Vertical, String)>,
    last: Option<Instant>,
    in_flight: Option<InFlight>,
}

struct InFlight {
    task: tokio::task::JoinHandle<Result<(), StoreError>>,
    ids: HashSet<(Vertical, String)>,
}

impl Pending {
    fn add(&mut self, rows: Vec<ItemRow>) {
        self.ids.extend(rows.iter().map(|r| (r.vertical, r.source_id.clone())));
        self.rows.extend(rows);
    }

    fn due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= COMMIT_EVERY) || self.rows.len() >= COMMIT_ROWS
    }

    /// Whether an item was written in this job but is not in the store yet.
    fn contains(&self, key: &(Vertical, String)) -> bool {
        self.ids.contains(key) || self.in_flight.as_ref().is_some_and(|f| f.ids.contains(key))
    }

    /// Waits for the commit in flight, if any.
    async fn land(&mut self) -> Result<(), StoreError> {
        match self.in_flight.take() {
            Some(f) => f.task.await.map_err(|e| StoreError::Corrupt(format!("the job store's commit stopped: {e}")))?,
            None => Ok(()),
        }
    }
}

impl Engine {
    /// Commits the pending rows with the cursor after the last page whose items are all
    /// in, once the destination has made them durable ([`Importer::sync`]). The commit runs
    /// while the next pages are written, unless `wait`; commits land in order.
    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &self,
        job: &Job,
        stream: &str,
        importer: &dyn Importer,
        pending: &mut Pending,
        cursor: Option<&str>,
        done: bool,
        wait: bool,
    ) -> Result<(), RunError> {
        if !pending.rows.is_empty() && !job.spec.options.dry_run {
            // not recorded: the items are put again on resume
            importer
                .sync()
                .await
                .map_err(|e| RunError::Stop(Stop::Fatal(format!("the destination could not keep what was written to it: {e}"))))?;
        }
        pending.land().await?;
        let rows = std::mem::take(&mut pending.rows);
        let ids = std::mem::take(&mut pending.ids);
        let (store, job_id, cursor, stream) = (self.store.clone(), job.id.clone(), cursor.map(str::to_owned), stream.to_owned());
        let pair = self.ledger.then(|| job.pair());
        let lease = self.lease.clone();
        let task = tokio::spawn(async move {
            store.commit_page(lease.as_ref(), &job_id, pair.as_deref(), &stream, &rows, cursor.as_deref(), done).await?;
            // tests wait for this line to interrupt a job mid-way (FERRY_LOG=ferry_engine=info)
            tracing::info!(job = %job_id, stream = %stream, items = rows.len(), "page committed");
            Ok(())
        });
        pending.in_flight = Some(InFlight { task, ids });
        pending.last = Some(Instant::now());
        if wait {
            pending.land().await?;
        }
        Ok(())
    }

    /// Writes one page's items: all at once where the importer takes pages
    /// ([`Importer::put_page`]), else `concurrency` at a time. Returns the rows to commit
    /// and why the job must stop, if it must.
    // the run's parts, as `run_stream` has them; a struct for them would only rename them
    #[allow(clippy::too_many_arguments)]
    async fn write_page(
        &self,
        job: &Job,
        page: &ferry_core::Page,
        pending: &Pending,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
        clock: Option<&LeaseClock>,
    ) -> (Result<Vec<ItemRow>, StoreError>, Option<Stop>) {
        let pair = job.pair();
        // a page may hold several verticals: what the job recorded, and the ledger, are
        // asked vertical by vertical
        let mut ids: BTreeMap<Vertical, Vec<&str>> = BTreeMap::new();
        for entry in &page.items {
            let (v, id) = match entry {
                Ok(i) => (i.vertical(), i.id.as_str()),
                Err(e) => (e.vertical, e.id.as_str()),
            };
            ids.entry(v).or_default().push(id);
        }
        let mut recorded: HashSet<(Vertical, String)> = HashSet::new();
        let mut ledger: HashMap<(Vertical, String), ferry_jobs::LedgerEntry> = HashMap::new();
        for (&v, ids) in &ids {
            match self.store.recorded(&job.id, v, ids).await {
                Ok(r) => recorded.extend(r.into_keys().map(|id| (v, id))),
                Err(e) => return (Err(e), None),
            }
            if job.spec.options.incremental {
                match self.store.ledger(&pair, v, ids).await {
                    Ok(l) => ledger.extend(l.into_iter().map(|(id, e)| ((v, id), e))),
                    Err(e) => return (Err(e), None),
                }
            }
        }
        let seen = |v: Vertical, id: &str| {
            let key = (v, id.to_owned());
            recorded.contains(&key) || pending.contains(&key)
        };
        // what needs no writing is settled here; the rest is put below
        let mut rows = Vec::new();
        let mut todo = Vec::new();
        for entry in &page.items {
            match entry {
                Err(e) if seen(e.vertical, &e.id) => {}
                Err(e) => {
                    progress.item_done(e.vertical, if e.skipped { Outcome::Skipped } else { Outcome::Failed }, 0);
                    rows.push(failed_row(e));
                }
                Ok(item) if seen(item.vertical(), &item.id) => {}
                Ok(item) if !job.spec.verticals.contains(&item.vertical()) => {
                    // a source that gives more than was asked: what was not asked is not the job's
                    tracing::debug!(item = %item.id, vertical = %item.vertical(), "not asked for; passed over");
                }
                Ok(item) => {
                    let vertical = item.vertical();
                    if let Some(prev) = ledger.get(&(vertical, item.id.clone())).filter(|l| l.version == item.version) {
                        progress.item_done(vertical, Outcome::AlreadyPresent, 0);
                        rows.push(row(item, Outcome::AlreadyPresent, None, Some(prev.dest_id.clone()), prev.sha256.clone(), vec![]));
                    } else if job.spec.options.dry_run {
                        progress.item_done(vertical, Outcome::Transferred, item.content.as_ref().and_then(|c| c.size).unwrap_or(0));
                        let note = Some("dry run: not written".into());
                        rows.push(row(item, Outcome::Transferred, note, None, item.known_sha256(), vec![]));
                    } else {
                        todo.push(item);
                    }
                }
            }
        }
        if todo.is_empty() {
            return (Ok(rows), None);
        }
        if cancel.is_cancelled() {
            // not started: the page is read again on resume
            return (Ok(rows), Some(Stop::Cancelled));
        }
        let mut stop = None;
        let Some(page_puts) = while_held(clock, importer.put_page(&todo)).await else {
            return (Ok(rows), Some(Stop::LeaseLost(LeaseClock::RAN_OUT.into())));
        };
        if let Some(mut results) = page_puts {
            // a destination that answers for fewer items than it was given: the rest are
            // failures, never skipped
            while results.len() < todo.len() {
                results.push(Err(ConnectorError::Item(format!(
                    "the destination answered for {} of {} items of the page",
                    results.len(),
                    todo.len()
                ))));
            }
            for (item, put) in todo.iter().zip(results) {
                let put = match put {
                    Err(e) if e.is_transient() => {
                        self.retry.run(|| importer.put(item), |e, d| progress.retrying(&item.id, &e.to_string(), d)).await
                    }
                    other => other,
                };
                match self.settle(item, put, progress) {
                    Ok(r) => rows.push(r),
                    Err(s) => stop = Some(s),
                }
            }
            return (Ok(rows), stop);
        }
        let halt = AtomicBool::new(false);
        // the puts are made up front (futures do nothing until polled), so that the stream
        // holds no closure: a worker spawns the whole run on its own task
        let puts: Vec<_> = todo.into_iter().map(|item| self.put_one(item, importer, progress, cancel, &halt, clock)).collect();
        let results: Vec<Result<ItemRow, Stop>> = futures::stream::iter(puts).buffer_unordered(self.concurrency.max(1)).collect().await;
        for r in results {
            match r {
                Ok(r) => rows.push(r),
                Err(s) => {
                    // a lost lease outranks a fatal error, which outranks a pause
                    let outranks = match (&s, &stop) {
                        (_, None) => true,
                        (_, Some(Stop::LeaseLost(_))) => false,
                        (Stop::LeaseLost(_) | Stop::Fatal(_), _) => true,
                        (Stop::Pause(_), Some(Stop::Cancelled)) => true,
                        (Stop::Pause(_) | Stop::Cancelled, _) => false,
                    };
                    if outranks {
                        stop = Some(s);
                    }
                }
            }
        }
        (Ok(rows), stop)
    }

    /// Puts one item, unless the job is stopping (cancelled, or an earlier put was fatal):
    /// then it is not started, and its page is read again on resume.
    async fn put_one(
        &self,
        item: &Item,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
        halt: &AtomicBool,
        clock: Option<&LeaseClock>,
    ) -> Result<ItemRow, Stop> {
        if cancel.is_cancelled() || halt.load(Ordering::SeqCst) {
            return Err(Stop::Cancelled);
        }
        let put = self.retry.run(|| importer.put(item), |e, d| progress.retrying(&item.id, &e.to_string(), d));
        let Some(put) = while_held(clock, put).await else {
            halt.store(true, Ordering::SeqCst);
            return Err(Stop::LeaseLost(LeaseClock::RAN_OUT.into()));
        };
        let settled = self.settle(item, put, progress);
        if settled.is_err() {
            halt.store(true, Ordering::SeqCst);
        }
        settled
    }

    /// The row of an item whose put has ended; a fatal error stops the job instead.
    fn settle(&self, item: &Item, put: Result<ferry_core::PutOutcome, ConnectorError>, progress: &dyn Progress) -> Result<ItemRow, Stop> {
        let vertical = item.vertical();
        match put {
            Ok(out) => {
                let outcome = if out.created { Outcome::Transferred } else { Outcome::AlreadyPresent };
                progress.item_done(vertical, outcome, item.content.as_ref().and_then(|c| c.size).unwrap_or(0));
                Ok(row(item, outcome, None, Some(out.dest_id), out.sha256.or_else(|| item.known_sha256()), out.warnings))
            }
            // the credentials refused (after a refresh), the destination full, or worse
            Err(e) if e.stops_job() => Err(stop_for(format!("{vertical} item {}", item.id), &e)),
            Err(e) => {
                progress.item_done(vertical, Outcome::Failed, 0);
                let reason =
                    if e.is_transient() { format!("gave up after {} retries: {e}", self.retry.max_retries) } else { e.to_string() };
                Ok(row(item, Outcome::Failed, Some(reason), None, None, vec![]))
            }
        }
    }
}

/// Renews `lease` every third of `ttl` until aborted. A cancel request stops the run
/// (`stop`, after the items in flight) as a cancel; a lost lease is sent on `lost`, and
/// the heartbeat ends. A store that cannot be reached is tried again at the next beat: if
/// the lease expires meanwhile, that beat finds it lost.
async fn heartbeat(
    store: Arc<dyn JobStore>,
    mut lease: Lease,
    ttl: Duration,
    clock: Arc<LeaseClock>,
    stop: CancellationToken,
    requested: Arc<AtomicBool>,
    lost: tokio::sync::oneshot::Sender<String>,
) {
    let every = (ttl / 3).max(Duration::from_millis(20));
    loop {
        tokio::time::sleep(every).await;
        let sent = clock.now();
        let beat = store.heartbeat(&mut lease, ttl).await;
        if beat.is_ok() {
            clock.renewed(sent, ttl);
        }
        match beat {
            Ok(false) => {}
            Ok(true) => {
                if !requested.swap(true, Ordering::SeqCst) {
                    tracing::info!(job = %lease.job, "cancel requested; stopping after the items in flight");
                    stop.cancel();
                }
            }
            Err(StoreError::LeaseLost(why)) => {
                tracing::warn!(job = %lease.job, "lost the job's lease: {why}");
                let _ = lost.send(why);
                return;
            }
            Err(e) => tracing::warn!(job = %lease.job, "cannot renew the job's lease: {e}"),
        }
    }
}

/// Until when, by this process's own monotonic clock, its lease is surely its own: the time
/// a renewal was sent plus the lease's length (the store counted from later). A process
/// that was stalled (SIGSTOP, a suspended machine) or could not reach the store finds it
/// passed, and starts or continues no write to the destination: a write it had in flight
/// is dropped where it stands, so that it cannot land beside the next holder's.
struct LeaseClock {
    start: Instant,
    /// Milliseconds after `start`.
    until: std::sync::atomic::AtomicU64,
}

impl LeaseClock {
    const RAN_OUT: &str = "the lease ran out before this process could renew it (it was stalled, or could not reach the job store)";

    fn new() -> Self {
        LeaseClock { start: Instant::now(), until: std::sync::atomic::AtomicU64::new(0) }
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn renewed(&self, sent: Duration, ttl: Duration) {
        let until = u64::try_from((sent + ttl).as_millis()).unwrap_or(u64::MAX);
        self.until.fetch_max(until, Ordering::SeqCst);
    }

    fn held(&self) -> bool {
        u64::try_from(self.now().as_millis()).unwrap_or(u64::MAX) < self.until.load(Ordering::SeqCst)
    }
}

/// Runs `fut` while the lease is held by the clock's reckoning: each time it is woken, the
/// clock is read before it goes on. None once the lease ran out (the future is dropped).
async fn while_held<F: std::future::Future>(clock: Option<&LeaseClock>, fut: F) -> Option<F::Output> {
    let Some(clock) = clock else { return Some(fut.await) };
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if !clock.held() {
            return std::task::Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

enum RunError {
    Stop(Stop),
    Store(StoreError),
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Store(e)
    }
}

fn row(
    item: &Item,
    outcome: Outcome,
    reason: Option<String>,
    dest_id: Option<String>,
    sha256: Option<String>,
    warnings: Vec<String>,
) -> ItemRow {
    // what the source already said it could not give goes with the item, wherever it went
    let warnings = match outcome {
        Outcome::Failed => warnings,
        _ => [item.source_warnings.clone(), warnings].concat(),
    };
    ItemRow {
        vertical: item.vertical(),
        source_id: item.id.clone(),
        outcome,
        reason,
        version: item.version.clone(),
        dest_id,
        sha256,
        warnings,
    }
}

fn failed_row(e: &ItemError) -> ItemRow {
    ItemRow {
        vertical: e.vertical,
        source_id: e.id.clone(),
        outcome: if e.skipped { Outcome::Skipped } else { Outcome::Failed },
        reason: Some(format!("{}: {}", e.location, e.reason)),
        version: String::new(),
        dest_id: None,
        sha256: None,
        warnings: vec![],
    }
}

/// A stream as messages name it: its verticals.
fn what(stream: &Stream) -> String {
    stream.verticals.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
}
