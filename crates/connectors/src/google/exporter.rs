use super::api;
use super::config::{
    CALENDAR, CALENDAR_EVENTS, CALENDAR_EVENTS_READ, CALENDAR_READ, CONTACTS, CONTACTS_READ, DRIVE, DRIVE_READ, GMAIL_MODIFY, GMAIL_READ,
    GoogleConfig, MAIL, PHOTOS_EDIT_APP, PHOTOS_READ_APP, TASKS, TASKS_READ,
};
use super::people::{PERSON_FIELDS, contact_from_person};
use crate::http::Http;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Exporter, Item, ItemError, Page, PageStream, Record, Stream, Vertical};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Reads the account's contacts (People API `people.connections.list`, 1,000 a page) as one
/// stream; each contact's first user contact group is its container, and every user group
/// it belongs to a category. Incremental by the API's sync token.
pub struct GoogleExporter {
    cfg: Arc<GoogleConfig>,
    http: Http,
    /// Task list id -> title.
    titles: std::sync::Mutex<HashMap<String, String>>,
    /// Calendar id -> calendar.
    calendars: std::sync::Mutex<HashMap<String, super::calendar::Cal>>,
    /// Contact photos are fetched without the account's token (they are on another host).
    photos: reqwest::Client,
}

impl GoogleExporter {
    pub fn new(cfg: GoogleConfig, settings: &crate::Settings) -> Result<Self, ConnectorError> {
        Ok(GoogleExporter {
            cfg: Arc::new(cfg),
            http: Http::new(settings, "")?.for_provider("google"),
            titles: Default::default(),
            calendars: Default::default(),
            photos: crate::http::client(settings)?,
        })
    }

