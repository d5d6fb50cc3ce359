//! A hostile IMAP server: it announces a 100-byte message, then answers the body fetch
//! with a literal that claims 4 GB and keeps sending. ferry must stop reading, report
//! the message, and not grow its memory.
mod common;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let dir = std::env::var("FERRY_SERVERS_DIR").expect("FERRY_SERVERS_DIR is not set: run the tests with scripts/test.sh");
    let certs: Vec<_> = rustls_pemfile::certs(&mut &std::fs::read(format!("{dir}/cert.pem")).unwrap()[..]).map(Result::unwrap).collect();
    let key = rustls_pemfile::private_key(&mut &std::fs::read(format!("{dir}/key.pem")).unwrap()[..]).unwrap().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[test]
fn literal_claiming_gigabytes_is_refused_with_bounded_memory() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let sent2 = sent.clone();
    let acceptor = tls_acceptor();
    rt.spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let sent = sent2.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let (r, mut w) = tokio::io::split(tls);
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"* OK hostile IMAP ready\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let tag = line.split(' ').next().unwrap_or("*").to_owned();
                    let cmd = line.to_ascii_uppercase();
                    let reply: Vec<u8> = if cmd.contains(" LOGIN ") {
                        format!("{tag} OK logged in\r\n").into()
                    } else if cmd.contains(" LIST ") {
                        format!("* LIST () \"/\" INBOX\r\n{tag} OK\r\n").into()
                    } else if cmd.contains(" EXAMINE ") || cmd.contains(" SELECT ") {
                        format!("* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n{tag} OK [READ-ONLY] done\r\n").into()
                    } else if cmd.contains("UID SEARCH") {
                        format!("* SEARCH 1\r\n{tag} OK\r\n").into()
                    } else if cmd.contains("RFC822.SIZE") {
                        format!("* 1 FETCH (UID 1 FLAGS () INTERNALDATE \"01-Jan-2025 00:00:00 +0000\" RFC822.SIZE 100)\r\n{tag} OK\r\n")
                            .into()
                    } else if cmd.contains("BODY.PEEK[]") {
                        let _ = w.write_all(b"* 1 FETCH (UID 1 BODY[] {4000000000}\r\n").await;
                        let chunk = vec![b'A'; 64 * 1024];
                        // keep sending until the client hangs up (at most 512 MiB)
                        for _ in 0..8192 {
                            if w.write_all(&chunk).await.is_err() {
                                return;
                            }
                            sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                        }
                        return;
                    } else if cmd.contains(" LOGOUT") {
                        format!("* BYE\r\n{tag} OK\r\n").into()
                    } else {
                        format!("{tag} OK\r\n").into()
                    };
                    if w.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let t = tempfile::tempdir().unwrap();
    let ca = std::env::var("FERRY_TEST_CA").unwrap();
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kb=%M"])
        .arg(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("d"))
        .args([
            "transfer",
            "--from",
            &format!("imaps://victim@127.0.0.1:{port}"),
            "--to",
            &format!("dir:{}", t.path().join("out").display()),
        ])
        .args(["--ca-file", &ca, "--allow-private-network"])
        .env("FERRY_PASSWORD", "x")
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("fetching INBOX UID 1") && (all.contains("too large") || all.contains("sent more than")), "{all}");
    let rss: u64 = all.split("maxrss_kb=").nth(1).unwrap().trim().parse().unwrap();
    assert!(rss < 200 * 1024, "memory stayed bounded: {rss} KB");
    assert!(sent.load(Ordering::SeqCst) < 4_000_000_000, "the client stopped reading");
    assert!(!t.path().join("out/mail").exists() || count_files(&t.path().join("out/mail")) == 0);
    rt.shutdown_background();
}

/// Runs ferry with a 1 s IMAP timeout and waits for it to exit, at most `bound`.
fn run_with_timeout(args: &[String], bound: std::time::Duration) -> (std::process::Output, std::time::Duration) {
    let t = tempfile::tempdir().unwrap();
    let ca = std::env::var("FERRY_TEST_CA").expect("FERRY_TEST_CA is not set: run the tests with scripts/test.sh");
    let child = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(t.path().join("d"))
        .args(args)
        .args(["--to", &format!("dir:{}", t.path().join("out").display()), "--ca-file", &ca, "--allow-private-network"])
        .env("FERRY_PASSWORD", "x")
        .env("FERRY_IMAP_TIMEOUT", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    match rx.recv_timeout(bound) {
        Ok(out) => (out, start.elapsed()),
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("ferry still waits after {bound:?}: {args:?}");
        }
    }
}

/// A server that accepts connections and never sends a byte.
fn silent_server(rt: &tokio::runtime::Runtime) -> u16 {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    port
}

#[test]
fn a_server_that_never_answers_times_out_with_a_clear_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = silent_server(&rt);
    for (scheme, waited) in [("imap", "waiting for the greeting"), ("imaps", "waiting for the TLS handshake")] {
        let args = ["transfer".to_owned(), "--from".into(), format!("{scheme}://victim@127.0.0.1:{port}")];
        let (out, took) = run_with_timeout(&args, std::time::Duration::from_secs(30));
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(all.contains(&format!("127.0.0.1:{port} sent nothing for 1 s")) && all.contains(waited), "{scheme}: {all}");
        assert!(took < std::time::Duration::from_secs(15), "{scheme}: gave up after {took:?}, not retried for long");
    }
    rt.shutdown_background();
}

#[test]
fn imap_pointed_at_an_implicit_tls_port_times_out() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls_acceptor();
    rt.spawn(async move {
        // speaks TLS only: waits for the client's hello, then would greet inside TLS
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.write_all(b"* OK TLS-only IMAP ready\r\n").await;
                    let _ = tls.flush().await;
                    let mut sink = Vec::new();
                    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut sink).await;
                }
            });
        }
    });
    let args = ["transfer".to_owned(), "--from".into(), format!("imap://victim@127.0.0.1:{port}")];
    let (out, took) = run_with_timeout(&args, std::time::Duration::from_secs(30));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("sent nothing for 1 s") && all.contains("waiting for the greeting") && all.contains("imaps://"), "{all}");
    assert!(took < std::time::Duration::from_secs(15), "gave up after {took:?}");
    rt.shutdown_background();
}

#[test]
fn a_server_that_stops_answering_mid_session_times_out_naming_the_command() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls_acceptor();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let (r, mut w) = tokio::io::split(tls);
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"* OK IMAP ready\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let tag = line.split(' ').next().unwrap_or("*").to_owned();
                    let cmd = line.to_ascii_uppercase();
                    if cmd.contains(" LIST ") {
                        // holds the connection open and never answers
                        continue;
                    }
                    let reply = if cmd.contains(" CAPABILITY") {
                        format!("* CAPABILITY IMAP4rev1\r\n{tag} OK\r\n")
                    } else {
                        format!("{tag} OK\r\n")
                    };
                    if w.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let args = ["transfer".to_owned(), "--from".into(), format!("imaps://victim@127.0.0.1:{port}")];
    // every attempt waits 1 s; the engine retries a few times with backoff
    let (out, _) = run_with_timeout(&args, std::time::Duration::from_secs(120));
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("listing folders") && all.contains(&format!("127.0.0.1:{port} sent nothing for 1 s")), "{all}");
    rt.shutdown_background();
}
