//! The request lifecycle: the transition table, what each step records, refusals with
//! the right to complain, and the deadline moving with identity confirmation.

use chrono::NaiveDate;
use ferry_requests::deadline::{DeadlineError, Period};
use ferry_requests::lifecycle::{Identity, LifecycleError, RefusalReason, Request, State, TRANSITIONS};
use ferry_requests::map::IdentityKind;
use ferry_requests::{Regime, RequestKind};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn request(regime: &Regime) -> Request {
    let identity = Identity { kind: IdentityKind::Email, value: "ada@example.org".into(), verified: None };
    Request::new("r-1", regime, RequestKind::default(), d(2027, 1, 31), identity)
}

#[test]
fn the_transition_table_allows_exactly_the_documented_steps() {
    use State::*;
    for from in State::ALL {
        for to in State::ALL {
            assert_eq!(from.can_go_to(to), TRANSITIONS.contains(&(from, to)), "{from} → {to}");
        }
    }
    assert!(Received.can_go_to(VerifyingIdentity));
    assert!(InProgress.can_go_to(Extended));
    assert!(Extended.can_go_to(Extended));
    assert!(!ReadyForReview.can_go_to(Extended));
    assert!(!Received.can_go_to(Delivered));
    for done in [Delivered, Refused, Withdrawn] {
        assert!(done.is_final());
        assert!(State::ALL.iter().all(|to| !done.can_go_to(*to)));
    }
    assert!(!InProgress.is_final());
    // every state but the first can be reached, and every open one can be withdrawn
    for s in State::ALL.into_iter().filter(|s| *s != Received) {
        assert!(TRANSITIONS.iter().any(|(_, to)| *to == s), "{s} unreachable");
    }
    for s in State::ALL.into_iter().filter(|s| !s.is_final()) {
        assert!(s.can_go_to(Withdrawn) && s.can_go_to(Refused), "{s}");
    }
    assert_eq!("ready_for_review".parse::<State>(), Ok(ReadyForReview));
    assert!("shipped".parse::<State>().is_err());
}

#[test]
fn a_request_goes_from_receipt_to_delivery_recording_each_step() {
    let gdpr = Regime::builtin("gdpr").unwrap();
    let mut r = request(&gdpr);
    assert_eq!(r.kind, RequestKind::Both);
    assert_eq!(r.state, State::Received);
    let t = r.verify_identity().unwrap();
    assert_eq!((t.from, t.to, t.action()), (State::Received, State::VerifyingIdentity, "received→verifying_identity".to_string()));
    let t = r.identity_confirmed("replied to a code sent to the address on file", d(2027, 2, 3)).unwrap();
    assert_eq!(t.reason.as_deref(), Some("identity verified: replied to a code sent to the address on file"));
    assert_eq!(r.identity.verified.as_ref().unwrap().on, d(2027, 2, 3));
    // the deadline now counts from the confirmation
    assert_eq!(r.deadline(&gdpr).unwrap().due, d(2027, 3, 3));
    let t = r.extend(&gdpr, Period::Months(2), "twelve years of orders across three systems", d(2027, 2, 10)).unwrap();
    assert_eq!(t.to, State::Extended);
    assert_eq!(r.deadline(&gdpr).unwrap().due, d(2027, 5, 3));
    r.ready_for_review().unwrap();
    r.send_back("order items missing").unwrap();
    assert_eq!(r.state, State::InProgress);
    r.ready_for_review().unwrap();
    r.deliver(d(2027, 3, 1)).unwrap();
    assert_eq!((r.state, r.closed_on), (State::Delivered, Some(d(2027, 3, 1))));
    assert_eq!(r.withdraw(d(2027, 3, 2)), Err(LifecycleError::Illegal { from: State::Delivered, to: State::Withdrawn }));
}

#[test]
fn an_illegal_transition_names_both_states() {
    let gdpr = Regime::builtin("gdpr").unwrap();
    let mut r = request(&gdpr);
    let err = r.deliver(d(2027, 2, 1)).unwrap_err();
    assert_eq!(err.to_string(), "a request cannot go from received to delivered");
    assert_eq!(r.state, State::Received, "a refused step changes nothing");
    let err = r.extend(&gdpr, Period::Months(1), "complex", d(2027, 2, 1)).unwrap_err();
    assert_eq!(err, LifecycleError::Illegal { from: State::Received, to: State::Extended });
    assert!(r.extensions.is_empty());
}

