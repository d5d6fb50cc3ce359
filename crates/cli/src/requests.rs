//! `ferry requests`: a company's register of portability and access requests (GDPR
//! Articles 15 and 20, UK GDPR, CCPA), kept in `requests.db` in the data directory with
//! its hash-chained audit log. Each command is one step of a request's lifecycle
//! (docs/requests.md), written with its audit entry in one transaction.

use crate::args::Cli;
use crate::output::safe;
use crate::usage::usage;
use anyhow::{Context, Result, anyhow};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use ferry_requests::audit::Head;
use ferry_requests::lifecycle::{Identity, Request, Transition};
use ferry_requests::map::IdentityKind;
use ferry_requests::register::{self, Register, RegisterError, today, view};
use ferry_requests::{Regime, RequestKind};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Clone)]
pub enum RequestsCommand {
    /// Record a request just received; prints its id and due date
    New {
        /// The law it is made under: gdpr, uk-gdpr, ccpa, or the id of a regime added
        /// with --regime-file
        #[arg(long, default_value = "gdpr")]
        regime: String,
        /// A regime of the company's own (TOML, docs/requests.md), kept in the data
        /// directory for the request's later steps
        #[arg(long, value_name = "FILE")]
        regime_file: Option<PathBuf>,
        /// portability, access, or both (when it is unclear which the person means)
        #[arg(long, default_value = "both")]
        kind: String,
        #[command(flatten)]
        who: Who,
        /// The day it was received [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        received: Option<NaiveDate>,
        #[command(flatten)]
        by: Actor,
    },
    /// Open requests by deadline, with days left (`--all`: closed ones too)
    List {
        #[arg(long)]
        all: bool,
    },
    /// A request and its history
    Show { id: String },
    /// Start checking who the person is, or record that their identity is confirmed: by
    /// staff (`--how`), or by a one-time code sent by email (`--send-code`, then `--code`)
    Verify {
        id: String,
        /// How it was confirmed ("signed in to the account", "ID card seen at the desk");
        /// without it (and without a code), the request only starts verifying
        #[arg(long, conflicts_with_all = ["send_code", "code"])]
        how: Option<String>,
        /// Send a one-time code to the person's address (the request's email identity, or --to)
        #[arg(long, conflicts_with = "code")]
        send_code: bool,
        /// The code the person gave back
        #[arg(long)]
        code: Option<String>,
        /// Where the code goes when the request names the person otherwise
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
        /// The company's SMTP server (docs/requests.md)
        #[arg(long, env = "FERRY_SMTP_URL", value_name = "URL")]
        smtp: Option<String>,
        /// The sender of the code
        #[arg(long, env = "FERRY_SMTP_FROM", value_name = "ADDRESS")]
        from: Option<String>,
        /// The company's name, in the message
        #[arg(long, env = "FERRY_COMPANY", default_value = "us")]
        company: String,
        /// The day it was confirmed [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<NaiveDate>,
        #[command(flatten)]
        by: Actor,
    },
    /// Extend the deadline, with the reason the person is told
    Extend {
        id: String,
        /// By this many months (GDPR, UK GDPR)
        #[arg(long, conflicts_with = "days")]
        months: Option<u32>,
        /// By this many days (CCPA)
        #[arg(long)]
        days: Option<u32>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        by: Actor,
    },
    /// Draw up the answer from the company's databases (one package per part of the
    /// request), sealed with age if asked; the request is then ready for review
    Answer {
        id: String,
        /// The dataset map (docs/dataset-map.md)
        #[arg(long)]
        map: PathBuf,
        /// Folder to write the packages into (made; it must not exist)
        #[arg(short, long)]
        output: PathBuf,
        /// Seal each package for the person with a passphrase read from this file (given
        /// to them through another channel)
        #[arg(long, value_name = "FILE", conflicts_with = "recipient")]
        passphrase_file: Option<PathBuf>,
        /// Seal each package for the person's age public key (age1...)
        #[arg(long, value_name = "AGE_KEY")]
        recipient: Vec<String>,
        /// The day the answer is drawn up as of [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
        #[command(flatten)]
        by: Actor,
    },
    /// The answer is ready for a reviewer; `--send-back REASON` returns it to the work
    Review {
        id: String,
        #[arg(long, value_name = "REASON")]
        send_back: Option<String>,
        #[command(flatten)]
        by: Actor,
    },
    /// The answer was delivered
    Deliver {
        id: String,
        #[command(flatten)]
        by: Actor,
    },
    /// Refuse it, for a documented reason (not_in_scope, identity_not_verified,
    /// manifestly_unfounded, excessive, rights_of_others, no_data_held, legal_exemption)
    Refuse {
        id: String,
        #[arg(long)]
        reason: String,
        /// The company's own words on why
        #[arg(long, default_value = "")]
        details: String,
        #[command(flatten)]
        by: Actor,
    },
    /// The person withdrew it
    Withdraw {
        id: String,
        #[command(flatten)]
        by: Actor,
    },
    /// The audit log, checked: every entry as JSON lines (`--json`) or a table
    Audit {
        /// The head last seen (SEQ:HASH), kept apart from the log: a log cut short fails
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<String>,
    },
    /// Check a dataset map against the live databases it names (docs/dataset-map.md)
    CheckMap { map: PathBuf },
}

