//! `ferry serve` and `ferry admin`: the server's command line.

use crate::args::{AdminCommand, Cli, ServeOpts, TokenAction};
use crate::commands::{EXIT_OK, service};
use crate::usage::usage;
use anyhow::{Context, Result};
use ferry_server::{ServeConfig, Server};
use std::path::Path;

/// The configuration: the file, then the environment, then the options.
fn config(opts: &ServeOpts) -> Result<ServeConfig> {
    let mut cfg = match &opts.config {
        Some(p) => ServeConfig::from_file(p).map_err(|e| usage(format!("{e:#}")))?,
        None => ServeConfig::default(),
    };
    cfg.apply_env().map_err(|e| usage(format!("FERRY_SERVE_*: {e:#}")))?;
    let given = |name: &str| -> Option<String> {
        match name {
            "listen" => opts.listen.clone(),
            "workers" => opts.workers.map(|n| n.to_string()),
            "files_root" => opts.files_root.as_ref().map(|p| p.display().to_string()),
            "public_url" => opts.public_url.clone(),
            "allow_private_network" => opts.allow_private_network.then(|| "true".into()),
            "ca_file" => opts.ca_file.as_ref().map(|p| p.display().to_string()),
            "log_json" => opts.log_json.then(|| "true".into()),
            _ => None,
        }
    };
    cfg.apply(given).map_err(|e| usage(format!("{e:#}")))?;
    Ok(cfg)
}

/// Whether `ferry serve` was asked to log JSON (read before logging starts).
pub fn wants_json_logs(opts: &ServeOpts) -> bool {
    config(opts).map(|c| c.log_json).unwrap_or(false)
}

pub async fn serve(cli: &Cli, data_dir: &Path, opts: &ServeOpts) -> Result<u8> {
    let mut cfg = config(opts)?;
    if let Some(root) = &cfg.files_root {
        anyhow::ensure!(root.is_dir(), usage(format!("files_root {} is not a folder", root.display())));
    }
    let service = service(cli, data_dir).await?;
    let listener = tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    // a port chosen by the system (`:0`) is the one people reach
    cfg.listen = addr;
    let server = Server::new(service, cfg, data_dir)?;
    let stop = server.stopper();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("ferry serve: stopping: running jobs pause after their items in flight and are queued again");
        stop.cancel();
    });
    if !cli.quiet {
        eprintln!("ferry serve: listening on http://{addr} (the web app at /, the API at /api/)");
    }
    server.serve(listener).await?;
    if !cli.quiet {
        eprintln!("ferry serve: stopped");
    }
    Ok(EXIT_OK)
}

pub async fn admin(cli: &Cli, data_dir: &Path, what: &AdminCommand) -> Result<u8> {
    let AdminCommand::Token { action } = what;
    let service = service(cli, data_dir).await?;
    let store = service.store();
    match action {
        TokenAction::Create { name } => {
            let token = ferry_server::access::new_token();
            let t = store.create_api_token(name, &ferry_server::access::token_hash(&token)).await?;
            if cli.json {
                println!("{}", serde_json::json!({"id": t.id, "name": t.name, "token": token}));
            } else {
                eprintln!("ferry: token {} ({}) made; it is shown this once:", t.id, t.name);
                println!("{token}");
            }
        }
        TokenAction::List => {
            let all = store.api_tokens().await?;
            if cli.json {
                println!("{}", serde_json::to_string(&all)?);
            } else {
                for t in all {
                    let state = t.revoked_at.map_or("active".to_owned(), |r| format!("revoked {}", r.to_rfc3339()));
                    println!("{}  {}  made {}  {state}", t.id, t.name, t.created_at.to_rfc3339());
                }
            }
        }
        TokenAction::Revoke { id } => {
            if !store.revoke_api_token(id).await? {
                return Err(usage(format!("no active token `{id}` (`ferry admin token list` shows them)")));
            }
            if !cli.quiet {
                eprintln!("ferry: token {id} revoked");
            }
        }
    }
    Ok(EXIT_OK)
}
