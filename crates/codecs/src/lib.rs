//! Codecs for the standard formats ferry reads and writes. Every reader is streaming
//! (it holds one record at a time) and bounded (a line or a record over the limit is an
//! error, not an allocation).

pub mod contacts_csv;
pub mod ical;
pub mod lines;
pub mod mail_meta;
pub mod maildir;
pub mod mbox;
pub mod media;
pub mod mutf7;
pub mod text_component;
pub mod todo;
pub mod utf16;
pub mod vcard;
pub mod vevent;

/// A codec failure with the place it happened.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("line {line}: {reason}")]
    Syntax { line: u64, reason: String },
    #[error("line {line}: line is longer than the {limit} byte limit")]
    LineTooLong { line: u64, limit: usize },
    #[error("line {line}: record is larger than the {limit} byte limit")]
    RecordTooLarge { line: u64, limit: usize },
    #[error("line {line}: not valid UTF-8 and no CHARSET parameter says what it is")]
    InvalidUtf8 { line: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Limits every reader enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest physical line accepted.
    pub max_line: usize,
    /// Largest single record (one vCard, one calendar object, one mail message).
    pub max_record: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_line: 4 << 20, max_record: 256 << 20 }
    }
}
