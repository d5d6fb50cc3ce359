//! A conversation as a readable Markdown transcript that reads back to the same record.
//!
//! The messages the platform shows come first, in order, each under a heading with its
//! author and time, notes on its other versions, its attached files and reactions, and
//! its content; the branches not shown (earlier versions of edited messages, regenerated
//! answers and what follows them) come after, under "Other branches". What a reader does
//! not need to see rides in HTML comments, which Markdown viewers hide: the conversation's
//! fields in the first line, each message's fields (all but its text) in the line before
//! its heading, and a line between the parts of a message with more than one.
//!
//! ```markdown
//! <!-- ferry:conversation {"platform":"chatgpt","kind":"assistant",...} -->
//! # Trip plans
//!
//! <!-- ferry:message {"n":0,"id":"a1","author":{"role":"user"},...} -->
//! ### 1 · User · 2024-05-01 10:00:00 UTC
//!
//! Where should we go?
//! ```
//!
//! A line of a message that begins as these comments do is written with a `\` before it
//! (one more than it had), and read back without it.

use super::{Conversation, Kind, Message, Part};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// How a transcript begins.
pub(crate) const BEGIN: &str = "<!-- ferry:conversation ";
const MARK: &str = "<!-- ferry:";
const MESSAGE: &str = "<!-- ferry:message ";
const BRANCHES: &str = "<!-- ferry:branches -->";
const PART: &str = "<!-- ferry:part -->";
const END: &str = " -->";

/// The transcript of a conversation.
pub fn render_transcript(c: &Conversation) -> String {
    let mut head = serde_json::to_value(c).expect("a conversation is JSON");
    if let Some(o) = head.as_object_mut() {
        o.remove("messages");
    }
    let mut out = format!("{BEGIN}{}{END}\n", comment_json(&head));
    out.push_str(&format!("# {}\n\n", one_line(c.title.as_deref().unwrap_or("Conversation"))));
    out.push_str(&summary(c));
    // numbers as a reader sees them: the visible messages first, then the branches
    let order: Vec<usize> =
        (0..c.messages.len()).filter(|&i| c.messages[i].visible).chain((0..c.messages.len()).filter(|&i| !c.messages[i].visible)).collect();
    let number: HashMap<&str, usize> = order.iter().enumerate().map(|(k, &i)| (c.messages[i].id.as_str(), k + 1)).collect();
    let names: HashMap<&str, &str> =
        c.participants.iter().filter_map(|p| Some((p.id.as_deref()?, p.name.as_deref().or(p.id.as_deref())?))).collect();
    let mut branches_begun = false;
    for &i in &order {
        let m = &c.messages[i];
        if !m.visible && !branches_begun {
            branches_begun = true;
            out.push_str(&format!(
                "{BRANCHES}\n## Other branches\n\nEarlier versions of edited messages, regenerated answers, and what follows them.\n\n"
            ));
        }
        message(&mut out, c, i, &number, &names);
    }
    out
}

fn summary(c: &Conversation) -> String {
    let mut bits = vec![match c.kind {
        Kind::Assistant => format!("{} conversation", platform_name(&c.platform)),
        Kind::Chat => format!("{} chat", platform_name(&c.platform)),
    }];
    if let Some(m) = &c.model {
        bits.push(format!("model {}", one_line(m)));
    }
    if let Some(t) = c.created {
        bits.push(format!("started {}", t.format("%Y-%m-%d %H:%M UTC")));
    }
    let shown = c.visible().count();
    bits.push(format!("{shown} message{}", if shown == 1 { "" } else { "s" }));
    let other = c.messages.len() - shown;
    if other > 0 {
        bits.push(format!("{other} more on other branches"));
    }
    if c.kind == Kind::Chat && !c.participants.is_empty() {
        let names: Vec<String> =
            c.participants.iter().take(20).map(|p| one_line(p.name.as_deref().or(p.id.as_deref()).unwrap_or("?"))).collect();
        let more = c.participants.len().saturating_sub(20);
        bits.push(format!("with {}{}", names.join(", "), if more > 0 { format!(" and {more} more") } else { String::new() }));
    }
    format!("_{}_\n\n", bits.join(" · "))
}

fn platform_name(p: &str) -> String {
    match p {
        "chatgpt" => "ChatGPT".into(),
        "claude" => "Claude".into(),
        "slack" => "Slack".into(),
        other => one_line(other),
    }
}

