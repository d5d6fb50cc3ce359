//! IMAP servers that look like Cyrus and Courier: a second Dovecot from scripts/servers.sh
//! (FERRY_TEST_IMAP_DOTTED) keeps every folder under the personal namespace `INBOX.` with
//! `.` between levels. Folder names with letters outside ASCII travel in modified UTF-7.
//! What the servers hold is checked with a raw LIST over the wire.
mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

fn var(k: &str) -> String {
    std::env::var(k)
        .unwrap_or_else(|_| panic!("{k} is not set: run the tests with scripts/test.sh, which starts the servers (scripts/servers.sh)"))
}

fn user(tag: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{tag}-{}-{nanos}", std::process::id())
}

fn run(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .args(["--ca-file", &var("FERRY_TEST_CA"), "--allow-private-network"])
        .env("FERRY_PASSWORD", var("FERRY_TEST_PASSWORD"))
        .output()
        .unwrap()
}

/// Runs IMAP commands over STARTTLS as `user` and returns the server's lines.
fn raw_imap(addr: &str, user: &str, commands: &[&str]) -> Vec<String> {
    let timeout = Some(std::time::Duration::from_secs(30));
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(timeout).unwrap();
    let mut plain = BufReader::new(tcp.try_clone().unwrap());
    let mut line = String::new();
    plain.read_line(&mut line).unwrap();
    assert!(line.starts_with("* OK"), "{line}");
    (&tcp).write_all(b"s STARTTLS\r\n").unwrap();
    line.clear();
    plain.read_line(&mut line).unwrap();
    assert!(line.starts_with("s OK"), "{line}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut &std::fs::read(var("FERRY_TEST_CA")).unwrap()[..]) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    let login = format!("LOGIN \"{user}\" \"{}\"", var("FERRY_TEST_PASSWORD"));
    let mut out = Vec::new();
    for (i, cmd) in std::iter::once(login.as_str()).chain(commands.iter().copied()).enumerate() {
        let tag = format!("t{i}");
        tls.get_mut().write_all(format!("{tag} {cmd}\r\n").as_bytes()).unwrap();
        loop {
            let mut line = String::new();
            assert!(tls.read_line(&mut line).unwrap() > 0, "the server closed the connection");
            let done = line.starts_with(&format!("{tag} "));
            if done {
                assert!(line.starts_with(&format!("{tag} OK")), "{cmd}: {line}");
                break;
            }
            out.push(line.trim_end().to_owned());
        }
    }
    out
}

