//! Google Drive as a source (https://developers.google.com/drive/api/reference/rest/v3):
//! the files of My Drive, each under its folder path (the item's container, as the `dir`
//! and `webdav` connectors give theirs). The folders are listed first (their names and
//! parents, to make paths), then the files, 1,000 a page, with only the fields ferry
//! reads. A file's bytes are streamed when its content is read (`alt=media`); a Google
//! Docs, Sheets, Slides or Drawings file is exported (DOCX, XLSX, PPTX, PDF), named with
//! that extension, and says so as a fidelity warning. Incremental by Drive's change log
//! (`changes.getStartPageToken` before a full listing, `changes.list` after).

use super::api;
use super::config::GoogleConfig;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::model::FileEntry;
use ferry_core::{ConnectorError, Content, Item, ItemError, Page, PageStream, Record, Vertical};
use futures::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

pub const FOLDER: &str = "application/vnd.google-apps.folder";
const SHORTCUT: &str = "application/vnd.google-apps.shortcut";
/// The fields of a file ferry reads (Drive answers only `id,name,mimeType` unless asked).
pub const FILE_FIELDS: &str = "id,name,mimeType,size,md5Checksum,modifiedTime,parents,appProperties";
/// Folders of My Drive, at most (their names and parents are held to make paths).
const MAX_FOLDERS: usize = 1_000_000;
/// The most pages one listing may have.
const MAX_PAGES: u32 = 1_000_000;

/// Docs Editors files: the type, the format it is exported as, its extension, and what
/// the two are called.
const EXPORTS: [(&str, &str, &str, &str, &str); 4] = [
    (
        "application/vnd.google-apps.document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        "Google Docs document",
        "Word",
    ),
    (
        "application/vnd.google-apps.spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "Google Sheets spreadsheet",
        "Excel",
    ),
    (
        "application/vnd.google-apps.presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        "Google Slides presentation",
        "PowerPoint",
    ),
    ("application/vnd.google-apps.drawing", "application/pdf", "pdf", "Google Drawings drawing", "PDF"),
];

/// A name as one level of a path: `/` (and NUL) cannot be in one.
pub fn segment(name: &str) -> String {
    name.chars().map(|c| if c == '/' || c == '\0' { '_' } else { c }).collect()
}

/// The folders of My Drive, to make paths.
pub struct Tree {
    root: String,
    /// Folder id -> (name, parent).
    folders: HashMap<String, (String, Option<String>)>,
    /// Paths made so far (none: not under My Drive).
    paths: HashMap<String, Option<String>>,
}

