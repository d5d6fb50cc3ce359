use super::api;
use super::config::MicrosoftConfig;
use super::contact::{SELECT, contact_from_graph};
use super::delta::Round;
use super::mail::Folder;
use crate::Settings;
use crate::http::{Http, encode_component as enc};
use async_trait::async_trait;
use ferry_core::{ConnectorError, Exporter, Item, ItemError, Page, PageStream, Record, Stream, Vertical};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Reads an account stream by stream: each contact folder, task list and mail folder with
/// Graph's delta query (the first round lists everything and ends with a delta link, from
/// which a later run lists the changes); the drive with its own delta query; each
/// calendar by listing its events.
pub struct MicrosoftExporter {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    /// `http`, answering redirects instead of following them (OneDrive's downloads).
    bare: Http,
    settings: Settings,
    /// Stream name -> its container (a folder's, a list's, a calendar's name).
    names: Mutex<HashMap<String, String>>,
    /// Stream name -> its mail folder.
    mail: Mutex<HashMap<String, Folder>>,
}

/// Contacts and tasks a page, as Graph's `Prefer: odata.maxpagesize` asks.
const PAGE: u32 = 200;
/// Messages a page (each one's MIME is read after).
const MAIL_PAGE: u32 = 100;

impl MicrosoftExporter {
    pub fn new(cfg: MicrosoftConfig, settings: &Settings) -> Result<Self, ConnectorError> {
        let http = Http::new(settings, "")?.for_provider("microsoft");
        Ok(MicrosoftExporter {
            cfg: Arc::new(cfg),
            bare: http.clone().not_following_redirects(settings)?,
            http,
            settings: settings.clone(),
            names: Default::default(),
            mail: Default::default(),
        })
    }

    fn name(&self, stream: &str, container: String) {
        self.names.lock().unwrap_or_else(|e| e.into_inner()).insert(stream.to_owned(), container);
    }
}

#[async_trait]
impl Exporter for MicrosoftExporter {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        let mut out = Vec::new();
        let stream = |name: String, v: Vertical| Stream { name, verticals: vec![v] };
        if verticals.contains(&Vertical::Contacts) {
            self.cfg.require(&["Contacts.Read", "Contacts.ReadWrite"], "reading Microsoft contacts")?;
            let mut folders = Vec::new();
            // the default folder's id, from one of its contacts (a folder without any has none to give)
            let url = self.cfg.graph("/v1.0/me/contacts?$top=1&$select=parentFolderId");
            let one: Value = api::json(&self.http, "finding the default contacts folder", &|| self.http.request("GET", &url))
                .await
                .map_err(|(e, _)| e)?;
            if let Some(id) = one["value"][0]["parentFolderId"].as_str() {
                folders.push((id.to_owned(), String::new()));
            }
            for (id, name) in api::named(&super::contact::folders(&self.cfg, &self.http).await?) {
                if !folders.iter().any(|(i, _)| *i == id) {
                    folders.push((id, name));
                }
            }
            for (id, name) in folders {
                self.name(&format!("contacts:{id}"), name);
                out.push(stream(format!("contacts:{id}"), Vertical::Contacts));
            }
        }
        if verticals.contains(&Vertical::Calendar) {
            self.cfg.require(&["Calendars.Read", "Calendars.ReadWrite"], "reading Outlook calendars")?;
            for (id, name) in super::calendar_export::calendars(&self.cfg, &self.http).await? {
                self.name(&format!("calendar:{id}"), name);
                out.push(stream(format!("calendar:{id}"), Vertical::Calendar));
            }
        }
        if verticals.contains(&Vertical::Tasks) {
            self.cfg.require(&["Tasks.Read", "Tasks.ReadWrite"], "reading Microsoft To Do")?;
            for (id, name) in super::todo::lists(&self.cfg, &self.http).await? {
                self.name(&format!("tasks:{id}"), name);
                out.push(stream(format!("tasks:{id}"), Vertical::Tasks));
            }
        }
        if verticals.contains(&Vertical::Mail) {
            self.cfg.require(&["Mail.Read", "Mail.ReadWrite"], "reading Outlook mail")?;
            let mut known = Vec::new();
            for f in super::mail::folders(&self.cfg, &self.http).await? {
                known.push((format!("mail:{}", f.id), f));
            }
            let mut mail = self.mail.lock().unwrap_or_else(|e| e.into_inner());
            for (name, f) in known {
                out.push(stream(name.clone(), Vertical::Mail));
                mail.insert(name, f);
            }
        }
        if verticals.contains(&Vertical::Files) {
            self.cfg.require(&["Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All"], "reading OneDrive")?;
            out.push(stream("drive".into(), Vertical::Files));
        }
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
        let round = |what: &'static str, first: String, page: u32| {
            Round::new(
                self.cfg.clone(),
                self.http.clone(),
                what,
                Some(format!("odata.maxpagesize={page}")),
                first,
                cursor.clone(),
                since.clone(),
            )
        };
        let container = self.names.lock().unwrap_or_else(|e| e.into_inner()).get(&stream.name).cloned().unwrap_or_default();
        let (kind, id) = stream.name.split_once(':').unwrap_or((stream.name.as_str(), ""));
        let (round, kind) = match kind {
            "contacts" => (
                round(
                    "listing contacts",
                    self.cfg.graph(&format!("/v1.0/me/contactFolders/{}/contacts/delta?$select={SELECT}", enc(id))),
                    PAGE,
                ),
                Kind::Contacts(container),
            ),
            "tasks" => (
                round("listing tasks", self.cfg.graph(&format!("/v1.0/me/todo/lists/{}/tasks/delta", enc(id))), PAGE),
                Kind::Tasks { list: id.to_owned(), container },
            ),
            "mail" => {
                let folder = self.mail.lock().unwrap_or_else(|e| e.into_inner()).get(&stream.name).cloned();
                let folder = folder.unwrap_or_else(|| Folder { id: id.to_owned(), container, drafts: false });
                (round("listing messages", super::mail::delta_url(&self.cfg, id), MAIL_PAGE), Kind::Mail(folder))
            }
            "drive" => {
                let first = super::drive::delta_url(&self.cfg);
                return Ok(Box::new(super::drive::DrivePages {
                    round: Round::new(self.cfg.clone(), self.http.clone(), "listing OneDrive", None, first, cursor, since),
                    cfg: self.cfg.clone(),
                    http: self.http.clone(),
                    bare: self.bare.clone(),
                    settings: self.settings.clone(),
                    paths: HashMap::new(),
                }));
            }
            "calendar" => {
                let next = match cursor.as_deref().and_then(|c| c.strip_prefix("full:")) {
                    Some(link) => link.to_owned(),
                    None => super::calendar_export::EventPages::first(&self.cfg, id),
                };
                return Ok(Box::new(super::calendar_export::EventPages {
                    cfg: self.cfg.clone(),
                    http: self.http.clone(),
                    container,
                    next: Some(next),
                    pages: 0,
                }));
            }
            _ => return Err(ConnectorError::Fatal(format!("`{}` is no stream", stream.name))),
        };
        Ok(Box::new(Delta { cfg: self.cfg.clone(), http: self.http.clone(), round, kind, folder: id.to_owned(), uids: None }))
    }
}

