use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// ferry moves your data (contacts, calendars, tasks, mail, photos, files) from one
/// place to another and proves that nothing was lost.
#[derive(Parser)]
#[command(name = "ferry", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Where ferry keeps its job store [default: $FERRY_DATA_DIR, else the user data directory]
    #[arg(long, global = true, env = "FERRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The job store: a PostgreSQL URL (postgres://user:password@host:port/database) that a
    /// fleet of workers shares, or a directory for the SQLite store [default: the SQLite
    /// store in the data directory]
    #[arg(long, global = true, env = "FERRY_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Print machine-readable JSON on standard output
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress output
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

pub const EXIT_CODES: &str = "Exit codes:
  0  done: every item transferred, or the package verified
  1  failed: the job stopped (the reason is printed); `ferry resume JOB` continues it.
     Also: the job is run by another process, or this one lost the job's lease to
     another worker
  2  usage error
  3  done with errors: some items could not be transferred (listed in the report)
  4  the package failed verification
  5  interrupted (Ctrl-C), or paused until a spent request quota comes back (the
     reason says when); `ferry resume JOB` finishes it";

#[derive(Subcommand)]
pub enum Command {
    /// Move data from one place to another
    Transfer {
        /// Source URI, such as dir:./old or package:backup.zip
        #[arg(long)]
        from: String,
        /// Destination URI, such as dir:./new or package:export.zip
        #[arg(long)]
        to: String,
        #[command(flatten)]
        opts: TransferOpts,
    },
    /// Export a source into a package (`ferry transfer --to package:PACKAGE`)
    Export {
        /// Source URI
        source: String,
        /// Package to write: NAME.zip, NAME.age (encrypted) or a directory
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        opts: TransferOpts,
    },
    /// Import a package into a destination (`ferry transfer --from package:PACKAGE`)
    Import {
        /// Package to read
        package: PathBuf,
        /// Destination URI
        #[arg(long)]
        to: String,
        #[command(flatten)]
        opts: TransferOpts,
    },
    /// Check every file and record of a package against its manifest and hashes
    Verify {
        package: PathBuf,
        #[command(flatten)]
        keys: KeyOpts,
    },
    /// Summarize a package
    Inspect {
        package: PathBuf,
        #[command(flatten)]
        keys: KeyOpts,
    },
    /// List jobs, or show one with its report
    Jobs {
        /// Job id
        job: Option<String>,
        /// How many jobs to list
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Continue an interrupted or failed job
    Resume {
        job: String,
        #[command(flatten)]
        keys: KeyOpts,
        #[command(flatten)]
        conn: ConnOpts,
        /// Items transferred at once [default: what the destination connector declares]
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// End a job for good: it will not be resumed, and its kept passwords are forgotten.
    /// A job that another process or worker runs is asked to stop, and ends cancelled
    Cancel { job: String },
    /// Run queued jobs (`transfer --detach`) from the job store until stopped: SIGTERM or
    /// Ctrl-C pauses the jobs it runs after their items in flight and queues them again
    Worker {
        /// Jobs run at once
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
        #[command(flatten)]
        keys: KeyOpts,
        #[command(flatten)]
        net: NetOpts,
    },
    /// List connectors and what each can do
    Connectors,
    /// Serve the web app and the HTTP API, and run jobs (see docs/server.md)
    Serve(ServeOpts),
    /// Connect an account through OAuth 2.0 (a browser, and a redirect to this machine)
    Connect {
        /// The provider, as the configuration file names it
        provider: String,
        /// The file with the `[providers.NAME]` tables [env: FERRY_CONFIG]
        #[arg(long)]
        config: Option<PathBuf>,
        /// What the account will be: `source` (read) or `destination` (write)
        #[arg(long = "for", default_value = "source")]
        role: String,
        /// Print the link only; do not open a browser
        #[arg(long)]
        no_browser: bool,
        /// Use the device authorization grant (RFC 8628): a code to enter on any device,
        /// nothing to receive on this machine
        #[arg(long)]
        device: bool,
        #[command(flatten)]
        net: NetOpts,
    },
    /// List connected accounts, or remove one (its tokens are revoked)
    Accounts {
        #[command(subcommand)]
        action: Option<AccountsAction>,
        #[command(flatten)]
        net: NetOpts,
    },
    /// A company's register of portability and access requests (GDPR Articles 15 and 20,
    /// UK GDPR, CCPA): deadlines, identity, review, delivery, refusal, audit log
    Requests {
        #[command(subcommand)]
        what: crate::requests::RequestsCommand,
    },
    /// Operators' tools
    Admin {
        #[command(subcommand)]
        what: AdminCommand,
    },
}

#[derive(Args, Clone, Default)]
pub struct ServeOpts {
    /// Address and port to listen on [default: 127.0.0.1:8080]
    #[arg(long)]
    pub listen: Option<String>,
    /// Configuration file (TOML); environment variables FERRY_SERVE_* and these options
    /// override it
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Jobs this process runs at once (0: leave them to `ferry worker`) [default: 2]
    #[arg(long)]
    pub workers: Option<usize>,
    /// A folder below which people may read and write with the dir connector
    #[arg(long)]
    pub files_root: Option<PathBuf>,
    /// Where people reach the service, behind a proxy (https://ferry.example.org)
    #[arg(long)]
    pub public_url: Option<String>,
    /// Allow sources and destinations on loopback, private and link-local addresses
    #[arg(long)]
    pub allow_private_network: bool,
    /// Trust these CA certificates (PEM) too, such as an in-house server's
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Log lines as JSON objects
    #[arg(long)]
    pub log_json: bool,
}

#[derive(Subcommand, Clone)]
pub enum AccountsAction {
    /// Forget an account, revoking its tokens at the provider
    Remove { id: String },
}

#[derive(Subcommand, Clone)]
pub enum AdminCommand {
    /// API tokens for the server's API (`Authorization: Bearer TOKEN`)
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Subcommand, Clone)]
pub enum TokenAction {
    /// Make a token; it is printed once and kept only as its hash
    Create {
        /// What it is for (shown in the list)
        name: String,
    },
    /// List tokens (never the tokens themselves)
    List,
    /// Revoke a token by its id: it is refused from then on
    Revoke { id: String },
}

#[derive(Args, Clone)]
pub struct TransferOpts {
    /// Only these verticals (comma-separated): contacts, calendar, tasks, mail, media, files
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Read everything and report what would be transferred, writing nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Skip items that an earlier job of the same source and destination transferred and
    /// that have not changed since
    #[arg(long)]
    pub incremental: bool,
    /// Items transferred at once [default: what the destination connector declares]
    #[arg(long)]
    pub concurrency: Option<usize>,
    #[command(flatten)]
    pub keys: KeyOpts,
    #[command(flatten)]
    pub conn: ConnOpts,
    /// Create the job and queue it for `ferry worker`, running nothing: prints the job's
    /// id. Passwords are kept sealed with it; keys and network choices are the worker's
    #[arg(long)]
    pub detach: bool,
}

/// How to reach servers.
#[derive(Args, Clone, Default)]
pub struct ConnOpts {
    /// File whose first line is the password for the source and destination servers
    /// [env: FERRY_PASSWORD; asked on a terminal when needed]
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Password file for the source only [env: FERRY_FROM_PASSWORD]
    #[arg(long)]
    pub from_password_file: Option<PathBuf>,
    /// Password file for the destination only [env: FERRY_TO_PASSWORD]
    #[arg(long)]
    pub to_password_file: Option<PathBuf>,
    /// OAuth 2.0 token set (JSON) for the source server, refreshed as needed (see
    /// docs/credentials.md)
    #[arg(long, env = "FERRY_FROM_TOKEN_FILE")]
    pub from_token_file: Option<PathBuf>,
    /// OAuth 2.0 token set (JSON) for the destination server
    #[arg(long, env = "FERRY_TO_TOKEN_FILE")]
    pub to_token_file: Option<PathBuf>,
    /// A connected account (`ferry connect`) for the source; the job takes its tokens
    #[arg(long)]
    pub from_account: Option<String>,
    /// A connected account (`ferry connect`) for the destination; the job takes its tokens
    #[arg(long)]
    pub to_account: Option<String>,
    #[command(flatten)]
    pub net: NetOpts,
}

/// How to reach servers, apart from passwords.
#[derive(Args, Clone, Default)]
pub struct NetOpts {
    /// Requests a second to one HTTP server, shared by every job of this process
    /// [default: 100]
    #[arg(long, env = "FERRY_REQUESTS_PER_SECOND")]
    pub requests_per_second: Option<u32>,
    /// Trust these CA certificates (PEM) too, such as a self-signed server's
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Accept any TLS certificate (dangerous: only for servers you control)
    #[arg(long)]
    pub insecure: bool,
    /// Allow servers on loopback, private and link-local addresses
    #[arg(long)]
    pub allow_private_network: bool,
    /// Connections to one server at once
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
}

#[derive(Args, Clone, Default)]
pub struct KeyOpts {
    /// File whose first line is the passphrase of an encrypted (.age) package
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Encrypt a new .age package to this age public key (repeatable)
    #[arg(long)]
    pub recipient: Vec<String>,
    /// age identity file that opens an encrypted package
    #[arg(long)]
    pub identity: Option<PathBuf>,
}
