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
            &job.pair(),
            Vertical::Contacts,
            &[row("a", Outcome::Transferred), row("w", Outcome::Transferred), row("b", Outcome::Failed)],
            Some("c1"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(store.cursor(&job.id, Vertical::Contacts).await.unwrap(), Some(CursorRow { cursor: Some("c1".into()), done: false }));
    // a page committed again (a resume) does not count twice
    store.commit_page(&job.id, &job.pair(), Vertical::Contacts, &[row("a", Outcome::Transferred)], Some("c1"), true).await.unwrap();

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

    // reopening keeps everything (migrations are idempotent)
    drop(store);
    let again = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(again.jobs(10).await.unwrap().len(), 1);
    assert!(matches!(again.job("nope").await, Err(StoreError::NoSuchJob(_))));
}
