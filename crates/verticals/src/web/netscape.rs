//! The Netscape bookmark file (`<!DOCTYPE NETSCAPE-Bookmark-file-1>`), which every browser
//! exports and imports: nested `<DL><p>` lists, a folder an `<DT><H3 ADD_DATE=..
//! LAST_MODIFIED=..>` before its list, a bookmark an `<DT><A HREF=.. ADD_DATE=..>`, its
//! description a `<DD>` after it; dates in seconds since 1970.
//!
//! Read as browsers write it, which is HTML, not XML: `<DT>` and `<p>` never closed, tags
//! and attributes in any case, values quoted or not, `&amp;` and numeric references, a
//! `<HR>` separator, text in any place. Read as a stream, one tag at a time: a tag over
//! 4 MiB (an icon's data URI is in one), text over 1 MiB, folders nested deeper than 64,
//! or a file cut inside a tag or a folder fail the file, after the bookmarks before.
//!
//! Written with what a bookmark file has no attribute for in ferry's own attributes
//! (`FERRY_KIND`, `FERRY_POSITION`, `FERRY_VISITED`, `FERRY_TRANSITION`,
//! `FERRY_CLIENT_ID`, `FERRY_ADDED` and `FERRY_MODIFIED` for a time with a fraction of a
//! second, `FERRY_OPTIONS`), which browsers pass over and ferry reads back.

use super::{Folder, Found, Kind, Web, container_of, rfc3339};
use crate::entities::decode;
use crate::found::hash_id;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};

/// Folders nested deeper than this fail the file.
pub const MAX_DEPTH: usize = 64;
/// The longest tag (an `ICON` data URI is inside one).
const MAX_TAG: usize = 4 << 20;
/// The longest run of text (a title, a description).
const MAX_TEXT: usize = 1 << 20;
/// Warnings one bookmark carries, past which they are counted.
const MAX_WARNINGS: usize = 100;

/// Attributes ferry writes from a record's fields: an option of one of these names is
/// written only where its field is empty.
const OWN: [&str; 6] = ["HREF", "ADD_DATE", "LAST_MODIFIED", "LAST_VISIT", "ICON_URI", "FERRY_OPTIONS"];

// ---- writing ----

/// A file's beginning, down into `folders` (the outermost first).
pub fn head(folders: &[Folder]) -> String {
    let mut out = String::from(
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<!-- Bookmarks written by ferry: a browser imports this file. -->\n\
         <META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">\n<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n",
    );
    for (depth, f) in folders.iter().enumerate() {
        let pad = "    ".repeat(depth + 1);
        out.push_str(&format!("{pad}<DT><H3{}>{}</H3>\n{pad}<DL><p>\n", attributes(&f.options, &[]), text(&f.title)));
    }
    out
}

/// The closings of `depth` folders and of the file's list.
pub fn tail(depth: usize) -> String {
    let mut out = String::new();
    for d in (0..depth).rev() {
        out.push_str(&format!("{}</DL><p>\n", "    ".repeat(d + 1)));
    }
    out.push_str("</DL><p>\n");
    out
}

