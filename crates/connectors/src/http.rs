//! The one HTTP layer of every HTTP connector (WebDAV, CalDAV, CardDAV). [`Http`] sends
//! each request with the side's credential (HTTP Basic, a bearer token refreshed as
//! needed, an API key), through the per-host gate (rate limit, `Retry-After` pauses), in
//! a `tracing` span (method, host, path, status, duration). Underneath is a reqwest
//! client with ferry's TLS settings and the private-network guard on every connection it
//! makes: names are checked by the DNS resolver, IP literals (which never reach a
//! resolver) in the URL and in every redirect, and the peer of every new connection before
//! a byte of a request is written to it.

use crate::auth::Provider;
use crate::{Settings, limit, net};
use ferry_core::{ConnectorError, Credential};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};
use tracing::Instrument;

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

/// How long an HTTP answer may keep us waiting for its next bytes (FERRY_HTTP_TIMEOUT).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// A side's HTTP client: every request authenticated, gated, traced and mapped. Clones
/// share the connection pool and the credential.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    auth: Arc<Provider>,
    /// The URI's user name, for a password without one of its own.
    user: String,
    rate: u32,
    /// With a password, sign each request with it (HMAC) instead of sending it.
    signer: Option<Arc<Signer>>,
    /// The connector whose requests these are, for the published limits that name it.
    provider: Option<&'static str>,
    /// Whose requests these are, for per-account limits: a hash of what identifies the
    /// account (never a secret itself).
    account: String,
}

/// A key id and the shared secret requests are signed with (the connector protocol's
/// signatures).
struct Signer {
    key_id: String,
    secret: ferry_core::Secret,
}

impl Http {
    /// The client for a connector whose URI names `user` (empty if none).
    pub fn new(settings: &Settings, user: &str) -> Result<Http, ConnectorError> {
        if let Credential::Bearer(t) = settings.credential.credential() {
            let url = reqwest::Url::parse(&t.token_endpoint)
                .map_err(|e| ConnectorError::Fatal(format!("the token endpoint {}: {e}", t.token_endpoint)))?;
            if url.scheme() != "https" && !settings.insecure {
                return Err(ConnectorError::Fatal(format!(
                    "the token endpoint {} is plain HTTP: the refresh token would travel in clear text; use HTTPS, or give --insecure if you must",
                    t.token_endpoint
                )));
            }
            check_url(&url, settings)?;
        }
        crate::quota::check_table()?;
        Ok(Http {
            client: client(settings)?,
            auth: settings.credential.clone(),
            user: user.to_owned(),
            rate: settings.requests_per_second,
            signer: None,
            provider: None,
            account: account_key(&settings.credential.credential(), user),
        })
    }

    /// Names the connector, for the published limits that count its requests whatever
    /// the host (`mastodon`).
    pub fn for_provider(mut self, provider: &'static str) -> Http {
        self.provider = Some(provider);
        self
    }

    /// This client, but answering redirects instead of following them: for a request
    /// whose redirect leads to a pre-authenticated URL that must not get the credential
    /// (OneDrive's downloads), which the caller then asks with [`Http::send_anonymous`].
    pub fn not_following_redirects(mut self, settings: &Settings) -> Result<Http, ConnectorError> {
        self.client = build_client(settings, false)?;
        Ok(self)
    }

    /// A hash of what identifies the account (never a secret): whose requests these are.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// As [`Http::new`], but a password credential signs every request (key id: its user
    /// name, else `user`) instead of travelling as HTTP Basic.
    pub fn signing(settings: &Settings, user: &str) -> Result<Http, ConnectorError> {
        let mut http = Http::new(settings, user)?;
        if let Credential::Password { user: own, secret } = settings.credential.credential() {
            let key_id = own.unwrap_or_else(|| user.to_owned());
            if key_id.is_empty() || key_id.contains(['"', '\\']) || key_id.chars().any(char::is_control) {
                return Err(ConnectorError::Fatal(format!("`{key_id}` is not a key id to sign with: name it as the URI's user")));
            }
            http.signer = Some(Arc::new(Signer { key_id, secret }));
        }
        Ok(http)
    }

