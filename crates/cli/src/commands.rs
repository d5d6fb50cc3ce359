use crate::args::{Cli, Command, ConnOpts, KeyOpts, TransferOpts};
use crate::output::{Console, print_report, safe};
use crate::validate::{self, usage};
use anyhow::{Context, Result, anyhow, bail};
use ferry_connectors::Settings;
use ferry_core::{Endpoint, Vertical};
use ferry_engine::{CancellationToken, Engine, EngineError};
use ferry_package::crypt::{Decryption, Encryption, parse_recipient, read_identities};
use ferry_package::{Form, PackageReader};
use ferry_store::secrets::SecretKey;
use ferry_store::{Job, JobOptions, JobSpec, JobState, JobStore, SqliteStore};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_ITEM_ERRORS: u8 = 3;
pub const EXIT_VERIFY: u8 = 4;
pub const EXIT_INTERRUPTED: u8 = 5;

pub async fn run(cli: Cli) -> Result<u8> {
    let data_dir = cli
        .data_dir
        .clone()
        .or_else(|| dirs::data_dir().map(|d| d.join("ferry")))
        .ok_or_else(|| anyhow!("no data directory: give --data-dir or set FERRY_DATA_DIR"))?;
    match cli.command {
        Command::Transfer { ref from, ref to, ref opts } => transfer(&cli, &data_dir, from, to, opts).await,
        Command::Export { ref source, ref output, ref opts } => {
            transfer(&cli, &data_dir, source, &format!("package:{}", output.display()), opts).await
        }
        Command::Import { ref package, ref to, ref opts } => {
            transfer(&cli, &data_dir, &format!("package:{}", package.display()), to, opts).await
        }
        Command::Verify { ref package, ref keys } => verify(&cli, &data_dir, package, keys).await,
        Command::Inspect { ref package, ref keys } => inspect(&cli, &data_dir, package, keys).await,
        Command::Jobs { ref job, limit } => jobs(&cli, &data_dir, job.as_deref(), limit).await,
        Command::Resume { ref job, ref keys, ref conn, concurrency } => resume(&cli, &data_dir, job, keys, conn, concurrency).await,
        Command::Connectors => connectors(&cli),
    }
}

/// Makes path-like URIs absolute, so that `ferry resume` works from any directory. A URI
/// that does not parse, or names no connector, is a usage error.
fn normalize(uri: &str) -> Result<String> {
    let e = Endpoint::parse(uri).map_err(usage)?;
    ferry_connectors::find(&e.scheme).map_err(usage)?;
    if let Some(path) = validate::local_path(&e) {
        let query = e.path().split_once('?').map(|(_, q)| q);
        let abs = std::path::absolute(&path).map_err(|err| usage(format!("bad path in {uri}: {err}")))?;
        return Ok(format!("{}:{}{}", e.scheme, abs.display(), query.map(|q| format!("?{q}")).unwrap_or_default()));
    }
    Ok(uri.to_owned())
}

fn settings(data_dir: &Path, keys: &KeyOpts) -> Result<Settings> {
    let mut s = Settings { temp_dir: data_dir.join("tmp"), ..Default::default() };
    if !keys.recipient.is_empty() {
        let r = keys.recipient.iter().map(|r| parse_recipient(r)).collect::<Result<Vec<_>, _>>().map_err(|e| anyhow!(e))?;
        s.encryption = Some(Encryption::Recipients(r));
    }
    if let Some(p) = &keys.passphrase_file {
        let pass = age::secrecy::SecretString::from(read_first_line(p, "passphrase")?);
        if s.encryption.is_none() {
            s.encryption = Some(Encryption::Passphrase(pass.clone()));
        }
        s.decryption = Some(Decryption::Passphrase(pass));
    }
    if let Some(id) = &keys.identity {
        s.decryption = Some(Decryption::Identities(read_identities(id).map_err(|e| anyhow!(e))?));
    }
    if s.encryption.is_none()
        && let Ok(p) = std::env::var("FERRY_PASSPHRASE")
    {
        let pass = age::secrecy::SecretString::from(p);
        s.encryption = Some(Encryption::Passphrase(pass.clone()));
        s.decryption.get_or_insert(Decryption::Passphrase(pass));
    }
    Ok(s)
}

async fn open_store(data_dir: &Path) -> Result<Arc<SqliteStore>> {
    Ok(Arc::new(SqliteStore::open(data_dir).await.with_context(|| format!("cannot open the job store in {}", data_dir.display()))?))
}

