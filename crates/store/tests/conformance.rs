//! What every job store does, written once against `Arc<dyn JobStore>` and run against
//! both: `sqlite::*` on a temporary data directory, `postgres::*` each in a database of its
//! own (created for the test, dropped after it) on the server `FERRY_TEST_POSTGRES`
//! names. Without that variable the PostgreSQL tests fail: `./scripts/servers.sh` starts
//! a server and writes it into servers.env, which `./scripts/test.sh` loads.

use chrono::Utc;
use ferry_core::Vertical;
use ferry_store::*;
use sqlx::{Connection, Executor};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

// ---------------------------------------------------------------- the two stores

/// Where a test's store is. `open` gives another handle on the same store, with its own
/// connections, as another process or machine would have.
#[derive(Clone)]
enum Place {
    Sqlite(Arc<tempfile::TempDir>),
    Postgres(String),
}

impl Place {
    async fn open(&self) -> Arc<dyn JobStore> {
        match self {
            Place::Sqlite(dir) => Arc::new(SqliteStore::open(dir.path()).await.expect("the SQLite store opens")),
            Place::Postgres(url) => Arc::new(PostgresStore::connect(url).await.expect("the PostgreSQL store opens")),
        }
    }
}

async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Place) -> Fut,
    Fut: Future<Output = ()>,
{
    test(Place::Sqlite(Arc::new(tempfile::tempdir().unwrap()))).await
}

/// Runs `test` in a new database on the server of `FERRY_TEST_POSTGRES`, and drops the
/// database after it, whether the test passed or not.
async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Place) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let server = std::env::var("FERRY_TEST_POSTGRES").unwrap_or_default();
    assert!(
        !server.is_empty(),
        "FERRY_TEST_POSTGRES is not set: the PostgreSQL job store tests need a server (a URL such as \
         postgres://postgres@127.0.0.1:5432/ferry_test, for a role that may create databases). \
         ./scripts/test.sh provides one; or run ./scripts/servers.sh and load the servers.env it writes \
         (set -a; . DIR/servers.env; set +a)"
    );
    let mut admin =
        sqlx::PgConnection::connect(&server).await.unwrap_or_else(|e| panic!("cannot connect to FERRY_TEST_POSTGRES ({server}): {e}"));
    let name = format!("ferry_test_{}", uuid::Uuid::new_v4().simple());
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("a test database is created");
    let outcome = tokio::spawn(test(Place::Postgres(with_database(&server, &name)))).await;
    // the test's connections are closed with it (FORCE ends any still open)
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).await.expect("the test database is dropped");
    admin.close().await.ok();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.try_into_panic().unwrap_or_else(|e| Box::new(e.to_string())));
    }
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host = base.find("://").map_or(0, |i| i + 3);
    let base = base[host..].find('/').map_or(base, |i| &base[..host + i]);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Each test, once per store: `sqlite::NAME` and `postgres::NAME`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_sqlite(super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_postgres(super::$name).await
                }
            )*
        }
    };
}

conformance!(
    jobs_are_created_and_listed_by_owner,
    states_are_set_and_a_missing_job_is_named,
    cursors_are_kept_per_stream,
    a_page_committed_again_counts_once_and_may_mix_verticals,
    recorded_and_the_ledger_across_jobs,
    the_report_counts_and_lists,
    sync_state_is_kept_per_pair_and_stream,
    secrets_are_kept_and_forgotten,
    api_tokens_are_found_by_hash_until_revoked,
    accounts_are_kept_per_owner_and_forgotten,
    acquire_is_refused_while_another_worker_holds_the_job_unless_taken_over,
    claim_takes_the_oldest_claimable_job,
    concurrent_claimers_take_each_job_exactly_once,
    a_heartbeat_extends_the_lease,
    a_job_whose_lease_expired_is_claimed_by_another_worker,
    a_stale_lease_writes_nothing,
    release_lets_the_job_go,
    a_cancel_request_is_seen_by_the_next_heartbeat,
);

// ---------------------------------------------------------------- helpers

const LONG: Duration = Duration::from_secs(60);

fn spec(owner: Option<&str>) -> JobSpec {
    JobSpec {
        source: "dir:/from".into(),
        destination: "dir:/to".into(),
        verticals: vec![Vertical::Contacts, Vertical::Calendar, Vertical::Mail],
        options: JobOptions { dry_run: false, incremental: true },
        owner: owner.map(str::to_owned),
    }
}

