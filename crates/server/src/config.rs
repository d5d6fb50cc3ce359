//! How `ferry serve` is set up: a TOML file (`--config`), then environment variables
//! (`FERRY_SERVE_*`), then command-line options, each overriding the one before.
//! Every setting is documented in docs/server.md.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The address people reach the service at (`https://ferry.example.org`), when it is
    /// behind a proxy; links and OAuth redirects are made from it. Default: `http://LISTEN`.
    pub public_url: Option<String>,
    /// Jobs this process runs at once (its in-process workers); 0 leaves every job to
    /// `ferry worker` processes on the same `--database`.
    pub workers: usize,
    /// A folder on this machine under which people may read and write with the `dir`
    /// connector (their paths are taken relative to it). Unset: `dir` is not offered.
    pub files_root: Option<PathBuf>,
    /// Allow sources and destinations on loopback, private and link-local addresses (a
    /// service on the same network as the server). Off: such an address is refused, so
    /// that nobody can make the server reach into the network it runs in.
    pub allow_private_network: bool,
    /// Extra CA certificates (PEM) the connectors trust, such as an in-house server's.
    pub ca_file: Option<PathBuf>,
    /// Requests a second one client (by IP address) may make, on average; bursts of ten
    /// times as many pass.
    pub client_requests_per_second: u32,
    /// How long a person's session lasts without a visit, in hours.
    pub session_hours: u32,
    /// How long a package download link works, in minutes.
    pub link_minutes: u32,
    /// Log lines as JSON objects (one a line) instead of text.
    pub log_json: bool,
    /// Allow service addresses without TLS (`webdav://`, `caldav+http://`): only for
    /// services on a network the operator trusts.
    pub insecure_http: bool,
    /// OAuth 2.0 providers people can connect accounts of, by name.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// The controller side: answering people's portability and access requests from the
    /// company's databases (docs/requests.md). Unset: `/api/requests`, the staff and
    /// request pages, the import API and the Data Rights Protocol are not offered.
    pub requests: Option<RequestsConfig>,
}

/// How this server answers portability and access requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsConfig {
    /// The dataset map of the company's databases (docs/dataset-map.md).
    pub map: PathBuf,
    /// The company's name, as people see it on the request page and in messages.
    pub company: String,
    /// The regime a request made on the request page is under (gdpr, uk-gdpr, ccpa, or
    /// a company's own in the data directory's `regimes/`).
    #[serde(default = "default_regime")]
    pub regime: String,
    /// The SMTP server identity codes are sent through (`smtps://HOST`,
    /// `smtp://HOST?tls=required`; plain `smtp://` to loopback only), with the password
    /// in `FERRY_SMTP_PASSWORD`; and the sender's address.
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    /// Who this server is to other companies' ferry (a direct transfer's sender id).
    pub sender_id: Option<String>,
    /// Companies whose ferry may send packages here (the import API), by sender id and
    /// Ed25519 public key (base64, from their `ferry serve` start-up log).
    #[serde(default)]
    pub trusted_senders: Vec<TrustedSender>,
    /// The Data Rights Protocol: this business's id in it, the authorized agents it
    /// accepts, and the regime a `voluntary` request is answered under (unset: refused).
    pub drp_business_id: Option<String>,
    #[serde(default)]
    pub drp_agents: Vec<ferry_requests::drp::AgentEntry>,
    pub drp_voluntary_regime: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedSender {
    pub id: String,
    pub public_key: String,
}

fn default_regime() -> String {
    "gdpr".into()
}

/// An OAuth 2.0 provider: configuration, not code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Its name as people know it ("Example Cloud").
    pub title: String,
    /// The connector its accounts are used with (`webdav`, `caldav`, `carddav`).
    pub connector: String,
    /// The address of the account's data at the service, in the connector's form.
    pub address: String,
    /// The authorization server's issuer: its endpoints are read from its metadata
    /// (RFC 8414, else OpenID Connect discovery) unless given below.
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    /// RFC 7009; when known, a job's tokens are revoked when it ends.
    pub revocation_endpoint: Option<String>,
    /// RFC 8628, for `ferry connect --device`.
    pub device_authorization_endpoint: Option<String>,
    pub client_id: String,
    /// The client's secret, or a file holding it (first line); none for a public client.
    pub client_secret: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    /// Scopes to ask for: `read` (as a source) and `write` (as a destination), and per
    /// data type, `files:read`, `contacts:write`…; asked no wider than the job needs.
    #[serde(default)]
    pub scopes: BTreeMap<String, Vec<String>>,
    /// How the client authenticates at the token endpoint: `client_secret_basic` (the
    /// default) or `client_secret_post` (Microsoft's identity platform).
    pub token_endpoint_auth_method: Option<String>,
    /// Other parameters of the authorization request (`prompt = "consent"`,
    /// `access_type = "offline"`).
    #[serde(default)]
    pub extra_authorization_params: BTreeMap<String, String>,
    /// A Mastodon-style app registration endpoint (`https://INSTANCE/api/v1/apps`): each
    /// connection registers ferry there with its redirect address and gets its own
    /// `client_id` and secret (the configured `client_id` is then a placeholder).
    pub app_registration: Option<String>,
}