/// The person's identity, as the request names it (one of these).
#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
pub struct Who {
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    customer_id: Option<String>,
    #[arg(long)]
    account_id: Option<String>,
    #[arg(long)]
    username: Option<String>,
}

/// Who does the step, for the audit log.
#[derive(Args, Clone)]
pub struct Actor {
    /// Who does this, for the audit log [default: $USER]
    #[arg(long = "by", value_name = "NAME")]
    name: Option<String>,
}

impl Actor {
    fn name(&self) -> String {
        self.name.clone().or_else(|| std::env::var("USER").ok()).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "staff".into())
    }
}

impl Who {
    fn identity(&self) -> Result<Identity> {
        let (kind, value) = [
            (IdentityKind::Email, &self.email),
            (IdentityKind::Phone, &self.phone),
            (IdentityKind::CustomerId, &self.customer_id),
            (IdentityKind::AccountId, &self.account_id),
            (IdentityKind::Username, &self.username),
        ]
        .into_iter()
        .find_map(|(k, v)| v.as_ref().map(|v| (k, v.trim().to_owned())))
        .ok_or_else(|| usage("name the person: --email, --phone, --customer-id, --account-id or --username"))?;
        Ok(Identity { kind, value, verified: None })
    }
}

/// A register error as the command line reports it: the asker's mistakes are usage errors.
fn err(e: RegisterError) -> anyhow::Error {
    match e {
        RegisterError::Store(e) => anyhow!("{e}"),
        RegisterError::Unavailable(e) => anyhow!("{e}"),
        other => usage(other.to_string()),
    }
}

