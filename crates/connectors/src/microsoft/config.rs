use crate::Settings;
use crate::service::ServiceAddress;
use ferry_core::{ConnectorError, Endpoint};

/// `microsoft://[ACCOUNT][?api=URL]`: see [`ServiceAddress`].
#[derive(Debug, Clone)]
pub struct MicrosoftConfig {
    pub address: ServiceAddress,
    /// Graph's origin (or what stands in for it).
    pub api: String,
}

pub const GRAPH: &str = "https://graph.microsoft.com";

impl MicrosoftConfig {
    pub fn from_endpoint(e: &Endpoint, settings: &Settings) -> Result<Self, ConnectorError> {
        let address = ServiceAddress::parse(e, settings, "Microsoft")?;
        let api = address.api.clone().unwrap_or_else(|| GRAPH.to_owned());
        Ok(MicrosoftConfig { address, api })
    }

    pub fn graph(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// Whether `url` (a next or delta link Graph gave) is on Graph's origin: a link
    /// elsewhere is not followed (the token would go along).
    pub fn own(&self, url: &str) -> Result<(), ConnectorError> {
        crate::service::own_link(&self.api, url, "Graph")
    }

    pub fn require(&self, needed: &[&str], what: &str) -> Result<(), ConnectorError> {
        self.address.require(needed, what)
    }
}
