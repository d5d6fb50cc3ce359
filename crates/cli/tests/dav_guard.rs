//! WebDAV, CalDAV and CardDAV against servers this test plays: the private-network guard
//! on IP literals, an href a hostile server breaks, and a page read the server asks to
//! retry later with an HTTP date.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn ferry_plain(data: &Path, args: &[&str]) -> Output {
    Command::new(ferry_bin()).arg("--data-dir").arg(data).args(args).env("FERRY_PASSWORD", "secret-password").output().unwrap()
}

/// Whether anything connected to a listener (a connection waits in the backlog even if
/// never accepted).
fn connected(l: &TcpListener) -> bool {
    l.set_nonblocking(true).unwrap();
    l.accept().is_ok()
}

#[test]
fn internal_ip_literals_are_refused_before_connecting() {
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let v6 = TcpListener::bind("[::1]:0").expect("this machine has IPv6 loopback");
    let (p4, p6) = (v4.local_addr().unwrap().port(), v6.local_addr().unwrap().port());
    let t = tempfile::tempdir().unwrap();
    let hosts = [
        format!("127.0.0.1:{p4}"),
        format!("[::1]:{p6}"),
        format!("[::ffff:127.0.0.1]:{p4}"),
        format!("2130706433:{p4}"),
        format!("0x7f000001:{p4}"),
        format!("127.1:{p4}"),
        format!("0177.0.0.1:{p4}"),
    ];
    for host in &hosts {
        for (from, only) in [
            (format!("webdav://u@{host}/base/"), "files"),
            (format!("caldav+http://u@{host}"), "calendar"),
            (format!("carddav+http://u@{host}"), "contacts"),
        ] {
            let to = format!("dir:{}", t.path().join("out").display());
            let o = ferry_plain(&t.path().join("data"), &["transfer", "--only", only, "--from", &from, "--to", &to, "--insecure"]);
            assert_eq!(o.status.code(), Some(1), "{from}: {}", text(&o));
            assert!(text(&o).contains("--allow-private-network"), "{from}: {}", text(&o));
            assert!(!connected(&v4) && !connected(&v6), "{from}: ferry connected to an internal address");
        }
    }
}

/// A tiny HTTP/1.1 server: `answer(request head)` gives the whole reply. Returns the port
/// and every request head seen, with the time it came.
type Seen = Arc<Mutex<Vec<(Instant, String)>>>;

fn serve(answer: impl Fn(&str) -> String + Send + Sync + 'static) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (seen2, answer) = (seen.clone(), Arc::new(answer));
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let (seen, answer) = (seen2.clone(), answer.clone());
            std::thread::spawn(move || {
                loop {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if s.read(&mut b).unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(b[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let len = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0);
                    let mut body = vec![0u8; len];
                    if s.read_exact(&mut body).is_err() {
                        return;
                    }
                    seen.lock().unwrap().push((Instant::now(), head.clone()));
                    if s.write_all(answer(&head).as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

fn multistatus(hrefs: &[&str]) -> String {
    let mut xml = String::from(r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">"#);
    xml.push_str(r#"<D:response><D:href>/base/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#);
    for h in hrefs {
        xml.push_str(&format!(
            r#"<D:response><D:href>{h}</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>5</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
        ));
    }
    xml.push_str("</D:multistatus>");
    format!("HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len())
}

/// IMF-fixdate (RFC 9110) of a Unix time.
fn http_date(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // civil date from days since 1970-01-01 (H. Hinnant's algorithm)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month as usize - 1];
    format!("{weekday}, {day:02} {mon} {year} {:02}:{:02}:{:02} GMT", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[test]
fn http_dates_are_written_right() {
    assert_eq!(http_date(1_445_412_480), "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

fn webdav_to_dir(data: &Path, port: u16, out: &Path) -> Output {
    let (from, to) = (format!("webdav://u@127.0.0.1:{port}/base/"), format!("dir:{}", out.display()));
    ferry_plain(data, &["--json", "transfer", "--only", "files", "--from", &from, "--to", &to, "--insecure", "--allow-private-network"])
}

/// A multi-byte character right after `%` in an href: read as it is, no panic, and the
/// job ends (it is not left `running`).
#[test]
fn an_href_with_a_broken_escape_does_not_stop_the_job() {
    let (port, _) = serve(|head| {
        if head.starts_with("PROPFIND") && head.to_ascii_lowercase().contains("depth: 1") {
            multistatus(&["/base/%é.txt", "/base/%1é.txt", "/base/ok.txt"])
        } else if head.starts_with("PROPFIND") {
            multistatus(&[])
        } else if head.starts_with("GET ") {
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_owned()
        } else {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
        }
    });
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let o = webdav_to_dir(&data, port, &t.path().join("out"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["verticals"]["files"]["transferred"], 3, "{r}");
    let jobs: serde_json::Value = serde_json::from_slice(&ferry_plain(&data, &["--json", "jobs"]).stdout).unwrap();
    assert_eq!(jobs[0]["state"], "completed", "{jobs}");
}

/// The server asks for the folder listing again later, with Retry-After as an HTTP date:
/// ferry waits that long before it reads the page again.
#[test]
fn a_page_read_waits_for_retry_after_given_as_a_date() {
    let asked = Arc::new(Mutex::new(false));
    let (port, seen) = serve(move |head| {
        if head.starts_with("PROPFIND") && head.to_ascii_lowercase().contains("depth: 1") {
            let mut first = asked.lock().unwrap();
            if !*first {
                *first = true;
                let when = (std::time::SystemTime::now() + Duration::from_secs(4)).duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                let date = http_date(when);
                return format!("HTTP/1.1 503 Service Unavailable\r\nRetry-After: {date}\r\nContent-Length: 0\r\n\r\n");
            }
            multistatus(&["/base/ok.txt"])
        } else if head.starts_with("PROPFIND") {
            multistatus(&[])
        } else if head.starts_with("GET ") {
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_owned()
        } else {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
        }
    });
    let t = tempfile::tempdir().unwrap();
    let o = webdav_to_dir(&t.path().join("data"), port, &t.path().join("out"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let listings: Vec<Instant> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, h)| h.starts_with("PROPFIND") && h.to_ascii_lowercase().contains("depth: 1"))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(listings.len(), 2, "listed, refused, listed again");
    let waited = listings[1] - listings[0];
    assert!(waited >= Duration::from_millis(2500), "waited only {waited:?}");
}