    #[cfg(test)]
    pub fn credential(&self) -> &Arc<Provider> {
        &self.auth
    }

    /// A request to build and hand to [`Http::send`] (no credential on it yet).
    pub fn request(&self, method: &str, url: &str) -> reqwest::RequestBuilder {
        self.client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET), url)
    }

    /// Sends the request `make` builds, as [`Http::send_with`] does.
    pub async fn send(
        &self,
        what: &str,
        make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<reqwest::Response, ConnectorError> {
        self.send_with(what, &|| Box::pin(std::future::ready(Ok(make())))).await
    }

    /// Sends the request `make` builds, with the credential; waits for the host's gate
    /// first. A 401 to a refreshable bearer token refreshes it and sends the request again
    /// (built anew); a 401 that stays is [`ConnectorError::Unauthorized`]. A 429 or 503
    /// with `Retry-After` pauses the host. Any other answer is returned as it is, for the
    /// caller to read its status ([`status_error`]).
    pub async fn send_with<'a>(
        &self,
        what: &str,
        make: &'a (dyn Fn() -> MakeRequest<'a> + Send + Sync),
    ) -> Result<reqwest::Response, ConnectorError> {
        self.exchange(what, make, false).await
    }

    /// Sends the request `make` builds without the credential (to a pre-authenticated
    /// URL: an upload session's, a download's), through the host's gate; every answer,
    /// a 401 too, is returned as it is.
    pub async fn send_anonymous(
        &self,
        what: &str,
        make: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<reqwest::Response, ConnectorError> {
        self.exchange(what, &|| Box::pin(std::future::ready(Ok(make()))), true).await
    }

    async fn exchange<'a>(
        &self,
        what: &str,
        make: &'a (dyn Fn() -> MakeRequest<'a> + Send + Sync),
        anonymous: bool,
    ) -> Result<reqwest::Response, ConnectorError> {
        let mut refreshed = false;
        loop {
            let (header, generation) = match self.signer {
                _ if anonymous => (None, 0),
                Some(_) => (None, 0),
                None => self.auth.authorization(&self.client, &self.user).await?,
            };
            let mut req = make().await?.build().map_err(|e| ConnectorError::Fatal(format!("{what}: {e}")))?;
            if let Some((name, value)) = header {
                req.headers_mut().insert(name, value);
            }
            let url = req.url();
            let host = match url.port_or_known_default() {
                Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_owned(),
            };
            // the path only: a query may carry secrets
            let span = tracing::debug_span!(
                "http",
                method = %req.method(),
                host = %host,
                path = %url.path(),
                status = tracing::field::Empty,
                ms = tracing::field::Empty
            );
            let gate = limit::gate(&host, self.rate);
            gate.wait().instrument(span.clone()).await;
            let kind = crate::quota::RequestKind {
                host: url.host_str().unwrap_or_default(),
                port: url.port_or_known_default(),
                provider: self.provider,
                method: req.method().as_str(),
                path: url.path(),
                account: &self.account,
            };
            crate::quota::spend(&kind).instrument(span.clone()).await?;
            // signed after the waits, so that its time is the time it is sent
            if let Some(s) = self.signer.as_ref().filter(|_| !anonymous) {
                let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                crate::remote::sign::sign(&mut req, &s.key_id, s.secret.expose(), now)
                    .map_err(|e| ConnectorError::Fatal(format!("{what}: {e}")))?;
            }
            let start = std::time::Instant::now();
            let sent = self.client.execute(req).instrument(span.clone()).await;
            span.record("ms", start.elapsed().as_millis() as u64);
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    let e = request_error(what, e);
                    tracing::debug!(parent: &span, error = %e, "no answer");
                    return Err(e);
                }
            };
            let status = resp.status().as_u16();
            span.record("status", status);
            tracing::debug!(parent: &span, "answered");
            if matches!(status, 429 | 503)
                && let Some(wait) = header_retry_after(&resp)
            {
                gate.pause(wait);
            }
            if status == 401 && !anonymous {
                if self.signer.is_some() {
                    return Err(ConnectorError::Unauthorized(format!(
                        "{what}: the service refused the request's signature (401; check the key id, the secret and this machine's clock)"
                    )));
                }
                if !refreshed && self.auth.after_unauthorized(&self.client, generation).await? {
                    refreshed = true;
                    continue;
                }
                return Err(unauthorized(what, &self.auth));
            }
            return Ok(resp);
        }
    }
}

