use super::client::Remote;
use super::config::segment;
use super::sign::CONTENT_SHA256;
use super::wire::{Batch, BatchResult, BatchResults, Finish, PutItem, PutResult, WireAttachment, WireContent, WireItem};
use async_trait::async_trait;
use ferry_core::{ConnectorError, Content, Importer, Item, PutOutcome};
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Puts items into a service: each content stream first (by hash, only when the service
/// lacks it), then the item, idempotent on (source, vertical, id). A page whose items
/// carry no content goes as batches.
pub struct RemoteImporter {
    remote: Remote,
    /// The source's URI, part of every item's key.
    source: String,
    job: String,
    items: AtomicU64,
}

impl RemoteImporter {
    pub fn new(remote: Remote, source: &str, job: &str) -> Self {
        RemoteImporter { remote, source: source.to_owned(), job: job.to_owned(), items: AtomicU64::new(0) }
    }

    /// Refuses an item of a vertical the service does not import, or without an id.
    async fn check(&self, item: &Item) -> Result<(), ConnectorError> {
        if matches!(item.id.as_str(), "" | "." | "..") {
            return Err(ConnectorError::Item(format!("`{}` is not an item id the protocol can carry", item.id)));
        }
        let service = self.remote.service().await?;
        let v = item.vertical();
        if !service.imports.iter().any(|i| i == v.as_str()) {
            let name = if service.name.is_empty() { "the service" } else { service.name.as_str() };
            return Err(ConnectorError::Item(format!("{name} does not import {v}")));
        }
        Ok(())
    }

    /// Uploads a content stream unless the service holds it; its reference.
    async fn upload(&self, c: &Content) -> Result<WireContent, ConnectorError> {
        let (sha, size) = match (&c.sha256, c.size) {
            (Some(s), Some(n)) => (s.clone(), n),
            // the hash names the upload: read the bytes once to learn it
            _ => {
                let mut r = c.open_verified().await.map_err(|e| ConnectorError::from_io("reading content", e))?;
                tokio::io::copy(&mut r, &mut tokio::io::sink()).await.map_err(|e| ConnectorError::from_io("reading content", e))?;
                r.finish().ok_or_else(|| ConnectorError::transient("reading content: it ended early"))?
            }
        };
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ConnectorError::Item(format!("content hash `{sha}` is not a SHA-256")));
        }
        let sha = sha.to_ascii_lowercase();
        if let Some(max) = self.remote.service().await?.content_max_bytes
            && size > max
        {
            return Err(ConnectorError::Item(format!("{size} bytes: larger than the service takes ({max} bytes)")));
        }
        let url = self.remote.cfg.url(&format!("content/{sha}"));
        let head = self.remote.http.send(&format!("checking {url}"), &|| self.remote.http.request("HEAD", &url)).await?;
        if !head.status().is_success() {
            if head.status().as_u16() != 404 {
                return Err(super::client::error(&format!("checking {url}"), head).await.0);
            }
            let make = || -> crate::http::MakeRequest<'_> {
                Box::pin(async {
                    let reader = c.open_verified().await.map_err(|e| ConnectorError::from_io("reading content", e))?;
                    let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).map(|r| r.map_err(std::io::Error::other));
                    Ok(self
                        .remote
                        .http
                        .request("PUT", &url)
                        .header(reqwest::header::CONTENT_LENGTH, size)
                        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                        .header(CONTENT_SHA256, sha.as_str())
                        .body(reqwest::Body::wrap_stream(stream)))
                })
            };
            let what = format!("uploading {url}");
            let resp = self.remote.http.send_with(&what, &make).await?;
            if !resp.status().is_success() {
                return Err(super::client::error(&what, resp).await.0);
            }
        }
        Ok(WireContent::of(c, sha, size))
    }

    async fn wire(&self, item: &Item) -> Result<PutItem, ConnectorError> {
        let content = match &item.content {
            Some(c) => Some(self.upload(c).await?),
            None => None,
        };
        let mut attachments = Vec::new();
        for a in &item.attachments {
            attachments.push(WireAttachment { name: a.name.clone(), content: self.upload(&a.content).await? });
        }
        Ok(PutItem { source: self.source.clone(), item: WireItem::from_item(item, content, attachments) })
    }
}