pub async fn run(cli: &Cli, data_dir: &Path, what: &RequestsCommand) -> Result<u8> {
    if let RequestsCommand::CheckMap { map } = what {
        return check_map(cli, map).await;
    }
    let reg = Register::open(data_dir).await.map_err(err)?;
    let store = &reg.store;
    match what {
        RequestsCommand::New { regime: id, regime_file, kind, who, received, by } => {
            let regime = match regime_file {
                Some(f) => add_regime(&reg, f)?,
                None => reg.regime(id).map_err(err)?,
            };
            let kind: RequestKind = kind.parse().map_err(|_| usage(format!("--kind `{kind}`: portability, access or both")))?;
            let request = reg.new_request(&regime, kind, who.identity()?, received.unwrap_or_else(today), &by.name()).await.map_err(err)?;
            print_request(cli, &request, &regime, None)?;
        }
        RequestsCommand::List { all } => list(cli, &reg, *all).await?,
        RequestsCommand::Show { id } => {
            let request = reg.find(id).await.map_err(err)?;
            let history = store.history(id).await.map_err(|e| anyhow!("{e}"))?;
            print_request(cli, &request, &reg.regime(&request.regime).map_err(err)?, Some(&history))?;
        }
        RequestsCommand::Verify { id, how, on, by, send_code, code, to, smtp, from, company } => {
            if *send_code {
                return send(cli, &reg, id, to.as_deref(), smtp.as_deref(), from.as_deref(), company, by).await;
            }
            if let Some(code) = code {
                return answer_code(cli, &reg, id, code, by).await;
            }
            // confirmed (signed in, seen at the desk): on to the work
            step(cli, &reg, id, by, |r, _| match how {
                Some(how) => r.identity_confirmed(how, on.unwrap_or_else(today)),
                None => r.verify_identity(),
            })
            .await?
        }
        RequestsCommand::Answer { id, map, output, passphrase_file, recipient, as_of, by } => {
            return answer(cli, &reg, id, map, output, passphrase_file.as_deref(), recipient, *as_of, by).await;
        }
        RequestsCommand::Extend { id, months, days, reason, by } => {
            let by_period = register::period(*months, *days).map_err(err)?;
            step(cli, &reg, id, by, |r, g| r.extend(g, by_period, reason, today())).await?
        }
        RequestsCommand::Review { id, send_back, by } => {
            step(cli, &reg, id, by, |r, _| match send_back {
                Some(why) => r.send_back(why),
                None => r.ready_for_review(),
            })
            .await?
        }
        RequestsCommand::Deliver { id, by } => step(cli, &reg, id, by, |r, _| r.deliver(today())).await?,
        RequestsCommand::Refuse { id, reason, details, by } => {
            let why = register::refusal_reason(reason).map_err(err)?;
            step(cli, &reg, id, by, |r, g| r.refuse(g, why, details, today())).await?
        }
        RequestsCommand::Withdraw { id, by } => step(cli, &reg, id, by, |r, _| r.withdraw(today())).await?,
        RequestsCommand::Audit { head } => return audit(cli, store, head.as_deref()).await,
        RequestsCommand::CheckMap { .. } => unreachable!("handled above"),
    }
    Ok(crate::commands::EXIT_OK)
}

/// Sends a one-time code to the person and starts verifying (audited: to where, not the code).
#[allow(clippy::too_many_arguments)]
async fn send(
    cli: &Cli,
    reg: &Register,
    id: &str,
    to: Option<&str>,
    smtp: Option<&str>,
    from: Option<&str>,
    company: &str,
    by: &Actor,
) -> Result<u8> {
    let smtp = smtp.ok_or_else(|| usage("the SMTP server: --smtp URL or FERRY_SMTP_URL"))?;
    let from = from.ok_or_else(|| usage("the sender: --from ADDRESS or FERRY_SMTP_FROM"))?;
    let mail = register::Mail { smtp: smtp.to_owned(), from: from.to_owned(), company: company.to_owned() };
    let (request, expires) = reg.send_code(id, to, &mail, &by.name()).await.map_err(err)?;
    let regime = reg.regime(&request.regime).map_err(err)?;
    if !cli.json {
        eprintln!("A code was sent (good until {} UTC).", expires.format("%H:%M"));
    }
    print_request(cli, &request, &regime, None)?;
    Ok(crate::commands::EXIT_OK)
}

/// Checks the code the person gave back: the identity is confirmed, or the answer is
/// refused (wrong, expired, or too many wrong answers), each audited.
async fn answer_code(cli: &Cli, reg: &Register, id: &str, code: &str, by: &Actor) -> Result<u8> {
    let request = reg.answer_code(id, code, &by.name()).await.map_err(err)?;
    print_request(cli, &request, &reg.regime(&request.regime).map_err(err)?, None)?;
    Ok(crate::commands::EXIT_OK)
}

