use ferry_connectors::{Secret, Settings};
use ferry_core::Vertical;
use ferry_jobs::JobOptions;

/// A transfer someone asks for, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct TransferRequest {
    pub source: String,
    pub destination: String,
    /// Only these verticals; empty for every one both sides support.
    pub only: Vec<Vertical>,
    pub options: JobOptions,
}

/// How to run a job this time: nothing here is kept with the job, except the passwords,
/// which are sealed in the store so that a resume needs them no more.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Items in flight; at most, and by default, what the destination connector declares.
    pub concurrency: Option<usize>,
    /// Keys, TLS and network choices handed to the connectors (their `password` and
    /// `job_id` are set per side and per job by the service).
    pub settings: Settings,
    pub source_password: Option<Secret>,
    pub destination_password: Option<Secret>,
}

impl RunOptions {
    /// The password given for one side.
    pub fn password(&self, side: crate::Side) -> Option<&Secret> {
        match side {
            crate::Side::Source => self.source_password.as_ref(),
            crate::Side::Destination => self.destination_password.as_ref(),
        }
    }
}
