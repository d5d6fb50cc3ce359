//! A socket whose reads and writes may each wait at most a set time: a server that accepts
//! and never answers, or stops reading, gives an error (`ErrorKind::TimedOut`) naming it,
//! not a job that hangs. The clock starts when a read (or write) first has to wait and
//! stops when it makes progress, so a long transfer that keeps moving never times out.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long a read or write waits when FERRY_IMAP_TIMEOUT does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The wait limit from FERRY_IMAP_TIMEOUT (seconds, fractions allowed), else the default.
pub fn timeout_from_env() -> Result<Duration, ferry_core::ConnectorError> {
    crate::net::seconds_from_env("FERRY_IMAP_TIMEOUT", DEFAULT_TIMEOUT)
}

/// How long one IMAP command may take in all when FERRY_IMAP_COMMAND_TIMEOUT does not
/// say: a server that keeps sending a byte now and then never trips the wait limit above,
/// and this bounds it.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

pub fn command_timeout_from_env() -> Result<Duration, ferry_core::ConnectorError> {
    crate::net::seconds_from_env("FERRY_IMAP_COMMAND_TIMEOUT", DEFAULT_COMMAND_TIMEOUT)
}

pub struct Timed<S> {
    inner: S,
    limit: Duration,
    /// `host:port`, for the error.
    server: String,
    read_deadline: Option<Pin<Box<Sleep>>>,
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> Timed<S> {
    pub fn new(inner: S, limit: Duration, server: String) -> Self {
        Timed { inner, limit, server, read_deadline: None, write_deadline: None }
    }
}

/// Polls the deadline of an operation that has to wait (starting it if needed); the error
/// once it has passed.
fn expired(
    deadline: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
    what: &str,
    server: &str,
) -> Option<std::io::Error> {
    let d = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
    if d.as_mut().poll(cx).is_ready() {
        *deadline = None;
        return Some(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{server} {what} for {} s (FERRY_IMAP_TIMEOUT)", fmt_secs(limit)),
        ));
    }
    None
}

pub fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 { format!("{s:.0}") } else { format!("{s}") }
}

impl<S: AsyncRead + Unpin> AsyncRead for Timed<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending => match expired(&mut this.read_deadline, this.limit, cx, "sent nothing", &this.server) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> Timed<S> {
    fn waited<T>(&mut self, r: Poll<std::io::Result<T>>, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                self.write_deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending => match expired(&mut self.write_deadline, self.limit, cx, "took nothing we sent", &self.server) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timed<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.waited(r, cx)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.waited(r, cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.waited(r, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_silent_peer_times_out_and_a_talking_one_does_not() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut t = Timed::new(a, Duration::from_millis(50), "mail.example:143".into());
        let mut buf = [0u8; 4];
        let e = t.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("mail.example:143 sent nothing for 0.05 s"), "{e}");
        b.write_all(b"ok").await.unwrap();
        assert_eq!(t.read(&mut buf).await.unwrap(), 2, "the clock restarts with each read");
        // a peer that does not read: the write waits, then fails
        let big = vec![0u8; 1024];
        let e = t.write_all(&big).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("took nothing we sent"), "{e}");
    }
}
