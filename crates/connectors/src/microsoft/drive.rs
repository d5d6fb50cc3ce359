//! OneDrive through Graph (https://learn.microsoft.com/graph/api/resources/onedrive):
//! the files vertical, each file's folder path as its container (as `dir:` and
//! `webdav:` give them; folders are not items).
//!
//! Read with the drive's delta query (`/me/drive/root/delta`, incremental by its delta
//! link); each file's bytes from `/content`, whose redirect to a pre-authenticated
//! download URL is followed without the token, streamed. Written into folders made when
//! missing: files up to 4 MiB in one `PUT`, larger ones through an upload session in
//! fragments of 5 MiB, sent without the token; a fragment that fails is resumed from
//! where the session says it stands, a session that is gone is started again. A file is
//! found again by its path; the same size and QuickXorHash means it is already there.

use super::api;
use super::config::MicrosoftConfig;
use super::delta::Round;
use super::quickxor::QuickXor;
use crate::Settings;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::model::FileEntry;
use ferry_core::{ConnectorError, Content, Item, ItemError, Page, PageStream, PutOutcome, Record, Vertical};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

/// Files up to this size go in one request (driveitem-put-content: "up to 4MB").
pub const SIMPLE_MAX: u64 = 4 << 20;
/// Upload session fragments: a multiple of 320 KiB, as the API asks, of 5 MiB.
pub const FRAGMENT: usize = 16 * 327_680;
/// Fields asked for on every listing.
const SELECT: &str = "id,name,size,parentReference,file,folder,root,fileSystemInfo,eTag,cTag";
/// Folders nested deeper than this are a loop in what Graph answers.
const MAX_DEPTH: usize = 256;

/// The first request of a full round.
pub fn delta_url(cfg: &MicrosoftConfig) -> String {
    cfg.graph(&format!("/v1.0/me/drive/root/delta?$select={SELECT}"))
}

/// A name OneDrive gave that is safe as one level of a path.
fn safe(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// A pre-authenticated URL Graph handed out: HTTPS (or the stand-in's own scheme),
/// never an internal address unless allowed.
fn check_handed(cfg: &MicrosoftConfig, settings: &Settings, url: &str) -> Result<reqwest::Url, ConnectorError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ConnectorError::Fatal(format!("Graph handed out `{url}`, not a URL: {e}")))?;
    let api_scheme = reqwest::Url::parse(&cfg.api).map(|u| u.scheme().to_owned()).unwrap_or_default();
    if parsed.scheme() != "https" && parsed.scheme() != api_scheme {
        return Err(ConnectorError::Fatal(format!("Graph handed out `{url}`, which is not HTTPS: not followed")));
    }
    crate::http::check_url(&parsed, settings)?;
    Ok(parsed)
}

/// One round of the drive's delta query, each file an item.
pub struct DrivePages {
    pub round: Round,
    pub cfg: Arc<MicrosoftConfig>,
    pub http: Http,
    /// `http`, not following redirects (`/content`'s).
    pub bare: Http,
    pub settings: Settings,
    /// Folder id -> its path (`Docs/2025`; "" for the root), as met.
    pub paths: HashMap<String, String>,
}

#[async_trait]
impl PageStream for DrivePages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let Some((page, url)) = self.round.next_page().await? else { return Ok(None) };
        let mut items = Vec::new();
        for (n, g) in page["value"].as_array().into_iter().flatten().enumerate() {
            let fail =
                |id: String, reason: String| ItemError { skipped: false, vertical: Vertical::Files, id, location: url.clone(), reason };
            let Some(id) = g["id"].as_str().filter(|i| !i.is_empty()) else {
                items.push(Err(fail(format!("(no id: item {n} of {url})"), "OneDrive gave an item without an id".into())));
                continue;
            };
            if g.get("deleted").is_some() {
                self.paths.remove(id);
                continue;
            }
            if g.get("root").is_some() {
                self.paths.insert(id.to_owned(), String::new());
                continue;
            }
            let name = g["name"].as_str().unwrap_or_default();
            if !safe(name) {
                items.push(Err(fail(id.to_owned(), format!("OneDrive gave the name `{name}`, which is no file name; not read"))));
                continue;
            }
            let parent = match g["parentReference"]["id"].as_str() {
                Some(p) => self.path_of(p).await,
                None => Err(ConnectorError::Item("OneDrive gave no parent".into())),
            };
            let parent = match parent {
                Ok(p) => p,
                Err(e) if e.stops_job() || e.is_transient() => return Err(e),
                Err(e) => {
                    items.push(Err(fail(id.to_owned(), format!("the folder of `{name}` cannot be found: {e}"))));
                    continue;
                }
            };
            let path = if parent.is_empty() { name.to_owned() } else { format!("{parent}/{name}") };
            if g.get("folder").is_some() {
                self.paths.insert(id.to_owned(), path);
                continue;
            }
            if g.get("file").is_none() {
                items.push(Err(fail(id.to_owned(), format!("`{path}` is neither a file nor a folder (a OneNote notebook?); not read"))));
                continue;
            }
            items.push(Ok(self.item(g, id, name, parent)));
        }
        Ok(Some(Page { items, cursor: self.round.cursor() }))
    }

    fn sync_state(&self) -> Option<String> {
        self.round.delta_link()
    }
}

