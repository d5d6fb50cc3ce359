//! Deadlines as data. A regime file says how long a controller has to answer
//! (`deadline = { months = 1, extension_months = 2 }` for the GDPR, `{ days = 45,
//! extension_days = 45, extensions = 1 }` for the CCPA); this module computes the dates.
//!
//! The clock starts on the day the request was received, or on the day the person's
//! identity was confirmed if that is later. A period of months ends on the same day
//! number that many months on, or on that month's last day when it has no such day (31
//! January + 1 month = 28 or 29 February); a period of days ends that many calendar days
//! on. An extension counts from the start too: one month extended by two further months
//! ends three months after the start. The person must be told of an extension, and why,
//! before the first period ends ("tell by").

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Days left at or under which an open request is flagged at risk: a week leaves time to
/// review and deliver, or to decide on and announce an extension.
pub const AT_RISK_DAYS: i64 = 7;

/// A length of time in calendar months or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Months(u32),
    Days(u32),
}

impl Period {
    /// The day this period after `start` ends (the last day to answer). Saturates at the
    /// last date chrono knows.
    pub fn after(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Months(n) => start.checked_add_months(Months::new(n)),
            Period::Days(n) => start.checked_add_days(Days::new(u64::from(n))),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    fn amount(self) -> u32 {
        match self {
            Period::Months(n) | Period::Days(n) => n,
        }
    }

    fn same_unit(self, other: Period) -> bool {
        matches!((self, other), (Period::Months(_), Period::Months(_)) | (Period::Days(_), Period::Days(_)))
    }

    fn plus(self, n: u32) -> Period {
        match self {
            Period::Months(m) => Period::Months(m + n),
            Period::Days(d) => Period::Days(d + n),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Months(1) => write!(f, "1 month"),
            Period::Months(n) => write!(f, "{n} months"),
            Period::Days(1) => write!(f, "1 day"),
            Period::Days(n) => write!(f, "{n} days"),
        }
    }
}

/// A regime's deadline rule: the period to answer in and how far it may be extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
pub struct Rule {
    pub period: Period,
    /// The most one extension may add (same unit as `period`); `None` when the regime
    /// allows none.
    pub extension: Option<Period>,
    /// How many extensions the rule allows (each up to `extension`); their sum is
    /// bounded by `extension × extensions`.
    pub extensions: u32,
}

/// The rule as written in a regime file.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    months: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension_months: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<u32>,
}

impl TryFrom<RawRule> for Rule {
    type Error = String;

    fn try_from(raw: RawRule) -> Result<Rule, String> {
        let period = match (raw.months, raw.days) {
            (Some(m), None) if (1..=12).contains(&m) => Period::Months(m),
            (None, Some(d)) if (1..=366).contains(&d) => Period::Days(d),
            (Some(_), None) => return Err("deadline: `months` must be 1 to 12".into()),
            (None, Some(_)) => return Err("deadline: `days` must be 1 to 366".into()),
            _ => return Err("deadline: give exactly one of `months` or `days`".into()),
        };
        let extension = match (raw.extension_months, raw.extension_days) {
            (None, None) => None,
            (Some(m), None) if (1..=12).contains(&m) => Some(Period::Months(m)),
            (None, Some(d)) if (1..=366).contains(&d) => Some(Period::Days(d)),
            (Some(_), Some(_)) => return Err("deadline: give at most one of `extension_months` or `extension_days`".into()),
            _ => return Err("deadline: an extension must be 1 to 12 months or 1 to 366 days".into()),
        };
        if let Some(ext) = extension
            && !ext.same_unit(period)
        {
            return Err("deadline: the extension must be in the same unit as the period (months with months, days with days)".into());
        }
        let extensions = match (extension, raw.extensions) {
            (None, None | Some(0)) => 0,
            (None, Some(_)) => return Err("deadline: `extensions` needs `extension_months` or `extension_days`".into()),
            (Some(_), None) => 1,
            (Some(_), Some(n)) if (1..=12).contains(&n) => n,
            (Some(_), Some(_)) => return Err("deadline: `extensions` must be 1 to 12".into()),
        };
        Ok(Rule { period, extension, extensions })
    }
}

