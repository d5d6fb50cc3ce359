use super::api;
use super::config::{CALENDAR, CALENDAR_EVENTS, CONTACTS, GoogleConfig, TASKS};
use super::people::{KEY, UPDATE_FIELDS, person_from_contact};
use crate::http::Http;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record};
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;
use tokio::sync::{Mutex, OnceCell};

/// Writes contacts with the People API. Each contact carries, in its `clientData`, the key
/// of the item it came from (a hash of source and id) and that item's version: the
/// account's contacts are read once (their keys only) so that a rerun, or a resume after a
/// crash between a create and its record, finds each contact instead of making it again.
/// The container and categories become user contact groups (made when missing).
pub struct GoogleImporter {
    cfg: GoogleConfig,
    http: Http,
    source: String,
    /// Key -> (resource name, etag, version) of the contacts ferry put before; read again
    /// from Google after a write whose outcome is unknown (an answer lost on the way).
    index: Mutex<Option<Index>>,
    /// Group name -> resource name.
    groups: OnceCell<Mutex<HashMap<String, String>>>,
    tasks: super::tasks::TaskWriter,
    events: super::calendar::EventWriter,
    mail: super::gmail_writer::MailWriter,
    files: super::drive_writer::FileWriter,
    photos: super::photos_writer::PhotoWriter,
}

type Index = HashMap<String, (String, String, String)>;

/// The `clientData` key of the version of the item a contact was made from.
const VERSION: &str = "ferry-version";

impl GoogleImporter {
    pub fn new(cfg: GoogleConfig, settings: &crate::Settings, source: &str) -> Result<Self, ConnectorError> {
        Ok(GoogleImporter {
            cfg,
            http: Http::new(settings, "")?.for_provider("google"),
            source: source.to_owned(),
            index: Mutex::new(None),
            groups: OnceCell::new(),
            tasks: super::tasks::TaskWriter::new(),
            events: super::calendar::EventWriter::new(),
            mail: super::gmail_writer::MailWriter::new(),
            files: super::drive_writer::FileWriter::new(),
            photos: super::photos_writer::PhotoWriter::new(),
        })
    }

    /// The index, read from Google when it is not known.
    async fn index(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Index>, ConnectorError> {
        let mut guard = self.index.lock().await;
        if guard.is_none() {
            *guard = Some(self.read_index().await?);
        }
        Ok(tokio::sync::MutexGuard::map(guard, |g| g.as_mut().expect("just read")))
    }

    /// After a write whose outcome is unknown: the next look-up reads the account again.
    async fn forget(&self) {
        *self.index.lock().await = None;
    }

    async fn read_index(&self) -> Result<Index, ConnectorError> {
        let mut out = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..100_000 {
            let mut url = self.cfg.people("/v1/people/me/connections?personFields=clientData,metadata&pageSize=1000");
            if let Some(t) = &token {
                url.push_str(&format!("&pageToken={}", crate::http::encode_component(t)));
            }
            let page: Value =
                api::json(&self.http, "reading the account's contacts", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
            for p in page["connections"].as_array().into_iter().flatten() {
                let data =
                    |k: &str| p["clientData"].as_array().into_iter().flatten().find(|d| d["key"] == k).and_then(|d| d["value"].as_str());
                if let (Some(key), Some(r)) = (data(KEY), p["resourceName"].as_str()) {
                    let etag = source_etag(p);
                    let entry = (r.to_owned(), etag, data(VERSION).unwrap_or_default().to_owned());
                    if let Some(uid) = data(super::people::UID) {
                        out.insert(uid_key(uid), entry.clone());
                    }
                    out.insert(key.to_owned(), entry);
                }
            }
            match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_owned()),
                None => return Ok(out),
            }
        }
        Err(ConnectorError::Fatal("reading the account's contacts: too many pages".into()))
    }

