//! `social`: a social account's posts and relations. Each post (replies and reposts
//! included), each account followed, each follower, block, mute, blocked domain, like,
//! bookmark and list is one item. Its standard file is its ActivityStreams 2.0 object
//! (a post as the `Create` or `Announce` activity Mastodon's outbox holds, a follow as a
//! `Follow`, a block as a `Block`, a mute as an `Ignore`, a like as a `Like`, a list as a
//! `Collection` of its members); a package also gets the CSV files Mastodon's import page
//! takes (`following_accounts.csv`, `blocked_accounts.csv`, `muted_accounts.csv`,
//! `blocked_domains.csv`, `bookmarks.csv`, `lists.csv`), written from the records.

use crate::def::{Codec, Def, DirFile, Per, StandardForm, Table};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SOCIAL: Vertical = Vertical::new("social");

pub const DEF: Def = Def {
    vertical: SOCIAL,
    record_type: "social",
    schema: || serde_json::to_value(schemars::schema_for!(Social)).expect("a schema is JSON"),
    records_path: "social/social.jsonl",
    standard: Some(StandardForm { media_type: "application/activity+json", extension: "json", per: Per::Item }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &TABLES,
    item_files: &[],
};

/// What an item is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A post of the account (a reply too).
    #[default]
    Post,
    /// Another's post the account shared (a boost, a retweet).
    Repost,
    /// An account the account follows.
    Following,
    /// An account that follows the account.
    Follower,
    Block,
    Mute,
    /// A whole server blocked.
    DomainBlock,
    /// A post the account liked (favourited).
    Like,
    Bookmark,
    /// A list of accounts (its `title` and `members`).
    List,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Social {
    pub kind: Kind,
    /// The other account (`user@domain`): followed, follower, blocked or muted; a post's
    /// author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The post a repost, like or bookmark is of (its URI), or the domain blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// A list's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A list's members (`user@domain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// A post's text as the service gave it (Mastodon: HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// `public`, `unlisted`, `private` (followers only) or `direct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Options of a relation as the service names them (`show_reblogs`, `notify`,
    /// `languages`, `hide_notifications`, `replies_policy`, `exclusive`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    /// The whole ActivityStreams 2.0 object as exported (a post's activity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Value>,
}

impl Social {
    pub fn item(&self, id: &str, container: &str, version: &str) -> Result<Item, String> {
        let record = OtherRecord::new(SOCIAL, "social", self)?;
        Ok(Item {
            id: id.to_owned(),
            container: container.to_owned(),
            version: version.to_owned(),
            record: Record::Other(record),
            original: None,
            content: None,
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        })
    }

    pub fn of(item: &Item) -> Result<Social, String> {
        match &item.record {
            Record::Other(r) if r.vertical == SOCIAL => r.typed(),
            _ => Err(format!("{} is not a social item", item.id)),
        }
    }
}

/// The extension property that says what a file's object is, where its type alone does
/// not (a `Follow` is either a followed account or a follower).
const KIND: &str = "ferry:kind";

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("social") && f.extension().as_deref() == Some("json")
}

/// The item's ActivityStreams object.
pub fn activity(s: &Social) -> Value {
    let mut a = match s.kind {
        Kind::Post | Kind::Repost if s.activity.is_some() => s.activity.clone().expect("just checked"),
        Kind::Post => json!({"type": "Create", "object": {"type": "Note", "content": s.content, "inReplyTo": s.in_reply_to, "url": s.url}}),
        Kind::Repost => json!({"type": "Announce", "object": s.object, "url": s.url}),
        Kind::Following | Kind::Follower => json!({"type": "Follow", "object": s.account}),
        Kind::Block => json!({"type": "Block", "object": s.account}),
        Kind::Mute => json!({"type": "Ignore", "object": s.account}),
        Kind::DomainBlock => json!({"type": "Block", "object": s.object}),
        Kind::Like => json!({"type": "Like", "object": s.object}),
        Kind::Bookmark => json!({"type": "Add", "target": "bookmarks", "object": s.object}),
        Kind::List => json!({"type": "Collection", "name": s.title, "totalItems": s.members.len(), "items": s.members}),
    };
    if let Some(o) = a.as_object_mut() {
        o.entry("@context").or_insert_with(|| "https://www.w3.org/ns/activitystreams".into());
        if let Some(p) = s.published {
            o.entry("published").or_insert_with(|| p.to_rfc3339().into());
        }
        o.insert(KIND.into(), serde_json::to_value(s.kind).expect("a kind is a string"));
        if !s.options.is_empty() {
            o.insert("ferry:options".into(), json!(s.options));
        }
    }
    a
}

