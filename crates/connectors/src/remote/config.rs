use crate::Settings;
use crate::account::Account;
use ferry_core::{ConnectorError, Endpoint};

/// `remote://[KEYID@]HOST[:PORT]/BASE`: the service's base, below which every request of
/// the protocol goes.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// `https://host:port` (or `http://` with --insecure).
    pub origin: String,
    /// The base path, percent-encoded, starting and ending with `/`.
    pub base: String,
    /// The URI's user name: the key id of request signatures (empty with a token).
    pub user: String,
}

impl RemoteConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let plain = e.scheme == "remote+http";
        Account::require_tls(e, plain, settings)?;
        let a = Account::parse(e, settings)?;
        let base = if a.path.is_empty() { "/".to_owned() } else { crate::dav::percent_encode_path(&format!("/{}/", a.path)) };
        let origin = format!("{}://{}", if plain { "http" } else { "https" }, a.authority);
        crate::http::check_origin(&origin, settings)?;
        Ok(RemoteConfig { origin, base, user: a.user })
    }

    /// The URL of `rel` (already percent-encoded, without a leading `/`) below the base.
    pub fn url(&self, rel: &str) -> String {
        format!("{}{}{rel}", self.origin, self.base)
    }

    /// A content URL a service gave: relative to the base, or absolute on the service's own
    /// origin; anything else is refused (the credential goes to the service only).
    pub fn content_url(&self, given: &str) -> Result<String, String> {
        let base = reqwest::Url::parse(&self.url("")).map_err(|e| e.to_string())?;
        let url = base.join(given).map_err(|e| format!("content URL `{given}`: {e}"))?;
        if url.origin() != base.origin() {
            return Err(format!("content URL `{given}` is not on the service's origin {}; not fetched", self.origin));
        }
        Ok(url.to_string())
    }
}

pub use crate::http::encode_component as segment;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_urls_stay_on_the_service() {
        let c = RemoteConfig { origin: "https://svc.test".into(), base: "/a%20b/".into(), user: String::new() };
        assert_eq!(c.content_url("content/ab").unwrap(), "https://svc.test/a%20b/content/ab");
        assert_eq!(c.content_url("/other/ab").unwrap(), "https://svc.test/other/ab");
        assert_eq!(c.content_url("https://svc.test/x").unwrap(), "https://svc.test/x");
        for bad in ["https://evil.test/x", "//evil.test/x", "http://svc.test/x", "https://svc.test:444/x", "file:///etc/passwd"] {
            assert!(c.content_url(bad).is_err(), "{bad}");
        }
        assert_eq!(segment("Family/a b%.vcf"), "Family%2Fa%20b%25.vcf");
        assert_eq!(segment("ü"), "%C3%BC");
    }
}
