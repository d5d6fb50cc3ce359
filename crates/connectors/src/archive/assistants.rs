//! AI assistants' exports: ChatGPT (`conversations.json` with its `mapping` tree, and the
//! uploaded and generated files beside it, named after their id: `file-Ab12-photo.png`,
//! in the top folder, `dalle-generations/` or `user-*/`) and Claude (`conversations.json`
//! with `chat_messages`; it holds no files, only their names).

use super::found::{beside, read_all};
use super::walk::Walk;
use ferry_verticals::conversations::{CONVERSATIONS, read_chatgpt, read_claude};
use std::collections::HashMap;

pub fn chatgpt(w: &mut Walk, files: Vec<String>) {
    let index = file_index(w);
    read_all(w, files, CONVERSATIONS, |i, each| read_chatgpt(i, each), &|_, _, id| index.get(id).cloned().unwrap_or_default());
}

pub fn claude(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, CONVERSATIONS, |i, each| read_claude(i, each), &beside);
}

/// The archive's files by every ChatGPT file id they may stand for: a name cut before
/// any `-`, `.` or `_` after its first six characters (`file-Ab12-photo.png` is
/// `file-Ab12`), and the whole name. Built once, so each id is one look-up.
fn file_index(w: &Walk) -> HashMap<String, Vec<String>> {
    let mut index: HashMap<String, Vec<String>> = HashMap::new();
    for p in w.fs.entries.keys() {
        let name = p.rsplit('/').next().unwrap_or(&p);
        if !name.starts_with("file") {
            continue;
        }
        let mut keys: Vec<&str> =
            name.char_indices().filter(|(i, c)| *i > 5 && matches!(c, '-' | '.' | '_')).map(|(i, _)| &name[..i]).collect();
        keys.push(name);
        keys.dedup();
        for k in keys {
            index.entry(k.to_owned()).or_default().push(p.clone());
        }
    }
    index
}
