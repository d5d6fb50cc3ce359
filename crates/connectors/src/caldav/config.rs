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
    /// The URI's user name (empty if none): HTTP Basic's, with a password.
    pub user: String,
}

impl DavConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings, kind: Kind) -> Result<Self, ConnectorError> {
        let http = e.scheme.ends_with("+http");
        crate::account::Account::require_tls(e, http, settings)?;
        let a = crate::account::Account::parse(e, settings)?;
        let origin = format!("{}://{}", if http { "http" } else { "https" }, a.authority);
        crate::http::check_origin(&origin, settings)?;
        Ok(DavConfig { kind, origin, path: format!("/{}", a.path), user: a.user })
    }

    /// URL of an absolute path on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin, crate::dav::percent_encode_path(path))
    }
}
