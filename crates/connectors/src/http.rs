//! The HTTP client for server connectors: rustls with ferry's TLS settings, and a DNS
//! resolver that applies the private-network guard to every connection it makes.

use crate::{Settings, net};
use ferry_core::ConnectorError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::time::Duration;

struct Guarded(Settings);

/// The resolver's refusal, found again in reqwest's error chain.
#[derive(Debug)]
struct Refused(ConnectorError);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let settings = self.0.clone();
        Box::pin(async move {
            let addrs = net::resolve(name.as_str(), 0, &settings)
                .await
                .map_err(|e| Box::new(Refused(e)) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

pub fn client(settings: &Settings) -> Result<reqwest::Client, ConnectorError> {
    let tls = (*net::tls_config(settings)?).clone();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .dns_resolver(std::sync::Arc::new(Guarded(settings.clone())))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(settings.connections.clamp(1, 64))
        .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectorError::Fatal(format!("cannot set up HTTP: {e}")))
}

/// Maps an HTTP failure: 429, 423 (locked) and 5xx are retried (after Retry-After when given), 401 and
/// 403 stop the job, other 4xx fail the item.
pub fn status_error(what: &str, resp: &reqwest::Response) -> ConnectorError {
    let status = resp.status();
    let msg = format!("{what}: the server answered {status}");
    if status.as_u16() == 429 || status.as_u16() == 423 || status.is_server_error() {
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        ConnectorError::Transient { message: msg, retry_after }
    } else if status.as_u16() == 401 || status.as_u16() == 403 {
        ConnectorError::Fatal(format!("{msg} (check the user name and password)"))
    } else {
        ConnectorError::Item(msg)
    }
}

pub fn request_error(what: &str, e: reqwest::Error) -> ConnectorError {
    // reqwest's own message leaves out the cause ("error decoding response body"): add it
    let mut msg = format!("{what}: {e}");
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
    while let Some(c) = cause {
        // the guard's refusal (or a name that does not resolve) is not worth retrying
        if let Some(Refused(inner)) = c.downcast_ref::<Refused>() {
            return ConnectorError::Fatal(format!("{what}: {inner}"));
        }
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    // a connection lost while the answer's body is read is a "decode" error to reqwest
    // (ferry asks for no content decoding, so that is all a decode error can be)
    if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode() {
        ConnectorError::transient(msg)
    } else {
        ConnectorError::Item(msg)
    }
}