    /// The resource names of these groups, each made when the account has none of its name.
    async fn group_names(&self, names: &[String]) -> Result<HashMap<String, String>, ConnectorError> {
        let groups = self
            .groups
            .get_or_try_init(|| async {
                let url = self.cfg.people("/v1/contactGroups?pageSize=1000&groupFields=name,groupType");
                let page: Value =
                    api::json(&self.http, "listing contact groups", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
                let mut out = HashMap::new();
                for g in page["contactGroups"].as_array().into_iter().flatten() {
                    if let (Some(r), Some(n)) = (g["resourceName"].as_str(), g["name"].as_str()) {
                        out.insert(n.to_owned(), r.to_owned());
                    }
                }
                Ok::<_, ConnectorError>(Mutex::new(out))
            })
            .await?;
        let mut known = groups.lock().await;
        for name in names {
            if known.contains_key(name) {
                continue;
            }
            let url = self.cfg.people("/v1/contactGroups");
            let body = json!({"contactGroup": {"name": name}});
            let made: Value = api::json(&self.http, &format!("making contact group `{name}`"), &|| {
                api::with_json(self.http.request("POST", &url), &body)
            })
            .await
            .map_err(|(e, _)| e)?;
            let r =
                made["resourceName"].as_str().ok_or_else(|| ConnectorError::Fatal("Google made a group without a resource name".into()))?;
            known.insert(name.clone(), r.to_owned());
        }
        Ok(names.iter().filter_map(|n| known.get(n).map(|r| (n.clone(), r.clone()))).collect())
    }
}

impl GoogleImporter {
    /// The item's embedded photo onto the contact (`people.updateContactPhoto`: JPEG or
    /// PNG). A photo that does not go is a warning: the contact is written.
    async fn put_photo(&self, resource: &str, item: &Item, warnings: &mut Vec<String>) {
        let Some((media_type, bytes)) = item.original.as_ref().and_then(|o| ferry_codecs::vcard::photo_bytes(&o.bytes)) else { return };
        if !(bytes.starts_with(b"\xff\xd8\xff") || bytes.starts_with(b"\x89PNG\r\n\x1a\n")) {
            warnings.push(format!("PHOTO: Google takes JPEG or PNG photos; this one ({media_type}) is not kept"));
            return;
        }
        use base64::Engine;
        let body = json!({"photoBytes": base64::engine::general_purpose::STANDARD.encode(&bytes)});
        let url = self.cfg.people(&format!("/v1/{resource}:updateContactPhoto"));
        let sent: Result<Value, _> =
            api::json(&self.http, &format!("putting the photo of {resource}"), &|| api::with_json(self.http.request("PATCH", &url), &body))
                .await;
        if let Err((e, _)) = sent {
            warnings.push(format!("PHOTO: not kept ({e})"));
        }
    }
}

/// The most contacts `people.batchCreateContacts` takes.
const BATCH: usize = 200;

/// The etag of a person's contact source (`metadata.sources[type=CONTACT]`), which an
/// update must name; the person's own etag when the answer has no sources.
fn source_etag(p: &Value) -> String {
    let sources = p.pointer("/metadata/sources").and_then(Value::as_array);
    let contact = sources.into_iter().flatten().find(|s| s["type"] == "CONTACT");
    contact.and_then(|s| s["etag"].as_str()).or(p["etag"].as_str()).unwrap_or_default().to_owned()
}

/// The index key of a contact's own UID: a contact written from another source (a
/// changed copy of the same card) is found by it.
fn uid_key(uid: &str) -> String {
    format!("uid\0{uid}")
}

fn uid_of(item: &Item) -> Option<&str> {
    match &item.record {
        Record::Contact(c) => c.uid.as_deref().filter(|u| !u.is_empty()),
        _ => None,
    }
}

impl GoogleImporter {
    /// What ferry wrote before for this item: by its key, else by its UID.
    async fn find(&self, item: &Item) -> Result<Option<(String, String, String)>, ConnectorError> {
        let index = self.index().await?;
        Ok(index.get(&self.key(item)).or_else(|| uid_of(item).and_then(|u| index.get(&uid_key(u)))).cloned())
    }

    async fn remember(&self, item: &Item, entry: (String, String, String)) -> Result<(), ConnectorError> {
        let mut index = self.index().await?;
        if let Some(u) = uid_of(item) {
            index.insert(uid_key(u), entry.clone());
        }
        index.insert(self.key(item), entry);
        Ok(())
    }

