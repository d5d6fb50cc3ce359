use super::*;
use crate::web::chrome::READING_LIST;
use std::io::Read;

/// A bookmark file as Chrome exports it, with what other browsers and hands add: tags in
/// both cases, `<DT>` never closed, CRLF, `&amp;` in an address and a title, an icon, an
/// unquoted value, a description, a separator, an empty folder, a bookmark without an
/// address, the same bookmark twice, markup inside a title.
const CHROME: &str = "<!DOCTYPE NETSCAPE-Bookmark-file-1>\r\n\
<!-- This is an automatically generated file.\r\n     It will be read and overwritten.\r\n     DO NOT EDIT! -->\r\n\
<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">\r\n<TITLE>Bookmarks</TITLE>\r\n<H1>Bookmarks</H1>\r\n\
<DL><p>\r\n\
    <DT><H3 ADD_DATE=\"1700000000\" LAST_MODIFIED=\"1700000500\" PERSONAL_TOOLBAR_FOLDER=\"true\">Bookmarks bar</H3>\r\n\
    <DL><p>\r\n\
        <DT><A HREF=\"https://example.com/search?q=a&amp;b=c\" ADD_DATE=\"1700000100\" ICON=\"data:image/png;base64,iVBORw0KGgo=\">Search &amp; find</A>\r\n\
        <dt><h3 add_date=1700000200>Work</h3>\r\n\
        <dl><p>\r\n\
            <dt><a href='https://intranet.example/wiki' add_date=\"1700000300\" LAST_MODIFIED=\"1700000301\" TAGS=\"a,b\">Wiki <b>home</b></a>\r\n\
            <DD>Where the notes are\r\n\
            <HR>\r\n\
            <DT><A ADD_DATE=\"1700000400\">No address</A>\r\n\
            <DT><A HREF=\"https://intranet.example/wiki\" ADD_DATE=\"1700000300\">Wiki again</A>\r\n\
        </dl><p>\r\n\
        <DT><H3 ADD_DATE=\"1700000600\">Empty</H3>\r\n\
        <DL><p>\r\n\
        </DL><p>\r\n\
    </DL><p>\r\n\
    <DT><H3>Other bookmarks</H3>\r\n\
    <DL><p>\r\n\
        <DT><A HREF=\"https://example.org/\" ADD_DATE=\"1700000700000000\">Micro &#8211; seconds &#x263A; &unknown;</A>\r\n\
    </DL><p>\r\n\
</DL><p>\r\n";

fn read_all(text: &[u8], root: &[Folder]) -> (Vec<Result<Found, String>>, Result<(), String>) {
    let mut out = Vec::new();
    let r = netscape::read(text, root, &mut |f| {
        out.push(f);
        true
    });
    (out, r)
}

fn ok(found: &[Result<Found, String>]) -> Vec<&Found> {
    found.iter().filter_map(|f| f.as_ref().ok()).collect()
}

#[test]
fn chromes_bookmark_file_is_read_with_its_folders_and_oddities() {
    let (found, r) = read_all(CHROME.as_bytes(), &[]);
    r.unwrap();
    let marks = ok(&found);
    assert_eq!(marks.len(), 4, "{found:?}");
    let search = marks[0];
    assert_eq!(search.container, "Bookmarks bar");
    assert_eq!(search.record.url, "https://example.com/search?q=a&b=c");
    assert_eq!(search.record.title.as_deref(), Some("Search & find"));
    assert_eq!(search.record.added, DateTime::from_timestamp(1_700_000_100, 0));
    assert_eq!(search.record.position, Some(1));
    assert_eq!(search.record.options["ICON"], "data:image/png;base64,iVBORw0KGgo=");
    assert_eq!(search.record.folders[0].options["PERSONAL_TOOLBAR_FOLDER"], "true");
    let wiki = marks[1];
    assert_eq!(wiki.container, "Bookmarks bar/Work");
    assert_eq!(wiki.record.url, "https://intranet.example/wiki");
    assert_eq!(wiki.record.title.as_deref(), Some("Wiki home"), "markup inside a title: its text");
    assert_eq!(wiki.record.description.as_deref(), Some("Where the notes are"));
    assert_eq!(wiki.record.modified, DateTime::from_timestamp(1_700_000_301, 0));
    assert_eq!(wiki.record.options["TAGS"], "a,b");
    assert_eq!(wiki.record.folders[1].options["ADD_DATE"], "1700000200", "an unquoted value");
    assert_eq!(wiki.record.position, Some(1));
    assert!(wiki.warnings.iter().any(|w| w.contains("separator")), "{:?}", wiki.warnings);
    // the same bookmark again: its own item, told apart
    let again = marks[2];
    assert_eq!(again.id, format!("{}#2", wiki.id));
    assert_eq!(again.record.position, Some(4), "after the first, the separator and the bookmark without an address");
    assert!(again.warnings.iter().any(|w| w.contains("`Bookmarks bar/Empty` holds nothing")), "{:?}", again.warnings);
    // Work is the bar's second entry, Other bookmarks a folder of its own
    assert_eq!(marks[3].container, "Other bookmarks");
    assert_eq!(marks[3].record.added, DateTime::from_timestamp(1_700_000_700, 0), "microseconds told by their size");
    assert_eq!(marks[3].record.title.as_deref(), Some("Micro \u{2013} seconds \u{263a} &unknown;"));
    let bad: Vec<&String> = found.iter().filter_map(|f| f.as_ref().err()).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0].contains("without an address") && bad[0].contains("No address"), "{bad:?}");
    // the same file, the same ids
    let (again, _) = read_all(CHROME.as_bytes(), &[]);
    assert_eq!(ok(&again).iter().map(|f| &f.id).collect::<Vec<_>>(), marks.iter().map(|f| &f.id).collect::<Vec<_>>());
}

