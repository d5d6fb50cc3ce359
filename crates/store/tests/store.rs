use ferry_core::Vertical;
use ferry_store::*;

fn row(id: &str, outcome: Outcome) -> ItemRow {
    ItemRow {
        source_id: id.into(),
        outcome,
        reason: (outcome == Outcome::Failed).then(|| "bad".to_string()),
        version: "v1".into(),
        dest_id: (outcome != Outcome::Failed).then(|| format!("dest/{id}")),
        sha256: None,
        warnings: if id == "w" { vec!["X-FOO dropped".into()] } else { vec![] },
    }
}

#[tokio::test]
async fn jobs_pages_ledger_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let spec = JobSpec {
        source: "dir:a".into(),
        destination: "dir:b".into(),
        verticals: vec![Vertical::Contacts, Vertical::Mail],
        options: JobOptions::default(),
    };
    let job = store.create_job(&spec).await.unwrap();
    assert_eq!(job.state, JobState::Created);
    assert!(store.cursor(&job.id, Vertical::Contacts).await.unwrap().is_none());

    store
        .commit_page(
            &job.id,
            Some(&job.pair()),
            Vertical::Contacts,
            &[row("a", Outcome::Transferred), row("w", Outcome::Transferred), row("b", Outcome::Failed)],
            Some("c1"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(store.cursor(&job.id, Vertical::Contacts).await.unwrap(), Some(CursorRow { cursor: Some("c1".into()), done: false }));
    // a page committed again (a resume) does not count twice
    store.commit_page(&job.id, Some(&job.pair()), Vertical::Contacts, &[row("a", Outcome::Transferred)], Some("c1"), true).await.unwrap();

    let rec = store.recorded(&job.id, Vertical::Contacts, &["a", "b", "zz"]).await.unwrap();
    assert_eq!(rec.len(), 2);
    assert_eq!(rec["b"], Outcome::Failed);
    let led = store.ledger(&job.pair(), Vertical::Contacts, &["a", "b"]).await.unwrap();
    assert_eq!(led.len(), 1, "failed items are not in the ledger");
    assert_eq!(led["a"].dest_id, "dest/a");

    store.set_state(&job.id, JobState::CompletedWithErrors, Some("1 failed"), None).await.unwrap();
    let rep = store.report(&job.id).await.unwrap();
    let c = &rep.verticals[&Vertical::Contacts];
    assert_eq!((c.found, c.transferred, c.failed), (3, 2, 1));
    assert_eq!(c.failures[0].reason, "bad");
    assert_eq!(c.fidelity_warnings[0].reason, "X-FOO dropped");
    assert_eq!(rep.verticals[&Vertical::Mail].found, 0);
    assert_eq!(rep.state, Some(JobState::CompletedWithErrors));

    // a destination written whole (a package) keeps no ledger: the items are recorded,
    // the ledger is not touched
    let whole = store.create_job(&JobSpec { destination: "package:/p.zip".into(), ..spec.clone() }).await.unwrap();
    store.commit_page(&whole.id, None, Vertical::Contacts, &[row("a", Outcome::Transferred)], None, true).await.unwrap();
    assert_eq!(store.recorded(&whole.id, Vertical::Contacts, &["a"]).await.unwrap().len(), 1);
    assert!(store.ledger(&whole.pair(), Vertical::Contacts, &["a"]).await.unwrap().is_empty());

    // reopening keeps everything (migrations are idempotent)
    drop(store);
    let again = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(again.jobs(10).await.unwrap().len(), 2);
    assert!(matches!(again.job("nope").await, Err(StoreError::NoSuchJob(_))));
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
