//! A Mastodon account archive ("Request your archive": `outbox.json` with the posts and
//! boosts, `likes.json`, `bookmarks.json`, `actor.json` and `media_attachments/`) and the
//! CSV files of its import and export page, as social items.

use super::json::each_element;
use super::walk::{Walk, fail};
use ferry_codecs::media::file_media_type;
use ferry_core::content::sha256_hex;
use ferry_core::{Attachment, Item, ItemError};
use ferry_verticals::social::{Kind, SOCIAL, Social};
use serde_json::Value;
use std::collections::BTreeMap;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn has(v: &Value, what: &str) -> bool {
    v.as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(what))) || v.as_str() == Some(what)
}

fn mentions_followers(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|s| s.ends_with("/followers"))))
}

/// Mastodon's visibility from an activity's addressing.
fn visibility(a: &Value) -> &'static str {
    let (to, cc) = (&a["to"], &a["cc"]);
    if has(to, PUBLIC) {
        "public"
    } else if has(cc, PUBLIC) {
        "unlisted"
    } else if mentions_followers(to) || mentions_followers(cc) {
        "private"
    } else {
        "direct"
    }
}

fn published(a: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    a["published"].as_str().and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok()).map(|p| p.with_timezone(&chrono::Utc))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned).or_else(|| v["id"].as_str().map(str::to_owned))
}

pub fn outbox(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files);
    }
    for file in files {
        let input = match w.fs.open_file(&file) {
            Ok(r) => r,
            Err(e) => {
                if !w.send(Err(fail(SOCIAL, &file, &file, e))) {
                    return;
                }
                continue;
            }
        };
        let mut n = 0usize;
        let r = each_element(input, Some("orderedItems"), &mut |a| {
            n += 1;
            let item = activity_item(w, &a, &file, n);
            w.send(item)
        });
        if let Err(e) = r
            && !w.send(Err(fail(SOCIAL, &format!("{file}#{}", n + 1), &file, format!("{e} (after {n} activities)"))))
        {
            return;
        }
    }
}

fn activity_item(w: &mut Walk, a: &Value, file: &str, n: usize) -> Result<Item, ItemError> {
    // a post by its URI; a boost by its activity's (Mastodon names it the status URI and `/activity`)
    let id = a["object"]["id"]
        .as_str()
        .or(a["id"].as_str().map(|i| i.strip_suffix("/activity").unwrap_or(i)))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{file}#{n}"));
    let err = |reason: String| fail(SOCIAL, &id, &format!("{file} activity {n}"), reason);
    let version = sha256_hex(a.to_string().as_bytes());
    let kind = match a["type"].as_str() {
        Some("Create") => Kind::Post,
        Some("Announce") => Kind::Repost,
        other => return Err(err(format!("an activity of type {other:?}: the outbox holds posts (Create) and boosts (Announce)"))),
    };
    let o = &a["object"];
    let mut social = Social {
        kind,
        published: published(a).or_else(|| published(o)),
        visibility: Some(visibility(a).to_owned()),
        activity: Some(a.clone()),
        ..Default::default()
    };
    let mut warnings = Vec::new();
    let mut attachments = Vec::new();
    if kind == Kind::Repost {
        social.object = text(o);
    } else {
        social.content = o["content"].as_str().map(str::to_owned);
        social.in_reply_to = text(&o["inReplyTo"]);
        social.url = text(&o["url"]);
        for (i, doc) in o["attachment"].as_array().into_iter().flatten().enumerate() {
            let Some(url) = doc["url"].as_str() else {
                warnings.push(format!("attachment {i}: it has no url"));
                continue;
            };
            // the archive holds each file at the path its URL names
            let path = url.trim_start_matches('/');
            if w.fs.entries.contains_key(path) {
                w.claim(path);
                let name = path.rsplit('/').next().unwrap_or(path).to_owned();
                let media_type = doc["mediaType"].as_str().unwrap_or_else(|| file_media_type(&name));
                attachments.push(Attachment { name, content: w.fs.content(path, media_type) });
            } else {
                warnings.push(format!("attachment {url}: the post names it, the archive does not hold it"));
            }
        }
    }
    let mut item = social.item(&id, "", &version).map_err(err)?;
    item.attachments = attachments;
    item.source_warnings = warnings;
    Ok(item)
}

