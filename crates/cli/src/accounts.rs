//! `ferry connect` and `ferry accounts`: accounts connected through OAuth 2.0 from the
//! command line, with the providers of a configuration file (the `[providers.NAME]`
//! tables `ferry serve` reads). `connect` runs the authorization code flow with PKCE and
//! a loopback redirect (RFC 8252): it opens the browser where one can open and prints the
//! link in any case, then waits for the provider to send the browser back. The account's
//! token set is kept sealed in the job store until a transfer takes it
//! (`--from-account`, `--to-account`): one job uses it, refreshes it and revokes it when
//! it ends, as a job of the server does.

use crate::args::{Cli, ConnOpts};
use crate::commands::{EXIT_OK, service};
use crate::usage::usage;
use anyhow::{Context, Result, anyhow};
use ferry_app::{JobService, RunOptions, Side};
use ferry_server::ServeConfig;
use ferry_server::config::ProviderConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long `connect` waits for the browser to come back.
const WAIT: Duration = Duration::from_secs(300);

fn provider(config: Option<&PathBuf>, name: &str) -> Result<ProviderConfig> {
    let path = config
        .cloned()
        .or_else(|| std::env::var_os("FERRY_CONFIG").map(PathBuf::from))
        .ok_or_else(|| usage("give --config FILE (or FERRY_CONFIG): the file whose [providers.NAME] tables say how to connect"))?;
    let cfg = ServeConfig::from_file(&path).map_err(|e| usage(format!("{e:#}")))?;
    cfg.providers.get(name).cloned().ok_or_else(|| {
        let known: Vec<&str> = cfg.providers.keys().map(String::as_str).collect();
        usage(format!("no provider `{name}` in {}; it has: {}", path.display(), known.join(", ")))
    })
}

/// How `connect` gets the person's consent.
pub enum How {
    /// A link (opened in a browser where `open` and one can be), and a loopback redirect.
    Browser { open: bool },
    /// RFC 8628: a code to enter at the provider, from any device.
    Device,
}

pub async fn connect(
    cli: &Cli,
    data_dir: &Path,
    name: &str,
    config: Option<&PathBuf>,
    role: &str,
    how: How,
    net: ferry_connectors::Settings,
) -> Result<u8> {
    let p = provider(config, name)?;
    if role != "source" && role != "destination" {
        return Err(usage("--for is source or destination"));
    }
    let service = service(cli, data_dir).await?;
    let e = ferry_server::oauth::discover(&net, &p).await.map_err(|e| anyhow!("{}", e.body.message))?;
    let tokens = match how {
        How::Device if p.app_registration.is_some() => {
            return Err(usage(format!("{} registers ferry for each connection and has no device flow: connect without --device", p.title)));
        }
        How::Device => {
            let tell = |uri: &str, code: &str, complete: Option<&str>| {
                eprintln!("ferry connect: to connect your {} account, go to {uri} and enter the code {code}", p.title);
                if let Some(c) = complete {
                    eprintln!("ferry connect: or open {c}");
                }
            };
            ferry_server::oauth::device(&net, &p, e, role, tell).await.map_err(|e| anyhow!("{}", e.body.message))?
        }
        How::Browser { open } => browser(&p, e, role, open, &net).await?,
    };
    let account = ferry_server::oauth::new_account(data_dir, None, name, format!("{} account", p.title), tokens)
        .map_err(|e| anyhow!("{}", e.body.message))?;
    service.store().put_account(&account).await?;
    if cli.json {
        println!("{}", serde_json::json!({"account": account.id, "provider": name}));
    } else {
        println!("{}", account.id);
        if !cli.quiet {
            eprintln!("ferry connect: connected; use it with --from-account {0} or --to-account {0} (one transfer)", account.id);
        }
    }
    Ok(EXIT_OK)
}

/// The authorization code flow through a browser and a loopback redirect.
async fn browser(
    p: &ProviderConfig,
    e: ferry_server::oauth::Endpoints,
    role: &str,
    open: bool,
    net: &ferry_connectors::Settings,
) -> Result<ferry_core::TokenSet> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot listen on 127.0.0.1 for the provider's answer")?;
    let redirect = format!("http://127.0.0.1:{}/oauth/callback", listener.local_addr()?.port());
    // a server that registers each client (Mastodon): ferry, for this redirect
    let registered = ferry_server::oauth::register_app(net, p, &redirect).await.map_err(|e| anyhow!("{}", e.body.message))?;
    let p = &registered;
    let (url, state, verifier) = ferry_server::oauth::authorize_url(p, &e, &redirect, role).map_err(|e| anyhow!("{}", e.body.message))?;
    eprintln!("ferry connect: open this link to connect your {} account:\n{url}", p.title);
    let graphical = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if open && graphical {
        let _ = std::process::Command::new("xdg-open")
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    let code = tokio::time::timeout(WAIT, wait_for_code(&listener, &state))
        .await
        .map_err(|_| anyhow!("no answer from the provider within {} s; run `ferry connect` again", WAIT.as_secs()))??;
    ferry_server::oauth::exchange(net, p, e, code, verifier, &redirect).await.map_err(|e| anyhow!("{}", e.body.message))
}