fn row(vertical: Vertical, id: &str, outcome: Outcome) -> ItemRow {
    ItemRow {
        vertical,
        source_id: id.into(),
        outcome,
        reason: matches!(outcome, Outcome::Failed | Outcome::Skipped).then(|| format!("{id} was bad")),
        version: "v1".into(),
        dest_id: matches!(outcome, Outcome::Transferred | Outcome::AlreadyPresent).then(|| format!("dest/{id}")),
        sha256: Some(format!("sha-{id}")),
        warnings: vec![],
    }
}

async fn queued(store: &dyn JobStore) -> Job {
    let job = store.create_job(&spec(None)).await.unwrap();
    store.set_state(&job.id, JobState::Queued, None, None).await.unwrap();
    job
}

/// Lets a lease run out: renewed for a moment only, then waited past.
async fn expire(store: &dyn JobStore, lease: &mut Lease) {
    store.heartbeat(lease, Duration::from_millis(150)).await.unwrap();
    let left = (lease.expires_at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(100)).await;
}

fn lost<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(StoreError::LeaseLost(why)) => why,
        other => panic!("expected LeaseLost, got {other:?}"),
    }
}

// ---------------------------------------------------------------- jobs

async fn jobs_are_created_and_listed_by_owner(place: Place) {
    let store = place.open().await;
    let mine = store.create_job(&spec(None)).await.unwrap();
    let a1 = store.create_job(&spec(Some("alice"))).await.unwrap();
    let b1 = store.create_job(&spec(Some("bob"))).await.unwrap();
    let a2 = store.create_job(&spec(Some("alice"))).await.unwrap();

    let read = store.job(&a1.id).await.unwrap();
    assert_eq!(read.spec.source, "dir:/from");
    assert_eq!(read.spec.destination, "dir:/to");
    assert_eq!(read.spec.verticals, vec![Vertical::Contacts, Vertical::Calendar, Vertical::Mail]);
    assert_eq!(read.spec.options, JobOptions { dry_run: false, incremental: true });
    assert_eq!(read.spec.owner.as_deref(), Some("alice"));
    assert_eq!(read.state, JobState::Created);
    assert_eq!((&read.reason, &read.worker, read.lease_expires_at, read.cancel_requested), (&None, &None, None, false));
    assert_eq!(read.created_at, a1.created_at);
    assert_eq!(read.pair(), "dir:/from -> dir:/to");

    let ids = |jobs: Vec<Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let (mine, a1, b1, a2) = (mine.id, a1.id, b1.id, a2.id);
    assert_eq!(ids(store.jobs(None, 10).await.unwrap()), [a2.clone(), b1.clone(), a1.clone(), mine], "most recent first");
    assert_eq!(ids(store.jobs(None, 2).await.unwrap()), [a2.clone(), b1.clone()]);
    assert_eq!(ids(store.jobs(Some("alice"), 10).await.unwrap()), [a2, a1]);
    assert_eq!(ids(store.jobs(Some("bob"), 10).await.unwrap()), [b1]);
    assert!(store.jobs(Some("carol"), 10).await.unwrap().is_empty());
    assert!(matches!(store.job("nope").await, Err(StoreError::NoSuchJob(id)) if id == "nope"));
}

async fn states_are_set_and_a_missing_job_is_named(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    store.set_state(&job.id, JobState::Running, None, None).await.unwrap();
    assert_eq!(store.job(&job.id).await.unwrap().state, JobState::Running);
    store.set_state(&job.id, JobState::Failed, Some("the disk is full"), None).await.unwrap();
    let now = store.job(&job.id).await.unwrap();
    assert_eq!((now.state, now.reason.as_deref()), (JobState::Failed, Some("the disk is full")));
    assert!(now.updated_at >= job.updated_at);
    store.set_state(&job.id, JobState::Completed, None, None).await.unwrap();
    assert_eq!(store.job(&job.id).await.unwrap().reason, None, "a state without a reason clears the old one");

    assert!(matches!(store.set_state("nope", JobState::Queued, None, None).await, Err(StoreError::NoSuchJob(_))));
    assert!(matches!(store.request_cancel("nope").await, Err(StoreError::NoSuchJob(_))));
    assert!(matches!(store.acquire("nope", "w", LONG, false).await, Err(StoreError::NoSuchJob(_))));
    let page = [row(Vertical::Contacts, "a", Outcome::Transferred)];
    assert!(matches!(store.commit_page(None, "nope", None, "contacts", &page, None, false).await, Err(StoreError::NoSuchJob(_))));
}

