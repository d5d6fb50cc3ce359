//! A small, general reader of WebDAV multistatus answers: for every `<response>`, its
//! href and, per property (by local name), its text, the hrefs inside it and the names of
//! its child elements. Only properties in a 200 propstat count. A sync-collection answer's
//! new `<sync-token>` (RFC 6578) comes last, as a response with an empty href and that one
//! property.

use quick_xml::events::Event;
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Prop {
    pub text: String,
    pub hrefs: Vec<String>,
    pub children: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Response {
    pub href: String,
    pub props: HashMap<String, Prop>,
}

impl Response {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.props.get(name).map(|p| p.text.as_str()).filter(|t| !t.is_empty())
    }
    pub fn href(&self, name: &str) -> Option<&str> {
        self.props.get(name).and_then(|p| p.hrefs.first()).map(String::as_str)
    }
    pub fn has_child(&self, prop: &str, child: &str) -> bool {
        self.props.get(prop).is_some_and(|p| p.children.iter().any(|c| c == child))
    }
}

pub fn parse(xml: &[u8]) -> Result<Vec<Response>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut cur: Option<Response> = None;
    // properties of the propstat being read, kept only if its status is 200
    let mut pending: HashMap<String, Prop> = HashMap::new();
    let mut status_ok = true;
    let mut stack: Vec<String> = Vec::new();
    let mut sync_token: Option<String> = None;
    // an href's text as it arrives (entities such as `&amp;` split it into several events)
    let mut href = String::new();
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not a readable WebDAV answer at byte {}: {e}", reader.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                open(&name, &stack, &mut cur, &mut pending, &mut status_ok);
                if name == "href" {
                    href.clear();
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                open(&name, &stack, &mut cur, &mut pending, &mut status_ok);
            }
            Event::Text(t) => {
                let raw = t.decode().map_err(|e| e.to_string())?.into_owned();
                let text = quick_xml::escape::unescape(&raw).map(|c| c.into_owned()).unwrap_or(raw);
                if cur.is_none() && stack.last().is_some_and(|t| t == "sync-token") {
                    sync_token.get_or_insert_default().push_str(text.trim());
                } else {
                    add_text(&text, &stack, &mut href, &mut pending, &mut status_ok);
                }
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                add_text(&text, &stack, &mut href, &mut pending, &mut status_ok);
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let text = match name.as_str() {
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "amp" => "&".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    n if n.starts_with("#x") => {
                        u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32).map(String::from).unwrap_or_default()
                    }
                    n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32).map(String::from).unwrap_or_default(),
                    _ => String::new(),
                };
                add_text(&text, &stack, &mut href, &mut pending, &mut status_ok);
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.pop();
                if name == "href" {
                    end_href(&std::mem::take(&mut href), &stack, &mut cur, &mut pending);
                }
                match name.as_str() {
                    "propstat" => {
                        if status_ok && let Some(c) = cur.as_mut() {
                            c.props.extend(pending.drain());
                        }
                        pending.clear();
                    }
                    "response" => {
                        if let Some(c) = cur.take() {
                            out.push(c);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if let Some(token) = sync_token {
        out.push(Response {
            href: String::new(),
            props: HashMap::from([("sync-token".to_owned(), Prop { text: token, ..Default::default() })]),
        });
    }
    Ok(out)
}

fn open(name: &str, stack: &[String], cur: &mut Option<Response>, pending: &mut HashMap<String, Prop>, status_ok: &mut bool) {
    match name {
        "response" => *cur = Some(Response::default()),
        "propstat" => {
            pending.clear();
            *status_ok = true;
        }
        _ => {}
    }
    // a property is a child of <prop>; anything deeper is one of its children
    if let Some(i) = stack.iter().rposition(|s| s == "prop") {
        if i == stack.len() - 1 {
            pending.entry(name.to_owned()).or_default();
        } else if name != "href" {
            let prop = &stack[i + 1];
            pending.entry(prop.clone()).or_default().children.push(name.to_owned());
        }
    }
}

fn add_text(text: &str, stack: &[String], href: &mut String, pending: &mut HashMap<String, Prop>, status_ok: &mut bool) {
    let Some(top) = stack.last() else { return };
    if top == "status" {
        *status_ok = text.contains(" 200");
        return;
    }
    if top == "href" {
        href.push_str(text);
        return;
    }
    if let Some(i) = stack.iter().rposition(|s| s == "prop")
        && let Some(prop) = stack.get(i + 1)
    {
        pending.entry(prop.clone()).or_default().text.push_str(text);
    }
}

/// A whole href, read: the response's own (its first) or one inside a property. `stack`
/// no longer holds the `href`.
fn end_href(raw: &str, stack: &[String], cur: &mut Option<Response>, pending: &mut HashMap<String, Prop>) {
    let decoded = crate::dav::percent_decode(raw.trim());
    if let Some(i) = stack.iter().rposition(|s| s == "prop") {
        if let Some(prop) = stack.get(i + 1) {
            pending.entry(prop.clone()).or_default().hrefs.push(decoded);
        }
    } else if let Some(c) = cur.as_mut()
        && c.href.is_empty()
    {
        c.href = decoded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_props_hrefs_children_and_data() {
        let xml = br#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/alice/cal%201/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Work &amp; Play</d:displayname><c:calendar-home-set><d:href>/alice/</d:href></c:calendar-home-set></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><d:getetag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response><d:response><d:href>/alice/cal%201/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>BEGIN:VCALENDAR&#13;
END:VCALENDAR&#13;
</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
        let r = parse(xml).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].href, "/alice/cal 1/");
        assert!(r[0].has_child("resourcetype", "calendar"));
        assert_eq!(r[0].text("displayname"), Some("Work & Play"));
        assert_eq!(r[0].href("calendar-home-set"), Some("/alice/"));
        assert!(!r[0].props.contains_key("getetag"), "404 propstat ignored");
        assert_eq!(r[1].text("getetag"), Some("\"1\""));
        assert_eq!(r[1].text("calendar-data"), Some("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"));
    }

    #[test]
    fn sync_collection_answer_gives_changes_deletions_and_the_new_token() {
        let xml = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a/b.vcf</d:href><d:propstat><d:prop><d:getetag>"2"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/a/gone.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response><d:sync-token>http://x/sync/7</d:sync-token></d:multistatus>"#;
        let r = parse(xml).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].text("getetag"), Some("\"2\""));
        assert_eq!((r[1].href.as_str(), r[1].text("getetag")), ("/a/gone.vcf", None), "a deletion has no ETag");
        assert_eq!((r[2].href.as_str(), r[2].text("sync-token")), ("", Some("http://x/sync/7")));
        // a PROPFIND's sync-token property stays a property of its response
        let xml = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a/</d:href><d:propstat><d:prop><d:sync-token>t1</d:sync-token></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
        let r = parse(xml).unwrap();
        assert_eq!((r.len(), r[0].text("sync-token")), (1, Some("t1")));
    }

    #[test]
    fn an_href_split_by_entities_is_read_whole() {
        let xml = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/f/c+d=e&amp;f&#38;g%20h.txt</d:href><d:propstat><d:prop><d:owner><d:href>/p&amp;q/</d:href></d:owner></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
        let r = parse(xml).unwrap();
        assert_eq!(r[0].href, "/f/c+d=e&f&g h.txt");
        assert_eq!(r[0].href("owner"), Some("/p&q/"));
    }
}