/// Draws up the answer: a package per part of the request, from the company's databases.
#[allow(clippy::too_many_arguments)]
async fn answer(
    cli: &Cli,
    reg: &Register,
    id: &str,
    map_path: &Path,
    output: &Path,
    passphrase_file: Option<&Path>,
    recipients: &[String],
    as_of: Option<NaiveDate>,
    by: &Actor,
) -> Result<u8> {
    use ferry_requests::response::Encryption;
    let map = ferry_requests::map::load(map_path).map_err(|e| usage(format!("{}: {e}", map_path.display())))?;
    let encryption = match (passphrase_file, recipients.is_empty()) {
        (Some(f), _) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            let pass = text.trim_end_matches(['\r', '\n']).to_owned();
            if pass.chars().count() < 12 {
                return Err(usage("the passphrase is shorter than 12 characters"));
            }
            Some(Encryption::Passphrase(pass.into()))
        }
        (None, false) => Some(Encryption::Recipients(
            recipients
                .iter()
                .map(|r| r.parse::<age::x25519::Recipient>().map_err(|e| usage(format!("--recipient {r}: {e}"))))
                .collect::<Result<_>>()?,
        )),
        (None, true) => None,
    };
    let (request, regime, made) = reg.draw_up(id, &map, output, encryption.as_ref(), as_of, &by.name()).await.map_err(err)?;
    if cli.json {
        let mut v = view(&request, &regime);
        v["packages"] = serde_json::to_value(&made)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_request(cli, &request, &regime, None)?;
        for m in &made {
            println!(
                "  {:<12} {} rows in {} tables, {} columns left out, {} withheld, {} rows withheld: {}",
                m.part.as_str(),
                m.rows,
                m.tables,
                m.left_out,
                m.withheld,
                m.rows_withheld,
                safe(&m.path.display().to_string())
            );
        }
    }
    Ok(crate::commands::EXIT_OK)
}

/// Checks a company's own regime file and keeps it for the request's later steps.
fn add_regime(reg: &Register, file: &Path) -> Result<Regime> {
    let regime = Regime::load(file).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    if Regime::builtin(&regime.id).is_ok() {
        return Err(usage(format!("the regime id `{}` is built in; give the company's own regime another id", regime.id)));
    }
    let dir = reg.regimes_dir();
    std::fs::create_dir_all(dir)?;
    let kept = dir.join(format!("{}.toml", regime.id));
    let text = std::fs::read(file)?;
    match std::fs::read(&kept) {
        Ok(old) if old == text => {}
        Ok(_) => return Err(usage(format!("a different regime `{}` is kept already ({})", regime.id, kept.display()))),
        Err(_) => {
            // made new, never through a link, never over another file
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&kept)?;
            f.write_all(&text)?;
            f.sync_all()?;
        }
    }
    Ok(regime)
}

/// One step of a request's lifecycle, recorded with its audit entry, then shown.
async fn step(
    cli: &Cli,
    reg: &Register,
    id: &str,
    by: &Actor,
    go: impl FnOnce(&mut Request, &Regime) -> Result<Transition, ferry_requests::lifecycle::LifecycleError>,
) -> Result<()> {
    let (request, regime) = reg.step(id, &by.name(), go).await.map_err(err)?;
    print_request(cli, &request, &regime, None)
}

fn print_request(cli: &Cli, request: &Request, regime: &Regime, history: Option<&[ferry_requests::audit::Entry]>) -> Result<()> {
    let mut v = view(request, regime);
    if let Some(h) = history {
        v["history"] = serde_json::to_value(h)?;
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("Request {}  {} ({})", request.id, request.state, regime.id);
    println!("  kind      {}", request.kind.as_str());
    println!("  person    {} {}", request.identity.kind.as_str(), safe(&request.identity.value));
    if let Some(vf) = &request.identity.verified {
        println!("  verified  {} ({})", vf.on, safe(&vf.how));
    }
    println!("  received  {}", request.received);
    if let Some(d) = v.get("deadline") {
        let left = d["days_left"].as_i64().map(|n| format!(", {n} days left")).unwrap_or_default();
        let risk = if d["overdue"] == true {
            "  OVERDUE"
        } else if d["at_risk"] == true {
            "  AT RISK"
        } else {
            ""
        };
        println!("  due       {}{left}{risk}", d["due"].as_str().unwrap_or_default());
    }
    if let Some(dup) = &request.duplicate_of {
        println!("  repeats   {dup} (the same person's open request: answer them together)");
    }
    for e in &request.extensions {
        println!("  extended  by {} on {}: {}", e.by, e.on, safe(&e.reason));
    }
    if let Some(r) = &request.refusal {
        println!("  refused   {}: {}\n            {}", r.reason.describe(), safe(&r.details), safe(&r.complaint));
    }
    for e in history.into_iter().flatten() {
        println!(
            "  {:>4}  {}  {:<12} {}{}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M:%S"),
            safe(&e.actor),
            e.action,
            e.reason.as_deref().map(|r| format!(": {}", safe(r))).unwrap_or_default()
        );
    }
    Ok(())
}