/// A stable key of the account a credential opens, for per-account limits: a hash of the
/// refresh token (which outlives access tokens), the key, or the user name.
fn account_key(c: &Credential, user: &str) -> String {
    use sha2::Digest;
    let basis = match c {
        Credential::Bearer(t) => {
            t.refresh_token.as_ref().map(|r| r.expose().to_owned()).unwrap_or_else(|| t.access_token.expose().to_owned())
        }
        Credential::ApiKey { value, .. } => value.expose().to_owned(),
        Credential::Password { user: Some(u), .. } => u.clone(),
        _ => user.to_owned(),
    };
    hex::encode(&sha2::Sha256::digest(basis.as_bytes())[..12])
}

/// A request being built (its body may need opening first).
pub type MakeRequest<'a> = futures::future::BoxFuture<'a, Result<reqwest::RequestBuilder, ConnectorError>>;

/// A 401 that a refresh did not cure, or that no refresh can.
fn unauthorized(what: &str, auth: &Provider) -> ConnectorError {
    match auth.kind() {
        Some(ferry_core::CredentialKind::Bearer) => ConnectorError::reconnect(format!("{what}: the server refused the access token (401)")),
        Some(ferry_core::CredentialKind::Password) => {
            ConnectorError::Unauthorized(format!("{what}: the server answered 401 Unauthorized (check the user name and password)"))
        }
        Some(ferry_core::CredentialKind::ApiKey) => ConnectorError::Unauthorized(format!("{what}: the server refused the API key (401)")),
        None => ConnectorError::Unauthorized(format!("{what}: the server asks for credentials (401); none were given")),
    }
}

/// The `Retry-After` of an answer, if it has a valid one.
fn header_retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| retry_after(v, SystemTime::now()))
}

/// The reqwest client under [`Http`]: TLS, the private-network guard, timeouts.
pub fn client(settings: &Settings) -> Result<reqwest::Client, ConnectorError> {
    build_client(settings, true)
}

/// [`client`], following redirects (each one checked) or answering them.
fn build_client(settings: &Settings, follow: bool) -> Result<reqwest::Client, ConnectorError> {
    let tls = (*net::tls_config(settings)?).clone();
    let redirects = settings.clone();
    // a key in a header of its own would go along to wherever a redirect points (reqwest
    // drops only Authorization and cookies when the origin changes)
    let key_in_header = settings.credential.kind() == Some(ferry_core::CredentialKind::ApiKey);
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .dns_resolver(std::sync::Arc::new(Guarded(settings.clone())))
        .connector_layer(PeerGuard(settings.clone()))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if !follow {
                return attempt.stop();
            }
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            let elsewhere = attempt.previous().first().is_some_and(|first| first.origin() != attempt.url().origin());
            if key_in_header && elsewhere {
                let e = ConnectorError::Fatal(format!(
                    "refused a redirect to {}: the API key would go to another origin",
                    attempt.url().origin().ascii_serialization()
                ));
                return attempt.error(Refused(e));
            }
            match check_url(attempt.url(), &redirects) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(Refused(e)),
            }
        }))
        .connect_timeout(net::connect_timeout()?)
        .read_timeout(net::seconds_from_env("FERRY_HTTP_TIMEOUT", DEFAULT_READ_TIMEOUT)?)
        .pool_max_idle_per_host(settings.connections.clamp(1, 64))
        .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectorError::Fatal(format!("cannot set up HTTP: {e}")))
}

