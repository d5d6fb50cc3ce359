//! Google Photos as a destination: each photo or video is uploaded (`POST /v1/uploads`,
//! raw bytes, which gives an upload token) and made a media item with
//! `mediaItems.batchCreate` (50 at most a call) in the album named by its container
//! (made when the app has none of that title). The API keeps no private data on a media
//! item, so ferry finds what it put before by album and file name: an album's items are
//! read once (the app may read what it made), before the first item goes into it, and
//! each one found answers for one item of that name. Photos the app did not make are
//! invisible to it since March 2025, and so never matched.

use super::api;
use super::config::{GoogleConfig, PHOTOS_APPEND, PHOTOS_EDIT_APP, PHOTOS_READ_APP};
use crate::http::Http;
use ferry_core::{ConnectorError, Item, PutOutcome, Record};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use tokio::sync::Mutex;

/// `mediaItems.batchCreate` takes at most this many new items a call.
const BATCH: usize = 50;
/// A media item's description must be shorter than this many characters.
const MAX_DESCRIPTION: usize = 1000;
/// Upload limits (https://developers.google.com/photos/library/guides/upload-media).
const MAX_PHOTO: u64 = 200 << 20;
const MAX_VIDEO: u64 = 20 << 30;

/// An album (or, for `""`, the library outside albums): file name -> ids ferry made.
type Held = HashMap<String, Vec<String>>;

pub struct PhotoWriter {
    /// Album title -> id; read once.
    albums: Mutex<Option<HashMap<String, String>>>,
    /// Album title -> what ferry made there before.
    held: Mutex<HashMap<String, Held>>,
    /// Ids an item of this run answered for already.
    claimed: Mutex<HashSet<String>>,
}

/// One media item to make: its upload token, file name and description.
struct Upload {
    token: String,
    file_name: String,
    description: Option<String>,
}

impl PhotoWriter {
    pub fn new() -> PhotoWriter {
        PhotoWriter { albums: Mutex::new(None), held: Mutex::new(HashMap::new()), claimed: Mutex::new(HashSet::new()) }
    }

    /// Puts a page of media items: those found are present, the others uploaded and made
    /// in batches per album. One result per item, in order.
    pub async fn put_page(&self, cfg: &GoogleConfig, http: &Http, items: &[&Item]) -> Vec<Result<PutOutcome, ConnectorError>> {
        if let Err(e) = cfg.require(&[PHOTOS_APPEND], "writing to Google Photos") {
            return items.iter().map(|_| Err(e.clone())).collect();
        }
        if let Err(e) = cfg.require(&[PHOTOS_READ_APP, PHOTOS_EDIT_APP], "finding what ferry put into Google Photos before") {
            return items.iter().map(|_| Err(e.clone())).collect();
        }
        let mut out: Vec<Option<Result<PutOutcome, ConnectorError>>> = items.iter().map(|_| None).collect();
        // album title -> (item index, upload, warnings)
        let mut todo: Vec<(String, Vec<Ready>)> = Vec::new();
        for (n, item) in items.iter().enumerate() {
            match self.prepare(cfg, http, item).await {
                Ok(Prepared::Present(o)) => out[n] = Some(Ok(o)),
                Ok(Prepared::Upload(u, w)) => match todo.iter_mut().find(|(a, _)| *a == item.container) {
                    Some((_, v)) => v.push((n, u, w)),
                    None => todo.push((item.container.clone(), vec![(n, u, w)])),
                },
                Err(e) => out[n] = Some(Err(e)),
            }
        }
        for (album, uploads) in todo {
            let album_id = match self.album_id(cfg, http, &album).await {
                Ok(a) => a,
                Err(e) => {
                    for (n, _, _) in &uploads {
                        out[*n] = Some(Err(e.clone()));
                    }
                    continue;
                }
            };
            for chunk in uploads.chunks(BATCH) {
                match self.create(cfg, http, album_id.as_deref(), chunk).await {
                    Ok(results) => {
                        for ((n, _, w), r) in chunk.iter().zip(results) {
                            out[*n] = Some(r.map(|(id, sent)| PutOutcome {
                                dest_id: id.clone(),
                                created: true,
                                warnings: w.clone(),
                                sha256: items[*n].content.as_ref().and_then(|c| c.sha256.clone()).or(sent),
                            }));
                            if let Some(Ok(o)) = &out[*n] {
                                self.remember(&album, items[*n], &o.dest_id).await;
                            }
                        }
                    }
                    Err(e) => {
                        // made or not? the album is read again before they are made again
                        if e.is_transient() {
                            self.held.lock().await.remove(&album);
                        }
                        for (n, _, _) in chunk {
                            out[*n] = Some(Err(e.clone()));
                        }
                    }
                }
            }
        }
        out.into_iter().map(|r| r.unwrap_or_else(|| Err(ConnectorError::Fatal("a media item was left without an answer".into())))).collect()
    }

