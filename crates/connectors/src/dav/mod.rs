//! WebDAV plumbing shared by the WebDAV, CalDAV and CardDAV connectors: PROPFIND with a
//! bounded reader of the multistatus answer, and path encoding.

pub mod multistatus;

use crate::http::{request_error, status_error};
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

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
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
    client: &reqwest::Client,
    method: &str,
    url: &str,
    depth: Option<u8>,
    body: &str,
    auth: &(String, String),
) -> Result<Option<Vec<multistatus::Response>>, ConnectorError> {
    let mut req = client
        .request(reqwest::Method::from_bytes(method.as_bytes()).expect("valid method"), url)
        .basic_auth(&auth.0, Some(&auth.1))
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(body.to_owned());
    if let Some(d) = depth {
        req = req.header("Depth", d.to_string());
    }
    let resp = req.send().await.map_err(|e| request_error(&format!("{method} {url}"), e))?;
    if resp.status().as_u16() == 404 {
        return Ok(None);
    }
    if resp.status().as_u16() != 207 {
        return Err(status_error(&format!("{method} {url}"), &resp));
    }
    let body = read_bounded(resp, url).await?;
    multistatus::parse(&body).map(Some).map_err(|e| ConnectorError::Fatal(format!("{method} {url}: {e}")))
}

async fn read_bounded(resp: reqwest::Response, url: &str) -> Result<Vec<u8>, ConnectorError> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| request_error(&format!("reading {url}"), e))?;
        if body.len() + chunk.len() > MAX_MULTISTATUS {
            return Err(ConnectorError::Fatal(format!(
                "{url}: the server's answer is larger than {MAX_MULTISTATUS} bytes (a hostile or broken server?)"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// PROPFIND with Depth 0 or 1 for the properties of files and folders.
pub async fn propfind(
    client: &reqwest::Client,
    url: &str,
    depth: u8,
    auth: &(String, String),
) -> Result<Option<Vec<Entry>>, ConnectorError> {
    Ok(request(client, "PROPFIND", url, Some(depth), PROPFIND_BODY, auth).await?.map(entries))
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
}
