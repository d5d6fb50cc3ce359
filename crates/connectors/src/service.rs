//! What the connectors of service APIs (Google, Microsoft) share: their address,
//! `SCHEME://ACCOUNT[?api=URL]` (the account a label; `api` one origin standing in for the
//! service's API hosts, for tests and compatible gateways), and their token set's scopes.

use crate::Settings;
use ferry_core::{ConnectorError, Credential, Endpoint};

#[derive(Debug, Clone)]
pub struct ServiceAddress {
    pub account: String,
    pub api: Option<String>,
    /// The scopes the token set was granted, when it says.
    pub scopes: Vec<String>,
}

impl ServiceAddress {
    /// Reads the address; `service` names it in messages ("Google").
    pub fn parse(e: &Endpoint, settings: &Settings, service: &str) -> Result<ServiceAddress, ConnectorError> {
        let rest = e.rest.strip_prefix("//").unwrap_or(&e.rest);
        let (account, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut api = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("api", v)) => api = Some(crate::dav::percent_decode(v).trim_end_matches('/').to_owned()),
                _ => return Err(ConnectorError::Fatal(format!("{e}: unknown option `{pair}` (known: api=URL)"))),
            }
        }
        if let Some(a) = &api {
            let url = reqwest::Url::parse(a).map_err(|err| ConnectorError::Fatal(format!("{e}: api={a}: {err}")))?;
            if url.scheme() != "https" && !(url.scheme() == "http" && settings.insecure) {
                return Err(ConnectorError::Fatal(format!("{e}: api={a} is not HTTPS; give --insecure if you must")));
            }
            crate::http::check_url(&url, settings)?;
        }
        let scopes = match settings.credential.credential() {
            Credential::Bearer(t) => t.scopes.clone(),
            Credential::None => {
                return Err(ConnectorError::Fatal(format!(
                    "{e}: needs a {service} account: `ferry connect {}`, or --from-token-file / --to-token-file",
                    e.scheme
                )));
            }
            _ => return Err(ConnectorError::Fatal(format!("{e}: {service} takes an OAuth 2.0 token set, not a password or key"))),
        };
        Ok(ServiceAddress { account: account.trim_matches('/').to_owned(), api, scopes })
    }

    /// Refuses a token set granted without any of `needed`, when it lists its scopes (they
    /// may be written short, `Contacts.Read`, or as URLs).
    pub fn require(&self, needed: &[&str], what: &str) -> Result<(), ConnectorError> {
        let granted = |n: &str| {
            self.scopes
                .iter()
                .any(|s| s.eq_ignore_ascii_case(n) || s.to_ascii_lowercase().ends_with(&format!("/{}", n.to_ascii_lowercase())))
        };
        if self.scopes.is_empty() || needed.iter().any(|n| granted(n)) {
            return Ok(());
        }
        Err(ConnectorError::Fatal(format!(
            "{what} needs the scope {}; the account was connected with {}: connect it again with that scope, or ask only for what it was granted (--only)",
            needed[0],
            self.scopes.join(" ")
        )))
    }
}

/// Refuses a link a service gave (a next page, a delta link) that is not on `api`'s
/// origin: the account's token would go along. `service` names it in the message.
pub fn own_link(api: &str, url: &str, service: &str) -> Result<(), ConnectorError> {
    let ours = reqwest::Url::parse(api).map(|u| u.origin());
    let theirs = reqwest::Url::parse(url).map(|u| u.origin());
    match (ours, theirs) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        _ => Err(ConnectorError::Fatal(format!("{service} gave a link to {url}, not on {api}: not followed"))),
    }
}