// ---------------------------------------------------------------- pages

async fn cursors_are_kept_per_stream(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    let other = store.create_job(&spec(None)).await.unwrap();
    assert_eq!(store.cursor(&job.id, "contacts").await.unwrap(), None);

    store.commit_page(None, &job.id, None, "contacts", &[], Some("c1"), false).await.unwrap();
    store.commit_page(None, &job.id, None, "mail/INBOX", &[], Some("uid 40"), false).await.unwrap();
    assert_eq!(store.cursor(&job.id, "contacts").await.unwrap(), Some(CursorRow { cursor: Some("c1".into()), done: false }));
    assert_eq!(store.cursor(&job.id, "mail/INBOX").await.unwrap(), Some(CursorRow { cursor: Some("uid 40".into()), done: false }));

    store.commit_page(None, &job.id, None, "contacts", &[], None, true).await.unwrap();
    assert_eq!(store.cursor(&job.id, "contacts").await.unwrap(), Some(CursorRow { cursor: None, done: true }));
    assert_eq!(store.cursor(&job.id, "mail/INBOX").await.unwrap().unwrap().cursor.as_deref(), Some("uid 40"), "streams apart");
    assert_eq!(store.cursor(&other.id, "contacts").await.unwrap(), None, "jobs apart");
}

async fn a_page_committed_again_counts_once_and_may_mix_verticals(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    // one stream, three verticals; one id in two verticals is two items
    let page = [
        row(Vertical::Contacts, "a", Outcome::Transferred),
        row(Vertical::Calendar, "a", Outcome::Transferred),
        row(Vertical::Calendar, "e2", Outcome::Failed),
        row(Vertical::Mail, "m1", Outcome::AlreadyPresent),
    ];
    store.commit_page(None, &job.id, Some(&job.pair()), "everything", &page, Some("p1"), false).await.unwrap();
    // the same page again (a resume), and an item listed twice in one page: the last
    // outcome counts, once
    store.commit_page(None, &job.id, Some(&job.pair()), "everything", &page, Some("p1"), false).await.unwrap();
    let twice = [row(Vertical::Mail, "m2", Outcome::Failed), row(Vertical::Mail, "m2", Outcome::Transferred)];
    store.commit_page(None, &job.id, Some(&job.pair()), "everything", &twice, Some("p2"), true).await.unwrap();

    let report = store.report(&job.id).await.unwrap();
    let c = &report.verticals[&Vertical::Contacts];
    let e = &report.verticals[&Vertical::Calendar];
    let m = &report.verticals[&Vertical::Mail];
    assert_eq!((c.found, c.transferred), (1, 1));
    assert_eq!((e.found, e.transferred, e.failed), (2, 1, 1));
    assert_eq!((m.found, m.already_present, m.transferred, m.failed), (2, 1, 1, 0));
    assert_eq!(store.recorded(&job.id, Vertical::Mail, &["m2"]).await.unwrap()["m2"], Outcome::Transferred);
    assert_eq!(store.cursor(&job.id, "everything").await.unwrap(), Some(CursorRow { cursor: Some("p2".into()), done: true }));
}

