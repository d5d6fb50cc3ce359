//! A worker: claims queued jobs from the store and runs them, several at once, until it is
//! told to stop. Workers on several machines share one store (PostgreSQL): each job is
//! claimed by one of them, run under a lease, and taken over by another when its worker
//! dies or stalls past the lease.

use crate::error::AppError;
use crate::request::RunOptions;
use crate::service::{Finished, JobService};
use ferry_engine::{CancellationToken, NoProgress};
use ferry_jobs::Job;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How long an idle worker waits before it looks for a job again, at first; each empty
/// look doubles it, up to [`IDLE_MAX`].
pub const IDLE_MIN: Duration = Duration::from_millis(50);
pub const IDLE_MAX: Duration = Duration::from_secs(1);

/// What a worker tells whoever watches it (its log).
#[derive(Debug)]
pub enum WorkerEvent {
    /// A job was claimed and starts (or continues where its last worker left it).
    Took(Job),
    /// A job's run ended: completed, failed, cancelled, or queued again because the
    /// worker is stopping.
    Ended(Box<Finished>),
    /// A job's run stopped on an error: it could not start (it is failed), its lease was
    /// lost (another worker runs it), or the store failed.
    Stopped { job: String, error: AppError },
    /// The store could not be asked for a job; the worker tries again.
    StoreFailed(AppError),
    /// Told to stop: no job is taken from now on, and the running ones are paused after
    /// their items in flight and put back in the queue.
    Stopping { running: usize },
}

impl JobService {
    /// Claims jobs and runs them, `slots` at once, until `stop` fires; then the jobs it
    /// runs are paused after their items in flight, put back in the queue (`queued`, for
    /// the next worker to continue them), their leases released, and it returns.
    ///
    /// A job is run with `run`'s keys and connection settings and the passwords kept with
    /// it. A job that fails is left failed (`ferry resume` continues it); only a job whose
    /// worker died, stalled past its lease or stopped is claimed again.
    pub async fn work(
        self: &Arc<Self>,
        slots: usize,
        run: RunOptions,
        stop: CancellationToken,
        tell: Arc<dyn Fn(WorkerEvent) + Send + Sync>,
    ) {
        let free = Arc::new(Semaphore::new(slots.max(1)));
        let mut tasks = JoinSet::new();
        let mut idle = IDLE_MIN;
        loop {
            while let Some(done) = tasks.try_join_next() {
                if let Err(e) = done {
                    tracing::error!("a job's task ended abnormally: {e}");
                }
            }
            let slot = tokio::select! {
                _ = stop.cancelled() => break,
                slot = free.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            };
            if stop.is_cancelled() {
                break;
            }
            let wait = match self.store().claim(self.worker_name(), self.lease_ttl()).await {
                Ok(Some((job, lease))) => {
                    idle = IDLE_MIN;
                    tell(WorkerEvent::Took(job.clone()));
                    let (service, run, tell, stop) = (self.clone(), run.clone(), tell.clone(), stop.clone());
                    tasks.spawn(async move {
                        let _slot = slot;
                        let id = job.id.clone();
                        match service.run_claimed(job, lease, run, &NoProgress, &stop).await {
                            Ok(done) => tell(WorkerEvent::Ended(Box::new(done))),
                            Err(error) => tell(WorkerEvent::Stopped { job: id, error }),
                        }
                    });
                    continue;
                }
                Ok(None) => {
                    let wait = idle;
                    idle = (idle * 2).min(IDLE_MAX);
                    wait
                }
                Err(e) => {
                    tell(WorkerEvent::StoreFailed(e.into()));
                    IDLE_MAX
                }
            };
            drop(slot);
            // a job queued by this process wakes it at once; others' after `wait`
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
                _ = self.queued.notified() => idle = IDLE_MIN,
            }
        }
        // every run here holds a child of `stop`: they are pausing already
        tell(WorkerEvent::Stopping { running: tasks.len() });
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!("a job's task ended abnormally: {e}");
            }
        }
    }
}
