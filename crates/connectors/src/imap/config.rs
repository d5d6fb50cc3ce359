use crate::Settings;
use ferry_core::{ConnectorError, Endpoint};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// imaps://: TLS from the first byte.
    Implicit,
    /// imap://: plain connection upgraded with STARTTLS before login.
    StartTls,
}

/// Where an IMAP account is: `imap[s]://USER@HOST[:PORT][/FOLDER]`. USER may be
/// percent-encoded (`me%40example.org`). With a folder, only that folder (and its
/// subfolders) is exported.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub tls: Tls,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub folder: Option<String>,
    /// How long one read or write may wait for the server (FERRY_IMAP_TIMEOUT).
    pub timeout: std::time::Duration,
    /// How long one command may take in all (FERRY_IMAP_COMMAND_TIMEOUT).
    pub command_timeout: std::time::Duration,
}

impl ImapConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let tls = if e.scheme == "imaps" { Tls::Implicit } else { Tls::StartTls };
        let a = crate::account::Account::parse(e, settings)?;
        let hostport = a.authority.as_str();
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                (h.trim_matches(['[', ']']).to_owned(), p.parse().map_err(|_| ConnectorError::Fatal(format!("bad port in {hostport}")))?)
            }
            _ => (hostport.trim_matches(['[', ']']).to_owned(), if tls == Tls::Implicit { 993 } else { 143 }),
        };
        let folder = Some(a.path).filter(|f| !f.is_empty());
        let timeout = super::timed::timeout_from_env()?;
        let command_timeout = super::timed::command_timeout_from_env()?;
        Ok(ImapConfig { tls, host, port, user: a.user, folder, timeout, command_timeout })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_uris() {
        let s = Settings {
            credential: std::sync::Arc::new(crate::auth::Provider::new(ferry_core::Credential::password("x"), None)),
            ..Default::default()
        };
        let c =
            ImapConfig::from_endpoint(&Endpoint::parse("imaps://me%40example.org@mail.example.org/Work%2FProjects").unwrap(), &s).unwrap();
        assert_eq!(
            (c.tls, c.host.as_str(), c.port, c.user.as_str(), c.folder.as_deref()),
            (Tls::Implicit, "mail.example.org", 993, "me@example.org", Some("Work/Projects"))
        );
        let c = ImapConfig::from_endpoint(&Endpoint::parse("imap://bob@127.0.0.1:1143").unwrap(), &s).unwrap();
        assert_eq!((c.tls, c.port), (Tls::StartTls, 1143));
        assert!(ImapConfig::from_endpoint(&Endpoint::parse("imap://bob:pw@host").unwrap(), &s).is_err());
        assert!(ImapConfig::from_endpoint(&Endpoint::parse("imap://host").unwrap(), &s).is_err());
        let none = Settings::default();
        assert!(
            ImapConfig::from_endpoint(&Endpoint::parse("imap://bob@host").unwrap(), &none).unwrap_err().to_string().contains("password")
        );
    }
}
