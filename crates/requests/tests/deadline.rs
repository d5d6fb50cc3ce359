//! Deadlines: explicit cases from the rules, and properties across month ends and leap
//! years.

use chrono::{Datelike, NaiveDate};
use ferry_requests::Regime;
use ferry_requests::deadline::{AT_RISK_DAYS, DeadlineError, Period, Rule};
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn gdpr() -> Rule {
    Regime::builtin("gdpr").unwrap().deadline
}

fn ccpa() -> Rule {
    Regime::builtin("ccpa").unwrap().deadline
}

fn due(rule: Rule, received: NaiveDate) -> NaiveDate {
    rule.deadline(received, &[]).due
}

#[test]
fn one_month_ends_on_the_same_day_number_or_the_months_last_day() {
    assert_eq!(due(gdpr(), d(2027, 1, 31)), d(2027, 2, 28));
    assert_eq!(due(gdpr(), d(2028, 1, 31)), d(2028, 2, 29));
    assert_eq!(due(gdpr(), d(2026, 11, 30)), d(2026, 12, 30));
    assert_eq!(due(gdpr(), d(2026, 8, 31)), d(2026, 9, 30));
    assert_eq!(due(gdpr(), d(2026, 12, 15)), d(2027, 1, 15));
    assert_eq!(due(gdpr(), d(2027, 3, 31)), d(2027, 4, 30));
}

#[test]
fn a_later_identity_confirmation_moves_the_start() {
    let received = d(2027, 1, 10);
    assert_eq!(Rule::start(received, None), received);
    assert_eq!(Rule::start(received, Some(d(2027, 1, 20))), d(2027, 1, 20));
    // confirmed before receipt (identity known already): receipt counts
    assert_eq!(Rule::start(received, Some(d(2027, 1, 5))), received);
    let start = Rule::start(received, Some(d(2027, 1, 31)));
    assert_eq!(due(gdpr(), start), d(2027, 2, 28));
}

#[test]
fn an_extension_of_two_further_months_counts_from_the_start() {
    let rule = gdpr();
    let start = d(2027, 1, 31);
    rule.check_extension(start, &[], Period::Months(2), d(2027, 2, 20)).unwrap();
    let dl = rule.deadline(start, &[Period::Months(2)]);
    assert_eq!(dl.first, d(2027, 2, 28));
    assert_eq!(dl.tell_by, d(2027, 2, 28));
    assert_eq!(dl.due, d(2027, 4, 30));
    assert_eq!(rule.latest(start), d(2027, 4, 30));
    // one month more is allowed too, and ends earlier
    assert_eq!(rule.deadline(start, &[Period::Months(1)]).due, d(2027, 3, 31));
}

#[test]
fn extensions_beyond_the_rule_are_refused() {
    let rule = gdpr();
    let start = d(2027, 5, 3);
    let today = d(2027, 5, 20);
    assert_eq!(
        rule.check_extension(start, &[], Period::Months(3), today),
        Err(DeadlineError::TooLong { asked: Period::Months(3), left: Period::Months(2) })
    );
    assert_eq!(rule.check_extension(start, &[Period::Months(1)], Period::Months(1), today), Err(DeadlineError::TooMany { allowed: 1 }));
    assert_eq!(rule.check_extension(start, &[], Period::Days(10), today), Err(DeadlineError::WrongUnit { unit: "months" }));
    assert_eq!(rule.check_extension(start, &[], Period::Months(0), today), Err(DeadlineError::Empty));
    // the person must be told within the first month
    assert_eq!(
        rule.check_extension(start, &[], Period::Months(2), d(2027, 6, 4)),
        Err(DeadlineError::TooLate { tell_by: d(2027, 6, 3), today: d(2027, 6, 4) })
    );
    rule.check_extension(start, &[], Period::Months(2), d(2027, 6, 3)).unwrap();
    let none = Regime::from_toml(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/regimes/gdpr.toml"))
            .unwrap()
            .replace("deadline = { months = 1, extension_months = 2 }", "deadline = { months = 1 }"),
    )
    .unwrap()
    .deadline;
    assert_eq!(none.check_extension(start, &[], Period::Months(1), today), Err(DeadlineError::NoExtension));
}

