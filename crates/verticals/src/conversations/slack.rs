//! A Slack workspace export: `users.json` (the members), `channels.json`, `groups.json`
//! (private channels), `dms.json` and `mpims.json` (direct and group messages), and a
//! folder per conversation (a channel's name; a direct message's id) with a JSON file per
//! day, `YYYY-MM-DD.json`: the messages written that day, each with its `ts` (its id and
//! time, seconds as a string), `user`, `text`, and where they apply `thread_ts` (the
//! thread it replies in), `edited`, `reactions` and `files` (the files' names and links:
//! the export holds no copies).
//!
//! One channel (or direct message) is one conversation, its threads inside it: a reply's
//! parent is its thread's first message, and every message is shown. A channel spans many
//! day files, so this reader is fed: the member and channel lists first, then a
//! channel's days one after the other ([`SlackWorkspace::add_day`]), and the channel is
//! handed on when the next channel's first day comes, or at [`SlackWorkspace::finish`].
//!
//! Memory: a channel's messages are held until the channel is handed on; a channel
//! larger than [`MAX_PART`] bytes of messages is handed in parts, each a conversation
//! (`ID`, then `ID#2`, `ID#3`: a warning on each says so), as is a channel whose days come
//! apart in the archive. A message over [`MAX_MESSAGE`] bytes is left out with a warning.
//! File links in an export may carry an access token (`?t=xoxe-…`): it is taken out.

use super::fields::{rest, safe_file_ref, take_str};
use super::json_array::each_element;
use super::{Attached, Conversation, Extra, Found, Kind, Message, Part, Person, Reaction, time};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// The most a conversation's messages may take (their JSON) before the rest of the
/// channel goes into a further part.
pub const MAX_PART: usize = 64 << 20;
/// The most one message may take (its JSON).
pub const MAX_MESSAGE: usize = 4 << 20;
/// The most members and conversations a workspace's lists may name.
const MAX_LISTED: usize = 1 << 20;

/// Which of the export's lists a conversation is in; its container in ferry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackKind {
    /// `channels.json`: public channels.
    Channels,
    /// `groups.json`: private channels.
    Groups,
    /// `dms.json`: direct messages (their folders are named by id).
    Dms,
    /// `mpims.json`: group direct messages.
    Mpims,
}

impl SlackKind {
    /// Its container in ferry: the list's name (`channels`, `groups`, `dms`, `mpims`).
    pub fn container(self) -> &'static str {
        match self {
            SlackKind::Channels => "channels",
            SlackKind::Groups => "groups",
            SlackKind::Dms => "dms",
            SlackKind::Mpims => "mpims",
        }
    }

    /// The kind a list file holds, by its name (`channels.json`, `groups.json`,
    /// `dms.json`, `mpims.json`).
    pub fn of_list(file_name: &str) -> Option<SlackKind> {
        match file_name {
            "channels.json" => Some(SlackKind::Channels),
            "groups.json" => Some(SlackKind::Groups),
            "dms.json" => Some(SlackKind::Dms),
            "mpims.json" => Some(SlackKind::Mpims),
            _ => None,
        }
    }
}

struct Listed {
    id: String,
    name: Option<String>,
    kind: SlackKind,
    created: Option<chrono::DateTime<chrono::Utc>>,
    members: Vec<String>,
    extra: Extra,
}

/// The channel being read.
struct Open {
    folder: String,
    part: u32,
    messages: Vec<Message>,
    bytes: usize,
    warnings: Vec<String>,
}

/// A Slack workspace export, fed file by file (see the module's documentation).
pub struct SlackWorkspace {
    /// Member id → the name shown.
    users: HashMap<String, String>,
    bots: HashSet<String>,
    /// By folder name.
    listed: HashMap<String, Listed>,
    open: Option<Open>,
    /// Parts handed so far, by folder.
    parts: HashMap<String, u32>,
    stopped: bool,
    /// [`MAX_PART`] (smaller in tests).
    pub(super) max_part: usize,
}

