use super::discovery::{self, Collection};
use super::{DavConfig, Kind};
use crate::dav;
use crate::http::{Http, status_error};
use async_trait::async_trait;
use ferry_codecs::vcard::{WriteVersion, build_v4, convert};
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record};
use sha2::Digest;
use tokio::sync::Mutex;

/// Writes each calendar object or vCard as one resource named from its UID, created with
/// `If-None-Match: *`; a resource already there with the same bytes is left alone, a
/// changed one replaced. Missing calendars (MKCALENDAR) and address books (extended
/// MKCOL) are created in the home set.
pub struct DavImporter {
    cfg: DavConfig,
    http: Http,
    /// The home set and the collections in it, found on first use.
    state: Mutex<Option<(String, Vec<Collection>)>>,
    /// Per collection: the resources in it and their ETags, listed on first use.
    listed: Mutex<std::collections::HashMap<String, std::collections::HashMap<String, String>>>,
}

impl DavImporter {
    pub fn new(cfg: DavConfig, settings: &crate::Settings) -> Result<Self, ConnectorError> {
        let http = Http::new(settings, &cfg.user)?;
        Ok(DavImporter { cfg, http, state: Mutex::new(None), listed: Mutex::new(Default::default()) })
    }

    /// The collection for a container: one with that name, or a new one.
    async fn collection(&self, container: &str) -> Result<String, ConnectorError> {
        let name = if container.is_empty() { "default" } else { container };
        let mut state = self.state.lock().await;
        if state.is_none() {
            let home = discovery::home(&self.http, &self.cfg).await?;
            let cols = discovery::collections(&self.http, &self.cfg, &home).await?;
            *state = Some((home, cols));
        }
        let (home, cols) = state.as_mut().expect("found");
        if let Some(c) = cols.iter().find(|c| c.name == name) {
            return Ok(c.path.clone());
        }
        let slug: String = name.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
        let slug: String = slug.trim_matches('-').to_lowercase().chars().take(60).collect();
        let slug = if slug.is_empty() { "default".to_owned() } else { slug };
        // a calendar and an address book may share a home set and a name
        for candidate in [format!("{home}{slug}/"), format!("{home}{slug}-{}/", self.cfg.kind.collection())] {
            if self.make(&candidate, name).await? {
                cols.push(Collection { path: candidate.clone(), name: name.to_owned() });
                return Ok(candidate);
            }
            // the path is taken: perhaps by this very collection, made by an earlier try
            // whose answer was lost, or by another client meanwhile; look again before
            // making a second one
            let now = discovery::collections(&self.http, &self.cfg, home).await?;
            if let Some(c) = now.iter().find(|c| c.name == name) {
                let path = c.path.clone();
                *cols = now;
                return Ok(path);
            }
        }
        Err(ConnectorError::Item(format!("cannot create a {} for `{name}` in {home}", self.cfg.kind.collection())))
    }

    /// Makes a collection; false if the path is taken by something else.
    async fn make(&self, path: &str, name: &str) -> Result<bool, ConnectorError> {
        let url = self.cfg.url(path);
        let (method, body) = match self.cfg.kind {
            Kind::Cal => (
                "MKCALENDAR",
                format!(
                    r#"<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>{}</d:displayname><c:supported-calendar-component-set><c:comp name="VEVENT"/><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>"#,
                    quick_xml::escape::escape(name)
                ),
            ),
            Kind::Card => (
                "MKCOL",
                format!(
                    r#"<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/><c:addressbook/></d:resourcetype><d:displayname>{}</d:displayname></d:prop></d:set></d:mkcol>"#,
                    quick_xml::escape::escape(name)
                ),
            ),
        };
        let make = || self.http.request(method, &url).header("Content-Type", "application/xml; charset=utf-8").body(body.clone());
        let resp = self.http.send(&format!("creating {url}"), &make).await?;
        if resp.status().is_success() {
            return Ok(true);
        }
        if resp.status().as_u16() == 405 || resp.status().as_u16() == 409 {
            return Ok(false);
        }
        Err(status_error(&format!("creating {url}"), &resp))
    }

    /// ETag of a resource if the collection holds it (the collection is listed once).
    async fn existing(&self, collection: &str, path: &str) -> Result<Option<String>, ConnectorError> {
        let mut listed = self.listed.lock().await;
        if !listed.contains_key(collection) {
            let (list, _) = discovery::listing(&self.http, &self.cfg, collection).await?;
            listed.insert(collection.to_owned(), list.into_iter().collect());
        }
        Ok(listed[collection].get(path).cloned())
    }
}