impl DrivePages {
    /// The path of a folder: as met in this round, else asked for, up to the root.
    async fn path_of(&mut self, id: &str) -> Result<String, ConnectorError> {
        let mut chain: Vec<(String, String)> = Vec::new();
        let mut at = id.to_owned();
        let mut base = loop {
            if let Some(p) = self.paths.get(&at) {
                break p.clone();
            }
            if chain.len() > MAX_DEPTH {
                return Err(ConnectorError::Item(format!("folders nested deeper than {MAX_DEPTH}")));
            }
            let url = self.cfg.graph(&format!("/v1.0/me/drive/items/{}?$select=id,name,parentReference,root", enc(&at)));
            let g: Value = api::json(&self.http, "reading a folder", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            if g.get("root").is_some() {
                self.paths.insert(at.clone(), String::new());
                break String::new();
            }
            let name =
                g["name"].as_str().filter(|n| safe(n)).ok_or_else(|| ConnectorError::Item(format!("folder {at} has no usable name")))?;
            let parent = g["parentReference"]["id"].as_str().ok_or_else(|| ConnectorError::Item(format!("folder {at} has no parent")))?;
            chain.push((at.clone(), name.to_owned()));
            at = parent.to_owned();
        };
        for (id, name) in chain.into_iter().rev() {
            base = if base.is_empty() { name } else { format!("{base}/{name}") };
            self.paths.insert(id, base.clone());
        }
        Ok(base)
    }

    fn item(&self, g: &Value, id: &str, name: &str, container: String) -> Item {
        let size = g["size"].as_u64();
        let modified = g["fileSystemInfo"]["lastModifiedDateTime"]
            .as_str()
            .or(g["lastModifiedDateTime"].as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let version = g["eTag"]
            .as_str()
            .or(g["cTag"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}-{}", size.unwrap_or(0), modified.map(|m| m.to_rfc3339()).unwrap_or_default()));
        let media_type = g["file"]["mimeType"]
            .as_str()
            .filter(|m| m.contains('/'))
            .unwrap_or_else(|| ferry_codecs::media::file_media_type(name))
            .to_owned();
        let source = Arc::new(Download {
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            bare: self.bare.clone(),
            settings: self.settings.clone(),
            id: id.to_owned(),
            size,
        });
        Item {
            id: id.to_owned(),
            container,
            version,
            record: Record::File(FileEntry { name: name.to_owned(), modified, mode: None }),
            original: None,
            content: Some(Content { media_type, size, sha256: None, source }),
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        }
    }
}

/// A file's bytes: `/content` answers with a redirect to a pre-authenticated URL, which
/// is asked without the token, its answer streamed.
struct Download {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    bare: Http,
    settings: Settings,
    id: String,
    size: Option<u64>,
}

/// A file larger than this is not read whole when its size is unknown.
const MAX_FILE: u64 = 1 << 40;

impl Download {
    async fn open_once(&self) -> Result<Result<BoxRead, reqwest::Response>, ConnectorError> {
        let what = format!("reading file {}", self.id);
        let url = self.cfg.graph(&format!("/v1.0/me/drive/items/{}/content", enc(&self.id)));
        let max = self.size.unwrap_or(MAX_FILE);
        let location = {
            let inflight = api::permit(&self.bare).await;
            let resp = self.bare.send(&what, &|| self.bare.request("GET", &url)).await?;
            let status = resp.status();
            if status.is_success() {
                return Ok(Ok(api::body_reader(what, resp, max, Some(inflight))));
            }
            if !status.is_redirection() {
                return Err(api::error(&what, resp).await.0);
            }
            let location = resp.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
            location.ok_or_else(|| ConnectorError::Fatal(format!("{what}: a redirect without a Location")))?
        };
        let location =
            self.cfg.graph("").parse::<reqwest::Url>().and_then(|base| base.join(&location)).map(|u| u.to_string()).unwrap_or(location);
        check_handed(&self.cfg, &self.settings, &location)?;
        let resp = self.http.send_anonymous(&what, &|| self.http.request("GET", &location)).await?;
        if resp.status().is_success() {
            return Ok(Ok(api::body_reader(what, resp, max, None)));
        }
        Ok(Err(resp))
    }
}

#[async_trait]
impl ContentSource for Download {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let what = format!("reading file {}", self.id);
        api::open_retrying(&what, || async {
            // a download URL that expired between the redirect and its use: once more
            for _ in 0..2 {
                match self.open_once().await? {
                    Ok(reader) => return Ok(reader),
                    Err(resp) if matches!(resp.status().as_u16(), 401 | 403) => continue,
                    Err(resp) => return Err(api::error(&what, resp).await.0),
                }
            }
            Err(ConnectorError::transient(format!("{what}: the download URL was refused twice")))
        })
        .await
    }
}

/// What a folder holds of one name.
#[derive(Debug, Clone)]
struct Entry {
    id: String,
    folder: bool,
    size: u64,
    quickxor: Option<String>,
    /// `fileSystemInfo.lastModifiedDateTime`, to the second.
    modified: Option<i64>,
}

fn entry_of(g: &Value) -> Option<(String, Entry)> {
    let name = g["name"].as_str()?;
    let modified =
        g["fileSystemInfo"]["lastModifiedDateTime"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp());
    Some((
        name.to_lowercase(),
        Entry {
            id: g["id"].as_str()?.to_owned(),
            folder: g.get("folder").is_some(),
            size: g["size"].as_u64().unwrap_or(0),
            quickxor: g["file"]["hashes"]["quickXorHash"].as_str().map(str::to_owned),
            modified,
        },
    ))
}

/// A name as OneDrive takes it: the characters it refuses (`" * : < > ? / \ |`, control
/// characters) and leading or trailing spaces become `_`, with a warning.
pub fn drive_name(name: &str, w: &mut Vec<String>) -> String {
    let mut out: String = name.chars().map(|c| if "\"*:<>?/\\|".contains(c) || c.is_control() { '_' } else { c }).collect();
    let trimmed = out.trim_matches(' ');
    if trimmed.len() != out.len() {
        let lead = out.len() - out.trim_start_matches(' ').len();
        let trail = out.len() - out.trim_end_matches(' ').len();
        out = format!("{}{trimmed}{}", "_".repeat(lead), "_".repeat(trail));
    }
    if out.is_empty() || out == "." || out == ".." {
        out = out.replace('.', "_");
        if out.is_empty() {
            out = "_".into();
        }
    }
    if out != name {
        w.push(format!("name: OneDrive does not take `{name}`; written as `{out}`"));
    }
    out
}

/// Writes files into folders named by their containers (made when missing).
#[derive(Default)]
pub struct DriveWriter {
    /// Folder id -> what it holds, by name in lower case (read once).
    listed: Mutex<HashMap<String, HashMap<String, Entry>>>,
    /// Folder path in lower case -> id ("" is the root).
    folders: Mutex<HashMap<String, String>>,
    /// (folder id, name in lower case) -> the item of this run written there: OneDrive's
    /// names ignore case, two items must not become one file.
    claimed: std::sync::Mutex<HashMap<(String, String), String>>,
}

/// What an upload gives: the driveItem, and the bytes' QuickXorHash and SHA-256.
struct Uploaded {
    item: Value,
    quickxor: String,
    sha256: Option<String>,
}

impl DriveWriter {
    async fn children(
        &self,
        cfg: &MicrosoftConfig,
        http: &Http,
        folder: &str,
        fresh: bool,
    ) -> Result<HashMap<String, Entry>, ConnectorError> {
        let mut listed = self.listed.lock().await;
        if fresh || !listed.contains_key(folder) {
            let url = cfg.graph(&format!("/v1.0/me/drive/items/{}/children?$top=999&$select={SELECT}", enc(folder)));
            let all = api::all(cfg, http, "listing a OneDrive folder", url).await?;
            listed.insert(folder.to_owned(), all.iter().filter_map(entry_of).collect());
        }
        Ok(listed.get(folder).cloned().unwrap_or_default())
    }

    async fn note(&self, folder: &str, name: &str, e: Entry) {
        self.listed.lock().await.entry(folder.to_owned()).or_default().insert(name.to_lowercase(), e);
    }

    /// The folder of a path of (OneDrive-safe) names, made level by level when missing.
    async fn folder(&self, cfg: &MicrosoftConfig, http: &Http, levels: &[String]) -> Result<String, ConnectorError> {
        let mut folders = self.folders.lock().await;
        if !folders.contains_key("") {
            let url = cfg.graph("/v1.0/me/drive/root?$select=id");
            let root: Value = api::json(http, "reading the drive's root", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            let id = root["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph gave the drive's root without an id".into()))?;
            folders.insert(String::new(), id.to_owned());
        }
        let mut path = String::new();
        let mut id = folders[""].clone();
        for name in levels {
            path = if path.is_empty() { name.to_lowercase() } else { format!("{path}/{}", name.to_lowercase()) };
            if let Some(known) = folders.get(&path) {
                id = known.clone();
                continue;
            }
            id = self.subfolder(cfg, http, &id, name).await?;
            folders.insert(path.clone(), id.clone());
        }
        Ok(id)
    }

    async fn subfolder(&self, cfg: &MicrosoftConfig, http: &Http, parent: &str, name: &str) -> Result<String, ConnectorError> {
        for fresh in [false, true] {
            match self.children(cfg, http, parent, fresh).await?.get(&name.to_lowercase()) {
                Some(e) if e.folder => return Ok(e.id.clone()),
                Some(_) => return Err(ConnectorError::Item(format!("OneDrive has a file `{name}` where a folder of that name goes"))),
                None if fresh => break,
                None => {}
            }
            let url = cfg.graph(&format!("/v1.0/me/drive/items/{}/children", enc(parent)));
            let body = json!({"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"});
            match api::json::<Value>(http, &format!("making folder `{name}`"), &|| api::with_json(http.request("POST", &url), &body)).await
            {
                Ok(made) => {
                    let (_, e) = entry_of(&made).ok_or_else(|| ConnectorError::Fatal("Graph made a folder without an id".into()))?;
                    let id = e.id.clone();
                    self.note(parent, name, e).await;
                    return Ok(id);
                }
                // made meanwhile: read the folder again
                Err((ConnectorError::Conflict(_), _)) => continue,
                Err((e, _)) => return Err(e),
            }
        }
        Err(ConnectorError::Item(format!("OneDrive says `{name}` exists but does not list it")))
    }

    pub async fn put(&self, cfg: &MicrosoftConfig, http: &Http, settings: &Settings, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let Record::File(f) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to OneDrive", item.vertical())));
        };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("the file has no content to write".into()))?;
        let mut warnings = Vec::new();
        let levels: Vec<String> = item.container.split('/').filter(|l| !l.is_empty()).map(|l| drive_name(l, &mut warnings)).collect();
        let name = drive_name(if f.name.is_empty() { item.id.rsplit('/').next().unwrap_or("file") } else { &f.name }, &mut warnings);
        let parent = self.folder(cfg, http, &levels).await?;
        {
            let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
            let other = claimed.entry((parent.clone(), name.to_lowercase())).or_insert_with(|| item.id.clone());
            if *other != item.id {
                return Err(ConnectorError::Item(format!(
                    "OneDrive's names ignore case: `{name}` would replace the file of {other} written there in this run; not written"
                )));
            }
        }
        let modified = f.modified.map(|m| m.timestamp());
        let size = match content.size {
            Some(n) => n,
            None => measure(content).await?.0,
        };
        let held = self.children(cfg, http, &parent, false).await?.get(&name.to_lowercase()).cloned();
        if let Some(h) = &held {
            if h.folder {
                return Err(ConnectorError::Item(format!("OneDrive has a folder `{name}` where this file goes")));
            }
            if h.size == size {
                let (_, quickxor, sha256) = measure(content).await?;
                if h.quickxor.as_deref() == Some(quickxor.as_str()) {
                    if modified.is_some() && h.modified != modified {
                        self.set_modified(cfg, http, &h.id, f.modified).await?;
                    }
                    let created = modified.is_some() && h.modified != modified;
                    return Ok(PutOutcome { dest_id: h.id.clone(), created, warnings, sha256: Some(sha256) });
                }
            }
        }
        let up = if size <= SIMPLE_MAX {
            let up = self.put_small(cfg, http, &parent, &name, content).await?;
            if f.modified.is_some() {
                let id = up.item["id"].as_str().unwrap_or_default().to_owned();
                self.set_modified(cfg, http, &id, f.modified).await?;
            }
            up
        } else {
            upload_in_session(cfg, http, settings, &parent, &name, content, size, f.modified).await?
        };
        let (_, mut e) =
            entry_of(&up.item).ok_or_else(|| ConnectorError::Fatal("Graph answered an upload without the file's id".into()))?;
        if e.quickxor.as_deref().is_some_and(|q| q != up.quickxor) {
            return Err(ConnectorError::transient(format!(
                "OneDrive holds `{name}` with another QuickXorHash than the bytes sent; sending again"
            )));
        }
        e.modified = modified.or(e.modified);
        let id = e.id.clone();
        self.note(&parent, &name, e).await;
        Ok(PutOutcome { dest_id: id, created: true, warnings, sha256: up.sha256 })
    }