async fn transfer(cli: &Cli, data_dir: &Path, from: &str, to: &str, opts: &TransferOpts) -> Result<u8> {
    let source = normalize(from)?;
    let destination = normalize(to)?;
    let src = ferry_connectors::find(&Endpoint::parse(&source).unwrap().scheme).map_err(|e| anyhow!(e))?;
    let dst = ferry_connectors::find(&Endpoint::parse(&destination).unwrap().scheme).map_err(|e| anyhow!(e))?;
    validate::endpoints(&Endpoint::parse(&source).map_err(usage)?, &Endpoint::parse(&destination).map_err(usage)?)?;
    let wanted: Vec<Vertical> =
        if opts.only.is_empty() { Vertical::ALL.to_vec() } else { Vertical::parse_list(&opts.only.join(",")).map_err(usage)? };
    let verticals: Vec<Vertical> =
        wanted.iter().copied().filter(|v| src.capabilities.exports.contains(v) && dst.capabilities.imports.contains(v)).collect();
    if verticals.is_empty() {
        return Err(usage(format!(
            "{} cannot export, or {} cannot import, any of: {}; choose others with --only",
            src.capabilities.name,
            dst.capabilities.name,
            wanted.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    if opts.incremental && dst.capabilities.written_whole {
        return Err(usage(
            "--incremental does not apply to a package destination: a package is always written whole \
                (use it with folder and server destinations)",
        ));
    }
    let store = open_store(data_dir).await?;
    let job = store
        .create_job(&JobSpec {
            source,
            destination,
            verticals,
            options: JobOptions { dry_run: opts.dry_run, incremental: opts.incremental },
        })
        .await?;
    let _lock = lock_job(data_dir, &job.id)?;
    if !cli.quiet && !cli.json {
        eprintln!("ferry: job {} ({} -> {})", job.id, job.spec.source, job.spec.destination);
    }
    execute(cli, data_dir, store, &job, settings(data_dir, &opts.keys)?, &opts.conn, opts.concurrency).await
}

/// The first line of a passphrase or password file.
fn read_first_line(path: &Path, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} file {}", path.display()))?;
    let line = text.lines().next().unwrap_or("").to_owned();
    if line.is_empty() {
        bail!("{what} file {} is empty", path.display());
    }
    Ok(line)
}

/// The password for one side: its own file or variable, the shared ones, or a prompt.
fn password(
    uri: &Endpoint,
    side: &str,
    own: Option<&PathBuf>,
    conn: &ConnOpts,
    stored: Option<ferry_connectors::Secret>,
) -> Result<Option<ferry_connectors::Secret>> {
    let spec = ferry_connectors::find(&uri.scheme).map_err(|e| anyhow!(e))?;
    if spec.capabilities.auth != ferry_core::AuthKind::Password {
        return Ok(None);
    }
    let var = if side == "source" { "FERRY_FROM_PASSWORD" } else { "FERRY_TO_PASSWORD" };
    let pw = if let Some(f) = own {
        read_first_line(f, "password")?
    } else if let Ok(p) = std::env::var(var) {
        p
    } else if let Some(f) = &conn.password_file {
        read_first_line(f, "password")?
    } else if let Ok(p) = std::env::var("FERRY_PASSWORD") {
        p
    } else if let Some(p) = stored {
        return Ok(Some(p));
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for the {side} ({uri}): ")).context("cannot read the password")?
    } else {
        bail!(
            "the {side} {uri} needs a password: give --{}password-file FILE or set {var}",
            if side == "source" { "from-" } else { "to-" }
        );
    };
    Ok(Some(ferry_connectors::Secret(pw)))
}

/// A credential sealed in the job store for `ferry resume`, if there is one.
async fn stored_secret(store: &SqliteStore, key: &SecretKey, job: &str, name: &str) -> Result<Option<ferry_connectors::Secret>> {
    let Some((nonce, ct)) = store.secret(job, name).await? else { return Ok(None) };
    let plain = key.open(&nonce, &ct, &format!("{job}/{name}"))?;
    Ok(Some(ferry_connectors::Secret(String::from_utf8_lossy(&plain).into_owned())))
}

async fn remember_secret(
    store: &SqliteStore,
    key: &SecretKey,
    job: &str,
    name: &str,
    secret: &Option<ferry_connectors::Secret>,
) -> Result<()> {
    if let Some(s) = secret {
        let (nonce, ct) = key.seal(s.0.as_bytes(), &format!("{job}/{name}"));
        store.put_secret(job, name, &nonce, &ct).await?;
    }
    Ok(())
}

async fn execute(
    cli: &Cli,
    data_dir: &Path,
    store: Arc<SqliteStore>,
    job: &Job,
    settings: Settings,
    conn: &ConnOpts,
    concurrency: Option<usize>,
) -> Result<u8> {
    let src = Endpoint::parse(&job.spec.source).map_err(|e| anyhow!(e))?;
    let dst = Endpoint::parse(&job.spec.destination).map_err(|e| anyhow!(e))?;
    let settings = Settings {
        insecure: conn.insecure,
        ca_file: conn.ca_file.clone(),
        allow_private_network: conn.allow_private_network,
        connections: conn.connections,
        job_id: job.id.clone(),
        ..settings
    };
    if dst.scheme == "package" && !job.spec.options.dry_run {
        // a package target that is not this job's to write is refused before any work
        let cfg = ferry_connectors::package::PackageConfig::from_endpoint(&dst).map_err(|e| anyhow!("{e}"))?;
        ferry_package::PackageWriter::check_target(&cfg.path, &job.id).map_err(|e| anyhow!("{}", safe(&e.to_string())))?;
    }
    let key = SecretKey::load(data_dir)?;
    let stored_src = stored_secret(&store, &key, &job.id, "source_password").await?;
    let stored_dst = stored_secret(&store, &key, &job.id, "destination_password").await?;
    let src_settings =
        Settings { password: password(&src, "source", conn.from_password_file.as_ref(), conn, stored_src)?, ..settings.clone() };
    let dst_settings = Settings { password: password(&dst, "destination", conn.to_password_file.as_ref(), conn, stored_dst)?, ..settings };
    // kept sealed until the job ends, so that `ferry resume` needs no password again
    remember_secret(&store, &key, &job.id, "source_password", &src_settings.password).await?;
    remember_secret(&store, &key, &job.id, "destination_password", &dst_settings.password).await?;
    let exporter = ferry_connectors::open_exporter(&src, &src_settings).map_err(|e| anyhow!("{}: {e}", job.spec.source))?;
    let importer =
        ferry_connectors::open_importer(&dst, &dst_settings, &job.spec.source).map_err(|e| anyhow!("{}: {e}", job.spec.destination))?;
    let mut engine = Engine::new(store.clone() as Arc<dyn JobStore>);
    // items in flight; each connector bounds its own connections (--connections) beneath
    let declared = ferry_connectors::find(&dst.scheme).ok().map(|s| s.capabilities);
    engine.concurrency = concurrency.unwrap_or(declared.map_or(4, |c| c.max_concurrency)).clamp(1, 64);
    engine.ledger = !declared.is_some_and(|c| c.written_whole);
    let console = Console::new(cli.quiet || cli.json);
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nferry: stopping after the items in flight (Ctrl-C again to quit at once)");
            c.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(EXIT_INTERRUPTED as i32);
            }
        }
    });
    let result = engine.run(job, exporter.as_ref(), importer.as_ref(), &console, &cancel).await;
    console.done();
    if store.job(&job.id).await?.state.is_final() {
        store.delete_secrets(&job.id).await?;
    }
    let report = match result {
        Ok(r) => r,
        Err(EngineError::Fatal(reason)) => {
            let report = store.report(&job.id).await?;
            emit_report(cli, &report, job);
            eprintln!("ferry: job {} failed: {}\nferry: fix the cause, then run `ferry resume {}`", job.id, safe(&reason), job.id);
            return Ok(EXIT_FAILED);
        }
        Err(e) => return Err(e.into()),
    };
    emit_report(cli, &report, job);
    Ok(match report.state {
        Some(JobState::Completed) => EXIT_OK,
        Some(JobState::CompletedWithErrors) => EXIT_ITEM_ERRORS,
        Some(JobState::Paused) => {
            eprintln!("ferry: job {} interrupted; run `ferry resume {}` to finish it", job.id, job.id);
            EXIT_INTERRUPTED
        }
        _ => EXIT_FAILED,
    })
}

