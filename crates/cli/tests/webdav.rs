//! The WebDAV connector against a real server (rclone serve webdav, started by
//! scripts/servers.sh), and against a hostile one played by this test.
mod common;
mod fixtures;
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

/// A Takeout's Keep note goes to a WebDAV folder as its Markdown file, its image beside it
/// in the note's own folder; a second run writes nothing again.
#[test]
fn notes_from_an_archive_go_to_webdav_as_markdown_with_their_attachments() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let parts = fixtures::takeout::write_parts(&t.path().join("in"), &fixtures::takeout::entries(fixtures::takeout::Locale::English), 1);
    let dav = format!("webdavs://ferry@{}/notes-{}/", server_env("FERRY_TEST_WEBDAV"), std::process::id());
    let from = format!("archive:{}", parts[0].display());
    let o = run_with_servers(&data, &["--json", "transfer", "--from", &from, "--to", &dav, "--only", "notes"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(r["report"]["verticals"]["notes"]["transferred"], 1, "{r}");
    // read back as files: the Markdown with its front matter, and the image
    let back = t.path().join("back");
    let o = run_with_servers(&data, &["transfer", "--from", &dav, "--to", &format!("dir:{}", back.display())]);
    assert!(o.status.success(), "{}", text(&o));
    let files = walk(&back);
    let md = files.iter().find(|p| p.to_string_lossy().ends_with(".md")).unwrap_or_else(|| panic!("no note in {files:?}"));
    let body = std::fs::read_to_string(md).unwrap();
    assert!(body.contains("title: \"Shopping\"") || body.contains("title: Shopping"), "{body}");
    assert!(body.contains("- [x] bread"), "{body}");
    let image = files.iter().find(|p| p.to_string_lossy().ends_with(".attachments/1a2b3c.png")).unwrap_or_else(|| panic!("{files:?}"));
    assert_eq!(std::fs::read(image).unwrap().len(), 804);
    let o = run_with_servers(&data, &["--json", "transfer", "--from", &from, "--to", &dav, "--only", "notes"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["notes"]["transferred"], 0, "nothing written twice: {r}");
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
                        let _ = s.write_all(b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nTransfer-Encoding: \
                            chunked\r\n\r\n").await;
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

/// Names a WebDAV server keeps as they are, although a Windows folder could not: `?`,
/// `\`, `:`, a tab, and `&` (which the server's listing writes as `&amp;`). Each arrives
/// under its own name (`x?.txt` and `x_.txt` are two files), a rerun finds all of them
/// there, and they come back whole.
#[test]
fn odd_file_names_are_kept_and_read_back() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let names = ["x?.txt", "x_.txt", "c+d=e&f.txt", "tab\there.txt", "back\\slash.txt", "colon:.txt", "100%.txt"];
    let src = t.path().join("src");
    std::fs::create_dir_all(src.join("files/Odd")).unwrap();
    for n in names {
        std::fs::write(src.join("files/Odd").join(n), format!("the file called {n}")).unwrap();
    }
    let folder = format!("names-{}", std::process::id());
    let dav = format!("webdavs://ferry@{}/{folder}/", server_env("FERRY_TEST_WEBDAV"));
    let from = format!("dir:{}", src.display());
    let o = run_with_servers(&data, &["--json", "transfer", "--only", "files", "--from", &from, "--to", &dav]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["files"]["transferred"], names.len(), "{r}");
    // on the server's disk, each under its own name
    let stored = std::path::Path::new(&server_env("FERRY_SERVERS_DIR")).join("webdav").join(&folder).join("files/Odd");
    let mut on_disk: Vec<String> = std::fs::read_dir(&stored).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    on_disk.sort();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(on_disk, expected);
    for n in names {
        assert_eq!(std::fs::read_to_string(stored.join(n)).unwrap(), format!("the file called {n}"));
    }

    let o = run_with_servers(&data, &["--json", "transfer", "--only", "files", "--from", &from, "--to", &dav]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["files"]["transferred"], 0, "a rerun finds them all there: {r}");
    assert_eq!(r["report"]["verticals"]["files"]["already_present"], names.len(), "{r}");

    // read back: every name listed whole and every file downloaded
    let pkg = t.path().join("back.zip");
    let o = run_with_servers(&data, &["export", &dav, "--only", "files", "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut z = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let mut jsonl = String::new();
    std::io::Read::read_to_string(&mut z.by_name("files/files.jsonl").unwrap(), &mut jsonl).unwrap();
    let mut listed: Vec<String> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["record"]["name"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, expected);
}

/// A server whose certificate is self-signed as `openssl req -x509` makes it (CA:TRUE):
/// given as its own CA with --ca-file, as curl takes it.
#[test]
fn self_signed_certificate_given_with_ca_file() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    std::fs::create_dir_all(src.join("files")).unwrap();
    std::fs::write(src.join("files/note.txt"), "self-signed").unwrap();
    let run = |ca: &str| {
        std::process::Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(t.path().join("data"))
            .args(["transfer", "--only", "files", "--from", &format!("dir:{}", src.display())])
            .args(["--to", &format!("webdavs://ferry@{}/ss-{}/", server_env("FERRY_TEST_WEBDAV_SELFSIGNED"), std::process::id())])
            .args(["--ca-file", ca, "--allow-private-network"])
            .env("FERRY_PASSWORD", server_env("FERRY_TEST_PASSWORD"))
            .output()
            .unwrap()
    };
    // another CA's file does not make it trusted
    let o = run(&server_env("FERRY_TEST_CA"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run(&server_env("FERRY_TEST_SELFSIGNED"));
    assert!(o.status.success(), "{}", text(&o));
    let stored =
        std::path::Path::new(&server_env("FERRY_SERVERS_DIR")).join(format!("webdav-selfsigned/ss-{}/files/note.txt", std::process::id()));
    assert_eq!(std::fs::read_to_string(stored).unwrap(), "self-signed");
}
