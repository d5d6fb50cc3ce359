//! The HTTP client for server connectors: rustls with ferry's TLS settings, and the
//! private-network guard on every connection it makes: names are checked by the DNS
//! resolver, IP literals (which never reach a resolver) in the URL and in every redirect,
//! and the peer of every new connection before a byte of a request is written to it.

use crate::{Settings, net};
use ferry_core::ConnectorError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

struct Guarded(Settings);

/// The guard's refusal, found again in reqwest's error chain.
#[derive(Debug)]
struct Refused(ConnectorError);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let settings = self.0.clone();
        Box::pin(async move {
            let addrs = net::resolve(name.as_str(), 0, &settings).await.map_err(|e| Box::new(Refused(e)) as BoxError)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Refuses a URL whose host is an internal IP literal (in any of the forms the URL parser
/// reads: `127.1`, `2130706433`, `0x7f000001`, `[::ffff:127.0.0.1]`...) unless allowed.
pub fn check_url(url: &reqwest::Url, settings: &Settings) -> Result<(), ConnectorError> {
    // the parser writes every IPv4 form as a.b.c.d, and IPv6 in brackets
    let host = url.host_str().unwrap_or_default();
    match host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        Ok(ip) => check_ip(ip, host, settings),
        Err(_) => Ok(()),
    }
}

/// [`check_url`] for a connector's `scheme://host[:port]`, before anything connects (an
/// IP literal never reaches the resolver's check).
pub fn check_origin(origin: &str, settings: &Settings) -> Result<(), ConnectorError> {
    let url = reqwest::Url::parse(origin).map_err(|e| ConnectorError::Fatal(format!("{origin}: not a server address: {e}")))?;
    check_url(&url, settings)
}

fn check_ip(ip: std::net::IpAddr, what: &str, settings: &Settings) -> Result<(), ConnectorError> {
    if !settings.allow_private_network && net::is_internal(ip) {
        return Err(ConnectorError::Fatal(format!(
            "{what} is {ip}, an internal address (loopback, private or link-local); ferry refuses it \
                unless --allow-private-network is given"
        )));
    }
    Ok(())
}

/// Checks a connection's peer address once it is made, before it is handed to reqwest.
#[derive(Clone)]
struct PeerGuard(Settings);

impl<S> tower_layer::Layer<S> for PeerGuard {
    type Service = PeerGuarded<S>;
    fn layer(&self, inner: S) -> PeerGuarded<S> {
        PeerGuarded { inner, settings: self.0.clone() }
    }
}

#[derive(Clone)]
struct PeerGuarded<S> {
    inner: S,
    settings: Settings,
}

impl<S, R> tower_service::Service<R> for PeerGuarded<S>
where
    S: tower_service::Service<R, Error = BoxError>,
    S::Response: hyper_util::client::legacy::connect::Connection,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let settings = self.settings.clone();
        let connecting = self.inner.call(req);
        Box::pin(async move {
            let conn = connecting.await?;
            let mut extras = http::Extensions::new();
            hyper_util::client::legacy::connect::Connection::connected(&conn).get_extras(&mut extras);
            match extras.get::<hyper_util::client::legacy::connect::HttpInfo>() {
                Some(info) => {
                    let peer = info.remote_addr();
                    check_ip(peer.ip(), &format!("the server's address {peer}"), &settings).map_err(|e| Box::new(Refused(e)) as BoxError)?
                }
                // without a peer address the guard cannot vouch for the connection
                None if !settings.allow_private_network => {
                    return Err(
                        Box::new(Refused(ConnectorError::Fatal("the connection's peer address is unknown; refused".into()))) as BoxError
                    );
                }
                None => {}
            }
            Ok(conn)
        })
    }
}

pub fn client(settings: &Settings) -> Result<reqwest::Client, ConnectorError> {
    let tls = (*net::tls_config(settings)?).clone();
    let redirects = settings.clone();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .dns_resolver(std::sync::Arc::new(Guarded(settings.clone())))
        .connector_layer(PeerGuard(settings.clone()))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            match check_url(attempt.url(), &redirects) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(Refused(e)),
            }
        }))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(settings.connections.clamp(1, 64))
        .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectorError::Fatal(format!("cannot set up HTTP: {e}")))
}

/// A `Retry-After` value: seconds, or an HTTP date (RFC 9110 §10.2.3: IMF-fixdate, or the
/// obsolete RFC 850 and asctime forms); a date in the past means now.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v)
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%A, %d-%b-%y %H:%M:%S GMT").map(|d| d.and_utc()))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%a %b %e %H:%M:%S %Y").map(|d| d.and_utc()))
        .ok()?;
    let now: chrono::DateTime<chrono::Utc> = now.into();
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// Maps an HTTP failure: 429, 423 (locked) and 5xx are retried (after Retry-After when given), 401 and
/// 403 stop the job, other 4xx fail the item.
pub fn status_error(what: &str, resp: &reqwest::Response) -> ConnectorError {
    let status = resp.status();
    let msg = format!("{what}: the server answered {status}");
    if status.as_u16() == 429 || status.as_u16() == 423 || status.is_server_error() {
        let retry_after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| retry_after(v, SystemTime::now()));
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
        // a certificate or protocol rustls refused: no retry will change it
        if let Some(t) = rustls_error(c) {
            return ConnectorError::Fatal(format!(
                "{what}: TLS failed: {t} (for a self-signed certificate give it with --ca-file, or --insecure to skip the check)"
            ));
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

/// The rustls error an error is or wraps (io::Error hides what it wraps from `source()`).
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(r) = e.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    let inner: &(dyn std::error::Error + 'static) = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(retry_after("Wed Oct 21 07:28:05 2015", now), Some(Duration::from_secs(5)));
        assert_eq!(retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO), "a past date: now");
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn ip_literals_in_urls_are_checked() {
        let s = Settings::default();
        for u in [
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://127.1/",
            "https://0177.0.0.1/",
            "https://[64:ff9b::7f00:1]/",
            "https://[2002:7f00:1::]/",
            "https://[::127.0.0.1]/",
        ] {
            let e = check_url(&reqwest::Url::parse(u).unwrap(), &s).unwrap_err();
            assert!(e.to_string().contains("--allow-private-network"), "{u}: {e}");
        }
        assert!(check_url(&reqwest::Url::parse("https://93.184.216.34/").unwrap(), &s).is_ok());
        assert!(check_url(&reqwest::Url::parse("https://example.org/").unwrap(), &s).is_ok());
        let ok = Settings { allow_private_network: true, ..Default::default() };
        assert!(check_url(&reqwest::Url::parse("https://127.0.0.1/").unwrap(), &ok).is_ok());
    }
}