fn message(out: &mut String, c: &Conversation, i: usize, number: &HashMap<&str, usize>, names: &HashMap<&str, &str>) {
    let m = &c.messages[i];
    // its fields, its text parts left for the body
    let mut fields = serde_json::to_value(m).expect("a message is JSON");
    let o = fields.as_object_mut().expect("a message is an object");
    if let Some(Value::Array(parts)) = o.get_mut("content") {
        for p in parts.iter_mut().filter(|p| p["type"] == "text") {
            p.as_object_mut().expect("a part is an object").remove("text");
        }
    }
    let mut with_n = Map::new();
    with_n.insert("n".into(), Value::from(i));
    with_n.extend(std::mem::take(o));
    out.push_str(&format!("{MESSAGE}{}{END}\n", comment_json(&Value::Object(with_n))));
    // the heading: number, author, time
    let who = author(m, names);
    let mut heading = format!("### {} · {who}", number.get(m.id.as_str()).copied().unwrap_or(0));
    if let Some(t) = m.created {
        heading.push_str(&format!(" · {}", t.format("%Y-%m-%d %H:%M:%S UTC")));
    }
    out.push_str(&one_line(&heading));
    out.push('\n');
    let notes = notes(c, m, number, names);
    if !notes.is_empty() {
        out.push_str(&one_line(&format!("_{}_", notes.join(" · "))));
        out.push('\n');
    }
    out.push('\n');
    let segments: Vec<String> = m.content.iter().map(|p| escape(&part_text(p))).collect();
    out.push_str(&segments.join(&format!("\n\n{PART}\n\n")));
    out.push_str("\n\n");
}

fn author(m: &Message, names: &HashMap<&str, &str>) -> String {
    let a = &m.author;
    let name = a.name.as_deref().or_else(|| a.id.as_deref().and_then(|id| names.get(id).copied()));
    let role = a.role.as_deref().map(|r| {
        let mut c = r.chars();
        c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
    });
    match (name, role) {
        (Some(n), Some(r)) if !matches!(r.as_str(), "User" | "Bot") => format!("{r} ({n})"),
        (Some(n), _) => n.to_owned(),
        (None, Some(r)) if r == "Assistant" && m.model.is_some() => format!("Assistant ({})", m.model.as_deref().unwrap_or_default()),
        (None, Some(r)) => r,
        (None, None) => a.id.clone().unwrap_or_else(|| "Unknown".into()),
    }
}

