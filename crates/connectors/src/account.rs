//! The `//[USER@]HOST[:PORT][/PATH]` part of a server URI, read and checked once for every
//! server connector: a user name is required with a password (a token or an API key
//! needs none), a password in the URI is refused (it would end up in logs and the job
//! store), a credential must be at hand, `..` is refused.

use crate::Settings;
use crate::dav::percent_decode;
use ferry_core::{ConnectorError, Credential, Endpoint};

pub struct Account {
    /// Percent-decoded; empty when the URI names none (a token or key credential).
    pub user: String,
    /// `host` or `host:port`, as written.
    pub authority: String,
    /// Percent-decoded, without leading or trailing `/`.
    pub path: String,
}

impl Account {
    pub fn parse(e: &Endpoint, settings: &Settings) -> Result<Account, ConnectorError> {
        let scheme = &e.scheme;
        let rest = e.rest.strip_prefix("//").ok_or_else(|| ConnectorError::Fatal(format!("{e}: write it as {scheme}://user@host")))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let credential = settings.credential.credential();
        let password = matches!(credential, Credential::Password { user: None, .. });
        let (user, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (u, h),
            None if !password && !credential.is_none() => ("", authority),
            None => return Err(ConnectorError::Fatal(format!("{scheme}: needs a user name, as in {scheme}://me@{authority}"))),
        };
        if user.contains(':') {
            return Err(ConnectorError::Fatal("do not put the password in the URI; use --password-file or FERRY_PASSWORD".into()));
        }
        if host.is_empty() {
            return Err(ConnectorError::Fatal(format!("{scheme}: needs a host")));
        }
        if credential.is_none() {
            return Err(ConnectorError::Fatal(format!("{scheme}: needs a password: give --password-file FILE or set FERRY_PASSWORD")));
        }
        let path = percent_decode(path.trim_matches('/'));
        if path.split('/').any(|s| s == "..") {
            return Err(ConnectorError::Fatal(format!("{e}: `..` is not allowed in the path")));
        }
        Ok(Account { user: percent_decode(user), authority: host.to_owned(), path })
    }

    /// For `http` schemes: refused unless the user chose --insecure.
    pub fn require_tls(e: &Endpoint, plain: bool, settings: &Settings) -> Result<(), ConnectorError> {
        if plain && !settings.insecure {
            return Err(ConnectorError::Fatal(format!(
                "{}:// sends the credentials in clear text; use the HTTPS form, or give --insecure if you must",
                e.scheme
            )));
        }
        Ok(())
    }
}