fn write(item: &Item) -> Result<Standard, String> {
    let s = Social::of(item)?;
    let text = serde_json::to_string_pretty(&activity(&s)).map_err(|e| e.to_string())?;
    Ok(Standard { text: text + "\n", warnings: vec![] })
}

/// The most a social file may hold: an activity is small.
const MAX_FILE: usize = 1 << 20;

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: SOCIAL, id: id.to_owned(), location: id.to_owned(), reason };
    if bytes.len() > MAX_FILE {
        return Err(err(format!("larger than {MAX_FILE} bytes: not one activity")));
    }
    let a: Value = serde_json::from_slice(bytes).map_err(|e| err(format!("not JSON ({e})")))?;
    let kind: Kind = match a.get(KIND) {
        Some(k) => serde_json::from_value(k.clone()).map_err(|e| err(format!("{KIND} is not one ferry knows ({e})")))?,
        None => match a["type"].as_str() {
            Some("Create") => Kind::Post,
            Some("Announce") => Kind::Repost,
            Some("Follow") => Kind::Following,
            Some("Block") => Kind::Block,
            Some("Ignore") => Kind::Mute,
            Some("Like") => Kind::Like,
            Some("Collection" | "OrderedCollection") => Kind::List,
            other => return Err(err(format!("an ActivityStreams object of type {other:?} is not a social item ferry reads"))),
        },
    };
    let text = |v: &Value| v.as_str().map(str::to_owned).or_else(|| v["id"].as_str().map(str::to_owned));
    let mut s = Social {
        kind,
        published: a["published"].as_str().and_then(|p| DateTime::parse_from_rfc3339(p).ok()).map(|p| p.with_timezone(&Utc)),
        options: a["ferry:options"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    match kind {
        Kind::Post | Kind::Repost => {
            let o = &a["object"];
            s.content = o["content"].as_str().map(str::to_owned);
            s.in_reply_to = text(&o["inReplyTo"]);
            // a post's address is its note's; a repost's is the activity's own (its object
            // is the post it repeats)
            s.url = if kind == Kind::Repost { text(&a["url"]) } else { text(&o["url"]) };
            s.object = if kind == Kind::Repost { text(o) } else { None };
            let mut act = a.clone();
            if let Some(m) = act.as_object_mut() {
                m.remove(KIND);
                m.remove("ferry:options");
            }
            s.activity = Some(act);
        }
        Kind::Following | Kind::Follower | Kind::Block | Kind::Mute => s.account = text(&a["object"]),
        Kind::DomainBlock | Kind::Like | Kind::Bookmark => s.object = text(&a["object"]),
        Kind::List => {
            s.title = a["name"].as_str().map(str::to_owned);
            s.members = a["items"].as_array().into_iter().flatten().filter_map(text).collect();
        }
    }
    let record = OtherRecord::new(SOCIAL, "social", &s).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: container.to_owned(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: "application/activity+json".into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    })
}

/// A CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn flag(s: &Social, key: &str, default: bool) -> &'static str {
    match s.options.get(key).map(String::as_str) {
        Some("true") => "true",
        Some("false") => "false",
        _ if default => "true",
        _ => "false",
    }
}

