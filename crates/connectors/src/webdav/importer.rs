use super::config::WebDavConfig;
use crate::http::{Http, request_error, status_error};
use crate::{Settings, dav};
use async_trait::async_trait;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record};
use futures::StreamExt;
use sha2::Digest;
use std::collections::{HashMap, HashSet};
use tokio::sync::Mutex;

/// Writes files under `<root>/media/<album>/` and `<root>/files/<folder>/`, under their
/// own names (percent-encoded in the URL; only what a WebDAV name cannot hold is
/// replaced, with a warning). A file that is already there with the same size and time
/// is left alone; otherwise PUT replaces it, so a repeated or resumed job leaves one copy.
/// Two items of one run that end with the same name are told apart as the dir connector
/// does: the second gets a short hash of its id (`x (1a2b3c4d).txt`).
pub struct WebDavImporter {
    cfg: WebDavConfig,
    http: Http,
    made: Mutex<HashSet<String>>,
    /// Paths written or found in this run: path -> the item's id.
    claimed: std::sync::Mutex<HashMap<String, String>>,
}

/// A file or folder name as WebDAV keeps it: `/` and NUL cannot be part of a path
/// segment, and `.`, `..` and the empty name are not names.
fn dav_segment(s: &str) -> String {
    let out: String = s.chars().map(|c| if c == '/' || c == '\0' { '_' } else { c }).collect();
    if out.is_empty() || out == "." || out == ".." { "_".into() } else { out }
}

/// A container's folders, each a kept name.
fn dav_container(container: &str) -> String {
    let segs: Vec<String> = container.split('/').filter(|s| !s.is_empty()).map(dav_segment).collect();
    if segs.is_empty() { "default".into() } else { segs.join("/") }
}

/// The name with a short hash of the item's id, for the second of two items of one name.
fn alt_name(name: &str, id: &str) -> String {
    let tag = &hex::encode(sha2::Sha256::digest(id.as_bytes()))[..8];
    match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => format!("{s} ({tag}).{e}"),
        _ => format!("{name} ({tag})"),
    }
}

