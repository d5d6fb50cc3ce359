//! AI assistants' exports: ChatGPT (`conversations.json` with its `mapping` tree, and the
//! uploaded and generated files beside it, named after their id: `file-Ab12-photo.png`,
//! in the top folder, `dalle-generations/` or `user-*/`) and Claude (`conversations.json`
//! with `chat_messages`; it holds no files, only their names).

use super::found::{beside, read_all};
use super::walk::Walk;
use ferry_verticals::conversations::{CONVERSATIONS, read_chatgpt, read_claude};

pub fn chatgpt(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, CONVERSATIONS, |i, each| read_chatgpt(i, each), &by_id);
}

pub fn claude(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, CONVERSATIONS, |i, each| read_claude(i, each), &beside);
}

/// The archive's files of a ChatGPT file id: named the id, or the id, `-` or `.`, and more.
fn by_id(w: &Walk, _: &str, id: &str) -> Vec<String> {
    w.fs.entries
        .keys()
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            name.strip_prefix(id).is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '.', '_']))
        })
        .cloned()
        .collect()
}
