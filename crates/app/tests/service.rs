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
        owner: None,
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
    let service = JobService::open("", &t.path().join("data")).await.unwrap();
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
    let service = JobService::open("", &t.path().join("data")).await.unwrap();
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
    let service = std::sync::Arc::new(JobService::open("", &t.path().join("data")).await.unwrap());
    let job = service.create(&request(&t.path().join("src"), &t.path().join("out")), &RunOptions::default()).await.unwrap();
    let mut events = service.subscribe();
    let (s, id) = (service.clone(), job.id.clone());
    let watcher = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(Event::Item { .. }) => {
                    return match act {
                        Act::Pause => assert!(s.pause(&id), "the job runs here"),
                        Act::Cancel => assert_eq!(s.cancel(&id).await.unwrap(), Cancelled::Stopping, "the job runs here"),
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
    let service = JobService::open("", &t.path().join("data")).await.unwrap();
    let req = TransferRequest { destination: "webdav://me@127.0.0.1:9/x".into(), ..request(t.path(), t.path()) };
    let run = RunOptions { destination_credential: Some(ferry_connectors::Credential::password("pw")), ..Default::default() };
    let job = service.create(&req, &run).await.unwrap();
    let (_, sealed) = service.store().secret(&job.id, "destination_credential").await.unwrap().expect("kept sealed");
    assert!(!sealed.windows(2).any(|w| w == b"pw"), "nothing in plaintext at rest");
    assert!(service.missing_passwords(&job).await.unwrap().is_empty());
    assert_eq!(service.cancel(&job.id).await.unwrap(), Cancelled::Now);
    assert_eq!(service.job(&job.id).await.unwrap().state, JobState::Cancelled);
    assert!(service.store().secret(&job.id, "destination_credential").await.unwrap().is_none(), "forgotten");
}

#[tokio::test]
async fn a_job_run_elsewhere_is_not_run_twice() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 3);
    let data = t.path().join("data");
    let service = JobService::open("", &data).await.unwrap();
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
    let service = JobService::open("", &t.path().join("data")).await.unwrap();
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

