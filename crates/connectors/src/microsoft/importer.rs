use super::api;
use super::config::MicrosoftConfig;
use super::contact::graph_from_contact;
use crate::http::Http;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome, Record};
use serde_json::Value;
use std::collections::HashMap;
use tokio::sync::Mutex;

/// Writes each item to the part of the account its vertical goes to: tasks to To Do
/// (`todo.rs`), events to Outlook calendars (`event.rs`), messages to Outlook mail
/// (`mail.rs`), files to OneDrive (`drive.rs`), contacts here.
///
/// Contacts go into folders named by their containers (made when missing; the default
/// folder for none). A Graph contact has no field for a card's UID, so ferry keeps it in
/// an extended property of its own ([`UID_PROP`]). A contact is found again by its folder
/// and that UID (a card of the same UID from another source is the same contact, and a
/// renamed one is still it), else, for a contact ferry did not make, by its display name
/// and first email: the folder is read once (those fields only), so that a rerun, or a
/// resume after a crash between a create and its record, updates the contact instead of
/// making a second one; one already as it would be written is left alone.
pub struct MicrosoftImporter {
    cfg: MicrosoftConfig,
    http: Http,
    /// Folder name -> id.
    folders: Mutex<Option<HashMap<String, String>>>,
    /// (folder id, natural key) -> (contact id, the fields as Graph holds them).
    index: Mutex<crate::held::Held>,
    todo: super::todo::TodoWriter,
    events: super::event::EventWriter,
    mail: super::mail::MailWriter,
    drive: super::drive::DriveWriter,
    settings: crate::Settings,
    /// The source's name, part of each event's key.
    source: String,
}

/// The extended property that holds a contact's or an event's UID (a named property of
/// ferry's own property set: https://learn.microsoft.com/graph/api/resources/extended-properties-overview).
pub const UID_PROP: &str = "String {7f3c1e52-9a4b-4d2e-8c61-0b5d9e2a7f14} Name ferry-uid";

pub const EXT: &str = "singleValueExtendedProperties";

fn natural_key(g: &Value) -> String {
    let name = g["displayName"].as_str().unwrap_or_default().trim().to_lowercase();
    let email = g["emailAddresses"][0]["address"].as_str().unwrap_or_default().trim().to_lowercase();
    format!("{name}\u{1f}{email}")
}

