//! `conversations`: chat threads and AI-assistant conversations. One item is one
//! conversation, with its participants, its messages (each with its author, time,
//! content, attached files and reactions) and, for an AI conversation, the model and the
//! whole branch tree: every message names its parent, edits and regenerations are kept
//! as siblings, and `visible` marks the path the platform shows.
//!
//! Its standard file is a readable Markdown transcript (`transcript`), which reads back
//! to the same record; a package also holds the AI conversations in the Data Transfer
//! Initiative's AI conversation schema (`dti`), flat, with what that loses reported.
//! Readers of platforms' files: ChatGPT (`chatgpt`), Claude (`claude`), Slack (`slack`).

mod chatgpt;
mod claude;
mod dti;
mod fields;
mod json_array;
mod slack;
mod time;
mod transcript;

pub use chatgpt::read_chatgpt;
pub use claude::read_claude;
pub use dti::{DTI_PATH, Dti, to_dti};
pub use slack::{MAX_MESSAGE, MAX_PART, SlackKind, SlackWorkspace};
pub use transcript::{parse_transcript, render_transcript};

use crate::def::{Codec, Def, DirFile, Per, StandardForm, Table};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const CONVERSATIONS: Vertical = Vertical::new("conversations");

pub const DEF: Def = Def {
    vertical: CONVERSATIONS,
    record_type: "conversation",
    schema: || serde_json::to_value(schemars::schema_for!(Conversation)).expect("a schema is JSON"),
    records_path: "conversations/conversations.jsonl",
    standard: Some(StandardForm { media_type: "text/markdown", extension: "md", per: Per::Item }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &TABLES,
    item_files: &[],
};

/// The most one conversation of a platform's list may take (its JSON): more is refused,
/// that conversation alone.
pub const MAX_ELEMENT: usize = 64 << 20;

/// Platform fields ferry does not model, as the platform gave them.
pub type Extra = BTreeMap<String, Value>;

/// One conversation: a chat thread (a Slack channel) or an AI-assistant conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conversation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where it was held: `chatgpt`, `claude`, `slack`, or another platform's name.
    pub platform: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
    /// Who takes part: the members of a chat, the roles of an AI conversation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<Person>,
    /// The AI model the conversation used (its default, or the last one that answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Every message, the branches not shown included, parents before their children.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// What the platform gave of the conversation that ferry does not model.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// People writing to each other (a chat channel, a direct message).
    #[default]
    Chat,
    /// A person and an AI assistant.
    Assistant,
}

/// A participant, or a message's author.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Person {
    /// `user`, `assistant`, `system`, `tool` (AI conversations); `bot` for a chat's bots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The name shown (a Slack member's real or display name, a tool's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The platform's id of the person (a Slack member id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// The platform's id of the message (unique within the conversation).
    pub id: String,
    /// The message it answers or follows in the tree (a thread's first message for a
    /// reply); none for a first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub author: Person,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was last changed (edited), where the platform says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
    /// The AI model that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Its content, in order: text, code, files shown in it, reasoning, and what else the
    /// platform holds (kept whole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Part>,
    /// Files attached to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attached>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// On the path the platform shows (ChatGPT: from the current message up through its
    /// parents); false for an earlier version of an edited message, a regenerated answer
    /// and what follows them.
    #[serde(default = "yes")]
    pub visible: bool,
    /// The platform does not show it even on that path (a system prompt, an assistant's
    /// call to a tool, a message the platform marks hidden).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: Extra,
}

fn yes() -> bool {
    true
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        extra: Extra,
    },
    Code {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        text: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        extra: Extra,
    },
    /// A file shown in the message (an image), by the name the archive gives it (ChatGPT
    /// `file-abc123` from `file-service://file-abc123`): one of the item's files.
    File {
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        extra: Extra,
    },
    /// The assistant's reasoning, as the platform shows it.
    Thinking {
        text: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        extra: Extra,
    },
    /// Any other content (a tool's call or result, a web quote, code output), kept whole
    /// as the platform gave it, with its text where it has one.
    Other {
        content_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        value: Value,
    },
}

/// A file attached to a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attached {
    /// Its name as the platform shows it.
    pub name: String,
    /// The file of the archive that holds it, by the name or path the format gives (one
    /// of the item's files); none when the export holds no copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Where the platform keeps it (a Slack file's link, without any access token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its text as the platform extracted it (Claude's `extracted_content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reaction {
    /// The emoji's name (`thumbsup`) or the emoji itself.
    pub name: String,
    pub count: u64,
    /// Who reacted, by their ids (see the participants for their names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

