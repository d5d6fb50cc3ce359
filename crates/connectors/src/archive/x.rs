//! An X (Twitter) archive: `data/tweets.js` (older: `tweet.js`; large accounts:
//! `tweets-part1.js`...), each a script `window.YTD.tweets.part0 = [...]`, with the media
//! in `data/tweets_media/` (older: `tweet_media/`) named `TWEETID-NAME`; likes, follows,
//! followers, blocks and mutes in their own scripts. Numbers are often strings.

use super::json::each_element;
use super::walk::{Walk, fail};
use ferry_codecs::media::file_media_type;
use ferry_core::content::sha256_hex;
use ferry_core::{Attachment, Item, ItemError};
use ferry_verticals::social::{Kind, SOCIAL, Social};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;

/// The script's assignment before its JSON: read past, at most this long.
const MAX_PREFIX: usize = 256;

/// A script's JSON: `window.YTD.NAME.partN = ` read past (a file without it is JSON as is).
fn script(mut input: Box<dyn Read + Send>) -> Result<impl Read, String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = input.read(&mut byte).map_err(|e| format!("cannot read: {e}"))?;
        if n == 0 {
            return Err("empty, or cut off before its data".into());
        }
        if byte[0] == b'[' || byte[0] == b'{' {
            break;
        }
        head.push(byte[0]);
        if head.len() > MAX_PREFIX {
            return Err(format!("does not start with `window.YTD.… = ` and its data within {MAX_PREFIX} bytes"));
        }
    }
    let head = String::from_utf8_lossy(&head);
    let head = head.trim().trim_start_matches('\u{feff}');
    if !(head.is_empty() || head.starts_with("window.YTD.") && head.ends_with('=')) {
        return Err(format!("starts with `{head}`, not `window.YTD.… = `"));
    }
    Ok(std::io::Cursor::new(byte).chain(input))
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn status_url(id: &str, user: Option<&str>) -> String {
    format!("https://x.com/{}/status/{id}", user.unwrap_or("i/web"))
}

/// Makes an entry's item: (walk, file, entry number, entry).
type Entry<'a> = dyn FnMut(&mut Walk, &str, usize, Value) -> Result<Item, ItemError> + 'a;

