//! Outlook mail through Graph (https://learn.microsoft.com/graph/api/resources/mail-api-overview):
//! mail folders as containers, named as the IMAP connector names folders (the well-known
//! ones `INBOX`, `Sent`, `Drafts`, `Trash`, `Junk`, `Archive`; a subfolder by its path,
//! `INBOX/Receipts`), each message's MIME (`$value`) as the item's content byte for byte.
//!
//! Written by posting the MIME (base64, `text/plain`) into the folder, then setting read,
//! flagged and categories. Graph keeps a message written this way as a draft dated at the
//! import (its Date header stays as the sent date), which is a fidelity warning on each
//! message; a message over Graph's 4 MB request limit fails with that reason. Graph has no
//! place for ferry's key on a MIME message: a message is found again by its folder and
//! Message-ID (or, without one, its Date and Subject), each folder read once.

use super::api;
use super::config::MicrosoftConfig;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use base64::Engine;
use ferry_core::content::{BoxRead, ContentSource};
use ferry_core::model::MailMessage;
use ferry_core::{ConnectorError, Content, Item, PutOutcome, Record};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

/// The fields of a message each listing asks for (`$select`).
pub const SELECT: &str =
    "id,changeKey,internetMessageId,subject,from,toRecipients,ccRecipients,sentDateTime,receivedDateTime,isRead,isDraft,flag,categories";

/// Graph's largest message request (user-post-messages: "limited to 4 MB"); the MIME
/// travels in base64, a third larger than the message.
pub const MAX_REQUEST: u64 = 4 << 20;

/// The largest message ferry reads from Outlook (Outlook's own limit is 150 MB).
const MAX_MESSAGE: u64 = 1 << 30;

/// Outlook's well-known folders and their IMAP-style names (the special-use folders of
/// RFC 6154 as the IMAP connector names them).
const WELL_KNOWN: [(&str, &str); 6] = [
    ("inbox", "INBOX"),
    ("sentitems", "Sent"),
    ("drafts", "Drafts"),
    ("deleteditems", "Trash"),
    ("junkemail", "Junk"),
    ("archive", "Archive"),
];

/// The well-known folder a container's first level stands for (as IMAP servers, mail
/// programs and Outlook itself name them), if any.
fn well_known(name: &str) -> Option<&'static str> {
    Some(match name.to_lowercase().as_str() {
        "inbox" => "inbox",
        "sent" | "sent items" | "sent messages" | "sent mail" => "sentitems",
        "drafts" => "drafts",
        "trash" | "deleted" | "deleted items" | "deleted messages" => "deleteditems",
        "junk" | "spam" | "junk email" | "junk e-mail" => "junkemail",
        "archive" => "archive",
        _ => return None,
    })
}

/// A mail folder of the account.
#[derive(Debug, Clone)]
pub struct Folder {
    pub id: String,
    /// Its path of names (`INBOX/Receipts`).
    pub container: String,
    /// Outlook's Drafts folder: there a draft is a `\Draft`.
    pub drafts: bool,
}

/// Folders deeper than this are not read (a loop in what Graph answers).
const MAX_DEPTH: usize = 64;
const MAX_FOLDERS: usize = 100_000;

/// Every mail folder (hidden ones aside), the Inbox first, then by path; child folders
/// are walked where Graph says there are some.
pub async fn folders(cfg: &MicrosoftConfig, http: &Http) -> Result<Vec<Folder>, ConnectorError> {
    let mut named: HashMap<String, &'static str> = HashMap::new();
    for (wk, container) in WELL_KNOWN {
        let url = cfg.graph(&format!("/v1.0/me/mailFolders/{wk}?$select=id"));
        match api::json::<Value>(http, &format!("finding the {wk} folder"), &|| http.request("GET", &url)).await {
            Ok(f) => {
                if let Some(id) = f["id"].as_str() {
                    named.insert(id.to_owned(), container);
                }
            }
            // a mailbox without an Archive folder
            Err((ConnectorError::NotFound(_), _)) => {}
            Err((e, _)) => return Err(e),
        }
    }
    let select = "$top=100&$select=id,displayName,childFolderCount";
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![(cfg.graph(&format!("/v1.0/me/mailFolders?{select}")), String::new(), 0usize)];
    while let Some((url, prefix, depth)) = todo.pop() {
        for f in api::all(cfg, http, "listing mail folders", url).await? {
            let (Some(id), Some(name)) = (f["id"].as_str(), f["displayName"].as_str()) else { continue };
            if !seen.insert(id.to_owned()) || name.is_empty() {
                continue;
            }
            let own = named.get(id).copied().filter(|_| prefix.is_empty());
            let container = match own {
                Some(c) => c.to_owned(),
                None if prefix.is_empty() => name.to_owned(),
                None => format!("{prefix}/{name}"),
            };
            if f["childFolderCount"].as_u64().unwrap_or(0) > 0 && depth < MAX_DEPTH {
                let children = cfg.graph(&format!("/v1.0/me/mailFolders/{}/childFolders?{select}", enc(id)));
                todo.push((children, container.clone(), depth + 1));
            }
            out.push(Folder { id: id.to_owned(), container, drafts: own == Some("Drafts") });
            if out.len() > MAX_FOLDERS {
                return Err(ConnectorError::Fatal(format!("listing mail folders: more than {MAX_FOLDERS}")));
            }
        }
    }
    out.sort_by(|a, b| (a.container != "INBOX", &a.container).cmp(&(b.container != "INBOX", &b.container)));
    Ok(out)
}