/// Reads an answer's body, refusing one over `max` bytes (by its length when it says,
/// else as it comes).
pub async fn read_bounded(what: &str, resp: reqwest::Response, max: usize) -> Result<Vec<u8>, ConnectorError> {
    use futures::StreamExt;
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(ConnectorError::Fatal(format!("{what}: the answer is larger than {} KiB", max >> 10)));
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| request_error(what, e))?;
        if body.len() + chunk.len() > max {
            return Err(ConnectorError::Fatal(format!("{what}: the answer is larger than {} KiB", max >> 10)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One URL component (a path segment, a query value), percent-encoded: everything but
/// unreserved characters (RFC 3986 §2.3), `/` included.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A request with a JSON body.
pub fn json_body(rb: reqwest::RequestBuilder, body: &serde_json::Value) -> reqwest::RequestBuilder {
    rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(serde_json::to_vec(body).unwrap_or_default())
}

/// A `Retry-After` value: seconds, or an HTTP date (RFC 9110 §10.2.3: IMF-fixdate, or the
/// obsolete RFC 850 and asctime forms); a date in the past means now.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // more digits than a u64 holds is still "very long"
        return Some(v.parse::<u64>().map(Duration::from_secs).unwrap_or(Duration::MAX));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v)
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%A, %d-%b-%y %H:%M:%S GMT").map(|d| d.and_utc()))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%a %b %e %H:%M:%S %Y").map(|d| d.and_utc()))
        .ok()?;
    let now: chrono::DateTime<chrono::Utc> = now.into();
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// Maps an HTTP failure: 429 and 503 with `Retry-After` are a throttle until then; 429,
/// 408, 423 (locked) and other 5xx are retried; 401 is unauthorized and 403 stops the job;
/// 507 means the destination is full; 404 and 410 are not found, 409 and 412 a conflict;
/// other 4xx fail the item.
pub fn status_error(what: &str, resp: &reqwest::Response) -> ConnectorError {
    let status = resp.status();
    let msg = format!("{what}: the server answered {status}");
    let code = status.as_u16();
    match code {
        429 | 503 | 423 if header_retry_after(resp).is_some() => {
            ConnectorError::throttled(msg, header_retry_after(resp).unwrap_or_default().min(limit::MAX_PAUSE))
        }
        408 | 423 | 429 => ConnectorError::transient(msg),
        507 => ConnectorError::QuotaExceeded(format!("{msg}: the destination is full")),
        501 | 505 => ConnectorError::Fatal(msg),
        _ if status.is_server_error() => ConnectorError::transient(msg),
        401 => ConnectorError::Unauthorized(format!("{msg} (check the user name and password)")),
        403 => ConnectorError::Fatal(format!("{msg} (the account may not do this; check its rights)")),
        404 | 410 => ConnectorError::NotFound(msg),
        409 | 412 => ConnectorError::Conflict(msg),
        _ => ConnectorError::Item(msg),
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
        // garbage is no wait at all; a huge number is a long wait (bounded where it is used)
        for garbage in ["", "  ", "-5", "1.5", "12abc", "0x10", "Wed, 32 Oct 2015 07:28:30 GMT", "2015-10-21T07:28:30Z"] {
            assert_eq!(retry_after(garbage, now), None, "`{garbage}`");
        }
        assert_eq!(retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("99999999999999999999999999", now), Some(Duration::MAX));
        assert_eq!(retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now).map(|d| d.as_secs() / 86_400), Some(30_752));
    }

    use crate::auth::{CredentialStore, Provider};
    use crate::mock::{Answer, serve};
    use ferry_core::{Secret, TokenSet};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn settings_with(c: Credential, store: Option<Arc<dyn CredentialStore>>) -> Settings {
        Settings { allow_private_network: true, insecure: true, credential: Arc::new(Provider::new(c, store)), ..Default::default() }
    }

    fn bearer(access: &str, refresh: &str, endpoint: &str, expires_in: i64) -> Credential {
        Credential::Bearer(TokenSet {
            access_token: Secret(access.into()),
            refresh_token: Some(Secret(refresh.into())),
            expires_at: Some(chrono::Utc::now() + chrono::Duration::seconds(expires_in)),
            token_endpoint: endpoint.into(),
            client_id: "ferry-test".into(),
            client_secret: Some(Secret("cs-SECRET-3".into())),
            scopes: vec![],
            revocation_endpoint: None,
            token_endpoint_auth_method: None,
        })
    }

    /// Keeps what the provider saves.
    #[derive(Default)]
    struct Kept(std::sync::Mutex<Vec<Credential>>);

    #[async_trait::async_trait]
    impl CredentialStore for Kept {
        async fn save(&self, c: &Credential) -> Result<(), String> {
            self.0.lock().unwrap().push(c.clone());
            Ok(())
        }
    }

    /// An authorization server whose token endpoint answers `status` and `body` (after a
    /// pause, so that requests pile up meanwhile), counting its calls; and a resource
    /// server that takes `Bearer good` only, counting its refusals.
    async fn servers(status: u16, body: &'static str) -> (String, String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let auth_server = serve(move |r| {
            let c = c.clone();
            async move {
                assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/token"));
                let form = String::from_utf8_lossy(&r.body).into_owned();
                assert!(form.contains("grant_type=refresh_token") && form.contains("refresh_token=rt-SECRET-2"), "{form}");
                assert!(r.header("authorization").is_some_and(|a| a.starts_with("Basic ")), "the client authenticates");
                c.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(300)).await;
                Answer::new(status, body).with("Content-Type", "application/json")
            }
        })
        .await;
        let refused = Arc::new(AtomicUsize::new(0));
        let r = refused.clone();
        let resource = serve(move |req| {
            let r = r.clone();
            async move {
                if req.header("authorization") == Some("Bearer good") {
                    Answer::new(200, "ok")
                } else {
                    r.fetch_add(1, Ordering::SeqCst);
                    Answer::new(401, "").with("WWW-Authenticate", "Bearer error=\"invalid_token\"")
                }
            }
        })
        .await;
        (format!("{auth_server}/token"), resource, calls, refused)
    }

    async fn sixteen_at_once(http: &Http, resource: &str) -> Vec<Result<reqwest::Response, ConnectorError>> {
        let requests = (0..16).map(|i| {
            let (http, url) = (http.clone(), format!("{resource}/f{i}"));
            async move { http.send("reading", &|| http.request("GET", &url)).await }
        });
        futures::future::join_all(requests).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sixteen_refused_requests_share_one_refresh() {
        let good = r#"{"access_token":"good","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-SECRET-new"}"#;
        let (endpoint, resource, calls, refused) = servers(200, good).await;
        let kept = Arc::new(Kept::default());
        let http = Http::new(&settings_with(bearer("at-SECRET-1", "rt-SECRET-2", &endpoint, 3600), Some(kept.clone())), "").unwrap();
        for r in sixteen_at_once(&http, &resource).await {
            assert_eq!(r.unwrap().status().as_u16(), 200);
        }
        assert_eq!(refused.load(Ordering::SeqCst), 16, "all sixteen were refused with the old token");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one refresh for all of them");
        assert_eq!(http.credential().refreshes(), 1);
        let kept = kept.0.lock().unwrap();
        assert_eq!(kept.len(), 1, "the new token set was kept once");
        let Credential::Bearer(t) = &kept[0] else { panic!("{:?}", kept[0]) };
        assert_eq!(
            (t.access_token.expose(), t.refresh_token.as_ref().unwrap().expose()),
            ("good", "rt-SECRET-new"),
            "the rotated refresh token"
        );
        assert_eq!(t.client_secret.as_ref().unwrap().expose(), "cs-SECRET-3");
        assert!(t.expires_at.unwrap() > chrono::Utc::now() + chrono::Duration::seconds(3500));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refused_refresh_asks_for_the_account_again_once() {
        for (status, body) in [
            (400, r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#),
            (401, r#"{"error":"invalid_client"}"#),
            (400, "<html>bad request</html>"),
        ] {
            let (endpoint, resource, calls, _) = servers(status, body).await;
            let kept = Arc::new(Kept::default());
            let http = Http::new(&settings_with(bearer("at-SECRET-1", "rt-SECRET-2", &endpoint, 3600), Some(kept.clone())), "").unwrap();
            for r in sixteen_at_once(&http, &resource).await {
                let e = r.unwrap_err();
                assert!(matches!(e, ConnectorError::Unauthorized(_)) && e.to_string().contains(ferry_core::RECONNECT), "{e}");
            }
            // asked again later: no second try at the token endpoint
            let e = http.send("again", &|| http.request("GET", &format!("{resource}/x"))).await.unwrap_err();
            assert!(e.stops_job(), "{e}");
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{status} {body}: one refresh tried");
            assert!(kept.0.lock().unwrap().is_empty());
        }
        // a token endpoint that is down is worth another try, not a reconnect
        let (endpoint, resource, _, _) = servers(503, "").await;
        let http = Http::new(&settings_with(bearer("at-SECRET-1", "rt-SECRET-2", &endpoint, 3600), None), "").unwrap();
        let e = http.send("reading", &|| http.request("GET", &resource)).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
    }

    #[tokio::test]
    async fn a_token_about_to_expire_is_refreshed_before_it_is_used() {
        let good = r#"{"access_token":"good","token_type":"Bearer","expires_in":3600}"#;
        let (endpoint, resource, calls, refused) = servers(200, good).await;
        let http = Http::new(&settings_with(bearer("at-SECRET-1", "rt-SECRET-2", &endpoint, 20), None), "").unwrap();
        for _ in 0..3 {
            assert_eq!(http.send("reading", &|| http.request("GET", &resource)).await.unwrap().status().as_u16(), 200);
        }
        assert_eq!((calls.load(Ordering::SeqCst), refused.load(Ordering::SeqCst)), (1, 0), "refreshed once, before the first request");
        let Credential::Bearer(t) = http.credential().credential() else { panic!() };
        assert_eq!(t.refresh_token.unwrap().expose(), "rt-SECRET-2", "a refresh token not rotated stays");
    }

    #[tokio::test]
    async fn a_plain_http_token_endpoint_needs_insecure() {
        let s = Settings {
            insecure: false,
            allow_private_network: true,
            ..settings_with(bearer("a", "r", "http://127.0.0.1:9/token", 60), None)
        };
        let e = Http::new(&s, "").err().unwrap();
        assert!(e.to_string().contains("--insecure"), "{e}");
        let s = Settings { allow_private_network: false, ..settings_with(bearer("a", "r", "https://127.0.0.1:9/token", 60), None) };
        assert!(Http::new(&s, "").err().unwrap().to_string().contains("--allow-private-network"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_rate_limit_of_a_host_is_shared_by_every_client() {
        let resource = serve(|_| async { Answer::new(200, "ok") }).await;
        let s = Settings { requests_per_second: 20, ..settings_with(Credential::None, None) };
        // two clients, as two jobs would have: 30 requests at 20 a second (a burst of 20)
        let (a, b) = (Http::new(&s, "").unwrap(), Http::new(&s, "").unwrap());
        let start = std::time::Instant::now();
        let requests = (0..30).map(|i| {
            let (http, url) = (if i % 2 == 0 { a.clone() } else { b.clone() }, resource.clone());
            async move { http.send("reading", &|| http.request("GET", &url)).await.unwrap() }
        });
        futures::future::join_all(requests).await;
        // each client with a limit of its own would have sent its 15 at once
        assert!(start.elapsed() >= Duration::from_millis(450), "the ten past the burst waited: {:?}", start.elapsed());
    }

    #[tokio::test]
    async fn throttles_and_statuses_map_to_their_kinds() {
        let server = || {
            serve(|r| async move {
                match r.path.as_str() {
                    "/slow" => Answer::new(429, "").with("Retry-After", "99999999999999"),
                    "/date" => Answer::new(503, "").with("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT"),
                    "/busy" => Answer::new(503, ""),
                    "/full" => Answer::new(507, ""),
                    "/gone" => Answer::new(410, ""),
                    "/clash" => Answer::new(409, ""),
                    "/denied" => Answer::new(401, ""),
                    _ => Answer::new(200, ""),
                }
            })
        };
        let http = Http::new(&settings_with(Credential::password("pw-SECRET-4"), None), "me").unwrap();
        let answer = |resource: String, path: &'static str| {
            let (http, url) = (http.clone(), format!("{resource}{path}"));
            async move {
                match http.send("reading", &|| http.request("GET", &url)).await {
                    Ok(r) => status_error("reading", &r),
                    Err(e) => e,
                }
            }
        };
        let resource = server().await;
        for path in ["/busy", "/full", "/gone", "/clash", "/denied"] {
            let e = answer(resource.clone(), path).await;
            let ok = match path {
                "/busy" => matches!(e, ConnectorError::Transient { .. }),
                "/full" => matches!(e, ConnectorError::QuotaExceeded(_)),
                "/gone" => matches!(e, ConnectorError::NotFound(_)),
                "/clash" => matches!(e, ConnectorError::Conflict(_)),
                _ => matches!(e, ConnectorError::Unauthorized(_)) && e.to_string().contains("user name and password"),
            };
            assert!(ok, "{path}: {e:?}");
        }
        // a throttle pauses its host (every request to it waits): one server each
        for path in ["/slow", "/date"] {
            let resource = server().await;
            let until = answer(resource.clone(), path).await.throttled_until().unwrap_or_else(|| panic!("{path}"));
            assert!(until <= std::time::Instant::now() + limit::MAX_PAUSE, "{path}: bounded");
            let url = reqwest::Url::parse(&resource).unwrap();
            let gate = limit::gate(&format!("127.0.0.1:{}", url.port().unwrap()), 0);
            let waited = tokio::time::timeout(Duration::from_millis(200), gate.wait()).await;
            assert!(waited.is_err(), "{path}: the host is paused");
        }
    }

    #[tokio::test]
    async fn secrets_never_reach_the_logs() {
        use tracing_subscriber::fmt::format::FmtSpan;
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _on = tracing::subscriber::set_default(subscriber);
        let good = r#"{"access_token":"good","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-SECRET-new"}"#;
        let (endpoint, resource, _, _) = servers(200, good).await;
        let kept: Arc<dyn CredentialStore> = Arc::new(Kept::default());
        let bearer_http = Http::new(&settings_with(bearer("at-SECRET-1", "rt-SECRET-2", &endpoint, 3600), Some(kept)), "").unwrap();
        let url = format!("{resource}/private?access_token=q-SECRET-6");
        assert!(bearer_http.send("reading", &|| bearer_http.request("GET", &url)).await.is_ok());
        let basic = settings_with(Credential::password("pw-SECRET-4"), None);
        let basic_http = Http::new(&basic, "me").unwrap();
        let _ = basic_http.send("reading", &|| basic_http.request("GET", &url)).await;
        tracing::info!("{:?} {:?}", basic.credential, bearer_http.credential());
        let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("path=/private") && logged.contains("status=401"), "the requests were traced: {logged}");
        // (the refresh's own log line is not asserted: a call site another test's thread
        // meets first, with no subscriber of its own, may stay switched off for this one)
        assert_eq!(bearer_http.credential().refreshes(), 1, "the token was refreshed on the way: {logged}");
        use base64::Engine;
        let basic_value = base64::engine::general_purpose::STANDARD.encode("me:pw-SECRET-4");
        for secret in ["SECRET", basic_value.as_str()] {
            assert!(!logged.contains(secret), "`{secret}` in the logs:\n{logged}");
        }
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
