use crate::{Progress, RetryPolicy};
use ferry_core::{ConnectorError, Exporter, Importer, Item, ItemError, PageStream, Vertical};
use ferry_store::{ItemRow, Job, JobState, JobStore, Outcome, Report, StoreError};
use futures::StreamExt;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The job cannot go on; it is marked failed with this reason and can be resumed.
    #[error("{0}")]
    Fatal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Engine {
    pub store: Arc<dyn JobStore>,
    pub retry: RetryPolicy,
    /// Items in flight at once (the importer's own limit applies on top).
    pub concurrency: usize,
}

enum Stop {
    Cancelled,
    Fatal(String),
}

impl Engine {
    pub fn new(store: Arc<dyn JobStore>) -> Self {
        Engine { store, retry: RetryPolicy::default(), concurrency: 4 }
    }

    /// Runs (or resumes) a job to its end, or until `cancel` fires (the job is then
    /// paused and `ferry resume` finishes it). Returns the job's report.
    pub async fn run(
        &self,
        job: &Job,
        exporter: &dyn Exporter,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
    ) -> Result<Report, EngineError> {
        self.store.set_state(&job.id, JobState::Running, None, Some(std::process::id())).await?;
        let mut stop = None;
        for &vertical in &job.spec.verticals {
            match self.run_vertical(job, vertical, exporter, importer, progress, cancel).await {
                Ok(()) => {}
                Err(RunError::Stop(s)) => {
                    stop = Some(s);
                    break;
                }
                Err(RunError::Store(e)) => return Err(e.into()),
            }
        }
        if stop.is_none() && !job.spec.options.dry_run {
            let finish = self.retry.run(|| importer.finish(), |e, d| progress.retrying("finishing", &e.to_string(), d)).await;
            if let Err(e) = finish {
                stop = Some(Stop::Fatal(format!("the destination could not be completed: {e}")));
            }
        }
        let (state, reason) = match stop {
            Some(Stop::Cancelled) => (JobState::Paused, Some("interrupted; run `ferry resume` to finish".to_owned())),
            Some(Stop::Fatal(r)) => (JobState::Failed, Some(r)),
            None => {
                let report = self.store.report(&job.id).await?;
                let t = report.totals();
                if t.failed > 0 {
                    (JobState::CompletedWithErrors, Some(format!("{} item(s) failed", t.failed)))
                } else {
                    (JobState::Completed, None)
                }
            }
        };
        self.store.set_state(&job.id, state, reason.as_deref(), None).await?;
        if let (JobState::Failed, Some(r)) = (state, reason) {
            return Err(EngineError::Fatal(r));
        }
        Ok(self.store.report(&job.id).await?)
    }

    /// The source's pages: everything, or, given a sync state, only what changed since.
    async fn open_pages(
        &self,
        exporter: &dyn Exporter,
        vertical: Vertical,
        cursor: Option<String>,
        since: &Option<String>,
        progress: &dyn Progress,
    ) -> Result<Box<dyn PageStream>, RunError> {
        self.retry
            .run(
                || async {
                    match since {
                        Some(s) => exporter.changes(vertical, cursor.clone(), s.clone()).await,
                        None => exporter.pages(vertical, cursor.clone()).await,
                    }
                },
                |e, d| progress.retrying("opening the source", &e.to_string(), d),
            )
            .await
            .map_err(|e| RunError::Stop(Stop::Fatal(format!("cannot read {vertical} from the source: {e}"))))
    }

    async fn run_vertical(
        &self,
        job: &Job,
        vertical: Vertical,
        exporter: &dyn Exporter,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
    ) -> Result<(), RunError> {
        let saved = self.store.cursor(&job.id, vertical).await?;
        if saved.as_ref().is_some_and(|c| c.done) {
            return Ok(());
        }
        progress.vertical_started(vertical);
        let mut cursor = saved.and_then(|c| c.cursor);
        let pair = job.pair();
        // an incremental job lists only what changed since the last complete export, where
        // the source tracks changes
        let since = if job.spec.options.incremental { self.store.sync_state(&pair, vertical).await? } else { None };
        let mut pages = self.open_pages(exporter, vertical, cursor.clone(), &since, progress).await?;
        let mut source_retries = 0;
        // the next page is read while the current one is written
        let mut ahead = None;
        loop {
            if cancel.is_cancelled() {
                return Err(RunError::Stop(Stop::Cancelled));
            }
            let next = match ahead.take() {
                Some(n) => n,
                None => pages.next_page().await,
            };
            let page = match next {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) if e.is_transient() && source_retries < self.retry.max_retries => {
                    // page streams are stateful: start again after the last committed page
                    source_retries += 1;
                    let delay = self.retry.delay(source_retries, &e);
                    progress.retrying("reading the source", &e.to_string(), delay);
                    tokio::time::sleep(delay).await;
                    pages = self.open_pages(exporter, vertical, cursor.clone(), &since, progress).await?;
                    continue;
                }
                Err(e) => return Err(RunError::Stop(Stop::Fatal(format!("reading {vertical} from the source failed: {e}")))),
            };
            source_retries = 0;
            let ((rows, stop), fetched) = tokio::join!(self.write_page(job, vertical, &page, importer, progress, cancel), async {
                if page.cursor.is_some() { pages.next_page().await } else { Ok(None) }
            });
            let rows = rows?;
            if let Some(s) = stop {
                // what was confirmed is kept; the page itself is read again on resume
                self.store.commit_page(&job.id, &pair, vertical, &rows, cursor.as_deref(), false).await?;
                return Err(RunError::Stop(s));
            }
            if page.cursor.is_some() {
                cursor = page.cursor;
                ahead = Some(fetched);
            }
            self.store.commit_page(&job.id, &pair, vertical, &rows, cursor.as_deref(), false).await?;
            // tests wait for this line to interrupt a job mid-way (FERRY_LOG=ferry_engine=info)
            tracing::info!(job = %job.id, vertical = %vertical, items = rows.len(), "page committed");
        }
        self.store.commit_page(&job.id, &pair, vertical, &[], cursor.as_deref(), true).await?;
        // remembered only when nothing failed: a failed item must be offered again
        if let Some(state) = pages.sync_state()
            && !job.spec.options.dry_run
            && self.store.report(&job.id).await?.verticals.get(&vertical).is_none_or(|v| v.failed == 0)
        {
            self.store.set_sync_state(&pair, vertical, &state).await?;
        }
        Ok(())
    }
}

