//! A person with many rows keeps memory flat: Alice of the sample shop (SQLite) with
//! 200,000 more sign-ins, extracted into a package, while a counting allocator records
//! the most bytes allocated at once. The rows are ~30 MB of JSON Lines and CSV; holding
//! them would take several times that. This file holds one test, so that no other test
//! allocates meanwhile.

mod shop;

use chrono::NaiveDate;
use ferry_requests::extract::{Extractor, Identity};
use ferry_requests::map::IdentityKind;
use ferry_requests::regime::Regime;
use ferry_requests::response;
use ferry_requests::scope::scope;
use ferry_requests::{Part, RequestKind};
use shop::{Kind, Shop};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = NOW.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                NOW.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SIGN_INS: i64 = 200_000;

/// The most the extraction may allocate beyond what was allocated before it.
const BOUND: usize = 16 * 1024 * 1024;

#[tokio::test]
async fn two_hundred_thousand_sign_ins_are_extracted_in_bounded_memory() {
    let many = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SIGN_INS}) \
         INSERT INTO login_history (id, customer_id, logged_in_at, ip_address, user_agent) \
         SELECT 1000 + i, 1, datetime('2025-07-01', '+' || (i % 360) || ' days', '+' || (i % 86400) || ' seconds'), \
         '198.51.100.' || (i % 250), 'Firefox ' || (100 + i % 50) || ' on Linux, session ' || i FROM n"
    );
    let shop = Shop::load(Kind::Sqlite, &[many]).await;
    let m = shop::map_at(&shop.url);
    let gdpr = Regime::builtin("gdpr").unwrap();
    let access = scope(&m, &gdpr, RequestKind::Access).unwrap().part(Part::Access).unwrap().clone();
    let mut ex = Extractor::open(&m).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let identity = Identity::new(IdentityKind::Email, "alice@example.com");

    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let manifest = response::write_package(&mut ex, &gdpr, &access, &identity, as_of, &tmp.path().join("p")).await.unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;

    let logins = manifest.tables.iter().find(|t| t.table == "login_history").unwrap();
    assert_eq!(logins.rows, 3 + SIGN_INS as u64);
    let jsonl = std::fs::metadata(tmp.path().join("p/data/shop/login_history.jsonl")).unwrap().len();
    let lines = std::fs::read_to_string(tmp.path().join("p/data/shop/login_history.jsonl")).unwrap().lines().count();
    assert_eq!(lines as i64, 3 + SIGN_INS);
    eprintln!("{} sign-ins, {jsonl} bytes of JSON Lines, peak allocation during extraction {peak} bytes", logins.rows);
    assert!(jsonl > 20_000_000, "the rows are {jsonl} bytes");
    assert!(peak < BOUND, "extracting {} rows allocated up to {peak} bytes at once (bound {BOUND})", logins.rows);
    drop(ex);
    shop.drop_it().await;
}
