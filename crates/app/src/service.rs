use crate::error::{AppError, Side, usage};
use crate::events::{Event, Events, Publish};
use crate::plan::{self, needs_credential};
use crate::request::{RunOptions, TransferRequest};
use ferry_connectors::auth::{CredentialStore, Provider};
use ferry_connectors::{Credential, Settings, Spec};
use ferry_core::{Endpoint, Exporter, Importer};
use ferry_engine::{CancellationToken, Engine, EngineError, Progress};
use ferry_jobs::{Job, JobState, JobStore, Lease, Report, StoreError};
use ferry_store::lock::{HeldLock, LockError};
use ferry_store::secrets::SecretKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// The jobs of one store, and the ones this process runs.
pub struct JobService {
    store: Arc<dyn JobStore>,
    /// The secret key and temporary files live here.
    data_dir: PathBuf,
    /// Where job locks are taken, for the embedded (SQLite) store: the process that holds
    /// a job's lock is the only one on this machine that runs it, so a lease that looks
    /// live is a dead process's and is taken over. None for a shared store, whose workers
    /// are on several machines: there leases alone keep them apart.
    lock_dir: Option<PathBuf>,
    /// This process as the leases it takes name it (`ferry 1234 on host`).
    worker: String,
    lease_ttl: Duration,
    /// How to reach authorization servers when a job's tokens are revoked at its end.
    network: Settings,
    events: Events,
    running: Mutex<HashMap<String, Running>>,
    /// Told when this process queues a job, so that its idle worker looks at once.
    pub(crate) queued: tokio::sync::Notify,
}

struct Running {
    stop: CancellationToken,
    /// Stopped to be cancelled, not paused.
    cancel: bool,
    /// Paused on request ([`JobService::pause`]): it stays paused, even when a worker
    /// claimed it, until it is queued again.
    paused: bool,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// The job as it is now: its state, and the reason when it failed or was paused.
    pub job: Job,
    pub report: Report,
    /// The job had already ended before this run; nothing was done.
    pub already_ended: bool,
}

/// What [`JobService::cancel`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The job was at rest: it is cancelled now.
    Now,
    /// This process runs it: it stops after the items in flight, and ends cancelled.
    Stopping,
    /// Another process or worker runs it (`holder`): it was asked to stop, sees the request
    /// in its next heartbeat (within a third of its lease), and ends the job cancelled.
    Requested { holder: String },
}

/// Whether a job's run was asked for (`ferry run`, `ferry resume`) or claimed from the queue
/// by a worker; the two differ in what becomes of a job that cannot start or is paused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    Given,
    Claimed,
}

impl JobService {
    /// The service over the job store at `location` ([`ferry_store::open`]: a
    /// `postgres://` URL, a directory for the SQLite store, or empty for the SQLite store in
    /// `data_dir`). The data directory keeps the secret key and temporary files, and the job
    /// locks of the SQLite store.
    pub async fn open(location: &str, data_dir: &Path) -> Result<JobService, AppError> {
        let store = ferry_store::open(location, data_dir).await.map_err(|e| match ferry_store::local_dir(location, data_dir) {
            Some(dir) => AppError::Failed(format!("cannot open the job store in {}: {e}", dir.display())),
            None => AppError::Failed(format!("cannot open the job store: {e}")),
        })?;
        let mut service = Self::with_store(store, data_dir);
        service.lock_dir = ferry_store::local_dir(location, data_dir);
        Ok(service)
    }

    /// The service over a store of this machine: job locks are taken in `data_dir`.
    pub fn with_store(store: Arc<dyn JobStore>, data_dir: &Path) -> JobService {
        JobService {
            store,
            data_dir: data_dir.to_owned(),
            lock_dir: Some(data_dir.to_owned()),
            worker: format!("ferry {} on {}", std::process::id(), ferry_store::lock::hostname()),
            lease_ttl: ferry_engine::DEFAULT_LEASE_TTL,
            network: Settings::default(),
            events: Events::default(),
            running: Mutex::default(),
            queued: tokio::sync::Notify::new(),
        }
    }

    /// The service over a store that processes on other machines share: no file lock keeps
    /// runs of one job apart, their leases do.
    pub fn with_shared_store(store: Arc<dyn JobStore>, data_dir: &Path) -> JobService {
        JobService { lock_dir: None, ..Self::with_store(store, data_dir) }
    }

