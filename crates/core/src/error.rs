use std::io;
use std::time::Duration;

/// What a connector reports when an operation fails. The engine's reaction depends on the
/// variant: transient errors are retried, item errors skip the item, fatal errors stop the job.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// Worth another try, after `retry_after` if the server said so.
    #[error("{message}")]
    Transient { message: String, retry_after: Option<Duration> },
    /// This item cannot be transferred; the job goes on without it.
    #[error("{0}")]
    Item(String),
    /// The job cannot go on (credentials revoked, destination full, source unreadable).
    #[error("{0}")]
    Fatal(String),
}

impl ConnectorError {
    pub fn transient(message: impl Into<String>) -> Self {
        ConnectorError::Transient { message: message.into(), retry_after: None }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, ConnectorError::Transient { .. })
    }

    /// Maps a local I/O error: a full or read-only disk or a permission problem stops the
    /// job; an interrupted call is retried; anything else fails only the item at hand.
    pub fn from_io(context: &str, e: io::Error) -> Self {
        use io::ErrorKind::*;
        let msg = format!("{context}: {e}");
        match e.kind() {
            StorageFull | QuotaExceeded | ReadOnlyFilesystem | PermissionDenied => ConnectorError::Fatal(msg),
            Interrupted | WouldBlock | TimedOut => ConnectorError::transient(msg),
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
}
