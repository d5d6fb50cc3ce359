use super::discovery::{self, Collection};
use super::{DavConfig, Kind};
use crate::http::client;
use crate::{Settings, dav};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_codecs::ical::parse_object;
use ferry_codecs::vcard::parse_card;
use ferry_core::{ConnectorError, Exporter, Item, ItemError, Original, Page, PageStream, Record, Vertical};
use std::sync::Arc;

/// Resources fetched per multiget REPORT.
const BATCH: usize = 50;

pub struct DavExporter {
    cfg: Arc<DavConfig>,
    http: reqwest::Client,
}

impl DavExporter {
    pub fn new(cfg: DavConfig, settings: &Settings) -> Result<Self, ConnectorError> {
        Ok(DavExporter { cfg: Arc::new(cfg), http: client(settings)? })
    }
}

#[async_trait]
impl Exporter for DavExporter {
    async fn pages(&self, vertical: Vertical, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let home = discovery::home(&self.http, &self.cfg).await?;
        let collections = discovery::collections(&self.http, &self.cfg, &home).await?;
        // cursor: "<collection index>:<resources done in it>"
        let (c, done) = cursor.as_deref().and_then(|c| c.split_once(':')).and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))).unwrap_or((0usize, 0usize));
        Ok(Box::new(Pages { cfg: self.cfg.clone(), http: self.http.clone(), vertical, collections, index: c, done, listing: None }))
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
}

#[async_trait]
impl PageStream for Pages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            let Some(col) = self.collections.get(self.index).cloned() else { return Ok(None) };
            if self.listing.is_none() {
                self.listing = Some(discovery::resources(&self.http, &self.cfg, &col.path).await?);
            }
            let listing = self.listing.as_ref().expect("listed");
            if self.done >= listing.len() {
                self.index += 1;
                self.done = 0;
                self.listing = None;
                continue;
            }
            let batch: Vec<(String, String)> = listing[self.done..(self.done + BATCH).min(listing.len())].to_vec();
            let items = self.fetch(&col, &batch).await?;
            self.done += batch.len();
            return Ok(Some(Page { items, cursor: Some(format!("{}:{}", self.index, self.done)) }));
        }
    }
}

impl Pages {
    async fn fetch(&self, col: &Collection, batch: &[(String, String)]) -> Result<Vec<Result<Item, ItemError>>, ConnectorError> {
        let kind = self.cfg.kind;
        let hrefs: String = batch.iter().map(|(p, _)| format!("<d:href>{}</d:href>", xml_escape(&dav::percent_encode_path(p)))).collect();
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><x:{m} xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><d:getetag/><x:{data}/></d:prop>{hrefs}</x:{m}>"#,
            m = kind.multiget(),
            ns = kind.namespace(),
            data = kind.data()
        );
        let responses = dav::request(&self.http, "REPORT", &self.cfg.url(&col.path), Some(1), &body, &self.cfg.auth()).await?.unwrap_or_default();
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
            let item = record.and_then(|record| {
                Ok(Item {
                    id: path.clone(),
                    container: col.name.clone(),
                    version: etag,
                    original: Some(Original { media_type: if kind == Kind::Cal { "text/calendar" } else { "text/vcard" }.into(), bytes: Bytes::from(bytes) }),
                    record,
                    content: None,
                })
            });
            match item {
                Ok(i) if i.vertical() != self.vertical => {}
                other => out.push(other),
            }
        }
        Ok(out)
    }
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
