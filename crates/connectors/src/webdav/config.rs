use crate::Settings;
use ferry_core::{ConnectorError, Endpoint};

/// `webdavs://USER@HOST[:PORT]/PATH`: the folder at PATH is the root of the transfer.
#[derive(Debug, Clone)]
pub struct WebDavConfig {
    /// `https://host:port` (or `http://` with --insecure).
    pub origin: String,
    /// The root folder's path, starting and ending with `/` (not percent-encoded).
    pub base: String,
    pub user: String,
    pub password: String,
}

impl WebDavConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let scheme = if e.scheme == "webdavs" { "https" } else { "http" };
        if scheme == "http" && !settings.insecure {
            return Err(ConnectorError::Fatal("webdav:// sends the password in clear text; use webdavs:// (HTTPS), or give --insecure if you must".into()));
        }
        let rest = e.rest.strip_prefix("//").ok_or_else(|| ConnectorError::Fatal(format!("{e}: write it as {}://user@host/path", e.scheme)))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, host) = authority
            .rsplit_once('@')
            .ok_or_else(|| ConnectorError::Fatal(format!("{}: needs a user name, as in {}://me@{authority}/", e.scheme, e.scheme)))?;
        if user.contains(':') {
            return Err(ConnectorError::Fatal("do not put the password in the URI; use --password-file or FERRY_PASSWORD".into()));
        }
        let password = settings.password.as_ref().map(|p| p.0.clone()).ok_or_else(|| ConnectorError::Fatal(format!("{}: needs a password: give --password-file FILE or set FERRY_PASSWORD", e.scheme)))?;
        let mut base = format!("/{}", crate::dav::percent_decode(path.trim_matches('/')));
        if !base.ends_with('/') {
            base.push('/');
        }
        if base.split('/').any(|s| s == "..") {
            return Err(ConnectorError::Fatal(format!("{e}: `..` is not allowed in the path")));
        }
        Ok(WebDavConfig { origin: format!("{scheme}://{host}"), base, user: crate::dav::percent_decode(user), password })
    }

    /// URL of a path below the root (`rel` without a leading `/`).
    pub fn url(&self, rel: &str) -> String {
        format!("{}{}", self.origin, crate::dav::percent_encode_path(&format!("{}{}", self.base, rel)))
    }

    pub fn auth(&self) -> (String, String) {
        (self.user.clone(), self.password.clone())
    }
}
