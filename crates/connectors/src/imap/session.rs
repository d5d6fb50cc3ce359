//! IMAP connections: TLS or STARTTLS, login, a read budget that bounds what a server may
//! send for one command, and a small pool so that several commands run at once.

use super::config::{ImapConfig, Tls};
use super::namespace::{self, Namespace};
use super::timed::Timed;
use crate::{Settings, net};
use ferry_core::ConnectorError;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tracing::instrument::WithSubscriber;

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Most a server may send in answer to one ordinary command.
pub const DEFAULT_BUDGET: i64 = 64 << 20;

/// The connection, counting what the server sends against a budget: a server that
/// claims or sends more than it should gets an error, not our memory.
pub struct Conn {
    inner: Box<dyn Io>,
    budget: Arc<AtomicI64>,
    /// Set once the connection failed or the server closed it: the session is not reused.
    dead: Arc<AtomicBool>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("imap connection")
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
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
    fn failed<T>(&self, r: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(_)) = &r {
            self.dead.store(true, Ordering::SeqCst);
        }
        r
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.failed(r)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.failed(r)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.failed(r)
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
}

impl Live {
    /// Whether the connection failed or was closed by the server (then the session is
    /// dropped, never handed out again).
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Lets the server send up to `bytes` for the next command.
    pub fn allow(&self, bytes: i64) {
        self.budget.store(bytes, Ordering::SeqCst);
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
        Error::No(_) => ConnectorError::Item(msg),
        _ => ConnectorError::Fatal(msg),
    }
}

pub async fn connect(cfg: &ImapConfig, settings: &Settings) -> Result<Live, ConnectorError> {
    let tcp = net::connect(&cfg.host, cfg.port, settings).await?;
    let server = format!("{}:{}", cfg.host, cfg.port);
    // every read and write below may wait at most cfg.timeout, the TLS handshake included
    let tcp = Timed::new(tcp, cfg.timeout, server.clone());
    let budget = Arc::new(AtomicI64::new(DEFAULT_BUDGET));
    let dead = Arc::new(AtomicBool::new(false));
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
            Conn { inner: Box::new(tls), budget: budget.clone(), dead: dead.clone() }
        }
        Tls::StartTls => {
            let mut client = async_imap::Client::new(Conn { inner: Box::new(tcp), budget: budget.clone(), dead: dead.clone() });
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
            Conn { inner: Box::new(tls), budget: budget.clone(), dead: dead.clone() }
        }
    };
    let mut client = async_imap::Client::new(conn);
    if cfg.tls == Tls::Implicit {
        client.read_response().await.map_err(|e| setup("the greeting", e))?;
    }
    let password = settings.password.as_ref().map(|p| p.0.as_str()).unwrap_or_default();
    // async-imap logs each command it sends (log::trace!, which FERRY_LOG=trace shows):
    // the LOGIN command runs with logging off so that the password is never written out
    let login = client.login(&cfg.user, password).with_subscriber(tracing::subscriber::NoSubscriber::default()).await;
    let session = login.map_err(|(e, _)| match e {
        async_imap::error::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            ConnectorError::transient(format!("imap: {e}, waiting for the answer to LOGIN"))
        }
        // the connection went, not the credentials
        async_imap::error::Error::Io(_) | async_imap::error::Error::ConnectionLost => {
            ConnectorError::transient(format!("imap: {}: the connection was lost while logging in: {e}", cfg.host))
        }
        e => ConnectorError::Fatal(format!("imap: login as {} at {} failed: {e}", cfg.user, cfg.host)),
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
    Ok(Live { session, selected: None, literal_plus, multiappend, condstore, namespace, budget, dead })
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
        Ok(Lease { pool: self, live: Some(live), _permit: permit })
    }

    pub fn config(&self) -> &ImapConfig {
        &self.cfg
    }
}
