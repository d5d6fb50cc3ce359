//! Google Drive as a destination: each file goes under its container's folders in My
//! Drive (found by name under their parent, made when missing), uploaded in a resumable
//! session (see [`super::upload`]) with its modification time. Each file ferry makes
//! carries, in its `appProperties` (private to the app), ferry's key of the item (a hash
//! of source and id) and a hash of the item's version: a folder's files are read once,
//! before the first file goes into it, so that a rerun leaves a file alone, or updates it
//! in place when the item changed, instead of making a second one.

use super::api;
use super::config::{DRIVE, DRIVE_FILE, GoogleConfig};
use super::drive::FOLDER;
use super::upload::{Upload, chunk_size};
use crate::http::{Http, encode_component as enc};
use ferry_core::{ConnectorError, Item, PutOutcome, Record};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tokio::sync::Mutex;

const KEY: &str = "ferry-key";
const VERSION: &str = "ferry-version";

/// What ferry put into one folder: key -> (file id, version hash).
type Held = HashMap<String, (String, String)>;

pub struct FileWriter {
    /// Folder path -> id (`""`: My Drive).
    folders: Mutex<HashMap<String, String>>,
    /// Folder id -> what ferry put there before.
    held: Mutex<HashMap<String, Held>>,
}

/// A string inside single quotes of a Drive query.
fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..16])
}

impl FileWriter {
    pub fn new() -> FileWriter {
        FileWriter { folders: Mutex::new(HashMap::new()), held: Mutex::new(HashMap::new()) }
    }

