//! A request's life: the states it passes through, the one table of allowed
//! transitions, and what each step records (identity verification, extension and its
//! reason, refusal and its reason with the right to complain). Every step returns a
//! [`Transition`] for the audit log.

use crate::deadline::{Deadline, DeadlineError, Period, Rule};
use crate::kind::RequestKind;
use crate::map::IdentityKind;
use crate::regime::Regime;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    VerifyingIdentity,
    InProgress,
    Extended,
    ReadyForReview,
    Delivered,
    Refused,
    Withdrawn,
}

use State::*;

/// Every allowed transition, `(from, to)`; anything else is refused.
pub const TRANSITIONS: [(State, State); 19] = [
    (Received, VerifyingIdentity),
    // the person's identity was already verified when the request came in (signed in)
    (Received, InProgress),
    (Received, Refused),
    (Received, Withdrawn),
    (VerifyingIdentity, InProgress),
    (VerifyingIdentity, Refused),
    (VerifyingIdentity, Withdrawn),
    (InProgress, Extended),
    (InProgress, ReadyForReview),
    (InProgress, Refused),
    (InProgress, Withdrawn),
    // a further extension, where the regime's rule allows more than one
    (Extended, Extended),
    (Extended, ReadyForReview),
    (Extended, Refused),
    (Extended, Withdrawn),
    // a reviewer sends the answer back for more work
    (ReadyForReview, InProgress),
    (ReadyForReview, Delivered),
    (ReadyForReview, Refused),
    (ReadyForReview, Withdrawn),
];

impl State {
    pub const ALL: [State; 8] = [Received, VerifyingIdentity, InProgress, Extended, ReadyForReview, Delivered, Refused, Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            Received => "received",
            VerifyingIdentity => "verifying_identity",
            InProgress => "in_progress",
            Extended => "extended",
            ReadyForReview => "ready_for_review",
            Delivered => "delivered",
            Refused => "refused",
            Withdrawn => "withdrawn",
        }
    }

    /// Whether `to` may follow this state.
    pub fn can_go_to(self, to: State) -> bool {
        TRANSITIONS.contains(&(self, to))
    }

    /// Whether the request is finished (nothing may follow).
    pub fn is_final(self) -> bool {
        !TRANSITIONS.iter().any(|(from, _)| *from == self)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<State, String> {
        State::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| format!("unknown request state `{s}`"))
    }
}

/// Why a controller refuses a request (GDPR Articles 12(2), 12(5), 15(4), 20; CCPA
/// 1798.130, 1798.145).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The data asked for is outside the right invoked (e.g. not processed on consent or
    /// contract, for Article 20).
    NotInScope,
    /// The person's identity could not be verified (Article 12(2) and 12(6)).
    IdentityNotVerified,
    /// Manifestly unfounded (Article 12(5)(b)).
    ManifestlyUnfounded,
    /// Excessive, in particular because repetitive (Article 12(5)(b)).
    Excessive,
    /// Answering would adversely affect the rights and freedoms of others (Articles
    /// 15(4), 20(4)).
    RightsOfOthers,
    /// The controller holds no personal data about the person.
    NoDataHeld,
    /// A legal exemption applies (e.g. national law under Article 23), named in the text.
    LegalExemption,
}

impl RefusalReason {
    pub fn describe(self) -> &'static str {
        match self {
            RefusalReason::NotInScope => "the data asked for is outside the scope of the right invoked",
            RefusalReason::IdentityNotVerified => "your identity could not be verified",
            RefusalReason::ManifestlyUnfounded => "the request is manifestly unfounded",
            RefusalReason::Excessive => "the request is excessive, in particular because of its repetitive character",
            RefusalReason::RightsOfOthers => "answering would adversely affect the rights and freedoms of others",
            RefusalReason::NoDataHeld => "we hold no personal data about you",
            RefusalReason::LegalExemption => "a legal exemption applies",
        }
    }
}

/// The person, as identified by the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
    /// How and when it was verified, once it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<Verification>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// How: "signed in to the account", "replied to a code sent to the address on file".
    pub how: String,
    pub on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub by: Period,
    pub reason: String,
    /// The day it was decided, and the person told.
    pub on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: RefusalReason,
    /// The controller's own words on why.
    pub details: String,
    /// The statement of the right to complain, from the regime.
    pub complaint: String,
    pub on: NaiveDate,
}

/// One request from a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    /// The regime's id.
    pub regime: String,
    pub kind: RequestKind,
    pub received: NaiveDate,
    pub identity: Identity,
    pub state: State,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    /// An open request of the same person's received before this one, which this one
    /// repeats: both are answered together, and neither is lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

/// A step a request took, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: State,
    pub to: State,
    /// Why, where the step has a reason (extension, refusal, verification method).
    pub reason: Option<String>,
}