impl Tree {
    pub async fn read(cfg: &GoogleConfig, http: &Http) -> Result<Tree, ConnectorError> {
        let url = cfg.drive("/drive/v3/files/root?fields=id");
        let root: Value = api::json(http, "reading My Drive", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        let root = root["id"].as_str().ok_or_else(|| ConnectorError::Fatal("reading My Drive: Google's answer has no id".into()))?;
        let mut folders = HashMap::new();
        let q = format!("mimeType = '{FOLDER}' and trashed = false");
        let mut token: Option<String> = None;
        loop {
            let mut url =
                cfg.drive(&format!("/drive/v3/files?q={}&pageSize=1000&fields={}", enc(&q), enc("nextPageToken,files(id,name,parents)")));
            if let Some(t) = &token {
                url.push_str(&format!("&pageToken={}", enc(t)));
            }
            let page: Value = api::json(http, "listing Google Drive folders", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            for f in page["files"].as_array().into_iter().flatten() {
                if let (Some(id), Some(name)) = (f["id"].as_str(), f["name"].as_str()) {
                    let parent = f["parents"].as_array().and_then(|p| p.first()).and_then(Value::as_str).map(str::to_owned);
                    folders.insert(id.to_owned(), (name.to_owned(), parent));
                }
            }
            if folders.len() > MAX_FOLDERS {
                return Err(ConnectorError::Fatal(format!("listing Google Drive folders: more than {MAX_FOLDERS}")));
            }
            match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
                Some(t) if token.as_deref() == Some(t) => {
                    return Err(ConnectorError::Fatal("listing Google Drive folders: Google gave the same page token again".into()));
                }
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        Ok(Tree { root: root.to_owned(), folders, paths: HashMap::new() })
    }

    /// The path of folder `id` from My Drive (`""` for My Drive itself); none when it is
    /// not in My Drive (shared with the account, or in a loop).
    pub fn path(&mut self, id: &str) -> Option<String> {
        if id == self.root {
            return Some(String::new());
        }
        if let Some(p) = self.paths.get(id) {
            return p.clone();
        }
        let mut names = Vec::new();
        let mut at = id.to_owned();
        let found = loop {
            if at == self.root {
                break true;
            }
            match self.folders.get(&at) {
                Some((name, Some(parent))) if names.len() < 1000 => {
                    names.push(segment(name));
                    at = parent.clone();
                }
                _ => break false,
            }
        };
        names.reverse();
        let path = found.then(|| names.join("/"));
        self.paths.insert(id.to_owned(), path.clone());
        path
    }
}

pub struct DrivePages {
    cfg: Arc<GoogleConfig>,
    http: Http,
    /// Changes since this page token; none: every file.
    since: Option<String>,
    /// The change token of when this listing began: the next listing starts there.
    mark: Option<String>,
    /// The page to ask for next (of `files.list`, or of `changes.list`).
    token: Option<String>,
    tree: Option<Tree>,
    done: bool,
    pages: u32,
}

impl DrivePages {
    /// `cursor` is what an earlier page of this listing gave (without `full:`/`chg:`):
    /// `MARK:TOKEN`.
    pub fn new(cfg: Arc<GoogleConfig>, http: Http, since: Option<String>, cursor: Option<String>) -> Self {
        let (mut mark, mut token) = (None, None);
        if let Some((m, t)) = cursor.as_deref().and_then(|c| c.split_once(':')) {
            let dec = |s: &str| Some(crate::dav::percent_decode(s)).filter(|s| !s.is_empty());
            (mark, token) = (dec(m), dec(t));
        }
        DrivePages { cfg, http, since, mark, token, tree: None, done: false, pages: 0 }
    }

    fn cursor(&self) -> Option<String> {
        let mode = if self.since.is_some() { "chg" } else { "full" };
        let token = self.token.as_deref()?;
        Some(format!("{mode}:{}:{}", enc(self.mark.as_deref().unwrap_or_default()), enc(token)))
    }

    /// The next page of files: the files, and the token of the page after.
    async fn list(&mut self) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let fields = format!("nextPageToken,files({FILE_FIELDS})");
        let q = format!("mimeType != '{FOLDER}' and trashed = false");
        let mut url = self.cfg.drive(&format!("/drive/v3/files?q={}&pageSize=1000&fields={}", enc(&q), enc(&fields)));
        if let Some(t) = &self.token {
            url.push_str(&format!("&pageToken={}", enc(t)));
        }
        let page: Value =
            api::json(&self.http, "listing Google Drive files", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        let files = page["files"].as_array().cloned().unwrap_or_default();
        Ok((files, page["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_owned)))
    }

    /// The next page of changes; at the last, the token the next listing starts at.
    async fn changes(&mut self, since: &str) -> Result<(Vec<Value>, Option<String>), (ConnectorError, Option<api::Reasons>)> {
        let fields = format!("nextPageToken,newStartPageToken,changes(fileId,removed,file({FILE_FIELDS},trashed))");
        let token = self.token.clone().unwrap_or_else(|| since.to_owned());
        let url = self.cfg.drive(&format!(
            "/drive/v3/changes?pageToken={}&pageSize=1000&includeRemoved=false&spaces=drive&fields={}",
            enc(&token),
            enc(&fields)
        ));
        let page: Value = api::json(&self.http, "listing Google Drive changes", &|| self.http.request("GET", &url)).await?;
        let files = page["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["removed"] != true && c["file"]["trashed"] != true)
            .filter_map(|c| c.get("file").cloned())
            .collect();
        let next = page["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
        if next.is_none() {
            self.mark = Some(page["newStartPageToken"].as_str().map(str::to_owned).ok_or_else(|| {
                (ConnectorError::Fatal("listing Google Drive changes: Google's last page has no newStartPageToken".into()), None)
            })?);
        }
        Ok((files, next))
    }

    /// A file as an item; none for what is no file of My Drive (a folder, a shortcut, a
    /// file shared with the account from elsewhere).
    fn item(&mut self, f: &Value, location: &str) -> Option<Result<Item, ItemError>> {
        let raw_id = f["id"].as_str().unwrap_or_default();
        let fail = |reason: String| {
            Some(Err(ItemError { skipped: false, vertical: Vertical::Files, id: raw_id.to_owned(), location: location.to_owned(), reason }))
        };
        if raw_id.is_empty() || raw_id.len() > 200 || !raw_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return fail(format!("Google Drive listed a file id `{}` that is not one", raw_id.escape_debug()));
        }
        let mime = f["mimeType"].as_str().unwrap_or_default();
        if mime == FOLDER || mime == SHORTCUT {
            return None;
        }
        let Some(name) = f["name"].as_str().filter(|n| !n.is_empty()) else {
            return fail("Google Drive listed a file without a name".into());
        };
        let parent = f["parents"].as_array().and_then(|p| p.first()).and_then(Value::as_str)?;
        let container = self.tree.as_mut().expect("read first").path(parent)?;
        let modified_raw = f["modifiedTime"].as_str().unwrap_or_default();
        let modified = chrono::DateTime::parse_from_rfc3339(modified_raw).ok().map(|d| d.with_timezone(&chrono::Utc));
        let place = hex::encode(&Sha256::digest(format!("{container}\0{name}").as_bytes())[..8]);
        let id = raw_id.to_owned();
        let (name, content, version, warnings) = if let Some((_, to, ext, kind, called)) = EXPORTS.iter().find(|e| e.0 == mime) {
            let mut n = segment(name);
            if !n.to_ascii_lowercase().ends_with(&format!(".{ext}")) {
                n = format!("{n}.{ext}");
            }
            let url = self.cfg.drive(&format!("/drive/v3/files/{id}/export?mimeType={}", enc(to)));
            let source = Get { http: self.http.clone(), url, what: format!("exporting {name} from Google Drive") };
            let content = Content { media_type: (*to).to_owned(), size: None, sha256: None, source: Arc::new(source) };
            let note = format!("a {kind}: exported as {called} (.{ext}, {to}), which may not keep all of what Google's editor has");
            (n, content, format!("{modified_raw}:{place}"), vec![note])
        } else if mime.starts_with("application/vnd.google-apps.") {
            return fail(format!(
                "a Google file of type {mime}: Google Drive gives no export of it (Forms, Sites, My Maps and the like leave through Google Takeout)"
            ));
        } else {
            let size = match &f["size"] {
                Value::String(s) => match s.parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(_) => return fail(format!("Google Drive gave the size `{}`, which is not a number", s.escape_debug())),
                },
                Value::Null => None,
                other => return fail(format!("Google Drive gave the size {other}, which is not a number")),
            };
            let url = self.cfg.drive(&format!("/drive/v3/files/{id}?alt=media"));
            let source = Get { http: self.http.clone(), url, what: format!("reading {name} from Google Drive") };
            let content = Content { media_type: mime.to_owned(), size, sha256: None, source: Arc::new(source) };
            let md5 = f["md5Checksum"].as_str().unwrap_or_default();
            (segment(name), content, format!("{modified_raw}:{md5}:{}:{place}", size.unwrap_or(0)), vec![])
        };
        Some(Ok(Item {
            id,
            container,
            version,
            record: Record::File(FileEntry { name, modified, mode: None }),
            original: None,
            content: Some(content),
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: warnings,
        }))
    }
}

#[async_trait]
impl PageStream for DrivePages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        loop {
            if self.done {
                return Ok(None);
            }
            self.pages += 1;
            if self.pages > MAX_PAGES {
                return Err(ConnectorError::Fatal(format!("listing Google Drive: more than {MAX_PAGES} pages (it would never end)")));
            }
            if self.since.is_none() && self.mark.is_none() {
                // before the listing: what changes while it runs is listed again next time
                let url = self.cfg.drive("/drive/v3/changes/startPageToken");
                let t: Value = api::json(&self.http, "reading Google Drive's change token", &|| self.http.request("GET", &url))
                    .await
                    .map_err(|(e, _)| e)?;
                self.mark = Some(
                    t["startPageToken"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ConnectorError::Fatal("reading Google Drive's change token: Google's answer has none".into()))?,
                );
            }
            if self.tree.is_none() {
                self.tree = Some(Tree::read(&self.cfg, &self.http).await?);
            }
            let (files, next) = match self.since.clone() {
                Some(since) => match self.changes(&since).await {
                    Ok(x) => x,
                    // a token Drive does not take (another account's, or one it forgot)
                    Err((_, Some(r))) if r.has("invalid") || r.has("notFound") || r.sync_expired(0) => {
                        tracing::info!("Google Drive does not take the last listing's change token; listing every file");
                        (self.since, self.mark, self.token) = (None, None, None);
                        continue;
                    }
                    Err((e, _)) => return Err(e),
                },
                None => self.list().await?,
            };
            if next.is_some() && next == self.token {
                return Err(ConnectorError::Fatal("listing Google Drive: Google gave the same page token again".into()));
            }
            let location = format!("Google Drive listing page {}", self.pages);
            let items: Vec<_> = files.iter().filter_map(|f| self.item(f, &location)).collect();
            match next {
                Some(t) => self.token = Some(t),
                None => self.done = true,
            }
            if items.is_empty() {
                continue;
            }
            return Ok(Some(Page { items, cursor: if self.done { None } else { self.cursor() } }));
        }
    }

    fn sync_state(&self) -> Option<String> {
        if self.done { self.mark.clone() } else { None }
    }
}

/// A file's bytes (or a document's export), streamed when read.
struct Get {
    http: Http,
    url: String,
    what: String,
}

#[async_trait]
impl ContentSource for Get {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let resp = api::send_patiently(&self.http, &self.what, &|| self.http.request("GET", &self.url), api::Auth::Account)
            .await
            .map_err(api::as_io)?;
        // a connection lost mid-body is worth another try
        let stream = resp.bytes_stream().map_err(|e| std::io::Error::new(std::io::ErrorKind::Interrupted, e));
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pages() -> DrivePages {
        let cfg = Arc::new(GoogleConfig(crate::service::ServiceAddress { account: "me".into(), api: None, scopes: vec![] }));
        let mut p = DrivePages::new(cfg, Http::new(&crate::Settings::default(), "").unwrap(), None, None);
        let mut folders = HashMap::new();
        folders.insert("f1".to_owned(), ("Projects".to_owned(), Some("root0".to_owned())));
        folders.insert("f2".to_owned(), ("2025/Q1".to_owned(), Some("f1".to_owned())));
        folders.insert("loop1".to_owned(), ("a".to_owned(), Some("loop2".to_owned())));
        folders.insert("loop2".to_owned(), ("b".to_owned(), Some("loop1".to_owned())));
        p.tree = Some(Tree { root: "root0".into(), folders, paths: HashMap::new() });
        p
    }

    #[test]
    fn files_get_their_folder_path_and_docs_their_export() {
        let mut p = pages();
        let f = json!({"id": "a1", "name": "report.pdf", "mimeType": "application/pdf", "size": "1234", "md5Checksum": "x",
            "modifiedTime": "2025-03-01T10:00:00.000Z", "parents": ["f2"]});
        let item = p.item(&f, "here").unwrap().unwrap();
        assert_eq!((item.container.as_str(), item.content.as_ref().unwrap().size), ("Projects/2025_Q1", Some(1234)));
        let Record::File(e) = &item.record else { panic!() };
        assert_eq!(e.modified.unwrap().to_rfc3339(), "2025-03-01T10:00:00+00:00");
        let doc = json!({"id": "d1", "name": "Plan", "mimeType": "application/vnd.google-apps.document", "parents": ["root0"],
            "modifiedTime": "2025-03-01T10:00:00.000Z"});
        let item = p.item(&doc, "here").unwrap().unwrap();
        let Record::File(e) = &item.record else { panic!() };
        assert_eq!((e.name.as_str(), item.container.as_str()), ("Plan.docx", ""));
        assert!(item.source_warnings[0].contains("Word (.docx"), "{:?}", item.source_warnings);
        assert!(item.content.as_ref().unwrap().media_type.contains("wordprocessingml"));
        // a rename is a new version; the same file listed again is the same version
        let renamed = json!({"id": "a1", "name": "report-final.pdf", "mimeType": "application/pdf", "size": "1234", "md5Checksum": "x",
            "modifiedTime": "2025-03-01T10:00:00.000Z", "parents": ["f2"]});
        assert_ne!(p.item(&renamed, "here").unwrap().unwrap().version, p.item(&f, "here").unwrap().unwrap().version);
        assert_eq!(p.item(&f, "here").unwrap().unwrap().version, p.item(&f, "here").unwrap().unwrap().version);
    }

    #[test]
    fn what_is_no_file_of_my_drive_is_passed_over_and_what_is_broken_fails() {
        let mut p = pages();
        for f in [
            json!({"id": "s1", "name": "x", "mimeType": FOLDER, "parents": ["root0"]}),
            json!({"id": "s2", "name": "x", "mimeType": SHORTCUT, "parents": ["root0"]}),
            json!({"id": "s3", "name": "x", "mimeType": "text/plain", "size": "1", "parents": ["elsewhere"]}),
            json!({"id": "s4", "name": "x", "mimeType": "text/plain", "size": "1"}),
            json!({"id": "s5", "name": "x", "mimeType": "text/plain", "size": "1", "parents": ["loop1"]}),
        ] {
            assert!(p.item(&f, "here").is_none(), "{f}");
        }
        for (f, says) in [
            (json!({"name": "x", "mimeType": "text/plain", "parents": ["root0"]}), "not one"),
            (json!({"id": "../../etc", "name": "x", "mimeType": "text/plain", "parents": ["root0"]}), "not one"),
            (json!({"id": "b1", "mimeType": "text/plain", "parents": ["root0"]}), "without a name"),
            (json!({"id": "b2", "name": "x", "mimeType": "text/plain", "size": "-5", "parents": ["root0"]}), "not a number"),
            (json!({"id": "b3", "name": "x", "mimeType": "text/plain", "size": [], "parents": ["root0"]}), "not a number"),
            (json!({"id": "b4", "name": "Survey", "mimeType": "application/vnd.google-apps.form", "parents": ["root0"]}), "Takeout"),
        ] {
            let e = p.item(&f, "here").unwrap().unwrap_err();
            assert!(e.reason.contains(says), "{f}: {e}");
        }
    }

    #[test]
    fn a_cursor_reads_back() {
        let cfg = Arc::new(GoogleConfig(crate::service::ServiceAddress { account: "me".into(), api: None, scopes: vec![] }));
        let http = Http::new(&crate::Settings::default(), "").unwrap();
        let p = DrivePages::new(cfg.clone(), http.clone(), None, Some("12:a%3Ab".into()));
        assert_eq!((p.mark.as_deref(), p.token.as_deref()), (Some("12"), Some("a:b")));
        assert_eq!(p.cursor().as_deref(), Some("full:12:a%3Ab"));
        let p = DrivePages::new(cfg, http, Some("7".into()), None);
        assert_eq!(p.cursor(), None, "no page asked for yet");
    }
}
