use ferry_core::{Stream, Vertical};
use ferry_jobs::Outcome;

/// What the engine tells whoever watches (a progress bar, a log, the server).
pub trait Progress: Send + Sync {
    fn stream_started(&self, _stream: &Stream) {}
    fn item_done(&self, _vertical: Vertical, _outcome: Outcome, _bytes: u64) {}
    fn retrying(&self, _what: &str, _error: &str, _delay: std::time::Duration) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}