/// A resource name from the UID when it is plain, else from its hash.
fn resource_name(uid: Option<&str>, id: &str, ext: &str) -> String {
    match uid {
        Some(u)
            if !u.is_empty()
                && u.len() <= 100
                && u.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
                && !u.starts_with('.') =>
        {
            format!("{u}.{ext}")
        }
        _ => format!("{}.{ext}", &hex::encode(sha2::Sha256::digest(uid.unwrap_or(id).as_bytes()))[..32]),
    }
}

#[async_trait]
impl Importer for DavImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let kind = self.cfg.kind;
        let mut warnings = Vec::new();
        let (uid, bytes) = match (&item.record, kind) {
            (Record::Event(e), Kind::Cal) => (Some(e.uid.clone()), item.original.as_ref().map(|o| o.bytes.to_vec())),
            (Record::Task(t), Kind::Cal) => (Some(t.uid.clone()), item.original.as_ref().map(|o| o.bytes.to_vec())),
            (Record::Contact(c), Kind::Card) => {
                let bytes = match &item.original {
                    // CardDAV servers take vCard 3.0 and 4.0; 2.1 is converted
                    Some(o) if c.vcard_version == "2.1" || c.vcard_version == "2.0" => {
                        warnings.push(format!("vCard {} converted to 3.0 (CardDAV stores 3.0 and 4.0)", c.vcard_version));
                        let converted = convert(&o.bytes, WriteVersion::V3).map_err(|e| ConnectorError::Item(e.to_string()))?;
                        warnings.extend(converted.warnings);
                        Some(converted.text.into_bytes())
                    }
                    Some(o) => Some(o.bytes.to_vec()),
                    None => Some(build_v4(c).into_bytes()),
                };
                // CardDAV servers require a UID; a card without one gets one from its id
                match (&c.uid, bytes) {
                    (None, Some(b)) => {
                        let uid = format!("ferry-{}", &hex::encode(sha2::Sha256::digest(item.id.as_bytes()))[..24]);
                        warnings.push(format!("the card had no UID; given UID {uid}"));
                        (Some(uid.clone()), Some(add_uid(&b, &uid)))
                    }
                    (uid, b) => (uid.clone(), b),
                }
            }
            _ => return Err(ConnectorError::Item(format!("a {} item cannot go to this server", item.vertical()))),
        };
        let bytes = bytes.ok_or_else(|| ConnectorError::Item("no iCalendar data to write".into()))?;
        if kind == Kind::Cal {
            // a time zone used but defined nowhere: the times cannot be placed exactly
            warnings.extend(ferry_codecs::ical::timezone_warnings(&bytes));
        }
        // servers decode each physical line on its own: a fold inside a character would
        // come back garbled (Radicale) or break the collection's listing (Xandikos)
        let bytes = ferry_codecs::lines::refold_split_characters(&bytes).unwrap_or(bytes);
        let collection = self.collection(&item.container).await?;
        let path = format!("{collection}{}", resource_name(uid.as_deref(), &item.id, kind.extension()));
        let url = self.cfg.url(&path);
        let sha = ferry_core::content::sha256_hex(&bytes);
        let put = |condition: Option<(&'static str, String)>| {
            let (url, bytes) = (&url, &bytes);
            let make = move || {
                let req = self.http.request("PUT", url).header("Content-Type", kind.media_type()).body(bytes.clone());
                match &condition {
                    Some((h, v)) => req.header(*h, v.as_str()),
                    None => req,
                }
            };
            async move { self.http.send(&format!("writing {url}"), &make).await }
        };
        // not all servers honour If-None-Match; the collection's listing says what is there
        if self.existing(&collection, &path).await?.is_none() {
            let resp = put(Some(("If-None-Match", "*".into()))).await?;
            if put_answer(resp, &url).await? == Put::Written {
                return Ok(PutOutcome { dest_id: path, created: true, warnings, sha256: Some(sha) });
            }
        }
        // there already: the same bytes, or an older version to replace
        let current = self.http.send(&format!("reading {url}"), &|| self.http.request("GET", &url)).await?;
        if !current.status().is_success() {
            return Err(status_error(&format!("reading {url}"), &current));
        }
        let etag = current.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let existing = dav::read_limited(current, &url, MAX_RESOURCE).await?.ok_or_else(|| {
            ConnectorError::Item(format!(
                "{url}: the resource on the server is larger than {MAX_RESOURCE} bytes; not compared, not replaced"
            ))
        })?;
        if existing == bytes || same_record(kind, &existing, &bytes) {
            return Ok(PutOutcome { dest_id: path, created: false, warnings, sha256: Some(sha) });
        }
        let resp = put(etag.map(|e| ("If-Match", e))).await?;
        match put_answer(resp, &url).await? {
            Put::Written => Ok(PutOutcome { dest_id: path, created: true, warnings, sha256: Some(sha) }),
            Put::Taken => Err(ConnectorError::Item(format!("writing {url}: the resource changed on the server meanwhile (412)"))),
        }
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// Largest resource ferry reads back from a calendar or address book to compare it.
pub const MAX_RESOURCE: usize = 32 << 20;