#[test]
fn a_reading_list_is_bookmarks_in_its_own_container() {
    let text = "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<TITLE>Reading list</TITLE>\n<H1>Reading list</H1>\n<DL><p>\n\
        <DT><A HREF=\"https://news.example/a\" ADD_DATE=\"1700000000123456\">Later</A>\n</DL><p>\n";
    let mut out = Vec::new();
    chrome::read_chrome_reading_list(text.as_bytes(), &mut |f| {
        out.push(f.unwrap());
        true
    })
    .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].container, READING_LIST);
    assert_eq!(out[0].record.added.unwrap().timestamp_micros(), 1_700_000_000_123_456);
    // through its own file and back, to the microsecond
    let item = out[0].clone().into_item();
    let file = write(&item).unwrap();
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);
    let back = read("web/Reading list/x.html", "Reading list", file.text.as_bytes()).unwrap();
    assert_eq!(Web::of(&back).unwrap(), out[0].record);
    assert_eq!(back.container, READING_LIST);
}

#[test]
fn dates_are_told_by_their_size() {
    let t = DateTime::from_timestamp(1_700_000_000, 0);
    for s in ["1700000000", "1700000000000", "1700000000000000", " 13344473600000000 "] {
        assert_eq!(netscape::date(s), t, "{s}");
    }
    assert_eq!(netscape::date("yesterday"), None);
    assert_eq!(netscape::date("-86400"), DateTime::from_timestamp(-86_400, 0));
}

fn visit() -> Web {
    Web {
        kind: Kind::Visit,
        url: "https://example.com/a?b=1&c=\"2\"".into(),
        title: Some("A <page>, \"quoted\"".into()),
        visited: DateTime::from_timestamp_micros(1_700_000_000_123_456),
        transition: Some("LINK".into()),
        client_id: Some("abc==".into()),
        favicon_url: Some("https://example.com/favicon.ico".into()),
        options: BTreeMap::from([("ptoken".into(), "{\"x\":1}".into())]),
        ..Default::default()
    }
}

fn bookmark() -> Web {
    let folder = |t: &str| Folder { title: t.into(), options: BTreeMap::from([("ADD_DATE".into(), "1700000000".into())]) };
    Web {
        kind: Kind::Bookmark,
        url: "https://example.com/x".into(),
        title: Some("Ünïcödé & more".into()),
        folders: vec![folder("Bookmarks bar"), folder("News/Politics")],
        added: DateTime::from_timestamp(1_700_000_100, 0),
        modified: DateTime::from_timestamp_micros(1_700_000_200_500_000),
        position: Some(3),
        description: Some("a note".into()),
        options: BTreeMap::from([("ICON".into(), "data:image/png;base64,AA==".into()), ("odd key".into(), "kept".into())]),
        ..Default::default()
    }
}