#[test]
fn extensions_need_a_reason_and_must_fit_the_rule() {
    let gdpr = Regime::builtin("gdpr").unwrap();
    let mut r = request(&gdpr);
    r.identity_confirmed("signed in", d(2027, 1, 31)).unwrap();
    assert_eq!(r.extend(&gdpr, Period::Months(1), "  ", d(2027, 2, 1)), Err(LifecycleError::NoReason("an extension")));
    assert_eq!(
        r.extend(&gdpr, Period::Months(1), "complex", d(2027, 3, 1)),
        Err(LifecycleError::Extension(DeadlineError::TooLate { tell_by: d(2027, 2, 28), today: d(2027, 3, 1) }))
    );
    assert_eq!(r.state, State::InProgress);
    r.extend(&gdpr, Period::Months(1), "complex", d(2027, 2, 20)).unwrap();
    // GDPR allows one extension: a second is refused, whatever is left of the two months
    assert_eq!(
        r.extend(&gdpr, Period::Months(1), "still complex", d(2027, 2, 21)),
        Err(LifecycleError::Extension(DeadlineError::TooMany { allowed: 1 }))
    );
    assert_eq!(r.extensions.len(), 1);
    let ccpa = Regime::builtin("ccpa").unwrap();
    assert!(matches!(r.extend(&ccpa, Period::Days(45), "complex", d(2027, 2, 1)), Err(LifecycleError::WrongRegime { .. })));
}

#[test]
fn a_regime_allowing_two_extensions_gets_them_one_after_the_other() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/regimes/ccpa.toml")).unwrap();
    let twice = Regime::from_toml(&text.replace("extensions = 1", "extensions = 2").replace("id = \"ccpa\"", "id = \"twice\"")).unwrap();
    let mut r = request(&twice);
    r.identity_confirmed("signed in", d(2027, 1, 31)).unwrap();
    assert_eq!(r.deadline(&twice).unwrap().due, d(2027, 3, 17));
    r.extend(&twice, Period::Days(45), "volume", d(2027, 2, 1)).unwrap();
    r.extend(&twice, Period::Days(45), "more volume", d(2027, 2, 2)).unwrap();
    assert_eq!(r.state, State::Extended);
    // 45 + 45 + 45 days from 31 January
    assert_eq!(r.deadline(&twice).unwrap().due, d(2027, 6, 15));
    assert!(matches!(
        r.extend(&twice, Period::Days(1), "again", d(2027, 2, 3)),
        Err(LifecycleError::Extension(DeadlineError::TooMany { allowed: 2 }))
    ));
}

#[test]
fn a_refusal_carries_its_reason_and_the_right_to_complain() {
    let uk = Regime::builtin("uk-gdpr").unwrap();
    let mut r = request(&uk);
    r.verify_identity().unwrap();
    let t = r.refuse(&uk, RefusalReason::IdentityNotVerified, "no reply to the code within 30 days", d(2027, 3, 5)).unwrap();
    assert_eq!(t.reason.as_deref(), Some("your identity could not be verified: no reply to the code within 30 days"));
    let refusal = r.refusal.as_ref().unwrap();
    assert_eq!(refusal.reason, RefusalReason::IdentityNotVerified);
    assert!(refusal.complaint.contains("Information Commissioner's Office"), "{}", refusal.complaint);
    assert_eq!(r.state, State::Refused);
    // the refusal reasons serialize to their documented names
    assert_eq!(serde_json::to_value(RefusalReason::ManifestlyUnfounded).unwrap(), "manifestly_unfounded");
    assert_eq!(serde_json::to_value(RefusalReason::NotInScope).unwrap(), "not_in_scope");
}

#[test]
fn a_request_survives_a_json_round_trip() {
    let gdpr = Regime::builtin("gdpr").unwrap();
    let mut r = request(&gdpr);
    r.identity_confirmed("signed in", d(2027, 2, 1)).unwrap();
    r.extend(&gdpr, Period::Months(2), "volume", d(2027, 2, 2)).unwrap();
    let back: Request = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}