    async fn set_modified(&self, cfg: &MicrosoftConfig, http: &Http, id: &str, when: Option<DateTime<Utc>>) -> Result<(), ConnectorError> {
        let Some(when) = when else { return Ok(()) };
        let url = cfg.graph(&format!("/v1.0/me/drive/items/{}", enc(id)));
        let body = json!({"fileSystemInfo": {"lastModifiedDateTime": when.format("%Y-%m-%dT%H:%M:%SZ").to_string()}});
        let _: Value =
            api::json(http, "setting the file's time", &|| api::with_json(http.request("PATCH", &url), &body)).await.map_err(|(e, _)| e)?;
        Ok(())
    }

    /// One `PUT` of the whole file.
    async fn put_small(
        &self,
        cfg: &MicrosoftConfig,
        http: &Http,
        parent: &str,
        name: &str,
        content: &Content,
    ) -> Result<Uploaded, ConnectorError> {
        let mut reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
        let mut bytes = Vec::new();
        (&mut reader).take(SIMPLE_MAX + 1).read_to_end(&mut bytes).await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
        if bytes.len() as u64 > SIMPLE_MAX {
            return Err(ConnectorError::Item(format!("the file is longer than the {} bytes it said", content.size.unwrap_or(0))));
        }
        // to the end, where the size and hash are checked
        let mut rest = [0u8; 1];
        reader.read(&mut rest).await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
        let sha256 = reader.finish().map(|(sha, _)| sha);
        let quickxor = super::quickxor::of(&bytes);
        let body = bytes::Bytes::from(bytes);
        let url = cfg.graph(&format!("/v1.0/me/drive/items/{}:/{}:/content", enc(parent), enc(name)));
        let item: Value = api::json(http, &format!("writing `{name}`"), &|| {
            http.request("PUT", &url).header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(body.clone())
        })
        .await
        .map_err(|(e, _)| e)?;
        Ok(Uploaded { item, quickxor, sha256 })
    }
}