async fn list(cli: &Cli, reg: &Register, all: bool) -> Result<()> {
    let rows = reg.list(all).await.map_err(err)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("No {}requests.", if all { "" } else { "open " });
        return Ok(());
    }
    println!("{:<15} {:<8} {:<12} {:<19} {:<10} {:<10} {:>5}", "id", "regime", "kind", "state", "received", "due", "left");
    for v in &rows {
        let d = &v["deadline"];
        let left = d["days_left"].as_i64().map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let flag = if d["overdue"] == true {
            "  OVERDUE"
        } else if d["at_risk"] == true {
            "  AT RISK"
        } else {
            ""
        };
        println!(
            "{:<15} {:<8} {:<12} {:<19} {:<10} {:<10} {:>5}{flag}",
            v["id"].as_str().unwrap_or_default(),
            v["regime"].as_str().unwrap_or_default(),
            v["kind"].as_str().unwrap_or_default(),
            v["state"].as_str().unwrap_or_default(),
            v["received"].as_str().unwrap_or_default(),
            d["due"].as_str().unwrap_or("-"),
            left
        );
    }
    Ok(())
}

async fn audit(cli: &Cli, store: &ferry_requests::store::SqliteRequests, head: Option<&str>) -> Result<u8> {
    let known = match head {
        Some(h) => {
            let (seq, hash) = h.split_once(':').ok_or_else(|| usage("--head SEQ:HASH"))?;
            Some(Head { seq: seq.parse().map_err(|_| usage("--head SEQ:HASH: SEQ is a number"))?, hash: hash.to_owned() })
        }
        None => None,
    };
    let entries = store.entries().await.map_err(|e| anyhow!("{e}"))?;
    let checked = store.verify(known.as_ref()).await;
    if cli.json {
        for e in &entries {
            println!("{}", serde_json::to_string(e)?);
        }
    } else {
        for e in &entries {
            println!(
                "{:>5}  {}  {:<15} {:<12} {}{}",
                e.seq,
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.request,
                safe(&e.actor),
                e.action,
                e.reason.as_deref().map(|r| format!(": {}", safe(r))).unwrap_or_default()
            );
        }
    }
    match checked {
        Ok(Some(h)) => {
            eprintln!("The audit log is intact: {} entries, head {}:{} (keep it apart from the log)", entries.len(), h.seq, h.hash);
            Ok(crate::commands::EXIT_OK)
        }
        Ok(None) => {
            eprintln!("The audit log is empty.");
            Ok(crate::commands::EXIT_OK)
        }
        Err(e) => {
            eprintln!("ferry: THE AUDIT LOG FAILED ITS CHECK: {e}");
            Ok(crate::commands::EXIT_VERIFY)
        }
    }
}

async fn check_map(cli: &Cli, path: &Path) -> Result<u8> {
    let map = ferry_requests::map::load(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let mut problems = ferry_requests::map::validate(&map);
    problems.extend(ferry_requests::check::check_map(&map).await);
    if cli.json {
        let list: Vec<_> =
            problems.iter().map(|p| json!({"database": p.database, "table": p.table, "column": p.column, "message": p.message})).collect();
        println!("{}", serde_json::to_string_pretty(&json!({"problems": list}))?);
    } else if problems.is_empty() {
        println!("The map matches its databases: every table and column is there, and every column ferry searches is indexed.");
    } else {
        for p in &problems {
            println!("{p}");
        }
    }
    Ok(if problems.is_empty() { crate::commands::EXIT_OK } else { crate::commands::EXIT_VERIFY })
}