impl Default for SlackWorkspace {
    fn default() -> Self {
        SlackWorkspace {
            users: HashMap::new(),
            bots: HashSet::new(),
            listed: HashMap::new(),
            open: None,
            parts: HashMap::new(),
            stopped: false,
            max_part: MAX_PART,
        }
    }
}

type Each<'a> = &'a mut dyn FnMut(Result<Found, String>) -> bool;

impl SlackWorkspace {
    pub fn new() -> SlackWorkspace {
        SlackWorkspace::default()
    }

    /// `users.json` (or `org_users.json`): each member's name, to name authors. A member
    /// that cannot be read is passed over (their messages name them by id).
    pub fn add_users(&mut self, input: impl Read) -> Result<(), String> {
        let mut too_many = false;
        each_element(input, None, MAX_MESSAGE, &mut |_, e| {
            let Ok(Value::Object(u)) = e.and_then(|b| serde_json::from_slice::<Value>(b).map_err(|e| e.to_string())) else { return true };
            let Some(id) = u.get("id").and_then(Value::as_str) else { return true };
            if self.users.len() >= MAX_LISTED {
                too_many = true;
                return false;
            }
            let s = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned);
            let p = u.get("profile");
            let name = s(u.get("real_name"))
                .or_else(|| s(p.and_then(|p| p.get("real_name"))))
                .or_else(|| s(p.and_then(|p| p.get("display_name"))))
                .or_else(|| s(u.get("name")));
            if u.get("is_bot") == Some(&Value::Bool(true)) {
                self.bots.insert(id.to_owned());
            }
            if let Some(name) = name {
                self.users.insert(id.to_owned(), name);
            }
            true
        })
        .map_err(|e| format!("users.json: {e}"))?;
        if too_many {
            return Err(format!("users.json: more than {MAX_LISTED} members"));
        }
        Ok(())
    }

    /// A list of conversations: `channels.json`, `groups.json`, `dms.json` or
    /// `mpims.json` (see [`SlackKind::of_list`]). One that cannot be read is passed over
    /// (its folder is still read, as a channel the lists do not name).
    pub fn add_channels(&mut self, kind: SlackKind, input: impl Read) -> Result<(), String> {
        let mut too_many = false;
        let file = format!("{}.json", kind.container());
        each_element(input, None, MAX_MESSAGE, &mut |_, e| {
            let Ok(Value::Object(mut c)) = e.and_then(|b| serde_json::from_slice::<Value>(b).map_err(|e| e.to_string())) else {
                return true;
            };
            let Some(id) = take_str(&mut c, "id") else { return true };
            if self.listed.len() >= MAX_LISTED {
                too_many = true;
                return false;
            }
            let name = take_str(&mut c, "name");
            let created = c.get("created").and_then(|v| time::epoch(v).ok()).flatten();
            if created.is_some() {
                c.remove("created");
            }
            let members = match c.remove("members") {
                Some(Value::Array(m)) => m.into_iter().filter_map(|m| m.as_str().map(str::to_owned)).collect(),
                _ => Vec::new(),
            };
            let folder = match (kind, &name) {
                (SlackKind::Dms, _) | (_, None) => id.clone(),
                (_, Some(n)) => n.clone(),
            };
            if let Some(n) = &name {
                c.insert("name".into(), Value::String(n.clone()));
            }
            self.listed.insert(folder, Listed { id, name, kind, created, members, extra: rest(c) });
            true
        })
        .map_err(|e| format!("{file}: {e}"))?;
        if too_many {
            return Err(format!("{file}: more than {MAX_LISTED} conversations"));
        }
        Ok(())
    }

    /// One day of a conversation: `FOLDER/DATE.json`. The day files of a channel are
    /// handed one after the other; when this one is of another channel than the last, the
    /// last is handed to `each` first. A message that cannot be read is left out with a
    /// warning on its conversation; a file that cannot be read (not a list of messages,
    /// truncated) is the Err, after what it held before the break was kept.
    pub fn add_day(&mut self, folder: &str, date: &str, input: impl Read, each: Each) -> Result<(), String> {
        if self.stopped {
            return Ok(());
        }
        if self.open.as_ref().is_some_and(|o| o.folder != folder) {
            self.hand(each);
            if self.stopped {
                return Ok(());
            }
        }
        if self.open.is_none() {
            let part = self.parts.get(folder).map_or(1, |p| p + 1);
            let mut warnings = Vec::new();
            if part > 1 {
                warnings.push(format!("the days of {folder} came apart in the archive: this is part {part} of it, with the days after"));
            }
            self.open = Some(Open { folder: folder.to_owned(), part, messages: Vec::new(), bytes: 0, warnings });
        }
        let file = format!("{folder}/{date}.json");
        let mut n = 0;
        let mut stopped = false;
        let Self { users, bots, listed, open, parts, max_part, .. } = self;
        let open = open.as_mut().expect("just opened");
        let result = each_element(input, None, MAX_MESSAGE, &mut |i, e| {
            n = i + 1;
            let whose = format!("{file}: message {}", i + 1);
            let read = e.and_then(|b| {
                let v: Value = serde_json::from_slice(b).map_err(|e| format!("not JSON ({e})"))?;
                Ok((b.len(), v))
            });
            match read.and_then(|(len, v)| message(v, date, i, users, bots, &whose, &mut open.warnings).map(|m| (len, m))) {
                Ok((len, m)) => {
                    if open.bytes + len > *max_part && !open.messages.is_empty() {
                        // too large for one conversation: this part is handed now, the rest goes on
                        let mut warnings = std::mem::take(&mut open.warnings);
                        warnings.push(format!(
                            "{} is larger than {} MiB: it is handed in parts; this is part {}",
                            open.folder,
                            *max_part >> 20,
                            open.part
                        ));
                        let found =
                            conversation(listed, users, bots, &open.folder, open.part, std::mem::take(&mut open.messages), warnings);
                        parts.insert(open.folder.clone(), open.part);
                        if !each(Ok(found)) {
                            stopped = true;
                            return false;
                        }
                        open.warnings.push(format!("{} continues part {} of it", open.folder, open.part));
                        open.part += 1;
                        open.bytes = 0;
                    }
                    open.bytes += len;
                    open.messages.push(m);
                }
                Err(e) => open.warnings.push(format!("{whose} left out: {e}")),
            }
            true
        });
        if stopped {
            self.stopped = true;
            self.open = None;
            return Ok(());
        }
        if let Err(e) = result {
            open.warnings.push(format!("{file} could not be read whole ({e}): what came after message {n} of it is missing"));
            return Err(format!("{file}: {e}"));
        }
        Ok(())
    }

    /// Hands the channel being read, if any.
    pub fn finish(&mut self, each: Each) {
        if !self.stopped {
            self.hand(each);
        }
    }

    fn hand(&mut self, each: Each) {
        let Some(open) = self.open.take() else { return };
        self.parts.insert(open.folder.clone(), open.part);
        let found = conversation(&self.listed, &self.users, &self.bots, &open.folder, open.part, open.messages, open.warnings);
        if !each(Ok(found)) {
            self.stopped = true;
        }
    }
}