#[test]
fn ccpa_is_45_days_extendable_once_by_45() {
    let rule = ccpa();
    let start = d(2027, 1, 1);
    assert_eq!(due(rule, start), d(2027, 2, 15));
    rule.check_extension(start, &[], Period::Days(45), d(2027, 2, 1)).unwrap();
    assert_eq!(rule.deadline(start, &[Period::Days(45)]).due, d(2027, 4, 1));
    assert_eq!(rule.latest(start), d(2027, 4, 1));
    assert_eq!(
        rule.check_extension(start, &[Period::Days(45)], Period::Days(1), d(2027, 2, 1)),
        Err(DeadlineError::TooMany { allowed: 1 })
    );
    assert!(matches!(rule.check_extension(start, &[], Period::Days(46), d(2027, 2, 1)), Err(DeadlineError::TooLong { .. })));
}

#[test]
fn days_left_and_at_risk() {
    let dl = gdpr().deadline(d(2027, 3, 1), &[]);
    assert_eq!(dl.due, d(2027, 4, 1));
    assert_eq!(dl.days_left(d(2027, 3, 1)), 31);
    assert!(!dl.at_risk(d(2027, 3, 24)));
    assert_eq!(dl.days_left(d(2027, 3, 25)), AT_RISK_DAYS);
    assert!(dl.at_risk(d(2027, 3, 25)));
    assert_eq!(dl.days_left(d(2027, 4, 1)), 0);
    assert!(!dl.overdue(d(2027, 4, 1)));
    assert_eq!(dl.days_left(d(2027, 4, 3)), -2);
    assert!(dl.overdue(d(2027, 4, 3)) && dl.at_risk(d(2027, 4, 3)));
}

fn last_day(y: i32, m: u32) -> u32 {
    let next = if m == 12 { d(y + 1, 1, 1) } else { d(y, m + 1, 1) };
    next.pred_opt().unwrap().day()
}

fn date() -> impl Strategy<Value = NaiveDate> {
    // 1990 to 2100: every kind of month end, leap years (2000 too) and 2100 (not leap)
    (1990i32..=2100, 1u32..=12, 1u32..=31).prop_map(|(y, m, day)| d(y, m, day.min(last_day(y, m))))
}

proptest! {
    #[test]
    fn one_month_is_28_to_31_days_after_receipt(received in date()) {
        let due = due(gdpr(), received);
        let days = (due - received).num_days();
        prop_assert!((28..=31).contains(&days), "{received} → {due}: {days} days");
    }

    #[test]
    fn one_month_keeps_the_day_number_unless_the_month_is_shorter(received in date()) {
        let due = due(gdpr(), received);
        let (ny, nm) = if received.month() == 12 { (received.year() + 1, 1) } else { (received.year(), received.month() + 1) };
        prop_assert_eq!((due.year(), due.month()), (ny, nm));
        let want = received.day().min(last_day(ny, nm));
        prop_assert_eq!(due.day(), want);
    }

    #[test]
    fn the_deadline_is_monotonic_in_the_receipt_date(a in date(), b in date()) {
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(due(gdpr(), early) <= due(gdpr(), late));
        prop_assert!(due(ccpa(), early) <= due(ccpa(), late));
    }

    #[test]
    fn deadlines_are_after_receipt_and_extensions_stay_within_the_rule(
        received in date(), confirmed in proptest::option::of(date()), months in 1u32..=2, days in 1u32..=45, lag in 0u64..40
    ) {
        let start = Rule::start(received, confirmed);
        prop_assert!(start >= received);
        for (rule, by) in [(gdpr(), Period::Months(months)), (ccpa(), Period::Days(days))] {
            let first = rule.deadline(start, &[]);
            prop_assert!(first.due > received);
            let today = start + chrono::Days::new(lag);
            match rule.check_extension(start, &[], by, today) {
                Ok(()) => {
                    prop_assert!(today <= first.tell_by);
                    let extended = rule.deadline(start, &[by]);
                    prop_assert!(extended.due > first.due);
                    prop_assert!(extended.due <= rule.latest(start));
                    prop_assert_eq!(extended.tell_by, first.tell_by);
                }
                Err(e) => {
                    prop_assert!(today > first.tell_by, "refused {:?} on {} before {}: {}", by, today, first.tell_by, e);
                }
            }
        }
        // never more than three months (GDPR) or 90 days (CCPA) from the start
        prop_assert!(gdpr().latest(start) <= start.checked_add_months(chrono::Months::new(3)).unwrap());
        prop_assert_eq!((ccpa().latest(start) - start).num_days(), 90);
    }
}
