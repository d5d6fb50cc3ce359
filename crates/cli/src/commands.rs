use crate::args::{Cli, Command, ConnOpts, KeyOpts, NetOpts, TransferOpts};
use crate::output::{Console, print_report, safe};
use crate::usage::usage;
use anyhow::{Context, Result, anyhow, bail};
use ferry_app::{AppError, CancellationToken, Cancelled, Finished, JobService, RunOptions, Side, TransferRequest, WorkerEvent};
use ferry_connectors::{Credential, Secret, Settings};
use ferry_core::Vertical;
use ferry_package::crypt::{Decryption, Encryption, parse_recipient, read_identities};
use ferry_package::{Form, PackageReader};
use ferry_store::{Job, JobOptions, JobState};
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
        Command::Cancel { ref job } => cancel(&cli, &data_dir, job).await,
        Command::Worker { jobs, ref keys, ref net } => worker(&cli, &data_dir, jobs.into(), keys, net).await,
        Command::Connectors => connectors(&cli),
        Command::Serve(ref opts) => crate::serve::serve(&cli, &data_dir, opts).await,
        Command::Admin { ref what } => crate::serve::admin(&cli, &data_dir, what).await,
        Command::Requests { ref what } => crate::requests::run(&cli, &data_dir, what).await,
        Command::Connect { ref provider, ref config, ref role, no_browser, device, ref net } => {
            let net = net_settings(&data_dir, &KeyOpts::default(), net)?;
            let how = if device { crate::accounts::How::Device } else { crate::accounts::How::Browser { open: !no_browser } };
            crate::accounts::connect(&cli, &data_dir, provider, config.as_ref(), role, how, net).await
        }
        Command::Accounts { ref action, ref net } => {
            let net = net_settings(&data_dir, &KeyOpts::default(), net)?;
            let remove = action.as_ref().map(|crate::args::AccountsAction::Remove { id }| id.as_str());
            crate::accounts::accounts(&cli, &data_dir, remove, net).await
        }
    }
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

/// The job service over the store of `--database` (else the data directory's), its leases
/// lasting `FERRY_LEASE_SECONDS` when that is set.
pub async fn service(cli: &Cli, data_dir: &Path) -> Result<JobService> {
    let mut service = JobService::open(cli.database.as_deref().unwrap_or(""), data_dir).await.map_err(app_error)?;
    if let Ok(v) = std::env::var("FERRY_LEASE_SECONDS") {
        match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => service.set_lease_ttl(std::time::Duration::from_secs(n)),
            _ => return Err(usage(format!("FERRY_LEASE_SECONDS must be a whole number of seconds, 1 or more (not `{}`)", safe(&v)))),
        }
    }
    Ok(service)
}

async fn open_service(cli: &Cli, data_dir: &Path) -> Result<Arc<JobService>> {
    Ok(Arc::new(service(cli, data_dir).await?))
}

/// Keys and connection choices from the command line: what a run hands its connectors.
fn net_settings(data_dir: &Path, keys: &KeyOpts, net: &NetOpts) -> Result<Settings> {
    Ok(Settings {
        insecure: net.insecure,
        ca_file: net.ca_file.clone(),
        allow_private_network: net.allow_private_network,
        connections: net.connections,
        requests_per_second: net.requests_per_second.unwrap_or(0),
        ..settings(data_dir, keys)?
    })
}

/// How this run is to go: keys and connection choices from the command line, and the
/// credentials given: token files, else passwords in files or variables (asked for
/// later, on a terminal, if still needed).
fn run_options(data_dir: &Path, keys: &KeyOpts, conn: &ConnOpts, concurrency: Option<usize>) -> Result<RunOptions> {
    if conn.net.requests_per_second == Some(0) {
        return Err(usage("--requests-per-second must be at least 1"));
    }
    Ok(RunOptions {
        concurrency,
        settings: net_settings(data_dir, keys, &conn.net)?,
        source_credential: given_credential(Side::Source, conn)?,
        destination_credential: given_credential(Side::Destination, conn)?,
    })
}

/// A side's credential: its token file, else its password.
fn given_credential(side: Side, conn: &ConnOpts) -> Result<Option<Credential>> {
    let tokens = match side {
        Side::Source => &conn.from_token_file,
        Side::Destination => &conn.to_token_file,
    };
    if let Some(f) = tokens {
        let text = Secret(std::fs::read_to_string(f).with_context(|| format!("cannot read token file {}", f.display()))?);
        let set = ferry_core::TokenSet::from_json(text.expose(), chrono::Utc::now())
            .map_err(|e| usage(format!("token file {}: {e}", f.display())))?;
        return Ok(Some(Credential::Bearer(set)));
    }
    Ok(given_password(side, conn)?.map(|secret| Credential::Password { user: None, secret }))
}

