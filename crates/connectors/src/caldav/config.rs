use super::Kind;
use crate::Settings;
use ferry_core::{ConnectorError, Endpoint};

/// `caldav://USER@HOST[:PORT][/PATH]`; PATH, when given, is where discovery starts (a
/// principal, a home set or one collection's parent).
#[derive(Debug, Clone)]
pub struct DavConfig {
    pub kind: Kind,
    pub origin: String,
    pub path: String,
    pub user: String,
    pub password: String,
}

impl DavConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings, kind: Kind) -> Result<Self, ConnectorError> {
        let http = e.scheme.ends_with("+http");
        if http && !settings.insecure {
            return Err(ConnectorError::Fatal(format!("{}:// sends the password in clear text; use {}:// (HTTPS), or give --insecure if you must", e.scheme, e.scheme.trim_end_matches("+http"))));
        }
        let rest = e.rest.strip_prefix("//").ok_or_else(|| ConnectorError::Fatal(format!("{e}: write it as {}://user@host", e.scheme)))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, host) = authority
            .rsplit_once('@')
            .ok_or_else(|| ConnectorError::Fatal(format!("{}: needs a user name, as in {}://me@{authority}", e.scheme, e.scheme)))?;
        if user.contains(':') {
            return Err(ConnectorError::Fatal("do not put the password in the URI; use --password-file or FERRY_PASSWORD".into()));
        }
        let password = settings.password.as_ref().map(|p| p.0.clone()).ok_or_else(|| ConnectorError::Fatal(format!("{}: needs a password: give --password-file FILE or set FERRY_PASSWORD", e.scheme)))?;
        let path = format!("/{}", crate::dav::percent_decode(path.trim_matches('/')));
        if path.split('/').any(|s| s == "..") {
            return Err(ConnectorError::Fatal(format!("{e}: `..` is not allowed in the path")));
        }
        Ok(DavConfig { kind, origin: format!("{}://{host}", if http { "http" } else { "https" }), path, user: crate::dav::percent_decode(user), password })
    }

    /// URL of an absolute path on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin, crate::dav::percent_encode_path(path))
    }

    pub fn auth(&self) -> (String, String) {
        (self.user.clone(), self.password.clone())
    }
}
