//! A bounded, streaming walk over an XML file, for the readers of formats written in it
//! (Apple Health's `export.xml`, which reaches gigabytes; camt.053): the elements a reader
//! asks for are gathered, one at a time, into a small tree; nothing else is kept.
//!
//! A DOCTYPE at the top is skipped unread: its entities are never declared, so a
//! reference to one is never expanded (it is kept as written, with a warning); only XML's
//! own five and character references are. Every XML token is bounded, every gathered
//! element is bounded (over its bound it is an error of its own and reading goes on), and
//! so is the nesting.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::cell::Cell;
use std::io::{BufReader, Read};
use std::rc::Rc;

/// The bounds of one walk.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// One XML token (a tag with its attributes, a run of text).
    pub token: usize,
    /// One gathered element, all told.
    pub element: usize,
    /// The DOCTYPE at the top.
    pub doctype: usize,
    /// How deep elements nest.
    pub depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { token: 16 << 20, element: 64 << 20, doctype: 1 << 20, depth: 256 }
    }
}

/// A gathered element. Names are local (without a namespace prefix).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Its text, as written (whitespace too), without its children's.
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The descendant at a `/`-separated path of names (the first of each name).
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('/').try_fold(self, |n, name| n.child(name))
    }

    /// The trimmed text at a path, if there is some.
    pub fn text_at(&self, path: &str) -> Option<String> {
        self.at(path).map(|n| n.text.trim().to_owned()).filter(|t| !t.is_empty())
    }
}

/// What the walk meets.
pub enum Step<'a> {
    /// An element that is not gathered opens: its path from the root (its own name last).
    Open(&'a [String]),
    /// A gathered element, with what could not be read as written (an entity that is not
    /// XML's); or why it could not be gathered.
    Element(Result<(Node, Vec<String>), String>),
    /// An element that is not gathered closes (its path, its own name last).
    Close(&'a [String]),
}

/// Walks `input`, gathering each element for which `gather(parent path, name)` says so,
/// and telling `on` (which returns false to stop) what it meets. A file that is not
/// well-formed XML, ends inside an element, or holds a token over its bound, is an error
/// (after what came before it was told).
pub fn walk(
    input: impl Read,
    limits: Limits,
    gather: &dyn Fn(&[String], &str) -> bool,
    on: &mut dyn FnMut(Step) -> bool,
) -> Result<(), String> {
    let budget = Rc::new(Cell::new(limits.token));
    let source = Budgeted { inner: skip_doctype(input, limits.doctype)?, left: budget.clone() };
    let mut reader = Reader::from_reader(BufReader::with_capacity(64 * 1024, source));
    reader.config_mut().check_end_names = true;
    let mut w = Walker { limits, path: Vec::new(), stack: Vec::new(), size: 0, skipping: 0, warnings: Vec::new(), stopped: false };
    let mut buf = Vec::new();
    loop {
        budget.set(limits.token);
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let at = reader.error_position();
                use quick_xml::errors::SyntaxError as S;
                return Err(match e {
                    _ if budget.get() == 0 => format!("an XML token at byte {at} is longer than {} bytes", limits.token),
                    quick_xml::Error::Syntax(S::UnclosedTag | S::UnclosedComment | S::UnclosedCData | S::UnclosedPIOrXmlDecl) => {
                        format!("the file ends inside a tag at byte {at}: it is cut short")
                    }
                    e => format!("not well-formed XML at byte {at}: {e}"),
                });
            }
        };
        match event {
            Event::Start(e) => w.open(&e, gather, on)?,
            Event::Empty(e) => {
                w.open(&e, gather, on)?;
                w.close(on);
            }
            Event::End(_) => w.close(on),
            Event::Text(t) => {
                let text = t.decode().map_err(|e| format!("text that is not UTF-8 at byte {}: {e}", reader.buffer_position()))?;
                w.text(&text);
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| format!("text that is not UTF-8 at byte {}: {e}", reader.buffer_position()))?;
                w.text(&text);
            }
            Event::GeneralRef(r) => {
                if w.gathering() {
                    let name = r.decode().map_err(|e| e.to_string())?.into_owned();
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => w.text(c.encode_utf8(&mut [0; 4])),
                        _ => match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => w.text(s),
                            None => {
                                w.warnings.push(format!("&{name}; is no entity ferry knows: kept as written"));
                                w.text(&format!("&{name};"));
                            }
                        },
                    }
                }
            }
            Event::Eof => {
                return match w.path.last().or(w.stack.first().map(|n| &n.name)) {
                    Some(open) => Err(format!("the file ends inside <{open}>: it is cut short")),
                    None => Ok(()),
                };
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        if w.stopped {
            return Ok(());
        }
    }
}

struct Walker {
    limits: Limits,
    path: Vec<String>,
    /// The gathered element being read, and its open descendants.
    stack: Vec<Node>,
    /// The gathered element's size so far.
    size: usize,
    /// Over its bound: the open elements to skip to its end (it included).
    skipping: usize,
    warnings: Vec<String>,
    stopped: bool,
}