/// What a delta round lists, and the container its items go to.
enum Kind {
    Contacts(String),
    /// A To Do list: its id (for its tasks' steps) and its name.
    Tasks {
        list: String,
        container: String,
    },
    Mail(Folder),
}

/// One delta round of a contact folder, task list or mail folder.
struct Delta {
    cfg: Arc<MicrosoftConfig>,
    http: Http,
    round: Round,
    kind: Kind,
    /// The folder's (or list's) id.
    folder: String,
    /// A contact folder's contacts' UIDs as ferry keeps them (contact id -> UID), read once.
    uids: Option<HashMap<String, String>>,
}

#[async_trait]
impl PageStream for Delta {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        let Some((page, url)) = self.round.next_page().await? else { return Ok(None) };
        let mut items = Vec::new();
        for (n, c) in page["value"].as_array().into_iter().flatten().enumerate() {
            if c.get("@removed").is_some() {
                continue;
            }
            // a contact's photo, and the UID ferry keeps, are no fields of it: read apart
            let mut c = c.clone();
            let photo = match (&self.kind, c["id"].as_str().filter(|i| !i.is_empty()).map(str::to_owned)) {
                (Kind::Contacts(_), Some(id)) => {
                    if let Some(uid) = self.uids().await?.get(&id) {
                        c[super::importer::EXT] = serde_json::json!([{"id": super::importer::UID_PROP, "value": uid}]);
                    }
                    super::contact::photo(&self.cfg, &self.http, &id).await?
                }
                _ => None,
            };
            let item = self.item(&c, n, &url, photo.as_ref().map(|(t, b)| (t.as_str(), b.as_slice())));
            let task = item.as_ref().ok().filter(|_| matches!(self.kind, Kind::Tasks { .. })).map(|i| i.id.clone());
            items.push(item);
            if let (Some(task), Kind::Tasks { list, container }) = (task, &self.kind) {
                // a task's steps (checklist items) follow it, each a subtask of it
                items.extend(super::todo::step_items(&self.cfg, &self.http, list, &task, container).await?.into_iter().map(Ok));
            }
        }
        Ok(Some(Page { items, cursor: self.round.cursor() }))
    }

    fn sync_state(&self) -> Option<String> {
        self.round.delta_link()
    }
}

