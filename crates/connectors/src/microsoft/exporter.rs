use super::api;
use super::config::MicrosoftConfig;
use super::contact::{SELECT, contact_from_graph};
use crate::http::Http;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Exporter, Item, ItemError, Page, PageStream, Record, Stream, Vertical};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Reads contacts folder by folder (the default folder, then each contact folder), each
/// with Graph's delta query (`contactFolders/{id}/contacts/delta`): the first round lists
/// every contact and ends with a delta link, from which a later run lists the changes.
pub struct MicrosoftExporter {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    /// Folder id -> its name ("" for the default folder).
    folders: Mutex<HashMap<String, String>>,
}

/// Contacts a page, as Graph's `Prefer: odata.maxpagesize` asks.
const PAGE: u32 = 200;

impl MicrosoftExporter {
    pub fn new(cfg: MicrosoftConfig, settings: &crate::Settings) -> Result<Self, ConnectorError> {
        Ok(MicrosoftExporter { cfg: Arc::new(cfg), http: Http::new(settings, "")?.for_provider("microsoft"), folders: Default::default() })
    }
}

#[async_trait]
impl Exporter for MicrosoftExporter {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        let mut out = Vec::new();
        if verticals.contains(&Vertical::Tasks) {
            self.cfg.require(&["Tasks.Read", "Tasks.ReadWrite"], "reading Microsoft To Do")?;
            let lists = super::todo::lists(&self.cfg, &self.http).await?;
            let mut known = self.folders.lock().unwrap_or_else(|e| e.into_inner());
            for (id, name) in lists {
                known.insert(id.clone(), name);
                out.push(Stream { name: format!("tasks:{id}"), verticals: vec![Vertical::Tasks] });
            }
        }
        if !verticals.contains(&Vertical::Contacts) {
            return Ok(out);
        }
        self.cfg.require(&["Contacts.Read", "Contacts.ReadWrite"], "reading Microsoft contacts")?;
        let mut folders = Vec::new();
        // the default folder's id, from one of its contacts (a folder without any has none to give)
        let url = self.cfg.graph("/v1.0/me/contacts?$top=1&$select=parentFolderId");
        let one: Value =
            api::json(&self.http, "finding the default contacts folder", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        if let Some(id) = one["value"][0]["parentFolderId"].as_str() {
            folders.push((id.to_owned(), String::new()));
        }
        for (id, name) in api::named(&super::contact::folders(&self.cfg, &self.http).await?) {
            if !folders.iter().any(|(i, _)| *i == id) {
                folders.push((id, name));
            }
        }
        let mut known = self.folders.lock().unwrap_or_else(|e| e.into_inner());
        out.extend(folders.into_iter().map(|(id, name)| {
            known.insert(id.clone(), name);
            Stream { name: format!("contacts:{id}"), verticals: vec![Vertical::Contacts] }
        }));
        Ok(out)
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.open(stream, cursor, None)
    }

    async fn changes(&self, stream: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.open(stream, cursor, Some(since))
    }
}

impl MicrosoftExporter {
    fn open(&self, stream: &Stream, cursor: Option<String>, since: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let (tasks, id) = match stream.name.split_once(':') {
            Some(("tasks", id)) => (true, id),
            Some(("contacts", id)) => (false, id),
            _ => return Err(ConnectorError::Fatal(format!("`{}` is no stream", stream.name))),
        };
        let first = match tasks {
            true => self.cfg.graph(&format!("/v1.0/me/todo/lists/{}/tasks/delta", crate::http::encode_component(id))),
            false => {
                self.cfg.graph(&format!("/v1.0/me/contactFolders/{}/contacts/delta?$select={SELECT}", crate::http::encode_component(id)))
            }
        };
        // the cursor: a next link of a full round (`full:`) or of a round of changes (`chg:`)
        let (full, next) = match cursor.as_deref().and_then(|c| c.split_once(':')) {
            Some(("full", link)) => (true, link.to_owned()),
            Some(("chg", link)) => (false, link.to_owned()),
            _ => match &since {
                Some(delta) => (false, delta.clone()),
                None => (true, first.clone()),
            },
        };
        let folder = self.folders.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned().unwrap_or_default();
        Ok(Box::new(Delta {
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            folder,
            first,
            next: Some(next),
            full,
            delta: None,
            pages: 0,
            tasks,
        }))
    }
}

/// One round of a delta query.
struct Delta {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    folder: String,
    /// The round's first request (a full listing).
    first: String,
    next: Option<String>,
    full: bool,
    delta: Option<String>,
    pages: u32,
    /// A task list's tasks, not a folder's contacts.
    tasks: bool,
}

#[async_trait]
impl PageStream for Delta {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let Some(url) = self.next.take() else { return Ok(None) };
        self.pages += 1;
        if self.pages > 100_000 {
            return Err(ConnectorError::Fatal("listing contacts: more than 100,000 pages (it would never end)".into()));
        }
        self.cfg.own(&url)?;
        let prefer = format!("odata.maxpagesize={PAGE}");
        let page: Value =
            match api::json(&self.http, "listing contacts", &|| self.http.request("GET", &url).header("Prefer", prefer.as_str())).await {
                Ok(p) => p,
                // a delta link too old: a full round, whose ledger keeps what moved from moving again
                Err((_, Some((code, status))))
                    if !self.full && (status == 410 || code.contains("SyncState") || code.contains("resync")) =>
                {
                    tracing::info!(folder = %self.folder, "the delta link expired; listing the folder in full");
                    self.full = true;
                    self.next = Some(self.first.clone());
                    return self.next_page().await;
                }
                Err((e, _)) => return Err(e),
            };
        let mut items = Vec::new();
        for (n, c) in page["value"].as_array().into_iter().flatten().enumerate() {
            if c.get("@removed").is_some() {
                continue;
            }
            items.push(self.item(c, n, &url));
        }
        let mode = if self.full { "full" } else { "chg" };
        match (page["@odata.nextLink"].as_str(), page["@odata.deltaLink"].as_str()) {
            (Some(next), _) if next == url => {
                return Err(ConnectorError::Fatal("listing contacts: Graph gave the same next link again".into()));
            }
            (Some(next), _) => self.next = Some(next.to_owned()),
            (None, Some(delta)) => self.delta = Some(delta.to_owned()),
            (None, None) => return Err(ConnectorError::Fatal("listing contacts: a page with neither a next link nor a delta link".into())),
        }
        Ok(Some(Page { items, cursor: self.next.as_ref().map(|n| format!("{mode}:{n}")) }))
    }

    fn sync_state(&self) -> Option<String> {
        self.delta.clone()
    }
}

impl Delta {
    fn item(&self, c: &Value, n: usize, location: &str) -> Result<Item, ItemError> {
        let vertical = if self.tasks { Vertical::Tasks } else { Vertical::Contacts };
        let Some(id) = c["id"].as_str().filter(|i| !i.is_empty()) else {
            return Err(ItemError {
                vertical,
                id: format!("(no id: contact {n} of {location})"),
                location: location.to_owned(),
                reason: "Graph gave a contact without an id".into(),
            });
        };
        if self.tasks {
            return Ok(super::todo::item(c, id, &self.folder));
        }
        let (contact, card) = contact_from_graph(c, &self.folder);
        Ok(Item::of_record(id, &self.folder, c["changeKey"].as_str().unwrap_or_default(), Record::Contact(contact), "text/vcard", card))
    }
}
