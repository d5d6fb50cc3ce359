//! The `ferry` command.

mod args;
mod commands;
mod output;
mod validate;

use args::Cli;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_env("FERRY_LOG")).with_writer(std::io::stderr).init();
    // one rustls crypto provider for the whole process, before any TLS client exists
    ferry_connectors::net::ensure_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.downcast_ref::<validate::UsageError>().is_some() => {
            eprintln!("ferry: {e:#}");
            ExitCode::from(commands::EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("ferry: error: {e:#}");
            ExitCode::from(commands::EXIT_FAILED)
        }
    }
}