impl WebDavImporter {
    pub fn new(cfg: WebDavConfig, settings: &Settings) -> Result<Self, ConnectorError> {
        let http = Http::new(settings, &cfg.user)?;
        Ok(WebDavImporter { cfg, http, made: Mutex::new(HashSet::new()), claimed: Default::default() })
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
            let resp = self.http.send(&format!("creating {url}"), &|| self.http.request("MKCOL", &url)).await?;
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
    /// An item's attached files (a note's images), in a folder beside its file named after
    /// it (`Shopping-3f2a9c0b1d4e.attachments/`, ferry's own, as in a `dir:` folder): each
    /// written unless it is there already. Whether any was written.
    async fn put_attachments(&self, item: &Item, dir: &str, file: &str) -> Result<bool, ConnectorError> {
        if item.attachments.is_empty() {
            return Ok(false);
        }
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        let folder = format!("{dir}{}.attachments/", dav_segment(stem));
        let mut wrote = false;
        for a in &item.attachments {
            let rel = format!("{folder}{}", dav_segment(&a.name));
            if self.present(&rel, None, &a.content).await? == Some(true) {
                continue;
            }
            self.mkcols(&folder).await?;
            let url = self.cfg.url(&rel);
            let make = || -> crate::http::MakeRequest<'_> {
                Box::pin(async {
                    let reader = a.content.open_verified().await.map_err(|e| ConnectorError::from_io("reading an attached file", e))?;
                    let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).map(|r| r.map_err(std::io::Error::other));
                    let mut req = self.http.request("PUT", &url).body(reqwest::Body::wrap_stream(stream));
                    if let Some(size) = a.content.size {
                        req = req.header(reqwest::header::CONTENT_LENGTH, size);
                    }
                    Ok(req.header(reqwest::header::CONTENT_TYPE, a.content.media_type.as_str()))
                })
            };
            let resp = self.http.send_with(&format!("writing {url}"), &make).await?;
            if !resp.status().is_success() {
                return Err(status_error(&format!("writing {url}"), &resp));
            }
            wrote = true;
        }
        Ok(wrote)
    }

    /// Whether `rel` holds the content already (same size, and same time or same bytes);
    /// `None` when there is nothing there.
    async fn present(
        &self,
        rel: &str,
        modified: Option<chrono::DateTime<chrono::Utc>>,
        content: &ferry_core::Content,
    ) -> Result<Option<bool>, ConnectorError> {
        let url = self.cfg.url(rel);
        let Some(entries) = dav::propfind(&self.http, &url, 0).await? else { return Ok(None) };
        let Some(e) = entries.first() else { return Ok(None) };
        if e.size.is_none() || e.size != content.size {
            return Ok(Some(false));
        }
        let same_time = match (modified, e.modified.as_deref().and_then(|m| chrono::DateTime::parse_from_rfc2822(m).ok())) {
            (Some(a), Some(b)) => (a.timestamp() - b.timestamp()).abs() <= 1,
            _ => false,
        };
        // a server that does not keep times: compare the bytes themselves
        Ok(Some(same_time || self.same_bytes(&url, content).await?))
    }

    /// Whether the file at `url` holds exactly the content's bytes (both are hashed).
    async fn same_bytes(&self, url: &str, content: &ferry_core::Content) -> Result<bool, ConnectorError> {
        let resp = self.http.send(&format!("reading {url}"), &|| self.http.request("GET", url)).await?;
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
        let mut warnings = Vec::new();
        // a later vertical's item (a note) is its standard file (its Markdown), made here
        let standard;
        let (name, modified, content) = match &item.record {
            Record::Media(m) => (m.file_name.clone(), None, item.content.as_ref()),
            Record::File(f) => (f.name.clone(), f.modified, item.content.as_ref()),
            Record::Other(_) => {
                let def = ferry_verticals::find(v).filter(|d| d.codec.is_some() && d.standard.is_some());
                let Some((codec, form)) = def.and_then(|d| d.codec.zip(d.standard)) else {
                    return Err(ConnectorError::Item(format!("{v} items cannot go to a WebDAV folder")));
                };
                let s = match &item.standard {
                    Some(s) => s.clone(),
                    None => (codec.write)(item).map_err(ConnectorError::Item)?,
                };
                warnings.extend(s.warnings);
                standard = ferry_core::Content::from_bytes(form.media_type, s.text.into_bytes().into());
                (crate::standard_files::item_file_name(item, form.extension), None, Some(&standard))
            }
            _ => return Err(ConnectorError::Item(format!("{v} items cannot go to a WebDAV folder"))),
        };
        let content = content.ok_or_else(|| ConnectorError::Item("no content".into()))?;
        let top = v.as_str();
        let dir = if item.container.is_empty() { format!("{top}/") } else { format!("{top}/{}/", dav_container(&item.container)) };
        if !item.container.is_empty() && dav_container(&item.container) != item.container.trim_matches('/') {
            warnings.push(format!(
                "folder `{}` stored as `{}` (a WebDAV folder name cannot hold `/` or NUL)",
                item.container,
                dav_container(&item.container)
            ));
        }
        let kept = dav_segment(&name);
        if kept != name {
            warnings.push(format!("file name `{name}` stored as `{kept}` (a WebDAV name cannot hold `/` or NUL)"));
        }
        let plain = format!("{dir}{kept}");
        let alt = format!("{dir}{}", alt_name(&kept, &item.id));
        let claimed_by_other = |rel: &str| self.claimed.lock().unwrap().get(rel).is_some_and(|owner| *owner != item.id);
        // already there, under its name or (after a clash of names) under the other one?
        for rel in [&plain, &alt] {
            if *rel == plain && claimed_by_other(rel) {
                continue;
            }
            match self.present(rel, modified, content).await? {
                Some(true) => {
                    self.claimed.lock().unwrap().insert(rel.clone(), item.id.clone());
                    if *rel == alt {
                        warnings.push(format!("another file has the name `{kept}`; this one is `{}`", alt_name(&kept, &item.id)));
                    }
                    let created = self.put_attachments(item, &dir, &kept).await?;
                    return Ok(PutOutcome { dest_id: rel.clone(), created, warnings, sha256: content.sha256.clone() });
                }
                Some(false) => {}
                // nothing under the plain name: no earlier run put it under the other
                None if *rel == plain => break,
                None => {}
            }
        }
        // the plain name, unless another item of this run took it
        let rel = {
            let mut claimed = self.claimed.lock().unwrap();
            match claimed.get(&plain) {
                Some(owner) if *owner != item.id => {
                    warnings.push(format!("another file has the name `{kept}`; this one is `{}`", alt_name(&kept, &item.id)));
                    alt
                }
                _ => {
                    claimed.insert(plain.clone(), item.id.clone());
                    plain
                }
            }
        };
        let url = self.cfg.url(&rel);
        self.mkcols(&dir).await?;
        // built anew if it must be sent again (after a refreshed token): the content is
        // opened again
        let make = || -> crate::http::MakeRequest<'_> {
            Box::pin(async {
                let reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading content", e))?;
                let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).map(|r| r.map_err(std::io::Error::other));
                let mut req = self.http.request("PUT", &url).body(reqwest::Body::wrap_stream(stream));
                if let Some(size) = content.size {
                    req = req.header(reqwest::header::CONTENT_LENGTH, size);
                }
                req = req.header(reqwest::header::CONTENT_TYPE, content.media_type.as_str());
                if let Some(t) = modified {
                    // ownCloud, Nextcloud and rclone set the modification time from this
                    req = req.header("X-OC-Mtime", t.timestamp().to_string());
                }
                Ok(req)
            })
        };
        let resp = self.http.send_with(&format!("writing {url}"), &make).await?;
        if !resp.status().is_success() {
            return Err(status_error(&format!("writing {url}"), &resp));
        }
        if let Record::Media(m) = &item.record
            && (m.title.is_some() || m.description.is_some())
        {
            warnings.push("title and description not kept: a WebDAV folder has no place for them".to_owned());
        }
        self.put_attachments(item, &dir, &kept).await?;
        Ok(PutOutcome { dest_id: rel, created: true, warnings, sha256: content.sha256.clone() })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
