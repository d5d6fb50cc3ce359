//! What a request asks for: portability (GDPR Article 20: the data, machine-readable,
//! to take elsewhere), access (Article 15, CCPA right to know: the data and how it is
//! processed), or both. When a request does not make it clear, ferry answers both: the
//! person gets the machine-readable package and the readable report.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Portability,
    Access,
    /// Both parts: the default when the request is unclear.
    #[default]
    Both,
}

/// One part of the answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Portability,
    Access,
}

impl RequestKind {
    /// The parts a request of this kind is answered with.
    pub fn parts(self) -> &'static [Part] {
        match self {
            RequestKind::Portability => &[Part::Portability],
            RequestKind::Access => &[Part::Access],
            RequestKind::Both => &[Part::Portability, Part::Access],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Portability => "portability",
            RequestKind::Access => "access",
            RequestKind::Both => "both",
        }
    }

    /// The kind named by `text`, or [`RequestKind::Both`] when there is none or it is
    /// not one of the three names.
    pub fn or_both(text: Option<&str>) -> RequestKind {
        text.and_then(|t| t.parse().ok()).unwrap_or_default()
    }
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Portability => "portability",
            Part::Access => "access",
        }
    }
}

impl FromStr for RequestKind {
    type Err = String;

    fn from_str(s: &str) -> Result<RequestKind, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portability" => Ok(RequestKind::Portability),
            "access" => Ok(RequestKind::Access),
            "both" => Ok(RequestKind::Both),
            other => Err(format!("unknown request kind `{other}`: portability, access or both")),
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