    /// `key` names the item for ferry (the same on every run).
    pub async fn put(&self, cfg: &GoogleConfig, http: &Http, item: &Item, key: &str) -> Result<PutOutcome, ConnectorError> {
        cfg.require(&[DRIVE, DRIVE_FILE], "writing Google Drive files")?;
        let Record::File(f) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to Google Drive", item.vertical())));
        };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("a file without content".into()))?;
        let name = if f.name.trim().is_empty() { "Untitled".to_owned() } else { f.name.clone() };
        let folder = self.folder(cfg, http, &item.container).await?;
        let version = short_hash(&item.version);
        let known = self.known(cfg, http, &folder, key).await?;
        let mut meta = json!({"name": name, "appProperties": {VERSION: version}});
        if let Some(t) = f.modified {
            meta["modifiedTime"] = t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into();
        }
        let (url, method, what) = match &known {
            Some((id, v)) if *v == version => {
                return Ok(PutOutcome { dest_id: id.clone(), created: false, warnings: vec![], sha256: content.sha256.clone() });
            }
            Some((id, _)) => (
                cfg.drive(&format!("/upload/drive/v3/files/{}?uploadType=resumable&fields=id", enc(id))),
                "PATCH",
                format!("updating {name} in Google Drive"),
            ),
            None => {
                meta["parents"] = json!([folder]);
                meta["appProperties"][KEY] = key.into();
                (cfg.drive("/upload/drive/v3/files?uploadType=resumable&fields=id"), "POST", format!("uploading {name} to Google Drive"))
            }
        };
        let start = || {
            let mut r = api::with_json(http.request(method, &url), &meta).header("X-Upload-Content-Type", content.media_type.as_str());
            if let Some(n) = content.size {
                r = r.header("X-Upload-Content-Length", n);
            }
            r
        };
        let made = Upload { http, what: &what, start: &start, content, chunk: chunk_size() }.run().await;
        let made = match made {
            Ok(v) => v,
            Err(e) => {
                if e.is_transient() && known.is_none() {
                    // made or not? the folder is read again before the file is made again
                    self.held.lock().await.remove(&folder);
                }
                return Err(e);
            }
        };
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal(format!("{what}: Google's answer has no file id")))?;
        self.held.lock().await.entry(folder).or_default().insert(key.to_owned(), (id.to_owned(), version));
        Ok(PutOutcome { dest_id: id.to_owned(), created: true, warnings: vec![], sha256: content.sha256.clone() })
    }

    /// The id of the folder at `path` from My Drive, each missing level made.
    async fn folder(&self, cfg: &GoogleConfig, http: &Http, path: &str) -> Result<String, ConnectorError> {
        let mut known = self.folders.lock().await;
        if !known.contains_key("") {
            let url = cfg.drive("/drive/v3/files/root?fields=id");
            let root: Value = api::json(http, "reading My Drive", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            let id = root["id"].as_str().ok_or_else(|| ConnectorError::Fatal("reading My Drive: Google's answer has no id".into()))?;
            known.insert(String::new(), id.to_owned());
        }
        let mut at = String::new();
        let mut parent = known[""].clone();
        for seg in path.split('/').map(str::trim).filter(|s| !s.is_empty()) {
            at = if at.is_empty() { seg.to_owned() } else { format!("{at}/{seg}") };
            if let Some(id) = known.get(&at) {
                parent = id.clone();
                continue;
            }
            let q = format!("'{}' in parents and name = '{}' and mimeType = '{FOLDER}' and trashed = false", quoted(&parent), quoted(seg));
            let url = cfg.drive(&format!("/drive/v3/files?q={}&pageSize=10&fields={}", enc(&q), enc("files(id)")));
            let what = format!("looking for the folder {at} in Google Drive");
            let found: Value = api::json(http, &what, &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            let id = match found["files"].as_array().and_then(|f| f.first()).and_then(|f| f["id"].as_str()) {
                Some(id) => id.to_owned(),
                None => {
                    let url = cfg.drive("/drive/v3/files?fields=id");
                    let body = json!({"name": seg, "mimeType": FOLDER, "parents": [parent]});
                    let what = format!("making the folder {at} in Google Drive");
                    let made: Value =
                        api::json(http, &what, &|| api::with_json(http.request("POST", &url), &body)).await.map_err(|(e, _)| e)?;
                    made["id"].as_str().ok_or_else(|| ConnectorError::Fatal(format!("{what}: Google's answer has no id")))?.to_owned()
                }
            };
            known.insert(at.clone(), id.clone());
            parent = id;
        }
        Ok(parent)
    }

    /// What ferry put into folder `id` under `key` before (the folder read from Drive once).
    async fn known(&self, cfg: &GoogleConfig, http: &Http, id: &str, key: &str) -> Result<Option<(String, String)>, ConnectorError> {
        let mut held = self.held.lock().await;
        if !held.contains_key(id) {
            held.insert(id.to_owned(), read_folder(cfg, http, id).await?);
        }
        Ok(held[id].get(key).cloned())
    }
}

/// The files of folder `id` that carry ferry's key.
async fn read_folder(cfg: &GoogleConfig, http: &Http, id: &str) -> Result<Held, ConnectorError> {
    let mut out = Held::new();
    let q = format!("'{}' in parents and trashed = false", quoted(id));
    let mut token: Option<String> = None;
    loop {
        let mut url =
            cfg.drive(&format!("/drive/v3/files?q={}&pageSize=1000&fields={}", enc(&q), enc("nextPageToken,files(id,appProperties)")));
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let page: Value = api::json(http, "reading a Google Drive folder", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        for f in page["files"].as_array().into_iter().flatten() {
            let prop = |k: &str| f["appProperties"][k].as_str();
            if let (Some(file), Some(key)) = (f["id"].as_str(), prop(KEY)) {
                out.insert(key.to_owned(), (file.to_owned(), prop(VERSION).unwrap_or_default().to_owned()));
            }
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("reading a Google Drive folder: Google gave the same page token again".into()));
            }
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_for_drive_queries() {
        assert_eq!(quoted(r"Tom's \ files"), r"Tom\'s \\ files");
        assert_eq!(short_hash("v1").len(), 32);
        assert_ne!(short_hash("v1"), short_hash("v2"));
    }
}