#[test]
fn a_bookmark_and_a_visit_survive_their_file() {
    for w in [bookmark(), visit()] {
        let container = if w.kind == Kind::Visit { HISTORY.to_owned() } else { container_of(&w.folders) };
        let found = Found { id: "x".into(), container: container.clone(), record: w.clone(), files: vec![], warnings: vec![] };
        let item = found.into_item();
        let file = write(&item).unwrap();
        assert!(file.text.starts_with("<!DOCTYPE NETSCAPE-Bookmark-file-1>"), "{}", file.text);
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        let back = read("web/somewhere/x.html", "somewhere", file.text.as_bytes()).unwrap();
        assert_eq!(Web::of(&back).unwrap(), w, "{}", file.text);
        assert_eq!(back.container, container);
        // read from a file, written back as it was
        assert_eq!(write(&back).unwrap().text, file.text);
    }
    // a folder's name with a `/` is one folder, its container says so
    assert_eq!(container_of(&bookmark().folders), "Bookmarks bar/News\u{2215}Politics");
    let text = write(&Found { id: "x".into(), container: "".into(), record: bookmark(), files: vec![], warnings: vec![] }.into_item())
        .unwrap()
        .text;
    assert!(text.contains(">News/Politics</H3>") && !text.contains("PERSONAL_TOOLBAR_FOLDER"), "{text}");
}

#[test]
fn what_html_cannot_hold_is_said() {
    let mut w = bookmark();
    w.title = Some("bell\u{7}".into());
    let item = Found { id: "x".into(), container: "".into(), record: w, files: vec![], warnings: vec![] }.into_item();
    let file = write(&item).unwrap();
    assert!(file.text.contains("bell\u{fffd}"));
    assert_eq!(file.warnings.len(), 1, "{:?}", file.warnings);
    assert!(file.warnings[0].starts_with("title"));
}

#[test]
fn a_package_folder_file_holds_its_bookmarks_in_order_and_a_browser_reads_its_tree() {
    let frame = match DEF.standard.unwrap().per {
        Per::Framed(f) => f,
        _ => panic!("framed"),
    };
    let rec = |pos: u32, url: &str| {
        let mut w = bookmark();
        w.position = Some(pos);
        w.url = url.into();
        Record::Other(OtherRecord::new(WEB, "web", &w).unwrap())
    };
    let (a, b) = (rec(2, "https://b.example/"), rec(1, "https://a.example/"));
    let v = Record::Other(OtherRecord::new(WEB, "web", &visit()).unwrap());
    let mut g = serde_json::Value::Null;
    for r in [&a, &b, &v] {
        (frame.gather.unwrap())(&mut g, r);
    }
    assert_eq!((frame.part)("v", &v), None, "a visit is in no bookmark file");
    let order = frame.order.unwrap();
    let mut parts = [(order(&a), (frame.part)("a", &a).unwrap()), (order(&b), (frame.part)("b", &b).unwrap())];
    parts.sort_by_key(|p| p.0);
    let c = container_of(&bookmark().folders);
    let text = format!("{}{}{}{}", (frame.head)(&c, &g), parts[0].1, parts[1].1, (frame.tail)(&c, &g));
    let (found, r) = read_all(text.as_bytes(), &[]);
    r.unwrap();
    let marks = ok(&found);
    assert_eq!(marks.iter().map(|f| f.record.url.as_str()).collect::<Vec<_>>(), ["https://a.example/", "https://b.example/"]);
    assert!(marks.iter().all(|f| f.container == c && f.record.folders == bookmark().folders), "{text}");
}

#[test]
fn hostile_bookmark_files_fail_safely() {
    // nested past the bound
    let deep = "<!DOCTYPE NETSCAPE-Bookmark-file-1><DL><p>".to_owned() + &"<DT><H3>f</H3><DL><p>".repeat(10_000);
    let (_, r) = read_all(deep.as_bytes(), &[]);
    assert!(r.unwrap_err().contains("deeper than 64"));
    // cut inside a tag, and inside a folder: what came before stands
    let cut = &CHROME[..CHROME.find("Wiki again").unwrap() - 30];
    let (found, r) = read_all(cut.as_bytes(), &[]);
    assert!(r.unwrap_err().contains("cut short"));
    assert_eq!(ok(&found).len(), 2, "{found:?}");
    let cut = &CHROME[..CHROME.find("<DT><H3>Other").unwrap()];
    let (found, r) = read_all(cut.as_bytes(), &[]);
    assert!(r.unwrap_err().contains("never closed"));
    assert_eq!(ok(&found).len(), 3);
    let (_, r) = read_all(CHROME.trim_end().trim_end_matches("</DL><p>").as_bytes(), &[]);
    assert!(r.unwrap_err().contains("1 list(s)"));
    // a tag that never ends is not held past its bound
    let huge = format!("<DL><p><DT><A HREF=\"x\" ICON=\"{}", "A".repeat(5 << 20));
    let (_, r) = read_all(huge.as_bytes(), &[]);
    assert!(r.unwrap_err().contains("a tag over"));
    // not a bookmark file at all
    let (found, r) = read_all(b"<html><body>hello</body></html>", &[]);
    assert!(found.is_empty() && r.unwrap_err().contains("not a Netscape bookmark file"));
    let (_, r) = read_all(b"", &[]);
    assert!(r.is_err());
    // bytes that are not UTF-8: read, and said
    let (found, r) = read_all(b"<DL><p><DT><A HREF=\"https://x.example/\">caf\xe9</A></DL>", &[]);
    r.unwrap();
    assert_eq!(ok(&found)[0].record.title.as_deref(), Some("caf\u{fffd}"));
    assert!(found.iter().any(|f| f.as_ref().is_err_and(|e| e.contains("not UTF-8"))));
    // a `<` that is no tag, an end tag never opened, a comment that never closes
    let (found, r) = read_all(b"<DL><p></A></H3><DT><A HREF=\"https://x.example/\">1 < 2</A></DL><p><!-- open", &[]);
    assert_eq!(ok(&found)[0].record.title.as_deref(), Some("1 < 2"));
    assert!(r.unwrap_err().contains("inside a comment"));
    // a folder file of many bookmarks is refused by the codec (one item a file)
    let e = read("web/x.html", "", CHROME.as_bytes()).unwrap_err();
    assert!(e.reason.contains("more than one bookmark"), "{e}");
}

