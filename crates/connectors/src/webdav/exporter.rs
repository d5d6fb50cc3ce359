use super::config::WebDavConfig;
use crate::http::{Http, status_error};
use crate::{Settings, dav};
use async_trait::async_trait;
use ferry_codecs::media::{file_media_type, media_type};
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::model::{FileEntry, MediaItem};
use ferry_core::{ConnectorError, Content, Exporter, Item, ItemError, Page, PageStream, Record, Stream, Vertical};
use futures::TryStreamExt;
use std::sync::Arc;

pub struct WebDavExporter {
    cfg: Arc<WebDavConfig>,
    http: Http,
}

impl WebDavExporter {
    pub fn new(cfg: WebDavConfig, settings: &Settings) -> Result<Self, ConnectorError> {
        let http = Http::new(settings, &cfg.user)?;
        Ok(WebDavExporter { cfg: Arc::new(cfg), http })
    }
}

#[async_trait]
impl Exporter for WebDavExporter {
    /// The tree is walked once, for media and files.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::one("tree", verticals, super::CAPABILITIES.exports))
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let root = dav::propfind(&self.http, &self.cfg.url(""), 0).await?;
        if root.is_none() {
            return Err(ConnectorError::Fatal(format!("webdav: {} does not exist", self.cfg.url(""))));
        }
        let skip: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok(Box::new(Walk {
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            verticals: stream.verticals.clone(),
            pending: vec![String::new()],
            files: Vec::new(),
            handed: 0,
            skip,
        }))
    }
}

/// Walks the tree depth-first, one PROPFIND (Depth 1) per folder, in name order, so that
/// the same tree always gives the same sequence; the cursor counts items handed out.
struct Walk {
    cfg: Arc<WebDavConfig>,
    http: Http,
    /// The verticals asked for: media, files or both.
    verticals: Vec<Vertical>,
    /// Folders still to list, relative to the root (`a/b/`).
    pending: Vec<String>,
    /// Files of the folder being handed out.
    files: Vec<Result<Item, ItemError>>,
    handed: usize,
    skip: usize,
}

const PAGE: usize = 200;

#[async_trait]
impl PageStream for Walk {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            if !self.files.is_empty() {
                let n = PAGE.min(self.files.len());
                let items: Vec<_> = self.files.drain(..n).collect();
                let mut out = Vec::new();
                for i in items {
                    self.handed += 1;
                    if self.handed > self.skip {
                        out.push(i);
                    }
                }
                if out.is_empty() {
                    continue;
                }
                return Ok(Some(Page { items: out, cursor: Some(self.handed.to_string()) }));
            }
            let Some(dir) = self.pending.pop() else { return Ok(None) };
            self.list(&dir).await?;
        }
    }
}

impl Walk {
    async fn list(&mut self, dir: &str) -> Result<(), ConnectorError> {
        let url = self.cfg.url(dir);
        let entries = dav::propfind(&self.http, &url, 1).await?.unwrap_or_default();
        let here = format!("{}{dir}", self.cfg.base);
        let mut subdirs = Vec::new();
        let mut files = Vec::new();
        // what the server listed wrongly is counted with the files (if asked)
        let vertical = if self.verticals.contains(&Vertical::Files) { Vertical::Files } else { Vertical::Media };
        for e in entries {
            let path = dav::href_path(&e.path);
            let trimmed = path.trim_end_matches('/');
            if trimmed == here.trim_end_matches('/') {
                continue;
            }
            let Some(name) = trimmed.strip_prefix(&here).filter(|n| !n.is_empty() && !n.contains('/')) else {
                files.push(Err(ItemError {
                    skipped: false,
                    vertical,
                    id: path.clone(),
                    location: url.clone(),
                    reason: format!("the server listed `{path}`, which is not inside {here}; ignored (a hostile or broken server?)"),
                }));
                continue;
            };
            if name == "." || name == ".." || name.contains('\0') {
                files.push(Err(ItemError {
                    skipped: false,
                    vertical,
                    id: path.clone(),
                    location: url.clone(),
                    reason: format!("unsafe name `{name}` from the server; ignored"),
                }));
                continue;
            }
            if e.collection {
                subdirs.push(format!("{dir}{name}/"));
            } else {
                files.push(Ok((name.to_owned(), e)));
            }
        }
        subdirs.sort();
        // pop() takes from the end: push in reverse for name order
        self.pending.extend(subdirs.into_iter().rev());
        let mut items: Vec<Result<Item, ItemError>> = Vec::new();
        let mut named: Vec<(String, dav::Entry)> = Vec::new();
        for f in files {
            match f {
                Ok(x) => named.push(x),
                Err(e) => items.push(Err(e)),
            }
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, e) in named {
            let is_media = media_type(&name).is_some();
            let v = if is_media { Vertical::Media } else { Vertical::Files };
            if !self.verticals.contains(&v) {
                continue;
            }
            let rel = format!("{dir}{name}");
            let container = crate::dir::layout::container_dirs(std::path::Path::new(&rel), v).join("/");
            let modified =
                e.modified.as_deref().and_then(|m| chrono::DateTime::parse_from_rfc2822(m).ok()).map(|d| d.with_timezone(&chrono::Utc));
            let record = if is_media {
                Record::Media(MediaItem { file_name: name.clone(), ..Default::default() })
            } else {
                Record::File(FileEntry { name: name.clone(), modified, mode: None })
            };
            items.push(Ok(Item {
                id: rel.clone(),
                container,
                version: e.etag.clone().unwrap_or_else(|| format!("{}-{}", e.size.unwrap_or(0), e.modified.clone().unwrap_or_default())),
                record,
                original: None,
                content: Some(Content {
                    media_type: media_type(&name).unwrap_or(file_media_type(&name)).to_owned(),
                    size: e.size,
                    sha256: None,
                    source: Arc::new(Get { http: self.http.clone(), url: self.cfg.url(&rel) }),
                }),
                standard: None,
                attachments: vec![],
                references: vec![],
                source_warnings: vec![],
            }));
        }
        self.files.extend(items);
        Ok(())
    }
}

/// A file on the server, streamed when read.
struct Get {
    http: Http,
    url: String,
}

#[async_trait]
impl ContentSource for Get {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let what = format!("reading {}", self.url);
        let resp = self.http.send(&what, &|| self.http.request("GET", &self.url)).await.map_err(as_io)?;
        if !resp.status().is_success() {
            return Err(as_io(status_error(&format!("reading {}", self.url), &resp)));
        }
        // a connection lost mid-body is worth another try
        let stream = resp.bytes_stream().map_err(|e| std::io::Error::new(std::io::ErrorKind::Interrupted, e));
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }
}

/// Carries whether an error is worth retrying through `io::Error`: transient ones become
/// `Interrupted`, which importers map back to a retry.
fn as_io(e: ConnectorError) -> std::io::Error {
    let kind = if e.is_transient() { std::io::ErrorKind::Interrupted } else { std::io::ErrorKind::Other };
    std::io::Error::new(kind, e.to_string())
}