    /// User contact groups by resource name.
    async fn groups(&self) -> Result<HashMap<String, String>, ConnectorError> {
        let mut out = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..1000 {
            let mut url = self.cfg.people("/v1/contactGroups?pageSize=1000&groupFields=name,groupType");
            if let Some(t) = &token {
                url.push_str(&format!("&pageToken={}", crate::http::encode_component(t)));
            }
            let page: Value =
                api::json(&self.http, "listing contact groups", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            for g in page["contactGroups"].as_array().into_iter().flatten() {
                if g["groupType"] == "USER_CONTACT_GROUP"
                    && let (Some(r), Some(n)) = (g["resourceName"].as_str(), g["name"].as_str())
                {
                    out.insert(r.to_owned(), n.to_owned());
                }
            }
            match page["nextPageToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
        Err(ConnectorError::Fatal("listing contact groups: more than 1,000 pages".into()))
    }
}

#[async_trait]
impl Exporter for GoogleExporter {
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        let mut out = Vec::new();
        if verticals.contains(&Vertical::Contacts) {
            self.cfg.require(&[CONTACTS_READ, CONTACTS], "reading Google contacts")?;
            out.push(Stream { name: "contacts".into(), verticals: vec![Vertical::Contacts] });
        }
        if verticals.contains(&Vertical::Calendar) {
            self.cfg.require(&[CALENDAR_READ, CALENDAR, CALENDAR_EVENTS_READ, CALENDAR_EVENTS], "reading Google calendars")?;
            let cals = super::calendar::calendars(&self.cfg, &self.http).await?;
            let mut known = self.calendars.lock().unwrap_or_else(|e| e.into_inner());
            for c in cals {
                out.push(Stream { name: format!("calendar:{}", c.id), verticals: vec![Vertical::Calendar] });
                known.insert(c.id.clone(), c);
            }
        }
        if verticals.contains(&Vertical::Mail) {
            self.cfg.require(&[GMAIL_READ, GMAIL_MODIFY, MAIL], "reading Gmail")?;
            out.push(Stream { name: "gmail".into(), verticals: vec![Vertical::Mail] });
        }
        if verticals.contains(&Vertical::Files) {
            self.cfg.require(&[DRIVE_READ, DRIVE], "reading Google Drive")?;
            out.push(Stream { name: "drive".into(), verticals: vec![Vertical::Files] });
        }
        if verticals.contains(&Vertical::Media) {
            self.cfg.require(&[PHOTOS_READ_APP, PHOTOS_EDIT_APP], "reading Google Photos (what ferry put there)")?;
            out.push(Stream { name: "photos".into(), verticals: vec![Vertical::Media] });
        }
        if verticals.contains(&Vertical::Tasks) {
            self.cfg.require(&[TASKS_READ, TASKS], "reading Google tasks")?;
            let lists = super::tasks::lists(&self.cfg, &self.http).await?;
            let mut titles = self.titles.lock().unwrap_or_else(|e| e.into_inner());
            for (id, title) in lists {
                titles.insert(id.clone(), title);
                out.push(Stream { name: format!("tasks:{id}"), verticals: vec![Vertical::Tasks] });
            }
        }
        Ok(out)
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.open(stream, cursor, None).await
    }

    async fn changes(&self, stream: &Stream, cursor: Option<String>, since: String) -> Result<Box<dyn PageStream>, ConnectorError> {
        self.open(stream, cursor, Some(since)).await
    }
}

impl GoogleExporter {
    async fn open(&self, stream: &Stream, cursor: Option<String>, since: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        if let Some(list) = stream.name.strip_prefix("tasks:") {
            let title = self.titles.lock().unwrap_or_else(|e| e.into_inner()).get(list).cloned().unwrap_or_default();
            // a little before now: a task changed while this listing runs is listed next time too
            let started = (chrono::Utc::now() - chrono::Duration::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            return Ok(Box::new(super::tasks::TaskPages {
                cfg: self.cfg.clone(),
                http: self.http.clone(),
                list: list.to_owned(),
                title,
                since,
                token: cursor,
                started,
                done: false,
                pages: 0,
            }));
        }
        if stream.name == "photos" {
            // media items do not change: every listing is a full one
            return Ok(Box::new(super::photos::PhotoPages::new(self.cfg.clone(), self.http.clone(), cursor)));
        }
        // the cursor says which listing it belongs to (`full:` or `chg:`), as for remote:
        let (since, token) = match cursor.as_deref().and_then(|c| c.split_once(':')) {
            Some(("full", t)) => (None, Some(t.to_owned())),
            Some(("chg", t)) => (since, Some(t.to_owned())),
            _ => (since, None),
        };
        if stream.name == "gmail" {
            let labels = super::gmail_pages::labels(&self.cfg, &self.http).await?;
            return Ok(Box::new(super::gmail_pages::MailPages::new(self.cfg.clone(), self.http.clone(), labels, since, token)));
        }
        if stream.name == "drive" {
            return Ok(Box::new(super::drive::DrivePages::new(self.cfg.clone(), self.http.clone(), since, token)));
        }
        if let Some(id) = stream.name.strip_prefix("calendar:") {
            let cal = self.calendars.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned();
            let cal = cal.ok_or_else(|| ConnectorError::Fatal(format!("the calendar {id} is no longer in the account's list")))?;
            return Ok(Box::new(super::calendar::EventPages {
                cfg: self.cfg.clone(),
                http: self.http.clone(),
                cal,
                since,
                token,
                done: false,
                sync: None,
                pages: 0,
                read: Default::default(),
            }));
        }
        Ok(Box::new(Connections {
            photos: self.photos.clone(),
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            groups: self.groups().await?,
            since,
            token,
            done: false,
            sync: None,
            pages: 0,
        }))
    }
}

/// Pages through `people/me/connections`.
struct Connections {
    photos: reqwest::Client,
    cfg: Arc<GoogleConfig>,
    http: Http,
    groups: HashMap<String, String>,
    since: Option<String>,
    token: Option<String>,
    done: bool,
    sync: Option<String>,
    pages: u32,
}

/// The most pages one listing may have (a million contacts at 1,000 a page, and more).
const MAX_PAGES: u32 = 100_000;

#[async_trait]
impl PageStream for Connections {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        self.pages += 1;
        if self.pages > MAX_PAGES {
            return Err(ConnectorError::Fatal(format!("listing contacts: more than {MAX_PAGES} pages (it would never end)")));
        }
        // 500 a page where Google allows 1,000: a page is held whole as JSON while its
        // contacts are made, and half of it keeps a listing's memory down for a few more requests
        let mut url =
            self.cfg.people(&format!("/v1/people/me/connections?personFields={PERSON_FIELDS}&pageSize=500&requestSyncToken=true"));
        if let Some(s) = &self.since {
            url.push_str(&format!("&syncToken={}", crate::http::encode_component(s)));
        }
        if let Some(t) = &self.token {
            url.push_str(&format!("&pageToken={}", crate::http::encode_component(t)));
        }
        let page: Value = match api::json(&self.http, "listing contacts", &|| self.http.request("GET", &url)).await {
            Ok(p) => p,
            Err((_, Some(r))) if self.since.is_some() && r.sync_expired(400) => {
                tracing::info!("the contacts' sync token expired; listing them in full");
                self.since = None;
                self.token = None;
                return self.next_page().await;
            }
            Err((e, _)) => return Err(e),
        };
        let mut items = Vec::new();
        for (n, p) in page["connections"].as_array().into_iter().flatten().enumerate() {
            // a contact deleted since the sync token: deletions are not carried
            if p.pointer("/metadata/deleted").and_then(Value::as_bool).unwrap_or(false) {
                continue;
            }
            let p = self.with_photo(p).await;
            items.push(self.item(&p, n, &url));
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if self.token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("listing contacts: Google gave the same page token again".into()));
            }
            Some(t) => self.token = Some(t.to_owned()),
            None => {
                self.done = true;
                self.sync = page["nextSyncToken"].as_str().map(str::to_owned);
            }
        }
        let mode = if self.since.is_some() { "chg" } else { "full" };
        Ok(Some(Page { items, cursor: if self.done { None } else { self.token.as_ref().map(|t| format!("{mode}:{t}")) } }))
    }