impl Transition {
    /// The audit log's action for it: `from→to`.
    pub fn action(&self) -> String {
        format!("{}→{}", self.from, self.to)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a request cannot go from {from} to {to}")]
    Illegal { from: State, to: State },
    #[error("request {request} is under regime `{request_regime}`, not `{given}`")]
    WrongRegime { request: String, request_regime: String, given: String },
    #[error("{0} needs a reason")]
    NoReason(&'static str),
    #[error("cannot extend: {0}")]
    Extension(#[from] DeadlineError),
}

impl Request {
    /// A request just received.
    pub fn new(id: impl Into<String>, regime: &Regime, kind: RequestKind, received: NaiveDate, identity: Identity) -> Request {
        Request {
            id: id.into(),
            regime: regime.id.clone(),
            kind,
            received,
            identity,
            state: Received,
            extensions: Vec::new(),
            refusal: None,
            closed_on: None,
            duplicate_of: None,
        }
    }

    fn go(&mut self, to: State, reason: Option<String>) -> Result<Transition, LifecycleError> {
        if !self.state.can_go_to(to) {
            return Err(LifecycleError::Illegal { from: self.state, to });
        }
        let from = std::mem::replace(&mut self.state, to);
        Ok(Transition { from, to, reason })
    }

    fn check_regime(&self, regime: &Regime) -> Result<(), LifecycleError> {
        if regime.id != self.regime {
            return Err(LifecycleError::WrongRegime {
                request: self.id.clone(),
                request_regime: self.regime.clone(),
                given: regime.id.clone(),
            });
        }
        Ok(())
    }

    /// Starts checking who the person is.
    pub fn verify_identity(&mut self) -> Result<Transition, LifecycleError> {
        self.go(VerifyingIdentity, None)
    }

    /// Records that the person's identity is confirmed, `how` and `on` which day (the
    /// deadline may start then), and starts the work.
    pub fn identity_confirmed(&mut self, how: &str, on: NaiveDate) -> Result<Transition, LifecycleError> {
        if how.trim().is_empty() {
            return Err(LifecycleError::NoReason("confirming an identity"));
        }
        let t = self.go(InProgress, Some(format!("identity verified: {how}")))?;
        self.identity.verified = Some(Verification { how: how.to_string(), on });
        Ok(t)
    }

    /// Extends the deadline by `by`, for `reason`, told to the person `today`.
    pub fn extend(&mut self, regime: &Regime, by: Period, reason: &str, today: NaiveDate) -> Result<Transition, LifecycleError> {
        self.check_regime(regime)?;
        if reason.trim().is_empty() {
            return Err(LifecycleError::NoReason("an extension"));
        }
        if !self.state.can_go_to(Extended) {
            return Err(LifecycleError::Illegal { from: self.state, to: Extended });
        }
        let granted: Vec<Period> = self.extensions.iter().map(|e| e.by).collect();
        regime.deadline.check_extension(self.start(), &granted, by, today)?;
        let t = self.go(Extended, Some(format!("extended by {by}: {reason}")))?;
        self.extensions.push(Extension { by, reason: reason.to_string(), on: today });
        Ok(t)
    }

    /// The answer is ready for a reviewer.
    pub fn ready_for_review(&mut self) -> Result<Transition, LifecycleError> {
        self.go(ReadyForReview, None)
    }

    /// The reviewer sends it back, with why.
    pub fn send_back(&mut self, reason: &str) -> Result<Transition, LifecycleError> {
        self.go(InProgress, Some(reason.to_string()))
    }

    /// The answer was delivered `on` that day.
    pub fn deliver(&mut self, on: NaiveDate) -> Result<Transition, LifecycleError> {
        let t = self.go(Delivered, None)?;
        self.closed_on = Some(on);
        Ok(t)
    }

    /// Refuses the request for `reason`, in the controller's own `details`; the refusal
    /// carries the regime's statement of the right to complain.
    pub fn refuse(&mut self, regime: &Regime, reason: RefusalReason, details: &str, on: NaiveDate) -> Result<Transition, LifecycleError> {
        self.check_regime(regime)?;
        let complaint = regime.complaint_statement();
        let text = if details.trim().is_empty() { reason.describe().to_string() } else { format!("{}: {details}", reason.describe()) };
        let t = self.go(Refused, Some(text))?;
        self.refusal = Some(Refusal { reason, details: details.to_string(), complaint, on });
        self.closed_on = Some(on);
        Ok(t)
    }

    /// The person withdrew the request.
    pub fn withdraw(&mut self, on: NaiveDate) -> Result<Transition, LifecycleError> {
        let t = self.go(Withdrawn, None)?;
        self.closed_on = Some(on);
        Ok(t)
    }

    /// Whether `earlier`, still open, is a request of the same person (the same kind of
    /// identity with the same value: an email address compared without case, the others
    /// without surrounding spaces) that this one repeats.
    pub fn repeats(&self, earlier: &Request) -> bool {
        let norm = |i: &Identity| {
            let v = i.value.trim();
            if i.kind == IdentityKind::Email { v.to_lowercase() } else { v.to_owned() }
        };
        earlier.id != self.id
            && !earlier.state.is_final()
            && earlier.identity.kind == self.identity.kind
            && norm(&earlier.identity) == norm(&self.identity)
    }

    /// The day the deadline counts from: receipt, or identity confirmation if later.
    pub fn start(&self) -> NaiveDate {
        Rule::start(self.received, self.identity.verified.as_ref().map(|v| v.on))
    }

    /// The request's deadline under `regime`, with the extensions granted.
    pub fn deadline(&self, regime: &Regime) -> Result<Deadline, LifecycleError> {
        self.check_regime(regime)?;
        let granted: Vec<Period> = self.extensions.iter().map(|e| e.by).collect();
        Ok(regime.deadline.deadline(self.start(), &granted))
    }
}