fn emit_report(cli: &Cli, report: &ferry_store::Report, job: &Job) {
    if cli.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"job": job.id, "source": job.spec.source, "destination": job.spec.destination, "report": report})
            )
            .expect("json")
        );
    } else if !cli.quiet {
        print_report(report, &job.spec.source, &job.spec.destination);
    }
}

/// Takes the job's lock: one process at a time runs a job (a second one is told who holds it).
fn lock_job(data_dir: &Path, id: &str) -> Result<ferry_store::lock::HeldLock> {
    ferry_store::lock::job_lock(data_dir, id).map_err(|e| match e {
        ferry_store::lock::LockError::Held { what, holder } => {
            anyhow!("{what} is being run by {holder}; wait for it to end, or stop it (Ctrl-C) and run `ferry resume {id}`")
        }
        e => anyhow!(e),
    })
}

async fn resume(cli: &Cli, data_dir: &Path, id: &str, keys: &KeyOpts, conn: &ConnOpts, concurrency: Option<usize>) -> Result<u8> {
    let store = open_store(data_dir).await?;
    store.job(id).await?;
    // the lock first, then the state: what another process did before it let go is seen
    let _lock = lock_job(data_dir, id)?;
    let job = store.job(id).await?;
    if job.state.is_final() {
        if !cli.quiet {
            eprintln!("ferry: job {id} already ended ({}); nothing to resume", job.state);
        }
        emit_report(cli, &store.report(id).await?, &job);
        return Ok(if job.state == JobState::Completed { EXIT_OK } else { EXIT_ITEM_ERRORS });
    }
    if !cli.quiet && !cli.json {
        eprintln!("ferry: resuming job {id} ({} -> {})", job.spec.source, job.spec.destination);
    }
    execute(cli, data_dir, store, &job, settings(data_dir, keys)?, conn, concurrency).await
}