impl Walker {
    fn gathering(&self) -> bool {
        !self.stack.is_empty() && self.skipping == 0
    }

    fn open(&mut self, e: &BytesStart, gather: &dyn Fn(&[String], &str) -> bool, on: &mut dyn FnMut(Step) -> bool) -> Result<(), String> {
        if self.path.len() + self.stack.len() + self.skipping >= self.limits.depth {
            return Err(format!("elements nest deeper than {}", self.limits.depth));
        }
        if self.skipping > 0 {
            self.skipping += 1;
            return Ok(());
        }
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let mut attrs = Vec::new();
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|e| format!("an attribute of <{name}> is not well-formed: {e}"))?;
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = match a.decode_and_unescape_value(e.decoder()) {
                Ok(v) => v.into_owned(),
                Err(_) => {
                    let raw = String::from_utf8_lossy(&a.value).into_owned();
                    if self.gathering() || gather(&self.path, &name) {
                        self.warnings.push(format!("attribute {key} of <{name}> holds an entity ferry does not expand: kept as written"));
                    }
                    raw
                }
            };
            attrs.push((key, value));
        }
        if self.stack.is_empty() && !gather(&self.path, &name) {
            self.path.push(name);
            if !on(Step::Open(&self.path)) {
                self.stopped = true;
            }
            return Ok(());
        }
        if self.stack.is_empty() {
            self.size = 0;
        }
        self.size += 64 + name.len() + attrs.iter().map(|(k, v)| k.len() + v.len() + 16).sum::<usize>();
        self.stack.push(Node { name, attrs, ..Default::default() });
        self.check_size();
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if !self.gathering() {
            return;
        }
        self.size += text.len();
        self.stack.last_mut().expect("gathering").text.push_str(text);
        self.check_size();
    }

    /// Over its bound, the element is dropped and skipped to its end.
    fn check_size(&mut self) {
        if self.size > self.limits.element {
            self.skipping = self.stack.len();
            let name = std::mem::take(&mut self.stack[0].name);
            self.stack.clear();
            self.stack.push(Node { name, ..Default::default() });
        }
    }

    fn close(&mut self, on: &mut dyn FnMut(Step) -> bool) {
        if self.skipping > 0 {
            self.skipping -= 1;
            if self.skipping == 0 {
                let node = self.stack.pop().expect("the skipped element");
                let why = format!("<{}> is larger than {} bytes: left out", node.name, self.limits.element);
                self.warnings.clear();
                self.stopped |= !on(Step::Element(Err(why)));
            }
            return;
        }
        match self.stack.pop() {
            Some(node) => match self.stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None => {
                    let warnings = std::mem::take(&mut self.warnings);
                    self.stopped |= !on(Step::Element(Ok((node, warnings))));
                }
            },
            None => {
                self.stopped |= !on(Step::Close(&self.path));
                self.path.pop();
            }
        }
    }
}

/// A reader that refuses to give more than what is `left` (set again before each token,
/// each record...): no single token can make a reader's buffer grow past its bound.
pub struct Budgeted<R> {
    pub inner: R,
    pub left: Rc<Cell<usize>>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(std::io::Error::other("over the token bound"));
        }
        let take = buf.len().min(left);
        let n = self.inner.read(&mut buf[..take])?;
        self.left.set(left - n);
        Ok(n)
    }
}

/// `input` without the DOCTYPE at its top (read up to `max` bytes to find its end).
pub fn skip_doctype<R: Read>(mut input: R, max: usize) -> Result<impl Read, String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = read_some(&mut input, &mut chunk)?;
        head.extend_from_slice(&chunk[..n]);
        match strip(&head, n == 0) {
            Some(Ok(range)) => {
                if let Some((from, to)) = range {
                    if to - from > max {
                        return Err(format!("the DOCTYPE at the top is longer than {max} bytes"));
                    }
                    head.drain(from..to);
                }
                return Ok(std::io::Cursor::new(head).chain(input));
            }
            Some(Err(e)) => return Err(e),
            None if head.len() > max => return Err(format!("the DOCTYPE at the top is longer than {max} bytes")),
            None => {}
        }
    }
}

