//! Google Photos (Photos Library API v1, https://developers.google.com/photos/library/reference/rest)
//! as a source. Since 31 March 2025 the API shows an app only the albums and media items
//! the app created itself (scope `photoslibrary.readonly.appcreateddata`): what ferry put
//! into Google Photos comes back out, a person's own library does not; that leaves
//! Google through Takeout, whose unpacked folder `dir:` reads with its sidecars.
//!
//! The albums' memberships are read first (ids only), then every media item once
//! (`mediaItems.list`, 100 a page); an item's first album is its container. Its bytes
//! are the `baseUrl` with `=d` (a photo, its metadata kept but its location, which the API
//! leaves out) or `=dv` (a video), fetched without the account's token, as Google says.

use super::api;
use super::config::GoogleConfig;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::model::MediaItem;
use ferry_core::{ConnectorError, Content, Item, ItemError, Page, PageStream, Record, Vertical};
use futures::TryStreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The most pages one listing may have (ten million media items at 100 a page).
const MAX_PAGES: u32 = 100_000;
/// The most media items whose album is remembered while the listing runs.
const MAX_MEMBERS: usize = 2_000_000;

/// The app-created albums: (id, title).
pub async fn albums(cfg: &GoogleConfig, http: &Http) -> Result<Vec<(String, String)>, ConnectorError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut url = cfg.photos("/v1/albums?pageSize=50&excludeNonAppCreatedData=true");
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let page: Value = api::json(http, "listing Google Photos albums", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        for a in page["albums"].as_array().into_iter().flatten() {
            if let (Some(id), Some(title)) = (a["id"].as_str(), a["title"].as_str()) {
                out.push((id.to_owned(), title.to_owned()));
            }
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("listing Google Photos albums: Google gave the same page token again".into()));
            }
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
    Err(ConnectorError::Fatal("listing Google Photos albums: too many pages".into()))
}

/// The media items of one album, in the album's order: (id, file name).
pub async fn album_items(cfg: &GoogleConfig, http: &Http, album: &str) -> Result<Vec<(String, String)>, ConnectorError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let url = cfg.photos("/v1/mediaItems:search");
    for _ in 0..MAX_PAGES {
        let mut body = json!({"albumId": album, "pageSize": 100});
        if let Some(t) = &token {
            body["pageToken"] = t.clone().into();
        }
        let what = "reading a Google Photos album";
        let page: Value = api::json(http, what, &|| api::with_json(http.request("POST", &url), &body)).await.map_err(|(e, _)| e)?;
        out.extend(ids_and_names(&page));
        if out.len() > MAX_MEMBERS {
            return Err(ConnectorError::Fatal(format!("{what}: more than {MAX_MEMBERS} media items")));
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal(format!("{what}: Google gave the same page token again")));
            }
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
    Err(ConnectorError::Fatal("reading a Google Photos album: too many pages".into()))
}

/// A page's media items: (id, file name).
pub fn ids_and_names(page: &Value) -> impl Iterator<Item = (String, String)> + '_ {
    page["mediaItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["id"].as_str()?.to_owned(), m["filename"].as_str().unwrap_or_default().to_owned())))
}

/// Pages through the app's media items.
pub struct PhotoPages {
    cfg: Arc<GoogleConfig>,
    http: Http,
    /// Media item id -> the titles of the albums that hold it (read before the listing).
    albums: Option<HashMap<String, Vec<String>>>,
    token: Option<String>,
    done: bool,
    pages: u32,
}

impl PhotoPages {
    pub fn new(cfg: Arc<GoogleConfig>, http: Http, token: Option<String>) -> PhotoPages {
        PhotoPages { cfg, http, albums: None, token, done: false, pages: 0 }
    }