impl Conversation {
    pub fn item(&self, id: &str, container: &str) -> Result<Item, String> {
        let record = OtherRecord::new(CONVERSATIONS, "conversation", self)?;
        let version = sha256_hex(&serde_json::to_vec(&record.fields).map_err(|e| e.to_string())?);
        Ok(Item {
            id: id.to_owned(),
            container: container.to_owned(),
            version,
            record: Record::Other(record),
            original: None,
            content: None,
            standard: None,
            attachments: vec![],
            references: vec![],
            source_warnings: vec![],
        })
    }

    pub fn of(item: &Item) -> Result<Conversation, String> {
        Conversation::of_record(&item.record).unwrap_or_else(|| Err(format!("{} is not a conversation", item.id)))
    }

    fn of_record(record: &Record) -> Option<Result<Conversation, String>> {
        match record {
            Record::Other(r) if r.vertical == CONVERSATIONS => Some(r.typed()),
            _ => None,
        }
    }

    /// The messages the platform shows, in order.
    pub fn visible(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| m.visible)
    }
}

impl Message {
    /// Its text to read flat: the text parts, code fenced, and the text of other parts;
    /// files and reasoning left out.
    pub fn plain_text(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for p in &self.content {
            match p {
                Part::Text { text, .. } => out.push(text.clone()),
                Part::Code { language, text, .. } => {
                    let fence = transcript::fence_for(text);
                    out.push(format!("{fence}{}\n{text}\n{fence}", language.as_deref().unwrap_or("")));
                }
                Part::Other { text: Some(t), .. } => out.push(t.clone()),
                Part::Other { .. } | Part::File { .. } | Part::Thinking { .. } => {}
            }
        }
        out.retain(|t| !t.is_empty());
        out.join("\n\n")
    }
}

/// A conversation a reader found, ready to travel: its `id` is the platform's id of the
/// conversation (a Slack channel's id, with `#2`, `#3` for the further parts of a channel
/// too large for one item), else a hash of its bytes; its `container` is `""` for an AI
/// conversation, else the kind of a Slack conversation (`channels`, `groups`, `dms`,
/// `mpims`: the export's names for them); its `files` are named as the format names them
/// (ChatGPT `file-abc123`, a Slack file's name), each once.
pub type Found = crate::found::Found<Conversation>;

impl crate::found::Typed for Conversation {
    const VERTICAL: Vertical = CONVERSATIONS;
    const RECORD_TYPE: &'static str = "conversation";
}

/// Its `files`, from its messages' file parts and attachments (each once, in order).
pub(crate) fn collect_files(record: &Conversation) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for m in &record.messages {
        let parts = m.content.iter().filter_map(|p| match p {
            Part::File { file, .. } => Some(file),
            _ => None,
        });
        for f in parts.chain(m.attachments.iter().filter_map(|a| a.file.as_ref())) {
            if seen.insert(f.clone()) {
                out.push(f.clone());
            }
        }
    }
    out
}

/// A `.md` file under `conversations/` (notes claim `notes/`), and, where the caller read
/// its first bytes, one that begins as ferry's transcripts do.
fn recognises(f: &DirFile) -> bool {
    let head = f.head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f.head);
    f.top() == Some("conversations")
        && f.extension().as_deref() == Some("md")
        && (head.is_empty() || head.starts_with(transcript::BEGIN.as_bytes()))
}

/// The conversation's Markdown transcript; it holds all of the record.
fn write(item: &Item) -> Result<Standard, String> {
    let c = Conversation::of(item)?;
    Ok(Standard { text: render_transcript(&c), warnings: vec![] })
}

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: CONVERSATIONS, id: id.to_owned(), location: id.to_owned(), reason };
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8 text ({e})")))?;
    let c = parse_transcript(text).map_err(err)?;
    let mut item = c.item(id, container).map_err(err)?;
    item.version = sha256_hex(bytes);
    Ok(item)
}

/// The AI conversations in the Data Transfer Initiative's schema, one a line.
static TABLES: [Table; 1] = [Table { path: DTI_PATH, header: "", rows: dti::rows }];

/// What the package's DTI file cannot hold of a conversation: its fidelity warnings.
pub fn table_losses(record: &Record) -> Vec<String> {
    dti::losses(record)
}

#[cfg(test)]
mod tests;
