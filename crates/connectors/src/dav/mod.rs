//! WebDAV plumbing shared by the WebDAV, CalDAV and CardDAV connectors: PROPFIND with a
//! bounded reader of the multistatus answer, and path encoding.

pub mod multistatus;

use crate::http::{Http, request_error, status_error};
use ferry_core::ConnectorError;
use futures::StreamExt;

/// Largest PROPFIND answer ferry reads.
pub const MAX_MULTISTATUS: usize = 64 << 20;

/// One `<response>` of a multistatus.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// Percent-decoded path from the href.
    pub path: String,
    pub collection: bool,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub modified: Option<String>,
    pub content_type: Option<String>,
}

pub const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getetag/><d:getlastmodified/><d:getcontenttype/></d:prop></d:propfind>"#;

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is (byte-wise,
/// so that a multi-byte character after `%` is kept whole).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The absolute path of an href, which servers may send as a full URL.
pub fn href_path(href: &str) -> String {
    match href.find("://") {
        Some(i) => href[i + 3..].find('/').map(|j| href[i + 3 + j..].to_owned()).unwrap_or_else(|| "/".into()),
        None => href.to_owned(),
    }
}

pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file and folder properties of a multistatus answer.
fn entries(responses: Vec<multistatus::Response>) -> Vec<Entry> {
    responses
        .into_iter()
        .map(|r| Entry {
            collection: r.has_child("resourcetype", "collection"),
            size: r.text("getcontentlength").and_then(|s| s.trim().parse().ok()),
            etag: r.text("getetag").map(|s| s.trim().to_owned()),
            modified: r.text("getlastmodified").map(|s| s.trim().to_owned()),
            content_type: r.text("getcontenttype").map(|s| s.trim().to_owned()),
            path: r.href,
        })
        .collect()
}

/// Sends a WebDAV request with an XML body and reads the multistatus answer (bounded).
/// `None` when the resource does not exist.
pub async fn request(
    http: &Http,
    method: &str,
    url: &str,
    depth: Option<u8>,
    body: &str,
) -> Result<Option<Vec<multistatus::Response>>, ConnectorError> {
    let make = || {
        let req = http.request(method, url).header("Content-Type", "application/xml; charset=utf-8").body(body.to_owned());
        match depth {
            Some(d) => req.header("Depth", d.to_string()),
            None => req,
        }
    };
    let resp = http.send(&format!("{method} {url}"), &make).await?;
    if resp.status().as_u16() == 404 {
        return Ok(None);
    }
    if resp.status().as_u16() != 207 {
        return Err(status_error(&format!("{method} {url}"), &resp));
    }
    let body = read_limited(resp, url, MAX_MULTISTATUS).await?.ok_or_else(|| {
        ConnectorError::Fatal(format!("{url}: the server's answer is larger than {MAX_MULTISTATUS} bytes (a hostile or broken server?)"))
    })?;
    multistatus::parse(&body).map(Some).map_err(|e| ConnectorError::Fatal(format!("{method} {url}: {e}")))
}

/// Reads an answer's body, at most `limit` bytes: `None` if it is longer (the rest is
/// not read).
pub async fn read_limited(resp: reqwest::Response, url: &str, limit: usize) -> Result<Option<Vec<u8>>, ConnectorError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| request_error(&format!("reading {url}"), e))?;
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Why a server refused a resource, from the body of its answer: the preconditions of a
/// `DAV:error` (RFC 4918 §16; RFC 4791 §1.3 `valid-calendar-data`,
/// `supported-calendar-component`...; RFC 6352 `valid-address-data`...) and its
/// description, in a plain answer or inside a multistatus (Xandikos answers a refused PUT
/// with 207 holding 412). `status` is the multistatus's own, when there is one.
#[derive(Debug, Default, PartialEq)]
pub struct Refusal {
    pub status: Option<u16>,
    pub preconditions: Vec<String>,
    pub description: String,
}

