use crate::Settings;
use ferry_core::{ConnectorError, Credential, Endpoint};

/// `google://[ACCOUNT][?api=URL]`: the account (a label, such as its address) and, for tests
/// and Google-compatible gateways, one origin that stands in for every Google API host.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub account: String,
    /// Overrides `https://people.googleapis.com` (and the other API hosts).
    pub api: Option<String>,
    /// The scopes the token set was granted, when it says.
    pub scopes: Vec<String>,
}

pub const PEOPLE: &str = "https://people.googleapis.com";
pub const CONTACTS_READ: &str = "https://www.googleapis.com/auth/contacts.readonly";
pub const CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
pub const TASKS_API: &str = "https://tasks.googleapis.com";
pub const TASKS_READ: &str = "https://www.googleapis.com/auth/tasks.readonly";
pub const TASKS: &str = "https://www.googleapis.com/auth/tasks";

impl GoogleConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
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
                    "{e}: needs a Google account: `ferry connect google`, or --from-token-file / --to-token-file"
                )));
            }
            _ => return Err(ConnectorError::Fatal(format!("{e}: Google takes an OAuth 2.0 token set, not a password or key"))),
        };
        Ok(GoogleConfig { account: account.trim_matches('/').to_owned(), api, scopes })
    }

    /// The URL of `path` on the People API.
    pub fn people(&self, path: &str) -> String {
        format!("{}{path}", self.api.as_deref().unwrap_or(PEOPLE))
    }

    /// The URL of `path` on the Tasks API.
    pub fn tasks(&self, path: &str) -> String {
        format!("{}{path}", self.api.as_deref().unwrap_or(TASKS_API))
    }

    /// Refuses a token set granted without any of `needed` (when it lists its scopes).
    pub fn require(&self, needed: &[&str], what: &str) -> Result<(), ConnectorError> {
        if self.scopes.is_empty() || needed.iter().any(|n| self.scopes.iter().any(|s| s == n)) {
            return Ok(());
        }
        Err(ConnectorError::Fatal(format!(
            "{what} needs the scope {}; the account was connected with {}: connect it again with that scope, or ask only for what it was granted (--only)",
            needed[0],
            self.scopes.join(" ")
        )))
    }
}