/// A second service on the same data directory, as another `ferry` process would have.
async fn other_process(data: &Path) -> JobService {
    JobService::open("", data).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_run_by_another_process_is_asked_to_cancel_and_ends_cancelled() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 3000);
    let data = t.path().join("data");
    let mut runner = JobService::open("", &data).await.unwrap();
    runner.set_lease_ttl(std::time::Duration::from_millis(600));
    let runner = std::sync::Arc::new(runner);
    let job = runner.create(&request(&t.path().join("src"), &t.path().join("out")), &RunOptions::default()).await.unwrap();
    let mut events = runner.subscribe();
    let (r, id) = (runner.clone(), job.id.clone());
    let run = tokio::spawn(async move { r.run(&id, RunOptions::default(), &NoProgress).await });
    // once it runs, another process cancels it: the job's lock is held, so it is asked to
    loop {
        match events.recv().await {
            Ok(Event::Item { .. }) => break,
            Err(RecvError::Closed) => panic!("no item was published"),
            _ => {}
        }
    }
    let other = other_process(&data).await;
    match other.cancel(&job.id).await.unwrap() {
        Cancelled::Requested { holder } => assert!(holder.contains("ferry process"), "{holder}"),
        c => panic!("a job another process runs was not asked to cancel: {c:?}"),
    }
    let done = run.await.unwrap().unwrap();
    assert_eq!(done.job.state, JobState::Cancelled, "{:?}", done.job.reason);
    assert!(count(&t.path().join("out")) < 3000, "stopped before the end");
    assert!(other.cancel(&job.id).await.unwrap_err().is_usage(), "already ended");
    assert_eq!(other.job(&job.id).await.unwrap().worker, None, "the lease was released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_lease_is_taken_over_stops_and_commits_nothing_more() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 3000);
    let data = t.path().join("data");
    let mut runner = JobService::open("", &data).await.unwrap();
    runner.set_lease_ttl(std::time::Duration::from_millis(900));
    let runner = std::sync::Arc::new(runner);
    let job = runner.create(&request(&t.path().join("src"), &t.path().join("out")), &RunOptions::default()).await.unwrap();
    let mut events = runner.subscribe();
    let (r, id) = (runner.clone(), job.id.clone());
    let run = tokio::spawn(async move { r.run(&id, RunOptions::default(), &NoProgress).await });
    loop {
        if let Ok(Event::Item { .. }) = events.recv().await {
            break;
        }
    }
    // another worker takes the job (as one would whose store says the holder is gone)
    let store = runner.store().clone();
    let (_, theirs) = store.acquire(&job.id, "the other worker", std::time::Duration::from_secs(60), true).await.unwrap();
    let recorded = store.report(&job.id).await.unwrap().totals().found;
    match run.await.unwrap() {
        Err(e @ AppError::LeaseLost(_)) => {
            let msg = e.to_string();
            assert!(msg.contains("lost the job's lease; another worker runs it") && msg.contains("the other worker"), "{msg}");
        }
        other => panic!("a run that lost its lease went on: {other:?}"),
    }
    let job_now = store.job(&job.id).await.unwrap();
    assert_eq!(job_now.worker.as_deref(), Some("the other worker"), "the new holder keeps the job");
    assert_eq!(store.report(&job.id).await.unwrap().totals().found, recorded, "nothing committed after the takeover");
    assert!(recorded < 3000);
    store.release(&theirs).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_queued_jobs_and_requeues_the_ones_it_runs_when_stopped() {
    let t = tempfile::tempdir().unwrap();
    files(&t.path().join("src"), 1500);
    let data = t.path().join("data");
    let service = std::sync::Arc::new(JobService::open("", &data).await.unwrap());
    let mut ids = Vec::new();
    for k in 0..3 {
        let job = service.submit(&request(&t.path().join("src"), &t.path().join(format!("out{k}"))), &RunOptions::default()).await.unwrap();
        assert_eq!(job.state, JobState::Queued);
        ids.push(job.id);
    }
    // a job that cannot start fails and is not claimed again
    let broken = service.submit(&request(&t.path().join("src"), &t.path().join("out-broken")), &RunOptions::default()).await.unwrap();
    std::fs::write(t.path().join("out-broken"), "a file where the folder should be").unwrap();

    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let tell: std::sync::Arc<dyn Fn(WorkerEvent) + Send + Sync> = std::sync::Arc::new(move |e| log.lock().unwrap().push(format!("{e:?}")));
    let stop = CancellationToken::new();
    let worker = tokio::spawn({
        let (service, stop, tell) = (service.clone(), stop.clone(), tell.clone());
        async move { service.work(2, RunOptions::default(), stop, tell).await }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for id in &ids {
        while service.job(id).await.unwrap().state != JobState::Completed {
            assert!(std::time::Instant::now() < deadline, "{id} did not complete: {:?}", seen.lock().unwrap());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    while service.job(&broken.id).await.unwrap().state != JobState::Failed {
        assert!(std::time::Instant::now() < deadline, "the broken job did not fail: {:?}", seen.lock().unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for k in 0..3 {
        assert_eq!(count(&t.path().join(format!("out{k}"))), 1500);
    }
    // a job queued now is taken, and given back when the worker stops
    files(&t.path().join("big"), 4000);
    let last = service.submit(&request(&t.path().join("big"), &t.path().join("out-last")), &RunOptions::default()).await.unwrap();
    let mut events = service.subscribe();
    loop {
        match events.recv().await {
            Ok(Event::Item { job, .. }) if job == last.id => break,
            Err(RecvError::Closed) => panic!("no item was published"),
            _ => {}
        }
    }
    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(60), worker).await.expect("the worker stops").unwrap();
    let job = service.job(&last.id).await.unwrap();
    assert_eq!((job.state, job.worker.as_deref()), (JobState::Queued, None), "{job:?}");
    assert!(count(&t.path().join("out-last")) < 4000, "paused before the end");
    assert_eq!(service.job(&broken.id).await.unwrap().state, JobState::Failed, "not retried");
    // the next worker continues it to its end, each item once
    let (claimed, lease) = service.store().claim("next worker", std::time::Duration::from_secs(30)).await.unwrap().expect("queued");
    assert_eq!(claimed.id, last.id);
    let done = service.run_claimed(claimed, lease, RunOptions::default(), &NoProgress, &CancellationToken::new()).await.unwrap();
    assert_eq!(done.job.state, JobState::Completed);
    assert_eq!(count(&t.path().join("out-last")), 4000);
    assert_eq!(done.report.totals().found, 4000);
}
