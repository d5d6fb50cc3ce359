//! Commands that are wrong are usage errors (exit 2) that say what to do, and create no
//! job; a job is run by one process at a time.

mod common;
use common::*;
use std::path::Path;

fn jobs(data: &Path) -> Vec<serde_json::Value> {
    let o = ferry(data, &["--json", "jobs"]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout).unwrap()
}

#[test]
fn wrong_commands_exit_2_and_create_no_job() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let src = t.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let s = format!("dir:{}", src.display());
    let out = t.path().join("out.zip");
    let taken = t.path().join("taken");
    std::fs::create_dir_all(&taken).unwrap();
    std::fs::write(taken.join("mine.txt"), "mine").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["transfer".into(), "--from".into(), "nosuch:x".into(), "--to".into(), "dir:/tmp/y".into()], "nosuch"),
        (vec!["transfer".into(), "--from".into(), "no-colon".into(), "--to".into(), "dir:/tmp/y".into()], "SCHEME:ADDRESS"),
        (vec!["export".into(), format!("dir:{}/missing", t.path().display()), "-o".into(), out.display().to_string()], "does not exist"),
        (vec!["export".into(), s.clone(), "-o".into(), out.display().to_string(), "--incremental".into()], "--incremental"),
        (vec!["export".into(), s.clone(), "-o".into(), src.join("inside.zip").display().to_string()], "inside the source"),
        (vec!["transfer".into(), "--from".into(), s.clone(), "--to".into(), format!("dir:{}/copy", src.display())], "inside the source"),
        (
            vec![
                "transfer".into(),
                "--from".into(),
                "imaps://me@127.0.0.1".into(),
                "--to".into(),
                "dir:/tmp/y".into(),
                "--only".into(),
                "contacts".into(),
            ],
            "--only",
        ),
        (vec!["export".into(), s.clone(), "-o".into(), out.display().to_string(), "--only".into(), "recipes".into()], "recipes"),
        // a server and no password, and no terminal to ask on
        (
            vec!["transfer".into(), "--from".into(), s.clone(), "--to".into(), "webdav://me@127.0.0.1:9/x".into(), "--insecure".into()],
            "--to-password-file",
        ),
        // more at once than the destination accepts
        (
            vec!["export".into(), s.clone(), "-o".into(), out.display().to_string(), "--concurrency".into(), "1000".into()],
            "more than the 8",
        ),
        // a package target that holds someone's files
        (vec!["export".into(), s.clone(), "-o".into(), taken.display().to_string()], "not empty"),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ferry(&data, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?} should say {says:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
    if data.exists() {
        assert!(jobs(&data).is_empty(), "no job was created");
    }
    let left: Vec<_> = std::fs::read_dir(&src).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("a.txt")], "nothing was written into the source");
}

#[test]
fn a_job_held_by_another_process_is_not_run_twice() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    // a job that stops (its server does not answer) and can be resumed
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let o = std::process::Command::new(ferry_bin())
        .args(["--data-dir", data.to_str().unwrap(), "-q", "transfer", "--from"])
        .arg(format!("dir:{}", example_account().display()))
        .args(["--to", &format!("webdav://u@127.0.0.1:{port}/x"), "--allow-private-network", "--only", "files"])
        .env("FERRY_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let before = jobs(&data);
    let job = before[0]["id"].as_str().unwrap().to_owned();

    // another process holds the job's lock
    std::fs::create_dir_all(data.join("locks")).unwrap();
    let lock =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(data.join(format!("locks/job-{job}.lock"))).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(data.join(format!("locks/job-{job}.lock")), "the test holder").unwrap();
    let o = std::process::Command::new(ferry_bin())
        .args(["--data-dir", data.to_str().unwrap(), "resume", &job, "--allow-private-network"])
        .env("FERRY_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("is being run by the test holder"), "says who holds it: {}", text(&o));
    let after = jobs(&data);
    assert_eq!(after, before, "the job was not touched");
    drop(lock);
    // released: resume runs (and stops again on the dead server, with its reason)
    let o = std::process::Command::new(ferry_bin())
        .args(["--data-dir", data.to_str().unwrap(), "resume", &job, "--allow-private-network"])
        .env("FERRY_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!text(&o).contains("is being run by"), "{}", text(&o));
    // cancelled: it ends for good, its sealed password is forgotten, and it is not run again
    let o = ferry(&data, &["cancel", &job]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(jobs(&data)[0]["state"], "cancelled");
    let o = ferry(&data, &["resume", &job]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("already ended (cancelled)"), "{}", text(&o));
    let o = ferry(&data, &["cancel", &job]);
    assert_eq!(o.status.code(), Some(2), "cancelling twice: {}", text(&o));
}

#[test]
fn detach_queues_a_job_without_running_it_and_refuses_what_it_cannot_keep() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let src = t.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let (from, to) = (format!("dir:{}", src.display()), format!("dir:{}", t.path().join("out").display()));
    for extra in [&["--concurrency", "2"][..], &["--insecure"], &["--allow-private-network"], &["--recipient", "age1xyz"]] {
        let mut args = vec!["transfer", "--detach", "--from", &from, "--to", &to];
        args.extend_from_slice(extra);
        let o = ferry(&data, &args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains("not kept with a detached job") && text(&o).contains("ferry worker"), "{}", text(&o));
    }
    assert!(!data.join("ferry.db").exists() || jobs(&data).is_empty(), "no job for a wrong request");

    let o = ferry(&data, &["--json", "transfer", "--detach", "--from", &from, "--to", &to]);
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["state"], "queued", "{out}");
    let id = out["job"].as_str().unwrap().to_owned();
    let o = ferry(&data, &["-q", "transfer", "--detach", "--from", &from, "--to", &format!("{to}2")]);
    assert!(o.status.success(), "{}", text(&o));
    let second = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert_eq!(second.len(), 16, "the id alone on standard output: {second}");
    assert!(!t.path().join("out").exists(), "nothing ran");
    let listed = jobs(&data);
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|j| j["state"] == "queued"), "{listed:?}");

    // a queued job is cancelled at once; the other is run by a worker (SQLite store here)
    let o = ferry(&data, &["cancel", &id]);
    assert!(o.status.success(), "{}", text(&o));
    let mut worker = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["worker", "--jobs", "2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while jobs(&data).iter().any(|j| j["id"] == second.as_str() && j["state"] != "completed") {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "the worker did not run the job");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::process::Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().unwrap();
    let status = worker.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a worker stops cleanly on SIGTERM");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut worker.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains(&format!("job {second} completed")) && log.contains("stopped"), "{log}");
    assert!(!log.contains(&id), "the cancelled job is not run: {log}");
    assert!(t.path().join("out2/files/a.txt").exists());

    for (args, env, said) in [
        (&["worker", "--jobs", "0"][..], None, "--jobs"),
        (&["jobs"], Some(("FERRY_LEASE_SECONDS", "soon")), "FERRY_LEASE_SECONDS"),
        (&["jobs"], Some(("FERRY_DATABASE", "mysql://db/ferry")), "mysql://"),
    ] {
        let mut c = std::process::Command::new(ferry_bin());
        c.arg("--data-dir").arg(&data).args(args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(!o.status.success() && text(&o).contains(said), "{args:?}: {}", text(&o));
    }
}