/// One bookmark (or visit) as its `<DT><A …>` line, and its `<DD>`.
pub fn entry(w: &Web) -> String {
    let mut attrs: Vec<(String, String)> = vec![("HREF".into(), w.url.clone())];
    let secs = |t: DateTime<Utc>| t.timestamp().to_string();
    let exact = |t: DateTime<Utc>| t.timestamp_subsec_nanos() != 0;
    if let Some(t) = w.added {
        attrs.push(("ADD_DATE".into(), secs(t)));
    }
    if let Some(t) = w.modified {
        attrs.push(("LAST_MODIFIED".into(), secs(t)));
    }
    if let (Kind::Visit, Some(t)) = (w.kind, w.visited) {
        attrs.push(("LAST_VISIT".into(), secs(t)));
    }
    if let Some(f) = &w.favicon_url {
        attrs.push(("ICON_URI".into(), f.clone()));
    }
    let mut own: Vec<(String, String)> = Vec::new();
    if w.kind == Kind::Visit {
        own.push(("FERRY_KIND".into(), "visit".into()));
    }
    if let Some(p) = w.position {
        own.push(("FERRY_POSITION".into(), p.to_string()));
    }
    if let Some(t) = w.added.filter(|t| exact(*t)) {
        own.push(("FERRY_ADDED".into(), rfc3339(t)));
    }
    if let Some(t) = w.modified.filter(|t| exact(*t)) {
        own.push(("FERRY_MODIFIED".into(), rfc3339(t)));
    }
    if let Some(t) = w.visited {
        own.push(("FERRY_VISITED".into(), rfc3339(t)));
    }
    if let Some(t) = &w.transition {
        own.push(("FERRY_TRANSITION".into(), t.clone()));
    }
    if let Some(c) = &w.client_id {
        own.push(("FERRY_CLIENT_ID".into(), c.clone()));
    }
    let written: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).collect();
    let mut line: String = attrs.iter().map(|(k, v)| format!(" {k}=\"{}\"", text(v))).collect();
    line.push_str(&attributes(&w.options, &written));
    line.extend(own.iter().map(|(k, v)| format!(" {k}=\"{}\"", text(v))));
    let pad = "    ".repeat(w.folders.len() + 1);
    let mut out = format!("{pad}<DT><A{line}>{}</A>\n", text(w.title.as_deref().unwrap_or("")));
    if let Some(d) = &w.description {
        out.push_str(&format!("{pad}<DD>{}\n", text(d)));
    }
    out
}

/// Options as attributes: those named as an attribute may be (and not one written from
/// a field) each as itself, the others together as `FERRY_OPTIONS` (a JSON object).
fn attributes(options: &BTreeMap<String, String>, written: &[&str]) -> String {
    let mut out = String::new();
    let mut rest = BTreeMap::new();
    for (k, v) in options {
        let upper = k.to_ascii_uppercase();
        if attribute_name(k) && !written.contains(&upper.as_str()) && !upper.starts_with("FERRY_") && !OWN[5..].contains(&upper.as_str()) {
            out.push_str(&format!(" {k}=\"{}\"", text(v)));
        } else {
            rest.insert(k.clone(), v.clone());
        }
    }
    if !rest.is_empty() {
        out.push_str(&format!(" FERRY_OPTIONS=\"{}\"", text(&serde_json::to_string(&rest).expect("JSON"))));
    }
    out
}

