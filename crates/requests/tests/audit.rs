//! The audit log: the hash chain and its verification, and the SQLite and PostgreSQL
//! stores, with rows tampered with through raw SQL.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ferry_requests::Regime;
use ferry_requests::audit::{self, AuditError, Entry, GENESIS, NewEntry};
use ferry_requests::deadline::Period;
use ferry_requests::lifecycle::{Identity, Request, State};
use ferry_requests::map::IdentityKind;
use ferry_requests::store::{DrpLink, PostgresRequests, SqliteRequests, StoreError};
use sqlx::{Connection, Executor};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 31, 9, minute, 0).unwrap() + chrono::Duration::nanoseconds(123_456_789)
}

fn log(n: usize) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for i in 0..n {
        let new = NewEntry {
            at: at(i as u32),
            actor: "staff:grace".into(),
            request: format!("r-{}", i % 2),
            action: "in_progress→extended".into(),
            reason: (i % 2 == 0).then(|| format!("reason {i}")),
            data_hash: Some(audit::data_hash(format!("record {i}").as_bytes())),
        };
        let e = audit::chain(out.last(), new);
        out.push(e);
    }
    out
}

#[test]
fn a_chain_links_each_entry_to_the_one_before() {
    let l = log(4);
    assert_eq!(l[0].seq, 1);
    assert_eq!(l[0].prev, GENESIS);
    assert_eq!(l[1].prev, l[0].hash);
    assert_eq!(l[0].at.timestamp_subsec_nanos(), 123_456_000, "cut to microseconds");
    assert_eq!(l[3].hash.len(), 64);
    assert_eq!(audit::verify(&l, None), Ok(Some(l[3].head())));
    assert_eq!(audit::verify(&l, Some(&l[1].head())), Ok(Some(l[3].head())));
    assert_eq!(audit::verify(&[], None), Ok(None));
}

#[test]
fn a_changed_entry_is_named() {
    for field in 0..5 {
        let mut l = log(4);
        match field {
            0 => l[2].actor = "staff:mallory".into(),
            1 => l[2].reason = None,
            2 => l[2].at += chrono::Duration::microseconds(1),
            3 => l[2].action = "in_progress→delivered".into(),
            _ => l[2].data_hash = Some(audit::data_hash(b"other")),
        }
        assert_eq!(audit::verify(&l, None), Err(AuditError::Changed { seq: 3 }), "field {field}");
    }
    // rewriting the hash too breaks the link to the next entry
    let mut l = log(4);
    l[2].actor = "staff:mallory".into();
    l[2].hash = l[2].compute_hash();
    assert_eq!(audit::verify(&l, None), Err(AuditError::BrokenLink { seq: 4 }));
}

#[test]
fn a_deleted_entry_is_named() {
    let mut l = log(5);
    l.remove(2);
    assert_eq!(audit::verify(&l, None), Err(AuditError::Missing { seq: 3, before: 2, after: 4 }));
    let mut l = log(3);
    l.remove(0);
    assert_eq!(audit::verify(&l, None), Err(AuditError::Missing { seq: 1, before: 0, after: 2 }));
    assert_eq!(
        AuditError::Missing { seq: 3, before: 2, after: 4 }.to_string(),
        "audit entry 3 is missing: the log goes from entry 2 to entry 4"
    );
}

#[test]
fn a_reordered_entry_is_named() {
    let mut l = log(5);
    l.swap(1, 3);
    assert_eq!(audit::verify(&l, None), Err(AuditError::Reordered { seq: 4, after: 1 }));
    let mut l = log(3);
    l.swap(1, 2);
    assert_eq!(audit::verify(&l, None), Err(AuditError::Reordered { seq: 3, after: 1 }));
}

