//! The `ferry` command.

mod accounts;
mod args;
mod commands;
mod output;
mod requests;
mod serve;
mod usage;

use args::Cli;
use clap::Parser;
use std::process::ExitCode;

/// mimalloc: ferry's items are allocated on one thread and freed on another, where glibc's
/// malloc spent about a third of the CPU time (see bench/README.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns freed memory to the system at once, not after a delay, and commits arena memory
/// only as it is used: peak RSS stays what is in use (options of mimalloc v3's
/// `mi_option_e`: 4 is `arena_eager_commit`, 15 is `purge_delay`). SQLite allocates with
/// the C library's malloc, which would give each thread that touches a database an arena of
/// its own: one arena (a Takeout's export peaked 22 MiB lower, bench/README.md).
fn tune_allocator() {
    // SAFETY: plain setters of the allocators' global options, called before any other
    // thread exists
    unsafe {
        libmimalloc_sys::mi_option_set(4, 0);
        libmimalloc_sys::mi_option_set(15, 0);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    // colours only on a terminal: a log written to a file or read by a program is plain text;
    // the server logs what it does (info) unless FERRY_LOG says otherwise, as JSON if asked
    let filter = match (&cli.command, std::env::var_os("FERRY_LOG")) {
        (args::Command::Serve(_), None) => tracing_subscriber::EnvFilter::new("info"),
        _ => tracing_subscriber::EnvFilter::from_env("FERRY_LOG"),
    };
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match &cli.command {
        args::Command::Serve(opts) if serve::wants_json_logs(opts) => logs.json().with_current_span(true).with_span_list(false).init(),
        _ => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
    // one rustls crypto provider for the whole process, before any TLS client exists
    ferry_connectors::net::ensure_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.downcast_ref::<usage::UsageError>().is_some() => {
            eprintln!("ferry: {e:#}");
            ExitCode::from(commands::EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("ferry: error: {e:#}");
            ExitCode::from(commands::EXIT_FAILED)
        }
    }
}