fn rows(record: &Record, kind: Kind, line: fn(&Social) -> Vec<Vec<String>>) -> Vec<String> {
    let Record::Other(r) = record else { return vec![] };
    let Ok(s) = r.typed::<Social>() else { return vec![] };
    if s.kind != kind {
        return vec![];
    }
    // the import page takes addresses only (what it cannot take is said by `table_losses`)
    if matches!(kind, Kind::Following | Kind::Block | Kind::Mute) && !s.account.as_deref().is_some_and(importable) {
        return vec![];
    }
    line(&s).into_iter().map(|f| f.iter().map(|x| field(x)).collect::<Vec<_>>().join(",") + "\n").collect()
}

/// Whether an account is an address Mastodon's import takes (`user@domain`): a friend a
/// Facebook archive names only by name, or an X account by its link, is not.
fn importable(account: &str) -> bool {
    let a = account.trim_start_matches('@');
    a.split_once('@').is_some_and(|(u, d)| {
        !u.is_empty() && d.contains('.') && !a.contains(|c: char| c.is_whitespace() || c == '/' || c == ',') && !d.contains('@')
    })
}

/// What the import page's CSV files cannot hold of a record: an account that is not an
/// address (left out of the file, said here).
pub(crate) fn table_losses(r: &ferry_core::Record) -> Vec<String> {
    let ferry_core::Record::Other(o) = r else { return vec![] };
    let Ok(s) = o.typed::<Social>() else { return vec![] };
    let file = match s.kind {
        Kind::Following => "following_accounts.csv",
        Kind::Block => "blocked_accounts.csv",
        Kind::Mute => "muted_accounts.csv",
        _ => return vec![],
    };
    match s.account {
        Some(a) if !importable(&a) => {
            vec![format!("social/{file}: `{a}` is not an address Mastodon's import takes (user@domain): left out of it")]
        }
        _ => vec![],
    }
}

/// An ActivityStreams collection's opening, as Mastodon's archive writes `outbox.json`.
macro_rules! collection {
    ($id:literal) => {
        concat!(
            "{\"@context\": \"https://www.w3.org/ns/activitystreams\", \"id\": \"",
            $id,
            "\", \"type\": \"OrderedCollection\", \"orderedItems\": [\n"
        )
    };
}
const CLOSE: &str = "\n]}\n";

/// An element of a collection: a JSON value on its line.
fn element(v: Value) -> Vec<String> {
    vec![serde_json::to_string(&v).expect("JSON")]
}

/// The items of `kinds` as ActivityStreams collection elements: a post's activity, or
/// what a relation is of (the account's address, the post's URI, a list's collection).
fn collected(r: &ferry_core::Record, kinds: &[Kind]) -> Vec<String> {
    let ferry_core::Record::Other(r) = r else { return vec![] };
    let Ok(s) = r.typed::<Social>() else { return vec![] };
    if !kinds.contains(&s.kind) {
        return vec![];
    }
    match s.kind {
        Kind::Post | Kind::Repost => element(activity(&s)),
        Kind::Like | Kind::Bookmark | Kind::DomainBlock => s.object.map(|o| element(o.into())).unwrap_or_default(),
        Kind::List => element(json!({"type": "Collection", "name": s.title, "totalItems": s.members.len(), "items": s.members})),
        _ => s.account.map(|a| element(a.into())).unwrap_or_default(),
    }
}