fn attribute_name(k: &str) -> bool {
    let mut c = k.chars();
    // as a bookmark file's are read back: upper case
    c.next().is_some_and(|f| f.is_ascii_uppercase()) && c.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

/// Text as HTML holds it: escaped, control characters (but tab and line ends) as U+FFFD.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// What a bookmark file cannot hold of a record: control characters (each written as
/// U+FFFD). All else rides in its attributes, standard or ferry's.
pub fn losses(w: &Web) -> Vec<String> {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    let mut out = Vec::new();
    let fields = [("url", Some(w.url.as_str())), ("title", w.title.as_deref()), ("description", w.description.as_deref())];
    for (name, v) in fields {
        if v.is_some_and(bad) {
            out.push(format!("{name}: control characters, which HTML cannot hold, written as U+FFFD"));
        }
    }
    if w.folders.iter().any(|f| bad(&f.title)) {
        out.push("folder title: control characters, which HTML cannot hold, written as U+FFFD".into());
    }
    out
}

// ---- reading ----

enum Token {
    Start { name: String, attrs: Vec<(String, String)> },
    End(String),
    Text(String),
}

/// A bookmark file's tags and text, one at a time.
struct Lexer<R> {
    r: BufReader<R>,
    /// Bytes consumed so far.
    pos: u64,
    /// Some text was not UTF-8 (read with U+FFFD in its place).
    lossy: bool,
}

impl<R: Read> Lexer<R> {
    fn peek(&mut self) -> Result<Option<u8>, String> {
        let pos = self.pos;
        self.r.fill_buf().map(|b| b.first().copied()).map_err(|e| format!("cannot be read at byte {pos}: {e}"))
    }

    fn bump(&mut self) {
        self.r.consume(1);
        self.pos += 1;
    }

    /// Consumes bytes up to and including `end`; holds at most `max` of them in `out`.
    fn until(&mut self, end: &[u8], out: &mut Vec<u8>, max: usize, what: &str) -> Result<(), String> {
        loop {
            let Some(b) = self.peek()? else { return Err(format!("cut short: the file ends at byte {} inside {what}", self.pos)) };
            self.bump();
            out.push(b);
            if out.ends_with(end) {
                out.truncate(out.len() - end.len());
                return Ok(());
            }
            if out.len() > max {
                // a comment or declaration is passed over, never held
                if what == "a comment" {
                    out.drain(..out.len() - end.len());
                    continue;
                }
                return Err(format!("{what} over {max} bytes at byte {}", self.pos));
            }
        }
    }

    fn string(&mut self, bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap_or_else(|e| {
            self.lossy = true;
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        })
    }

    fn next(&mut self) -> Result<Option<Token>, String> {
        let mut text = Vec::new();
        loop {
            let Some(b) = self.peek()? else {
                return Ok((!text.is_empty()).then(|| Token::Text(self.string(text))));
            };
            if b != b'<' {
                // a run of text, up to the next tag
                let buf = self.r.fill_buf().map_err(|e| e.to_string())?;
                let n = buf.iter().position(|&c| c == b'<').unwrap_or(buf.len());
                text.extend_from_slice(&buf[..n]);
                self.r.consume(n);
                self.pos += n as u64;
                if text.len() > MAX_TEXT {
                    return Err(format!("text over {MAX_TEXT} bytes at byte {}", self.pos));
                }
                continue;
            }
            if !text.is_empty() {
                return Ok(Some(Token::Text(self.string(text))));
            }
            self.bump();
            match self.peek()? {
                Some(b'!') => {
                    self.bump();
                    let mut skipped = Vec::new();
                    if self.peek()? == Some(b'-') {
                        self.until(b"-->", &mut skipped, 16, "a comment")?;
                    } else {
                        self.until(b">", &mut skipped, MAX_TAG, "a declaration")?;
                    }
                }
                Some(b'?') => self.until(b">", &mut Vec::new(), MAX_TAG, "a declaration")?,
                Some(b'/') => {
                    self.bump();
                    let mut name = Vec::new();
                    self.until(b">", &mut name, 1024, "an end tag")?;
                    let name = String::from_utf8_lossy(&name).trim().to_ascii_uppercase();
                    return Ok(Some(Token::End(name)));
                }
                Some(c) if c.is_ascii_alphabetic() => return self.tag().map(Some),
                // a `<` that begins no tag is text
                _ => text.push(b'<'),
            }
        }
    }

    /// A start tag (its `<` consumed): its name and attributes, quotes honoured.
    fn tag(&mut self) -> Result<Token, String> {
        let mut raw = Vec::new();
        let mut quote: Option<u8> = None;
        let mut after_eq = false;
        loop {
            let Some(b) = self.peek()? else { return Err(format!("cut short: the file ends at byte {} inside a tag", self.pos)) };
            self.bump();
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'>' => break,
                None if after_eq && (b == b'"' || b == b'\'') => quote = Some(b),
                None => {}
            }
            if quote.is_none() {
                after_eq = b == b'=' || (after_eq && b.is_ascii_whitespace());
            }
            raw.push(b);
            if raw.len() > MAX_TAG {
                return Err(format!("a tag over {MAX_TAG} bytes at byte {}", self.pos));
            }
        }
        let raw = self.string(raw);
        Ok(parse_tag(&raw))
    }
}

fn parse_tag(raw: &str) -> Token {
    let raw = raw.trim_end_matches('/');
    let name_end = raw.find(|c: char| c.is_whitespace()).unwrap_or(raw.len());
    let name = raw[..name_end].to_ascii_uppercase();
    let mut attrs = Vec::new();
    let mut rest = raw[name_end..].trim_start();
    while !rest.is_empty() {
        let end = rest.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(rest.len());
        let key = rest[..end].to_ascii_uppercase();
        rest = rest[end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, next) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let close = body.find(q).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let close = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            value = decode(v);
            rest = next.trim_start();
        }
        if !key.is_empty() {
            attrs.push((key, value));
        }
    }
    Token::Start { name, attrs }
}