/// Answers requests on the loopback listener until the provider's redirect with the
/// expected `state` comes (a favicon request or a stray visit is told to go away).
async fn wait_for_code(listener: &tokio::net::TcpListener, state: &str) -> Result<String> {
    loop {
        let (mut conn, _) = listener.accept().await?;
        let mut buf = vec![0u8; 8192];
        let mut n = 0;
        while n < buf.len() && !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
            match tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf[n..])).await {
                Ok(Ok(0)) | Err(_) => break,
                Ok(Ok(k)) => n += k,
                Ok(Err(_)) => break,
            }
        }
        let head = String::from_utf8_lossy(&buf[..n]);
        let target = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or_default();
        let query: Vec<(String, String)> = match target.split_once('?') {
            Some(("/oauth/callback", q)) => form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
            _ => {
                let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                continue;
            }
        };
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (status, page, out) = match (get("state"), get("code"), get("error")) {
            (Some(s), Some(code), None) if s == state => {
                ("200 OK", "Connected. You can close this tab and go back to ferry.", Some(Ok(code)))
            }
            (Some(s), _, Some(e)) if s == state => {
                let e: String = e.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
                (
                    "403 Forbidden",
                    "The provider did not connect the account.",
                    Some(Err(anyhow!("the provider did not connect the account ({e})"))),
                )
            }
            _ => ("400 Bad Request", "This is not the answer ferry is waiting for.", None),
        };
        let body = format!("<!doctype html><html lang=\"en\"><title>ferry</title><p>{page}</p></html>");
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(resp.as_bytes()).await;
        if let Some(out) = out {
            return out;
        }
    }
}

pub async fn accounts(cli: &Cli, data_dir: &Path, remove: Option<&str>, net: ferry_connectors::Settings) -> Result<u8> {
    let service = service(cli, data_dir).await?;
    let store = service.store();
    let Some(id) = remove else {
        let all = store.accounts(None).await?;
        if cli.json {
            println!("{}", serde_json::to_string(&all)?);
        } else if all.is_empty() {
            eprintln!("ferry: no connected accounts (`ferry connect PROVIDER` connects one)");
        } else {
            for a in all {
                println!("{}  {}  {}  connected {}", a.id, a.provider, a.label, a.created_at.to_rfc3339());
            }
        }
        return Ok(EXIT_OK);
    };
    let a = store
        .account(id)
        .await?
        .filter(|a| a.owner.is_none())
        .ok_or_else(|| usage(format!("no connected account `{id}` (`ferry accounts` lists them)")))?;
    if let Ok(ferry_connectors::Credential::Bearer(t)) = ferry_server::oauth::open_account(data_dir, &a)
        && let Err(e) = ferry_connectors::auth::revoke_with(&net, &t).await
    {
        eprintln!("ferry: the account's tokens could not be revoked at the provider ({e}); it is forgotten here all the same");
    }
    store.delete_account(id).await?;
    if !cli.quiet {
        eprintln!("ferry: account {id} removed");
    }
    Ok(EXIT_OK)
}

/// Puts the accounts named by `--from-account` and `--to-account` into `run` as the
/// sides' credentials; returns their ids, to be forgotten once a job has them.
pub async fn apply(service: &JobService, data_dir: &Path, conn: &ConnOpts, run: &mut RunOptions) -> Result<Vec<String>> {
    let mut used = Vec::new();
    for (side, id) in [(Side::Source, &conn.from_account), (Side::Destination, &conn.to_account)] {
        let Some(id) = id else { continue };
        let a = service
            .store()
            .account(id)
            .await?
            .filter(|a| a.owner.is_none())
            .ok_or_else(|| usage(format!("no connected account `{id}` (`ferry accounts` lists them; `ferry connect` makes one)")))?;
        let credential = ferry_server::oauth::open_account(data_dir, &a).map_err(|e| anyhow!("{}", e.body.message))?;
        *run.credential_mut(side) = Some(credential);
        used.push(a.id);
    }
    Ok(used)
}

/// Forgets accounts a job has taken (their tokens are the job's now).
pub async fn consumed(service: &JobService, used: &[String]) {
    for id in used {
        let _ = service.store().delete_account(id).await;
    }
}
