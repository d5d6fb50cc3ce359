use super::discovery::{self, Collection};
use super::{DavConfig, Kind};
use crate::http::client;
use crate::{Settings, dav};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::ical::parse_object;
use ferry_codecs::vcard::parse_card;
use ferry_core::{ConnectorError, Exporter, Item, ItemError, Original, Page, PageStream, Record, Vertical};
use quick_xml::escape::escape;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Resources fetched per multiget REPORT.
const BATCH: usize = 50;

pub struct DavExporter {
    cfg: Arc<DavConfig>,
    http: reqwest::Client,
    /// What earlier passes of this export read: resource path -> (ETag, vertical).
    seen: Seen,
    /// Listings made by an earlier pass, for the next one.
    listings: Listings,
}

/// A calendar collection is read once per vertical (calendar, then tasks), and each pass
/// gets every resource; what an earlier pass found to be of another vertical, with the
/// same ETag, is not fetched again.
type Seen = Arc<Mutex<HashMap<String, (String, Vertical)>>>;

/// A calendar collection's listing and its sync token, made by the calendar pass and used
/// once more by the tasks pass instead of a second listing request. Keyed by the
/// collection's path and the token the pass lists changes from.
type Listings = Arc<Mutex<HashMap<(String, Option<String>), Listing>>>;

struct Listing {
    resources: Vec<(String, String)>,
    token: Option<String>,
}

impl DavExporter {
    pub fn new(cfg: DavConfig, settings: &Settings) -> Result<Self, ConnectorError> {
        Ok(DavExporter { cfg: Arc::new(cfg), http: client(settings)?, seen: Seen::default(), listings: Listings::default() })
    }
}

/// Whether a listed resource is known to hold another vertical than `vertical`: read by
/// an earlier pass, unchanged since (same, non-empty ETag).
fn other_vertical(seen: &HashMap<String, (String, Vertical)>, path: &str, etag: &str, vertical: Vertical) -> bool {
    matches!(seen.get(path), Some((e, v)) if !etag.is_empty() && e == etag && *v != vertical)
}

#[async_trait]
impl Exporter for DavExporter {
    async fn pages(&self, vertical: Vertical, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.open(vertical, cursor, HashMap::new()).await
    }

    /// With sync-collection (RFC 6578): per collection, only the resources changed since
    /// the token saved by the last complete export. A collection without a saved token,
    /// or whose token the server no longer accepts, is listed whole.
    async fn changes(&self, vertical: Vertical, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        let tokens = serde_json::from_str(&since).unwrap_or_default();
        self.open(vertical, cursor, tokens).await
    }
}

impl DavExporter {
    async fn open(
        &self,
        vertical: Vertical,
        cursor: Option<String>,
        since: HashMap<String, String>,
    ) -> Result<Box<dyn PageStream>, ConnectorError> {
        let home = discovery::home(&self.http, &self.cfg).await?;
        let collections = discovery::collections(&self.http, &self.cfg, &home).await?;
        // cursor: "<collection index>:<resources done in it>"
        let (c, done) = cursor
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .unwrap_or((0usize, 0usize));
        Ok(Box::new(Pages {
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            vertical,
            collections,
            index: c,
            done,
            listing: None,
            since,
            tokens: BTreeMap::new(),
            seen: self.seen.clone(),
            listings: self.listings.clone(),
        }))
    }
}

struct Pages {
    cfg: Arc<DavConfig>,
    http: reqwest::Client,
    vertical: Vertical,
    collections: Vec<Collection>,
    index: usize,
    done: usize,
    listing: Option<Vec<(String, String)>>,
    /// Per collection path, the sync token to list changes from.
    since: HashMap<String, String>,
    /// Per collection path, the token that describes what this export listed.
    tokens: BTreeMap<String, String>,
    seen: Seen,
    listings: Listings,
}

#[async_trait]
impl PageStream for Pages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            let Some(col) = self.collections.get(self.index).cloned() else { return Ok(None) };
            if self.listing.is_none() {
                self.listing = Some(self.list(&col).await?);
            }
            let listing = self.listing.as_ref().expect("listed");
            if self.done >= listing.len() {
                self.index += 1;
                self.done = 0;
                self.listing = None;
                continue;
            }
            // the next BATCH resources, passing over those known to be of another vertical;
            // the cursor counts them as done (a resumed run without this knowledge reads
            // from the cursor on, and those before it are of another vertical)
            let (mut batch, mut end) = (Vec::with_capacity(BATCH), self.done);
            {
                let seen = self.seen.lock().expect("not poisoned");
                while end < listing.len() && batch.len() < BATCH {
                    let (path, etag) = &listing[end];
                    if !other_vertical(&seen, path, etag, self.vertical) {
                        batch.push(listing[end].clone());
                    }
                    end += 1;
                }
            }
            if batch.is_empty() {
                self.done = end;
                continue;
            }
            let items = self.fetch(&col, &batch).await?;
            self.done = end;
            return Ok(Some(Page { items, cursor: Some(format!("{}:{}", self.index, self.done)) }));
        }
    }

    fn sync_state(&self) -> Option<String> {
        (!self.tokens.is_empty()).then(|| serde_json::to_string(&self.tokens).expect("strings"))
    }
}

