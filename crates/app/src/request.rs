use ferry_connectors::{Credential, Settings};
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
    /// Whom the job belongs to (a person or an operator of the server); none for the CLI.
    pub owner: Option<String>,
}

/// How to run a job this time: nothing here is kept with the job, except the
/// credentials, which are sealed in the store so that a resume needs them no more.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Items in flight; at most, and by default, what the destination connector declares.
    pub concurrency: Option<usize>,
    /// Keys, TLS and network choices handed to the connectors (their `credential` and
    /// `job_id` are set per side and per job by the service).
    pub settings: Settings,
    /// A password, a token set or an API key for each side that needs one; given again,
    /// it replaces the one kept for the job (reconnecting an account).
    pub source_credential: Option<Credential>,
    pub destination_credential: Option<Credential>,
}

impl RunOptions {
    /// The credential given for one side.
    pub fn credential(&self, side: crate::Side) -> Option<&Credential> {
        match side {
            crate::Side::Source => self.source_credential.as_ref(),
            crate::Side::Destination => self.destination_credential.as_ref(),
        }
        .filter(|c| !c.is_none())
    }

    pub fn credential_mut(&mut self, side: crate::Side) -> &mut Option<Credential> {
        match side {
            crate::Side::Source => &mut self.source_credential,
            crate::Side::Destination => &mut self.destination_credential,
        }
    }
}
