//! Progress, published to whoever subscribes (a web page, a log); the CLI's own progress
//! bar is handed to [`crate::JobService::run`] directly.

use ferry_core::{Stream, Vertical};
use ferry_engine::Progress;
use ferry_jobs::{JobState, Outcome};
use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        job: String,
    },
    /// A stream of the source is being read (a folder tree, an account's mail).
    Stream {
        job: String,
        stream: String,
        verticals: Vec<Vertical>,
    },
    Item {
        job: String,
        vertical: Vertical,
        outcome: Outcome,
        bytes: u64,
    },
    Retrying {
        job: String,
        what: String,
        error: String,
        delay_ms: u64,
    },
    Ended {
        job: String,
        state: JobState,
        reason: Option<String>,
    },
}

/// Where events go: every one to [`Events::all`]'s subscribers; all but the per-item ones
/// to [`Events::milestones`]'s too, for followers (a page, an event stream) that would
/// otherwise wake up for every item of a job.
pub(crate) struct Events {
    pub all: broadcast::Sender<Event>,
    pub milestones: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events { all: broadcast::channel(1024).0, milestones: broadcast::channel(256).0 }
    }
}

impl Events {
    pub fn send(&self, e: Event) {
        if !matches!(e, Event::Item { .. }) && self.milestones.receiver_count() > 0 {
            let _ = self.milestones.send(e.clone());
        }
        if self.all.receiver_count() > 0 {
            let _ = self.all.send(e);
        }
    }

    fn listened(&self) -> bool {
        self.all.receiver_count() > 0 || self.milestones.receiver_count() > 0
    }
}

/// Passes the engine's progress on to the caller's and to the subscribers. Per-item events
/// are made only while someone listens.
pub(crate) struct Publish<'a> {
    pub job: &'a str,
    pub events: &'a Events,
    pub inner: &'a dyn Progress,
}

impl Publish<'_> {
    fn send(&self, e: impl FnOnce() -> Event) {
        if self.events.listened() {
            // a subscriber that lags loses old events, never holds up the job
            self.events.send(e());
        }
    }
}

impl Progress for Publish<'_> {
    fn stream_started(&self, stream: &Stream) {
        self.inner.stream_started(stream);
        self.send(|| Event::Stream { job: self.job.to_owned(), stream: stream.name.clone(), verticals: stream.verticals.clone() });
    }

    fn item_done(&self, vertical: Vertical, outcome: Outcome, bytes: u64) {
        self.inner.item_done(vertical, outcome, bytes);
        self.send(|| Event::Item { job: self.job.to_owned(), vertical, outcome, bytes });
    }

    fn retrying(&self, what: &str, error: &str, delay: std::time::Duration) {
        self.inner.retrying(what, error, delay);
        self.send(|| Event::Retrying {
            job: self.job.to_owned(),
            what: what.to_owned(),
            error: error.to_owned(),
            delay_ms: delay.as_millis() as u64,
        });
    }
}