    /// How this process names itself in the leases it takes.
    pub fn set_worker_name(&mut self, name: impl Into<String>) {
        self.worker = name.into();
    }

    pub fn worker_name(&self) -> &str {
        &self.worker
    }

    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    /// How long a lease this process takes lasts unless renewed; it is renewed every third
    /// of it, and a worker that stops renewing it loses the job that long after.
    pub fn set_lease_ttl(&mut self, ttl: Duration) {
        self.lease_ttl = ttl.max(Duration::from_millis(100));
    }

    /// The network settings (TLS trust, private addresses) used to revoke a job's OAuth
    /// tokens when it ends; a run's own settings are used when it is the run that ends it.
    pub fn set_network(&mut self, settings: Settings) {
        self.network = settings;
    }

    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// Progress of every job this service runs, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.all.subscribe()
    }

    /// Progress of every job this service runs, from now on, but for the per-item events:
    /// when jobs start, read a stream, retry, and end.
    pub fn subscribe_milestones(&self) -> broadcast::Receiver<Event> {
        self.events.milestones.subscribe()
    }

    /// Checks a request ([`plan::plan`]) and creates its job, with the credentials given
    /// sealed in the store. Nothing is created for a request that is wrong.
    pub async fn create(&self, req: &TransferRequest, run: &RunOptions) -> Result<Job, AppError> {
        let spec = plan::plan(req, run)?;
        let job = self.store.create_job(&spec).await?;
        self.seal(&job.id, run).await?;
        Ok(job)
    }

    /// Creates a job as [`JobService::create`] does and queues it, running nothing: a
    /// worker ([`JobService::work`]) claims it. Only the passwords of `run` are kept with
    /// it; the worker runs it with its own keys and connection settings.
    pub async fn submit(&self, req: &TransferRequest, run: &RunOptions) -> Result<Job, AppError> {
        let job = self.create(req, run).await?;
        self.store.set_state(&job.id, JobState::Queued, None, None).await?;
        self.queued.notify_one();
        Ok(self.store.job(&job.id).await?)
    }

    pub async fn job(&self, id: &str) -> Result<Job, AppError> {
        Ok(self.store.job(id).await?)
    }

    /// Most recent first.
    pub async fn jobs(&self, limit: u32) -> Result<Vec<Job>, AppError> {
        Ok(self.store.jobs(None, limit).await?)
    }

    pub async fn report(&self, id: &str) -> Result<Report, AppError> {
        Ok(self.store.report(id).await?)
    }

    /// The sides of a job that need a credential this run must give: those whose
    /// connector needs one and for which none is kept.
    pub async fn missing_passwords(&self, job: &Job) -> Result<Vec<Side>, AppError> {
        let mut out = Vec::new();
        for side in [Side::Source, Side::Destination] {
            let (_, spec) = connector(uri(job, side))?;
            if needs_credential(spec)
                && self.store.secret(&job.id, side.secret_name()).await?.is_none()
                && self.store.secret(&job.id, side.legacy_secret_name()).await?.is_none()
            {
                out.push(side);
            }
        }
        Ok(out)
    }

    /// Runs (or resumes) a job until it ends, fails, or is paused or cancelled, under a
    /// lease taken for this process. One process at a time runs a job: while another
    /// one's lease is live, the run is refused ([`AppError::Busy`]); on the embedded store
    /// the job's lock says first whether another process on this machine runs it, and a
    /// lease that outlived its process is taken over. A job that already ended is
    /// reported, not run again.
    pub async fn run(&self, id: &str, run: RunOptions, progress: &dyn Progress) -> Result<Finished, AppError> {
        self.store.job(id).await?;
        // the lock first, then the state: what another process did before it let go is seen
        let lock = self.lock(id)?;
        let job = self.store.job(id).await?;
        if job.state.is_final() {
            return Ok(Finished { report: self.store.report(id).await?, job, already_ended: true });
        }
        let (job, lease) = self.store.acquire(id, &self.worker, self.lease_ttl, lock.is_some()).await.map_err(|e| match e {
            StoreError::Busy(holder) => AppError::Busy { job: id.to_owned(), holder },
            e => e.into(),
        })?;
        if job.state.is_final() {
            // it ended meanwhile, under another worker
            self.store.release(&lease).await?;
            return Ok(Finished { report: self.store.report(id).await?, job, already_ended: true });
        }
        let out = self.run_leased(job, &lease, run, progress, Taken::Given, None).await;
        self.let_go(&lease, &out).await;
        out
    }

    /// Runs a job that [`JobStore::claim`] gave this process, as a worker does: like
    /// [`JobService::run`], with these differences. `stop` pauses it (the worker is
    /// stopping), and a paused job goes back to the queue for the next worker. A job that
    /// cannot start (a connector that cannot be opened, a password neither kept nor given)
    /// is failed with the reason, and waits for `ferry resume`: it is not claimed again.
    pub async fn run_claimed(
        &self,
        job: Job,
        lease: Lease,
        run: RunOptions,
        progress: &dyn Progress,
        stop: &CancellationToken,
    ) -> Result<Finished, AppError> {
        // on the embedded store, a process of this machine that holds the job's lock still
        // runs it (stalled past its lease): it is left to it, and this lease to expire
        let _lock = self.lock(&job.id)?;
        let out = self.run_leased(job, &lease, run, progress, Taken::Claimed, Some(stop)).await;
        self.let_go(&lease, &out).await;
        out
    }

    /// Lets go of a run's lease: unless it was lost, and unless the job was left running
    /// (its state could not be written): that lease expires, and then another worker
    /// claims the job.
    async fn let_go(&self, lease: &Lease, out: &Result<Finished, AppError>) {
        if matches!(out, Err(AppError::LeaseLost(_))) {
            return;
        }
        match self.store.job(&lease.job).await {
            Ok(job) if job.state != JobState::Running => {
                if let Err(e) = self.store.release(lease).await {
                    tracing::warn!(job = %lease.job, "cannot release the job's lease (it expires by itself): {e}");
                }
            }
            _ => {}
        }
    }

    async fn run_leased(
        &self,
        job: Job,
        lease: &Lease,
        run: RunOptions,
        progress: &dyn Progress,
        taken: Taken,
        stop: Option<&CancellationToken>,
    ) -> Result<Finished, AppError> {
        let id = job.id.clone();
        if job.cancel_requested {
            // asked while no one could see it (its last worker died first)
            self.store.set_state(&id, JobState::Cancelled, Some("cancelled"), Some(lease)).await?;
            return self.ended(&id).await;
        }
        let (exporter, importer, concurrency, ledger) = match self.prepare(&job, &run).await {
            Ok(p) => p,
            Err(e) => {
                if taken == Taken::Claimed {
                    // claimed, the job is running: it fails, and is not claimed again
                    let reason = format!("{e}");
                    self.store.set_state(&id, JobState::Failed, Some(&reason), Some(lease)).await?;
                }
                return Err(e);
            }
        };
        let mut engine = Engine::new(self.store.clone());
        engine.concurrency = concurrency;
        engine.ledger = ledger;
        engine.lease = Some(lease.clone());
        engine.lease_ttl = self.lease_ttl;
        let stop = stop.map(CancellationToken::child_token).unwrap_or_default();
        self.running.lock().unwrap().insert(id.clone(), Running { stop: stop.clone(), cancel: false, paused: false });
        self.events.send(Event::Started { job: id.clone() });
        let publish = Publish { job: &id, events: &self.events, inner: progress };
        // every line the run logs names its job
        let span = tracing::info_span!("job", job = %id);
        let result = tracing::Instrument::instrument(engine.run(&job, exporter.as_ref(), importer.as_ref(), &publish, &stop), span).await;
        let (cancelled, paused) = self.running.lock().unwrap().remove(&id).map_or((false, false), |r| (r.cancel, r.paused));
        let mut report = match result {
            Ok(r) => r,
            Err(EngineError::Fatal(_)) => self.store.report(&id).await?,
            Err(EngineError::LeaseLost(why)) => {
                self.events.send(Event::Ended { job: id.clone(), state: JobState::Running, reason: Some(format!("lost: {why}")) });
                return Err(AppError::LeaseLost(why));
            }
            Err(EngineError::Store(e)) => {
                // said to the job if the store listens: a worker's job waits for the next
                // worker when the store only failed for a while; otherwise it is failed
                let transient = matches!(e, StoreError::Unavailable(_) | StoreError::Busy(_));
                let (state, reason) = if taken == Taken::Claimed && transient {
                    (JobState::Queued, format!("the job store failed ({e}); queued again"))
                } else {
                    (JobState::Failed, format!("the job store failed: {e}"))
                };
                if let Err(e2) = self.store.set_state(&id, state, Some(&reason), Some(lease)).await {
                    tracing::warn!(job = %id, "cannot record that the job stopped: {e2}");
                }
                return Err(e.into());
            }
        };
        if cancelled && report.state == Some(JobState::Paused) {
            self.store.set_state(&id, JobState::Cancelled, Some("cancelled"), Some(lease)).await?;
            report.state = Some(JobState::Cancelled);
            report.reason = Some("cancelled".into());
        }
        if taken == Taken::Claimed && report.state == Some(JobState::Paused) && !paused {
            // the worker is stopping: the next one continues the job where it stands
            let reason = "waiting for a worker (the one running it stopped)";
            self.store.set_state(&id, JobState::Queued, Some(reason), Some(lease)).await?;
            report.state = Some(JobState::Queued);
            report.reason = Some(reason.into());
        }
        let job = self.store.job(&id).await?;
        if job.state.is_final() {
            self.forget_credentials(&id, &run.settings).await?;
        }
        self.events.send(Event::Ended { job: job.id.clone(), state: job.state, reason: job.reason.clone() });
        Ok(Finished { job, report, already_ended: false })
    }

    /// What a run needs before it starts: the source's exporter, the destination's
    /// importer, items at once, and whether the ledger is kept.
    async fn prepare(&self, job: &Job, run: &RunOptions) -> Result<(Box<dyn Exporter>, Box<dyn Importer>, usize, bool), AppError> {
        let (src, src_spec) = connector(&job.spec.source)?;
        let (dst, dst_spec) = connector(&job.spec.destination)?;
        let concurrency = plan::concurrency(dst_spec, run.concurrency)?;
        if !job.spec.options.dry_run
            && let Some(check) = dst_spec.preflight
        {
            check(&dst, &job.id).map_err(|e| AppError::Failed(e.to_string()))?;
        }
        for (side, spec) in [(Side::Source, src_spec), (Side::Destination, dst_spec)] {
            plan::accepts(spec, side, run.credential(side))?;
        }
        self.seal(&job.id, run).await?;
        let key = Arc::new(self.key()?);
        let settings = Settings { job_id: job.id.clone(), ..run.settings.clone() };
        // each side's credential, shared by all its requests; a refreshed token set is
        // sealed in the store in place of the old one
        let side = async |side: Side, spec| -> Result<Arc<Provider>, AppError> {
            let credential = self.credential(&key, job, side, spec, run).await?;
            let keeper = Sealed { store: self.store.clone(), key: key.clone(), job: job.id.clone(), side };
            Ok(Arc::new(Provider::new(credential, Some(Arc::new(keeper)))))
        };
        let src_settings = Settings { credential: side(Side::Source, src_spec).await?, ..settings.clone() };
        let dst_settings = Settings { credential: side(Side::Destination, dst_spec).await?, ..settings };
        let exporter = (src_spec.exporter)(&src, &src_settings).map_err(|e| AppError::Failed(format!("{}: {e}", job.spec.source)))?;
        let importer = (dst_spec.importer)(&dst, &dst_settings, &job.spec.source)
            .map_err(|e| AppError::Failed(format!("{}: {e}", job.spec.destination)))?;
        Ok((exporter, importer, concurrency, !dst_spec.capabilities.written_whole))
    }

    /// Revokes the OAuth tokens a job kept, where their authorization server can revoke
    /// them, and forgets every credential of the job: when it has ended. A revocation that
    /// fails is logged; the credentials are forgotten all the same.
    async fn forget_credentials(&self, id: &str, settings: &Settings) -> Result<(), AppError> {
        if let Ok(key) = self.key() {
            for side in [Side::Source, Side::Destination] {
                let name = side.secret_name();
                let Ok(Some((nonce, ct))) = self.store.secret(id, name).await else { continue };
                let Ok(plain) = key.open(&nonce, &ct, &format!("{id}/{name}")) else { continue };
                if let Ok(Credential::Bearer(t)) = serde_json::from_slice::<Credential>(&plain) {
                    match ferry_connectors::auth::revoke_with(settings, &t).await {
                        Ok(true) => tracing::info!(job = %id, %side, "the job's tokens were revoked"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(job = %id, %side, "the job's tokens could not be revoked: {e}"),
                    }
                }
            }
        }
        self.store.delete_secrets(id).await?;
        Ok(())
    }

    /// A job that was ended here: its passwords forgotten, subscribers told, and how it is.
    async fn ended(&self, id: &str) -> Result<Finished, AppError> {
        let job = self.store.job(id).await?;
        self.forget_credentials(id, &self.network.clone()).await?;
        self.events.send(Event::Ended { job: id.to_owned(), state: job.state, reason: job.reason.clone() });
        Ok(Finished { report: self.store.report(id).await?, job, already_ended: false })
    }

    /// Asks a job this process runs to stop after the items in flight; it is then paused,
    /// and a later run resumes it. False if this process does not run it.
    pub fn pause(&self, id: &str) -> bool {
        let mut running = self.running.lock().unwrap();
        let Some(r) = running.get_mut(id) else { return false };
        r.paused = true;
        r.stop.cancel();
        true
    }

    /// Pauses a job: one this process runs after its items in flight, one waiting in the
    /// queue at once (so that no worker takes it). A job that another process runs cannot
    /// be paused from here ([`AppError::Busy`]: it can be cancelled); one at rest is left
    /// as it is.
    pub async fn pause_job(&self, id: &str) -> Result<Job, AppError> {
        if self.pause(id) {
            return Ok(self.store.job(id).await?);
        }
        let job = self.store.job(id).await?;
        match job.state {
            JobState::Queued | JobState::Created => {
                self.store.set_state(id, JobState::Paused, Some("paused"), None).await?;
                Ok(self.store.job(id).await?)
            }
            JobState::Running => Err(AppError::Busy { job: id.to_owned(), holder: job.worker.unwrap_or_else(|| "another worker".into()) }),
            _ => Ok(job),
        }
    }

    /// Puts a job in the queue for a worker to run (a new one, or one paused or failed,
    /// to be resumed where it stands). A job queued or running already is left as it is;
    /// one that ended cannot be queued again.
    pub async fn queue(&self, id: &str) -> Result<Job, AppError> {
        let job = self.store.job(id).await?;
        match job.state {
            s if s.is_final() => Err(usage(format!("job {id} already ended ({s}); start a new one"))),
            JobState::Queued | JobState::Running => Ok(job),
            _ => {
                self.store.set_state(id, JobState::Queued, None, None).await?;
                self.queued.notify_one();
                Ok(self.store.job(id).await?)
            }
        }
    }

    /// Ends a job for good: a running one after the items in flight, one at rest at once.
    /// Its kept credentials are forgotten. A job that another process or worker runs is
    /// asked to stop ([`JobStore::request_cancel`]); it ends cancelled when that worker sees it.
    pub async fn cancel(&self, id: &str) -> Result<Cancelled, AppError> {
        if let Some(r) = self.running.lock().unwrap().get_mut(id) {
            r.cancel = true;
            r.stop.cancel();
            return Ok(Cancelled::Stopping);
        }
        let job = self.store.job(id).await?;
        if job.state.is_final() {
            return Err(usage(format!("job {id} already ended ({})", job.state)));
        }
        let lock = match self.lock(id) {
            Ok(lock) => lock,
            Err(AppError::Busy { holder, .. }) => return self.request_cancel(id, holder).await,
            Err(e) => return Err(e),
        };
        // held here (and taken over from a dead process on the embedded store), the job is
        // at rest and no worker can claim it before it is cancelled
        let lease = match self.store.acquire(id, &self.worker, self.lease_ttl, lock.is_some()).await {
            Ok((_, lease)) => lease,
            Err(StoreError::Busy(holder)) => return self.request_cancel(id, holder).await,
            Err(e) => return Err(e.into()),
        };
        let job = self.store.job(id).await?;
        if job.state.is_final() {
            self.store.release(&lease).await?;
            return Err(usage(format!("job {id} already ended ({})", job.state)));
        }
        self.store.set_state(id, JobState::Cancelled, Some("cancelled"), Some(&lease)).await?;
        self.store.release(&lease).await?;
        self.ended(id).await?;
        Ok(Cancelled::Now)
    }

    async fn request_cancel(&self, id: &str, holder: String) -> Result<Cancelled, AppError> {
        self.store.request_cancel(id).await?;
        Ok(Cancelled::Requested { holder })
    }

    /// The job's lock on the embedded store; none for a shared one.
    fn lock(&self, id: &str) -> Result<Option<HeldLock>, AppError> {
        let Some(dir) = &self.lock_dir else { return Ok(None) };
        ferry_store::lock::job_lock(dir, id).map(Some).map_err(|e| match e {
            LockError::Held { holder, .. } => AppError::Busy { job: id.to_owned(), holder },
            e => AppError::Failed(e.to_string()),
        })
    }

    fn key(&self) -> Result<SecretKey, AppError> {
        SecretKey::load(&self.data_dir).map_err(|e| AppError::Failed(e.to_string()))
    }

    /// Keeps the credentials given, sealed, until the job ends, so that a resume needs none.
    async fn seal(&self, job: &str, run: &RunOptions) -> Result<(), AppError> {
        if run.credential(Side::Source).is_none() && run.credential(Side::Destination).is_none() {
            return Ok(());
        }
        let key = self.key()?;
        for side in [Side::Source, Side::Destination] {
            if let Some(c) = run.credential(side) {
                seal_credential(self.store.as_ref(), &key, job, side, c).await?;
            }
        }
        Ok(())
    }

    /// A side's credential: the one given for this run, else the one kept for the job
    /// (or the password an older ferry kept for it).
    async fn credential(&self, key: &SecretKey, job: &Job, side: Side, spec: &Spec, run: &RunOptions) -> Result<Credential, AppError> {
        if !needs_credential(spec) {
            return Ok(Credential::None);
        }
        if let Some(c) = run.credential(side) {
            return Ok(c.clone());
        }
        let open = |name: &str, nonce: &[u8], ct: &[u8]| {
            key.open(nonce, ct, &format!("{}/{name}", job.id)).map_err(|e| AppError::Failed(e.to_string()))
        };
        let name = side.secret_name();
        if let Some((nonce, ct)) = self.store.secret(&job.id, name).await? {
            let plain = open(name, &nonce, &ct)?;
            return serde_json::from_slice(&plain)
                .map_err(|e| AppError::Failed(format!("the {side}'s kept credential cannot be read: {e}")));
        }
        let legacy = side.legacy_secret_name();
        let Some((nonce, ct)) = self.store.secret(&job.id, legacy).await? else {
            return Err(AppError::MissingPassword { side, uri: uri(job, side).to_owned() });
        };
        let plain = open(legacy, &nonce, &ct)?;
        Ok(Credential::password(String::from_utf8_lossy(&plain).into_owned()))
    }
}

