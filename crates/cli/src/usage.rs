//! A mistake in the command line: `main` exits with code 2 for it. What the service finds
//! wrong with a request before a job exists ([`ferry_app::AppError::is_usage`]) is one too.

use anyhow::anyhow;

#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(msg: impl std::fmt::Display) -> anyhow::Error {
    anyhow!(UsageError(msg.to_string()))
}