/// The content's size, QuickXorHash and SHA-256, read through once.
async fn measure(content: &Content) -> Result<(u64, String, String), ConnectorError> {
    let mut reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
    let mut q = QuickXor::default();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buf).await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
        if n == 0 {
            break;
        }
        q.update(&buf[..n]);
    }
    let (sha, size) = reader.finish().ok_or_else(|| ConnectorError::Item("the file could not be read to its end".into()))?;
    Ok((size, q.finish(), sha))
}

/// Fills `buf` from `reader` as far as it goes (short only at the end).
async fn fill(reader: &mut (impl tokio::io::AsyncRead + Unpin), buf: &mut Vec<u8>, want: usize) -> std::io::Result<()> {
    buf.clear();
    let mut chunk = vec![0u8; 256 * 1024];
    while buf.len() < want {
        let n = reader.read(&mut chunk[..(want - buf.len()).min(256 * 1024)]).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// How a fragment went.
enum Sent {
    /// The session takes the next bytes.
    More,
    /// The last fragment made the file.
    Done(Value),
    /// The session is gone: start again.
    Gone,
}

/// Sessions started for one file before ferry gives up on it (for this try).
const MAX_SESSIONS: u32 = 3;
/// Tries of one fragment (each after asking the session where it stands).
const MAX_TRIES: u32 = 4;

/// Uploads through an upload session (driveitem-createuploadsession), fragment by
/// fragment, never holding more than one fragment. A fragment that fails (a dropped
/// connection, a server error, an answer lost) is followed by asking the session for the
/// bytes it expects next, and the upload goes on from there; a session that is gone
/// (404) is started again.
#[allow(clippy::too_many_arguments)]
async fn upload_in_session(
    cfg: &MicrosoftConfig,
    http: &Http,
    settings: &Settings,
    parent: &str,
    name: &str,
    content: &Content,
    size: u64,
    modified: Option<DateTime<Utc>>,
) -> Result<Uploaded, ConnectorError> {
    let what = format!("uploading `{name}`");
    let url = cfg.graph(&format!("/v1.0/me/drive/items/{}:/{}:/createUploadSession", enc(parent), enc(name)));
    let mut item = json!({"@microsoft.graph.conflictBehavior": "replace"});
    if let Some(m) = modified {
        item["fileSystemInfo"] = json!({"lastModifiedDateTime": m.format("%Y-%m-%dT%H:%M:%SZ").to_string()});
    }
    let body = json!({"item": item});
    for _ in 0..MAX_SESSIONS {
        let session: Value =
            api::json(http, &format!("starting the upload of `{name}`"), &|| api::with_json(http.request("POST", &url), &body))
                .await
                .map_err(|(e, _)| e)?;
        let upload_url = session["uploadUrl"].as_str().ok_or_else(|| ConnectorError::Fatal(format!("{what}: Graph gave no uploadUrl")))?;
        let upload_url = check_handed(cfg, settings, upload_url)?.to_string();
        let mut reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
        let mut q = QuickXor::default();
        let mut buf = Vec::with_capacity(FRAGMENT);
        let mut offset = 0u64;
        let result = loop {
            fill(&mut reader, &mut buf, FRAGMENT).await.map_err(|e| ConnectorError::from_io("reading the file", e))?;
            let end = offset + buf.len() as u64;
            // short of a whole fragment before the end, or past it: not the file it said
            if buf.is_empty() || end > size || (buf.len() < FRAGMENT && end < size) {
                return Err(ConnectorError::Item(format!("{what}: the file is not the {size} bytes it said")));
            }
            q.update(&buf);
            // the fragment as sent (and sent again), without a copy
            let piece = bytes::Bytes::from(std::mem::replace(&mut buf, Vec::with_capacity(FRAGMENT)));
            if offset + piece.len() as u64 == size {
                // the end: the reader checks the size and hash it was given
                let mut rest = [0u8; 1];
                if reader.read(&mut rest).await.map_err(|e| ConnectorError::from_io("reading the file", e))? != 0 {
                    return Err(ConnectorError::Item(format!("{what}: the file is longer than the {size} bytes it said")));
                }
            }
            match fragment(http, &what, &upload_url, &piece, offset, size).await? {
                Sent::More if offset + piece.len() as u64 >= size => {
                    break Err(ConnectorError::transient(format!("{what}: the session took every byte but made no file")));
                }
                Sent::More => offset += piece.len() as u64,
                Sent::Done(item) => break Ok(item),
                Sent::Gone => break Err(ConnectorError::NotFound(format!("{what}: the upload session is gone"))),
            }
        };
        match result {
            Ok(item) => return Ok(Uploaded { item, quickxor: q.finish(), sha256: reader.finish().map(|(sha, _)| sha) }),
            Err(ConnectorError::NotFound(m)) => tracing::info!("{m}; starting it again"),
            Err(e) => {
                // a session left behind expires by itself; saying so frees it sooner
                let _ = http.send_anonymous(&what, &|| http.request("DELETE", &upload_url)).await;
                return Err(e);
            }
        }
    }
    Err(ConnectorError::transient(format!("{what}: {MAX_SESSIONS} upload sessions were lost; trying later")))
}

/// Sends one fragment (`bytes` at `offset` of `size`); after a failure asks the session
/// where it stands and goes on from there.
async fn fragment(http: &Http, what: &str, upload_url: &str, body: &bytes::Bytes, offset: u64, size: u64) -> Result<Sent, ConnectorError> {
    let end = offset + body.len() as u64;
    let mut last = None;
    for attempt in 0..MAX_TRIES {
        if attempt > 0 {
            // where does the session stand? (nextExpectedRanges: ["12345-"])
            match http.send_anonymous(what, &|| http.request("GET", upload_url)).await {
                Ok(resp) if resp.status().as_u16() == 404 => return Ok(Sent::Gone),
                Ok(resp) if resp.status().is_success() => {
                    let status: Value =
                        serde_json::from_slice(&crate::http::read_bounded(what, resp, 64 << 10).await?).unwrap_or(Value::Null);
                    let next =
                        status["nextExpectedRanges"][0].as_str().and_then(|r| r.split('-').next()).and_then(|n| n.parse::<u64>().ok());
                    match next {
                        // the fragment arrived, only its answer was lost
                        Some(n) if n == end => return Ok(Sent::More),
                        Some(n) if n == offset => {}
                        // anything else: start over
                        _ => return Ok(Sent::Gone),
                    }
                }
                // not known: send the fragment again, its answer tells
                Ok(resp) => {
                    let e = api::error(what, resp).await.0;
                    if !e.is_transient() {
                        return Err(e);
                    }
                }
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt as u64)).await;
        }
        let range = format!("bytes {offset}-{}/{size}", end - 1);
        let sent = http
            .send_anonymous(what, &|| {
                http.request("PUT", upload_url).header(reqwest::header::CONTENT_RANGE, range.as_str()).body(body.clone())
            })
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_transient() => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let status = resp.status().as_u16();
        match status {
            202 => return Ok(Sent::More),
            200 | 201 => {
                let item = crate::http::read_bounded(what, resp, 1 << 20).await?;
                return serde_json::from_slice(&item)
                    .map(Sent::Done)
                    .map_err(|e| ConnectorError::Fatal(format!("{what}: Graph's answer is not what its API says: {e}")));
            }
            404 => return Ok(Sent::Gone),
            // a fragment the session has already (after a lost answer): ask where it stands
            416 => last = Some(ConnectorError::transient(format!("{what}: the session already has bytes {offset}-{}", end - 1))),
            _ => {
                let (e, _, _) = api::error(what, resp).await;
                if !e.is_transient() {
                    return Err(e);
                }
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| ConnectorError::transient(format!("{what}: the fragment at {offset} did not go through"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Answer, Request, serve};
    use std::sync::Mutex as Plain;

    /// A stand-in for upload sessions: what it received, per session, and how a session
    /// misbehaves (`trouble(session, fragment number, attempt)`).
    #[derive(Default)]
    struct Sessions {
        bytes: Vec<Vec<u8>>,
        asked: usize,
        puts: Vec<(usize, usize)>,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Trouble {
        None,
        /// This fragment's first try gets a 503 (nothing stored).
        ServerError,
        /// The session is gone when this fragment comes.
        Gone,
    }

    async fn sessions(trouble: impl Fn(usize, usize, usize) -> Trouble + Send + Sync + 'static) -> (String, Arc<Plain<Sessions>>) {
        let state = Arc::new(Plain::new(Sessions::default()));
        let st = state.clone();
        let trouble = Arc::new(trouble);
        let url = serve(move |r: Request| {
            let (st, trouble) = (st.clone(), trouble.clone());
            async move {
                let host = r.header("host").unwrap_or_default().to_owned();
                if r.path.ends_with(":/createUploadSession") {
                    assert_eq!(r.header("authorization"), Some("Bearer at-test"));
                    let body: Value = serde_json::from_slice(&r.body).unwrap();
                    assert_eq!(body["item"]["@microsoft.graph.conflictBehavior"], "replace");
                    let mut s = st.lock().unwrap();
                    s.bytes.push(Vec::new());
                    return Answer::new(
                        200,
                        &format!(r#"{{"uploadUrl": "http://{host}/up/{}", "nextExpectedRanges": ["0-"]}}"#, s.bytes.len() - 1),
                    );
                }
                let n: usize = r.path.strip_prefix("/up/").and_then(|n| n.parse().ok()).expect("an upload URL");
                assert_eq!(r.header("authorization"), None, "no token on the upload URL");
                let mut s = st.lock().unwrap();
                if r.method == "GET" {
                    s.asked += 1;
                    return Answer::new(200, &format!(r#"{{"nextExpectedRanges": ["{}-"]}}"#, s.bytes[n].len()));
                }
                let range = r.header("content-range").unwrap().to_owned();
                let (span, total) = range.strip_prefix("bytes ").unwrap().split_once('/').unwrap();
                let (a, b) = span.split_once('-').unwrap();
                let (a, b, total): (usize, usize, usize) = (a.parse().unwrap(), b.parse().unwrap(), total.parse().unwrap());
                assert_eq!(b - a + 1, r.body.len());
                let fragment = a / FRAGMENT;
                let attempt = s.puts.iter().filter(|p| **p == (n, fragment)).count();
                s.puts.push((n, fragment));
                match trouble(n, fragment, attempt) {
                    Trouble::Gone => return Answer::new(404, r#"{"error": {"code": "itemNotFound", "message": "gone"}}"#),
                    Trouble::ServerError => return Answer::new(503, r#"{"error": {"code": "serviceNotAvailable", "message": "busy"}}"#),
                    Trouble::None => {}
                }
                assert_eq!(a, s.bytes[n].len(), "fragments in order");
                s.bytes[n].extend_from_slice(&r.body);
                if b + 1 < total {
                    assert_eq!(r.body.len() % 327_680, 0);
                    return Answer::new(202, &format!(r#"{{"nextExpectedRanges": ["{}-"]}}"#, b + 1));
                }
                let q = super::super::quickxor::of(&s.bytes[n]);
                Answer::new(
                    201,
                    &format!(r#"{{"id": "f1", "name": "big.bin", "size": {total}, "file": {{"hashes": {{"quickXorHash": "{q}"}}}}}}"#),
                )
            }
        })
        .await;
        (url, state)
    }

    fn content(len: usize) -> (Vec<u8>, Content) {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        (data.clone(), Content::from_bytes("application/octet-stream", bytes::Bytes::from(data)))
    }

    #[tokio::test]
    async fn a_fragment_that_fails_is_sent_again_from_where_the_session_stands() {
        let (url, state) =
            sessions(|_, fragment, attempt| if fragment == 1 && attempt == 0 { Trouble::ServerError } else { Trouble::None }).await;
        let (cfg, http, settings) = super::super::api::test_side(&url);
        let (data, c) = content(2 * FRAGMENT + 1000);
        let up = upload_in_session(&cfg, &http, &settings, "p", "big.bin", &c, data.len() as u64, None).await.unwrap();
        let s = state.lock().unwrap();
        assert_eq!((s.bytes.len(), s.asked), (1, 1), "one session, asked once where it stood");
        assert_eq!(s.bytes[0], data);
        assert_eq!(up.quickxor, super::super::quickxor::of(&data));
        assert_eq!(up.sha256, c.sha256);
        assert_eq!(up.item["id"], "f1");
    }

    #[tokio::test]
    async fn a_session_that_is_gone_is_started_again() {
        let (url, state) = sessions(|session, fragment, _| if session == 0 && fragment == 1 { Trouble::Gone } else { Trouble::None }).await;
        let (cfg, http, settings) = super::super::api::test_side(&url);
        let (data, c) = content(2 * FRAGMENT + 5);
        upload_in_session(&cfg, &http, &settings, "p", "big.bin", &c, data.len() as u64, None).await.unwrap();
        let s = state.lock().unwrap();
        assert_eq!(s.bytes.len(), 2, "a second session");
        assert_eq!(s.bytes[1], data, "the second session got the whole file");
    }

    #[tokio::test]
    async fn sessions_that_keep_going_away_give_up_for_now() {
        let (url, state) = sessions(|_, fragment, _| if fragment == 1 { Trouble::Gone } else { Trouble::None }).await;
        let (cfg, http, settings) = super::super::api::test_side(&url);
        let (data, c) = content(2 * FRAGMENT);
        let e = upload_in_session(&cfg, &http, &settings, "p", "big.bin", &c, data.len() as u64, None).await.err().unwrap();
        assert!(e.is_transient() && e.to_string().contains("sessions were lost"), "{e}");
        assert_eq!(state.lock().unwrap().bytes.len(), MAX_SESSIONS as usize);
        // a file shorter than it said is not uploaded as if whole
        let (_, short) = content(FRAGMENT + 10);
        let e = upload_in_session(&cfg, &http, &settings, "p", "big.bin", &short, 2 * FRAGMENT as u64, None).await.err().unwrap();
        assert!(matches!(e, ConnectorError::Item(_)), "{e}");
    }

    #[tokio::test]
    async fn hostile_drive_listings_fail_the_items_not_the_export() {
        let url = serve(|r: Request| async move {
            if r.path.starts_with("/v1.0/me/drive/items/unknown") {
                return Answer::new(200, r#"{"id": "unknown", "name": "Later", "parentReference": {"id": "root1"}}"#);
            }
            Answer::new(
                200,
                r#"{"value": [
                    {"id": "root1", "root": {}, "folder": {}},
                    {"id": "d1", "name": "docs", "folder": {}, "parentReference": {"id": "root1"}},
                    {"id": "f1", "name": "a.txt", "size": 3, "file": {"mimeType": "text/plain"}, "eTag": "e1", "parentReference": {"id": "d1"}},
                    {"id": "f2", "name": "..", "size": 3, "file": {}, "parentReference": {"id": "d1"}},
                    {"name": "noid.txt", "file": {}, "parentReference": {"id": "d1"}},
                    {"id": "f3", "name": "late.txt", "size": 1, "file": {}, "parentReference": {"id": "unknown"}},
                    {"id": "n1", "name": "Notebook", "package": {"type": "oneNote"}, "parentReference": {"id": "root1"}},
                    {"id": "gone", "deleted": {"state": "deleted"}, "file": {}}
                ], "@odata.deltaLink": "/v1.0/me/drive/root/delta?token=x"}"#,
            )
        })
        .await;
        let (cfg, http, settings) = super::super::api::test_side(&url);
        let cfg = Arc::new(cfg);
        let mut pages = DrivePages {
            round: Round::new(cfg.clone(), http.clone(), "listing", None, delta_url(&cfg), None, None),
            bare: http.clone().not_following_redirects(&settings).unwrap(),
            cfg,
            http,
            settings,
            paths: HashMap::new(),
        };
        let page = pages.next_page().await.unwrap().unwrap();
        let ok: Vec<(String, String)> =
            page.items.iter().filter_map(|i| i.as_ref().ok()).map(|i| (i.container.clone(), i.id.clone())).collect();
        assert_eq!(ok, [("docs".to_owned(), "f1".to_owned()), ("Later".to_owned(), "f3".to_owned())]);
        let failed: Vec<String> = page.items.iter().filter_map(|i| i.as_ref().err()).map(|e| e.reason.clone()).collect();
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert!(
            failed.iter().any(|f| f.contains("`..`"))
                && failed.iter().any(|f| f.contains("without an id"))
                && failed.iter().any(|f| f.contains("OneNote"))
        );
    }

    #[test]
    fn names_onedrive_refuses_are_made_safe_with_a_warning() {
        let mut w = Vec::new();
        assert_eq!(drive_name("report.pdf", &mut w), "report.pdf");
        assert!(w.is_empty());
        assert_eq!(drive_name("a:b?.txt", &mut w), "a_b_.txt");
        assert_eq!(drive_name(" x ", &mut w), "_x_");
        assert_eq!(drive_name("..", &mut w), "__");
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("`a:b?.txt`"), "{w:?}");
        assert!(safe("a b.txt") && !safe("..") && !safe("a/b") && !safe(""));
        assert_eq!(FRAGMENT % 327_680, 0);
        assert!((FRAGMENT as u64) < 60 << 20);
    }
}