/// Runs `f` over every element of every script file.
fn each_script(w: &mut Walk, files: Vec<String>, f: &mut Entry) {
    for file in files {
        let mut n = 0usize;
        let r = w.fs.open_file(&file).and_then(script).and_then(|input| {
            each_element(input, None, &mut |v| {
                n += 1;
                let item = f(w, &file, n, v);
                w.send(item)
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(SOCIAL, &format!("{file}#{}", n + 1), &file, format!("{e} (after {n} entries)"))))
        {
            return;
        }
        if !w.open {
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

pub fn tweets(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files);
    }
    // the media files by the tweet they belong to
    let mut media: HashMap<String, Vec<String>> = HashMap::new();
    for p in w.fs.entries.keys() {
        let Some(name) = p.strip_prefix("data/tweets_media/").or_else(|| p.strip_prefix("data/tweet_media/")) else { continue };
        if let Some((id, _)) = name.split_once('-') {
            media.entry(id.to_owned()).or_default().push(p.clone());
        }
    }
    each_script(w, files, &mut |w, file, n, v| tweet(w, file, n, &v, &media));
}

fn tweet(w: &mut Walk, file: &str, n: usize, v: &Value, media: &HashMap<String, Vec<String>>) -> Result<Item, ItemError> {
    let t = if v["tweet"].is_object() { &v["tweet"] } else { v };
    let Some(id) = str_of(&t["id_str"]).or_else(|| str_of(&t["id"])) else {
        return Err(fail(SOCIAL, &format!("{file}#{n}"), file, "a tweet without an id"));
    };
    let text = t["full_text"].as_str().or(t["text"].as_str()).unwrap_or_default().to_owned();
    let published = t["created_at"]
        .as_str()
        .and_then(|c| chrono::DateTime::parse_from_str(c, "%a %b %d %H:%M:%S %z %Y").ok())
        .map(|d| d.with_timezone(&chrono::Utc));
    let repost = text.starts_with("RT @") || t["retweeted_status"].is_object();
    let reply_user = t["in_reply_to_screen_name"].as_str();
    let in_reply_to =
        str_of(&t["in_reply_to_status_id_str"]).or_else(|| str_of(&t["in_reply_to_status_id"])).map(|p| status_url(&p, reply_user));
    let url = status_url(&id, None);
    let mut attachments = Vec::new();
    let mut docs = Vec::new();
    for p in media.get(&id).into_iter().flatten() {
        w.claim(p);
        let name = p.rsplit('/').next().unwrap_or(p).to_owned();
        docs.push(json!({"type": "Document", "mediaType": file_media_type(&name), "url": name}));
        attachments.push(Attachment { name, content: w.fs.content(p, file_media_type(p)) });
    }
    let mut warnings = Vec::new();
    let declared = t["extended_entities"]["media"].as_array().map_or(0, Vec::len);
    if declared > attachments.len() {
        warnings.push(format!("media: the tweet has {declared}, the archive holds {} of them", attachments.len()));
    }
    let tags: Vec<Value> = t["entities"]["hashtags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["text"].as_str())
        .map(|h| json!({"type": "Hashtag", "name": format!("#{h}")}))
        .collect();
    // the tweet as the archive has it travels inside the activity: nothing is dropped
    let mut activity = json!({"type": if repost { "Announce" } else { "Create" }, "published": published.map(|p| p.to_rfc3339()),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": url, "type": "Note", "content": text, "url": url, "inReplyTo": in_reply_to, "attachment": docs, "tag": tags},
        "x:tweet": t});
    if repost {
        // the retweet is the activity; the archive does not say which tweet it repeats, so
        // the object (the text as shown) has no id of its own
        activity["id"] = json!(url);
        activity["url"] = json!(url);
        if let Some(o) = activity["object"].as_object_mut() {
            o.remove("id");
            o.remove("url");
        }
    }
    let social = Social {
        kind: if repost { Kind::Repost } else { Kind::Post },
        content: Some(text),
        visibility: Some("public".into()),
        in_reply_to,
        url: Some(url),
        published,
        activity: Some(activity),
        ..Default::default()
    };
    let version = sha256_hex(t.to_string().as_bytes());
    let mut item = social.item(&id, "", &version).map_err(|e| fail(SOCIAL, &id, file, e))?;
    item.attachments = attachments;
    item.source_warnings = warnings;
    Ok(item)
}

pub fn likes(w: &mut Walk, files: Vec<String>) {
    if !w.wants(SOCIAL) {
        return skip(w, files);
    }
    each_script(w, files, &mut |_, file, n, v| {
        let l = &v["like"];
        let Some(id) = str_of(&l["tweetId"]) else {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, "a like without the tweet's id"));
        };
        let object = l["expandedUrl"].as_str().map(str::to_owned).unwrap_or_else(|| status_url(&id, None));
        let activity = json!({"type": "Like", "object": object, "content": l["fullText"]});
        let social = Social { kind: Kind::Like, object: Some(object), activity: Some(activity), ..Default::default() };
        let key = format!("like:{id}");
        social.item(&key, "", &sha256_hex(l.to_string().as_bytes())).map_err(|e| fail(SOCIAL, &key, file, e))
    });
}

/// `follower.js`, `following.js`, `block.js`, `mute.js`: `{"following": {"accountId": ...,
/// "userLink": ...}}` (the key names the relation).
pub fn accounts(w: &mut Walk, files: Vec<String>, kind: Kind) {
    if !w.wants(SOCIAL) {
        return skip(w, files);
    }
    let prefix = match kind {
        Kind::Following => "following",
        Kind::Follower => "follower",
        Kind::Block => "block",
        _ => "mute",
    };
    each_script(w, files, &mut |_, file, n, v| {
        let a = v.as_object().and_then(|o| o.values().next()).cloned().unwrap_or(Value::Null);
        let Some(account_id) = str_of(&a["accountId"]) else {
            return Err(fail(SOCIAL, &format!("{file}#{n}"), file, "an entry without an accountId"));
        };
        let link = a["userLink"].as_str().map(str::to_owned).unwrap_or_else(|| format!("https://x.com/intent/user?user_id={account_id}"));
        let social = Social { kind, account: Some(link), ..Default::default() };
        let key = format!("{prefix}:{account_id}");
        social.item(&key, "", &sha256_hex(a.to_string().as_bytes())).map_err(|e| fail(SOCIAL, &key, file, e))
    });
}

/// `direct-messages.js` and `direct-messages-group.js`: one conversation per
/// `dmConversation`, its messages in time order (the archive lists them newest first),
/// each with its reactions and the media `direct_messages_media/MESSAGEID-NAME` holds;
/// the other events of the conversation (joins, renames) kept in its `extra`.
pub fn direct_messages(w: &mut Walk, files: Vec<String>) {
    use ferry_verticals::conversations::CONVERSATIONS;
    if !w.wants(CONVERSATIONS) {
        return super::found::skip_all(w, files, CONVERSATIONS);
    }
    let mut media: HashMap<String, Vec<String>> = HashMap::new();
    for p in w.fs.entries.keys() {
        let Some(name) = p.strip_prefix("data/direct_messages_media/").or_else(|| p.strip_prefix("data/direct_messages_group_media/"))
        else {
            continue;
        };
        if let Some((id, _)) = name.split_once('-') {
            media.entry(id.to_owned()).or_default().push(p.clone());
        }
    }
    for file in files {
        let mut n = 0usize;
        let group = file.contains("group");
        let r = w.fs.open_file(&file).and_then(script).and_then(|input| {
            each_element(input, None, &mut |v| {
                n += 1;
                let found = dm_conversation(&v, group, &media);
                super::found::emit(w, &file, CONVERSATIONS, n, found, &|w, _, p| {
                    if w.fs.entries.contains_key(p) { vec![p.to_owned()] } else { vec![] }
                })
            })
        });
        if let Err(e) = r
            && !w.send(Err(fail(CONVERSATIONS, &file, &file, format!("{e} (after {n} conversations)"))))
        {
            return;
        }
        if !w.open {
            return;
        }
    }
}

fn dm_conversation(v: &Value, group: bool, media: &HashMap<String, Vec<String>>) -> Result<ferry_verticals::conversations::Found, String> {
    use ferry_verticals::conversations::{Attached, Conversation, Kind as ConvKind, Message, Part, Person, Reaction};
    let c = &v["dmConversation"];
    let id = str_of(&c["conversationId"]).ok_or("a conversation without a conversationId")?;
    let mut messages = Vec::new();
    let mut events = Vec::new();
    let mut people = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for m in c["messages"].as_array().into_iter().flatten() {
        let Some(mc) = m.get("messageCreate") else {
            events.push(m.clone());
            continue;
        };
        let mid = str_of(&mc["id"]).unwrap_or_else(|| format!("{}-{}", id, messages.len()));
        let sender = str_of(&mc["senderId"]);
        people.extend(sender.clone());
        people.extend(str_of(&mc["recipientId"]));
        let created =
            mc["createdAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&chrono::Utc));
        let mut content = vec![Part::Text { text: mc["text"].as_str().unwrap_or_default().to_owned(), extra: Default::default() }];
        let mut attachments = Vec::new();
        for p in media.get(&mid).into_iter().flatten() {
            let name = p.rsplit('/').next().unwrap_or(p).to_owned();
            content.push(Part::File { file: name.clone(), media_type: Some(file_media_type(&name).to_owned()), extra: Default::default() });
            attachments.push(Attached { name: name.clone(), file: Some(name), ..Default::default() });
            files.push(p.clone());
        }
        let mut reactions: Vec<Reaction> = Vec::new();
        for r in mc["reactions"].as_array().into_iter().flatten() {
            let name = r["reactionKey"].as_str().unwrap_or("reaction").to_owned();
            let user = str_of(&r["senderId"]);
            match reactions.iter_mut().find(|x| x.name == name) {
                Some(x) => {
                    x.count += 1;
                    x.users.extend(user);
                }
                None => reactions.push(Reaction { name, count: 1, users: user.into_iter().collect() }),
            }
        }
        let mut extra = ferry_verticals::conversations::Extra::new();
        for k in ["urls", "mediaUrls", "editHistory"] {
            if mc[k].as_array().is_some_and(|a| !a.is_empty()) {
                extra.insert(k.to_owned(), mc[k].clone());
            }
        }
        messages.push(Message {
            id: mid,
            author: Person { role: Some("user".into()), id: sender, name: None },
            created,
            content,
            attachments,
            reactions,
            visible: true,
            extra,
            ..Default::default()
        });
    }
    // the archive lists a conversation newest first: in time order, each after the one before
    messages.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    for i in 1..messages.len() {
        messages[i].parent = Some(messages[i - 1].id.clone());
    }
    let mut extra = ferry_verticals::conversations::Extra::new();
    if !events.is_empty() {
        extra.insert("events".into(), Value::Array(events));
    }
    let record = Conversation {
        title: None,
        platform: "x".into(),
        kind: ConvKind::Chat,
        created: messages.first().and_then(|m| m.created),
        updated: messages.last().and_then(|m| m.created),
        participants: people.into_iter().map(|p| Person { role: Some("user".into()), id: Some(p), name: None }).collect(),
        model: None,
        messages,
        extra,
    };
    Ok(ferry_verticals::found::Found {
        id,
        container: if group { "group".into() } else { "direct".into() },
        record,
        files,
        warnings: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &[u8]) -> Result<String, String> {
        let mut s = String::new();
        script(Box::new(std::io::Cursor::new(text.to_vec())))?.read_to_string(&mut s).unwrap();
        Ok(s)
    }

    #[test]
    fn the_script_prefix_is_read_past() {
        assert_eq!(body(b"window.YTD.tweets.part0 = [ {\"a\":1} ]").unwrap(), "[ {\"a\":1} ]");
        assert_eq!(body(b"[]").unwrap(), "[]");
        assert!(body(b"alert(1); [ ]").unwrap_err().contains("not `window.YTD"));
        assert!(body(b"window.YTD.tweets.part0 = ").unwrap_err().contains("cut off"));
        assert!(body(&vec![b'x'; 1000]).unwrap_err().contains("within"));
    }
}
