use crate::error::{AppError, Side, usage};
use crate::events::{Event, Publish};
use crate::plan::{self, needs_credential};
use crate::request::{RunOptions, TransferRequest};
use ferry_connectors::auth::{CredentialStore, Provider};
use ferry_connectors::{Credential, Settings, Spec};
use ferry_core::Endpoint;
use ferry_engine::{CancellationToken, Engine, EngineError, Progress};
use ferry_jobs::{Job, JobState, JobStore, Report};
use ferry_store::SqliteStore;
use ferry_store::lock::{HeldLock, LockError};
use ferry_store::secrets::SecretKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// The jobs of one store, and the ones this process runs.
pub struct JobService {
    store: Arc<dyn JobStore>,
    /// Locks, the secret key and temporary files live here.
    data_dir: PathBuf,
    events: broadcast::Sender<Event>,
    running: Mutex<HashMap<String, Running>>,
}

struct Running {
    stop: CancellationToken,
    /// Stopped to be cancelled, not paused.
    cancel: bool,
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

impl JobService {
    /// The service over the embedded SQLite store in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<JobService, AppError> {
        let store = SqliteStore::open(data_dir)
            .await
            .map_err(|e| AppError::Failed(format!("cannot open the job store in {}: {e}", data_dir.display())))?;
        Ok(Self::with_store(Arc::new(store), data_dir))
    }

    pub fn with_store(store: Arc<dyn JobStore>, data_dir: &Path) -> JobService {
        JobService { store, data_dir: data_dir.to_owned(), events: broadcast::channel(1024).0, running: Mutex::default() }
    }

    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// Progress of every job this service runs, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Checks a request ([`plan::plan`]) and creates its job, with the credentials given
    /// sealed in the store. Nothing is created for a request that is wrong.
    pub async fn create(&self, req: &TransferRequest, run: &RunOptions) -> Result<Job, AppError> {
        let spec = plan::plan(req, run)?;
        let job = self.store.create_job(&spec).await?;
        self.seal(&job.id, run).await?;
        Ok(job)
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

    /// Runs (or resumes) a job until it ends, fails, or is paused or cancelled. One
    /// process at a time runs a job: another one's run is refused ([`AppError::Busy`]).
    /// A job that already ended is reported, not run again.
    pub async fn run(&self, id: &str, run: RunOptions, progress: &dyn Progress) -> Result<Finished, AppError> {
        self.store.job(id).await?;
        // the lock first, then the state: what another process did before it let go is seen
        let _lock = self.lock(id)?;
        let job = self.store.job(id).await?;
        if job.state.is_final() {
            return Ok(Finished { report: self.store.report(id).await?, job, already_ended: true });
        }
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
        self.seal(&job.id, &run).await?;
        let key = Arc::new(self.key()?);
        let settings = Settings { job_id: job.id.clone(), ..run.settings.clone() };
        // each side's credential, shared by all its requests; a refreshed token set is
        // sealed in the store in place of the old one
        let side = async |side: Side, spec| -> Result<Arc<Provider>, AppError> {
            let credential = self.credential(&key, &job, side, spec, &run).await?;
            let keeper = Sealed { store: self.store.clone(), key: key.clone(), job: job.id.clone(), side };
            Ok(Arc::new(Provider::new(credential, Some(Arc::new(keeper)))))
        };
        let src_settings = Settings { credential: side(Side::Source, src_spec).await?, ..settings.clone() };
        let dst_settings = Settings { credential: side(Side::Destination, dst_spec).await?, ..settings };
        let exporter = (src_spec.exporter)(&src, &src_settings).map_err(|e| AppError::Failed(format!("{}: {e}", job.spec.source)))?;
        let importer = (dst_spec.importer)(&dst, &dst_settings, &job.spec.source)
            .map_err(|e| AppError::Failed(format!("{}: {e}", job.spec.destination)))?;

        let mut engine = Engine::new(self.store.clone());
        engine.concurrency = concurrency;
        engine.ledger = !dst_spec.capabilities.written_whole;
        let stop = CancellationToken::new();
        self.running.lock().unwrap().insert(job.id.clone(), Running { stop: stop.clone(), cancel: false });
        let _ = self.events.send(Event::Started { job: job.id.clone() });
        let publish = Publish { job: &job.id, events: &self.events, inner: progress };
        let result = engine.run(&job, exporter.as_ref(), importer.as_ref(), &publish, &stop).await;
        let cancelled = self.running.lock().unwrap().remove(&job.id).is_some_and(|r| r.cancel);
        let mut report = match result {
            Ok(r) => r,
            Err(EngineError::Fatal(_)) => self.store.report(id).await?,
            Err(EngineError::Store(e)) => return Err(e.into()),
        };
        if cancelled && report.state == Some(JobState::Paused) {
            self.store.set_state(id, JobState::Cancelled, Some("cancelled"), None).await?;
            report.state = Some(JobState::Cancelled);
            report.reason = Some("cancelled".into());
        }
        let job = self.store.job(id).await?;
        if job.state.is_final() {
            self.store.delete_secrets(id).await?;
        }
        let _ = self.events.send(Event::Ended { job: job.id.clone(), state: job.state, reason: job.reason.clone() });
        Ok(Finished { job, report, already_ended: false })
    }

    /// Asks a job this process runs to stop after the items in flight; it is then paused,
    /// and a later run resumes it. False if this process does not run it.
    pub fn pause(&self, id: &str) -> bool {
        self.running.lock().unwrap().get(id).map(|r| r.stop.cancel()).is_some()
    }

    /// Ends a job for good: a running one after the items in flight, one at rest at once.
    /// Its kept credentials are forgotten. (A job run by another process is refused, as busy.)
    pub async fn cancel(&self, id: &str) -> Result<(), AppError> {
        if let Some(r) = self.running.lock().unwrap().get_mut(id) {
            r.cancel = true;
            r.stop.cancel();
            return Ok(());
        }
        let _lock = self.lock(id)?;
        let job = self.store.job(id).await?;
        if job.state.is_final() {
            return Err(usage(format!("job {id} already ended ({})", job.state)));
        }
        self.store.set_state(id, JobState::Cancelled, Some("cancelled"), None).await?;
        self.store.delete_secrets(id).await?;
        let _ = self.events.send(Event::Ended { job: id.to_owned(), state: JobState::Cancelled, reason: Some("cancelled".into()) });
        Ok(())
    }

    fn lock(&self, id: &str) -> Result<HeldLock, AppError> {
        ferry_store::lock::job_lock(&self.data_dir, id).map_err(|e| match e {
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
