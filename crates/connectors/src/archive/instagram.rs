//! Instagram's "Download your information" archive (JSON): posts, followers, followed
//! accounts and liked posts as social items. Its message threads are read by
//! `messenger.rs`, what it shares with Facebook's (the mojibake, the media paths) is in
//! `meta.rs`.
//!
//! Posts (`posts_1.json`) are a list of `{media: [{uri, creation_timestamp, title}], title,
//! creation_timestamp}`; a post of one photo has no `title` of its own, its caption is its
//! photo's. Media lie under `media/posts/YYYYMM/`. Accounts are `{title, string_list_data:
//! [{href, value, timestamp}]}` (since 2024 the name in `title`, the link `/_u/NAME`).

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
    each_entry(w, files, SOCIAL, &[], &mut |w, file, n, e| post(w, file, n, &e, &mut ids));
}

fn post(w: &mut Walk, file: &str, n: usize, e: &Value, ids: &mut Ids) -> Result<Item, ItemError> {
    let media: Vec<&Value> = list(&e["media"]).collect();
    if !e.is_object() || media.is_empty() && e["title"].is_null() {
        return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("an entry that is not a post (no media, no title): {e}")));
    }
    let single = media.len() == 1;
    let content = text(&e["title"]).or_else(|| if single { text(&media[0]["title"]) } else { None });
    let published = seconds(&e["creation_timestamp"]).or_else(|| media.first().and_then(|m| seconds(&m["creation_timestamp"])));
    let mut attach = Attach::default();
    let mut docs = Vec::new();
    let mut uris = Vec::new();
    for m in media {
        let Some(uri) = text(&m["uri"]) else { continue };
        match attach.add(w, &uri, "media") {
            Some(name) => docs.push(json!({"type": "Document", "mediaType": file_media_type(&name), "url": name,
                "name": if single { None } else { text(&m["title"]) },
                "published": seconds(&m["creation_timestamp"]).map(|t| t.to_rfc3339())})),
            None => docs.push(json!({"type": "Document", "url": uri})),
        }
        uris.push(uri);
    }
    let ts = published.map(|p| p.timestamp().to_string()).unwrap_or_default();
    let mut parts = vec![ts.as_str(), content.as_deref().unwrap_or("")];
    parts.extend(uris.iter().map(String::as_str));
    let id = ids.unique(format!("post:{}", hash_id(&parts)));
    let activity = json!({"type": "Create", "published": published.map(|p| p.to_rfc3339()),
        "object": {"type": "Note", "content": content, "attachment": docs}, "meta:entry": e});
    let social = Social { kind: Kind::Post, content, published, activity: Some(prune(activity)), ..Default::default() };
    let mut item = social.item(&id, "", &sha256_hex(e.to_string().as_bytes())).map_err(|r| fail(SOCIAL, &id, file, r))?;
    item.attachments = attach.list;
    item.source_warnings = attach.warnings;
    Ok(item)
}

/// The account an entry names: its name (`value`, else `title`, else the link's last
/// part) and its profile's address.
fn account(e: &Value) -> Option<(String, String, &Value)> {
    let s = list(&e["string_list_data"]).next().unwrap_or(&Value::Null);
    let from_href = text(&s["href"]).and_then(|h| {
        let path = h.split("://").nth(1)?.split_once('/')?.1.trim_end_matches('/');
        let name = path.strip_prefix("_u/").unwrap_or(path);
        (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
    });
    let name = text(&s["value"]).or_else(|| text(&e["title"])).or(from_href)?;
    Some((name.clone(), format!("https://www.instagram.com/{name}"), s))
}

/// `followers_N.json` (followers) or `following.json` (followed accounts): one item per
/// account, its profile's address as the account, `published` when the follow began.
pub fn accounts(w: &mut Walk, files: Vec<String>, kind: Kind) {
    if !w.wants(SOCIAL) {
        return skip(w, files, SOCIAL);
    }
    let (prefix, keys): (&str, &[&str]) = match kind {
        Kind::Follower => ("follower", &["relationships_followers"]),
        _ => ("following", &["relationships_following"]),
    };
    let mut ids = Ids::default();
    each_entry(w, files, SOCIAL, keys, &mut |_, file, n, e| {
        let Some((name, profile, s)) = account(&e) else {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("an entry that names no account: {e}")));
        };
        let id = ids.unique(format!("{prefix}:{name}"));
        let social = Social { kind, account: Some(profile), published: seconds(&s["timestamp"]), ..Default::default() };
        social.item(&id, "", &sha256_hex(e.to_string().as_bytes())).map_err(|r| fail(SOCIAL, &id, file, r))
    });
}

/// `liked_posts.json`: `{title: the post's author, string_list_data: [{href: the post,
/// value: the reaction, timestamp}]}`, each a like, its reaction and author as options.
pub fn likes(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files, SOCIAL);
    }
    let mut ids = Ids::default();
    each_entry(w, files, SOCIAL, &["likes_media_likes"], &mut |_, file, n, e| {
        let s = list(&e["string_list_data"]).next().cloned().unwrap_or(Value::Null);
        let Some(href) = text(&s["href"]) else {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, format!("a like without the post's link: {e}")));
        };
        let id = ids.unique(format!("like:{href}"));
        // the post's author as an option: a like's file (an ActivityStreams `Like`) has no
        // place for it
        let options: BTreeMap<String, String> = [("reaction", text(&s["value"])), ("author", text(&e["title"]))]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect();
        let social = Social { kind: Kind::Like, object: Some(href), published: seconds(&s["timestamp"]), options, ..Default::default() };
        social.item(&id, "", &sha256_hex(e.to_string().as_bytes())).map_err(|r| fail(SOCIAL, &id, file, r))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_named_by_its_value_title_or_link() {
        let old = json!({"title": "", "string_list_data": [{"href": "https://www.instagram.com/ann", "value": "ann", "timestamp": 1}]});
        assert_eq!(account(&old).unwrap().1, "https://www.instagram.com/ann");
        let new = json!({"title": "bob", "string_list_data": [{"href": "https://www.instagram.com/_u/bob", "timestamp": 1}]});
        assert_eq!(account(&new).unwrap().0, "bob");
        let bare = json!({"string_list_data": [{"href": "https://www.instagram.com/_u/carl/"}]});
        assert_eq!(account(&bare).unwrap().0, "carl");
        assert!(account(&json!({"string_list_data": [{"href": "https://www.instagram.com/"}]})).is_none());
        assert!(account(&json!({})).is_none());
    }
}