/// ActivityStreams collections (`outbox.json`, `likes.json`, `bookmarks.json` as
/// Mastodon's archive has them; the relations likewise), then the CSV files of Mastodon's
/// import page (https://docs.joinmastodon.org/user/moving/).
static TABLES: [Table; 13] = [
    Table {
        path: "social/outbox.json",
        header: collection!("outbox.json"),
        rows: |r| collected(r, &[Kind::Post, Kind::Repost]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/likes.json",
        header: collection!("likes.json"),
        rows: |r| collected(r, &[Kind::Like]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/bookmarks.json",
        header: collection!("bookmarks.json"),
        rows: |r| collected(r, &[Kind::Bookmark]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/following.json",
        header: collection!("following.json"),
        rows: |r| collected(r, &[Kind::Following]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/followers.json",
        header: collection!("followers.json"),
        rows: |r| collected(r, &[Kind::Follower]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/blocks.json",
        header: collection!("blocks.json"),
        rows: |r| collected(r, &[Kind::Block, Kind::DomainBlock]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/mutes.json",
        header: collection!("mutes.json"),
        rows: |r| collected(r, &[Kind::Mute]),
        separator: ",\n",
        footer: CLOSE,
    },
    Table {
        path: "social/following_accounts.csv",
        header: "Account address,Show boosts,Notify on new posts,Languages\n",
        rows: |r| {
            rows(r, Kind::Following, |s| {
                let langs = s.options.get("languages").cloned().unwrap_or_default();
                vec![vec![
                    s.account.clone().unwrap_or_default(),
                    flag(s, "show_reblogs", true).into(),
                    flag(s, "notify", false).into(),
                    langs,
                ]]
            })
        },
        separator: "",
        footer: "",
    },
    Table {
        path: "social/blocked_accounts.csv",
        header: "",
        rows: |r| rows(r, Kind::Block, |s| vec![vec![s.account.clone().unwrap_or_default()]]),
        separator: "",
        footer: "",
    },
    Table {
        path: "social/muted_accounts.csv",
        header: "Account address,Hide notifications\n",
        rows: |r| rows(r, Kind::Mute, |s| vec![vec![s.account.clone().unwrap_or_default(), flag(s, "hide_notifications", true).into()]]),
        separator: "",
        footer: "",
    },
    Table {
        path: "social/blocked_domains.csv",
        header: "",
        rows: |r| rows(r, Kind::DomainBlock, |s| vec![vec![s.object.clone().unwrap_or_default()]]),
        separator: "",
        footer: "",
    },
    Table {
        path: "social/bookmarks.csv",
        header: "",
        rows: |r| rows(r, Kind::Bookmark, |s| vec![vec![s.object.clone().unwrap_or_default()]]),
        separator: "",
        footer: "",
    },
    Table {
        path: "social/lists.csv",
        header: "",
        rows: |r| rows(r, Kind::List, |s| s.members.iter().map(|m| vec![s.title.clone().unwrap_or_default(), m.clone()]).collect()),
        separator: "",
        footer: "",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn social(kind: Kind) -> Social {
        Social { kind, ..Default::default() }
    }

    #[test]
    fn every_kind_goes_through_its_file_and_back() {
        let post_activity = json!({"id": "https://m.example/users/a/statuses/1/activity", "type": "Create", "actor": "https://m.example/users/a",
            "published": "2024-05-01T10:00:00Z", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {"id": "https://m.example/users/a/statuses/1", "type": "Note", "content": "<p>Hi, \"all\"</p>", "url": "https://m.example/@a/1",
                "inReplyTo": null, "attachment": [{"type": "Document", "mediaType": "image/png", "url": "media/1.png"}]}});
        let cases = vec![
            Social { kind: Kind::Post, activity: Some(post_activity), content: Some("<p>Hi, \"all\"</p>".into()), ..Default::default() },
            Social { object: Some("https://other.example/users/b/statuses/9".into()), ..social(Kind::Repost) },
            Social {
                account: Some("b@other.example".into()),
                options: BTreeMap::from([("show_reblogs".into(), "false".into()), ("languages".into(), "de,en".into())]),
                ..social(Kind::Following)
            },
            Social { account: Some("c@m.example".into()), ..social(Kind::Follower) },
            Social { account: Some("spam@bad.example".into()), ..social(Kind::Block) },
            Social {
                account: Some("loud@m.example".into()),
                options: BTreeMap::from([("hide_notifications".into(), "false".into())]),
                ..social(Kind::Mute)
            },
            Social { object: Some("bad.example".into()), ..social(Kind::DomainBlock) },
            Social { object: Some("https://x.example/s/1".into()), ..social(Kind::Like) },
            Social { object: Some("https://x.example/s/2".into()), ..social(Kind::Bookmark) },
            Social {
                title: Some("Friends, close".into()),
                members: vec!["b@other.example".into(), "d@m.example".into()],
                ..social(Kind::List)
            },
        ];
        for s in cases {
            let item = s.item("id-1", "c", "v").unwrap();
            let file = write(&item).unwrap().text;
            let back = Social::of(&read("social/c/x.json", "c", file.as_bytes()).unwrap()).unwrap();
            assert_eq!(back.kind, s.kind, "{file}");
            assert_eq!(
                (back.account.clone(), back.object.clone(), back.title.clone(), back.members.clone()),
                (s.account.clone(), s.object.clone(), s.title.clone(), s.members.clone()),
                "{file}"
            );
            assert_eq!(back.options, s.options, "{file}");
            if s.kind == Kind::Post {
                assert_eq!(back.content, s.content);
                assert!(back.activity.unwrap()["object"]["attachment"].is_array());
            }
        }
    }

    #[test]
    fn the_import_files_are_mastodons() {
        let f = Social {
            account: Some("b@other.example".into()),
            options: BTreeMap::from([
                ("show_reblogs".into(), "false".into()),
                ("notify".into(), "true".into()),
                ("languages".into(), "de,en".into()),
            ]),
            ..social(Kind::Following)
        };
        let rec = |s: &Social| s.item("i", "", "v").unwrap().record;
        let table = |path: &str| TABLES.iter().find(|t| t.path == path).unwrap().rows;
        assert_eq!(table("social/following_accounts.csv")(&rec(&f)), ["b@other.example,false,true,\"de,en\"\n"]);
        assert_eq!(table("social/following.json")(&rec(&f)), ["\"b@other.example\""]);
        assert!(table("social/outbox.json")(&rec(&f)).is_empty() && table("social/followers.json")(&rec(&f)).is_empty());
        let l =
            Social { title: Some("Work, mostly".into()), members: vec!["a@x.example".into(), "b@y.example".into()], ..social(Kind::List) };
        assert_eq!(table("social/lists.csv")(&rec(&l)), ["\"Work, mostly\",a@x.example\n", "\"Work, mostly\",b@y.example\n"]);
        // each file takes its own kind only
        assert!(table("social/blocked_accounts.csv")(&rec(&f)).is_empty() && table("social/following_accounts.csv")(&rec(&l)).is_empty());
        let m = Social { account: Some("m@x.example".into()), ..social(Kind::Mute) };
        assert_eq!(table("social/muted_accounts.csv")(&rec(&m)), ["m@x.example,true\n"]);
        // a friend named by name only is not an address: left out of the import file, said
        let friend = Social { account: Some("Ann Example".into()), ..social(Kind::Following) };
        assert!(table("social/following_accounts.csv")(&rec(&friend)).is_empty());
        assert!(table_losses(&rec(&friend))[0].contains("not an address"));
        assert!(table_losses(&rec(&f)).is_empty());
        for (a, ok) in
            [("@b@x.example", true), ("https://x.com/intent/user?user_id=1", false), ("a b@x.example", false), ("a@localhost", false)]
        {
            assert_eq!(importable(a), ok, "{a}");
        }
        // a post's element of the outbox is its activity
        let p = Social { content: Some("<p>hi</p>".into()), ..social(Kind::Post) };
        let out: Value = serde_json::from_str(&table("social/outbox.json")(&rec(&p))[0]).unwrap();
        assert_eq!((out["type"].as_str(), out["object"]["content"].as_str()), (Some("Create"), Some("<p>hi</p>")));
    }

    #[test]
    fn bad_files_are_clear_errors() {
        for (bytes, says) in [
            (&b"not json"[..], "not JSON"),
            (br#"{"type": "Question"}"#, "Question"),
            (br#"{"type": "Follow", "ferry:kind": "poke"}"#, "ferry:kind"),
            (b"[1,2]", "None"),
        ] {
            let e = read("social/x.json", "", bytes).unwrap_err();
            assert!(e.reason.contains(says) && e.vertical == SOCIAL, "{says}: {e}");
        }
        assert!(read("social/x.json", "", &vec![b' '; MAX_FILE + 1]).unwrap_err().reason.contains("larger"));
        let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
        assert!(recognises(&f("social/following/a.json")) && !recognises(&f("files/social.json")) && !recognises(&f("social/a.csv")));
    }
}