    async fn memberships(&self) -> Result<HashMap<String, Vec<String>>, ConnectorError> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (id, title) in albums(&self.cfg, &self.http).await? {
            for (mid, _) in album_items(&self.cfg, &self.http, &id).await? {
                let titles = out.entry(mid).or_default();
                if !titles.contains(&title) {
                    titles.push(title.clone());
                }
            }
            if out.len() > MAX_MEMBERS {
                return Err(ConnectorError::Fatal(format!("reading Google Photos albums: more than {MAX_MEMBERS} media items")));
            }
        }
        Ok(out)
    }

    /// A media item as an item.
    fn item(&self, m: &Value, location: &str) -> Result<Item, ItemError> {
        let raw_id = m["id"].as_str().unwrap_or_default();
        let fail = |reason: String| ItemError {
            skipped: false,
            vertical: Vertical::Media,
            id: raw_id.to_owned(),
            location: location.to_owned(),
            reason,
        };
        if raw_id.is_empty() || raw_id.len() > 200 || !raw_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(fail(format!("Google Photos listed a media item id `{}` that is not one", raw_id.escape_debug())));
        }
        let Some(base) = m["baseUrl"].as_str().filter(|u| u.starts_with("https://") || u.starts_with("http://")) else {
            return Err(fail("Google Photos gave no address for the media item's bytes (baseUrl)".into()));
        };
        let media_type = m["mimeType"].as_str().filter(|t| t.contains('/')).unwrap_or("application/octet-stream");
        let video = media_type.starts_with("video/") || m.pointer("/mediaMetadata/video").is_some();
        let name = m["filename"].as_str().filter(|n| !n.is_empty()).map(str::to_owned).unwrap_or_else(|| format!("{raw_id}.bin"));
        let meta = &m["mediaMetadata"];
        let number = |v: &Value| v.as_str().and_then(|s| s.parse::<u32>().ok()).or(v.as_u64().and_then(|n| u32::try_from(n).ok()));
        let camera = [meta["photo"]["cameraMake"].as_str(), meta["photo"]["cameraModel"].as_str()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut record = MediaItem {
            file_name: name.clone(),
            title: None,
            description: m["description"].as_str().filter(|d| !d.is_empty()).map(str::to_owned),
            // Google gives the creation time in UTC
            taken_at: meta["creationTime"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc).naive_utc()),
            location: None,
            camera: Some(camera).filter(|c| !c.is_empty()),
            width: number(&meta["width"]),
            height: number(&meta["height"]),
            albums: vec![],
        };
        let held_by = self.albums.as_ref().and_then(|a| a.get(raw_id)).cloned().unwrap_or_default();
        if held_by.len() > 1 {
            record.albums = held_by.clone();
        }
        let container = held_by.first().cloned().unwrap_or_default();
        let mut warnings = Vec::new();
        if held_by.len() > 1 {
            warnings.push(format!("also in the albums {}: ferry carries a media item in its first album only", held_by[1..].join(", ")));
        }
        if !video {
            warnings.push("location: the Photos Library API leaves a photo's location out of its bytes".into());
        }
        let url = format!("{base}={}", if video { "dv" } else { "d" });
        let source = Download { http: self.http.clone(), url, what: format!("reading {name} from Google Photos") };
        let version = hex::encode(&Sha256::digest(format!("{name}\0{}\0{container}", record.description.as_deref().unwrap_or("")))[..12]);
        Ok(Item {
            id: raw_id.to_owned(),
            container,
            version,
            record: Record::Media(record),
            original: None,
            content: Some(Content { media_type: media_type.to_owned(), size: None, sha256: None, source: Arc::new(source) }),
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: warnings,
        })
    }
}