/// A channel's messages (or a part of them) as a conversation.
fn conversation(
    listed: &HashMap<String, Listed>,
    users: &HashMap<String, String>,
    bots: &HashSet<String>,
    folder: &str,
    part: u32,
    mut messages: Vec<Message>,
    mut warnings: Vec<String>,
) -> Found {
    let listed = listed.get(folder);
    if listed.is_none() {
        warnings.push(format!("{folder} is in none of the export's lists of channels: read as a channel, named by its folder"));
    }
    // in time order; each message once
    messages.sort_by_key(|m| m.created);
    let mut ids = HashSet::new();
    let before = messages.len();
    messages.retain(|m| ids.insert(m.id.clone()));
    if messages.len() < before {
        warnings.push(format!("{} message(s) were in the export twice: kept once", before - messages.len()));
    }
    let kind = listed.map_or(SlackKind::Channels, |l| l.kind);
    let id = listed.map_or(folder, |l| &l.id);
    let id = if part > 1 { format!("{id}#{part}") } else { id.to_owned() };
    let name_of = |u: &str| users.get(u).cloned();
    let mut participants: Vec<Person> = Vec::new();
    for m in listed.map(|l| l.members.as_slice()).unwrap_or_default() {
        participants.push(Person { role: bots.contains(m).then(|| "bot".into()), name: name_of(m), id: Some(m.clone()) });
    }
    for m in &messages {
        if m.author.id.is_some() && !participants.iter().any(|p| p.id == m.author.id) {
            participants.push(m.author.clone());
        }
    }
    let others = |l: &Listed| {
        let names: Vec<String> = l.members.iter().map(|m| name_of(m).unwrap_or_else(|| m.clone())).collect();
        names.join(", ")
    };
    let title = match listed {
        Some(l @ Listed { kind: SlackKind::Dms, .. }) => Some(format!("Direct messages with {}", others(l))),
        Some(l @ Listed { kind: SlackKind::Mpims, .. }) => Some(format!("Group messages with {}", others(l))),
        Some(Listed { name: Some(n), .. }) => Some(format!("#{n}")),
        _ => Some(format!("#{folder}")),
    };
    let record = Conversation {
        title,
        platform: "slack".into(),
        kind: Kind::Chat,
        created: listed.and_then(|l| l.created),
        updated: messages.iter().filter_map(|m| m.updated.max(m.created)).max(),
        participants,
        model: None,
        messages,
        extra: listed.map(|l| l.extra.clone()).unwrap_or_default(),
    };
    let files = super::collect_files(&record);
    Found { id, container: kind.container().into(), record, files, warnings }
}