    fn key(&self, item: &Item) -> String {
        hex::encode(&sha2::Sha256::digest(format!("{}\0{}", self.source, item.id).as_bytes())[..16])
    }

    /// The person to write for a contact item, and what it cannot hold.
    async fn person(&self, item: &Item) -> Result<(Value, Vec<String>), ConnectorError> {
        let Record::Contact(c) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to Google contacts", item.vertical())));
        };
        let mut c = c.clone();
        if !item.container.is_empty() && !c.categories.contains(&item.container) {
            c.categories.insert(0, item.container.clone());
        }
        let groups = self.group_names(&c.categories).await?;
        let original = item.original.as_ref().map(|o| ferry_codecs::vcard::properties(&o.bytes)).unwrap_or_default();
        let (mut person, warnings) = person_from_contact(&c, &original, &|g| groups.get(g).cloned(), &self.key(item));
        person["clientData"]
            .as_array_mut()
            .expect("person_from_contact writes clientData")
            .push(json!({"key": VERSION, "value": item.version}));
        Ok((person, warnings))
    }

    /// Makes new contacts in one request; a result per item, in order.
    async fn create_batch(&self, items: &[&Item]) -> Result<Vec<Result<PutOutcome, ConnectorError>>, ConnectorError> {
        let mut bodies = Vec::new();
        let mut warnings = Vec::new();
        for item in items {
            let (p, w) = self.person(item).await?;
            bodies.push(json!({"contactPerson": p}));
            warnings.push(w);
        }
        let url = self.cfg.people("/v1/people:batchCreateContacts");
        let body = json!({"contacts": bodies, "readMask": "metadata"});
        let answer: Value = api::json(&self.http, "making contacts", &|| api::with_json(self.http.request("POST", &url), &body))
            .await
            .map_err(|(e, _)| e)?;
        let created = answer["createdPeople"].as_array().cloned().unwrap_or_default();
        if created.len() != items.len() {
            return Err(ConnectorError::Fatal(format!("making contacts: Google answered for {} of {}", created.len(), items.len())));
        }
        let mut out = Vec::new();
        for ((item, r), w) in items.iter().zip(created).zip(warnings) {
            let status = r["status"]["code"].as_u64().unwrap_or(0);
            match r["person"]["resourceName"].as_str() {
                Some(res) if status == 0 => {
                    let etag = source_etag(&r["person"]);
                    self.remember(item, (res.to_owned(), etag, item.version.clone())).await?;
                    let mut w = w;
                    self.put_photo(res, item, &mut w).await;
                    out.push(Ok(PutOutcome { dest_id: res.to_owned(), created: true, warnings: w, sha256: item.known_sha256() }));
                }
                _ => {
                    let msg = r["status"]["message"].as_str().unwrap_or("no reason given");
                    // a failure inside the batch: that contact alone, tried again by itself
                    out.push(Err(ConnectorError::transient(format!(
                        "making contact {}: Google refused it in a batch ({status}: {msg})",
                        item.id
                    ))));
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Importer for GoogleImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        if let Record::Task(t) = &item.record {
            self.cfg.require(&[TASKS], "writing Google tasks")?;
            return self.tasks.put(&self.cfg, &self.http, item, t).await;
        }
        if let Record::Mail(_) = &item.record {
            return self.mail.put(&self.cfg, &self.http, item).await;
        }
        if let Record::File(_) = &item.record {
            return self.files.put(&self.cfg, &self.http, item, &self.key(item)).await;
        }
        if let Record::Media(_) = &item.record {
            return self.photos.put_page(&self.cfg, &self.http, &[item]).await.pop().expect("one answer");
        }
        if let Record::Event(_) = &item.record {
            self.cfg.require(&[CALENDAR, CALENDAR_EVENTS], "writing Google calendars")?;
            return self.events.put(&self.cfg, &self.http, item).await;
        }
        self.cfg.require(&[CONTACTS], "writing Google contacts")?;
        let (mut person, warnings) = self.person(item).await?;
        let known = self.find(item).await?;
        let (resource, etag) = match known {
            Some((r, _, v)) if v == item.version => {
                return Ok(PutOutcome { dest_id: r, created: false, warnings, sha256: item.known_sha256() });
            }
            Some((r, etag, _)) => {
                // Google wants the contact source named, with the etag it was read at
                let id = r.strip_prefix("people/").unwrap_or(&r);
                person["metadata"] = json!({"sources": [{"type": "CONTACT", "id": id, "etag": etag}]});
                let url = self.cfg.people(&format!("/v1/{r}:updateContact?updatePersonFields={UPDATE_FIELDS}&personFields=metadata"));
                let p: Value =
                    api::json(&self.http, &format!("updating {r}"), &|| api::with_json(self.http.request("PATCH", &url), &person))
                        .await
                        .map_err(|(e, _)| e)?;
                (r, source_etag(&p))
            }
            None => {
                let url = self.cfg.people("/v1/people:createContact?personFields=metadata");
                let made =
                    api::json::<Value>(&self.http, "making a contact", &|| api::with_json(self.http.request("POST", &url), &person)).await;
                let p = match made {
                    Ok(p) => p,
                    Err((e, _)) => {
                        // made or not? look again before it is tried once more
                        if e.is_transient() {
                            self.forget().await;
                        }
                        return Err(e);
                    }
                };
                let r = p["resourceName"]
                    .as_str()
                    .ok_or_else(|| ConnectorError::Fatal("Google made a contact without a resource name".into()))?;
                (r.to_owned(), source_etag(&p))
            }
        };
        self.remember(item, (resource.clone(), etag, item.version.clone())).await?;
        let mut warnings = warnings;
        self.put_photo(&resource, item, &mut warnings).await;
        Ok(PutOutcome { dest_id: resource, created: true, warnings, sha256: item.known_sha256() })
    }

    /// Photos and videos go uploaded one by one and made 50 a `mediaItems.batchCreate`;
    /// new contacts as `people.batchCreateContacts` (200 at most a request); the others
    /// one by one.
    async fn put_page(&self, items: &[&Item]) -> Option<Vec<Result<PutOutcome, ConnectorError>>> {
        // photos and videos: uploaded one by one, made 50 a call
        if !items.is_empty() && items.iter().all(|i| matches!(i.record, Record::Media(_))) {
            return Some(self.photos.put_page(&self.cfg, &self.http, items).await);
        }
        if items.iter().any(|i| !matches!(i.record, Record::Contact(_)))
            || self.cfg.require(&[CONTACTS], "writing Google contacts").is_err()
        {
            return None;
        }
        let mut out: Vec<Option<Result<PutOutcome, ConnectorError>>> = items.iter().map(|_| None).collect();
        let mut new = Vec::new();
        {
            let known = match self.index().await {
                Ok(i) => i,
                Err(e) => return Some(items.iter().map(|_| Err(e.clone())).collect()),
            };
            for (n, item) in items.iter().enumerate() {
                if let Record::Contact(_) = item.record
                    && !known.contains_key(&self.key(item))
                    && uid_of(item).is_none_or(|u| !known.contains_key(&uid_key(u)))
                {
                    new.push(n);
                }
            }
        }
        for chunk in new.chunks(BATCH) {
            match self.create_batch(&chunk.iter().map(|n| items[*n]).collect::<Vec<_>>()).await {
                Ok(results) => {
                    for (n, r) in chunk.iter().zip(results) {
                        out[*n] = Some(r);
                    }
                }
                Err(e) => {
                    // the batch may have been made: look again before any is made once more
                    if e.is_transient() {
                        self.forget().await;
                    }
                    for n in chunk {
                        out[*n] = Some(Err(e.clone()));
                    }
                }
            }
        }
        let mut results = Vec::with_capacity(items.len());
        for (item, r) in items.iter().zip(out) {
            results.push(match r {
                Some(r) => r,
                None => self.put(item).await,
            });
        }
        Some(results)
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}