impl Engine {
    /// Writes one page's items, `concurrency` at a time. Returns the rows to commit and
    /// why the job must stop, if it must.
    async fn write_page(
        &self,
        job: &Job,
        vertical: Vertical,
        page: &ferry_core::Page,
        importer: &dyn Importer,
        progress: &dyn Progress,
        cancel: &CancellationToken,
    ) -> (Result<Vec<ItemRow>, StoreError>, Option<Stop>) {
        let pair = job.pair();
        let ids: Vec<&str> = page.items.iter().filter_map(|i| i.as_ref().ok().map(|i| i.id.as_str())).collect();
        let recorded = match self.store.recorded(&job.id, vertical, &ids).await {
            Ok(r) => r,
            Err(e) => return (Err(e), None),
        };
        let ledger = if job.spec.options.incremental {
            match self.store.ledger(&pair, vertical, &ids).await {
                Ok(l) => l,
                Err(e) => return (Err(e), None),
            }
        } else {
            Default::default()
        };
        let mut stop = None;
        let halt = std::sync::atomic::AtomicBool::new(false);
        let results: Vec<Option<ItemRow>> = futures::stream::iter(page.items.iter())
            .map(|entry| {
                let recorded = &recorded;
                let ledger = &ledger;
                let halt = &halt;
                let stop_now = cancel.is_cancelled() || halt.load(std::sync::atomic::Ordering::SeqCst);
                async move {
                    let item = match entry {
                        Err(e) => {
                            let row = failed_row(e);
                            if recorded.contains_key(&row.source_id) {
                                return Ok(None);
                            }
                            progress.item_done(vertical, Outcome::Failed, 0);
                            return Ok(Some(row));
                        }
                        Ok(item) => item,
                    };
                    if recorded.contains_key(&item.id) {
                        return Ok(None);
                    }
                    if stop_now {
                        // not started: the page is read again on resume
                        return Err(Stop::Cancelled);
                    }
                    if let Some(prev) = ledger.get(&item.id).filter(|l| l.version == item.version) {
                        progress.item_done(vertical, Outcome::AlreadyPresent, 0);
                        return Ok(Some(row(item, Outcome::AlreadyPresent, None, Some(prev.dest_id.clone()), prev.sha256.clone(), vec![])));
                    }
                    if job.spec.options.dry_run {
                        progress.item_done(vertical, Outcome::Transferred, item.content.as_ref().and_then(|c| c.size).unwrap_or(0));
                        return Ok(Some(row(
                            item,
                            Outcome::Transferred,
                            Some("dry run: not written".into()),
                            None,
                            item.known_sha256(),
                            vec![],
                        )));
                    }
                    let put = self.retry.run(|| importer.put(item), |e, d| progress.retrying(&item.id, &e.to_string(), d)).await;
                    Ok(Some(match put {
                        Ok(out) => {
                            let outcome = if out.created { Outcome::Transferred } else { Outcome::AlreadyPresent };
                            progress.item_done(vertical, outcome, item.content.as_ref().and_then(|c| c.size).unwrap_or(0));
                            row(item, outcome, None, Some(out.dest_id), out.sha256.or_else(|| item.known_sha256()), out.warnings)
                        }
                        Err(ConnectorError::Fatal(m)) => {
                            halt.store(true, std::sync::atomic::Ordering::SeqCst);
                            return Err(Stop::Fatal(format!("{vertical} item {}: {m}", item.id)));
                        }
                        Err(e) => {
                            progress.item_done(vertical, Outcome::Failed, 0);
                            let reason = if e.is_transient() {
                                format!("gave up after {} retries: {e}", self.retry.max_retries)
                            } else {
                                e.to_string()
                            };
                            row(item, Outcome::Failed, Some(reason), None, None, vec![])
                        }
                    }))
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .filter_map(|r| {
                let keep = match r {
                    Ok(row) => Some(row),
                    Err(s) => {
                        if matches!(s, Stop::Fatal(_)) || stop.is_none() {
                            stop = Some(s);
                        }
                        None
                    }
                };
                async move { keep }
            })
            .collect()
            .await;
        (Ok(results.into_iter().flatten().collect()), stop)
    }
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
    ItemRow { source_id: item.id.clone(), outcome, reason, version: item.version.clone(), dest_id, sha256, warnings }
}

fn failed_row(e: &ItemError) -> ItemRow {
    ItemRow {
        source_id: e.id.clone(),
        outcome: Outcome::Failed,
        reason: Some(format!("{}: {}", e.location, e.reason)),
        version: String::new(),
        dest_id: None,
        sha256: None,
        warnings: vec![],
    }
}