/// What a reader should know of a message besides its content.
fn notes(c: &Conversation, m: &Message, number: &HashMap<&str, usize>, names: &HashMap<&str, &str>) -> Vec<String> {
    let mut notes = Vec::new();
    let num = |id: &str| number.get(id).map_or_else(|| id.to_owned(), |n| n.to_string());
    let siblings: Vec<&Message> = c.messages.iter().filter(|s| s.parent == m.parent && s.id != m.id).collect();
    let kind = if m.author.role.as_deref() == Some("user") { "version" } else { "answer" };
    if c.kind == Kind::Assistant && !siblings.is_empty() {
        let others = siblings.iter().map(|s| num(&s.id)).collect::<Vec<_>>().join(", ");
        match siblings.iter().find(|s| s.visible) {
            _ if m.visible => notes.push(format!("{} {kind}s; the others: {others}", siblings.len() + 1)),
            Some(shown) => {
                let what = if kind == "version" { "an earlier version of" } else { "another answer in place of" };
                notes.push(format!("{what} {}", num(&shown.id)));
            }
            None => notes.push(format!("one of {} {kind}s; the others: {others}", siblings.len() + 1)),
        }
    }
    if !m.visible
        && let Some(p) = &m.parent
    {
        notes.push(format!("follows {}", num(p)));
    }
    if c.kind == Kind::Chat
        && let Some(p) = &m.parent
    {
        notes.push(format!("in the thread of {}", num(p)));
    }
    if m.hidden {
        notes.push(format!("not shown by {}", platform_name(&c.platform)));
    }
    if let Some(u) = m.updated.filter(|u| Some(*u) != m.created && c.kind == Kind::Chat) {
        notes.push(format!("edited {}", u.format("%Y-%m-%d %H:%M UTC")));
    }
    if !m.attachments.is_empty() {
        notes.push(format!("attached: {}", m.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")));
    }
    if !m.reactions.is_empty() {
        let r: Vec<String> = m
            .reactions
            .iter()
            .map(|r| {
                let who: Vec<&str> = r.users.iter().map(|u| names.get(u.as_str()).copied().unwrap_or(u)).collect();
                if who.is_empty() { format!(":{}: {}", r.name, r.count) } else { format!(":{}: {} ({})", r.name, r.count, who.join(", ")) }
            })
            .collect();
        notes.push(format!("reactions: {}", r.join(", ")));
    }
    notes
}

/// A part as a reader sees it (only a text part is read back from it).
fn part_text(p: &Part) -> String {
    match p {
        Part::Text { text, .. } => text.clone(),
        Part::Code { language, text, .. } => {
            let fence = fence_for(text);
            format!("{fence}{}\n{text}\n{fence}", one_line(language.as_deref().unwrap_or("")))
        }
        Part::File { file, .. } => format!("📎 `{}`", file.replace('`', "'")),
        Part::Thinking { text, .. } => quote(&format!("*Thinking*\n\n{text}")),
        Part::Other { content_type, text: Some(t), .. } => quote(&format!("*{}*\n\n{t}", one_line(content_type))),
        Part::Other { content_type, value, .. } => {
            let json = serde_json::to_string_pretty(value).unwrap_or_default();
            let fence = fence_for(&json);
            format!("*{}*\n\n{fence}json\n{json}\n{fence}", one_line(content_type))
        }
    }
}

/// A code fence longer than any run of backticks in `text`.
pub(crate) fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn quote(text: &str) -> String {
    text.lines().map(|l| if l.is_empty() { ">".to_owned() } else { format!("> {l}") }).collect::<Vec<_>>().join("\n")
}

/// One line: what would break a heading or a note (line ends, control characters) as spaces.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// JSON for a comment: `>` escaped, so that nothing in it ends the comment.
fn comment_json(v: &Value) -> String {
    serde_json::to_string(v).expect("JSON").replace('>', "\\u003e")
}

/// Whether a line begins as ferry's comments do, after any backslashes.
fn looks_like_mark(line: &str) -> bool {
    line.trim_start_matches('\\').starts_with(MARK)
}

fn escape(text: &str) -> String {
    text.split('\n').map(|l| if looks_like_mark(l) { format!("\\{l}") } else { l.to_owned() }).collect::<Vec<_>>().join("\n")
}

fn unescape(text: &str) -> String {
    text.split('\n').map(|l| if l.starts_with('\\') && looks_like_mark(l) { &l[1..] } else { l }).collect::<Vec<_>>().join("\n")
}

/// Reads a transcript back to its conversation. A file that is not ferry's transcript,
/// or whose comments are broken, is an error naming the line.
pub fn parse_transcript(text: &str) -> Result<Conversation, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.starts_with(BEGIN) {
        return Err(format!("not a conversation transcript ferry wrote: it does not begin with `{}`", BEGIN.trim_end()));
    }
    // the structural lines: where each begins and ends
    let mut marks = Vec::new();
    let mut pos = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches('\n').trim_end_matches('\r');
        if bare.starts_with(MARK) && !bare.starts_with(PART) {
            marks.push((n + 1, pos, pos + line.len(), bare));
        }
        pos += line.len();
    }
    let json_of = |line: usize, bare: &str, prefix: &str| -> Result<Value, String> {
        let body =
            bare.strip_prefix(prefix).and_then(|b| b.strip_suffix(END)).ok_or_else(|| format!("line {line}: a broken ferry comment"))?;
        serde_json::from_str(body).map_err(|e| format!("line {line}: the fields in its comment are not JSON ({e})"))
    };
    let (_, _, _, first) = marks[0];
    let mut head = json_of(1, first, BEGIN)?;
    let mut messages: Vec<(Option<u64>, Value)> = Vec::new();
    for (k, &(line, _, end, bare)) in marks.iter().enumerate().skip(1) {
        if bare == BRANCHES {
            continue;
        }
        if !bare.starts_with(MESSAGE) {
            return Err(format!("line {line}: a ferry comment this version does not know"));
        }
        let mut fields = json_of(line, bare, MESSAGE)?;
        let region_end = marks.get(k + 1).map_or(text.len(), |m| m.1);
        let region = &text[end..region_end];
        // the heading and notes, up to the first empty line, are for reading only
        let body = match region.find("\n\n") {
            Some(i) => &region[i + 2..],
            None if region.ends_with('\n') && !region[..region.len() - 1].contains('\n') => "",
            None => return Err(format!("line {line}: a message without a blank line after its heading")),
        };
        let body = body.strip_suffix("\n\n").or_else(|| body.strip_suffix('\n')).unwrap_or(body);
        let segments: Vec<&str> = body.split(&format!("\n\n{PART}\n\n")).collect();
        let o = fields.as_object_mut().ok_or_else(|| format!("line {line}: the message's fields are not an object"))?;
        let n = o.remove("n").and_then(|n| n.as_u64());
        if let Some(Value::Array(parts)) = o.get_mut("content") {
            if parts.len() != segments.len() && !(parts.is_empty() && body.is_empty()) {
                return Err(format!("line {line}: {} parts in its fields, {} in its text", parts.len(), segments.len()));
            }
            for (p, s) in parts.iter_mut().zip(&segments) {
                if p["type"] == "text"
                    && let Some(p) = p.as_object_mut()
                {
                    p.insert("text".into(), Value::String(unescape(s)));
                }
            }
        } else if !body.is_empty() {
            // a message whose fields hold no parts: its text is one text part
            o.insert("content".into(), serde_json::json!([{"type": "text", "text": unescape(body)}]));
        }
        messages.push((n, fields));
    }
    // the record's order, where the comments say it
    if messages.iter().all(|(n, _)| n.is_some()) {
        messages.sort_by_key(|(n, _)| *n);
    }
    head.as_object_mut()
        .ok_or("line 1: the conversation's fields are not an object")?
        .insert("messages".into(), Value::Array(messages.into_iter().map(|(_, m)| m).collect()));
    serde_json::from_value(head).map_err(|e| format!("not a valid conversation: {e}"))
}
