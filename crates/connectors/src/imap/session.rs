//! IMAP connections: TLS or STARTTLS, login, a read budget that bounds what a server may
//! send for one command, a deadline that bounds how long it may take
//! (FERRY_IMAP_COMMAND_TIMEOUT), and a small pool so that several commands run at once.

use super::config::{ImapConfig, Tls};
use super::namespace::{self, Namespace};
use super::timed::Timed;
use crate::{Settings, net};
use ferry_core::ConnectorError;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tracing::instrument::WithSubscriber;

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Most a server may send in answer to one ordinary command.
pub const DEFAULT_BUDGET: i64 = 64 << 20;

/// When the command (or the few commands) under way must be done by: armed with each
/// command's budget ([`Live::allow`]) and when a session is taken from the pool, disarmed
/// when it goes back.
pub struct Deadline {
    at: std::sync::Mutex<Option<Instant>>,
    limit: Duration,
    /// `host:port`, for the error.
    server: String,
}

impl Deadline {
    pub fn new(limit: Duration, server: String) -> Arc<Deadline> {
        Arc::new(Deadline { at: std::sync::Mutex::new(None), limit, server })
    }

    fn arm(&self) {
        *self.at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + self.limit);
    }

    fn disarm(&self) {
        *self.at.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn at(&self) -> Option<Instant> {
        *self.at.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "{} took more than {} s over one command (FERRY_IMAP_COMMAND_TIMEOUT)",
                self.server,
                super::timed::fmt_secs(self.limit)
            ),
        )
    }
}

/// The connection, counting what the server sends against a budget: a server that
/// claims or sends more than it should gets an error, not our memory; and one that takes
/// longer than the command's deadline, however it trickles, an error too.
pub struct Conn {
    inner: Box<dyn Io>,
    budget: Arc<AtomicI64>,
    /// Set once the connection failed or the server closed it: the session is not reused.
    dead: Arc<AtomicBool>,
    deadline: Arc<Deadline>,
    /// Wakes a read or write that waits when the deadline passes.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Conn {
    fn new(inner: Box<dyn Io>, budget: Arc<AtomicI64>, dead: Arc<AtomicBool>, deadline: Arc<Deadline>) -> Conn {
        Conn { inner, budget, dead, deadline, timer: None }
    }

    /// The deadline's error if it has passed; else, when the operation waits (`pending`),
    /// a wake-up at the deadline.
    fn overdue(&mut self, cx: &mut Context<'_>, pending: bool) -> Option<std::io::Error> {
        let Some(at) = self.deadline.at() else {
            self.timer = None;
            return None;
        };
        if Instant::now() >= at {
            self.dead.store(true, Ordering::SeqCst);
            return Some(self.deadline.error());
        }
        if pending {
            let at = tokio::time::Instant::from_std(at);
            let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            if timer.deadline() != at {
                timer.as_mut().reset(at);
            }
            if timer.as_mut().poll(cx).is_ready() {
                self.dead.store(true, Ordering::SeqCst);
                return Some(self.deadline.error());
            }
        }
        None
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("imap connection")
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if let Some(e) = self.overdue(cx, false) {
            return Poll::Ready(Err(e));
        }
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if r.is_pending()
            && let Some(e) = self.overdue(cx, true)
        {
            return Poll::Ready(Err(e));
        }
        match &r {
            Poll::Ready(Ok(())) => {
                let n = (buf.filled().len() - before) as i64;
                if n == 0 && room {
                    // the server closed the connection
                    self.dead.store(true, Ordering::SeqCst);
                }
                if self.budget.fetch_sub(n, Ordering::SeqCst) - n < 0 {
                    self.dead.store(true, Ordering::SeqCst);
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the IMAP server sent more than the answer could hold (a hostile or broken server?)",
                    )));
                }
            }
            Poll::Ready(Err(_)) => self.dead.store(true, Ordering::SeqCst),
            Poll::Pending => {}
        }
        r
    }
}

