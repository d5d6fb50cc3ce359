use crate::Settings;
use ferry_core::{ConnectorError, Endpoint};

/// `webdavs://USER@HOST[:PORT]/PATH`: the folder at PATH is the root of the transfer.
#[derive(Debug, Clone)]
pub struct WebDavConfig {
    /// `https://host:port` (or `http://` with --insecure).
    pub origin: String,
    /// The root folder's path, starting and ending with `/` (not percent-encoded).
    pub base: String,
    /// The URI's user name (empty if none): HTTP Basic's, with a password.
    pub user: String,
}

impl WebDavConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let plain = e.scheme == "webdav";
        crate::account::Account::require_tls(e, plain, settings)?;
        let a = crate::account::Account::parse(e, settings)?;
        let base = if a.path.is_empty() { "/".to_owned() } else { format!("/{}/", a.path) };
        let origin = format!("{}://{}", if plain { "http" } else { "https" }, a.authority);
        crate::http::check_origin(&origin, settings)?;
        Ok(WebDavConfig { origin, base, user: a.user })
    }

    /// URL of a path below the root (`rel` without a leading `/`).
    pub fn url(&self, rel: &str) -> String {
        format!("{}{}", self.origin, crate::dav::percent_encode_path(&format!("{}{}", self.base, rel)))
    }
}