#[test]
fn a_truncated_tail_shows_against_the_known_head() {
    let l = log(5);
    let head = l[4].head();
    assert_eq!(audit::verify(&l[..3], None), Ok(Some(l[2].head())), "without a head a cut log looks whole");
    assert_eq!(audit::verify(&l[..3], Some(&head)), Err(AuditError::Truncated { last: 3, head: 5 }));
    assert_eq!(audit::verify(&[], Some(&head)), Err(AuditError::Truncated { last: 0, head: 5 }));
    // a log rebuilt from entry 3 on, with new hashes, no longer holds the head
    let mut rebuilt = l[..2].to_vec();
    for e in &l[2..] {
        let new = NewEntry {
            at: e.at,
            actor: e.actor.clone(),
            request: e.request.clone(),
            action: e.action.clone(),
            reason: Some("rewritten".into()),
            data_hash: e.data_hash.clone(),
        };
        let next = audit::chain(rebuilt.last(), new);
        rebuilt.push(next);
    }
    assert!(audit::verify(&rebuilt, None).is_ok());
    assert_eq!(audit::verify(&rebuilt, Some(&head)), Err(AuditError::HeadRewritten { seq: 5 }));
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A request taken through four steps; returns it.
macro_rules! run_request {
    ($store:expr, $id:expr) => {{
        let gdpr = Regime::builtin("gdpr").unwrap();
        let identity = Identity { kind: IdentityKind::Email, value: "ada@example.org".into(), verified: None };
        let mut r = Request::new($id, &gdpr, Default::default(), d(2027, 1, 31), identity);
        $store.create(&r, "web form", at(0)).await.unwrap();
        let t = r.verify_identity().unwrap();
        $store.record(&r, &t, "staff:grace", at(1)).await.unwrap();
        let t = r.identity_confirmed("signed in", d(2027, 2, 1)).unwrap();
        $store.record(&r, &t, "staff:grace", at(2)).await.unwrap();
        let t = r.extend(&gdpr, Period::Months(2), "three systems to search", d(2027, 2, 2)).unwrap();
        $store.record(&r, &t, "staff:grace", at(3)).await.unwrap();
        r
    }};
}

#[tokio::test]
async fn the_sqlite_store_keeps_requests_and_a_verifiable_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteRequests::open(&dir.path().join("requests.db")).await.unwrap();
    let r = run_request!(store, "r-1");
    assert_eq!(store.request("r-1").await.unwrap(), Some(r.clone()));
    assert!(store.request("nope").await.unwrap().is_none());
    let entries = store.entries().await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["received", "received→verifying_identity", "verifying_identity→in_progress", "in_progress→extended"]);
    assert_eq!(entries[3].reason.as_deref(), Some("extended by 2 months: three systems to search"));
    let head = store.verify(None).await.unwrap().unwrap();
    assert_eq!(head.seq, 4);
    // a second creation, and a step from a stale state, are refused
    assert!(matches!(store.create(&r, "x", at(9)).await, Err(StoreError::Exists(_))));
    let mut stale = r.clone();
    stale.state = State::InProgress;
    let t = stale.ready_for_review().unwrap();
    assert!(matches!(store.record(&stale, &t, "x", at(9)).await, Err(StoreError::Conflict { .. })));
    // reopened, the log is the same
    drop(store);
    let store = SqliteRequests::open(&dir.path().join("requests.db")).await.unwrap();
    assert_eq!(store.verify(Some(&head)).await.unwrap(), Some(head));
}

#[tokio::test]
async fn the_sqlite_log_refuses_updates_and_tampering_through_raw_sql_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.db");
    let store = SqliteRequests::open(&path).await.unwrap();
    run_request!(store, "r-1");
    run_request!(store, "r-2");
    let head = store.verify(None).await.unwrap().unwrap();
    assert_eq!(head.seq, 8);
    let pool = store.pool();
    let err = sqlx::query("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2").execute(pool).await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(sqlx::query("DELETE FROM audit_entries WHERE seq = 8").execute(pool).await.is_err());

    // whoever holds the file can drop the guard; the chain still tells
    pool.execute("DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete").await.unwrap();
    sqlx::query("UPDATE audit_entries SET reason = 'routine' WHERE seq = 4").execute(pool).await.unwrap();
    let err = store.verify(None).await.unwrap_err();
    assert!(matches!(err, StoreError::Audit(AuditError::Changed { seq: 4 })), "{err}");
    assert_eq!(err.to_string(), "audit entry 4 was changed: its contents no longer give its hash");
    sqlx::query("UPDATE audit_entries SET reason = 'extended by 2 months: three systems to search' WHERE seq = 4")
        .execute(pool)
        .await
        .unwrap();
    assert!(store.verify(Some(&head)).await.is_ok());

    // a request's record changed without a step
    let rec: String = sqlx::query_scalar("SELECT record FROM requests WHERE id = 'r-2'").fetch_one(pool).await.unwrap();
    sqlx::query("UPDATE requests SET record = ? WHERE id = 'r-2'").bind(rec.replace("three systems", "no")).execute(pool).await.unwrap();
    assert!(
        matches!(store.verify(None).await, Err(StoreError::Audit(AuditError::RecordChanged { ref request, seq: 8 })) if request == "r-2")
    );
    sqlx::query("UPDATE requests SET record = ? WHERE id = 'r-2'").bind(&rec).execute(pool).await.unwrap();

    // the tail cut off: only the known head shows it
    sqlx::query("DELETE FROM audit_entries WHERE seq = 8").execute(pool).await.unwrap();
    assert!(matches!(store.verify(Some(&head)).await, Err(StoreError::Audit(AuditError::Truncated { last: 7, head: 8 }))));

    // an entry in the middle deleted
    sqlx::query("DELETE FROM audit_entries WHERE seq = 3").execute(pool).await.unwrap();
    assert!(matches!(store.verify(None).await, Err(StoreError::Audit(AuditError::Missing { seq: 3, .. }))));
}

