//! ferry's application layer: [`JobService`] creates, validates, runs, pauses, cancels
//! and resumes jobs, reports on them, and publishes their progress as [`Event`]s. The
//! `ferry` command is a thin shell over it (arguments, files, prompts, printing), and the
//! server is another: neither knows how a job is put together.
//!
//! A request is checked whole before a job exists ([`JobService::plan`]): a wrong one is
//! an [`AppError::Usage`] and leaves nothing behind. Connectors are told apart by their
//! declared capabilities only, never by their names.

mod error;
mod events;
mod plan;
mod request;
mod service;
mod worker;

pub use error::{AppError, Side};
pub use events::Event;
pub use ferry_engine::CancellationToken;
pub use plan::plan;
pub use request::{RunOptions, TransferRequest};
pub use service::{Cancelled, Finished, JobService};
pub use worker::{IDLE_MAX, IDLE_MIN, WorkerEvent};