/// How many items of a batch were sent (the others failed before).
fn sent_count(results: &[Option<Result<PutOutcome, ConnectorError>>]) -> usize {
    results.iter().filter(|r| r.is_none()).count()
}

fn outcome(r: PutResult, item: &Item) -> PutOutcome {
    PutOutcome { dest_id: r.dest_id, created: r.created, warnings: r.warnings, sha256: item.known_sha256() }
}

#[async_trait]
impl Importer for RemoteImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        self.check(item).await?;
        // sizes first: nothing is uploaded for an item the service cannot take whole
        if let Some(max) = self.remote.service().await?.content_max_bytes {
            for c in item.content.iter().chain(item.attachments.iter().map(|a| &a.content)) {
                if c.size.is_some_and(|n| n > max) {
                    return Err(ConnectorError::Item(format!(
                        "{} bytes: larger than the service takes ({max} bytes)",
                        c.size.unwrap_or(0)
                    )));
                }
            }
        }
        let body = self.wire(item).await?;
        let rel = format!("items/{}/{}", segment(item.vertical().as_str()), segment(&item.id));
        let r: PutResult = self.remote.send_json("putting an item", "PUT", &rel, &body).await?;
        self.items.fetch_add(1, Ordering::Relaxed);
        Ok(outcome(r, item))
    }

    /// A page without content streams goes as batches of the service's `batch_max`.
    async fn put_page(&self, items: &[&Item]) -> Option<Vec<Result<PutOutcome, ConnectorError>>> {
        let max = self.remote.service().await.ok()?.batch_max as usize;
        if max < 2 || items.iter().any(|i| i.content.is_some() || !i.attachments.is_empty()) {
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(max) {
            let mut sent = Vec::new();
            let mut results: Vec<Option<Result<PutOutcome, ConnectorError>>> = Vec::new();
            for item in chunk {
                match self.check(item).await {
                    Ok(()) => {
                        sent.push(PutItem { source: self.source.clone(), item: WireItem::from_item(item, None, vec![]) });
                        results.push(None);
                    }
                    Err(e) => results.push(Some(Err(e))),
                }
            }
            let answer = match sent.is_empty() {
                true => Ok(BatchResults { results: vec![] }),
                false => self.remote.send_json::<BatchResults>("putting a batch", "POST", "batch", &Batch { items: sent }).await,
            };
            let mut answers = match answer {
                Ok(r) if r.results.len() == sent_count(&results) => r.results.into_iter(),
                Ok(r) => {
                    let e = format!("putting a batch: the service answered {} results for {} items", r.results.len(), sent_count(&results));
                    out.extend(chunk.iter().map(|_| Err(ConnectorError::Fatal(e.clone()))));
                    continue;
                }
                // the engine retries a transient failure item by item with `put`
                Err(e) => {
                    out.extend(chunk.iter().map(|_| Err(e.clone())));
                    continue;
                }
            };
            for (item, r) in chunk.iter().zip(results) {
                out.push(match r {
                    Some(failed) => failed,
                    None => match answers.next() {
                        Some(BatchResult::Put(p)) => {
                            self.items.fetch_add(1, Ordering::Relaxed);
                            Ok(outcome(p, item))
                        }
                        Some(BatchResult::Failed(f)) => {
                            let msg = format!("{} ({})", f.error.message, f.error.code);
                            let wait = f.error.retry_after.map(|s| std::time::Duration::from_secs(s.min(86_400)));
                            Err(super::client::map_code(&f.error, msg.clone(), wait).unwrap_or(ConnectorError::Item(msg)))
                        }
                        None => Err(ConnectorError::Fatal("putting a batch: too few results".into())),
                    },
                });
            }
        }
        Some(out)
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        let body = Finish { job: self.job.clone(), items: self.items.load(Ordering::Relaxed) };
        // the answer's body means nothing: only its status
        self.remote.send("finishing", "POST", "finish", &body).await.map(drop)
    }
}