impl Conn {
    fn failed<T>(&mut self, r: Poll<std::io::Result<T>>, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        if r.is_pending()
            && let Some(e) = self.overdue(cx, true)
        {
            return Poll::Ready(Err(e));
        }
        if let Poll::Ready(Err(_)) = &r {
            self.dead.store(true, Ordering::SeqCst);
        }
        r
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if let Some(e) = self.overdue(cx, false) {
            return Poll::Ready(Err(e));
        }
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.failed(r, cx)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.failed(r, cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.failed(r, cx)
    }
}

pub type Session = async_imap::Session<Conn>;

/// A logged-in session and the mailbox it has selected.
pub struct Live {
    pub session: Session,
    pub selected: Option<(String, bool)>,
    /// The server takes non-synchronizing literals of any size (LITERAL+, RFC 7888).
    pub literal_plus: bool,
    /// The server takes several messages in one APPEND (RFC 3502).
    pub multiappend: bool,
    /// The server keeps a modification sequence per message (RFC 7162).
    pub condstore: bool,
    /// Where the user's folders are (RFC 2342).
    pub namespace: Namespace,
    budget: Arc<AtomicI64>,
    dead: Arc<AtomicBool>,
    deadline: Arc<Deadline>,
}

impl Live {
    /// Whether the connection failed or was closed by the server (then the session is
    /// dropped, never handed out again).
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Lets the server send up to `bytes` for the next command, and gives it the
    /// command timeout from now.
    pub fn allow(&self, bytes: i64) {
        self.budget.store(bytes, Ordering::SeqCst);
        self.deadline.arm();
    }

    /// Selects (read-write) or examines (read-only) a mailbox unless it already is.
    pub async fn open_mailbox(&mut self, name: &str, write: bool) -> Result<async_imap::types::Mailbox, ConnectorError> {
        self.allow(DEFAULT_BUDGET);
        let mailbox = if write { self.session.select(name).await } else { self.session.examine(name).await }
            .map_err(|e| imap_err(&format!("opening {name}"), e))?;
        self.selected = Some((name.to_owned(), write));
        Ok(mailbox)
    }
}

pub fn imap_err(what: &str, e: async_imap::error::Error) -> ConnectorError {
    use async_imap::error::Error;
    let msg = format!("imap: {what}: {e}");
    match e {
        Error::Io(_) | Error::ConnectionLost => ConnectorError::transient(msg),
        Error::No(text) => refusal(msg, &text),
        _ => ConnectorError::Fatal(msg),
    }
}

/// What a server's NO means, from its response code (RFC 5530): a full mailbox stops the
/// job, refused credentials need the account reconnected, a server that is busy or
/// unavailable is worth another try, a missing or existing mailbox is not found or a
/// conflict; anything else fails the item.
pub fn refusal(msg: String, text: &str) -> ConnectorError {
    let up = text.to_ascii_uppercase();
    // `[CODE]` in the text (codes imap-proto does not know), or async-imap's `Some(Code)`
    let has = |code: &str| up.contains(&format!("[{code}")) || up.contains(&format!("SOME({code})"));
    if has("OVERQUOTA") {
        ConnectorError::QuotaExceeded(msg)
    } else if has("AUTHENTICATIONFAILED") || has("AUTHORIZATIONFAILED") || has("EXPIRED") {
        ConnectorError::Unauthorized(msg)
    } else if has("UNAVAILABLE") || has("INUSE") || has("SERVERBUG") {
        ConnectorError::transient(msg)
    } else if has("NONEXISTENT") || has("TRYCREATE") {
        ConnectorError::NotFound(msg)
    } else if has("ALREADYEXISTS") {
        ConnectorError::Conflict(msg)
    } else {
        ConnectorError::Item(msg)
    }
}

pub async fn connect(cfg: &ImapConfig, settings: &Settings) -> Result<Live, ConnectorError> {
    let tcp = net::connect(&cfg.host, cfg.port, settings).await?;
    let server = format!("{}:{}", cfg.host, cfg.port);
    // every read and write below may wait at most cfg.timeout, the TLS handshake included
    let tcp = Timed::new(tcp, cfg.timeout, server.clone());
    let budget = Arc::new(AtomicI64::new(DEFAULT_BUDGET));
    let dead = Arc::new(AtomicBool::new(false));
    // the set-up (greeting, STARTTLS, LOGIN, capabilities, namespace) is one command's worth
    let deadline = Deadline::new(cfg.command_timeout, server.clone());
    deadline.arm();
    // a server that stays silent while the connection is set up is most likely not an IMAP
    // server of this kind (imap:// at an implicit-TLS port, or the reverse): no retry helps
    let setup = |what: &str, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::TimedOut {
            ConnectorError::Fatal(format!(
                "imap: {e}, waiting for {what}; is it an IMAP port? (imap:// expects a plain greeting \
                    and STARTTLS, usually on port 143; imaps:// TLS from the first byte, usually on \
                    port 993)"
            ))
        } else {
            ConnectorError::transient(format!("imap: {server}: no {what}: {e}"))
        }
    };
    let conn = match cfg.tls {
        Tls::Implicit => {
            let tls = tls_over(Box::new(tcp), &cfg.host, settings).await.map_err(|e| e.map_err(|e| setup("the TLS handshake", e)))?;
            Conn::new(Box::new(tls), budget.clone(), dead.clone(), deadline.clone())
        }
        Tls::StartTls => {
            let mut client = async_imap::Client::new(Conn::new(Box::new(tcp), budget.clone(), dead.clone(), deadline.clone()));
            client.read_response().await.map_err(|e| setup("the greeting", e))?;
            client.run_command_and_check_ok("STARTTLS", None).await.map_err(|e| match e {
                async_imap::error::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => setup("the answer to STARTTLS", e),
                async_imap::error::Error::Io(_) | async_imap::error::Error::ConnectionLost => {
                    ConnectorError::transient(format!("imap: {}: the connection was lost at STARTTLS: {e}", cfg.host))
                }
                e => {
                    ConnectorError::Fatal(format!("imap: {} refused STARTTLS ({e}); ferry does not send a password without TLS", cfg.host))
                }
            })?;
            let plain = client.into_inner();
            // the budget counter stays the same; the TLS layer goes around the raw socket
            let raw: Box<dyn Io> = plain.inner;
            let tls = tls_over(raw, &cfg.host, settings).await.map_err(|e| e.map_err(|e| setup("the TLS handshake", e)))?;
            Conn::new(Box::new(tls), budget.clone(), dead.clone(), deadline.clone())
        }
    };
    let mut client = async_imap::Client::new(conn);
    if cfg.tls == Tls::Implicit {
        client.read_response().await.map_err(|e| setup("the greeting", e))?;
    }
    let credential = settings.credential.credential();
    let (user, password) = match &credential {
        ferry_core::Credential::Password { user, secret } => (user.as_deref().unwrap_or(&cfg.user), secret.expose()),
        other => {
            return Err(ConnectorError::Fatal(format!(
                "imap: {} logs in with a password; a {} credential was given",
                cfg.host,
                other.kind().map(|k| k.as_str()).unwrap_or("missing")
            )));
        }
    };
    // async-imap logs each command it sends (log::trace!, which FERRY_LOG=trace shows):
    // the LOGIN command runs with logging off so that the password is never written out
    let login = client.login(user, password).with_subscriber(tracing::subscriber::NoSubscriber::default()).await;
    let session = login.map_err(|(e, _)| match e {
        async_imap::error::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            ConnectorError::transient(format!("imap: {e}, waiting for the answer to LOGIN"))
        }
        // the connection went, not the credentials
        async_imap::error::Error::Io(_) | async_imap::error::Error::ConnectionLost => {
            ConnectorError::transient(format!("imap: {}: the connection was lost while logging in: {e}", cfg.host))
        }
        async_imap::error::Error::No(text) => match refusal(String::new(), &text) {
            ConnectorError::Transient { .. } => ConnectorError::transient(format!("imap: {} cannot log {user} in now: {text}", cfg.host)),
            _ => ConnectorError::Unauthorized(format!(
                "imap: login as {user} at {} failed: {text} (check the user name and password)",
                cfg.host
            )),
        },
        e => ConnectorError::Fatal(format!("imap: login as {user} at {} failed: {e}", cfg.host)),
    })?;
    let mut session = session;
    let caps = session.capabilities().await.map_err(|e| imap_err("reading capabilities", e))?;
    // LITERAL- allows non-synchronizing literals up to 4096 bytes only
    let literal_plus = caps.has_str("LITERAL+");
    let multiappend = caps.has_str("MULTIAPPEND");
    let condstore = caps.has_str("CONDSTORE");
    let namespace = if caps.has_str("NAMESPACE") {
        namespace::read(&mut session)
            .await
            .map_err(|e| ConnectorError::transient(format!("imap: {server}: reading the personal namespace: {e}")))?
            .unwrap_or_default()
    } else {
        Namespace::default()
    };
    deadline.disarm();
    Ok(Live { session, selected: None, literal_plus, multiappend, condstore, namespace, budget, dead, deadline })
}