    /// A media item found in its album (present), or uploaded and ready to be made.
    async fn prepare(&self, cfg: &GoogleConfig, http: &Http, item: &Item) -> Result<Prepared, ConnectorError> {
        let Record::Media(m) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to Google Photos", item.vertical())));
        };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("a media item without content".into()))?;
        let video = content.media_type.starts_with("video/");
        if !(video || content.media_type.starts_with("image/")) {
            return Err(ConnectorError::Item(format!("Google Photos takes photos and videos only, not {}", content.media_type)));
        }
        let limit = if video { MAX_VIDEO } else { MAX_PHOTO };
        if let Some(size) = content.size.filter(|s| *s > limit) {
            return Err(ConnectorError::Item(format!("{size} bytes: Google Photos takes {} of at most {limit} bytes", content.media_type)));
        }
        let file_name = if m.file_name.trim().is_empty() { format!("{}.bin", item.id) } else { m.file_name.clone() };
        if let Some(id) = self.find(cfg, http, &item.container, &file_name).await? {
            return Ok(Prepared::Present(PutOutcome { dest_id: id, created: false, warnings: vec![], sha256: content.sha256.clone() }));
        }
        let mut warnings = Vec::new();
        let mut description = m.description.clone().or_else(|| m.title.clone()).filter(|d| !d.trim().is_empty());
        if m.description.is_some() && m.title.as_ref().is_some_and(|t| !t.is_empty() && *t != m.file_name) {
            warnings.push("title: Google Photos keeps a description only; the title is not kept".into());
        }
        if let Some(d) = &mut description
            && d.chars().count() >= MAX_DESCRIPTION
        {
            *d = d.chars().take(MAX_DESCRIPTION - 1).collect();
            warnings.push(format!("description: shortened to the {} characters Google Photos keeps", MAX_DESCRIPTION - 1));
        }
        if m.taken_at.is_some() || m.location.is_some() || m.camera.is_some() {
            warnings
                .push("taken_at, location, camera: Google Photos takes them from the file itself; the API has no place for others".into());
        }
        let token = upload(cfg, http, content, &file_name).await?;
        Ok(Prepared::Upload(Upload { token, file_name, description }, warnings))
    }

    /// The id of a media item ferry made in album `album` under this name before, not yet
    /// answering for another item of this run.
    async fn find(&self, cfg: &GoogleConfig, http: &Http, album: &str, name: &str) -> Result<Option<String>, ConnectorError> {
        let mut held = self.held.lock().await;
        if !held.contains_key(album) {
            let mut h = Held::new();
            let listed = match self.album_id_known(cfg, http, album).await? {
                Some(id) => super::photos::album_items(cfg, http, &id).await?,
                None if album.is_empty() => library_items(cfg, http).await?,
                None => vec![],
            };
            for (id, f) in listed {
                h.entry(f).or_default().push(id);
            }
            held.insert(album.to_owned(), h);
        }
        let mut claimed = self.claimed.lock().await;
        let found = held[album].get(name).into_iter().flatten().find(|id| !claimed.contains(*id)).cloned();
        if let Some(id) = &found {
            claimed.insert(id.clone());
        }
        Ok(found)
    }

    async fn remember(&self, album: &str, item: &Item, id: &str) {
        if let Record::Media(m) = &item.record {
            self.held.lock().await.entry(album.to_owned()).or_default().entry(m.file_name.clone()).or_default().push(id.to_owned());
        }
        self.claimed.lock().await.insert(id.to_owned());
    }

    /// The album of this title the app made, if there is one (none for `""`).
    async fn album_id_known(&self, cfg: &GoogleConfig, http: &Http, title: &str) -> Result<Option<String>, ConnectorError> {
        if title.is_empty() {
            return Ok(None);
        }
        let mut albums = self.albums.lock().await;
        if albums.is_none() {
            let mut map = HashMap::new();
            for (id, t) in super::photos::albums(cfg, http).await? {
                map.entry(t).or_insert(id);
            }
            *albums = Some(map);
        }
        Ok(albums.as_ref().and_then(|a| a.get(title)).cloned())
    }

    /// The album of this title, made when the app has none (none for `""`).
    async fn album_id(&self, cfg: &GoogleConfig, http: &Http, title: &str) -> Result<Option<String>, ConnectorError> {
        if let Some(id) = self.album_id_known(cfg, http, title).await? {
            return Ok(Some(id));
        }
        if title.is_empty() {
            return Ok(None);
        }
        // Google keeps album titles of up to 500 characters
        let shown: String = title.chars().take(500).collect();
        let url = cfg.photos("/v1/albums");
        let body = json!({"album": {"title": shown}});
        let what = format!("making the Google Photos album {title}");
        let made: Value = api::json(http, &what, &|| api::with_json(http.request("POST", &url), &body)).await.map_err(|(e, _)| e)?;
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal(format!("{what}: Google's answer has no id")))?.to_owned();
        self.albums.lock().await.get_or_insert_with(HashMap::new).insert(title.to_owned(), id.clone());
        Ok(Some(id))
    }

    /// `mediaItems.batchCreate` for up to 50 uploads: per upload, the media item's id, or
    /// why it was not made (a spent upload token is tried again, with a new upload).
    async fn create(
        &self,
        cfg: &GoogleConfig,
        http: &Http,
        album: Option<&str>,
        chunk: &[Ready],
    ) -> Result<Vec<Result<(String, Option<String>), ConnectorError>>, ConnectorError> {
        let new: Vec<Value> = chunk
            .iter()
            .map(|(_, u, _)| {
                let mut v = json!({"simpleMediaItem": {"uploadToken": u.token, "fileName": u.file_name}});
                if let Some(d) = &u.description {
                    v["description"] = d.clone().into();
                }
                v
            })
            .collect();
        let mut body = json!({"newMediaItems": new});
        if let Some(a) = album {
            body["albumId"] = a.into();
        }
        let url = cfg.photos("/v1/mediaItems:batchCreate");
        let what = "making Google Photos media items";
        let answer: Value = api::json(http, what, &|| api::with_json(http.request("POST", &url), &body)).await.map_err(|(e, _)| e)?;
        let results = answer["newMediaItemResults"].as_array().cloned().unwrap_or_default();
        Ok(chunk
            .iter()
            .map(|(_, u, _)| {
                let r = results.iter().find(|r| r["uploadToken"] == u.token.as_str());
                match r.and_then(|r| r["mediaItem"]["id"].as_str()) {
                    Some(id) if r.is_some_and(|r| r["status"]["code"].as_i64().unwrap_or(0) == 0) => Ok((id.to_owned(), None)),
                    _ => {
                        let msg = r.and_then(|r| r["status"]["message"].as_str()).unwrap_or("Google gave no answer for it");
                        Err(ConnectorError::transient(format!("{what}: {} was not made: {msg}", u.file_name)))
                    }
                }
            })
            .collect())
    }
}

