//! The Data Transfer Initiative's "AI Conversation History" schema
//! (https://schemas.pub/schemas/24): one JSON object per AI conversation, with `details`
//! (`createdBy`, `createdAt`, `startTime`, `endTime`, `modality`), `identifiers` (the
//! senders, each `name` and `identifier`; the AI is the sender `AI`), and `messages`
//! (`sentAt`, `sender`, `text`). It is flat and has no place for a title, a model,
//! branches, files, reactions or parts that are not text: it holds the path the
//! platform shows, and what it leaves out is said per conversation.
//!
//! A package holds these objects one a line in [`DTI_PATH`], made from the records; the
//! package reports [`losses`] as each conversation's fidelity warnings.

use super::{Conversation, Kind, Part};
use chrono::{DateTime, SecondsFormat, Utc};
use ferry_core::Record;
use serde_json::{Value, json};

/// Where a package keeps the AI conversations in the DTI schema.
pub const DTI_PATH: &str = "conversations/dti-ai-conversations.jsonl";

/// A conversation in the DTI schema, and what that could not hold of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dti {
    pub json: Value,
    pub lost: Vec<String>,
}

/// The sender the schema names the AI.
const AI: &str = "AI";

/// An AI conversation in the DTI schema; `Err` says why it does not fit at all (a chat
/// between people, no message to hold, no time).
pub fn to_dti(c: &Conversation) -> Result<Dti, String> {
    if c.kind != Kind::Assistant {
        return Err("not an AI conversation".into());
    }
    let mut lost = Vec::new();
    if let Some(t) = &c.title {
        lost.push(format!("its title ({t:?})"));
    }
    let models: std::collections::BTreeSet<&str> =
        c.model.iter().map(String::as_str).chain(c.messages.iter().filter_map(|m| m.model.as_deref())).collect();
    if !models.is_empty() {
        lost.push(format!("the model ({})", models.into_iter().collect::<Vec<_>>().join(", ")));
    }
    let branches = c.messages.iter().filter(|m| !m.visible).count();
    if branches > 0 {
        lost.push(format!("{branches} message{} on other branches (edits and regenerations)", plural(branches)));
    }
    let (mut skipped, mut files, mut reactions, mut untimed, mut others) = (0, Vec::new(), 0, 0, 0);
    let mut identifiers: Vec<Value> = Vec::new();
    let mut messages = Vec::new();
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut last_time: Option<DateTime<Utc>> = c.created;
    let (mut start, mut end): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
    for m in c.visible() {
        let role = m.author.role.as_deref();
        if m.hidden || !matches!(role, Some("user" | "assistant")) {
            skipped += 1;
            continue;
        }
        files.extend(m.attachments.iter().map(|a| a.name.clone()));
        files.extend(m.content.iter().filter_map(|p| match p {
            Part::File { file, .. } => Some(file.clone()),
            _ => None,
        }));
        reactions += m.reactions.len();
        others += m.content.iter().filter(|p| matches!(p, Part::Thinking { .. } | Part::Other { .. })).count();
        let sender = if role == Some("assistant") {
            AI.to_owned()
        } else {
            let id = m.author.id.clone().unwrap_or_else(|| "user".into());
            if !identifiers.iter().any(|i| i["identifier"] == id.as_str()) {
                identifiers.push(json!({"name": m.author.name.clone().unwrap_or_else(|| "User".into()), "identifier": id}));
            }
            id
        };
        let text = m.plain_text();
        if m.created.is_none() {
            untimed += 1;
        }
        let Some(sent) = m.created.or(last_time) else {
            // before any time is known: placed with the first one
            pending.push((sender, text));
            continue;
        };
        last_time = Some(sent);
        start = Some(start.map_or(sent, |s| s.min(sent)));
        end = Some(end.map_or(sent, |e| e.max(sent)));
        for (sender, text) in pending.drain(..).chain([(sender, text)]) {
            messages.push(json!({"sentAt": time(sent), "sender": sender, "text": text}));
        }
    }
    if messages.is_empty() {
        return Err(if untimed > 0 { "no message has a time".into() } else { "no message of the person or the AI to hold".into() });
    }
    if skipped > 0 {
        lost.push(format!("{skipped} system, tool and hidden message{}", plural(skipped)));
    }
    if !files.is_empty() {
        let mut seen = std::collections::HashSet::new();
        files.retain(|f| seen.insert(f.clone()));
        lost.push(format!("{} file{} ({})", files.len(), plural(files.len()), files.join(", ")));
    }
    if others > 0 {
        lost.push(format!(
            "{others} part{} that {} not text (reasoning, tool calls), but for their text",
            plural(others),
            if others == 1 { "is" } else { "are" }
        ));
    }
    if reactions > 0 {
        lost.push(format!("{reactions} reaction{}", plural(reactions)));
    }
    if untimed > 0 {
        lost.push(format!("the times of {untimed} message{} (given the time before them)", plural(untimed)));
    }
    if identifiers.is_empty() {
        // the schema asks for one identifier at least: the person, who never wrote
        identifiers.push(json!({"name": "User", "identifier": "user"}));
    }
    let (start, end) = (start.expect("a message was placed"), end.expect("a message was placed"));
    let created = c.updated.map_or(end, |u| u.max(end));
    let json = json!({
        "details": {
            "createdBy": platform(&c.platform),
            "createdAt": time(created),
            "startTime": time(start),
            "endTime": time(end),
            "modality": "text",
        },
        "identifiers": identifiers,
        "messages": messages,
    });
    Ok(Dti { json, lost })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn platform(p: &str) -> String {
    match p {
        "chatgpt" => "ChatGPT".into(),
        "claude" => "Claude".into(),
        other => other.to_owned(),
    }
}

/// The package's line of a record: its DTI object, for an AI conversation that fits.
pub(super) fn rows(record: &Record) -> Vec<String> {
    match Conversation::of_record(record) {
        Some(Ok(c)) => to_dti(&c).map(|d| vec![d.json.to_string() + "\n"]).unwrap_or_default(),
        _ => vec![],
    }
}

/// What the package's DTI file does not hold of an AI conversation, as one warning.
pub(super) fn losses(record: &Record) -> Vec<String> {
    let Some(Ok(c)) = Conversation::of_record(record) else { return vec![] };
    if c.kind != Kind::Assistant {
        return vec![];
    }
    match to_dti(&c) {
        Ok(d) if d.lost.is_empty() => vec![],
        Ok(d) => vec![format!("{DTI_PATH} (the DTI AI conversation schema) holds the messages shown, not: {}", d.lost.join("; "))],
        Err(why) => vec![format!("{DTI_PATH} (the DTI AI conversation schema) leaves this conversation out: {why}")],
    }
}