/// The first delta request of a folder.
pub fn delta_url(cfg: &MicrosoftConfig, folder: &str) -> String {
    cfg.graph(&format!("/v1.0/me/mailFolders/{}/messages/delta?$select={SELECT}", enc(folder)))
}

fn address(r: &Value) -> Option<String> {
    let a = r["emailAddress"]["address"].as_str().filter(|a| !a.is_empty());
    let n = r["emailAddress"]["name"].as_str().filter(|n| !n.is_empty() && Some(*n) != a);
    match (n, a) {
        (Some(n), Some(a)) => Some(format!("{n} <{a}>")),
        (None, Some(a)) => Some(a.to_owned()),
        (Some(n), None) => Some(n.to_owned()),
        (None, None) => None,
    }
}

fn time(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// The IMAP-style flags of a Graph message: `\Seen`, `\Flagged`, `\Draft` (in Drafts
/// only: everywhere else a draft is what a MIME import makes, not what the sender
/// meant), and its categories as keywords.
pub fn flags_of(g: &Value, drafts: bool) -> Vec<String> {
    let mut flags = Vec::new();
    if g["isRead"] == true {
        flags.push("\\Seen".to_owned());
    }
    if g["flag"]["flagStatus"] == "flagged" {
        flags.push("\\Flagged".to_owned());
    }
    if drafts && g["isDraft"] == true {
        flags.push("\\Draft".to_owned());
    }
    let mut keywords: Vec<String> =
        g["categories"].as_array().into_iter().flatten().filter_map(Value::as_str).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    keywords.sort();
    keywords.dedup();
    flags.sort();
    flags.extend(keywords);
    flags
}

/// The item of a message Graph listed in `folder`; its MIME is read when the item is.
pub fn item(g: &Value, id: &str, folder: &Folder, cfg: &Arc<MicrosoftConfig>, http: &Http) -> Item {
    let s = |f: &str| g[f].as_str().filter(|x| !x.is_empty()).map(str::to_owned);
    let list = |f: &str| g[f].as_array().into_iter().flatten().filter_map(address).collect::<Vec<_>>();
    let record = MailMessage {
        message_id: s("internetMessageId"),
        subject: s("subject"),
        from: address(&g["from"]),
        to: list("toRecipients"),
        cc: list("ccRecipients"),
        date: time(&g["sentDateTime"]),
        received: time(&g["receivedDateTime"]),
        flags: flags_of(g, folder.drafts),
        ..Default::default()
    };
    let version = s("changeKey").or_else(|| s("@odata.etag")).unwrap_or_else(|| record.flags.join(" "));
    let source = Arc::new(Mime { cfg: cfg.clone(), http: http.clone(), id: id.to_owned() });
    Item {
        id: id.to_owned(),
        container: folder.container.clone(),
        version,
        record: Record::Mail(record),
        original: None,
        content: Some(Content { media_type: "message/rfc822".into(), size: None, sha256: None, source }),
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    }
}

/// A message's MIME (`GET /me/messages/{id}/$value`), streamed when read.
struct Mime {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    id: String,
}

#[async_trait]
impl ContentSource for Mime {
    async fn open(&self) -> std::io::Result<BoxRead> {
        let what = format!("reading message {}", self.id);
        let url = self.cfg.graph(&format!("/v1.0/me/messages/{}/$value", enc(&self.id)));
        api::open_retrying(&what, || async {
            let inflight = api::permit(&self.http).await;
            let resp = self.http.send(&what, &|| self.http.request("GET", &url)).await?;
            if !resp.status().is_success() {
                return Err(api::error(&what, resp).await.0);
            }
            Ok(api::body_reader(what.clone(), resp, MAX_MESSAGE, Some(inflight)))
        })
        .await
    }
}

/// What Graph holds of a message, enough to find it again and to tell whether its flags
/// are those to write.
#[derive(Debug, Clone)]
struct Held {
    id: String,
    /// Its Message-ID, without angle brackets and white space.
    mid: Option<String>,
    /// Its Date (Graph's `sentDateTime`) and Subject, for a message without Message-ID.
    dated: Option<(i64, String)>,
    /// Its sender's address and Subject (both lower case), for a message without
    /// Message-ID and Date (Outlook dates such a message at its import).
    sent_by: (String, String),
    marks: Marks,
    /// The item of this run that claimed it.
    by: Option<String>,
}

/// Read, flagged and categories: what can be set on a message once written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marks {
    read: bool,
    flagged: bool,
    categories: Vec<String>,
}