/// `likes.json` or `bookmarks.json`: the URIs of the posts.
pub fn collection(w: &mut Walk, files: Vec<String>, kind: Kind) {
    if !w.wants(SOCIAL) {
        return skip(w, files);
    }
    let prefix = if kind == Kind::Like { "like" } else { "bookmark" };
    for file in files {
        let r = w.fs.open_file(&file).and_then(|input| {
            each_element(input, Some("orderedItems"), &mut |v| {
                let Some(uri) = text(&v) else {
                    return w.send(Err(fail(SOCIAL, &file, &file, format!("an entry that is not a post's URI: {v}"))));
                };
                let social = Social { kind, object: Some(uri.clone()), ..Default::default() };
                let id = format!("{prefix}:{uri}");
                let item = social.item(&id, "", &sha256_hex(uri.as_bytes())).map_err(|e| fail(SOCIAL, &id, &file, e));
                w.send(item)
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(SOCIAL, &file, &file, e)))
        {
            return;
        }
    }
}

fn skip(w: &mut Walk, files: Vec<String>) {
    for f in files {
        if !w.skipped(&f, "holds social items, which were not asked for".into()) {
            return;
        }
    }
}

/// Largest CSV file of the import page read (a list of accounts).
const MAX_CSV: u64 = 64 << 20;

/// A CSV file of Mastodon's import and export page: its rows as relations of `kind`.
pub fn csv(w: &mut Walk, files: Vec<String>, kind: Kind) {
    if !w.wants(SOCIAL) {
        return skip(w, files);
    }
    for file in files {
        let items = w.fs.read_bounded(&file, MAX_CSV).and_then(|b| relations(&b, kind));
        match items {
            Ok(list) => {
                for (id, social) in list {
                    let version = sha256_hex(serde_json::to_string(&social).unwrap_or_default().as_bytes());
                    let item = social.item(&id, "", &version).map_err(|e| fail(SOCIAL, &id, &file, e));
                    if !w.send(item) {
                        return;
                    }
                }
            }
            Err(e) => {
                if !w.send(Err(fail(SOCIAL, &file, &file, e))) {
                    return;
                }
            }
        }
    }
}

/// The relations of one CSV file, by id. A header row (when the file has one) names the
/// columns; lists gather their rows into one item per list.
fn relations(bytes: &[u8], kind: Kind) -> Result<Vec<(String, Social)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut header: Option<Vec<String>> = None;
    for (i, row) in rows.records().enumerate() {
        let row = row.map_err(|e| format!("line {}: {e}", i + 1))?;
        let cells: Vec<String> = row.iter().map(|c| c.trim().to_owned()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if i == 0 && cells[0].eq_ignore_ascii_case("Account address") {
            header = Some(cells);
            continue;
        }
        let first = cells[0].trim_start_matches('@').to_owned();
        match kind {
            Kind::List => {
                let member = cells.get(1).map(|m| m.trim_start_matches('@').to_owned()).unwrap_or_default();
                let members = lists.entry(cells[0].clone()).or_default();
                if !member.is_empty() {
                    members.push(member);
                }
            }
            Kind::DomainBlock => out.push((format!("domain_block:{first}"), Social { kind, object: Some(first), ..Default::default() })),
            _ => {
                let mut options = BTreeMap::new();
                if let Some(h) = &header {
                    for (name, value) in h.iter().zip(&cells).skip(1) {
                        let key = match name.as_str() {
                            "Show boosts" => "show_reblogs",
                            "Notify on new posts" => "notify",
                            "Languages" => "languages",
                            "Hide notifications" => "hide_notifications",
                            _ => name.as_str(),
                        };
                        if !value.is_empty() {
                            options.insert(key.to_owned(), value.clone());
                        }
                    }
                }
                let prefix = match kind {
                    Kind::Following => "following",
                    Kind::Block => "block",
                    _ => "mute",
                };
                out.push((format!("{prefix}:{first}"), Social { kind, account: Some(first), options, ..Default::default() }));
            }
        }
    }
    for (title, members) in lists {
        out.push((format!("list:{title}"), Social { kind: Kind::List, title: Some(title), members, ..Default::default() }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visibility_follows_the_addressing() {
        let f = "https://m.example/users/a/followers";
        assert_eq!(visibility(&json!({"to": [PUBLIC], "cc": [f]})), "public");
        assert_eq!(visibility(&json!({"to": [f], "cc": [PUBLIC]})), "unlisted");
        assert_eq!(visibility(&json!({"to": [f], "cc": []})), "private");
        assert_eq!(visibility(&json!({"to": ["https://m.example/users/b"]})), "direct");
    }

    #[test]
    fn import_page_files_become_relations() {
        let following = b"\xef\xbb\xbfAccount address,Show boosts,Notify on new posts,Languages\nann@m.example,true,false,\n@bob@x.example,false,true,\"de,en\"\n";
        let r = relations(following, Kind::Following).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].1.account.as_deref(), Some("bob@x.example"));
        assert_eq!(r[1].1.options["languages"], "de,en");
        assert_eq!(r[0].1.options["show_reblogs"], "true");
        let blocked = relations(b"spam@bad.example\n\ntroll@bad.example\n", Kind::Block).unwrap();
        assert_eq!(blocked.len(), 2);
        let lists = relations(b"Friends,ann@m.example\nFriends,bob@x.example\nWork,carl@y.example\n", Kind::List).unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].1.members, ["ann@m.example", "bob@x.example"]);
        assert!(relations(b"a,\"unclosed\n", Kind::Block).is_err() || relations(b"\xff\xfe", Kind::Block).is_err());
        assert!(relations(b"\xff\xfe", Kind::Block).unwrap_err().contains("UTF-8"));
    }
}