/// A `ts`-like field (a string, or a number written as one) as text.
fn ts_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn message(
    v: Value,
    date: &str,
    i: usize,
    users: &HashMap<String, String>,
    bots: &HashSet<String>,
    whose: &str,
    warnings: &mut Vec<String>,
) -> Result<Message, String> {
    let Value::Object(mut m) = strip_tokens(v) else { return Err("not an object".into()) };
    let ts = ts_of(m.get("ts"));
    let created = match ts.as_deref().map(|t| time::epoch(&Value::String(t.to_owned()))) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err(format!("its ts {e}")),
        None => {
            warnings.push(format!("{whose} has no ts: named {date}-{}, with no time", i + 1));
            None
        }
    };
    m.remove("ts");
    let id = ts.clone().unwrap_or_else(|| format!("{date}-{}", i + 1));
    let parent = ts_of(m.get("thread_ts")).filter(|t| Some(t) != ts.as_ref());
    m.remove("thread_ts");
    if m.get("type").and_then(Value::as_str) == Some("message") {
        m.remove("type");
    }
    // the author: a member, or a bot; `user_profile` (a copy of the member's profile) is
    // read for the name
    let profile = m.remove("user_profile");
    let from_profile =
        |k: &str| profile.as_ref().and_then(|p| p.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut author = Person::default();
    if let Some(u) = take_str(&mut m, "user") {
        author.name = users.get(&u).cloned().or_else(|| from_profile("real_name")).or_else(|| from_profile("display_name"));
        if bots.contains(&u) {
            author.role = Some("bot".into());
        }
        author.id = Some(u);
    } else if let Some(b) = take_str(&mut m, "bot_id") {
        author.id = Some(b);
        author.role = Some("bot".into());
    }
    if author.name.is_none() {
        author.name = m
            .get("username")
            .and_then(Value::as_str)
            .or_else(|| m.get("bot_profile").and_then(|b| b.get("name")).and_then(Value::as_str))
            .map(str::to_owned);
    }
    let mut updated = None;
    if let Some(Value::Object(mut e)) = m.remove("edited") {
        updated = e.get("ts").and_then(|t| time::epoch(t).ok()).flatten();
        if updated.is_some() {
            e.remove("ts");
        }
        if e.get("user").and_then(Value::as_str) == author.id.as_deref() {
            e.remove("user");
        }
        if !e.is_empty() {
            m.insert("edited".into(), Value::Object(e));
        }
    }
    let text = take_str(&mut m, "text").unwrap_or_default();
    let mut content = Vec::new();
    if !text.is_empty() {
        content.push(Part::Text { text, extra: Extra::new() });
    }
    let mut reactions = Vec::new();
    if let Some(Value::Array(list)) = m.remove("reactions") {
        for r in list {
            let Some(name) = r.get("name").and_then(Value::as_str) else { continue };
            let users: Vec<String> =
                r.get("users").and_then(Value::as_array).into_iter().flatten().filter_map(|u| u.as_str().map(str::to_owned)).collect();
            let count = r.get("count").and_then(time::count).unwrap_or(users.len() as u64);
            reactions.push(Reaction { name: name.to_owned(), count, users });
        }
    }
    let mut attachments = Vec::new();
    if let Some(Value::Array(list)) = m.remove("files") {
        for f in list {
            let Value::Object(f) = f else { continue };
            attachments.push(file(f, whose, warnings));
        }
    }
    Ok(Message {
        id,
        parent,
        author,
        created,
        updated,
        model: None,
        content,
        attachments,
        reactions,
        visible: true,
        hidden: false,
        extra: rest(m),
    })
}