impl ProviderConfig {
    pub fn client_secret(&self) -> Option<String> {
        self.client_secret.clone().or_else(|| {
            let f = self.client_secret_file.as_ref()?;
            std::fs::read_to_string(f).ok()?.lines().next().map(str::to_owned)
        })
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            workers: 2,
            files_root: None,
            allow_private_network: false,
            ca_file: None,
            client_requests_per_second: 20,
            session_hours: 24 * 7,
            link_minutes: 60,
            log_json: false,
            insecure_http: false,
            providers: BTreeMap::new(),
            requests: None,
        }
    }
}

impl ServeConfig {
    /// Reads a configuration file; unknown keys are an error (a misspelt setting would
    /// otherwise be silently ignored).
    pub fn from_file(path: &Path) -> anyhow::Result<ServeConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Applies the `FERRY_SERVE_*` environment variables that are set.
    pub fn apply_env(&mut self) -> anyhow::Result<()> {
        self.apply(|name| std::env::var(format!("FERRY_SERVE_{}", name.to_ascii_uppercase())).ok())
    }

    /// Applies settings given by name (`listen`, `workers`, …) as text, from `get`.
    pub fn apply(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, v: &str) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            v.trim().parse().map_err(|e| anyhow::anyhow!("{name} = `{v}`: {e}"))
        }
        let flag = |name: &str, v: &str| -> anyhow::Result<bool> {
            match v.trim() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" | "" => Ok(false),
                other => Err(anyhow::anyhow!("{name} = `{other}`: give true or false")),
            }
        };
        if let Some(v) = get("listen") {
            self.listen = parse("listen", &v)?;
        }
        if let Some(v) = get("public_url") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("workers") {
            self.workers = parse("workers", &v)?;
        }
        if let Some(v) = get("files_root") {
            self.files_root = Some(PathBuf::from(v));
        }
        if let Some(v) = get("allow_private_network") {
            self.allow_private_network = flag("allow_private_network", &v)?;
        }
        if let Some(v) = get("ca_file") {
            self.ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("client_requests_per_second") {
            self.client_requests_per_second = parse("client_requests_per_second", &v)?;
        }
        if let Some(v) = get("session_hours") {
            self.session_hours = parse("session_hours", &v)?;
        }
        if let Some(v) = get("link_minutes") {
            self.link_minutes = parse("link_minutes", &v)?;
        }
        if let Some(v) = get("log_json") {
            self.log_json = flag("log_json", &v)?;
        }
        if let Some(v) = get("insecure_http") {
            self.insecure_http = flag("insecure_http", &v)?;
        }
        self.check()
    }

    fn check(&self) -> anyhow::Result<()> {
        for (name, p) in &self.providers {
            anyhow::ensure!(
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "provider name `{name}`: lower-case letters, digits and - only"
            );
            anyhow::ensure!(
                ferry_connectors::all().iter().any(|s| s.capabilities.name == p.connector && !s.capabilities.local),
                "provider {name}: connector `{}` is not a service connector",
                p.connector
            );
            anyhow::ensure!(
                p.issuer.is_some() || (p.authorization_endpoint.is_some() && p.token_endpoint.is_some()),
                "provider {name}: give an issuer, or the authorization and token endpoints"
            );
        }
        anyhow::ensure!(self.client_requests_per_second > 0, "client_requests_per_second must be at least 1");
        anyhow::ensure!(self.session_hours > 0, "session_hours must be at least 1");
        anyhow::ensure!(self.link_minutes > 0, "link_minutes must be at least 1");
        if let Some(u) = &self.public_url {
            anyhow::ensure!(
                u.starts_with("http://") || u.starts_with("https://"),
                "public_url must start with http:// or https:// (got `{u}`)"
            );
        }
        Ok(())
    }

    /// Where people reach the service, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_then_options() {
        let mut c: ServeConfig = toml::from_str("listen = \"127.0.0.1:9000\"\nworkers = 4\n").unwrap();
        assert_eq!(c.workers, 4);
        c.apply(|n| (n == "workers").then(|| "1".to_owned())).unwrap();
        assert_eq!((c.listen.port(), c.workers), (9000, 1));
        assert!(toml::from_str::<ServeConfig>("wrokers = 4").is_err(), "a misspelt key is refused");
        assert!(c.apply(|n| (n == "allow_private_network").then(|| "maybe".to_owned())).is_err());
        assert!(c.apply(|n| (n == "public_url").then(|| "ftp://x".to_owned())).is_err());
        assert!(c.apply(|n| (n == "listen").then(|| "nowhere".to_owned())).unwrap_err().to_string().contains("listen"));
    }
}