async fn recorded_and_the_ledger_across_jobs(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    let page = [
        row(Vertical::Contacts, "a", Outcome::Transferred),
        row(Vertical::Contacts, "b", Outcome::Failed),
        row(Vertical::Contacts, "c", Outcome::Skipped),
        row(Vertical::Contacts, "d", Outcome::AlreadyPresent),
    ];
    store.commit_page(None, &job.id, Some(&job.pair()), "contacts", &page, None, false).await.unwrap();

    let rec = store.recorded(&job.id, Vertical::Contacts, &["a", "b", "c", "d", "zz"]).await.unwrap();
    assert_eq!(rec.len(), 4);
    assert_eq!(
        (rec["a"], rec["b"], rec["c"], rec["d"]),
        (Outcome::Transferred, Outcome::Failed, Outcome::Skipped, Outcome::AlreadyPresent)
    );
    assert!(store.recorded(&job.id, Vertical::Mail, &["a"]).await.unwrap().is_empty(), "verticals apart");
    assert!(store.recorded(&job.id, Vertical::Contacts, &[]).await.unwrap().is_empty());

    let led = store.ledger(&job.pair(), Vertical::Contacts, &["a", "b", "c", "d"]).await.unwrap();
    assert_eq!(led.keys().cloned().collect::<BTreeSet<_>>(), BTreeSet::from(["a".to_string(), "d".to_string()]), "only where items are");
    assert_eq!(led["a"], LedgerEntry { version: "v1".into(), sha256: Some("sha-a".into()), dest_id: "dest/a".into() });

    // the next job of the same pair finds them, and updates what changed
    let next = store.create_job(&spec(None)).await.unwrap();
    let changed = ItemRow { version: "v2".into(), dest_id: Some("dest/a2".into()), ..row(Vertical::Contacts, "a", Outcome::Transferred) };
    store.commit_page(None, &next.id, Some(&next.pair()), "contacts", &[changed], None, true).await.unwrap();
    let led = store.ledger(&next.pair(), Vertical::Contacts, &["a", "d"]).await.unwrap();
    assert_eq!((led["a"].version.as_str(), led["a"].dest_id.as_str()), ("v2", "dest/a2"));
    assert_eq!(led["d"].dest_id, "dest/d");
    assert!(store.ledger("dir:/x -> dir:/y", Vertical::Contacts, &["a"]).await.unwrap().is_empty(), "pairs apart");

    // a destination written whole keeps no ledger: items recorded, the ledger untouched
    let whole = store.create_job(&JobSpec { destination: "package:/p.zip".into(), ..spec(None) }).await.unwrap();
    store.commit_page(None, &whole.id, None, "contacts", &[row(Vertical::Contacts, "w", Outcome::Transferred)], None, true).await.unwrap();
    assert_eq!(store.recorded(&whole.id, Vertical::Contacts, &["w"]).await.unwrap().len(), 1);
    assert!(store.ledger(&whole.pair(), Vertical::Contacts, &["w"]).await.unwrap().is_empty());
}

async fn the_report_counts_and_lists(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&JobSpec { options: JobOptions { dry_run: true, incremental: false }, ..spec(None) }).await.unwrap();
    let warned =
        ItemRow { warnings: vec!["X-FOO dropped".into(), "photo too large".into()], ..row(Vertical::Contacts, "w", Outcome::Transferred) };
    let page = [
        row(Vertical::Contacts, "a", Outcome::Transferred),
        warned,
        row(Vertical::Contacts, "f2", Outcome::Failed),
        row(Vertical::Contacts, "f1", Outcome::Failed),
        row(Vertical::Contacts, "s", Outcome::Skipped),
        row(Vertical::Contacts, "p", Outcome::AlreadyPresent),
        row(Vertical::Mail, "m", Outcome::Failed),
    ];
    store.commit_page(None, &job.id, None, "s1", &page, None, true).await.unwrap();
    store.set_state(&job.id, JobState::CompletedWithErrors, Some("3 item(s) failed"), None).await.unwrap();

    let rep = store.report(&job.id).await.unwrap();
    assert_eq!(rep.job_id, job.id);
    assert_eq!((rep.state, rep.reason.as_deref(), rep.dry_run), (Some(JobState::CompletedWithErrors), Some("3 item(s) failed"), true));
    let c = &rep.verticals[&Vertical::Contacts];
    assert_eq!((c.found, c.transferred, c.already_present, c.skipped, c.failed), (6, 2, 1, 1, 2));
    let failures: Vec<(&str, &str)> = c.failures.iter().map(|p| (p.item.as_str(), p.reason.as_str())).collect();
    assert_eq!(failures, [("f2", "f2 was bad"), ("f1", "f1 was bad"), ("s", "s was bad")], "in the order they were recorded");
    let warnings: Vec<(&str, &str)> = c.fidelity_warnings.iter().map(|p| (p.item.as_str(), p.reason.as_str())).collect();
    assert_eq!(warnings, [("w", "X-FOO dropped"), ("w", "photo too large")]);
    assert_eq!(rep.verticals[&Vertical::Mail].failures.len(), 1);
    assert_eq!(rep.verticals[&Vertical::Calendar], VerticalReport::default(), "a vertical of the job with nothing in it");
    let t = rep.totals();
    assert_eq!((t.found, t.failed), (7, 3));
    assert!(matches!(store.report("nope").await, Err(StoreError::NoSuchJob(_))));
}