/// A file shared in a message: its name (by which the archive may hold it), type, size
/// and link; a deleted file, or one the workspace's plan hides, by its id only.
fn file(mut f: Map<String, Value>, whose: &str, warnings: &mut Vec<String>) -> Attached {
    let name = f.get("name").or_else(|| f.get("title")).and_then(Value::as_str).map(str::to_owned);
    let mode = f.get("mode").and_then(Value::as_str).unwrap_or("").to_owned();
    let gone = matches!(mode.as_str(), "tombstone" | "hidden_by_limit");
    if name.is_none() || gone {
        let fid = f.get("id").and_then(Value::as_str).unwrap_or("?");
        let why = if mode == "hidden_by_limit" { "hidden by the workspace's plan" } else { "deleted" };
        warnings.push(format!("{whose}: file {fid} is {why}: only its id is kept"));
    }
    let name = name.or_else(|| f.get("id").and_then(Value::as_str).map(str::to_owned)).unwrap_or_else(|| "file".into());
    if f.get("name").and_then(Value::as_str) == Some(name.as_str()) {
        f.remove("name");
    }
    let file = (!gone && mode != "external").then(|| safe_file_ref(&name)).flatten();
    let media_type = take_str(&mut f, "mimetype");
    let size = f.get("size").and_then(time::count);
    if size.is_some() {
        f.remove("size");
    }
    let url = take_str(&mut f, "url_private_download").or_else(|| take_str(&mut f, "url_private"));
    Attached { name, file, media_type, size, url, text: None, extra: rest(f) }
}

/// Takes access tokens (`t=…`) out of the links anywhere in a message.
fn strip_tokens(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("http") && (s.contains("?t=") || s.contains("&t=")) => Value::String(without_token(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_tokens).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, strip_tokens(v))).collect::<Map<_, _>>()),
        other => other,
    }
}

fn without_token(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let (query, fragment) = query.split_once('#').map_or((query, None), |(q, f)| (q, Some(f)));
    let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("t=")).collect();
    let mut out = base.to_owned();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}