/// A date as bookmark files write it: seconds since 1970 (Netscape's, Chrome's, Firefox's);
/// also milliseconds, microseconds (Chrome's reading list) and Chrome's own microseconds
/// since 1601, told apart by their size.
pub fn date(s: &str) -> Option<DateTime<Utc>> {
    let v: i64 = s.trim().parse().ok()?;
    let a = v.unsigned_abs();
    if a < 100_000_000_000 {
        DateTime::from_timestamp(v, 0)
    } else if a < 100_000_000_000_000 {
        DateTime::from_timestamp_millis(v)
    } else if a < 10_000_000_000_000_000 {
        DateTime::from_timestamp_micros(v)
    } else {
        // microseconds since 1601-01-01 (Chrome's `date_added`)
        DateTime::from_timestamp_micros(v - 11_644_473_600_000_000)
    }
}

/// One level of `<DL>` lists: the folder it is of (none for the file's own list) and how
/// many bookmarks and folders it has held.
struct Level {
    folder: Option<Folder>,
    count: u32,
}

struct Reader<'a> {
    root: &'a [Folder],
    levels: Vec<Level>,
    /// A folder's `<H3>` read, its `<DL>` not yet.
    folder: Option<Folder>,
    /// The last bookmark, held for its `<DD>` and for what is said after it.
    held: Option<Found>,
    /// Whether a `<DD>` now is the held bookmark's.
    dd_is_held: bool,
    /// What is said of the file, for the next bookmark handed on.
    said: Vec<String>,
    ids: HashMap<String, u32>,
    bookmarks: usize,
}

impl Reader<'_> {
    fn path(&self) -> Vec<Folder> {
        self.root.iter().cloned().chain(self.levels.iter().filter_map(|l| l.folder.clone())).collect()
    }

    fn say(&mut self, what: String) {
        match &mut self.held {
            Some(h) => push_warning(&mut h.warnings, what),
            None => self.said.push(what),
        }
    }

    fn hand(&mut self, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        match self.held.take() {
            Some(f) => each(Ok(f)),
            None => true,
        }
    }

    fn empty_folder(&mut self, f: &Folder) {
        let mut path = self.path();
        path.push(f.clone());
        self.say(format!("the folder `{}` holds nothing: not kept (ferry keeps bookmarks, not folders)", container_of(&path)));
    }

    /// A bookmark from its `<A>`'s attributes and text.
    fn bookmark(&mut self, attrs: Vec<(String, String)>, title: String) -> Result<Found, String> {
        let position = self.levels.last_mut().map(|l| {
            l.count += 1;
            l.count
        });
        let mut w = Web { kind: Kind::Bookmark, folders: self.path(), position, ..Default::default() };
        let mut warnings = std::mem::take(&mut self.said);
        let mut href = None;
        let mut add_date = String::new();
        for (k, v) in attrs {
            match k.as_str() {
                "HREF" => href = Some(v),
                "ADD_DATE" if w.added.is_none() => {
                    add_date = v.clone();
                    w.added = timed(k, v, &mut w.options, &mut warnings);
                }
                "LAST_MODIFIED" if w.modified.is_none() => w.modified = timed(k, v, &mut w.options, &mut warnings),
                "ICON_URI" => w.favicon_url = Some(v),
                "FERRY_KIND" if v == "visit" => w.kind = Kind::Visit,
                "FERRY_POSITION" => w.position = v.parse().ok().or(w.position),
                "FERRY_ADDED" => w.added = rfc(&v).or(w.added),
                "FERRY_MODIFIED" => w.modified = rfc(&v).or(w.modified),
                "FERRY_VISITED" => w.visited = rfc(&v),
                "FERRY_TRANSITION" => w.transition = Some(v),
                "FERRY_CLIENT_ID" => w.client_id = Some(v),
                "FERRY_OPTIONS" => match serde_json::from_str::<BTreeMap<String, String>>(&v) {
                    Ok(o) => w.options.extend(o),
                    Err(_) => drop(w.options.insert(k, v)),
                },
                _ => drop(w.options.insert(k, v)),
            }
        }
        if w.kind == Kind::Visit {
            // a visit's LAST_VISIT is its time, in seconds: the exact one rides in FERRY_VISITED
            if let Some(lv) = w.options.remove("LAST_VISIT")
                && w.visited.is_none()
            {
                w.visited = date(&lv);
            }
            // a visit is in no folder: the one around it names its container
            w.position = None;
        }
        let Some(url) = href.filter(|h| !h.trim().is_empty()) else {
            return Err(format!("a bookmark without an address (HREF): `{}`", title.trim()));
        };
        w.url = url;
        w.title = Some(title).filter(|t| !t.is_empty());
        let mut container = container_of(&w.folders);
        if w.kind == Kind::Visit {
            w.folders.clear();
            if container.is_empty() {
                container = super::HISTORY.to_owned();
            }
        }
        let base = format!("{}-{}", if w.kind == Kind::Visit { "visit" } else { "bookmark" }, hash_id(&[&container, &w.url, &add_date]));
        let n = self.ids.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}#{n}") };
        self.bookmarks += 1;
        Ok(Found { id, container, record: w, files: vec![], warnings })
    }
}