/// An item's index in its page, its upload and the warnings of its put.
type Ready = (usize, Upload, Vec<String>);

enum Prepared {
    Present(PutOutcome),
    Upload(Upload, Vec<String>),
}

/// Uploads the bytes (`X-Goog-Upload-Protocol: raw`), streamed; the upload token.
async fn upload(cfg: &GoogleConfig, http: &Http, content: &ferry_core::Content, file_name: &str) -> Result<String, ConnectorError> {
    let url = cfg.photos("/v1/uploads");
    let what = format!("uploading {file_name} to Google Photos");
    // the header takes ASCII only: another name is given with the media item
    let header_name: String = file_name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let make = || -> crate::http::MakeRequest<'_> {
        Box::pin(async {
            let reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading content", e))?;
            let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).map(|r| r.map_err(std::io::Error::other));
            let mut r = http
                .request("POST", &url)
                .header("Content-Type", "application/octet-stream")
                .header("X-Goog-Upload-Content-Type", content.media_type.as_str())
                .header("X-Goog-Upload-File-Name", header_name.as_str())
                .header("X-Goog-Upload-Protocol", "raw")
                .body(reqwest::Body::wrap_stream(stream));
            if let Some(n) = content.size {
                r = r.header(reqwest::header::CONTENT_LENGTH, n);
            }
            Ok(r)
        })
    };
    let resp = http.send_with(&what, &make).await?;
    if !resp.status().is_success() {
        let (e, _) = api::error(&what, resp).await;
        // too large for Google Photos: that item fails, the job goes on
        return Err(e);
    }
    let token = crate::http::read_bounded(&what, resp, 4096).await?;
    let token = String::from_utf8(token).map_err(|_| ConnectorError::Fatal(format!("{what}: the upload token is not text")))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(ConnectorError::Fatal(format!("{what}: Google gave no upload token")));
    }
    Ok(token.to_owned())
}

/// Every media item the app made (for those put outside any album).
async fn library_items(cfg: &GoogleConfig, http: &Http) -> Result<Vec<(String, String)>, ConnectorError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100_000 {
        let mut url = cfg.photos("/v1/mediaItems?pageSize=100");
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={}", crate::http::encode_component(t)));
        }
        let page: Value =
            api::json(http, "reading what ferry put into Google Photos", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        out.extend(super::photos::ids_and_names(&page));
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("reading Google Photos: Google gave the same page token again".into()));
            }
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
    Err(ConnectorError::Fatal("reading Google Photos: too many pages".into()))
}