/// A service error as the command shows it: the request's faults are usage errors
/// (exit 2), and whatever came from a package or server is escaped.
fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::MissingPassword { side, uri } => {
            let (flag, var) = password_flag(side);
            usage(format!("the {side} {} needs a password: give --{flag} FILE or set {var}", safe(&uri)))
        }
        AppError::Busy { job, holder } => {
            anyhow!("job {job} is being run by {}; wait for it to end, or stop that process and run `ferry resume {job}`", safe(&holder))
        }
        e if e.is_usage() => usage(safe(&e.to_string())),
        e => anyhow!("{}", safe(&e.to_string())),
    }
}

fn password_flag(side: Side) -> (&'static str, &'static str) {
    match side {
        Side::Source => ("from-password-file", "FERRY_FROM_PASSWORD"),
        Side::Destination => ("to-password-file", "FERRY_TO_PASSWORD"),
    }
}

async fn transfer(cli: &Cli, data_dir: &Path, from: &str, to: &str, opts: &TransferOpts) -> Result<u8> {
    let only = if opts.only.is_empty() { Vec::new() } else { ferry_verticals::parse_list(&opts.only.join(",")).map_err(usage)? };
    let req = TransferRequest {
        source: from.to_owned(),
        destination: to.to_owned(),
        only,
        options: JobOptions { dry_run: opts.dry_run, incremental: opts.incremental },
        owner: None,
    };
    if opts.detach {
        refuse_with_detach(opts)?;
    }
    let mut run = run_options(data_dir, &opts.keys, &opts.conn, opts.concurrency)?;
    let service = open_service(cli, data_dir).await?;
    let accounts = crate::accounts::apply(&service, data_dir, &opts.conn, &mut run).await?;
    // the request is checked whole, asking on a terminal for the passwords still missing
    loop {
        match ferry_app::plan(&req, &run) {
            Err(AppError::MissingPassword { side, uri }) if std::io::stdin().is_terminal() => {
                prompt_password(&mut run, side, &uri)?;
            }
            Err(e) => return Err(app_error(e)),
            Ok(_) => break,
        }
    }
    if opts.detach {
        let job = service.submit(&req, &run).await.map_err(app_error)?;
        crate::accounts::consumed(&service, &accounts).await;
        if cli.json {
            let out =
                serde_json::json!({"job": job.id, "state": job.state, "source": job.spec.source, "destination": job.spec.destination});
            println!("{}", serde_json::to_string_pretty(&out)?);
        } else {
            println!("{}", job.id);
            if !cli.quiet {
                eprintln!(
                    "ferry: job {} queued ({} -> {}); a `ferry worker` on this job store runs it (`ferry jobs {}` shows it)",
                    job.id,
                    safe(&job.spec.source),
                    safe(&job.spec.destination),
                    job.id
                );
            }
        }
        return Ok(EXIT_OK);
    }
    let job = service.create(&req, &run).await.map_err(app_error)?;
    crate::accounts::consumed(&service, &accounts).await;
    if !cli.quiet && !cli.json {
        eprintln!("ferry: job {} ({} -> {})", job.id, job.spec.source, job.spec.destination);
    }
    execute(cli, &service, &job.id, run).await
}