/// A time attribute's value; one that is not a time is kept, as written, in `options`.
fn timed(k: String, v: String, options: &mut BTreeMap<String, String>, warnings: &mut Vec<String>) -> Option<DateTime<Utc>> {
    let t = date(&v);
    if t.is_none() {
        push_warning(warnings, format!("{k} `{v}` is not a time: kept as written"));
        options.insert(k, v);
    }
    t
}

fn rfc(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

fn push_warning(w: &mut Vec<String>, what: String) {
    if w.len() < MAX_WARNINGS {
        w.push(what);
    } else if w.len() == MAX_WARNINGS {
        w.push("and more, not listed".into());
    }
}

/// Reads a bookmark file, handing each bookmark on (`each` returns false to stop), its
/// folders after `root` (a reading list's: `Reading list`). A bookmark that cannot be read
/// (no address) is an `Err` of its own; the file that cannot be read, or is not a bookmark
/// file, the `Err` returned, after what came before.
pub fn read(input: impl Read, root: &[Folder], each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut lx = Lexer { r: BufReader::with_capacity(64 * 1024, input), pos: 0, lossy: false };
    let mut rd = Reader {
        root,
        levels: Vec::new(),
        folder: None,
        held: None,
        dd_is_held: false,
        said: Vec::new(),
        ids: HashMap::new(),
        bookmarks: 0,
    };
    let r = run(&mut lx, &mut rd, each);
    if r.is_err() {
        // what was read before the break stands
        rd.hand(each);
    }
    r
}

fn run<R: Read>(lx: &mut Lexer<R>, rd: &mut Reader, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut pushed: Option<Token> = None;
    let mut seen_list = false;
    loop {
        let token = match pushed.take() {
            Some(t) => t,
            None => match lx.next()? {
                Some(t) => t,
                None => break,
            },
        };
        match token {
            Token::Start { name, attrs } if name == "H3" => {
                let (title, next) = inner_text(lx, "H3")?;
                pushed = next;
                if let Some(f) = rd.folder.take() {
                    rd.empty_folder(&f);
                }
                if let Some(l) = rd.levels.last_mut() {
                    l.count += 1;
                }
                rd.folder = Some(Folder { title: title.trim().to_owned(), options: attrs.into_iter().collect() });
                rd.dd_is_held = false;
            }
            Token::Start { name, .. } if name == "DL" => {
                seen_list = true;
                if rd.levels.len() > MAX_DEPTH {
                    rd.hand(each);
                    return Err(format!("folders nested deeper than {MAX_DEPTH}, at byte {}", lx.pos));
                }
                rd.levels.push(Level { folder: rd.folder.take(), count: 0 });
                rd.dd_is_held = false;
            }
            Token::End(name) if name == "DL" => {
                if let Some(f) = rd.folder.take() {
                    rd.empty_folder(&f);
                }
                if let Some(Level { folder: Some(f), count: 0 }) = rd.levels.pop() {
                    rd.empty_folder(&f);
                }
                rd.dd_is_held = false;
            }
            Token::Start { name, attrs } if name == "A" => {
                let (title, next) = inner_text(lx, "A")?;
                pushed = next;
                if let Some(f) = rd.folder.take() {
                    // an `<H3>` whose list never came: an empty folder
                    rd.empty_folder(&f);
                }
                if !rd.hand(each) {
                    return Ok(());
                }
                match rd.bookmark(attrs, title) {
                    Ok(f) => {
                        rd.held = Some(f);
                        rd.dd_is_held = true;
                    }
                    Err(e) => {
                        rd.dd_is_held = false;
                        if !each(Err(e)) {
                            return Ok(());
                        }
                    }
                }
            }
            Token::Start { name, .. } if name == "DD" => {
                let (text, next) = inner_text(lx, "DD")?;
                pushed = next;
                let text = text.trim().to_owned();
                if text.is_empty() {
                    continue;
                }
                if let Some(f) = &mut rd.folder {
                    f.options.insert("DESCRIPTION".into(), text);
                } else if let (true, Some(h)) = (rd.dd_is_held, &mut rd.held) {
                    h.record.description = Some(text);
                }
            }
            Token::Start { name, .. } if name == "HR" => {
                if let Some(l) = rd.levels.last_mut() {
                    l.count += 1;
                }
                let at = container_of(&rd.path());
                rd.say(format!("a separator in `{at}`: not kept"));
            }
            // `<DT>`, `<p>`, the title and heading, a stray end tag, text between: nothing to keep
            Token::Start { name, .. } if name == "TITLE" || name == "H1" => {
                let (_, next) = inner_text(lx, &name)?;
                pushed = next;
            }
            _ => {}
        }
    }
    let open = rd.levels.len();
    if !rd.hand(each) {
        return Ok(());
    }
    if lx.lossy {
        // said of the file once, as an error of its own: which bookmark it touched is not known
        if !each(Err("some of the file's text is not UTF-8: read with U+FFFD in its place".into())) {
            return Ok(());
        }
    }
    if !seen_list && rd.bookmarks == 0 {
        return Err("not a Netscape bookmark file: no `<DL>` list of bookmarks in it".into());
    }
    if open > 0 {
        return Err(format!("cut short: the file ends inside {open} list(s) of bookmarks never closed"));
    }
    if !rd.said.is_empty() {
        return Err(rd.said.join("; "));
    }
    Ok(())
}

/// The text inside an element, up to its end tag (or, as browsers forgive, up to the next
/// tag that begins a list entry): the text, and the token that ended it if it was not the
/// end tag.
fn inner_text<R: Read>(lx: &mut Lexer<R>, name: &str) -> Result<(String, Option<Token>), String> {
    let mut out = String::new();
    loop {
        match lx.next()? {
            None => return Ok((decode(&out), None)),
            Some(Token::Text(t)) => {
                out.push_str(&t);
                if out.len() > MAX_TEXT {
                    return Err(format!("text over {MAX_TEXT} bytes at byte {}", lx.pos));
                }
            }
            Some(Token::End(n)) if n == name => return Ok((decode(&out), None)),
            Some(t @ Token::Start { .. }) if matches!(&t, Token::Start { name, .. } if matches!(name.as_str(), "DT" | "DL" | "DD" | "H3" | "A" | "HR")) =>
            {
                return Ok((decode(&out), Some(t)));
            }
            Some(t @ Token::End(_)) if matches!(&t, Token::End(n) if n == "DL") => return Ok((decode(&out), Some(t))),
            // inline markup inside a title (`<B>`, `</B>`): its text is kept
            Some(_) => {}
        }
    }
}
