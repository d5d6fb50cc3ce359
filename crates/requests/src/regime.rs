//! Regimes as data: each law ferry answers requests under is one TOML file saying which
//! data each right covers, what is left out and why, its deadline rule and where the
//! person may complain. The built-in ones (`regimes/*.toml` in this crate) are GDPR,
//! UK GDPR and CCPA; a controller adds another by writing a file ([`Regime::load`]).

use crate::deadline::Rule;
use crate::kind::Part;
use crate::map::{Basis, Origin};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The regime files built into ferry, by id.
const BUILTIN: [(&str, &str); 3] = [
    ("gdpr", include_str!("../regimes/gdpr.toml")),
    ("uk-gdpr", include_str!("../regimes/uk-gdpr.toml")),
    ("ccpa", include_str!("../regimes/ccpa.toml")),
];

/// The largest regime file read.
pub const MAX_REGIME_BYTES: usize = 256 * 1024;

/// A law under which requests are answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    /// Short id requests are recorded with (`gdpr`, `uk-gdpr`, `ccpa`).
    pub id: String,
    /// The law's full name.
    pub name: String,
    /// Who the person may complain to.
    pub authority: String,
    /// The statement of the right to complain, given with every refusal and delivery;
    /// `{authority}` is replaced by [`Regime::authority`].
    pub complaint: String,
    /// The person's other rights over their data, stated in an access answer
    /// (supplementary information `rights`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// The deadline rule.
    pub deadline: Rule,
    /// Where the deadline rule comes from (`Article 12(3) GDPR`).
    pub deadline_source: String,
    /// The right to receive one's data in a machine-readable form, if the law has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portability: Option<Right>,
    /// The right to know what data is held, if the law has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Right>,
}

/// What one right covers and how ferry explains what it does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Right {
    /// Its name (`right to data portability`).
    pub right: String,
    /// Where it is in the law (`Article 20 GDPR`).
    pub article: String,
    /// Origins it covers.
    pub origins: Vec<Origin>,
    /// Legal bases it covers.
    pub bases: Vec<Basis>,
    /// Whether it covers only data processed by automated means.
    #[serde(default)]
    pub automated_only: bool,
    /// How far back it reaches, in months, for tables with a `recorded_at` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback_months: Option<u32>,
    /// Why data of an origin it does not cover is left out; `{origin}` is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_left_out: Option<String>,
    /// Why data on a basis it does not cover is left out; `{basis}` is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis_left_out: Option<String>,
    /// Why data processed by hand is left out (when `automated_only`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_left_out: Option<String>,
    /// Why a column holding other people's data is withheld.
    pub others_withheld: String,
    /// The supplementary information given with the data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplementary: Vec<Supplementary>,
}

/// Information about the processing a right entitles the person to, beyond the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Supplementary {
    Purposes,
    Categories,
    Recipients,
    Retention,
    Source,
    AutomatedDecisions,
    Rights,
    Complaint,
}

/// Why a regime file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegimeError {
    #[error("no regime named `{0}` is built in (built in: gdpr, uk-gdpr, ccpa)")]
    Unknown(String),
    #[error("cannot read the regime file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the regime file is {bytes} bytes, more than the {limit} allowed")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the regime file is not valid: {0}")]
    Invalid(String),
    #[error("regime `{regime}` has no {part} right")]
    NoSuchRight { regime: String, part: &'static str },
}

impl Regime {
    /// The built-in regime `id`.
    pub fn builtin(id: &str) -> Result<Regime, RegimeError> {
        let (_, text) = BUILTIN.iter().find(|(name, _)| *name == id).ok_or_else(|| RegimeError::Unknown(id.to_string()))?;
        Regime::from_toml(text)
    }

    /// Every built-in regime.
    pub fn builtins() -> Vec<Regime> {
        BUILTIN.iter().map(|(_, text)| Regime::from_toml(text).expect("built-in regimes are valid")).collect()
    }