fn read_some(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    loop {
        match input.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
}

/// Where the DOCTYPE is in the head of a file: `Some(Ok(Some(range)))`, none before the
/// first element (`Some(Ok(None))`), or `None` if more of the file is needed to tell.
fn strip(head: &[u8], eof: bool) -> Option<Result<Option<(usize, usize)>, String>> {
    let find = |from: usize, what: &[u8]| head[from..].windows(what.len()).position(|w| w == what).map(|i| from + i);
    let mut i = 0;
    loop {
        let Some(lt) = head[i..].iter().position(|&b| b == b'<').map(|p| i + p) else {
            return eof.then_some(Ok(None));
        };
        let rest = &head[lt..];
        if rest.len() < 9 && !eof {
            return None;
        }
        if rest.starts_with(b"<?") {
            i = find(lt, b"?>").map(|e| e + 2)?;
        } else if rest.starts_with(b"<!--") {
            i = find(lt + 4, b"-->").map(|e| e + 3)?;
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            return match doctype_end(head, lt + 9) {
                Some(end) => Some(Ok(Some((lt, end)))),
                None if eof => Some(Err("the DOCTYPE at the top never ends".into())),
                None => None,
            };
        } else {
            return Some(Ok(None));
        }
    }
}

/// The end (past its `>`) of a DOCTYPE whose body starts at `i`: its internal subset, in
/// `[` `]`, may hold `>` in declarations, comments and quoted strings.
fn doctype_end(head: &[u8], mut i: usize) -> Option<usize> {
    let mut subset = false;
    let mut quote = None;
    while i < head.len() {
        let b = head[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if subset && head[i..].starts_with(b"<!--") => {
                i = head[i + 4..].windows(3).position(|w| w == b"-->").map(|p| i + 4 + p + 2)?;
            }
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'[' && !subset => subset = true,
            None if b == b']' && subset => subset = false,
            None if b == b'>' && !subset => return Some(i + 1),
            None => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    type Gathered = Result<(Node, Vec<String>), String>;

    fn gathered(xml: &str, limits: Limits) -> (Vec<Gathered>, Result<(), String>) {
        let mut out = Vec::new();
        let r = walk(xml.as_bytes(), limits, &|path, _| path.len() == 1, &mut |s| {
            if let Step::Element(e) = s {
                out.push(e);
            }
            true
        });
        (out, r)
    }

    #[test]
    fn a_doctype_is_skipped_and_its_entities_never_expand() {
        let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [\n <!ENTITY a \"xxxxxxxxxx\">\n <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n \
                      <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n <!-- a ] in a comment ]> -->\n <!ATTLIST r x CDATA '>'>\n]>\n\
                      <r><e v=\"&c;\">&c;&amp;&#65;</e><f/></r>";
        let (els, r) = gathered(laughs, Limits::default());
        r.unwrap();
        let (e, warnings) = els[0].clone().unwrap();
        assert_eq!(e.text, "&c;&A", "an undeclared entity is kept as written, never expanded");
        assert_eq!(e.attr("v"), Some("&c;"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(els[1].clone().unwrap().0.name, "f");
    }

    #[test]
    fn an_unbalanced_doctype_like_apples_is_skipped_whole() {
        // Apple's export of some iOS versions: an ATTLIST without its `>`, one `>` too many
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE HealthData [\n<!ATTLIST Me\n  a CDATA #REQUIRED\n<!ELEMENT B EMPTY>\n>\n>\n]>\n<HealthData><B/></HealthData>";
        let (els, r) = gathered(xml, Limits::default());
        r.unwrap();
        assert_eq!(els.len(), 1);
        let xml = "<!DOCTYPE x [ <!ELEMENT x EMPTY> ";
        assert!(walk(xml.as_bytes(), Limits::default(), &|_, _| true, &mut |_| true).unwrap_err().contains("never ends"));
        let big = format!("<!DOCTYPE x [ {} ]><x/>", " ".repeat(3000));
        let l = Limits { doctype: 1000, ..Limits::default() };
        assert!(walk(big.as_bytes(), l, &|_, _| true, &mut |_| true).unwrap_err().contains("DOCTYPE"));
    }

    #[test]
    fn bounds_hold() {
        let l = Limits { token: 4096, element: 2000, doctype: 1000, depth: 16 };
        // an element over its bound is an error of its own; the next is read
        let xml = format!("<r><a>{}</a><b><c/></b></r>", "<x/>".repeat(1000));
        let (els, r) = gathered(&xml, l);
        r.unwrap();
        assert!(els[0].as_ref().unwrap_err().contains("larger than 2000"), "{:?}", els[0]);
        assert_eq!(els[1].as_ref().unwrap().0.children[0].name, "c");
        // one token over its bound fails the file
        let xml = format!("<r><a v=\"{}\"/></r>", "x".repeat(100_000));
        assert!(gathered(&xml, l).1.unwrap_err().contains("longer than 4096"));
        let xml = format!("<r>{}</r>", "y".repeat(100_000));
        assert!(gathered(&xml, l).1.unwrap_err().contains("longer than 4096"));
        let xml = format!("{}{}", "<d>".repeat(40), "</d>".repeat(40));
        assert!(gathered(&xml, l).1.unwrap_err().contains("deeper"));
    }

    #[test]
    fn cut_short_and_malformed_files_are_errors_after_what_came_before() {
        let (els, r) = gathered("<r><a/><b x=\"1\"><c></c>", Limits::default());
        assert_eq!(els.len(), 1);
        assert!(r.unwrap_err().contains("cut short"));
        let (els, r) = gathered("<r><a/><b></c></r>", Limits::default());
        assert_eq!(els.len(), 1);
        assert!(r.unwrap_err().contains("not well-formed"));
        let (_, r) = gathered("<r><a>\u{0}\u{ff}</a></r>", Limits::default());
        r.unwrap();
        let bad = b"<r><a>\xff\xfe</a></r>";
        let r = walk(&bad[..], Limits::default(), &|p, _| p.len() == 1, &mut |_| true);
        assert!(r.unwrap_err().contains("UTF-8"));
    }
}