impl Marks {
    fn of_graph(g: &Value) -> Marks {
        let mut categories: Vec<String> =
            g["categories"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        categories.sort();
        categories.dedup();
        Marks { read: g["isRead"] == true, flagged: g["flag"]["flagStatus"] == "flagged", categories }
    }

    /// The marks of IMAP-style flags, and a warning for each flag Outlook has no place for.
    fn of_flags(flags: &[String], w: &mut Vec<String>) -> Marks {
        let mut m = Marks { read: false, flagged: false, categories: Vec::new() };
        for f in flags {
            match f.to_ascii_lowercase().as_str() {
                "\\seen" => m.read = true,
                "\\flagged" => m.flagged = true,
                // a message written through Graph is a draft anyway; \Recent is the server's
                "\\draft" | "\\recent" => {}
                _ if f.starts_with('\\') || f.starts_with('$') => w.push(format!("flag {f}: Outlook has no place for it")),
                _ => m.categories.push(f.clone()),
            }
        }
        m.categories.sort();
        m.categories.dedup();
        m
    }

    fn body(&self) -> Value {
        json!({"isRead": self.read, "flag": {"flagStatus": if self.flagged { "flagged" } else { "notFlagged" }}, "categories": self.categories})
    }
}

fn normal_mid(m: &str) -> Option<String> {
    let m: String = m.chars().filter(|c| !c.is_whitespace()).collect();
    let m = m.trim_start_matches('<').trim_end_matches('>');
    (!m.is_empty()).then(|| m.to_owned())
}

fn normal_subject(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The address of a `From` header (`Name <addr>` or `addr`), lower case.
fn sender(from: &str) -> String {
    from.rsplit_once('<').map_or(from, |(_, a)| a.trim_end_matches('>')).trim().to_lowercase()
}

/// How a message to write is found among those held: by Message-ID, else by Date and
/// Subject, else by sender and Subject and then by its bytes, else not at all.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Mid(String),
    Dated(i64, String),
    /// Sender's address and Subject: the candidates, whose MIME is compared.
    Undated(String, String),
    None,
}

impl Key {
    fn of(meta: &MailMessage) -> Key {
        match (meta.message_id.as_deref().and_then(normal_mid), meta.date) {
            (Some(m), _) => Key::Mid(m),
            (None, Some(d)) => Key::Dated(d.timestamp(), normal_subject(meta.subject.as_deref().unwrap_or_default())),
            (None, None) => {
                let (from, subject) =
                    (sender(meta.from.as_deref().unwrap_or_default()), normal_subject(meta.subject.as_deref().unwrap_or_default()));
                if from.is_empty() && subject.is_empty() { Key::None } else { Key::Undated(from, subject) }
            }
        }
    }