async fn sync_state_is_kept_per_pair_and_stream(place: Place) {
    let store = place.open().await;
    assert_eq!(store.sync_state("a -> b", "contacts").await.unwrap(), None);
    store.set_sync_state("a -> b", "contacts", "token-1").await.unwrap();
    store.set_sync_state("a -> b", "calendar/work", "token-9").await.unwrap();
    store.set_sync_state("a -> c", "contacts", "other").await.unwrap();
    store.set_sync_state("a -> b", "contacts", "token-2").await.unwrap();
    assert_eq!(store.sync_state("a -> b", "contacts").await.unwrap().as_deref(), Some("token-2"));
    assert_eq!(store.sync_state("a -> b", "calendar/work").await.unwrap().as_deref(), Some("token-9"));
    assert_eq!(store.sync_state("a -> c", "contacts").await.unwrap().as_deref(), Some("other"));
    assert_eq!(store.sync_state("a -> b", "mail").await.unwrap(), None);
}

async fn secrets_are_kept_and_forgotten(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    let other = store.create_job(&spec(None)).await.unwrap();
    store.put_secret(&job.id, "source_password", &[1, 2, 3], &[0, 255, 7]).await.unwrap();
    store.put_secret(&other.id, "source_password", &[9], &[9]).await.unwrap();
    assert_eq!(store.secret(&job.id, "source_password").await.unwrap(), Some((vec![1, 2, 3], vec![0, 255, 7])));
    store.put_secret(&job.id, "source_password", &[4], &[5, 6]).await.unwrap();
    assert_eq!(store.secret(&job.id, "source_password").await.unwrap(), Some((vec![4], vec![5, 6])), "replaced");
    assert_eq!(store.secret(&job.id, "destination_password").await.unwrap(), None);
    store.delete_secrets(&job.id).await.unwrap();
    assert_eq!(store.secret(&job.id, "source_password").await.unwrap(), None);
    assert_eq!(store.secret(&other.id, "source_password").await.unwrap(), Some((vec![9], vec![9])), "another job's are kept");
}

async fn api_tokens_are_found_by_hash_until_revoked(place: Place) {
    let store = place.open().await;
    let a = store.create_api_token("deploy", &[1; 32]).await.unwrap();
    let b = store.create_api_token("monitoring", &[2; 32]).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.api_token(&[1; 32]).await.unwrap().map(|t| t.name), Some("deploy".into()));
    assert_eq!(store.api_token(&[3; 32]).await.unwrap(), None, "an unknown hash finds nothing");
    assert!(store.create_api_token("again", &[1; 32]).await.is_err(), "one hash is one token");
    assert!(store.revoke_api_token(&a.id).await.unwrap());
    assert!(!store.revoke_api_token(&a.id).await.unwrap(), "revoked once");
    assert!(!store.revoke_api_token("no-such-token").await.unwrap());
    assert_eq!(store.api_token(&[1; 32]).await.unwrap(), None, "a revoked token is refused");
    let all = store.api_tokens().await.unwrap();
    assert_eq!(all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["deploy", "monitoring"]);
    assert!(all[0].revoked_at.is_some() && all[1].revoked_at.is_none());
}

async fn accounts_are_kept_per_owner_and_forgotten(place: Place) {
    let store = place.open().await;
    let account = |id: &str, owner: Option<&str>| ferry_store::Account {
        id: id.into(),
        owner: owner.map(Into::into),
        provider: "cloud".into(),
        label: format!("{id}@cloud"),
        created_at: chrono::Utc::now(),
        nonce: vec![1, 2],
        ciphertext: vec![3, 4, 5],
    };
    store.put_account(&account("a1", Some("person:alice"))).await.unwrap();
    store.put_account(&account("a2", Some("person:bob"))).await.unwrap();
    store.put_account(&account("a3", None)).await.unwrap();
    store.put_account(&account("a4", Some("person:alice"))).await.unwrap();
    assert!(store.put_account(&account("a1", None)).await.is_err(), "an id is one account");
    let ids = |v: Vec<ferry_store::Account>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(store.accounts(Some("person:alice")).await.unwrap()), ["a1", "a4"]);
    assert_eq!(ids(store.accounts(None).await.unwrap()), ["a3"], "the command line's own");
    let a = store.account("a2").await.unwrap().unwrap();
    assert_eq!((a.owner.as_deref(), a.nonce, a.ciphertext), (Some("person:bob"), vec![1, 2], vec![3, 4, 5]));
    assert!(store.update_account("a2", &[9], &[8, 7]).await.unwrap());
    assert_eq!(store.account("a2").await.unwrap().unwrap().ciphertext, vec![8, 7]);
    assert!(!store.update_account("nope", &[9], &[8]).await.unwrap());
    assert!(store.delete_account("a2").await.unwrap());
    assert!(!store.delete_account("a2").await.unwrap());
    assert_eq!(store.account("a2").await.unwrap(), None);
}

