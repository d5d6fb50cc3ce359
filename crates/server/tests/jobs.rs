//! Jobs through the API: followed by their events to the end, downloaded through a signed
//! link, paused, resumed, cancelled, and left resumable when the server stops.

mod common;

use common::{Person, Running, create};
use ferry_server::ServeConfig;
use futures::StreamExt;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

async fn get(s: &Running, who: &Person, path: &str) -> Value {
    let res = s.client().get(format!("{}{path}", s.url)).headers(who.headers()).send().await.unwrap();
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    res.json().await.unwrap()
}

async fn post(s: &Running, who: &Person, path: &str) -> (u16, Value) {
    let res = s.client().post(format!("{}{path}", s.url)).headers(who.headers()).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Waits until the job's state is one of `states` (the store says; at most a minute).
async fn until(s: &Running, who: &Person, id: &str, states: &[&str]) -> Value {
    for _ in 0..600 {
        let job = get(s, who, &format!("/api/jobs/{id}")).await;
        if states.contains(&job["state"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} never reached {states:?}");
}

/// The events of a job's stream, until the server ends it: (name, data).
async fn events(url: &str, who: &Person, id: &str) -> Vec<(String, Value)> {
    let res = reqwest::Client::new().get(format!("{url}/api/jobs/{id}/events")).headers(who.headers()).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = String::new();
    let mut stream = res.bytes_stream();
    let read = async {
        while let Some(chunk) = stream.next().await {
            body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read).await.expect("the stream ends when the job does");
    body.split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

fn tree(root: &Path, n: usize) {
    for i in 0..n {
        let dir = root.join(format!("d{}", i % 20));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("f{i}.txt")), format!("file {i}\n").repeat(20)).unwrap();
    }
}

#[tokio::test]
async fn a_job_is_followed_to_its_end_and_its_package_downloaded_through_a_link_that_expires() {
    let s = Running::default().await;
    let p = s.person().await;
    let job = create(&s, &p, false).await;
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(job["state"], "created");
    let follow = tokio::spawn({
        let (url, p, id) = (s.url.clone(), p.clone(), id.clone());
        async move { events(&url, &p, &id).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, started) = post(&s, &p, &format!("/api/jobs/{id}/start")).await;
    assert_eq!(status, 200, "{started}");
    let ev = follow.await.unwrap();
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"progress"), "{names:?}");
    assert_eq!(names.last(), Some(&"ended"), "{names:?}");
    assert!(names.contains(&"stream"), "the source's stream is announced: {names:?}");
    let (_, last) = ev.iter().rev().find(|(n, _)| n == "progress").unwrap();
    let report = get(&s, &p, &format!("/api/jobs/{id}/report")).await;
    assert_eq!(last["totals"], report["totals"], "the last progress event is the report");
    assert_eq!(report["state"], "completed");
    assert!(report["totals"]["transferred"].as_u64().unwrap() >= 100);
    assert_eq!(report["totals"]["failed"], 0);

    let (status, link) = post(&s, &p, &format!("/api/jobs/{id}/download")).await;
    assert_eq!(status, 200, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&s.url) && !url.contains(&p.cookie));
    // the link works without a session
    let res = s.client().get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap();
    let file = std::fs::read_dir(&s.state.packages_dir).unwrap().next().unwrap().unwrap().path();
    assert_eq!(bytes.as_ref(), std::fs::read(file).unwrap().as_slice(), "the package, whole");
    // expired, altered and made-up links
    let token = url.rsplit('/').next().unwrap();
    let old = ferry_server::access::link_token(&s.state.keys, &id, chrono::Utc::now().timestamp() - 1);
    let tries = [(old, 410), (token.replacen(&id[..4], "ffff", 1), 404), ("x.y.z".to_owned(), 404)];
    for (t, want) in tries {
        let res = s.client().get(format!("{}/download/{t}", s.url)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), want, "{t}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_job_is_paused_resumed_and_cancelled_and_moves_every_item_once() {
    let files = tempfile::tempdir().unwrap();
    tree(&files.path().join("big"), 3000);
    let s = Running::start(ServeConfig { workers: 1, files_root: Some(files.path().to_owned()), ..Default::default() }).await;
    let p = s.person().await;
    let body = json!({"source": {"connector": "dir", "address": "big"}, "destination": {"connector": "dir", "address": "out"}});
    let res = s.client().post(format!("{}/api/jobs", s.url)).headers(p.headers()).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    until(&s, &p, &id, &["running"]).await;
    let (status, job) = post(&s, &p, &format!("/api/jobs/{id}/pause")).await;
    assert_eq!(status, 200, "{job}");
    let paused = until(&s, &p, &id, &["paused", "completed"]).await;
    assert_eq!(paused["state"], "paused", "3,000 files take longer than a pause");
    let part = get(&s, &p, &format!("/api/jobs/{id}/report")).await;
    let moved = part["totals"]["transferred"].as_u64().unwrap();
    assert!(moved < 3000, "paused part way: {moved}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get(&s, &p, &format!("/api/jobs/{id}")).await["state"], "paused", "a paused job stays paused");
    let (status, _) = post(&s, &p, &format!("/api/jobs/{id}/resume")).await;
    assert_eq!(status, 200);
    until(&s, &p, &id, &["completed"]).await;
    let report = get(&s, &p, &format!("/api/jobs/{id}/report")).await;
    let t = &report["totals"];
    assert_eq!((t["found"].as_u64(), t["failed"].as_u64()), (Some(3000), Some(0)), "{report}");
    let written: usize = walk(&files.path().join("out"));
    assert_eq!(written, 3000, "every file once at the destination");

    // cancelled for good
    let job = create(&s, &p, false).await;
    let id = job["id"].as_str().unwrap();
    let (status, cancelled) = post(&s, &p, &format!("/api/jobs/{id}/cancel")).await;
    assert_eq!((status, cancelled["state"].as_str()), (200, Some("cancelled")));
    let (status, err) = post(&s, &p, &format!("/api/jobs/{id}/resume")).await;
    assert!(status == 400 || status == 409, "{status} {err}");
    let (status, _) = post(&s, &p, &format!("/api/jobs/{id}/download")).await;
    assert_eq!(status, 409, "nothing to download");
    s.stop().await;
}

fn walk(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            n += walk(&e.path());
        } else if !e.file_name().to_string_lossy().starts_with('.') {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn a_server_that_stops_leaves_its_running_job_for_the_next_one() {
    let files = tempfile::tempdir().unwrap();
    tree(&files.path().join("big"), 3000);
    let s = Running::start(ServeConfig { workers: 1, files_root: Some(files.path().to_owned()), ..Default::default() }).await;
    let p = s.person().await;
    let body = json!({"source": {"connector": "dir", "address": "big"}, "destination": {"connector": "dir", "address": "out"}});
    let res = s.client().post(format!("{}/api/jobs", s.url)).headers(p.headers()).json(&body).send().await.unwrap();
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    until(&s, &p, &id, &["running"]).await;
    let store = s.state.service.store().clone();
    s.stop.cancel();
    // the job goes back to the queue, its lease released
    let mut job = store.job(&id).await.unwrap();
    for _ in 0..300 {
        if job.state != ferry_jobs::JobState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        job = store.job(&id).await.unwrap();
    }
    assert_eq!(job.state, ferry_jobs::JobState::Queued, "{job:?}");
    assert!(job.worker.is_none(), "its lease released");
    s.stop().await;
}

#[tokio::test]
async fn probes_and_metrics_answer() {
    let s = Running::default().await;
    let p = s.person().await;
    let job = create(&s, &p, true).await;
    until(&s, &p, job["id"].as_str().unwrap(), &["completed"]).await;
    let c = s.client();
    assert_eq!(c.get(format!("{}/healthz", s.url)).send().await.unwrap().status(), 200);
    assert_eq!(c.get(format!("{}/readyz", s.url)).send().await.unwrap().status(), 200);
    let m = c.get(format!("{}/metrics", s.url)).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("ferry_jobs{state=\"completed\"} 1"), "{m}");
    assert!(m.contains("ferry_items_total{vertical=\"contacts\",outcome=\"transferred\"}"), "{m}");
    assert!(m.contains("ferry_http_request_duration_seconds_count{route=\"/api/jobs/{id}\",status=\"2xx\"}"), "{m}");
    assert!(!m.contains(job["id"].as_str().unwrap()), "routes, never ids, label the metrics");
    s.stop().await;
}

#[tokio::test]
async fn a_password_given_to_the_api_is_in_no_answer_and_no_file_and_is_forgotten_at_the_end() {
    const SECRET: &str = "planted-Secret-7f3a9c";
    let s = Running::start(ServeConfig { workers: 1, allow_private_network: true, ..Default::default() }).await;
    let p = s.person().await;
    // a destination that refuses the connection: the job fails, its password kept sealed
    let body = json!({"source": {"connector": "example"}, "destination": {"connector": "imap", "address": "imap://me@127.0.0.1:1", "password": SECRET}, "verticals": ["mail"]});
    let res = s.client().post(format!("{}/api/jobs", s.url)).headers(p.headers()).json(&body).send().await.unwrap();
    let created = res.text().await.unwrap();
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"].as_str().unwrap().to_owned();
    let ended = until(&s, &p, &id, &["failed", "completed_with_errors", "completed"]).await;
    let mut answers = vec![created];
    for path in [format!("/api/jobs/{id}"), format!("/api/jobs/{id}/report"), "/api/jobs".into(), format!("/jobs/{id}"), "/jobs".into()] {
        answers.push(s.client().get(format!("{}{path}", s.url)).headers(p.headers()).send().await.unwrap().text().await.unwrap());
    }
    let ev = events(&s.url, &p, &id).await;
    answers.push(format!("{ev:?}"));
    for a in &answers {
        assert!(!a.contains(SECRET), "an answer holds the password: {a}");
    }
    let files = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut out = vec![];
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() { stack.push(e.path()) } else { out.push(e.path()) }
            }
        }
        out
    };
    let data = s.data.path().to_owned();
    let held = |needle: &str| {
        files(&data)
            .into_iter()
            .filter(|f| std::fs::read(f).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()))
            .collect::<Vec<_>>()
    };
    assert_eq!(held(SECRET), Vec::<std::path::PathBuf>::new(), "no file of the data directory holds the password in clear");
    let kept = s.state.service.store().secret(&id, "destination_credential").await.unwrap();
    if ended["state"] == "failed" {
        assert!(kept.is_some(), "kept sealed while the job may resume");
        let (status, _) = post(&s, &p, &format!("/api/jobs/{id}/cancel")).await;
        assert_eq!(status, 200);
    }
    assert!(s.state.service.store().secret(&id, "destination_credential").await.unwrap().is_none(), "forgotten when the job ends");
    s.stop().await;
}