impl Pages {
    /// A collection's resources (path, ETag) and its token: for a calendar, the listing an
    /// earlier pass of this export made, if there is one (taken: a third pass lists
    /// again); else from the server.
    async fn list(&mut self, col: &Collection) -> Result<Vec<(String, String)>, ConnectorError> {
        if self.cfg.kind != Kind::Cal {
            return self.list_from_server(col).await;
        }
        let key = (col.path.clone(), self.since.get(&col.path).cloned());
        let earlier = self.listings.lock().expect("not poisoned").remove(&key);
        if let Some(l) = earlier {
            if let Some(t) = l.token {
                self.tokens.insert(col.path.clone(), t);
            }
            return Ok(l.resources);
        }
        let resources = self.list_from_server(col).await?;
        let token = self.tokens.get(&col.path).cloned();
        self.listings.lock().expect("not poisoned").insert(key, Listing { resources: resources.clone(), token });
        Ok(resources)
    }

    /// A collection's resources (path, ETag): the changes since its saved token, or all
    /// of them (also when the server no longer knows the token). Records the collection's
    /// current token either way.
    async fn list_from_server(&mut self, col: &Collection) -> Result<Vec<(String, String)>, ConnectorError> {
        if let Some(token) = self.since.get(&col.path).filter(|t| !t.is_empty())
            && let Some((changed, next)) = discovery::sync_collection(&self.http, &self.cfg, &col.path, token).await?
        {
            self.tokens.insert(col.path.clone(), next);
            return Ok(changed);
        }
        let (all, token) = discovery::listing(&self.http, &self.cfg, &col.path).await?;
        if let Some(t) = token {
            self.tokens.insert(col.path.clone(), t);
        }
        Ok(all)
    }

    async fn fetch(&self, col: &Collection, batch: &[(String, String)]) -> Result<Vec<Result<Item, ItemError>>, ConnectorError> {
        let kind = self.cfg.kind;
        let hrefs: String = batch.iter().map(|(p, _)| format!("<d:href>{}</d:href>", escape(dav::percent_encode_path(p)))).collect();
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><x:{m} xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><d:getetag/><x:{data}/></d:prop>{hrefs}</x:{m}>"#,
            m = kind.multiget(),
            ns = kind.namespace(),
            data = kind.data()
        );
        let responses =
            dav::request(&self.http, "REPORT", &self.cfg.url(&col.path), Some(1), &body, &self.cfg.auth()).await?.unwrap_or_default();
        let listed: HashMap<&str, &str> = batch.iter().map(|(p, e)| (p.as_str(), e.as_str())).collect();
        let mut out = Vec::new();
        for r in responses {
            let path = discovery::href_path(&r.href);
            let err = |reason: String| ItemError { id: path.clone(), location: self.cfg.url(&path), reason };
            let Some(data) = r.text(kind.data()) else {
                out.push(Err(err("the server sent no data for this resource".into())));
                continue;
            };
            let bytes = data.as_bytes().to_vec();
            let etag = r.text("getetag").map(|e| e.trim().to_owned()).unwrap_or_else(|| ferry_core::content::sha256_hex(&bytes));
            let record = match kind {
                Kind::Cal => parse_object(&bytes, 1).map_err(|e| err(e.to_string())),
                Kind::Card => parse_card(&bytes, 1).map(Record::Contact).map_err(|e| err(e.to_string())),
            };
            let item = record.map(|record| Item {
                id: path.clone(),
                container: col.name.clone(),
                version: etag,
                original: Some(Original {
                    media_type: if kind == Kind::Cal { "text/calendar" } else { "text/vcard" }.into(),
                    bytes: Bytes::from(bytes),
                }),
                record,
                content: None,
                standard: None,
            });
            if let (Ok(i), Some(etag)) = (&item, listed.get(path.as_str()))
                && !etag.is_empty()
            {
                self.seen.lock().expect("not poisoned").insert(path.clone(), ((*etag).to_owned(), i.vertical()));
            }
            match item {
                Ok(i) if i.vertical() != self.vertical => {}
                other => out.push(other),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_over_only_unchanged_resources_of_another_vertical() {
        let mut seen = HashMap::new();
        seen.insert("/c/a.ics".to_owned(), ("\"1\"".to_owned(), Vertical::Calendar));
        seen.insert("/c/t.ics".to_owned(), ("\"2\"".to_owned(), Vertical::Tasks));
        assert!(other_vertical(&seen, "/c/a.ics", "\"1\"", Vertical::Tasks));
        assert!(!other_vertical(&seen, "/c/a.ics", "\"1\"", Vertical::Calendar), "same vertical: read it");
        assert!(!other_vertical(&seen, "/c/a.ics", "\"9\"", Vertical::Tasks), "changed since: read it");
        assert!(!other_vertical(&seen, "/c/a.ics", "", Vertical::Tasks), "no ETag: read it");
        assert!(!other_vertical(&seen, "/c/t.ics", "\"2\"", Vertical::Tasks));
        assert!(other_vertical(&seen, "/c/t.ics", "\"2\"", Vertical::Calendar));
        assert!(!other_vertical(&seen, "/c/new.ics", "\"3\"", Vertical::Tasks), "not read yet");
    }
}