// ---------------------------------------------------------------- leases

async fn acquire_is_refused_while_another_worker_holds_the_job_unless_taken_over(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    let (held, w1) = store.acquire(&job.id, "ferry worker 1 on a", LONG, false).await.unwrap();
    assert_eq!(held.worker.as_deref(), Some("ferry worker 1 on a"));
    assert_eq!(held.lease_expires_at, Some(w1.expires_at));
    assert_eq!(held.state, JobState::Created, "acquire leaves the state alone");
    assert_eq!((w1.job.as_str(), w1.worker.as_str()), (job.id.as_str(), "ferry worker 1 on a"));
    assert!(w1.expires_at > Utc::now() + chrono::Duration::seconds(50));

    match store.acquire(&job.id, "ferry worker 2 on b", LONG, false).await {
        Err(StoreError::Busy(holder)) => assert!(holder.contains("ferry worker 1 on a"), "{holder}"),
        other => panic!("expected Busy, got {other:?}"),
    }
    assert_eq!(store.job(&job.id).await.unwrap().worker.as_deref(), Some("ferry worker 1 on a"), "a refused acquire changes nothing");

    let (taken, w2) = store.acquire(&job.id, "ferry worker 2 on b", LONG, true).await.unwrap();
    assert_eq!(taken.worker.as_deref(), Some("ferry worker 2 on b"));
    assert!(w2.fence > w1.fence, "every take raises the fence");
    let why = lost(store.set_state(&job.id, JobState::Running, None, Some(&w1)).await);
    assert!(why.contains("ferry worker 2 on b"), "{why}");
    store.set_state(&job.id, JobState::Running, None, Some(&w2)).await.unwrap();

    // once the holder's lease ran out, the job is free without taking it over
    let mut w2 = w2;
    expire(store.as_ref(), &mut w2).await;
    let (_, w3) = store.acquire(&job.id, "ferry worker 3 on c", LONG, false).await.unwrap();
    assert!(w3.fence > w2.fence);
    assert_eq!(store.job(&job.id).await.unwrap().state, JobState::Running);
}

async fn claim_takes_the_oldest_claimable_job(place: Place) {
    let store = place.open().await;
    let created = store.create_job(&spec(None)).await.unwrap();
    let first = queued(store.as_ref()).await;
    let paused = store.create_job(&spec(None)).await.unwrap();
    store.set_state(&paused.id, JobState::Paused, None, None).await.unwrap();
    let second = queued(store.as_ref()).await;
    let done = queued(store.as_ref()).await;
    store.set_state(&done.id, JobState::Completed, None, None).await.unwrap();
    let third = queued(store.as_ref()).await;
    // a running job held by a live lease is not claimable
    let (_, _held) = store.acquire(&third.id, "w0", LONG, false).await.unwrap();
    store.set_state(&third.id, JobState::Running, None, None).await.unwrap();

    let (job, lease) = store.claim("w1", LONG).await.unwrap().expect("a queued job");
    assert_eq!(job.id, first.id, "the oldest first");
    assert_eq!((job.state, job.worker.as_deref(), job.lease_expires_at), (JobState::Running, Some("w1"), Some(lease.expires_at)));
    assert_eq!((lease.job.as_str(), lease.worker.as_str()), (first.id.as_str(), "w1"));
    assert_eq!(store.job(&first.id).await.unwrap().state, JobState::Running);

    let (job, _) = store.claim("w2", LONG).await.unwrap().expect("a second queued job");
    assert_eq!(job.id, second.id);
    assert!(store.claim("w3", LONG).await.unwrap().is_none(), "created, paused, ended and held jobs are not claimed");
    for id in [&created.id, &paused.id, &done.id] {
        assert_eq!(store.job(id).await.unwrap().worker, None);
    }
}