#[async_trait]
impl PageStream for PhotoPages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        self.pages += 1;
        if self.pages > MAX_PAGES {
            return Err(ConnectorError::Fatal(format!("listing Google Photos: more than {MAX_PAGES} pages (it would never end)")));
        }
        if self.albums.is_none() {
            self.albums = Some(self.memberships().await?);
        }
        let mut url = self.cfg.photos("/v1/mediaItems?pageSize=100");
        if let Some(t) = &self.token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let page: Value =
            api::json(&self.http, "listing Google Photos media items", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        let location = format!("Google Photos listing page {}", self.pages);
        let mut items: Vec<_> = page["mediaItems"].as_array().into_iter().flatten().map(|m| self.item(m, &location)).collect();
        if self.pages == 1 && self.token.is_none() {
            items.insert(0, Err(library_skipped()));
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if self.token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("listing Google Photos: Google gave the same page token again".into()));
            }
            Some(t) => self.token = Some(t.to_owned()),
            None => self.done = true,
        }
        Ok(Some(Page { items, cursor: if self.done { None } else { self.token.clone() } }))
    }
}

/// What the listing cannot hold, said in every report: the person's own library.
pub fn library_skipped() -> ItemError {
    ItemError {
        skipped: true,
        vertical: Vertical::Media,
        id: "google-photos-library".into(),
        location: "Google Photos".into(),
        reason: "the photos and videos ferry did not put there: since 31 March 2025 the Photos Library API lets an app read \
                 only what it uploaded itself. Export the library with Google Takeout and read its unpacked folder with \
                 `dir:` (see docs/connectors/google.md)"
            .into(),
    }
}

/// A media item's bytes from its `baseUrl`: a pre-authorised address, fetched without
/// the account's token.
struct Download {
    http: Http,
    url: String,
    what: String,
}

#[async_trait]
impl ContentSource for Download {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let resp = api::send_patiently(&self.http, &self.what, &|| self.http.request("GET", &self.url), api::Auth::Anonymous)
            .await
            .map_err(api::as_io)?;
        let stream = resp.bytes_stream().map_err(|e| std::io::Error::new(std::io::ErrorKind::Interrupted, e));
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> PhotoPages {
        let cfg = Arc::new(GoogleConfig(crate::service::ServiceAddress { account: "me".into(), api: None, scopes: vec![] }));
        let mut p = PhotoPages::new(cfg, Http::new(&crate::Settings::default(), "").unwrap(), None);
        let mut albums = HashMap::new();
        albums.insert("AF1Qa".to_owned(), vec!["Holidays".to_owned(), "Best of".to_owned()]);
        p.albums = Some(albums);
        p
    }

    #[test]
    fn a_media_item_becomes_an_item_in_its_first_album() {
        let m = json!({"id": "AF1Qa", "baseUrl": "https://lh3.example/abc", "mimeType": "image/jpeg", "filename": "IMG_1.JPG",
            "description": "Beach", "mediaMetadata": {"creationTime": "2024-07-01T10:00:00Z", "width": "4032", "height": "3024",
            "photo": {"cameraMake": "Acme", "cameraModel": "X1"}}});
        let item = pages().item(&m, "p1").unwrap();
        assert_eq!(item.container, "Holidays");
        let Record::Media(r) = &item.record else { panic!() };
        assert_eq!((r.file_name.as_str(), r.width, r.camera.as_deref()), ("IMG_1.JPG", Some(4032), Some("Acme X1")));
        assert_eq!(r.description.as_deref(), Some("Beach"));
        assert!(item.source_warnings.iter().any(|w| w.contains("Best of")), "{:?}", item.source_warnings);
        assert!(item.source_warnings.iter().any(|w| w.starts_with("location")), "{:?}", item.source_warnings);
    }

    #[test]
    fn a_video_is_fetched_with_dv_and_bad_ids_fail() {
        let m = json!({"id": "AF1Qv", "baseUrl": "https://lh3.example/v", "mimeType": "video/mp4", "filename": "clip.mp4",
            "mediaMetadata": {"video": {"status": "READY"}}});
        let item = pages().item(&m, "p1").unwrap();
        assert_eq!(item.container, "");
        assert!(item.source_warnings.is_empty());
        for bad in [json!({"id": "../x", "baseUrl": "https://a/b"}), json!({"id": "ok"}), json!({"id": "ok", "baseUrl": "file:///etc"})] {
            assert!(pages().item(&bad, "p1").is_err(), "{bad}");
        }
    }
}
