use crate::Settings;
use ferry_core::{ConnectorError, Credential, Endpoint};

/// `microsoft://[ACCOUNT][?api=URL]`: the account (a label) and, for tests and
/// Graph-compatible gateways, an origin that stands in for `https://graph.microsoft.com`.
#[derive(Debug, Clone)]
pub struct MicrosoftConfig {
    pub account: String,
    pub api: String,
    pub scopes: Vec<String>,
}

pub const GRAPH: &str = "https://graph.microsoft.com";

impl MicrosoftConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let rest = e.rest.strip_prefix("//").unwrap_or(&e.rest);
        let (account, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut api = GRAPH.to_owned();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("api", v)) => api = crate::dav::percent_decode(v).trim_end_matches('/').to_owned(),
                _ => return Err(ConnectorError::Fatal(format!("{e}: unknown option `{pair}` (known: api=URL)"))),
            }
        }
        let url = reqwest::Url::parse(&api).map_err(|err| ConnectorError::Fatal(format!("{e}: api={api}: {err}")))?;
        if url.scheme() != "https" && !(url.scheme() == "http" && settings.insecure) {
            return Err(ConnectorError::Fatal(format!("{e}: api={api} is not HTTPS; give --insecure if you must")));
        }
        crate::http::check_url(&url, settings)?;
        let scopes = match settings.credential.credential() {
            Credential::Bearer(t) => t.scopes.clone(),
            Credential::None => {
                return Err(ConnectorError::Fatal(format!(
                    "{e}: needs a Microsoft account: `ferry connect microsoft`, or --from-token-file / --to-token-file"
                )));
            }
            _ => return Err(ConnectorError::Fatal(format!("{e}: Microsoft takes an OAuth 2.0 token set, not a password or key"))),
        };
        Ok(MicrosoftConfig { account: account.trim_matches('/').to_owned(), api, scopes })
    }

    pub fn graph(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// Whether `url` (a next or delta link Graph gave) is on Graph's origin: a link
    /// elsewhere is not followed (the token would go along).
    pub fn own(&self, url: &str) -> Result<(), ConnectorError> {
        let ours = reqwest::Url::parse(&self.api).map(|u| u.origin());
        let theirs = reqwest::Url::parse(url).map(|u| u.origin());
        match (ours, theirs) {
            (Ok(a), Ok(b)) if a == b => Ok(()),
            _ => Err(ConnectorError::Fatal(format!("Graph gave a link to {url}, not on {}: not followed", self.api))),
        }
    }

    /// Refuses a token set granted without any of `needed` (Graph scopes may be written
    /// short, `Contacts.Read`, or as URLs, `https://graph.microsoft.com/Contacts.Read`).
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