async fn jobs(cli: &Cli, data_dir: &Path, id: Option<&str>, limit: u32) -> Result<u8> {
    let store = open_store(data_dir).await?;
    if let Some(id) = id {
        let job = store.job(id).await?;
        let report = store.report(id).await?;
        emit_report(cli, &report, &job);
        return Ok(EXIT_OK);
    }
    let list = store.jobs(limit).await?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(EXIT_OK);
    }
    if list.is_empty() {
        println!("No jobs yet.");
    }
    for j in list {
        println!(
            "{}  {:<22} {}  {} -> {}",
            j.id,
            j.state.as_str(),
            j.created_at.format("%Y-%m-%d %H:%M"),
            j.spec.source,
            j.spec.destination
        );
    }
    Ok(EXIT_OK)
}

async fn open_package(data_dir: &Path, package: &Path, keys: &KeyOpts) -> Result<PackageReader> {
    let s = settings(data_dir, keys)?;
    let package: PathBuf = package.to_owned();
    tokio::task::spawn_blocking(move || PackageReader::open(&package, s.decryption.as_ref(), &s.temp_dir, s.unpack_limits))
        .await?
        .map_err(|e| anyhow!("{e}"))
}

async fn verify(cli: &Cli, data_dir: &Path, package: &Path, keys: &KeyOpts) -> Result<u8> {
    let reader = match open_package(data_dir, package, keys).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ferry: {} is not a valid package: {}", safe(&package.display().to_string()), safe(&format!("{e:#}")));
            return Ok(EXIT_VERIFY);
        }
    };
    let report = tokio::task::spawn_blocking(move || ferry_package::verify(&reader)).await?.map_err(|e| anyhow!("{e}"))?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.problems {
            println!("FAIL {}", safe(p));
        }
        println!(
            "{}: {} files ({} bytes) and {} records checked: {}",
            safe(&package.display().to_string()),
            report.files_checked,
            report.bytes_checked,
            report.items_checked.values().sum::<u64>(),
            if report.ok() { "OK".to_owned() } else { format!("{} problem(s)", report.problems.len()) }
        );
    }
    Ok(if report.ok() { EXIT_OK } else { EXIT_VERIFY })
}

async fn inspect(cli: &Cli, data_dir: &Path, package: &Path, keys: &KeyOpts) -> Result<u8> {
    let reader = open_package(data_dir, package, keys).await.map_err(|e| anyhow!("{}", safe(&format!("{e:#}"))))?;
    let m = reader.manifest();
    if cli.json {
        let files: u64 = m.files.len() as u64;
        let bytes: u64 = m.files.iter().map(|f| f.size).sum();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"format": m.format, "version": m.version, "created": m.created, "generator": m.generator, "source": m.source, "verticals": m.verticals, "files": files, "bytes": bytes})
            )?
        );
        return Ok(EXIT_OK);
    }
    // everything from the package is escaped: a hostile one must not drive the terminal
    println!("{} ({} v{}, {:?})", safe(&package.display().to_string()), safe(&m.format), m.version, Form::of(package));
    println!("  created   {} by {}", m.created.format("%Y-%m-%d %H:%M:%S UTC"), safe(&m.generator));
    println!("  source    {}", safe(&m.source));
    println!("  files     {} ({} bytes)", m.files.len(), m.files.iter().map(|f| f.size).sum::<u64>());
    for (v, s) in &m.verticals {
        println!("  {:<9} {:>7} items in {}", safe(v), s.items, safe(&s.containers.join(", ")));
    }
    Ok(EXIT_OK)
}

fn connectors(cli: &Cli) -> Result<u8> {
    let all: Vec<_> = ferry_connectors::all().iter().map(|s| s.capabilities).collect();
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(EXIT_OK);
    }
    println!("{:<10} {:<12} {:<8} {:<11} exports / imports", "connector", "schemes", "auth", "incremental");
    for c in all {
        let list = |vs: &[Vertical]| vs.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(",");
        println!(
            "{:<10} {:<12} {:<8} {:<11} {} / {}",
            c.name,
            c.schemes.join(","),
            serde_json::to_value(c.auth)?.as_str().unwrap_or(""),
            if c.incremental { "yes" } else { "no" },
            list(c.exports),
            list(c.imports)
        );
        println!("{:<10} {}", "", c.description);
    }
    Ok(EXIT_OK)
}
