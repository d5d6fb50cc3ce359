use ferry_jobs::StoreError;

/// Which end of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }

    /// The name its sealed credential has in the job store.
    pub(crate) fn secret_name(self) -> &'static str {
        match self {
            Side::Source => "source_credential",
            Side::Destination => "destination_credential",
        }
    }

    /// Where an older ferry kept the side's password (the bare password, sealed).
    pub(crate) fn legacy_secret_name(self) -> &'static str {
        match self {
            Side::Source => "source_password",
            Side::Destination => "destination_password",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is wrong (a command line, a form): nothing was created or run. The
    /// message says what to do.
    #[error("{0}")]
    Usage(String),
    /// A side needs a password (or another credential its connector takes), and none was
    /// given or kept for the job.
    #[error("the {side} {uri} needs a password")]
    MissingPassword { side: Side, uri: String },
    /// Another process runs this job now.
    #[error("job {job} is being run by {holder}")]
    Busy { job: String, holder: String },
    /// This process lost its lease on the job while it ran it: the lease expired (the
    /// process was stalled past it) or another worker took the job over. The run stopped
    /// at once and wrote nothing more; the job is the other worker's now.
    #[error("lost the job's lease; another worker runs it ({0})")]
    LeaseLost(String),
    #[error(transparent)]
    Store(StoreError),
    /// What keeps a job from starting: the service's key or locks, a destination that
    /// refuses it, a connector that cannot be opened. The job is left as it was.
    #[error("{0}")]
    Failed(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::LeaseLost(why) => AppError::LeaseLost(why),
            e => AppError::Store(e),
        }
    }
}

impl AppError {
    /// Whether the request was at fault (a usage error, exit 2 for the CLI).
    pub fn is_usage(&self) -> bool {
        matches!(self, AppError::Usage(_) | AppError::MissingPassword { .. })
    }
}

pub(crate) fn usage(msg: impl std::fmt::Display) -> AppError {
    AppError::Usage(msg.to_string())
}