    fn matches(&self, h: &Held) -> bool {
        match self {
            Key::Mid(m) => h.mid.as_deref() == Some(m.as_str()),
            Key::Dated(t, s) => h.dated.as_ref().is_some_and(|(ht, hs)| ht == t && hs == s),
            Key::Undated(f, s) => h.sent_by.0 == *f && h.sent_by.1 == *s,
            Key::None => false,
        }
    }
}

/// Writes messages into folders named by their containers (made when missing; the Inbox
/// for none).
#[derive(Default)]
pub struct MailWriter {
    /// Container path (lower case) -> folder id.
    paths: Mutex<HashMap<String, String>>,
    /// Folder id ("" for the root) -> its child folders by name (lower case) -> id.
    children: Mutex<HashMap<String, HashMap<String, String>>>,
    /// Folder id -> the messages it holds.
    held: Mutex<HashMap<String, Vec<Held>>>,
}

/// A message Graph would refuse for its size.
fn too_large(bytes: u64) -> ConnectorError {
    ConnectorError::Item(format!(
        "Graph takes a message of at most 4 MB ({MAX_REQUEST} bytes of request, the MIME in base64); this one is {bytes} bytes, \
         {} in base64: not written (IMAP to Outlook takes larger ones)",
        base64_len(bytes)
    ))
}

fn base64_len(n: u64) -> u64 {
    n.div_ceil(3) * 4
}

/// The largest MIME whose base64 fits in one request.
const MAX_MIME: u64 = MAX_REQUEST / 4 * 3;

impl MailWriter {
    /// The id of a well-known folder (`inbox`).
    async fn well_known_id(&self, cfg: &MicrosoftConfig, http: &Http, wk: &str) -> Result<String, ConnectorError> {
        let url = cfg.graph(&format!("/v1.0/me/mailFolders/{wk}?$select=id"));
        let f: Value = api::json(http, &format!("finding the {wk} folder"), &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        f["id"].as_str().map(str::to_owned).ok_or_else(|| ConnectorError::Fatal(format!("Graph gave the {wk} folder without an id")))
    }

    /// The child folder `name` of `parent` ("" for the top), made when missing.
    async fn child(&self, cfg: &MicrosoftConfig, http: &Http, parent: &str, name: &str) -> Result<String, ConnectorError> {
        let list_url = |parent: &str| match parent {
            "" => cfg.graph("/v1.0/me/mailFolders?includeHiddenFolders=true&$top=100&$select=id,displayName"),
            p => cfg
                .graph(&format!("/v1.0/me/mailFolders/{}/childFolders?includeHiddenFolders=true&$top=100&$select=id,displayName", enc(p))),
        };
        let mut children = self.children.lock().await;
        for fresh in [false, true] {
            if fresh || !children.contains_key(parent) {
                let all = api::all(cfg, http, "listing mail folders", list_url(parent)).await?;
                let named = api::named(&all).into_iter().map(|(id, n)| (n.to_lowercase(), id)).collect();
                children.insert(parent.to_owned(), named);
            }
            if let Some(id) = children.get(parent).and_then(|c| c.get(&name.to_lowercase())) {
                return Ok(id.clone());
            }
            if fresh {
                break;
            }
            let url = match parent {
                "" => cfg.graph("/v1.0/me/mailFolders"),
                p => cfg.graph(&format!("/v1.0/me/mailFolders/{}/childFolders", enc(p))),
            };
            let body = json!({"displayName": name});
            let what = format!("making mail folder `{name}`");
            match api::json::<Value>(http, &what, &|| api::with_json(http.request("POST", &url), &body)).await {
                Ok(made) => {
                    let id =
                        made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a folder without an id".into()))?.to_owned();
                    children.entry(parent.to_owned()).or_default().insert(name.to_lowercase(), id.clone());
                    return Ok(id);
                }
                // made meanwhile (by another ferry, or hidden from the listing): read again
                Err((ConnectorError::Conflict(_), _)) => continue,
                Err((e, _)) => return Err(e),
            }
        }
        Err(ConnectorError::Item(format!("Outlook says a mail folder `{name}` exists, but does not list it")))
    }

    /// The folder of a container, made when missing: its first level may be a well-known
    /// folder (`INBOX`, `Sent`, `Trash`...); none is the Inbox.
    async fn folder(&self, cfg: &MicrosoftConfig, http: &Http, container: &str) -> Result<String, ConnectorError> {
        let key = container.to_lowercase();
        if let Some(id) = self.paths.lock().await.get(&key) {
            return Ok(id.clone());
        }
        let levels: Vec<&str> = container.split('/').filter(|l| !l.trim().is_empty()).collect();
        let (mut id, rest) = match levels.first().and_then(|l| well_known(l)) {
            Some(wk) => (self.well_known_id(cfg, http, wk).await?, &levels[1..]),
            None if levels.is_empty() => (self.well_known_id(cfg, http, "inbox").await?, &levels[..]),
            None => (String::new(), &levels[..]),
        };
        for level in rest {
            id = self.child(cfg, http, &id, level).await?;
        }
        self.paths.lock().await.insert(key, id.clone());
        Ok(id)
    }

    /// Reads what `folder` holds, once (again after `stale`), keeping the claims made.
    async fn read_folder(&self, cfg: &MicrosoftConfig, http: &Http, folder: &str, stale: bool) -> Result<(), ConnectorError> {
        let mut held = self.held.lock().await;
        if held.contains_key(folder) && !stale {
            return Ok(());
        }
        let first = cfg.graph(&format!(
            "/v1.0/me/mailFolders/{}/messages?$top=1000&$select=internetMessageId,subject,from,sentDateTime,isRead,flag,categories",
            enc(folder)
        ));
        let all = api::all(cfg, http, "reading the folder's messages", first).await?;
        let before: HashMap<String, String> =
            held.get(folder).into_iter().flatten().filter_map(|h| Some((h.id.clone(), h.by.clone()?))).collect();
        let list = all
            .iter()
            .filter_map(|g| {
                let id = g["id"].as_str()?.to_owned();
                let dated = time(&g["sentDateTime"]).map(|t| (t.timestamp(), normal_subject(g["subject"].as_str().unwrap_or_default())));
                Some(Held {
                    mid: g["internetMessageId"].as_str().and_then(normal_mid),
                    dated,
                    sent_by: (
                        g["from"]["emailAddress"]["address"].as_str().unwrap_or_default().trim().to_lowercase(),
                        normal_subject(g["subject"].as_str().unwrap_or_default()),
                    ),
                    marks: Marks::of_graph(g),
                    by: before.get(&id).cloned(),
                    id,
                })
            })
            .collect();
        held.insert(folder.to_owned(), list);
        Ok(())
    }

    /// The held message of `key` for `item`: the one it claimed before, else the first
    /// nobody claimed (claimed now). A message known by its sender and subject only is
    /// the one of those whose MIME is `bytes`.
    async fn claim(
        &self,
        cfg: &MicrosoftConfig,
        http: &Http,
        folder: &str,
        key: &Key,
        item: &str,
        bytes: &[u8],
    ) -> Result<Option<Held>, ConnectorError> {
        let open = |h: &Held| key.matches(h) && (h.by.is_none() || h.by.as_deref() == Some(item));
        let candidates: Vec<String> = match key {
            Key::Undated(..) => {
                self.held.lock().await.get(folder).into_iter().flatten().filter(|h| open(h)).map(|h| h.id.clone()).collect()
            }
            _ => Vec::new(),
        };
        let mut same = None;
        if !candidates.is_empty() {
            let sha = ferry_core::content::sha256_hex(bytes);
            for id in candidates.into_iter().take(SAME_SENDER) {
                if mime_sha(cfg, http, &id).await?.as_deref() == Some(sha.as_str()) {
                    same = Some(id);
                    break;
                }
            }
            if same.is_none() {
                return Ok(None);
            }
        }
        let mut held = self.held.lock().await;
        let Some(list) = held.get_mut(folder) else { return Ok(None) };
        let at = match same {
            Some(id) => list.iter().position(|h| h.id == id && open(h)),
            None => list
                .iter()
                .position(|h| h.by.as_deref() == Some(item) && key.matches(h))
                .or_else(|| list.iter().position(|h| h.by.is_none() && key.matches(h))),
        };
        let Some(at) = at else { return Ok(None) };
        list[at].by = Some(item.to_owned());
        Ok(Some(list[at].clone()))
    }

    async fn record(&self, folder: &str, h: Held) {
        let mut held = self.held.lock().await;
        let list = held.entry(folder.to_owned()).or_default();
        match list.iter_mut().find(|x| x.id == h.id) {
            Some(x) => *x = h,
            None => list.push(h),
        }
    }

    pub async fn put(&self, cfg: &MicrosoftConfig, http: &Http, item: &Item) -> Result<PutOutcome, ConnectorError> {
        let Record::Mail(m) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to Outlook mail", item.vertical())));
        };
        let content = item.content.as_ref().ok_or_else(|| ConnectorError::Item("the message has no content to write".into()))?;
        if let Some(n) = content.size.filter(|n| *n > MAX_MIME) {
            return Err(too_large(n));
        }
        let bytes = read_message(content).await?;
        let meta = ferry_codecs::mail_meta::read_meta(&bytes);
        let mut warnings = Vec::new();
        let marks = Marks::of_flags(&m.flags, &mut warnings);
        warnings.push(match m.received.or(meta.date) {
            Some(t) => format!(
                "received date: Graph writes a message as a draft dated at the import; {} is not kept (the Date header stays as the sent date)",
                t.to_rfc3339()
            ),
            None => "received date: Graph writes a message as a draft dated at the import".into(),
        });
        let key = Key::of(&meta);
        if key == Key::None {
            warnings.push(
                "Message-ID: the message has no Message-ID, Date, sender or Subject, by which Outlook could find it again: a rerun writes it again"
                    .into(),
            );
        }
        let folder = self.folder(cfg, http, &item.container).await?;
        self.read_folder(cfg, http, &folder, false).await?;
        let sha256 = Some(ferry_core::content::sha256_hex(&bytes));
        let (id, now) = match self.claim(cfg, http, &folder, &key, &item.id, &bytes).await? {
            Some(h) if h.marks == marks => return Ok(PutOutcome { dest_id: h.id, created: false, warnings, sha256 }),
            Some(h) => (h.id, h.marks),
            None => {
                let made = match self.post(cfg, http, &folder, &bytes).await {
                    Ok(made) => made,
                    Err(e) => {
                        // the message may have been made and the answer lost: read the folder again on a retry
                        if e.is_transient() {
                            self.read_folder(cfg, http, &folder, true).await.ok();
                        }
                        return Err(e);
                    }
                };
                let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a message without an id".into()))?.to_owned();
                let mut h = Held {
                    id: id.clone(),
                    mid: None,
                    dated: None,
                    sent_by: match &key {
                        Key::Undated(f, s) => (f.clone(), s.clone()),
                        _ => Default::default(),
                    },
                    marks: Marks::of_graph(&made),
                    by: Some(item.id.clone()),
                };
                h.mid = made["internetMessageId"].as_str().and_then(normal_mid);
                h.dated = match &key {
                    Key::Dated(t, s) => Some((*t, s.clone())),
                    _ => None,
                };
                let now = h.marks.clone();
                self.record(&folder, h).await;
                (id, now)
            }
        };
        if now != marks {
            let url = cfg.graph(&format!("/v1.0/me/messages/{}", enc(&id)));
            let body = marks.body();
            let _: Value = api::json(http, &format!("marking message {id}"), &|| api::with_json(http.request("PATCH", &url), &body))
                .await
                .map_err(|(e, _)| e)?;
            let mut held = self.held.lock().await;
            if let Some(h) = held.get_mut(&folder).and_then(|l| l.iter_mut().find(|h| h.id == id)) {
                h.marks = marks;
            }
        }
        Ok(PutOutcome { dest_id: id, created: true, warnings, sha256 })
    }

