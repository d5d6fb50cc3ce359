//! What is particular to the embedded SQLite store: its file in the data directory, kept
//! across openings and brought up to date from earlier versions. (The behaviour both
//! stores share is tested in conformance.rs.)

use ferry_core::Vertical;
use ferry_store::*;
use sqlx::Connection;

fn spec() -> JobSpec {
    JobSpec {
        source: "dir:a".into(),
        destination: "dir:b".into(),
        verticals: vec![Vertical::Contacts, Vertical::Mail],
        options: JobOptions::default(),
        owner: None,
    }
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let job = store.create_job(&spec()).await.unwrap();
    let row = ItemRow {
        vertical: Vertical::Contacts,
        source_id: "a".into(),
        outcome: Outcome::Transferred,
        reason: None,
        version: "v1".into(),
        dest_id: Some("dest/a".into()),
        sha256: None,
        warnings: vec![],
    };
    store.commit_page(None, &job.id, Some(&job.pair()), "contacts", &[row], Some("c1"), false).await.unwrap();
    drop(store);
    // migrations already applied are not applied again
    let again = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(again.jobs(None, 10).await.unwrap().len(), 1);
    assert_eq!(again.cursor(&job.id, "contacts").await.unwrap().unwrap().cursor.as_deref(), Some("c1"));
    assert_eq!(again.ledger(&job.pair(), Vertical::Contacts, &["a"]).await.unwrap()["a"].dest_id, "dest/a");
}

/// A data directory of an earlier ferry (migrations 1 to 4: cursors and change-tracking
/// state per vertical, the worker's pid) opens, and what it held is read back by stream,
/// the vertical's name.
#[tokio::test]
async fn a_data_directory_of_an_earlier_version_is_brought_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("ferry.db").display());
    let mut old = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations/sqlite").run_to(4, &mut old).await.unwrap();
    for statement in [
        "INSERT INTO jobs (id, source, destination, verticals, options, state, worker_pid, created_at, updated_at) VALUES \
        ('0123456789abcdef', 'dir:a', 'dir:b', '[\"contacts\",\"mail\"]', '{\"dry_run\":false,\"incremental\":true}', \
        'paused', 4242, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:01.000Z')",
        "INSERT INTO job_cursors (job_id, vertical, cursor, done) VALUES ('0123456789abcdef', 'contacts', 'page-3', 0)",
        "INSERT INTO job_cursors (job_id, vertical, cursor, done) VALUES ('0123456789abcdef', 'mail', NULL, 1)",
        "INSERT INTO job_items (job_id, vertical, source_id, outcome) VALUES ('0123456789abcdef', 'contacts', 'c1', 'transferred')",
        "INSERT INTO sync_state (pair, vertical, state) VALUES ('dir:a -> dir:b', 'contacts', 'token-7')",
    ] {
        sqlx::query(statement).execute(&mut old).await.unwrap();
    }
    old.close().await.unwrap();

    let store = SqliteStore::open(dir.path()).await.unwrap();
    let job = store.job("0123456789abcdef").await.unwrap();
    assert_eq!(job.state, JobState::Paused);
    assert!(job.spec.options.incremental);
    assert_eq!((job.spec.owner, job.worker, job.lease_expires_at, job.cancel_requested), (None, None, None, false));
    assert_eq!(store.cursor(&job.id, "contacts").await.unwrap(), Some(CursorRow { cursor: Some("page-3".into()), done: false }));
    assert_eq!(store.cursor(&job.id, "mail").await.unwrap(), Some(CursorRow { cursor: None, done: true }));
    assert_eq!(store.sync_state("dir:a -> dir:b", "contacts").await.unwrap().as_deref(), Some("token-7"));
    assert_eq!(store.recorded(&job.id, Vertical::Contacts, &["c1"]).await.unwrap()["c1"], Outcome::Transferred);
    // and the job can be run under a lease now
    let (_, lease) = store.acquire(&job.id, "ferry worker 1 on test", std::time::Duration::from_secs(60), false).await.unwrap();
    store.set_state(&job.id, JobState::Running, None, Some(&lease)).await.unwrap();
}

/// Many first runs at once on one new data directory: every one opens the store and
/// they all get the same secret key (no "table jobs already exists", no "File exists").
#[test]
fn concurrent_first_runs_on_a_new_data_directory() {
    let d = tempfile::tempdir().unwrap();
    for round in 0..4 {
        first_runs_at_once(&d.path().join(format!("new{round}")));
    }
}

fn first_runs_at_once(data: &std::path::Path) {
    let data = data.to_path_buf();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (data, barrier) = (data.clone(), barrier.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                barrier.wait();
                let key = ferry_store::secrets::SecretKey::load(&data).map_err(|e| e.to_string())?;
                rt.block_on(SqliteStore::open(&data)).map_err(|e| e.to_string())?;
                Ok::<_, String>(key.seal(b"x", "probe"))
            })
        })
        .collect();
    let sealed: Vec<_> = handles.into_iter().map(|h| h.join().unwrap().expect("every first run opens the store")).collect();
    let key = ferry_store::secrets::SecretKey::load(&data).unwrap();
    for (nonce, ct) in sealed {
        assert_eq!(&*key.open(&nonce, &ct, "probe").unwrap(), b"x", "every run used the one key on disk");
    }
    let leftovers: Vec<_> =
        std::fs::read_dir(&data).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "no temporary files left: {leftovers:?}");
}

/// Errors say what went wrong, not which driver: a data directory that cannot be created
/// (a file is in its place) makes the store unavailable, with the path.
#[tokio::test]
async fn a_store_that_cannot_be_opened_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    match SqliteStore::open(&file.join("data")).await {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("not-a-folder"), "{why}"),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a store was opened under a file"),
    }
}

/// `open` picks the store from where it is: nothing for the data directory's SQLite file,
/// a PostgreSQL URL for a server (one that cannot be reached is unavailable, and its
/// password is not repeated), and refuses another kind of URL.
#[tokio::test]
async fn open_picks_the_store_from_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let store = ferry_store::open("", dir.path()).await.unwrap();
    store.create_job(&spec()).await.unwrap();
    assert!(dir.path().join("ferry.db").exists());
    let elsewhere = dir.path().join("elsewhere");
    let other = ferry_store::open(elsewhere.to_str().unwrap(), dir.path()).await.unwrap();
    assert!(other.jobs(None, 10).await.unwrap().is_empty(), "another directory, another store");
    assert!(elsewhere.join("ferry.db").exists());

    match ferry_store::open("mysql://ferry@127.0.0.1/ferry", dir.path()).await {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("mysql://"), "{why}"),
        other => panic!("expected unavailable, got {:?}", other.map(|_| ())),
    }
    // port 1 on the loopback: nothing listens there
    match ferry_store::open("postgres://ferry:s3cret-pw@127.0.0.1:1/ferry", dir.path()).await {
        Err(StoreError::Unavailable(why)) => assert!(!why.contains("s3cret-pw"), "{why}"),
        other => panic!("expected unavailable, got {:?}", other.map(|_| ())),
    }
}