/// TLS around `raw`; the handshake's own io error is kept apart so that the caller can
/// tell a timeout.
async fn tls_over(raw: Box<dyn Io>, host: &str, settings: &Settings) -> Result<tokio_rustls::client::TlsStream<Box<dyn Io>>, Handshake> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Handshake::Other(ConnectorError::Fatal(format!("{host}: {e}"))))?;
    let config = net::tls_config(settings).map_err(Handshake::Other)?;
    tokio_rustls::TlsConnector::from(config).connect(name, raw).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::TimedOut { Handshake::TimedOut(e) } else { Handshake::Other(net::tls_error(host, e)) }
    })
}

enum Handshake {
    TimedOut(std::io::Error),
    Other(ConnectorError),
}

impl Handshake {
    fn map_err(self, timed_out: impl FnOnce(std::io::Error) -> ConnectorError) -> ConnectorError {
        match self {
            Handshake::TimedOut(e) => timed_out(e),
            Handshake::Other(e) => e,
        }
    }
}

/// Up to `max` sessions, made when first needed and reused.
pub struct Pool {
    cfg: ImapConfig,
    settings: Settings,
    /// Sessions not in use (a plain mutex: it is never held across an await, and a
    /// returning lease must always get it).
    idle: std::sync::Mutex<Vec<Live>>,
    permits: Semaphore,
}