    fn sync_state(&self) -> Option<String> {
        self.sync.clone()
    }
}

/// The largest contact photo carried (Google's are a few hundred kilobytes).
const MAX_PHOTO: usize = 8 << 20;

impl Connections {
    /// The person with its own photo (not Google's default picture) fetched and put in
    /// as a `data:` URI, so the card carries the image itself; a photo that cannot be
    /// fetched stays a link.
    async fn with_photo<'v>(&self, p: &'v Value) -> std::borrow::Cow<'v, Value> {
        let own = |ph: &Value| ph["default"] != true && ph["url"].is_string();
        if !p["photos"].as_array().is_some_and(|a| a.iter().any(own)) {
            return std::borrow::Cow::Borrowed(p);
        }
        let mut p = p.clone();
        let Some(photos) = p["photos"].as_array_mut() else { return std::borrow::Cow::Owned(p) };
        for ph in photos.iter_mut().filter(|ph| ph["default"] != true) {
            let Some(url) = ph["url"].as_str().map(str::to_owned) else { continue };
            let fetched = async {
                let resp = self.photos.get(&url).send().await.map_err(|e| crate::http::request_error("fetching a contact photo", e))?;
                if !resp.status().is_success() {
                    return Err(crate::http::status_error("fetching a contact photo", &resp));
                }
                let media_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("image/jpeg").to_owned();
                Ok::<_, ConnectorError>((media_type, crate::http::read_bounded("fetching a contact photo", resp, MAX_PHOTO).await?))
            };
            match fetched.await {
                Ok((media_type, bytes)) => {
                    use base64::Engine;
                    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                    ph["url"] = format!("data:{media_type};base64,{data}").into();
                }
                Err(e) => tracing::warn!("a contact photo stays a link: {e}"),
            }
        }
        std::borrow::Cow::Owned(p)
    }

    fn item(&self, p: &Value, n: usize, location: &str) -> Result<Item, ItemError> {
        let Some(id) = p["resourceName"].as_str().filter(|r| r.starts_with("people/")) else {
            return Err(ItemError {
                skipped: false,
                vertical: Vertical::Contacts,
                id: format!("(no resource name: contact {n} of {location})"),
                location: location.to_owned(),
                reason: "Google gave a contact without a resource name".into(),
            });
        };
        let groups = |r: &str| self.groups.get(r).cloned();
        let (contact, card, not_carried) = contact_from_person(p, &groups);
        let container = contact.categories.first().cloned().unwrap_or_default();
        let mut item =
            Item::of_record(id, &container, p["etag"].as_str().unwrap_or_default(), Record::Contact(contact), "text/vcard", card);
        item.source_warnings = not_carried;
        Ok(item)
    }
}