fn history(visits: &str, after: &str) -> String {
    format!("{{\"Browser History\": [{visits}]{after}}}")
}

/// More visits than the repeat check holds in its hash set (it sorts older ones into
/// runs): a visit seen again after many others is still `#2`, a third time `#3`, and
/// every other id is distinct.
#[test]
fn a_visit_repeated_after_thousands_of_others_is_told_apart() {
    let visit = |i: usize| format!(r#"{{"url": "https://example.com/{i}", "time_usec": {}}}"#, 1_700_000_000_000_000u64 + i as u64);
    let mut all: Vec<String> = (0..40_000).map(visit).collect();
    all.extend([visit(7), visit(39_999), visit(7)]);
    let (found, r) = read_history(history(&all.join(","), "").as_bytes());
    r.unwrap();
    let visits = ok(&found);
    assert_eq!(visits.len(), 40_003);
    assert_eq!(visits[40_000].id, format!("{}#2", visits[7].id));
    assert_eq!(visits[40_001].id, format!("{}#2", visits[39_999].id));
    assert_eq!(visits[40_002].id, format!("{}#3", visits[7].id));
    let ids: std::collections::HashSet<&str> = visits.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids.len(), 40_003);
}

fn read_history(text: &[u8]) -> (Vec<Result<Found, String>>, Result<(), String>) {
    let mut out = Vec::new();
    let r = read_chrome_history(text, &mut |f| {
        out.push(f);
        true
    });
    (out, r)
}