    /// Posts the MIME, in base64, into the folder.
    async fn post(&self, cfg: &MicrosoftConfig, http: &Http, folder: &str, mime: &[u8]) -> Result<Value, ConnectorError> {
        let url = cfg.graph(&format!("/v1.0/me/mailFolders/{}/messages", enc(folder)));
        let body = bytes::Bytes::from(base64::engine::general_purpose::STANDARD.encode(mime));
        api::json(http, "writing a message", &|| {
            http.request("POST", &url).header(reqwest::header::CONTENT_TYPE, "text/plain").body(body.clone())
        })
        .await
        .map_err(|(e, _)| e)
    }
}

/// Messages of the same sender and subject compared by their bytes, at most.
const SAME_SENDER: usize = 20;

/// The SHA-256 of a held message's MIME (none when it is gone).
async fn mime_sha(cfg: &MicrosoftConfig, http: &Http, id: &str) -> Result<Option<String>, ConnectorError> {
    let url = cfg.graph(&format!("/v1.0/me/messages/{}/$value", enc(id)));
    let what = format!("reading message {id}");
    let _inflight = api::permit(http).await;
    let resp = http.send(&what, &|| http.request("GET", &url)).await?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(api::error(&what, resp).await.0);
    }
    // streamed through the hash: a message of another's may be large
    use futures::StreamExt;
    use sha2::Digest;
    let (mut hash, mut stream) = (sha2::Sha256::new(), resp.bytes_stream());
    while let Some(chunk) = stream.next().await {
        hash.update(chunk.map_err(|e| crate::http::request_error(&what, e))?);
    }
    Ok(Some(hex::encode(hash.finalize())))
}

