//! Facebook's "Download your information" archive (JSON): posts, comments, reactions and
//! friends as social items. Its message threads are read by `messenger.rs`, what it shares
//! with Instagram's (the mojibake, the media paths) is in `meta.rs`.
//!
//! Posts (`your_posts_1.json`; since 2024 `your_posts__check_ins__photos_and_videos_1.json`)
//! are a list of `{timestamp, data: [{post}], attachments: [{data: [{media}, {place},
//! {external_context}]}], title, tags}`; no id, no link and no audience: a post's id is a
//! hash of its time, text and media, its visibility unknown.

use super::meta::{Attach, Ids, each_entry, list, prune, seconds, skip, text};
use super::walk::{Walk, fail};
use ferry_codecs::media::file_media_type;
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError};
use ferry_verticals::found::hash_id;
use ferry_verticals::social::{Kind, SOCIAL, Social};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn posts(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files, SOCIAL);
    }
    let mut ids = Ids::default();
    // 2018's `your_posts.json` held them under `status_updates`
    each_entry(w, files, SOCIAL, &["status_updates"], &mut |w, file, n, e| post(w, file, n, &e, &mut ids));
}

/// What a post's or comment's `attachments` hold: its media (attached), its place, its links.
#[derive(Default)]
struct Attached {
    attach: Attach,
    docs: Vec<Value>,
    uris: Vec<String>,
    location: Option<Value>,
}

impl Attached {
    fn read(w: &mut Walk, e: &Value) -> Attached {
        let mut a = Attached::default();
        for d in list(&e["attachments"]).flat_map(|x| list(&x["data"])) {
            if d["media"].is_object() {
                a.media(w, &d["media"]);
            }
            for m in list(&d["note"]["media"]) {
                a.media(w, m);
            }
            if d["place"].is_object() {
                a.location = Some(place(&d["place"]));
            }
            if let Some(url) = text(&d["external_context"]["url"]) {
                a.docs.push(json!({"type": "Link", "href": url, "name": d["external_context"]["name"]}));
            }
        }
        a
    }

    fn media(&mut self, w: &mut Walk, m: &Value) {
        let Some(uri) = text(&m["uri"]) else { return };
        self.uris.push(uri.clone());
        if let Some(name) = self.attach.add(w, &uri, "media") {
            let caption = text(&m["description"]).or_else(|| text(&m["title"]));
            self.docs.push(json!({"type": "Document", "mediaType": file_media_type(&name), "url": name, "name": caption,
                "published": seconds(&m["creation_timestamp"]).map(|t| t.to_rfc3339())}));
        } else {
            self.docs.push(json!({"type": "Document", "url": uri}));
        }
    }
}

/// A check-in's place as an ActivityStreams `Place`.
fn place(p: &Value) -> Value {
    json!({"type": "Place", "name": p["name"], "latitude": p["coordinate"]["latitude"], "longitude": p["coordinate"]["longitude"],
        "address": p["address"], "url": p["url"]})
}

/// Its `data` entries' `key` texts, one after another.
fn texts(e: &Value, key: &str) -> Option<String> {
    let parts: Vec<String> = list(&e["data"]).filter_map(|d| text(&d[key])).collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

fn post(w: &mut Walk, file: &str, n: usize, e: &Value, ids: &mut Ids) -> Result<Item, ItemError> {
    if !e.is_object() {
        return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("an entry that is not an object: {e}")));
    }
    let content = texts(e, "post");
    let published = seconds(&e["timestamp"]);
    let updated = list(&e["data"]).find_map(|d| seconds(&d["update_timestamp"]));
    let a = Attached::read(w, e);
    let ts = e["timestamp"].to_string();
    let mut parts = vec![ts.as_str(), content.as_deref().unwrap_or("")];
    parts.extend(a.uris.iter().map(String::as_str));
    let id = ids.unique(format!("post:{}", hash_id(&parts)));
    let tags: Vec<Value> = list(&e["tags"])
        .filter_map(|t| text(&t["name"]).or_else(|| text(t)))
        .map(|name| json!({"type": "Mention", "name": name}))
        .collect();
    let activity = json!({"type": "Create", "published": published.map(|p| p.to_rfc3339()), "updated": updated.map(|p| p.to_rfc3339()),
        "object": {"type": "Note", "content": content, "attachment": a.docs, "location": a.location, "tag": tags},
        "meta:entry": e});
    let social = Social { kind: Kind::Post, content, published, activity: Some(prune(activity)), ..Default::default() };
    finish(social, &id, file, e, a.attach)
}

fn finish(social: Social, id: &str, file: &str, e: &Value, attach: Attach) -> Result<Item, ItemError> {
    let mut item = social.item(id, "", &sha256_hex(e.to_string().as_bytes())).map_err(|r| fail(SOCIAL, id, file, r))?;
    item.attachments = attach.list;
    item.source_warnings = attach.warnings;
    Ok(item)
}

