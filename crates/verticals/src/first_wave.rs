//! The first wave's declarations. Their readers and writers are the codecs', the `dir`
//! connector's and the package's own (streaming, made before this registry).

use crate::def::{Def, DirFile, Per, StandardForm};
use ferry_core::Vertical;
use ferry_core::model::{Contact, Event, FileEntry, MailMessage, MediaItem, Task};

fn schema<T: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON")
}

/// Classified by the `dir` connector itself.
fn by_dir(_: &DirFile) -> bool {
    false
}

const fn per_container(media_type: &'static str, extension: &'static str) -> Option<StandardForm> {
    Some(StandardForm { media_type, extension, per: Per::Container })
}

pub const CONTACTS: Def = Def {
    vertical: Vertical::Contacts,
    record_type: "contact",
    schema: schema::<Contact>,
    records_path: "contacts/contacts.jsonl",
    standard: per_container("text/vcard", "vcf"),
    recognises: by_dir,
    codec: None,
    tables: &[],
    item_files: &[],
};

pub const CALENDAR: Def = Def {
    vertical: Vertical::Calendar,
    record_type: "event",
    schema: schema::<Event>,
    records_path: "calendar/events.jsonl",
    standard: per_container("text/calendar", "ics"),
    recognises: by_dir,
    codec: None,
    tables: &[],
    item_files: &[],
};

pub const TASKS: Def = Def {
    vertical: Vertical::Tasks,
    record_type: "task",
    schema: schema::<Task>,
    records_path: "tasks/tasks.jsonl",
    standard: per_container("text/calendar", "ics"),
    recognises: by_dir,
    codec: None,
    tables: &[],
    item_files: &[],
};

pub const MAIL: Def = Def {
    vertical: Vertical::Mail,
    record_type: "mail",
    schema: schema::<MailMessage>,
    records_path: "mail/messages.jsonl",
    standard: per_container("application/mbox", "mbox"),
    recognises: by_dir,
    codec: None,
    tables: &[],
    item_files: &[],
};

/// Photos and videos are their own files: no standard format besides them.
pub const MEDIA: Def = Def {
    vertical: Vertical::Media,
    record_type: "media",
    schema: schema::<MediaItem>,
    records_path: "media/media.jsonl",
    standard: None,
    recognises: by_dir,
    codec: None,
    tables: &[],
    item_files: &[],
};

pub const FILES: Def = Def {
    vertical: Vertical::Files,
    record_type: "file",
    schema: schema::<FileEntry>,
    records_path: "files/files.jsonl",
    standard: None,
    recognises: by_dir,
    codec: None,
    tables: &[],
    item_files: &[],
};
