use super::discovery::{self, Collection};
use super::{DavConfig, Kind};
use crate::http::Http;
use crate::{Settings, dav};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::ical::parse_object;
use ferry_codecs::vcard::parse_card;
use ferry_core::{ConnectorError, Exporter, Item, ItemError, Original, Page, PageStream, Record, Stream, Vertical};
use quick_xml::escape::escape;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Resources fetched per multiget REPORT.
const BATCH: usize = 50;

pub struct DavExporter {
    cfg: Arc<DavConfig>,
    http: Http,
    capabilities: &'static ferry_core::Capabilities,
}

impl DavExporter {
    pub fn new(cfg: DavConfig, settings: &Settings, capabilities: &'static ferry_core::Capabilities) -> Result<Self, ConnectorError> {
        let http = Http::new(settings, &cfg.user)?;
        Ok(DavExporter { cfg: Arc::new(cfg), http, capabilities })
    }
}

#[async_trait]
impl Exporter for DavExporter {
    /// The collections are read in one pass: a calendar's events and tasks together.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("collections", verticals, self.capabilities.exports))
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.open(stream, cursor, HashMap::new()).await
    }

    /// With sync-collection (RFC 6578): per collection, only the resources changed since
    /// the token saved by the last complete export. A collection without a saved token,
    /// or whose token the server no longer accepts, is listed whole.
    async fn changes(&self, stream: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        let tokens = serde_json::from_str(&since).unwrap_or_default();
        self.open(stream, cursor, tokens).await
    }
}

impl DavExporter {
    async fn open(
        &self,
        stream: &Stream,
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
            verticals: stream.verticals.clone(),
            collections,
            index: c,
            done,
            listing: None,
            since,
            tokens: BTreeMap::new(),
        }))
    }
}

struct Pages {
    cfg: Arc<DavConfig>,
    http: Http,
    /// The verticals asked for: what else a collection holds is passed over.
    verticals: Vec<Vertical>,
    collections: Vec<Collection>,
    index: usize,
    done: usize,
    listing: Option<Vec<(String, String)>>,
    /// Per collection path, the sync token to list changes from.
    since: HashMap<String, String>,
    /// Per collection path, the token that describes what this export listed.
    tokens: BTreeMap<String, String>,
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
            let end = (self.done + BATCH).min(listing.len());
            let batch = listing[self.done..end].to_vec();
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
    /// A collection's resources (path, ETag): the changes since its saved token, or all
    /// of them (also when the server no longer knows the token). Records the collection's
    /// current token either way.
    async fn list(&mut self, col: &Collection) -> Result<Vec<(String, String)>, ConnectorError> {
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
        let responses = dav::request(&self.http, "REPORT", &self.cfg.url(&col.path), Some(1), &body).await?.unwrap_or_default();
        let mut out = Vec::new();
        for r in responses {
            let path = discovery::href_path(&r.href);
            // a resource that cannot be read counts with the first vertical asked
            let err = |reason: String| ItemError {
                skipped: false,
                vertical: self.verticals[0],
                id: path.clone(),
                location: self.cfg.url(&path),
                reason,
            };
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
                attachments: vec![],
                references: vec![],
                source_warnings: vec![],
            });
            match item {
                Ok(i) if !self.verticals.contains(&i.vertical()) => {}
                other => out.push(other),
            }
        }
        Ok(out)
    }
}
