//! Properties over hostile and random input: reading any text as a dataset map or a
//! regime never panics, and any single tampering with an audit log is found.

use ferry_requests::Regime;
use ferry_requests::audit::{self, AuditError, Entry, NewEntry};
use ferry_requests::map;
use proptest::prelude::*;

const SHOP: &str = include_str!("../../../examples/requests/shop-map.toml");

fn read_any_map(text: &str) {
    if let Ok(m) = map::parse(text) {
        // whatever parses can be validated and searched without panicking
        let _ = map::validate(&m);
        for db in &m.databases {
            let _ = map::graph::reach(db);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_read_as_a_map_gives_a_map_or_an_error(text in "\\PC{0,400}") {
        read_any_map(&text);
        let _ = Regime::from_toml(&text);
    }

    #[test]
    fn the_shop_map_cut_anywhere_gives_a_map_or_an_error(cut in 0usize..SHOP.len()) {
        let cut = (0..=cut).rev().find(|i| SHOP.is_char_boundary(*i)).unwrap();
        read_any_map(&SHOP[..cut]);
    }

    #[test]
    fn the_shop_map_with_bytes_spliced_in_gives_a_map_or_an_error(at in 0usize..SHOP.len(), junk in "[\\[\\]{}=\"'#\\n.a-z0-9 ]{1,40}") {
        let at = (0..=at).rev().find(|i| SHOP.is_char_boundary(*i)).unwrap();
        let text = format!("{}{junk}{}", &SHOP[..at], &SHOP[at..]);
        read_any_map(&text);
    }
}

fn log(n: usize) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for i in 0..n {
        let new = NewEntry {
            at: chrono::DateTime::from_timestamp(1_800_000_000 + i as i64 * 61, 0).unwrap(),
            actor: format!("staff:{}", i % 3),
            request: format!("r-{}", i % 4),
            action: "received".into(),
            reason: None,
            data_hash: Some(audit::data_hash(&[i as u8])),
        };
        let e = audit::chain(out.last(), new);
        out.push(e);
    }
    out
}

#[derive(Debug, Clone)]
enum Tamper {
    Change(usize, u8),
    Delete(usize),
    Swap(usize, usize),
    Truncate(usize),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (0usize..100, 0u8..4).prop_map(|(i, f)| Tamper::Change(i, f)),
        (0usize..100).prop_map(Tamper::Delete),
        (0usize..100, 1usize..100).prop_map(|(i, j)| Tamper::Swap(i, j)),
        (0usize..100).prop_map(Tamper::Truncate),
    ]
}

proptest! {
    #[test]
    fn any_single_tampering_is_found(n in 1usize..30, t in tamper()) {
        let mut l = log(n);
        let head = l.last().unwrap().head();
        match t {
            Tamper::Change(i, field) => {
                let e = &mut l[i % n];
                match field {
                    0 => e.actor.push('!'),
                    1 => e.reason = Some("x".into()),
                    2 => e.request = "other".into(),
                    _ => e.at += chrono::Duration::microseconds(1),
                }
                prop_assert_eq!(audit::verify(&l, Some(&head)), Err(AuditError::Changed { seq: (i % n) as i64 + 1 }));
            }
            Tamper::Delete(i) => {
                l.remove(i % n);
                prop_assert!(audit::verify(&l, Some(&head)).is_err());
            }
            Tamper::Swap(i, j) => {
                let (i, j) = (i % n, (i + j) % n);
                prop_assume!(i != j);
                l.swap(i, j);
                let found = audit::verify(&l, Some(&head));
                prop_assert!(matches!(found, Err(AuditError::Reordered { .. })), "{:?}", found);
            }
            Tamper::Truncate(k) => {
                l.truncate(k % n);
                prop_assert_eq!(audit::verify(&l, Some(&head)), Err(AuditError::Truncated { last: (k % n) as i64, head: n as i64 }));
            }
        }
    }
}