async fn concurrent_claimers_take_each_job_exactly_once(place: Place) {
    let setup = place.open().await;
    let mut all = BTreeSet::new();
    for _ in 0..20 {
        all.insert(queued(setup.as_ref()).await.id);
    }
    let start = Arc::new(tokio::sync::Barrier::new(8));
    let mut claimers = Vec::new();
    for w in 0..8 {
        let (place, start) = (place.clone(), start.clone());
        claimers.push(tokio::spawn(async move {
            // each claimer with its own connections, as separate workers have
            let store = place.open().await;
            let worker = format!("ferry worker {w}");
            start.wait().await;
            let mut mine = Vec::new();
            while let Some((job, lease)) = store.claim(&worker, LONG).await.unwrap() {
                assert_eq!((job.worker.as_deref(), lease.worker.as_str()), (Some(worker.as_str()), worker.as_str()));
                mine.push((job.id, worker.clone()));
            }
            mine
        }));
    }
    let mut claimed: Vec<(String, String)> = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    let ids: Vec<&String> = claimed.iter().map(|(id, _)| id).collect();
    let unique: HashSet<&String> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 20, "20 claims in all: {claimed:?}");
    assert_eq!(unique.len(), 20, "no job claimed twice: {claimed:?}");
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), all);
    for (id, worker) in &claimed {
        let job = setup.job(id).await.unwrap();
        assert_eq!((job.state, job.worker.as_ref()), (JobState::Running, Some(worker)), "{id} is held by its claimer");
    }
    assert!(setup.claim("late", LONG).await.unwrap().is_none());
}

async fn a_heartbeat_extends_the_lease(place: Place) {
    let store = place.open().await;
    let job = queued(store.as_ref()).await;
    let (_, mut lease) = store.claim("w1", Duration::from_secs(2)).await.unwrap().unwrap();
    let first = lease.expires_at;
    assert!(!store.heartbeat(&mut lease, LONG).await.unwrap(), "no cancel requested");
    assert!(lease.expires_at > first + chrono::Duration::seconds(50), "{first} -> {}", lease.expires_at);
    assert_eq!(store.job(&job.id).await.unwrap().lease_expires_at, Some(lease.expires_at));
    // past the first lease's end, the job is still held
    tokio::time::sleep((first - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100)).await;
    assert!(store.claim("w2", LONG).await.unwrap().is_none());
    store.heartbeat(&mut lease, LONG).await.unwrap();
    store.set_state(&job.id, JobState::Running, None, Some(&lease)).await.unwrap();
}

async fn a_job_whose_lease_expired_is_claimed_by_another_worker(place: Place) {
    let store = place.open().await;
    let job = queued(store.as_ref()).await;
    let (_, mut dead) = store.claim("w1", LONG).await.unwrap().unwrap();
    assert!(store.claim("w2", LONG).await.unwrap().is_none(), "held");
    // w1 stops renewing (it died)
    expire(store.as_ref(), &mut dead).await;
    let (again, lease) = store.claim("w2", LONG).await.unwrap().expect("the job of a dead worker");
    assert_eq!(again.id, job.id);
    assert_eq!((again.state, again.worker.as_deref()), (JobState::Running, Some("w2")));
    assert!(lease.fence > dead.fence);
    assert!(store.claim("w3", LONG).await.unwrap().is_none(), "held by w2 now");
}