/// The message's bytes, refused past what one Graph request takes.
async fn read_message(content: &Content) -> Result<Vec<u8>, ConnectorError> {
    let reader = content.open_verified().await.map_err(|e| ConnectorError::from_io("reading the message", e))?;
    let mut bytes = Vec::new();
    reader.take(MAX_MIME + 1).read_to_end(&mut bytes).await.map_err(|e| ConnectorError::from_io("reading the message", e))?;
    if bytes.len() as u64 > MAX_MIME {
        return Err(too_large(content.size.unwrap_or(bytes.len() as u64)));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlook_marks_become_imap_flags_and_back() {
        let g = json!({"isRead": true, "isDraft": true, "flag": {"flagStatus": "flagged"}, "categories": ["Red category", "Blue"]});
        assert_eq!(flags_of(&g, false), ["\\Flagged", "\\Seen", "Blue", "Red category"]);
        assert_eq!(flags_of(&g, true), ["\\Draft", "\\Flagged", "\\Seen", "Blue", "Red category"]);
        let mut w = Vec::new();
        let m = Marks::of_flags(&flags_of(&g, true), &mut w);
        assert_eq!(m, Marks::of_graph(&g));
        assert!(w.is_empty(), "{w:?}");
        let m = Marks::of_flags(&["\\Answered".into(), "$Forwarded".into(), "work".into()], &mut w);
        assert_eq!((m.read, m.flagged, m.categories.as_slice()), (false, false, ["work".to_owned()].as_slice()));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(m.body()["flag"]["flagStatus"], "notFlagged");
    }

    #[test]
    fn a_message_is_known_by_its_message_id_else_by_date_and_subject() {
        let meta = ferry_codecs::mail_meta::read_meta(b"Message-ID:  <a@b.example>\r\nSubject: x\r\n\r\nhi");
        assert_eq!(Key::of(&meta), Key::Mid("a@b.example".into()));
        let held = Held {
            id: "1".into(),
            mid: normal_mid(" <a@b.example>"),
            dated: None,
            sent_by: Default::default(),
            marks: Marks::of_graph(&Value::Null),
            by: None,
        };
        assert!(Key::of(&meta).matches(&held));
        let meta = ferry_codecs::mail_meta::read_meta(b"Date: Mon, 6 Jan 2025 09:00:00 +0100\r\nSubject: Hello\r\n  world\r\n\r\nhi");
        let key = Key::of(&meta);
        assert_eq!(key, Key::Dated(1_736_150_400, "hello world".into()));
        let dated = Held { dated: Some((1_736_150_400, normal_subject("Hello world"))), mid: Some("generated@outlook".into()), ..held };
        assert!(key.matches(&dated));
        // neither: by sender and subject (then by the bytes)
        let meta = ferry_codecs::mail_meta::read_meta(b"From: Cron <CRON@example.org>\r\nSubject: Nightly  report\r\n\r\nok");
        let key = Key::of(&meta);
        assert_eq!(key, Key::Undated("cron@example.org".into(), "nightly report".into()));
        assert!(key.matches(&Held { sent_by: ("cron@example.org".into(), "nightly report".into()), ..dated.clone() }));
        assert!(!key.matches(&dated));
        assert_eq!(Key::of(&ferry_codecs::mail_meta::read_meta(b"X-Note: x\r\n\r\n")), Key::None);
    }

    #[test]
    fn folder_names_map_to_well_known_folders() {
        assert_eq!(well_known("INBOX"), Some("inbox"));
        assert_eq!(well_known("Sent"), Some("sentitems"));
        assert_eq!(well_known("Deleted"), Some("deleteditems"));
        assert_eq!(well_known("Spam"), Some("junkemail"));
        assert_eq!(well_known("Receipts"), None);
        // 4 MB of base64 is 3 MB of message
        assert_eq!(MAX_MIME, 3_145_728);
        assert!(base64_len(MAX_MIME) <= MAX_REQUEST && base64_len(MAX_MIME + 1) > MAX_REQUEST);
        assert!(too_large(5_000_000).to_string().contains("4 MB"));
    }
}