/// Creates 24 requests at once, from as many tasks: the chain must not fork.
macro_rules! concurrent_creates {
    ($store:expr) => {{
        let gdpr = Regime::builtin("gdpr").unwrap();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let store = $store.clone();
            let r = Request::new(
                format!("c-{i}"),
                &gdpr,
                Default::default(),
                d(2027, 1, 31),
                Identity { kind: IdentityKind::Email, value: format!("p{i}@example.org"), verified: None },
            );
            tasks.push(tokio::spawn(async move { store.create(&r, "web form", at(0)).await.unwrap() }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let entries = $store.entries().await.unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=24).collect::<Vec<i64>>());
        assert_eq!($store.verify(None).await.unwrap().unwrap().seq, 24);
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_to_the_sqlite_log_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteRequests::open(&dir.path().join("requests.db")).await.unwrap();
    concurrent_creates!(store);
}

/// The PostgreSQL server for tests: FERRY_TEST_POSTGRES, else the one on this machine.
fn postgres_url() -> String {
    std::env::var("FERRY_TEST_POSTGRES").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host = base.find("://").map_or(0, |i| i + 3);
    let base = base[host..].find('/').map_or(base, |i| &base[..host + i]);
    format!("{base}/{db}{}", query.map(|q| format!("?{q}")).unwrap_or_default())
}

/// Runs `test` with the URL of a new database on the PostgreSQL server, and drops the
/// database after it, whether the test passed or not.
async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let server = postgres_url();
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {server}: {e}"));
    let name = format!("ferry_requests_{}", uuid::Uuid::new_v4().simple());
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    let outcome = tokio::spawn(test(with_database(&server, &name))).await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn the_postgres_store_keeps_a_verifiable_log_and_detects_tampering() {
    on_postgres(|url| async move {
        let store = PostgresRequests::connect(&url).await.unwrap();
        let r = run_request!(store, "r-1");
        assert_eq!(store.request("r-1").await.unwrap(), Some(r));
        let head = store.verify(None).await.unwrap().unwrap();
        assert_eq!(head.seq, 4);
        let entries = store.entries().await.unwrap();
        assert_eq!(entries[1].at, at(1).trunc_subsecs_micros());
        let pool = store.pool();
        let err = sqlx::query("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2").execute(pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        pool.execute("DROP TRIGGER audit_entries_append_only ON audit_entries").await.unwrap();
        sqlx::query("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2").execute(pool).await.unwrap();
        assert!(matches!(store.verify(None).await, Err(StoreError::Audit(AuditError::Changed { seq: 2 }))));
        sqlx::query("UPDATE audit_entries SET actor = 'staff:grace' WHERE seq = 2").execute(pool).await.unwrap();
        store.verify(Some(&head)).await.unwrap();
        sqlx::query("DELETE FROM audit_entries WHERE seq = 4").execute(pool).await.unwrap();
        assert!(matches!(store.verify(Some(&head)).await, Err(StoreError::Audit(AuditError::Truncated { last: 3, head: 4 }))));
        pool.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_to_the_postgres_log_keep_one_chain() {
    on_postgres(|url| async move {
        let store = PostgresRequests::connect(&url).await.unwrap();
        concurrent_creates!(store);
        store.pool().close().await;
    })
    .await;
}

trait Micros {
    fn trunc_subsecs_micros(self) -> Self;
}

impl Micros for DateTime<Utc> {
    fn trunc_subsecs_micros(self) -> Self {
        chrono::SubsecRound::trunc_subsecs(self, 6)
    }
}

#[tokio::test]
async fn the_postgres_store_links_a_drp_request_once() {
    on_postgres(|url| async move {
        let store = PostgresRequests::connect(&url).await.unwrap();
        let ccpa = Regime::builtin("ccpa").unwrap();
        let identity = Identity { kind: IdentityKind::Email, value: "ada@example.com".into(), verified: None };
        let r = Request::new("r-1", &ccpa, ferry_requests::RequestKind::Access, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), identity);
        store.create(&r, "drp", at(0)).await.unwrap();
        let link = DrpLink {
            drp_id: "d-1".into(),
            agent_id: "CR_AGENT".into(),
            request_id: "r-1".into(),
            agent_request_id: None,
            status_callback: Some("https://agent.example/status".into()),
            created_at: chrono::SubsecRound::trunc_subsecs(at(1), 6),
        };
        assert_eq!(store.drp("d-1").await.unwrap(), None);
        store.put_drp(&link).await.unwrap();
        assert_eq!(store.drp("d-1").await.unwrap(), Some(link.clone()));
        assert!(matches!(store.put_drp(&link).await, Err(StoreError::Exists(_))));
        let again = DrpLink { drp_id: "d-2".into(), ..link.clone() };
        assert!(matches!(store.put_drp(&again).await, Err(StoreError::Exists(_))));
        let stray = DrpLink { drp_id: "d-3".into(), request_id: "r-404".into(), ..link };
        assert!(matches!(store.put_drp(&stray).await, Err(StoreError::Db(_))));
        store.pool().close().await;
    })
    .await;
}
