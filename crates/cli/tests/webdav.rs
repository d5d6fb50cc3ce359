//! The WebDAV connector against a real server (rclone serve webdav, started by
//! scripts/servers.sh), and against a hostile one played by this test.
mod common;
use common::*;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn files_and_media(p: &Path) -> std::collections::BTreeMap<(String, String, String), u32> {
    package_items(p).into_iter().filter(|(k, _)| k.0 == "media" || k.0 == "files").collect()
}

#[test]
fn folder_to_webdav_to_folder_and_rerun() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let dav = format!("webdavs://ferry@{}/rt-{}/", server_env("FERRY_TEST_WEBDAV"), std::process::id());
    let account = format!("dir:{}", example_account().display());
    let reference = t.path().join("ref.zip");
    let o = run_with_servers(&data, &["export", &account, "--only", "media,files", "-o", reference.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    let o = run_with_servers(&data, &["--json", "transfer", "--from", &account, "--to", &dav]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["media"]["transferred"], 10, "{r}");
    assert_eq!(r["report"]["verticals"]["media"]["fidelity_warnings"].as_array().unwrap().len(), 2, "sidecar descriptions are reported");

    let back = t.path().join("back");
    let o = run_with_servers(&data, &["transfer", "--from", &dav, "--to", &format!("dir:{}", back.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let check = t.path().join("check.zip");
    let o = run_with_servers(&data, &["export", &format!("dir:{}", back.display()), "-o", check.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(files_and_media(&check), files_and_media(&reference), "same files, same folders, same bytes");

    let o = run_with_servers(&data, &["--json", "transfer", "--from", &account, "--to", &dav]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for v in ["media", "files"] {
        assert_eq!(r["report"]["verticals"][v]["transferred"], 0, "{v}: {r}");
    }
}

/// A WebDAV server that lists a file outside its folder, answers 503 (with Retry-After)
/// to the first download, and optionally sends an endless listing.
fn hostile_server(rt: &tokio::runtime::Runtime, huge: bool) -> (u16, Arc<AtomicUsize>) {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let gets = Arc::new(AtomicUsize::new(0));
    let gets2 = gets.clone();
    rt.spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let gets = gets2.clone();
            tokio::spawn(async move {
                loop {
                    let mut req = Vec::new();
                    let mut b = [0u8; 1];
                    while !req.ends_with(b"\r\n\r\n") {
                        if s.read(&mut b).await.unwrap_or(0) == 0 {
                            return;
                        }
                        req.push(b[0]);
                    }
                    let head = String::from_utf8_lossy(&req).to_string();
                    let len: usize = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))).unwrap_or(0);
                    let mut body = vec![0u8; len];
                    let _ = s.read_exact(&mut body).await;
                    let depth1 = head.to_ascii_lowercase().contains("depth: 1");
                    if head.starts_with("PROPFIND") && depth1 && huge {
                        let _ = s.write_all(b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n").await;
                        let entry = "<D:response><D:href>/base/x.txt</D:href><D:propstat><D:prop><D:getcontentlength>1</D:getcontentlength></D:prop></D:propstat></D:response>".repeat(1000);
                        let chunk = format!("{:x}\r\n{entry}\r\n", entry.len());
                        for _ in 0..2000 {
                            if s.write_all(chunk.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        return;
                    }
                    let reply = if head.starts_with("PROPFIND") && depth1 {
                        let xml = r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/base/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/base/../../escape.txt</D:href><D:propstat><D:prop><D:getcontentlength>5</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/escape2.txt</D:href><D:propstat><D:prop><D:getcontentlength>5</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/base/ok.txt</D:href><D:propstat><D:prop><D:getcontentlength>5</D:getcontentlength><D:getetag>"e1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#;
                        format!("HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len())
                    } else if head.starts_with("PROPFIND") {
                        let xml = r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/base/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#;
                        format!("HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len())
                    } else if head.starts_with("GET /base/ok.txt") {
                        if gets.fetch_add(1, Ordering::SeqCst) == 0 {
                            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n".to_owned()
                        } else {
                            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_owned()
                        }
                    } else {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
                    };
                    if s.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, gets)
}

fn run_insecure(data: &Path, from: &str, to: &Path) -> Output {
    std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .args([
            "transfer",
            "--only",
            "files",
            "--from",
            from,
            "--to",
            &format!("dir:{}", to.display()),
            "--insecure",
            "--allow-private-network",
        ])
        .env("FERRY_PASSWORD", "x")
        .output()
        .unwrap()
}

#[test]
fn hostile_paths_are_refused_and_503_is_retried() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, gets) = hostile_server(&rt, false);
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("inner/out");
    let o = run_insecure(&t.path().join("d"), &format!("webdav://u@127.0.0.1:{port}/base/"), &out);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(3), "{all}");
    assert!(all.contains("not inside /base/"), "{all}");
    assert_eq!(std::fs::read_to_string(out.join("files/ok.txt")).unwrap(), "hello", "the good file arrives after the retry");
    assert!(gets.load(Ordering::SeqCst) >= 2, "503 was retried");
    assert!(!t.path().join("escape.txt").exists() && !t.path().join("inner/escape.txt").exists());
    assert_eq!(count_files(t.path()), count_files(&t.path().join("d")) + 1, "nothing but the good file was written");
    rt.shutdown_background();
}

#[test]
fn huge_propfind_answer_is_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, _) = hostile_server(&rt, true);
    let t = tempfile::tempdir().unwrap();
    let o = run_insecure(&t.path().join("d"), &format!("webdav://u@127.0.0.1:{port}/base/"), &t.path().join("out"));
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("larger than"), "{all}");
    rt.shutdown_background();
}