#[derive(Debug, PartialEq)]
enum Put {
    Written,
    /// 412 without a reason: the condition (If-None-Match or If-Match) did not hold.
    Taken,
}

/// What a PUT's answer means. A server refuses one resource with a precondition
/// (`valid-calendar-data`, `supported-calendar-component`, `no-uid-conflict`...) in a 403,
/// 409 or 412, or in a 207 multistatus (Xandikos): that item fails with the server's
/// reason and the job goes on. A 403 with no precondition (no right to write here) stops
/// the job.
async fn put_answer(resp: reqwest::Response, url: &str) -> Result<Put, ConnectorError> {
    let status = resp.status().as_u16();
    if resp.status().is_success() && status != 207 {
        return Ok(Put::Written);
    }
    if !matches!(status, 207 | 400 | 403 | 409 | 412 | 415 | 422) {
        return Err(status_error(&format!("writing {url}"), &resp));
    }
    let fallback = status_error(&format!("writing {url}"), &resp);
    let answered = resp.status();
    let body = dav::read_limited(resp, url, 1 << 20).await?.unwrap_or_default();
    let refusal = dav::Refusal::parse(&body);
    if status == 207 && refusal.status.is_none_or(|s| (200..300).contains(&s)) {
        return Ok(Put::Written);
    }
    if refusal.preconditions.is_empty() && refusal.description.is_empty() {
        return match status {
            412 => Ok(Put::Taken),
            207 => Err(ConnectorError::Item(format!("writing {url}: the server refused it ({})", refusal.status.unwrap_or(0)))),
            _ => Err(fallback),
        };
    }
    let shown = refusal.status.map(|s| s.to_string()).unwrap_or_else(|| answered.to_string());
    Err(ConnectorError::Item(format!("writing {url}: the server refused it ({shown}): {}", refusal.reason())))
}

/// Whether two resources hold the same record: servers rewrite what they store (line
/// folding, property order, PRODID), so equal bytes are too strict a test.
fn same_record(kind: Kind, a: &[u8], b: &[u8]) -> bool {
    match kind {
        Kind::Cal => matches!((ferry_codecs::ical::parse_object(a, 1), ferry_codecs::ical::parse_object(b, 1)), (Ok(x), Ok(y)) if x == y),
        // servers rewrite cards (3.0 types, parameters): compare what they keep
        Kind::Card => match (ferry_codecs::vcard::parse_card(a, 1), ferry_codecs::vcard::parse_card(b, 1)) {
            (Ok(x), Ok(y)) => {
                let key = |c: &ferry_core::model::Contact| {
                    let values = |v: &[ferry_core::model::TypedValue]| v.iter().map(|t| t.value.clone()).collect::<Vec<_>>();
                    (
                        c.uid.clone(),
                        c.formatted_name.clone(),
                        c.name.clone(),
                        values(&c.emails),
                        values(&c.phones),
                        c.organization.clone(),
                        c.birthday.clone(),
                    )
                };
                key(&x) == key(&y)
            }
            _ => false,
        },
    }
}

/// Inserts `UID:` before the card's END line.
fn add_uid(card: &[u8], uid: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(card);
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    match text.rfind("END:VCARD") {
        Some(i) => format!("{}UID:{uid}{eol}{}", &text[..i], &text[i..]).into_bytes(),
        None => card.to_vec(),
    }
}
