use super::config::WebDavConfig;
use crate::http::{client, request_error, status_error};
use crate::{Settings, dav};
use async_trait::async_trait;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record, Vertical};
use ferry_package::layout::{safe_container, safe_segment};
use futures::StreamExt;
use std::collections::HashSet;
use tokio::sync::Mutex;

/// Writes files under `<root>/media/<album>/` and `<root>/files/<folder>/`. A file that
/// is already there with the same size and time is left alone; otherwise PUT replaces it,
/// so a repeated or resumed job leaves one copy.
pub struct WebDavImporter {
    cfg: WebDavConfig,
    http: reqwest::Client,
    made: Mutex<HashSet<String>>,
}

impl WebDavImporter {
    pub fn new(cfg: WebDavConfig, settings: &Settings) -> Result<Self, ConnectorError> {
        Ok(WebDavImporter { cfg, http: client(settings)?, made: Mutex::new(HashSet::new()) })
    }

    /// Makes every missing folder of `dir` (relative to the root, ending with `/`), the
    /// root's own folders included.
    async fn mkcols(&self, dir: &str) -> Result<(), ConnectorError> {
        let mut path = String::from("/");
        let full = format!("{}{dir}", self.cfg.base);
        // one MKCOL at a time: servers lock a folder while they make it
        let mut made = self.made.lock().await;
        for seg in full.split('/').filter(|s| !s.is_empty()) {
            path.push_str(seg);
            path.push('/');
            if made.contains(&path) {
                continue;
            }
            let url = format!("{}{}", self.cfg.origin, dav::percent_encode_path(&path));
            let resp = self
                .http
                .request(reqwest::Method::from_bytes(b"MKCOL").expect("valid"), &url)
                .basic_auth(&self.cfg.user, Some(&self.cfg.password))
                .send()
                .await
                .map_err(|e| request_error(&format!("creating {url}"), e))?;
            // 405: it exists already
            if !(resp.status().is_success() || resp.status().as_u16() == 405) {
                return Err(status_error(&format!("creating {url}"), &resp));
            }
            made.insert(path.clone());
        }
        Ok(())
    }
}

impl WebDavImporter {
    /// Whether the file at `url` holds exactly the content's bytes (both are hashed).
    async fn same_bytes(&self, url: &str, content: &ferry_core::Content) -> Result<bool, ConnectorError> {
        use sha2::Digest;
        let resp = self
            .http
            .get(url)
            .basic_auth(&self.cfg.user, Some(&self.cfg.password))
            .send()
            .await
            .map_err(|e| request_error(&format!("reading {url}"), e))?;
        if !resp.status().is_success() {
            return Ok(false);
        }
        let mut remote = sha2::Sha256::new();
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            remote.update(&chunk.map_err(|e| request_error(&format!("reading {url}"), e))?);
        }
        let remote = hex::encode(remote.finalize());
        let local = match &content.sha256 {
            Some(s) => s.clone(),
            None => {
                let mut r = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading content", e))?;
                tokio::io::copy(&mut r, &mut tokio::io::sink()).await.map_err(|e| ConnectorError::from_io("reading content", e))?;
                r.finish().map(|(s, _)| s).unwrap_or_default()
            }
        };
        Ok(remote == local)
    }
}

#[async_trait]
impl Importer for WebDavImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let v = item.vertical();
        let (name, modified) = match &item.record {
            Record::Media(m) => (m.file_name.clone(), None),
            Record::File(f) => (f.name.clone(), f.modified),
            _ => return Err(ConnectorError::Item(format!("{v} items cannot go to a WebDAV folder"))),
        };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("no content".into()))?;
        let top = if v == Vertical::Media { "media" } else { "files" };
        let dir = if item.container.is_empty() { format!("{top}/") } else { format!("{top}/{}/", safe_container(&item.container)) };
        let rel = format!("{dir}{}", safe_segment(&name));
        let url = self.cfg.url(&rel);
        // already there, same size (and time, where both know it)?
        if let Some(entries) = dav::propfind(&self.http, &url, 0, &self.cfg.auth()).await?
            && let Some(e) = entries.first()
            && e.size.is_some()
            && e.size == content.size
        {
            let same_time = match (modified, e.modified.as_deref().and_then(|m| chrono::DateTime::parse_from_rfc2822(m).ok())) {
                (Some(a), Some(b)) => (a.timestamp() - b.timestamp()).abs() <= 1,
                _ => false,
            };
            // a server that does not keep times: compare the bytes themselves
            if same_time || self.same_bytes(&url, content).await? {
                return Ok(PutOutcome { dest_id: rel, created: false, warnings: vec![], sha256: content.sha256.clone() });
            }
        }
        self.mkcols(&dir).await?;
        let reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading content", e))?;
        let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).map(|r| r.map_err(std::io::Error::other));
        let mut req = self.http.put(&url).basic_auth(&self.cfg.user, Some(&self.cfg.password)).body(reqwest::Body::wrap_stream(stream));
        if let Some(size) = content.size {
            req = req.header(reqwest::header::CONTENT_LENGTH, size);
        }
        req = req.header(reqwest::header::CONTENT_TYPE, content.media_type.as_str());
        if let Some(t) = modified {
            // ownCloud, Nextcloud and rclone set the modification time from this
            req = req.header("X-OC-Mtime", t.timestamp().to_string());
        }
        let resp = req.send().await.map_err(|e| request_error(&format!("writing {url}"), e))?;
        if !resp.status().is_success() {
            return Err(status_error(&format!("writing {url}"), &resp));
        }
        let mut warnings = Vec::new();
        if let Record::Media(m) = &item.record
            && (m.title.is_some() || m.description.is_some())
        {
            warnings.push("title and description not kept: a WebDAV folder has no place for them".to_owned());
        }
        Ok(PutOutcome { dest_id: rel, created: true, warnings, sha256: content.sha256.clone() })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