/// What a detached job cannot keep: choices of this run that a worker makes with its own.
fn refuse_with_detach(opts: &TransferOpts) -> Result<()> {
    let given = [
        (opts.concurrency.is_some(), "--concurrency"),
        (opts.keys.passphrase_file.is_some(), "--passphrase-file"),
        (!opts.keys.recipient.is_empty(), "--recipient"),
        (opts.keys.identity.is_some(), "--identity"),
        (opts.conn.net.ca_file.is_some(), "--ca-file"),
        (opts.conn.net.insecure, "--insecure"),
        (opts.conn.net.allow_private_network, "--allow-private-network"),
    ];
    if let Some((_, flag)) = given.iter().find(|(on, _)| *on) {
        return Err(usage(format!(
            "{flag} is not kept with a detached job: the worker that runs it uses its own (give it to `ferry worker`)"
        )));
    }
    Ok(())
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

/// The password given for one side: its own file or variable, else the shared ones.
fn given_password(side: Side, conn: &ConnOpts) -> Result<Option<Secret>> {
    let (own, var) = match side {
        Side::Source => (&conn.from_password_file, "FERRY_FROM_PASSWORD"),
        Side::Destination => (&conn.to_password_file, "FERRY_TO_PASSWORD"),
    };
    let pw = if let Some(f) = own {
        read_first_line(f, "password")?
    } else if let Ok(p) = std::env::var(var) {
        p
    } else if let Some(f) = &conn.password_file {
        read_first_line(f, "password")?
    } else if let Ok(p) = std::env::var("FERRY_PASSWORD") {
        p
    } else {
        return Ok(None);
    };
    Ok(Some(Secret(pw)))
}

fn prompt_password(run: &mut RunOptions, side: Side, uri: &str) -> Result<()> {
    let pw = rpassword::prompt_password(format!("Password for the {side} ({}): ", safe(uri))).context("cannot read the password")?;
    *run.credential_mut(side) = Some(Credential::Password { user: None, secret: Secret(pw) });
    Ok(())
}

/// Runs a job through the service, showing its progress, and says how it ended.
async fn execute(cli: &Cli, service: &Arc<JobService>, id: &str, run: RunOptions) -> Result<u8> {
    let console = Console::new(cli.quiet || cli.json);
    let (s, job_id) = (service.clone(), id.to_owned());
    let signals = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nferry: stopping after the items in flight (Ctrl-C again to quit at once)");
            s.pause(&job_id);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(EXIT_INTERRUPTED as i32);
            }
        }
    });
    let result = service.run(id, run, &console).await;
    console.done();
    signals.abort();
    let Finished { job, report, already_ended } = result.map_err(app_error)?;
    if already_ended {
        if !cli.quiet {
            eprintln!("ferry: job {id} already ended ({}); nothing to resume", job.state);
        }
        emit_report(cli, &report, &job);
        return Ok(match job.state {
            JobState::Completed => EXIT_OK,
            JobState::Cancelled => EXIT_INTERRUPTED,
            _ => EXIT_ITEM_ERRORS,
        });
    }
    emit_report(cli, &report, &job);
    Ok(match job.state {
        JobState::Completed => EXIT_OK,
        JobState::CompletedWithErrors => EXIT_ITEM_ERRORS,
        JobState::Paused => {
            match job.reason.as_deref() {
                // a spent request quota says until when
                Some(r) if !r.starts_with("interrupted") => eprintln!("ferry: job {id} paused: {}", safe(r)),
                _ => eprintln!("ferry: job {id} interrupted; run `ferry resume {id}` to finish it"),
            }
            EXIT_INTERRUPTED
        }
        JobState::Cancelled => {
            eprintln!("ferry: job {id} cancelled");
            EXIT_INTERRUPTED
        }
        JobState::Failed => {
            let reason = job.reason.as_deref().unwrap_or("no reason was recorded");
            eprintln!("ferry: job {id} failed: {}\nferry: fix the cause, then run `ferry resume {id}`", safe(reason));
            EXIT_FAILED
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

async fn resume(cli: &Cli, data_dir: &Path, id: &str, keys: &KeyOpts, conn: &ConnOpts, concurrency: Option<usize>) -> Result<u8> {
    let service = open_service(cli, data_dir).await?;
    let job = service.job(id).await.map_err(app_error)?;
    let mut run = run_options(data_dir, keys, conn, concurrency)?;
    if std::io::stdin().is_terminal() && !job.state.is_final() {
        for side in service.missing_passwords(&job).await.map_err(app_error)? {
            if run.credential(side).is_none() {
                let uri = if side == Side::Source { &job.spec.source } else { &job.spec.destination };
                prompt_password(&mut run, side, uri)?;
            }
        }
    }
    if !cli.quiet && !cli.json && !job.state.is_final() {
        eprintln!("ferry: resuming job {id} ({} -> {})", job.spec.source, job.spec.destination);
    }
    execute(cli, &service, id, run).await
}

async fn cancel(cli: &Cli, data_dir: &Path, id: &str) -> Result<u8> {
    let service = open_service(cli, data_dir).await?;
    let done = service.cancel(id).await.map_err(app_error)?;
    if !cli.quiet {
        match done {
            Cancelled::Now | Cancelled::Stopping => eprintln!("ferry: job {id} cancelled"),
            Cancelled::Requested { holder } => eprintln!(
                "ferry: job {id} is being run by {}: asked it to cancel; it stops after the items in flight and ends cancelled",
                safe(&holder)
            ),
        }
    }
    Ok(EXIT_OK)
}

/// `ferry worker`: runs queued jobs until SIGTERM or Ctrl-C, then pauses the ones it runs
/// after their items in flight, queues them again for the next worker, and exits 0. A
/// second signal ends it at once (its leases expire, and other workers take its jobs).
async fn worker(cli: &Cli, data_dir: &Path, jobs: usize, keys: &KeyOpts, net: &NetOpts) -> Result<u8> {
    let run = RunOptions { settings: net_settings(data_dir, keys, net)?, ..Default::default() };
    let mut service = service(cli, data_dir).await?;
    service.set_worker_name(format!("ferry worker {} on {}", std::process::id(), ferry_store::lock::hostname()));
    let service = Arc::new(service);
    let stop = CancellationToken::new();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let (quiet, json) = (cli.quiet, cli.json);
    let signals = tokio::spawn({
        let stop = stop.clone();
        async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            if !quiet {
                eprintln!(
                    "ferry worker: stopping: the jobs running here pause after their items in flight and are queued again (signal again to quit at once)"
                );
            }
            stop.cancel();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    });
    if !quiet {
        eprintln!(
            "ferry worker: {} runs up to {jobs} job(s) at once (leases of {} s)",
            service.worker_name(),
            service.lease_ttl().as_secs()
        );
    }
    let tell = Arc::new(move |e: WorkerEvent| worker_event(&e, quiet, json));
    service.work(jobs, run, stop, tell).await;
    signals.abort();
    if !quiet {
        eprintln!("ferry worker: stopped");
    }
    Ok(EXIT_OK)
}

/// A worker's log: a line on standard error for each event (unless --quiet), and with
/// --json a JSON object per line on standard output.
fn worker_event(e: &WorkerEvent, quiet: bool, json: bool) {
    let (line, value) = match e {
        WorkerEvent::Took(job) => (
            format!("job {} taken ({} -> {})", job.id, safe(&job.spec.source), safe(&job.spec.destination)),
            serde_json::json!({"event": "took", "job": job.id}),
        ),
        WorkerEvent::Ended(done) => {
            let t = done.report.totals();
            let why = done.job.reason.as_deref().map(|r| format!(": {}", safe(r))).unwrap_or_default();
            (
                format!(
                    "job {} {}{why} ({} found, {} transferred, {} already present, {} failed)",
                    done.job.id, done.job.state, t.found, t.transferred, t.already_present, t.failed
                ),
                serde_json::json!({"event": "ended", "job": done.job.id, "state": done.job.state, "reason": done.job.reason, "report": done.report}),
            )
        }
        WorkerEvent::Stopped { job, error } => (
            format!("job {job}: {}", safe(&error.to_string())),
            serde_json::json!({"event": "stopped", "job": job, "error": error.to_string(), "lease_lost": matches!(error, AppError::LeaseLost(_))}),
        ),
        WorkerEvent::StoreFailed(error) => (
            format!("cannot take a job from the store (trying again): {}", safe(&error.to_string())),
            serde_json::json!({"event": "store_failed", "error": error.to_string()}),
        ),
        WorkerEvent::Stopping { running } => {
            (format!("{running} job(s) pausing, to be queued again"), serde_json::json!({"event": "stopping", "running": running}))
        }
    };
    if !quiet {
        eprintln!("ferry worker: {line}");
    }
    if json {
        println!("{value}");
    }
}

async fn jobs(cli: &Cli, data_dir: &Path, id: Option<&str>, limit: u32) -> Result<u8> {
    let service = open_service(cli, data_dir).await?;
    if let Some(id) = id {
        let job = service.job(id).await.map_err(app_error)?;
        let report = service.report(id).await.map_err(app_error)?;
        emit_report(cli, &report, &job);
        return Ok(EXIT_OK);
    }
    let list = service.jobs(limit).await.map_err(app_error)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(EXIT_OK);
    }
    if list.is_empty() {
        println!("No jobs yet.");
    }
    for j in list {
        let held = match (&j.worker, j.state) {
            (Some(w), JobState::Running) => format!("  [{}]", safe(w)),
            _ => String::new(),
        };
        println!(
            "{}  {:<22} {}  {} -> {}{held}",
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
