//! The job service end to end on real folders and the embedded store: requests checked
//! before a job exists, progress published, pause, cancel, one runner per job.

use ferry_app::*;
use ferry_engine::NoProgress;
use ferry_jobs::{JobOptions, JobState};
use std::path::Path;
use tokio::sync::broadcast::error::RecvError;

fn files(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    for i in 0..n {
        std::fs::write(dir.join(format!("docs/f{i:05}.txt")), format!("file {i}\n").repeat(1 + i % 7)).unwrap();
    }
}

fn request(src: &Path, dst: &Path) -> TransferRequest {
    TransferRequest {
        source: format!("dir:{}", src.display()),
        destination: format!("dir:{}", dst.display()),
        only: vec![ferry_core::Vertical::Files],
        options: JobOptions::default(),
    }
}

fn count(dir: &Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
    }
    out
}

#[tokio::test]
async fn a_wrong_request_creates_no_job() {
    let t = tempfile::tempdir().unwrap();
    let service = JobService::open(&t.path().join("data")).await.unwrap();
    let run = RunOptions::default();
    let bad = [
        request(&t.path().join("missing"), &t.path().join("out")),
        TransferRequest { source: "nosuch:x".into(), ..request(t.path(), &t.path().join("out")) },
        TransferRequest { destination: "imaps://me@127.0.0.1".into(), ..request(t.path(), t.path()) },
    ];
    for req in &bad {
        let e = service.create(req, &run).await.unwrap_err();
        assert!(e.is_usage(), "{e}");
    }
    assert!(service.jobs(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn progress_is_published_to_subscribers() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 120);
    let service = JobService::open(&t.path().join("data")).await.unwrap();
    let job = service.create(&request(&t.path().join("src"), &t.path().join("out")), &RunOptions::default()).await.unwrap();
    let mut events = service.subscribe();
    let done = service.run(&job.id, RunOptions::default(), &NoProgress).await.unwrap();
    assert_eq!(done.job.state, JobState::Completed);
    let (mut items, mut started, mut ended) = (0, 0, None);
    loop {
        match events.try_recv() {
            Ok(Event::Item { job: j, .. }) if j == job.id => items += 1,
            Ok(Event::Started { .. }) => started += 1,
            Ok(Event::Ended { state, .. }) => ended = Some(state),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert_eq!((started, items, ended), (1, 120, Some(JobState::Completed)));
    assert_eq!(done.report.totals().transferred, 120);
    assert_eq!(count(&t.path().join("out")), 120);
}

#[derive(Clone, Copy)]
enum Act {
    Pause,
    Cancel,
}

/// Runs a job and, on its first item event, pauses or cancels it.
async fn interrupt(act: Act) -> (tempfile::TempDir, std::sync::Arc<JobService>, Finished) {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 3000);
    let service = std::sync::Arc::new(JobService::open(&t.path().join("data")).await.unwrap());
    let job = service.create(&request(&t.path().join("src"), &t.path().join("out")), &RunOptions::default()).await.unwrap();
    let mut events = service.subscribe();
    let (s, id) = (service.clone(), job.id.clone());
    let watcher = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(Event::Item { .. }) => {
                    return match act {
                        Act::Pause => assert!(s.pause(&id), "the job runs here"),
                        Act::Cancel => s.cancel(&id).await.unwrap(),
                    };
                }
                Err(RecvError::Closed) => panic!("no item was published"),
                _ => {}
            }
        }
    });
    let done = service.run(&job.id, RunOptions::default(), &NoProgress).await.unwrap();
    watcher.await.unwrap();
    (t, service, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_job_resumes_and_ends_with_every_item_once() {
    let (t, service, done) = interrupt(Act::Pause).await;
    assert_eq!(done.job.state, JobState::Paused, "{:?}", done.job.reason);
    let copied = count(&t.path().join("out"));
    assert!(copied < 3000, "paused before the end: {copied}");
    let done = service.run(&done.job.id, RunOptions::default(), &NoProgress).await.unwrap();
    assert_eq!(done.job.state, JobState::Completed);
    assert_eq!(count(&t.path().join("out")), 3000);
    assert_eq!(done.report.totals().transferred + done.report.totals().already_present, 3000);
    assert!(!service.pause(&done.job.id), "no longer running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_job_ends_for_good() {
    let (t, service, done) = interrupt(Act::Cancel).await;
    assert!(count(&t.path().join("out")) < 3000, "stopped before the end");
    assert_eq!(done.job.state, JobState::Cancelled);
    let again = service.run(&done.job.id, RunOptions::default(), &NoProgress).await.unwrap();
    assert!(again.already_ended);
    assert!(service.cancel(&done.job.id).await.unwrap_err().is_usage(), "cancelling twice is a mistake");
}

#[tokio::test]
async fn a_job_at_rest_is_cancelled_and_its_passwords_forgotten() {
    let t = tempfile::tempdir().unwrap();
    let service = JobService::open(&t.path().join("data")).await.unwrap();
    let req = TransferRequest { destination: "webdav://me@127.0.0.1:9/x".into(), ..request(t.path(), t.path()) };
    let run = RunOptions { destination_credential: Some(ferry_connectors::Credential::password("pw")), ..Default::default() };
    let job = service.create(&req, &run).await.unwrap();
    let (_, sealed) = service.store().secret(&job.id, "destination_credential").await.unwrap().expect("kept sealed");
    assert!(!sealed.windows(2).any(|w| w == b"pw"), "nothing in plaintext at rest");
    assert!(service.missing_passwords(&job).await.unwrap().is_empty());
    service.cancel(&job.id).await.unwrap();
    assert_eq!(service.job(&job.id).await.unwrap().state, JobState::Cancelled);
    assert!(service.store().secret(&job.id, "destination_credential").await.unwrap().is_none(), "forgotten");
}

#[tokio::test]
async fn a_job_run_elsewhere_is_not_run_twice() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 3);
    let data = t.path().join("data");
    let service = JobService::open(&data).await.unwrap();
    let job = service.create(&request(&t.path().join("src"), &t.path().join("out")), &RunOptions::default()).await.unwrap();
    let held = ferry_store::lock::job_lock(&data, &job.id).unwrap();
    match service.run(&job.id, RunOptions::default(), &NoProgress).await {
        Err(AppError::Busy { job: j, holder }) => assert!(j == job.id && holder.contains("ferry process"), "{holder}"),
        other => panic!("ran a job another process holds: {other:?}"),
    }
    assert_eq!(count(&t.path().join("out")), 0);
    drop(held);
    assert_eq!(service.run(&job.id, RunOptions::default(), &NoProgress).await.unwrap().job.state, JobState::Completed);
}

#[tokio::test]
async fn a_package_destination_is_never_incremental_nor_foreign() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 2);
    let service = JobService::open(&t.path().join("data")).await.unwrap();
    let mut req = request(&t.path().join("src"), t.path());
    req.destination = format!("package:{}/p.zip", t.path().display());
    req.options.incremental = true;
    let e = service.create(&req, &RunOptions::default()).await.unwrap_err();
    assert!(e.is_usage() && e.to_string().contains("--incremental"), "{e}");
    req.options.incremental = false;
    std::fs::write(t.path().join("p.zip"), "someone's zip").unwrap();
    let e = service.create(&req, &RunOptions::default()).await.unwrap_err();
    assert!(e.is_usage(), "{e}");
    assert_eq!(std::fs::read(t.path().join("p.zip")).unwrap(), b"someone's zip");
    assert!(service.jobs(10).await.unwrap().is_empty());
}