/// Seals a side's credential (its JSON) in the store under the job, in place of the one
/// kept before.
async fn seal_credential(store: &dyn JobStore, key: &SecretKey, job: &str, side: Side, c: &Credential) -> Result<(), AppError> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(c).map_err(|e| AppError::Failed(e.to_string()))?);
    let (nonce, ct) = key.seal(&json, &format!("{job}/{}", side.secret_name()));
    store.put_secret(job, side.secret_name(), &nonce, &ct).await?;
    Ok(())
}

/// Where a connector keeps a refreshed token set: sealed in the job store, as the job's.
struct Sealed {
    store: Arc<dyn JobStore>,
    key: Arc<SecretKey>,
    job: String,
    side: Side,
}

#[async_trait::async_trait]
impl CredentialStore for Sealed {
    async fn save(&self, credential: &Credential) -> Result<(), String> {
        seal_credential(self.store.as_ref(), &self.key, &self.job, self.side, credential).await.map_err(|e| e.to_string())
    }
}

fn uri(job: &Job, side: Side) -> &str {
    match side {
        Side::Source => &job.spec.source,
        Side::Destination => &job.spec.destination,
    }
}

/// A stored job's endpoint and its connector.
fn connector(uri: &str) -> Result<(Endpoint, &'static Spec), AppError> {
    let e = Endpoint::parse(uri).map_err(|e| AppError::Failed(format!("the job's {uri}: {e}")))?;
    let spec = ferry_connectors::find(&e.scheme).map_err(|e| AppError::Failed(e.to_string()))?;
    Ok((e, spec))
}