async fn a_stale_lease_writes_nothing(place: Place) {
    let store = place.open().await;
    let job = queued(store.as_ref()).await;
    let pair = job.pair();
    let (_, mut w1) = store.claim("w1", LONG).await.unwrap().unwrap();
    let page = |id: &str| [row(Vertical::Contacts, id, Outcome::Transferred)];
    store.commit_page(Some(&w1), &job.id, Some(&pair), "contacts", &page("a"), Some("c1"), false).await.unwrap();
    store.set_state(&job.id, JobState::Running, Some("w1 at work"), Some(&w1)).await.unwrap();

    // w1 is stalled past its lease (SIGSTOP, a long pause); no one took the job yet
    expire(store.as_ref(), &mut w1).await;
    let why = lost(store.commit_page(Some(&w1), &job.id, Some(&pair), "contacts", &page("b"), Some("c2"), false).await);
    assert!(why.contains("expired"), "{why}");
    lost(store.set_state(&job.id, JobState::Completed, None, Some(&w1)).await);
    lost(store.heartbeat(&mut w1, LONG).await);
    let nothing_written = async |store: &dyn JobStore| {
        assert!(store.recorded(&job.id, Vertical::Contacts, &["b", "c"]).await.unwrap().is_empty());
        assert!(store.ledger(&pair, Vertical::Contacts, &["b", "c"]).await.unwrap().is_empty());
        assert_eq!(store.cursor(&job.id, "contacts").await.unwrap().unwrap().cursor.as_deref(), Some("c1"));
        let now = store.job(&job.id).await.unwrap();
        assert_eq!((now.state, now.reason.as_deref()), (JobState::Running, Some("w1 at work")));
    };
    nothing_written(store.as_ref()).await;

    // w2 takes the job over; w1's writes are refused still, w2's go in
    let (_, w2) = store.claim("w2", LONG).await.unwrap().unwrap();
    let why = lost(store.commit_page(Some(&w1), &job.id, Some(&pair), "contacts", &page("c"), Some("c3"), true).await);
    assert!(why.contains("w2"), "{why}");
    store.commit_page(Some(&w2), &job.id, Some(&pair), "contacts", &page("d"), Some("c4"), false).await.unwrap();
    assert!(store.recorded(&job.id, Vertical::Contacts, &["b", "c"]).await.unwrap().is_empty());
    assert_eq!(store.cursor(&job.id, "contacts").await.unwrap().unwrap().cursor.as_deref(), Some("c4"));

    // a live lease superseded (taken over by a worker with proof the holder is gone)
    let (_, w3) = store.acquire(&job.id, "w3", LONG, true).await.unwrap();
    lost(store.commit_page(Some(&w2), &job.id, Some(&pair), "contacts", &page("e"), Some("c5"), false).await);
    let mut w2 = w2;
    lost(store.heartbeat(&mut w2, LONG).await);
    assert!(store.recorded(&job.id, Vertical::Contacts, &["e"]).await.unwrap().is_empty());
    store.set_state(&job.id, JobState::Completed, None, Some(&w3)).await.unwrap();
    // a lease is for its own job only
    let elsewhere = store.create_job(&spec(None)).await.unwrap();
    lost(store.commit_page(Some(&w3), &elsewhere.id, None, "contacts", &page("f"), None, false).await);
    lost(store.set_state(&elsewhere.id, JobState::Running, None, Some(&w3)).await);
    assert!(store.recorded(&elsewhere.id, Vertical::Contacts, &["f"]).await.unwrap().is_empty());
}

async fn release_lets_the_job_go(place: Place) {
    let store = place.open().await;
    let job = store.create_job(&spec(None)).await.unwrap();
    let (_, w1) = store.acquire(&job.id, "w1", LONG, false).await.unwrap();
    store.release(&w1).await.unwrap();
    let now = store.job(&job.id).await.unwrap();
    assert_eq!((now.worker, now.lease_expires_at), (None, None));
    lost(store.set_state(&job.id, JobState::Running, None, Some(&w1)).await);
    store.release(&w1).await.unwrap();

    let (_, w2) = store.acquire(&job.id, "w2", LONG, false).await.expect("free after release");
    // a lost lease lets nothing go: w2 still holds the job
    store.release(&w1).await.unwrap();
    assert_eq!(store.job(&job.id).await.unwrap().worker.as_deref(), Some("w2"));
    store.set_state(&job.id, JobState::Running, None, Some(&w2)).await.unwrap();
}

async fn a_cancel_request_is_seen_by_the_next_heartbeat(place: Place) {
    let store = place.open().await;
    let job = queued(store.as_ref()).await;
    let (_, mut lease) = store.claim("w1", LONG).await.unwrap().unwrap();
    assert!(!store.heartbeat(&mut lease, LONG).await.unwrap());
    // asked from elsewhere (the hosted server's API, another process)
    let elsewhere = place.open().await;
    elsewhere.request_cancel(&job.id).await.unwrap();
    assert!(elsewhere.job(&job.id).await.unwrap().cancel_requested);
    assert!(store.heartbeat(&mut lease, LONG).await.unwrap(), "the worker learns of it");
    assert!(store.heartbeat(&mut lease, LONG).await.unwrap(), "and it stays asked");
    store.set_state(&job.id, JobState::Cancelled, Some("cancelled"), Some(&lease)).await.unwrap();
    store.release(&lease).await.unwrap();
    assert_eq!(store.job(&job.id).await.unwrap().state, JobState::Cancelled);
}