    /// Reads a regime from a file: a controller's own, or a changed copy of a built-in one.
    pub fn load(path: &Path) -> Result<Regime, RegimeError> {
        let read_error = |e: std::io::Error| RegimeError::Read { path: path.display().to_string(), reason: e.to_string() };
        let len = std::fs::metadata(path).map_err(read_error)?.len();
        if len > MAX_REGIME_BYTES as u64 {
            return Err(RegimeError::TooLarge { bytes: usize::try_from(len).unwrap_or(usize::MAX), limit: MAX_REGIME_BYTES });
        }
        Regime::from_toml(&std::fs::read_to_string(path).map_err(read_error)?)
    }

    /// Parses and checks a regime.
    pub fn from_toml(text: &str) -> Result<Regime, RegimeError> {
        if text.len() > MAX_REGIME_BYTES {
            return Err(RegimeError::TooLarge { bytes: text.len(), limit: MAX_REGIME_BYTES });
        }
        let regime: Regime = toml::from_str(text).map_err(|e| RegimeError::Invalid(e.to_string().trim_end().to_string()))?;
        regime.check()?;
        Ok(regime)
    }

    fn check(&self) -> Result<(), RegimeError> {
        let invalid = |m: String| Err(RegimeError::Invalid(format!("regime `{}`: {m}", self.id)));
        if self.id.trim().is_empty() || !self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return invalid("its id must be letters, digits, - or _".into());
        }
        if self.portability.is_none() && self.access.is_none() {
            return invalid("it must describe at least one right, [portability] or [access]".into());
        }
        for (part, right) in [("portability", &self.portability), ("access", &self.access)] {
            let Some(right) = right else { continue };
            if Origin::ALL.iter().any(|o| !right.origins.contains(o)) && right.origin_left_out.is_none() {
                return invalid(format!("[{part}] leaves out some origins but gives no `origin_left_out` reason"));
            }
            if Basis::ALL.iter().any(|b| !right.bases.contains(b)) && right.basis_left_out.is_none() {
                return invalid(format!("[{part}] leaves out some legal bases but gives no `basis_left_out` reason"));
            }
            if right.automated_only && right.manual_left_out.is_none() {
                return invalid(format!("[{part}] covers automated processing only but gives no `manual_left_out` reason"));
            }
            if right.supplementary.contains(&Supplementary::Rights) && self.rights.is_none() {
                return invalid(format!("[{part}] lists the supplementary information `rights` but the regime states no `rights`"));
            }
            if right.lookback_months.is_some_and(|m| m == 0 || m > 1200) {
                return invalid(format!("[{part}] lookback_months must be 1 to 1200"));
            }
        }
        Ok(())
    }

    /// The right that answers `part` of a request.
    pub fn right(&self, part: Part) -> Result<&Right, RegimeError> {
        let right = match part {
            Part::Portability => &self.portability,
            Part::Access => &self.access,
        };
        right.as_ref().ok_or(RegimeError::NoSuchRight { regime: self.id.clone(), part: part.as_str() })
    }

    /// The statement of the person's right to complain.
    pub fn complaint_statement(&self) -> String {
        self.complaint.replace("{authority}", &self.authority)
    }
}

impl Right {
    /// Whether the right covers data of `origin` on `basis`, and if not, why.
    pub fn covers(&self, origin: Origin, basis: Basis, automated: bool) -> Result<(), String> {
        if !self.origins.contains(&origin) {
            return Err(self.origin_left_out.as_deref().unwrap_or("{origin} data is not covered").replace("{origin}", origin.as_str()));
        }
        if !self.bases.contains(&basis) {
            let words = basis.as_str().replace('_', " ");
            return Err(self.basis_left_out.as_deref().unwrap_or("data processed on {basis} is not covered").replace("{basis}", &words));
        }
        if self.automated_only && !automated {
            return Err(self.manual_left_out.clone().unwrap_or_else(|| "data not processed by automated means is not covered".into()));
        }
        Ok(())
    }
}