impl Refusal {
    pub fn parse(body: &[u8]) -> Refusal {
        let mut out = Refusal::default();
        let mut reader = quick_xml::Reader::from_reader(body);
        let mut stack: Vec<String> = Vec::new();
        let mut buf = Vec::new();
        // a broken body gives what was read before the break
        while let Ok(ev) = reader.read_event_into(&mut buf) {
            let start = matches!(ev, quick_xml::events::Event::Start(_));
            match ev {
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    // sabre/dav puts its exception's name and message beside the precondition
                    let detail = matches!(name.as_str(), "message" | "exception" | "sabredav-version" | "responsedescription");
                    if stack.last().is_some_and(|p| p == "error") && !detail && out.preconditions.len() < 8 {
                        out.preconditions.push(name.clone());
                    }
                    if start {
                        stack.push(name);
                    }
                }
                quick_xml::events::Event::End(_) => {
                    stack.pop();
                }
                quick_xml::events::Event::Text(t) => {
                    let text = t.decode().map(|c| c.into_owned()).unwrap_or_default();
                    match stack.last().map(String::as_str) {
                        Some("status") if out.status.is_none() => {
                            out.status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok());
                        }
                        // RFC 4918's responsedescription; sabre/dav (Nextcloud) writes s:message
                        Some("responsedescription" | "message") if out.description.len() < 1000 => {
                            out.description.push_str(text.trim());
                        }
                        _ => {}
                    }
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        out
    }

    /// "valid-calendar-data: Not a valid calendar file..." for a failed item's reason.
    pub fn reason(&self) -> String {
        let mut s = self.preconditions.join(", ");
        if !self.description.is_empty() {
            if !s.is_empty() {
                s.push_str(": ");
            }
            s.push_str(&self.description.chars().take(300).collect::<String>());
        }
        s
    }
}

/// PROPFIND with Depth 0 or 1 for the properties of files and folders.
pub async fn propfind(http: &Http, url: &str, depth: u8) -> Result<Option<Vec<Entry>>, ConnectorError> {
    Ok(request(http, "PROPFIND", url, Some(depth), PROPFIND_BODY).await?.map(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multistatus() {
        let xml = br#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/a/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/a/Caf%C3%A9%20menu.txt</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>12</D:getcontentlength><D:getetag>"x1"</D:getetag><D:getlastmodified>Mon, 06 Jan 2025 09:00:00 GMT</D:getlastmodified></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#;
        let e = entries(multistatus::parse(xml).unwrap());
        assert_eq!(e.len(), 2);
        assert!(e[0].collection && !e[1].collection);
        assert_eq!(e[1].path, "/a/Café menu.txt");
        assert_eq!(e[1].size, Some(12));
        assert_eq!(e[1].etag.as_deref(), Some("\"x1\""));
        assert!(multistatus::parse(b"<D:multistatus><D:response><unclosed").is_err());
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(percent_encode_path("/a b/Café?.txt"), "/a%20b/Caf%C3%A9%3F.txt");
        assert_eq!(percent_decode("/a%20b/Caf%C3%A9%3F.txt"), "/a b/Café?.txt");
    }

    /// A server that answers every request with `head` and then `body_len` bytes.
    async fn answering(head: &'static str, body_len: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/r.ics", l.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut req = [0u8; 4096];
                    let _ = s.read(&mut req).await;
                    let _ = s.write_all(head.as_bytes()).await;
                    let chunk = vec![b'x'; 64 * 1024];
                    let mut sent = 0;
                    while sent < body_len && s.write_all(&chunk).await.is_ok() {
                        sent += chunk.len();
                    }
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_not_read_whole() {
        let http = crate::http::client(&crate::Settings { allow_private_network: true, ..Default::default() }).unwrap();
        // no length given: read until the limit is passed
        let url = answering("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 8 << 20).await;
        let resp = http.get(&url).send().await.unwrap();
        assert_eq!(read_limited(resp, &url, 1 << 20).await.unwrap(), None);
        // a length over the limit: not read at all
        let url = answering("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", 0).await;
        let resp = http.get(&url).send().await.unwrap();
        assert_eq!(read_limited(resp, &url, 1 << 20).await.unwrap(), None);
        // within it: all of it
        let url = answering("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 100 << 10).await;
        let resp = http.get(&url).send().await.unwrap();
        assert_eq!(read_limited(resp, &url, 1 << 20).await.unwrap().map(|b| b.len()), Some(128 << 10));
    }

    #[test]
    fn reads_a_refusal() {
        let xandikos = br#"<ns0:multistatus xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav"><ns0:response><ns0:href>http%3A//h/c/a.ics</ns0:href><ns0:status>HTTP/1.1 412 Precondition Failed</ns0:status><ns0:error><ns1:valid-calendar-data /></ns0:error><ns0:responsedescription>Not a valid calendar file</ns0:responsedescription></ns0:response></ns0:multistatus>"#;
        let r = Refusal::parse(xandikos);
        assert_eq!((r.status, r.preconditions.as_slice()), (Some(412), &["valid-calendar-data".to_owned()][..]));
        assert_eq!(r.reason(), "valid-calendar-data: Not a valid calendar file");
        let sabre = br#"<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:cal="urn:ietf:params:xml:ns:caldav"><cal:supported-calendar-component/><s:exception>Sabre\DAV\Exception\Forbidden</s:exception><s:message>VTODO is not allowed here</s:message></d:error>"#;
        let r = Refusal::parse(sabre);
        assert_eq!(r.status, None);
        assert_eq!(r.reason(), "supported-calendar-component: VTODO is not allowed here");
        assert_eq!(Refusal::parse(b"Forbidden").preconditions.len(), 0);
        assert_eq!(Refusal::parse(b"<d:error><unclosed").preconditions.len(), 0);
    }

    #[test]
    fn decodes_hostile_escapes_without_panic() {
        // a multi-byte character right after `%` (a hostile or broken server's href)
        assert_eq!(percent_decode("/a/%é.txt"), "/a/%é.txt");
        assert_eq!(percent_decode("/a/%1é"), "/a/%1é");
        assert_eq!(percent_decode("/a/é%"), "/a/é%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }
}