impl From<Rule> for RawRule {
    fn from(rule: Rule) -> RawRule {
        let mut raw = RawRule::default();
        match rule.period {
            Period::Months(m) => raw.months = Some(m),
            Period::Days(d) => raw.days = Some(d),
        }
        match rule.extension {
            Some(Period::Months(m)) => raw.extension_months = Some(m),
            Some(Period::Days(d)) => raw.extension_days = Some(d),
            None => {}
        }
        if rule.extension.is_some() {
            raw.extensions = Some(rule.extensions);
        }
        raw
    }
}

/// Why an extension cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("this regime allows no extension of its deadline")]
    NoExtension,
    #[error("an extension of {asked} is more than the {left} this regime still allows")]
    TooLong { asked: Period, left: Period },
    #[error("an extension must be counted in {unit}")]
    WrongUnit { unit: &'static str },
    #[error("an extension must be of at least one day or month")]
    Empty,
    #[error("this regime allows {allowed} extension(s), all used")]
    TooMany { allowed: u32 },
    #[error("an extension must be given a reason")]
    NoReason,
    #[error("too late to extend: the person had to be told by {tell_by}, and it is {today}")]
    TooLate { tell_by: NaiveDate, today: NaiveDate },
}

impl Rule {
    /// The day the clock starts: receipt, or identity confirmation if later.
    pub fn start(received: NaiveDate, identity_confirmed: Option<NaiveDate>) -> NaiveDate {
        identity_confirmed.map_or(received, |c| c.max(received))
    }

    /// The deadline of a request whose clock started on `start`, extended by `extended`
    /// (the extensions granted so far, each checked by [`Rule::check_extension`]).
    pub fn deadline(&self, start: NaiveDate, extended: &[Period]) -> Deadline {
        let first = self.period.after(start);
        let total: u32 = extended.iter().map(|p| p.amount()).sum();
        let due = if total == 0 { first } else { self.period.plus(total).after(start) };
        Deadline { start, first, due, tell_by: first, extended_by: total }
    }

    /// The latest deadline this rule allows from `start`, with every extension.
    pub fn latest(&self, start: NaiveDate) -> NaiveDate {
        let most = self.extension.map_or(0, |e| e.amount() * self.extensions);
        self.period.plus(most).after(start)
    }

    /// Checks one more extension `by`, after those already `granted`, asked on `today`.
    pub fn check_extension(&self, start: NaiveDate, granted: &[Period], by: Period, today: NaiveDate) -> Result<(), DeadlineError> {
        let Some(ext) = self.extension else { return Err(DeadlineError::NoExtension) };
        if !by.same_unit(ext) {
            return Err(DeadlineError::WrongUnit { unit: if matches!(ext, Period::Months(_)) { "months" } else { "days" } });
        }
        if by.amount() == 0 {
            return Err(DeadlineError::Empty);
        }
        if granted.len() as u32 >= self.extensions {
            return Err(DeadlineError::TooMany { allowed: self.extensions });
        }
        let used: u32 = granted.iter().map(|p| p.amount()).sum();
        let left = (ext.amount() * self.extensions).saturating_sub(used).min(ext.amount());
        if by.amount() > left {
            let left = if matches!(ext, Period::Months(_)) { Period::Months(left) } else { Period::Days(left) };
            return Err(DeadlineError::TooLong { asked: by, left });
        }
        let tell_by = self.period.after(start);
        if today > tell_by {
            return Err(DeadlineError::TooLate { tell_by, today });
        }
        Ok(())
    }
}

/// A request's deadline, computed by its regime's [`Rule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// The day the clock started.
    pub start: NaiveDate,
    /// The end of the first period, before any extension.
    pub first: NaiveDate,
    /// The last day to answer, extensions included.
    pub due: NaiveDate,
    /// The last day to tell the person of an extension and its reason (the end of the
    /// first period).
    pub tell_by: NaiveDate,
    /// Months or days added by extensions (in the rule's unit).
    pub extended_by: u32,
}

impl Deadline {
    /// Days from `today` to the due day: 0 on the due day itself, negative once overdue.
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        (self.due - today).num_days()
    }

    /// Whether an open request is close to its deadline, or past it: [`AT_RISK_DAYS`] or
    /// fewer days left.
    pub fn at_risk(&self, today: NaiveDate) -> bool {
        self.days_left(today) <= AT_RISK_DAYS
    }

    /// Whether the due day has passed.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.days_left(today) < 0
    }
}