/// The folder names a raw LIST shows, as the server spells them.
fn server_folders(addr: &str, user: &str) -> BTreeSet<String> {
    raw_imap(addr, user, &[r#"LIST "" "*""#])
        .iter()
        .filter_map(|l| l.strip_prefix("* LIST "))
        // `(\HasNoChildren \Archive) "." INBOX.Archive`, the name perhaps quoted
        .map(|l| l[l.find(") ").unwrap() + 2..].split_once(' ').unwrap().1.trim_matches('"').to_owned())
        .collect()
}

/// Messages per folder of a package.
fn per_folder(pkg: &Path) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for ((v, folder, _), n) in package_items(pkg) {
        if v == "mail" {
            *out.entry(folder).or_insert(0) += n;
        }
    }
    out
}

fn mbox(messages: &[&str]) -> String {
    messages
        .iter()
        .map(|id| format!("From a@example.org Mon Jan  6 09:00:00 2025\nMessage-ID: <{id}@example.org>\nSubject: {id}\n\nbody of {id}\n\n"))
        .collect()
}

#[test]
fn dotted_namespace_and_non_ascii_folder_names_travel_both_ways() {
    let (dotted, plain) = (var("FERRY_TEST_IMAP_DOTTED"), var("FERRY_TEST_IMAP"));
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let src = t.path().join("src/mail");
    std::fs::create_dir_all(src.join("Projects")).unwrap();
    std::fs::write(src.join("INBOX.mbox"), mbox(&["in-1", "in-2"])).unwrap();
    std::fs::write(src.join("Archive.mbox"), mbox(&["arch-1"])).unwrap();
    std::fs::write(src.join("Projects/2025.mbox"), mbox(&["proj-1", "proj-2", "proj-3"])).unwrap();
    std::fs::write(src.join("Gelöschte Objekte.mbox"), mbox(&["del-1"])).unwrap();
    let source = format!("dir:{}", t.path().join("src").display());

    // into the dotted server: every folder under INBOX., names in modified UTF-7
    let (d1, p1, d2) = (user("dotted"), user("plain"), user("dotted2"));
    let to_dotted = format!("imap://{d1}@{dotted}");
    let o = run(&data, &["transfer", "--from", &source, "--to", &to_dotted]);
    assert!(o.status.success(), "{}", text(&o));
    let on_server = server_folders(&dotted, &d1);
    for want in ["INBOX", "INBOX.Archive", "INBOX.Projects.2025", "INBOX.Gel&APY-schte Objekte"] {
        assert!(on_server.contains(want), "{want} on the dotted server: {on_server:?}");
    }

    // out of it: the paths as they were
    let expected: BTreeMap<String, u32> = [("INBOX", 2), ("Archive", 1), ("Projects/2025", 3), ("Gelöschte Objekte", 1)]
        .into_iter()
        .map(|(f, n)| (f.to_owned(), n))
        .collect();
    let pkg = t.path().join("dotted.zip");
    let o = run(&data, &["export", &to_dotted, "-o", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(per_folder(&pkg), expected);

    // dotted to plain Dovecot: no INBOX prefix there, `/` between levels
    let to_plain = format!("imap://{p1}@{plain}");
    let o = run(&data, &["transfer", "--from", &to_dotted, "--to", &to_plain]);
    assert!(o.status.success(), "{}", text(&o));
    let on_plain = server_folders(&plain, &p1);
    for want in ["Archive", "Projects/2025", "Gel&APY-schte Objekte"] {
        assert!(on_plain.contains(want), "{want} on the plain server: {on_plain:?}");
    }
    assert!(!on_plain.iter().any(|f| f.starts_with("INBOX.") || f.starts_with("INBOX/")), "{on_plain:?}");

    // and back from plain to a fresh dotted account: the same folders and messages
    let to_dotted2 = format!("imap://{d2}@{dotted}");
    let o = run(&data, &["transfer", "--from", &to_plain, "--to", &to_dotted2]);
    assert!(o.status.success(), "{}", text(&o));
    let (pkg_plain, pkg2) = (t.path().join("plain.zip"), t.path().join("dotted2.zip"));
    for (uri, p) in [(&to_plain, &pkg_plain), (&to_dotted2, &pkg2)] {
        let o = run(&data, &["export", uri, "-o", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(per_folder(&pkg_plain), expected);
    let mail = |p: &Path| package_items(p).into_iter().filter(|(k, _)| k.0 == "mail").collect::<BTreeMap<_, _>>();
    assert_eq!(mail(&pkg2), mail(&pkg), "dotted -> plain -> dotted: same folders, same messages byte for byte");
    assert_eq!(server_folders(&dotted, &d2), on_server);
}

#[test]
fn a_folder_named_in_modified_utf7_by_another_client_is_exported_decoded() {
    let dotted = var("FERRY_TEST_IMAP_DOTTED");
    let u = user("utf7");
    let msg = "Subject: hi\r\nMessage-ID: <x@example.org>\r\n\r\nhello\r\n";
    raw_imap(&dotted, &u, &[r#"CREATE "INBOX.Entw&APw-rfe""#, &format!("APPEND \"INBOX.Entw&APw-rfe\" {{{}+}}\r\n{msg}", msg.len())]);
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out.zip");
    let o = run(&t.path().join("data"), &["export", &format!("imap://{u}@{dotted}"), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(per_folder(&out), [("Entwürfe".to_owned(), 1)].into_iter().collect());
    // exporting one folder by the name the user knows it by
    let o = run(
        &t.path().join("data"),
        &["export", &format!("imap://{u}@{dotted}/Entw%C3%BCrfe"), "-o", t.path().join("one.zip").to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(per_folder(&t.path().join("one.zip")), [("Entwürfe".to_owned(), 1)].into_iter().collect());
}

#[test]
fn a_folder_name_holding_the_servers_delimiter_is_a_fidelity_warning() {
    let dotted = var("FERRY_TEST_IMAP_DOTTED");
    let u = user("delim");
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src/mail/Releases");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("v1.2.mbox"), mbox(&["rel-1"])).unwrap();
    let source = format!("dir:{}", t.path().join("src").display());
    let o = run(&t.path().join("data"), &["--json", "transfer", "--from", &source, "--to", &format!("imap://{u}@{dotted}")]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings = r["report"]["verticals"]["mail"]["fidelity_warnings"].to_string();
    assert!(warnings.contains("Releases/v1.2") && warnings.contains("INBOX.Releases.v1.2"), "{r}");
    assert!(server_folders(&dotted, &u).contains("INBOX.Releases.v1.2"));
}
