//! Tests of the conversations vertical: each reader with samples written here that carry
//! the platforms' oddities, the transcript both ways, and the DTI file.

mod chatgpt;
mod claude;
mod dti;
mod slack;
mod transcript;

use super::*;

/// Everything a reader hands, and its own result.
pub(super) fn read_all(
    read: impl FnOnce(&mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String>,
) -> (Vec<Result<Found, String>>, Result<(), String>) {
    let mut out = Vec::new();
    let r = read(&mut |f| {
        out.push(f);
        true
    });
    (out, r)
}

/// The message of a conversation by id.
pub(super) fn msg<'a>(c: &'a Conversation, id: &str) -> &'a Message {
    c.messages.iter().find(|m| m.id == id).unwrap_or_else(|| panic!("no message {id}"))
}

/// The conversation written as its transcript and read back, through the codec.
pub(super) fn through_the_transcript(found: &Found) -> Conversation {
    let item = found.clone().into_item();
    let file = (DEF.codec.unwrap().write)(&item).unwrap();
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);
    let back = (DEF.codec.unwrap().read)(&format!("conversations/x/{}.md", found.id), &found.container, file.text.as_bytes()).unwrap();
    assert_eq!(back.container, found.container);
    Conversation::of(&back).unwrap()
}