impl Delta {
    /// The UIDs ferry keeps for the folder's contacts (see [`super::importer::UID_PROP`]):
    /// the delta query gives a contact's own fields only, so the folder is listed once more
    /// with the property expanded.
    async fn uids(&mut self) -> Result<&HashMap<String, String>, ConnectorError> {
        if self.uids.is_none() {
            let expand = enc(&format!("{}($filter=id eq '{}')", super::importer::EXT, super::importer::UID_PROP));
            let first =
                self.cfg.graph(&format!("/v1.0/me/contactFolders/{}/contacts?$top=1000&$select=id&$expand={expand}", enc(&self.folder)));
            let all = super::api::all(&self.cfg, &self.http, "reading the folder's contacts' UIDs", first).await?;
            let uids = all.iter().filter_map(|c| Some((c["id"].as_str()?.to_owned(), super::importer::uid_of(c)?.to_owned()))).collect();
            self.uids = Some(uids);
        }
        Ok(self.uids.as_ref().expect("just read"))
    }

    fn item(&self, c: &Value, n: usize, location: &str, photo: Option<(&str, &[u8])>) -> Result<Item, ItemError> {
        let (vertical, what) = match &self.kind {
            Kind::Contacts(_) => (Vertical::Contacts, "contact"),
            Kind::Tasks { .. } => (Vertical::Tasks, "task"),
            Kind::Mail(_) => (Vertical::Mail, "message"),
        };
        let Some(id) = c["id"].as_str().filter(|i| !i.is_empty()) else {
            return Err(ItemError {
                skipped: false,
                vertical,
                id: format!("(no id: {what} {n} of {location})"),
                location: location.to_owned(),
                reason: format!("Graph gave a {what} without an id"),
            });
        };
        Ok(match &self.kind {
            Kind::Tasks { container, .. } => super::todo::item(c, id, container),
            Kind::Contacts(folder) => {
                let (contact, card) = contact_from_graph(c, folder, photo);
                let mut item =
                    Item::of_record(id, folder, c["changeKey"].as_str().unwrap_or_default(), Record::Contact(contact), "text/vcard", card);
                item.source_warnings = super::contact::not_carried(c);
                item
            }
            Kind::Mail(folder) => super::mail::item(c, id, folder, &self.cfg, &self.http),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Answer, Request, serve};

    #[tokio::test]
    async fn a_mail_folder_gives_its_messages_byte_for_byte_and_fails_those_without_an_id() {
        let url = serve(|r: Request| async move {
            let host = r.header("host").unwrap_or_default().to_owned();
            if r.path.contains("/$value") {
                assert_eq!(r.path, "/v1.0/me/messages/m%2B1%3D/$value", "the id is one path segment");
                return Answer::new(200, "Subject: Hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
            }
            assert!(r.path.starts_with("/v1.0/me/mailFolders/f1/messages/delta?$select="), "{}", r.path);
            assert_eq!(r.header("prefer"), Some("odata.maxpagesize=100"));
            Answer::new(
                200,
                &format!(
                    r#"{{"value": [
                        {{"id": "m+1=", "changeKey": "c1", "isRead": true, "flag": {{"flagStatus": "flagged"}}, "categories": ["Blue"],
                          "subject": "Hi", "internetMessageId": "<a@b>", "receivedDateTime": "2025-01-06T08:00:00Z",
                          "from": {{"emailAddress": {{"name": "Ada", "address": "ada@example.org"}}}}}},
                        {{"subject": "no id"}},
                        {{"id": "m2", "@removed": {{"reason": "deleted"}}}}
                    ], "@odata.deltaLink": "http://{host}/v1.0/me/mailFolders/f1/messages/delta?$deltatoken=t1"}}"#
                ),
            )
        })
        .await;
        let (cfg, _, settings) = super::super::api::test_side(&url);
        let exporter = MicrosoftExporter::new(cfg, &settings).unwrap();
        let stream = Stream { name: "mail:f1".into(), verticals: vec![Vertical::Mail] };
        let mut pages = exporter.pages(&stream, None).await.unwrap();
        let page = pages.next_page().await.unwrap().unwrap();
        assert_eq!(page.items.len(), 2, "the removed one is not listed");
        let item = page.items[0].as_ref().unwrap();
        let Record::Mail(m) = &item.record else { panic!("{:?}", item.record) };
        assert_eq!(m.flags, ["\\Flagged", "\\Seen", "Blue"]);
        assert_eq!((m.from.as_deref(), item.version.as_str()), (Some("Ada <ada@example.org>"), "c1"));
        assert_eq!(m.received.map(|r| r.to_rfc3339()).as_deref(), Some("2025-01-06T08:00:00+00:00"));
        let mut body = Vec::new();
        use tokio::io::AsyncReadExt;
        item.content.as_ref().unwrap().open_verified().await.unwrap().read_to_end(&mut body).await.unwrap();
        assert_eq!(body, b"Subject: Hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
        assert!(page.items[1].as_ref().unwrap_err().reason.contains("without an id"));
        assert!(pages.next_page().await.unwrap().is_none());
        assert!(pages.sync_state().unwrap().ends_with("$deltatoken=t1"));
    }
}