#[test]
fn chromes_history_is_read_visit_by_visit() {
    let text = history(
        r#"{"favicon_url": "https://www.google.com/favicon.ico", "page_transition": "LINK", "title": "Ferries", "url": "https://www.google.com/search?q=ferries", "client_id": "cl1==", "time_usec": 1700000000123456},
        {"page_transition_qualifier": "CLIENT_REDIRECT", "title": "", "url": "https://example.com/", "client_id": "cl2", "time_usec": "1700000001000000", "ptoken": {"a": 1}},
        {"page_transition": "TYPED", "page_transition_qualifier": "SERVER_REDIRECT", "url": "https://example.com/", "time_usec": 0},
        {"title": "no url", "time_usec": 1},
        "not an object",
        {"page_transition": "LINK", "title": "Ferries", "url": "https://www.google.com/search?q=ferries", "client_id": "cl1==", "time_usec": 1700000000123456}"#,
        r#", "Typed Url": [{"url": "https://example.com/"}], "Session": {"x": 1}"#,
    );
    let (found, r) = read_history(text.as_bytes());
    r.unwrap();
    let visits = ok(&found);
    assert_eq!(visits.len(), 4, "{found:?}");
    let v = &visits[0].record;
    assert_eq!((v.kind, visits[0].container.as_str()), (Kind::Visit, HISTORY));
    assert_eq!(v.visited.unwrap().timestamp_micros(), 1_700_000_000_123_456);
    assert_eq!(v.transition.as_deref(), Some("LINK"));
    assert_eq!(v.client_id.as_deref(), Some("cl1=="));
    assert_eq!(v.favicon_url.as_deref(), Some("https://www.google.com/favicon.ico"));
    // a string time, the newer field's name, an empty title, a field ferry does not model
    let v = &visits[1].record;
    assert_eq!(v.visited.unwrap().timestamp_micros(), 1_700_000_001_000_000);
    assert_eq!((v.transition.as_deref(), v.title.as_deref()), (Some("CLIENT_REDIRECT"), None));
    assert_eq!(v.options["ptoken"], r#"{"a":1}"#);
    // both names: the older is the transition, the qualifier kept; time 0 is no time
    let v = &visits[2].record;
    assert_eq!(v.transition.as_deref(), Some("TYPED"));
    assert_eq!(v.options["page_transition_qualifier"], "SERVER_REDIRECT");
    assert!(v.visited.is_none() && visits[2].warnings.iter().any(|w| w.contains("time_usec `0`")));
    // the same visit twice: told apart
    assert_eq!(visits[3].id, format!("{}#2", visits[0].id));
    assert!(
        visits[3].warnings.iter().any(|w| w.contains("`Typed Url` (1 entries)") && w.contains("`Session`")),
        "{:?}",
        visits[3].warnings
    );
    let bad: Vec<&String> = found.iter().filter_map(|f| f.as_ref().err()).collect();
    assert!(bad.len() == 2 && bad[0].contains("visit 4: no url") && bad[1].contains("visit 5: not an object"), "{bad:?}");
    // the state beside the history is said even when the last visit fails
    let (found, r) =
        read_history(history(r#"{"url": "https://a.example/", "time_usec": 1}, "not an object""#, r#", "Session": {}"#).as_bytes());
    r.unwrap();
    assert!(found.last().unwrap().as_ref().is_err_and(|e| e.contains("`Session`")), "{found:?}");
    // a history file without visits, a cut one (the visits before the cut stand)
    let (found, r) = read_history(br#"{"Typed Url": []}"#);
    assert!(found.is_empty() && r.unwrap_err().contains("no `Browser History`"));
    let (found, r) = read_history(&text.as_bytes()[..text.find("\"not an object\"").unwrap() + 3]);
    assert!(r.unwrap_err().contains("cut short"), "{found:?}");
    assert_eq!(ok(&found).len(), 3);
}

/// A history of `n` visits, made as it is read.
struct Huge {
    n: usize,
    at: usize,
    buf: Vec<u8>,
}

impl Read for Huge {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf.is_empty() {
            if self.at > self.n {
                return Ok(0);
            }
            self.buf = match self.at {
                0 => b"{\"Browser History\": [".to_vec(),
                i if i == self.n => b"]}".to_vec(),
                i => format!(
                    "{}{{\"page_transition\": \"LINK\", \"title\": \"Page {i}\", \"url\": \"https://example.com/{i}\", \"client_id\": \"c\", \"time_usec\": {}}}",
                    if i > 1 { "," } else { "" },
                    1_600_000_000_000_000u64 + i as u64
                )
                .into_bytes(),
            };
            self.at += 1;
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_history_of_150000_visits_is_read_as_a_stream() {
    let n = 150_000;
    let mut count = 0usize;
    let mut last = String::new();
    read_chrome_history(Huge { n, at: 0, buf: vec![] }, &mut |f| {
        let f = f.unwrap();
        count += 1;
        last = f.record.url;
        true
    })
    .unwrap();
    assert_eq!(count, n - 1);
    assert_eq!(last, format!("https://example.com/{}", n - 1));
    // a reader that stops is not handed more
    let mut seen = 0;
    read_chrome_history(Huge { n, at: 0, buf: vec![] }, &mut |_| {
        seen += 1;
        seen < 3
    })
    .unwrap();
    assert_eq!(seen, 3);
}

#[test]
fn the_history_table_and_the_dir_files() {
    let r = Record::Other(OtherRecord::new(WEB, "web", &visit()).unwrap());
    let rows = (TABLES[0].rows)(&r);
    assert_eq!(
        rows,
        [
            "2023-11-14T22:13:20.123456Z,\"https://example.com/a?b=1&c=\"\"2\"\"\",\"A <page>, \"\"quoted\"\"\",LINK,abc==,https://example.com/favicon.ico\n"
        ]
    );
    let b = Record::Other(OtherRecord::new(WEB, "web", &bookmark()).unwrap());
    assert!((TABLES[0].rows)(&b).is_empty(), "a bookmark is no visit");
    let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
    assert!(recognises(&f("web/Bookmarks bar/a.html")) && recognises(&f("web/History/b.HTM")));
    assert!(!recognises(&f("a.html")) && !recognises(&f("web/a.csv")) && !recognises(&f("files/web/a.html")));
}