/// The UID a Graph contact holds in [`UID_PROP`] (as read with its `$expand`, or as
/// written).
pub fn uid_of(g: &Value) -> Option<&str> {
    g[EXT].as_array()?.iter().find(|p| p["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(UID_PROP)))?["value"].as_str()
}

/// How a contact is found: by its UID when it has one, else by its natural key.
fn key_of(g: &Value) -> String {
    match uid_of(g) {
        Some(uid) => format!("uid\u{1f}{uid}"),
        None => natural_key(g),
    }
}

/// Whether the contact Graph holds already has every field as it would be written.
fn same(held: &Value, written: &Value) -> bool {
    uid_of(held) == uid_of(written) && written.as_object().is_some_and(|w| w.iter().filter(|(k, _)| *k != EXT).all(|(k, v)| held[k] == *v))
}

impl MicrosoftImporter {
    pub fn new(cfg: MicrosoftConfig, settings: &crate::Settings, source: &str) -> Result<Self, ConnectorError> {
        Ok(MicrosoftImporter {
            cfg,
            http: Http::new(settings, "")?.for_provider("microsoft"),
            folders: Mutex::new(None),
            index: Mutex::new(Default::default()),
            todo: Default::default(),
            events: Default::default(),
            mail: Default::default(),
            drive: Default::default(),
            settings: settings.clone(),
            source: source.to_owned(),
        })
    }

    /// The folder for a container ("" for the default one), made when missing.
    async fn folder(&self, name: &str) -> Result<String, ConnectorError> {
        if name.is_empty() {
            return Ok(String::new());
        }
        let mut folders = self.folders.lock().await;
        if folders.is_none() {
            let all = super::contact::folders(&self.cfg, &self.http).await?;
            *folders = Some(api::named(&all).into_iter().map(|(id, name)| (name, id)).collect());
        }
        let known = folders.as_mut().expect("just read");
        if let Some(id) = known.get(name) {
            return Ok(id.clone());
        }
        let url = self.cfg.graph("/v1.0/me/contactFolders");
        let body = serde_json::json!({"displayName": name});
        let made: Value =
            api::json(&self.http, &format!("making contact folder `{name}`"), &|| api::with_json(self.http.request("POST", &url), &body))
                .await
                .map_err(|(e, _)| e)?;
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a folder without an id".into()))?.to_owned();
        known.insert(name.to_owned(), id.clone());
        Ok(id)
    }

    /// Sets a contact's photo: Graph takes a JPEG or PNG smaller than 4 MB
    /// (https://learn.microsoft.com/graph/api/profilephoto-update); another is a warning.
    async fn put_photo(&self, id: &str, media_type: &str, bytes: Vec<u8>, warnings: &mut Vec<String>) -> Result<(), ConnectorError> {
        let media_type = media_type.to_ascii_lowercase();
        if !matches!(media_type.as_str(), "image/jpeg" | "image/png") || bytes.len() >= super::contact::MAX_PHOTO {
            warnings.push(format!(
                "PHOTO: Microsoft takes a JPEG or PNG photo smaller than 4 MB; this {media_type} of {} bytes is not kept",
                bytes.len()
            ));
            return Ok(());
        }
        let url = self.cfg.graph(&format!("/v1.0/me/contacts/{}/photo/$value", crate::http::encode_component(id)));
        let body = bytes::Bytes::from(bytes);
        let _: Value = api::json(&self.http, &format!("setting the photo of contact {id}"), &|| {
            self.http.request("PUT", &url).header(reqwest::header::CONTENT_TYPE, media_type.as_str()).body(body.clone())
        })
        .await
        .map_err(|(e, _)| e)?;
        Ok(())
    }

    fn contacts_path(folder: &str) -> String {
        if folder.is_empty() {
            "/v1.0/me/contacts".into()
        } else {
            format!("/v1.0/me/contactFolders/{}/contacts", crate::http::encode_component(folder))
        }
    }

    /// The folder's contact of this natural key for `item` (the folder read once).
    async fn lookup(&self, folder: &str, key: &str, item: &str) -> Result<Option<(String, Value)>, ConnectorError> {
        let mut index = self.index.lock().await;
        if !index.knows(folder) {
            let expand = crate::http::encode_component(&format!("{EXT}($filter=id eq '{UID_PROP}')"));
            let first =
                self.cfg.graph(&format!("{}?$top=500&$select={}&$expand={expand}", Self::contacts_path(folder), super::contact::SELECT));
            let all = api::all(&self.cfg, &self.http, "reading the folder's contacts", first).await?;
            index.fill(folder, all.into_iter().filter_map(|c| Some((key_of(&c), c["id"].as_str()?.to_owned(), c))));
        }
        Ok(index.claim(folder, key, item))
    }
}

#[async_trait]
impl Importer for MicrosoftImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        if let Record::Task(t) = &item.record {
            self.cfg.require(&["Tasks.ReadWrite"], "writing Microsoft To Do")?;
            return self.todo.put(&self.cfg, &self.http, item, t).await;
        }
        if let Record::Event(_) = &item.record {
            self.cfg.require(&["Calendars.ReadWrite"], "writing Outlook calendars")?;
            return self.events.put(&self.cfg, &self.http, item, &self.source).await;
        }
        if let Record::Mail(_) = &item.record {
            self.cfg.require(&["Mail.ReadWrite"], "writing Outlook mail")?;
            return self.mail.put(&self.cfg, &self.http, item).await;
        }
        if let Record::File(_) = &item.record {
            self.cfg.require(&["Files.ReadWrite", "Files.ReadWrite.All"], "writing OneDrive")?;
            return self.drive.put(&self.cfg, &self.http, &self.settings, item).await;
        }
        self.cfg.require(&["Contacts.ReadWrite"], "writing Microsoft contacts")?;
        let Record::Contact(c) = &item.record else {
            return Err(ConnectorError::Item(format!("{} items do not go to Microsoft contacts", item.vertical())));
        };
        let mut c = c.clone();
        // the container is the folder; the same name as a category too would only repeat it
        c.categories.retain(|x| *x != item.container);
        let original = item.original.as_ref().map(|o| ferry_codecs::vcard::properties(&o.bytes)).unwrap_or_default();
        let (mut body, mut warnings) = graph_from_contact(&c, &original);
        if let Some(uid) = c.uid.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            body[EXT] = serde_json::json!([{"id": UID_PROP, "value": uid}]);
        }
        let folder = self.folder(&item.container).await?;
        let key = key_of(&body);
        // by its UID; else a contact of its name and email that ferry did not make (no UID)
        let found = match self.lookup(&folder, &key, &item.id).await? {
            None if key != natural_key(&body) => self.lookup(&folder, &natural_key(&body), &item.id).await?,
            found => found,
        };
        let id = match found {
            Some((id, held)) if same(&held, &body) => return Ok(PutOutcome { dest_id: id, created: false, warnings, sha256: None }),
            Some((id, _)) => {
                let url = self.cfg.graph(&format!("/v1.0/me/contacts/{}", crate::http::encode_component(&id)));
                let _: Value =
                    api::json(&self.http, &format!("updating contact {id}"), &|| api::with_json(self.http.request("PATCH", &url), &body))
                        .await
                        .map_err(|(e, _)| e)?;
                id
            }
            None => {
                let url = self.cfg.graph(&Self::contacts_path(&folder));
                let made: Value = api::json(&self.http, "making a contact", &|| api::with_json(self.http.request("POST", &url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a contact without an id".into()))?.to_owned()
            }
        };
        match item.original.as_ref().and_then(|o| ferry_codecs::vcard::photo_bytes(&o.bytes)) {
            Some((media_type, bytes)) => self.put_photo(&id, &media_type, bytes, &mut warnings).await?,
            None if c.photo.is_some() => warnings.push("PHOTO: a photo by link (not in the card) is not carried to Microsoft".into()),
            None => {}
        }
        self.index.lock().await.record(&folder, key, id.clone(), body, &item.id);
        Ok(PutOutcome { dest_id: id, created: true, warnings, sha256: None })
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_contact_is_known_by_the_uid_ferry_keeps_else_by_its_name_and_email() {
        let written = json!({"displayName": "Person 0 (changed)", "emailAddresses": [{"address": "p0@example.org"}],
            EXT: [{"id": UID_PROP, "value": "contact-0"}]});
        // as Graph answers it: the property's id in its own spelling
        let held = json!({"displayName": "Person 0", "emailAddresses": [{"address": "p0@example.org"}],
            EXT: [{"id": UID_PROP.to_uppercase(), "value": "contact-0"}]});
        assert_eq!(key_of(&written), key_of(&held), "renamed, it is the same contact");
        assert!(!same(&held, &written), "and it is updated");
        let renamed = json!({"displayName": "Person 0 (changed)", "emailAddresses": [{"address": "p0@example.org"}],
            EXT: [{"id": UID_PROP, "value": "contact-0"}]});
        assert!(same(&renamed, &written));
        // one ferry did not make has no UID: found by name and email, then given the UID
        let theirs = json!({"displayName": "Person 0 (changed)", "emailAddresses": [{"address": "P0@example.org"}], EXT: []});
        assert_eq!(key_of(&theirs), natural_key(&written));
        assert!(!same(&theirs, &written));
    }
}
