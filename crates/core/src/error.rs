use std::io;
use std::time::{Duration, Instant};

/// What an account's refused authorization says: the user must connect the account
/// again (a new token set, a new password).
pub const RECONNECT: &str = "the account's authorization was revoked or expired: reconnect this account";

/// What a connector reports when an operation fails. The engine's reaction depends on the
/// variant: a throttle is waited out, transient errors are retried with backoff, item
/// errors (permanent, not found, conflict) fail the item and the job goes on, and
/// unauthorized, quota exceeded and fatal errors stop the job.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// Worth another try, after a backoff.
    #[error("{message}")]
    Transient { message: String },
    /// The server asked to be left alone until `until` (429, or 503 with Retry-After):
    /// worth another try then. Waiting is not a spent retry.
    #[error("{message}")]
    Throttled { message: String, until: Instant },
    /// The credentials were refused, and a refresh (where there is one) did not help:
    /// the job stops until the account is reconnected.
    #[error("{0}")]
    Unauthorized(String),
    /// The destination is full (507, IMAP `OVERQUOTA`): the job stops.
    #[error("{0}")]
    QuotaExceeded(String),
    /// A request quota of the service (a day's, a month's) is spent: the job pauses, and
    /// can go on from `resume_at`.
    #[error("{message}")]
    QuotaSpent { message: String, resume_at: chrono::DateTime<chrono::Utc> },
    /// What the item refers to is not there (404, 410, IMAP `NONEXISTENT`).
    #[error("{0}")]
    NotFound(String),
    /// The item clashes with what the server holds (409, 412, IMAP `ALREADYEXISTS`).
    #[error("{0}")]
    Conflict(String),
    /// This item cannot be transferred (a permanent refusal); the job goes on without it.
    #[error("{0}")]
    Item(String),
    /// The job cannot go on (destination refused, source unreadable).
    #[error("{0}")]
    Fatal(String),
}

impl ConnectorError {
    pub fn transient(message: impl Into<String>) -> Self {
        ConnectorError::Transient { message: message.into() }
    }

    /// A throttle of `wait` from now.
    pub fn throttled(message: impl Into<String>, wait: Duration) -> Self {
        let now = Instant::now();
        ConnectorError::Throttled { message: message.into(), until: now.checked_add(wait).unwrap_or(now + Duration::from_secs(86_400)) }
    }

    /// Unauthorized, saying that the account must be connected again, with `detail`.
    pub fn reconnect(detail: impl std::fmt::Display) -> Self {
        ConnectorError::Unauthorized(format!("{RECONNECT} ({detail})"))
    }

    /// Worth another try: transient, or throttled.
    pub fn is_transient(&self) -> bool {
        matches!(self, ConnectorError::Transient { .. } | ConnectorError::Throttled { .. })
    }

    /// The server asked for a pause: until when.
    pub fn throttled_until(&self) -> Option<Instant> {
        match self {
            ConnectorError::Throttled { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// The job cannot go on after it: fatal, unauthorized, quota exceeded or spent.
    pub fn stops_job(&self) -> bool {
        matches!(
            self,
            ConnectorError::Fatal(_)
                | ConnectorError::Unauthorized(_)
                | ConnectorError::QuotaExceeded(_)
                | ConnectorError::QuotaSpent { .. }
        )
    }

    /// A spent request quota: when the job can go on.
    pub fn resume_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            ConnectorError::QuotaSpent { resume_at, .. } => Some(*resume_at),
            _ => None,
        }
    }

    /// Maps a local I/O error: a full or read-only disk or a permission problem stops the
    /// job; an interrupted call is retried; anything else fails only the item at hand.
    pub fn from_io(context: &str, e: io::Error) -> Self {
        use io::ErrorKind::*;
        let msg = format!("{context}: {e}");
        match e.kind() {
            StorageFull | QuotaExceeded => ConnectorError::QuotaExceeded(msg),
            ReadOnlyFilesystem | PermissionDenied => ConnectorError::Fatal(msg),
            Interrupted | WouldBlock | TimedOut => ConnectorError::transient(msg),
            NotFound => ConnectorError::NotFound(msg),
            _ => ConnectorError::Item(msg),
        }
    }
}

/// An item that could be located but not read (bad syntax, invalid encoding, over a limit).
/// `location` says where: a file, a line, an index.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct ItemError {
    /// The vertical it would have been (a page of a stream may hold several).
    pub vertical: crate::Vertical,
    pub id: String,
    pub location: String,
    pub reason: String,
    /// Not a failure: the source holds it but by its own rule gives it to no app (Google
    /// Photos' library beyond what ferry put there). Reported as skipped, with why.
    pub skipped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(ConnectorError::throttled("429", Duration::from_secs(1)).is_transient());
        assert!(ConnectorError::throttled("429", Duration::MAX).throttled_until().is_some(), "a huge wait does not overflow");
        assert!(ConnectorError::reconnect("invalid_grant").stops_job());
        assert!(ConnectorError::reconnect("invalid_grant").to_string().contains("reconnect this account"));
        assert!(ConnectorError::QuotaExceeded("507".into()).stops_job());
        let spent = ConnectorError::QuotaSpent { message: "daily quota".into(), resume_at: chrono::Utc::now() };
        assert!(spent.stops_job() && !spent.is_transient() && spent.resume_at().is_some());
        for e in [ConnectorError::NotFound("404".into()), ConnectorError::Conflict("409".into()), ConnectorError::Item("x".into())] {
            assert!(!e.stops_job() && !e.is_transient(), "{e}");
        }
        let full = ConnectorError::from_io("writing", io::Error::from(io::ErrorKind::StorageFull));
        assert!(matches!(full, ConnectorError::QuotaExceeded(_)));
    }
}
