use crate::Settings;
use crate::service::ServiceAddress;
use ferry_core::{ConnectorError, Endpoint};

/// `mastodon://INSTANCE[?api=URL]`: the instance's host name is the address's account
/// part (see [`ServiceAddress`]); its API is `https://INSTANCE` unless `api` names another
/// origin.
#[derive(Debug, Clone)]
pub struct MastodonConfig {
    pub address: ServiceAddress,
    pub api: String,
}

impl MastodonConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let address = ServiceAddress::parse(e, settings, "Mastodon")?;
        let host = address.account.trim().to_ascii_lowercase();
        if address.api.is_none() && (host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))) {
            return Err(ConnectorError::Fatal(format!("{e}: name the Mastodon server, `mastodon://mastodon.social`")));
        }
        let api = address.api.clone().unwrap_or_else(|| format!("https://{host}"));
        Ok(MastodonConfig { address, api })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// Whether `url` (a `Link` the server gave) is on the server's origin: the token
    /// goes along, so a link elsewhere is not followed.
    pub fn own(&self, url: &str) -> Result<(), ConnectorError> {
        crate::service::own_link(&self.api, url, "the server")
    }

    pub fn require(&self, needed: &[&str], what: &str) -> Result<(), ConnectorError> {
        self.address.require(needed, what)
    }
}