/// `comments.json`: the account's comments, each a post in reply to another's. The
/// archive names what it answers in words only (`title`: "Ann commented on Bob's post."):
/// the reply's `inReplyTo` is an object with that name, and `in_reply_to` stays empty.
pub fn comments(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files, SOCIAL);
    }
    let mut ids = Ids::default();
    each_entry(w, files, SOCIAL, &["comments_v2", "comments"], &mut |w, file, n, e| {
        if !e.is_object() {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("an entry that is not an object: {e}")));
        }
        let comment = list(&e["data"]).map(|d| &d["comment"]).find(|c| c.is_object()).cloned().unwrap_or(Value::Null);
        let content = text(&comment["comment"]);
        let published = seconds(&e["timestamp"]).or_else(|| seconds(&comment["timestamp"]));
        let title = text(&e["title"]);
        let a = Attached::read(w, &e);
        let ts = e["timestamp"].to_string();
        let id = ids.unique(format!(
            "comment:{}",
            hash_id(&[&ts, content.as_deref().unwrap_or(""), title.as_deref().unwrap_or(""), &a.uris.join("\n")])
        ));
        let replied = title.as_ref().map(|t| json!({"type": "Object", "name": t}));
        let activity = json!({"type": "Create", "published": published.map(|p| p.to_rfc3339()),
            "object": {"type": "Note", "content": content, "inReplyTo": replied, "attachment": a.docs, "context": comment["group"]},
            "meta:entry": e});
        let social = Social { kind: Kind::Post, content, published, activity: Some(prune(activity)), ..Default::default() };
        finish(social, &id, file, &e, a.attach)
    });
}

/// A `label_values` entry's value for `label` (Meta's newer files: `[{label, value}]`).
fn label<'a>(e: &'a Value, label: &str) -> Option<&'a str> {
    list(&e["label_values"])
        .find(|l| l["label"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(label)))
        .and_then(|l| l["value"].as_str().or(l["href"].as_str()))
        .filter(|s| !s.is_empty())
}

/// Likes and reactions: `{timestamp, data: [{reaction: {reaction, actor}}], title}` (since
/// 2024 also `{timestamp, label_values: [{label: "Reaction"}, {label: "URL"}]}`), each a
/// like with its reaction (`LIKE`, `LOVE`, ...) as the option `reaction`; the post it is
/// of by its link where the archive gives one, else in words (`title`).
pub fn reactions(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files, SOCIAL);
    }
    let mut ids = Ids::default();
    each_entry(w, files, SOCIAL, &["reactions_v2", "reactions"], &mut |_, file, n, e| {
        if !e.is_object() {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("an entry that is not an object: {e}")));
        }
        let reaction = list(&e["data"]).find_map(|d| text(&d["reaction"]["reaction"])).or_else(|| label(&e, "reaction").map(str::to_owned));
        let url = label(&e, "url").map(str::to_owned);
        let title = text(&e["title"]).or_else(|| label(&e, "name").map(str::to_owned));
        let published = seconds(&e["timestamp"]);
        let id = ids.unique(match &url {
            Some(u) => format!("like:{u}"),
            None => format!(
                "like:{}",
                hash_id(&[&e["timestamp"].to_string(), title.as_deref().unwrap_or(""), reaction.as_deref().unwrap_or("")])
            ),
        });
        let object = url.clone().map(Value::String).or_else(|| title.as_ref().map(|t| json!({"type": "Object", "name": t})));
        let activity = json!({"type": "Like", "published": published.map(|p| p.to_rfc3339()), "object": object, "content": reaction,
            "meta:entry": e});
        let options: BTreeMap<String, String> = reaction.into_iter().map(|r| ("reaction".to_owned(), r)).collect();
        let social = Social { kind: Kind::Like, object: url, published, options, activity: Some(prune(activity)), ..Default::default() };
        social.item(&id, "", &sha256_hex(e.to_string().as_bytes())).map_err(|r| fail(SOCIAL, &id, file, r))
    });
}

/// `friends.json` / `your_friends.json`: `{name, timestamp}`. A friendship goes both ways:
/// each friend is one item, a followed account (`following`), by the name the archive
/// gives (it gives no address), `published` when the friendship began.
pub fn friends(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files, SOCIAL);
    }
    let mut ids = Ids::default();
    each_entry(w, files, SOCIAL, &["friends_v2", "friends"], &mut |_, file, n, e| {
        let Some(name) = text(&e["name"]) else {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("a friend without a name: {e}")));
        };
        let id = ids.unique(format!("friend:{name}"));
        let mut options = BTreeMap::new();
        if let Some(c) = text(&e["contact_info"]) {
            options.insert("contact_info".to_owned(), c);
        }
        let social =
            Social { kind: Kind::Following, account: Some(name), published: seconds(&e["timestamp"]), options, ..Default::default() };
        social.item(&id, "", &sha256_hex(e.to_string().as_bytes())).map_err(|r| fail(SOCIAL, &id, file, r))
    });
}