pub struct Lease<'a> {
    pool: &'a Pool,
    live: Option<Live>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Live;
    fn deref(&self) -> &Live {
        self.live.as_ref().expect("held")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Live {
        self.live.as_mut().expect("held")
    }
}

impl Lease<'_> {
    /// Drops the session instead of returning it (after an error it may be out of step).
    pub fn discard(mut self) {
        self.live = None;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // a session whose connection failed goes, whichever command found out
        if let Some(live) = self.live.take().filter(|l| !l.is_dead()) {
            live.deadline.disarm();
            self.pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(live);
        }
    }
}

impl Pool {
    pub fn new(cfg: ImapConfig, settings: Settings) -> Self {
        let max = settings.connections.clamp(1, 16);
        Pool { cfg, settings, idle: std::sync::Mutex::new(Vec::new()), permits: Semaphore::new(max) }
    }

    pub async fn get(&self) -> Result<Lease<'_>, ConnectorError> {
        let permit = self.permits.acquire().await.expect("never closed");
        let idle = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.retain(|l| !l.is_dead());
            idle.pop()
        };
        let live = match idle {
            Some(l) => l,
            None => connect(&self.cfg, &self.settings).await?,
        };
        live.deadline.arm();
        Ok(Lease { pool: self, live: Some(live), _permit: permit })
    }

    pub fn config(&self) -> &ImapConfig {
        &self.cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn conn(limit: Duration) -> (Conn, tokio::io::DuplexStream, Arc<Deadline>, Arc<AtomicBool>) {
        let (a, b) = tokio::io::duplex(64);
        let (deadline, dead) = (Deadline::new(limit, "mail.example:143".into()), Arc::new(AtomicBool::new(false)));
        (Conn::new(Box::new(a), Arc::new(AtomicI64::new(DEFAULT_BUDGET)), dead.clone(), deadline.clone()), b, deadline, dead)
    }

    #[tokio::test]
    async fn a_command_that_trickles_past_its_deadline_fails_and_the_session_goes() {
        let (mut c, mut server, deadline, dead) = conn(Duration::from_millis(200));
        // a byte every 30 ms: never silent long enough for the idle limit, never done
        tokio::spawn(async move {
            while server.write_all(b"*").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        });
        deadline.arm();
        let start = Instant::now();
        let mut buf = Vec::new();
        let e = c.read_to_end(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("FERRY_IMAP_COMMAND_TIMEOUT"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(2) && !buf.is_empty(), "{:?}, {} bytes", start.elapsed(), buf.len());
        assert!(dead.load(Ordering::SeqCst), "the session is not used again");
        assert!(imap_err("fetching", async_imap::error::Error::Io(e)).is_transient());
    }

    #[tokio::test]
    async fn a_silent_server_is_woken_from_at_the_deadline_and_no_deadline_waits() {
        let (mut c, mut server, deadline, _) = conn(Duration::from_millis(100));
        let mut buf = [0u8; 8];
        // disarmed (a session at rest in the pool): no limit
        assert!(tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await.is_err());
        deadline.arm();
        let e = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await.expect("woken").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        // a write that cannot go through is bounded too
        let (mut c, _server_keeps_quiet, deadline, _) = conn(Duration::from_millis(100));
        deadline.arm();
        let e = tokio::time::timeout(Duration::from_secs(5), c.write_all(&[0u8; 4096])).await.expect("woken").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        let _ = server.write_all(b"late").await;
    }

    #[test]
    fn refusals_map_by_their_response_codes() {
        let r = |text: &str| refusal("imap: x".into(), text);
        assert!(matches!(r("code: None, info: Some(\"[OVERQUOTA] Quota exceeded\")"), ConnectorError::QuotaExceeded(_)));
        assert!(matches!(r("[AUTHENTICATIONFAILED] Authentication failed."), ConnectorError::Unauthorized(_)));
        assert!(r("[UNAVAILABLE] Try again later").is_transient());
        assert!(matches!(r("code: Some(TryCreate), info: Some(\"Mailbox doesn't exist\")"), ConnectorError::NotFound(_)));
        assert!(matches!(r("[ALREADYEXISTS] Mailbox exists"), ConnectorError::Conflict(_)));
        assert!(matches!(r("Message too large"), ConnectorError::Item(_)));
    }
}
