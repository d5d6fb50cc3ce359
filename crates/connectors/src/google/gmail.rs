//! Gmail's labels as ferry's mail carries them, both ways. A message is in one container,
//! as an IMAP message is in one folder: Trash or Junk when Gmail has it there, else its
//! first user label, else Drafts, INBOX or Sent, else Archive (Gmail's "All Mail" only).
//! Its other labels are keywords among its flags, as IMAP keeps them: a user label by its
//! name (in an IMAP atom's characters, see [`keyword`]), a system label as `$` and its id
//! (`$INBOX`, `$IMPORTANT`, `$CATEGORY_SOCIAL`). UNREAD, STARRED and DRAFT are the IMAP
//! flags `\Seen` (absent), `\Flagged` and `\Draft`.

use serde_json::Value;
use std::collections::HashMap;

/// A label of the mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub name: String,
    pub user: bool,
}

/// The labels of a mailbox by id, from `labels.list`.
pub fn labels_from(answer: &Value) -> HashMap<String, Label> {
    answer["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let (id, name) = (l["id"].as_str()?, l["name"].as_str()?);
            Some((id.to_owned(), Label { name: name.to_owned(), user: l["type"] == "user" }))
        })
        .collect()
}

/// System labels that stand for a folder, and the folder's name (the special-use names
/// ferry's IMAP connector gives its folders).
const FOLDERS: [(&str, &str); 5] = [("TRASH", "Trash"), ("SPAM", "Junk"), ("DRAFT", "Drafts"), ("INBOX", "INBOX"), ("SENT", "Sent")];

/// The container of a message in no folder and without a user label.
pub const ARCHIVE: &str = "Archive";

/// Where a message goes, from its labels.
#[derive(Debug, PartialEq)]
pub struct Placed {
    pub container: String,
    /// IMAP flags and keywords, sorted.
    pub flags: Vec<String>,
    /// Every label's name (a system label's id), sorted: what the version is made of.
    pub names: Vec<String>,
}

pub fn place(label_ids: &[String], labels: &HashMap<String, Label>) -> Placed {
    let has = |id: &str| label_ids.iter().any(|l| l == id);
    let user = |id: &String| labels.get(id).is_some_and(|l| l.user) || (!labels.contains_key(id) && !is_system(id));
    let name = |id: &String| labels.get(id).map_or_else(|| id.clone(), |l| l.name.clone());
    let (container, from) = if has("TRASH") {
        ("Trash".to_owned(), Some("TRASH".to_owned()))
    } else if has("SPAM") {
        ("Junk".to_owned(), Some("SPAM".to_owned()))
    } else if let Some(first) = label_ids.iter().find(|l| user(l)) {
        (name(first), Some(first.clone()))
    } else {
        match FOLDERS.iter().find(|(id, _)| has(id)) {
            Some((id, folder)) => ((*folder).to_owned(), Some((*id).to_owned())),
            None => (ARCHIVE.to_owned(), None),
        }
    };
    let mut flags = Vec::new();
    if !has("UNREAD") {
        flags.push("\\Seen".to_owned());
    }
    if has("STARRED") {
        flags.push("\\Flagged".to_owned());
    }
    if has("DRAFT") {
        flags.push("\\Draft".to_owned());
    }
    for id in label_ids {
        if from.as_ref() == Some(id) || ["UNREAD", "STARRED", "DRAFT"].contains(&id.as_str()) {
            continue;
        }
        flags.push(if user(id) { keyword(&name(id)) } else { format!("${id}") });
    }
    flags.sort();
    flags.dedup();
    let mut names: Vec<String> = label_ids.iter().map(|id| if user(id) { name(id) } else { id.clone() }).collect();
    names.sort();
    names.dedup();
    Placed { container, flags, names }
}

fn is_system(id: &str) -> bool {
    APPLICABLE.contains(&id) || ["UNREAD", "STARRED", "DRAFT", "CHAT"].contains(&id) || id.starts_with("CATEGORY_")
}

/// System labels a message may be given by import.
const APPLICABLE: [&str; 10] = [
    "INBOX",
    "SENT",
    "SPAM",
    "TRASH",
    "IMPORTANT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
];

/// The label drafts get: Gmail's import cannot make a draft.
pub const DRAFTS_LABEL: &str = "Imported drafts";

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// A label's name as an IMAP keyword (an atom, RFC 3501): the characters an atom cannot
/// hold (space, `(){%*"\]`, controls, anything not ASCII), and a leading `$` (the mark of
/// a mail program's own keywords), in modified UTF-7's `&...-` form, `&` as `&-`.
/// `Travel plans` is `Travel&ACA-plans`; [`label_of_keyword`] reads it back.
pub fn keyword(name: &str) -> String {
    let mut out = String::new();
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out.push('-');
        run.clear();
    };
    for (i, c) in name.chars().enumerate() {
        let atom = c.is_ascii_graphic() && !"(){%*\"\\]&".contains(c) && !(i == 0 && c == '$');
        if c == '&' {
            flush(&mut run, &mut out);
            out.push_str("&-");
        } else if atom {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A keyword [`keyword`] made, as the name it stands for (any other keyword as it is).
pub fn label_of_keyword(k: &str) -> String {
    let decode = || -> Option<String> {
        let mut out = String::new();
        let mut rest = k;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let end = after.find('-')?;
            rest = &after[end + 1..];
            if end == 0 {
                out.push('&');
                continue;
            }
            let (mut bits, mut nbits, mut bytes) = (0u32, 0, Vec::new());
            for b in after[..end].bytes() {
                bits = bits << 6 | B64.iter().position(|a| *a == b)? as u32;
                nbits += 6;
                if nbits >= 8 {
                    nbits -= 8;
                    bytes.push((bits >> nbits) as u8);
                    bits &= (1 << nbits) - 1;
                }
            }
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        out.push_str(rest);
        Some(out)
    };
    decode().unwrap_or_else(|| k.to_owned())
}

/// A label a message is to have.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    System(&'static str),
    User(String),
}

/// The labels for a message of `container` with `flags`, the container's first, and what
/// Gmail has no place for.
pub fn wanted(container: &str, flags: &[String]) -> (Vec<Target>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let flag = |f: &str| flags.iter().any(|x| x.eq_ignore_ascii_case(f));
    let mut draft = flag("\\Draft");
    match folder(container) {
        Folder::System(id) => out.push(Target::System(id)),
        Folder::Archive => {}
        Folder::Drafts => draft = true,
        Folder::User(name) => match user_label(&name) {
            Some((label, note)) => {
                out.push(Target::User(label));
                warnings.extend(note);
            }
            None => warnings.push(format!("folder `{container}`: not a name Gmail takes for a label; the message is archived")),
        },
    }
    if draft {
        out.push(Target::User(DRAFTS_LABEL.into()));
        warnings.push(format!("a draft: Gmail's import makes messages, not drafts; kept as a message labelled `{DRAFTS_LABEL}`"));
    }
    if !flag("\\Seen") {
        out.push(Target::System("UNREAD"));
    }
    if flag("\\Flagged") {
        out.push(Target::System("STARRED"));
    }
    for f in flags {
        let lower = f.to_ascii_lowercase();
        match lower.as_str() {
            "\\seen" | "\\flagged" | "\\draft" | "\\recent" => {}
            "\\answered" => warnings.push("\\Answered: Gmail keeps no mark of a message answered".into()),
            "\\deleted" => warnings.push("\\Deleted: marked deleted at the source; Gmail gets the message all the same".into()),
            "$draft" => {}
            "$chat" => warnings.push("$CHAT: Gmail takes no chats by import; kept as a message".into()),
            _ if f.starts_with('\\') => warnings.push(format!("{f}: Gmail has no place for this flag")),
            _ if f.starts_with('$') => match APPLICABLE.iter().find(|id| id.eq_ignore_ascii_case(&f[1..])) {
                Some(id) => out.push(Target::System(id)),
                None => warnings.push(format!("keyword {f}: a mail program's own mark; Gmail has no place for it")),
            },
            "junk" | "nonjunk" | "notjunk" => warnings.push(format!("keyword {f}: a mail program's own mark; Gmail has no place for it")),
            _ => match user_label(&label_of_keyword(f)) {
                Some((label, note)) => {
                    out.push(Target::User(label));
                    warnings.extend(note);
                }
                None => warnings.push(format!("keyword {f}: not a name Gmail takes for a label")),
            },
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.clone()));
    (out, warnings)
}

enum Folder {
    System(&'static str),
    Drafts,
    Archive,
    User(String),
}

/// What a container is at Gmail: the folders mail programs and servers name by special
/// use ("Sent Items", Gmail's own `[Gmail]/Sent Mail`) are Gmail's system labels.
fn folder(container: &str) -> Folder {
    let c = container.trim().trim_matches('/');
    let lower = c.to_lowercase();
    let bare = ["[gmail]/", "[google mail]/"].iter().find_map(|p| lower.strip_prefix(p)).unwrap_or(&lower);
    match bare {
        "" | "inbox" => Folder::System("INBOX"),
        "sent" | "sent mail" | "sent items" | "sent messages" => Folder::System("SENT"),
        "trash" | "bin" | "deleted items" | "deleted messages" => Folder::System("TRASH"),
        "junk" | "spam" | "junk e-mail" | "junk email" | "bulk mail" => Folder::System("SPAM"),
        "starred" | "flagged" => Folder::System("STARRED"),
        "important" => Folder::System("IMPORTANT"),
        "drafts" | "draft" => Folder::Drafts,
        "archive" | "all mail" => Folder::Archive,
        _ => Folder::User(c.to_owned()),
    }
}

/// Names Gmail keeps for its own labels (in any case).
const RESERVED: [&str; 16] = [
    "inbox",
    "sent",
    "sent mail",
    "draft",
    "drafts",
    "spam",
    "trash",
    "bin",
    "starred",
    "important",
    "unread",
    "chat",
    "chats",
    "all mail",
    "scheduled",
    "snoozed",
];

/// A name as Gmail takes it for a user label (each `/`-level trimmed, empty levels and
/// control characters dropped; a name Gmail keeps for itself gets ` (imported)`), and a
/// note when it had to change; none when nothing is left of it.
pub fn user_label(name: &str) -> Option<(String, Option<String>)> {
    let clean: Vec<String> = name
        .split('/')
        .map(|s| s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if clean.is_empty() {
        return None;
    }
    let mut label = clean.join("/");
    let lower = label.to_lowercase();
    if RESERVED.contains(&lower.as_str()) || lower.starts_with("category_") {
        label.push_str(" (imported)");
    }
    let note = (label != name).then(|| format!("label `{name}` is `{label}` at Gmail"));
    Some((label, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox() -> HashMap<String, Label> {
        let mut m = HashMap::new();
        for id in ["INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "CATEGORY_SOCIAL", "CHAT"] {
            m.insert(id.to_owned(), Label { name: id.to_owned(), user: false });
        }
        m.insert("Label_1".into(), Label { name: "Work/Projects".into(), user: true });
        m.insert("Label_2".into(), Label { name: "Travel plans & $ (2025)".into(), user: true });
        m
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn labels_become_a_container_and_flags_and_come_back_the_same() {
        let m = mailbox();
        let p = place(&ids(&["INBOX", "Label_1", "UNREAD", "Label_2", "IMPORTANT", "CATEGORY_SOCIAL"]), &m);
        assert_eq!(p.container, "Work/Projects", "the first user label");
        assert_eq!(p.flags, ["$CATEGORY_SOCIAL", "$IMPORTANT", "$INBOX", &keyword("Travel plans & $ (2025)")]);
        assert!(p.flags[3].starts_with("Travel&ACA-plans&ACA-&-"), "{}", p.flags[3]);
        let (back, warnings) = wanted(&p.container, &p.flags);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(back[0], Target::User("Work/Projects".into()), "the container's label first");
        for t in [
            Target::System("UNREAD"),
            Target::System("INBOX"),
            Target::System("IMPORTANT"),
            Target::System("CATEGORY_SOCIAL"),
            Target::User("Travel plans & $ (2025)".into()),
        ] {
            assert!(back.contains(&t), "{t:?} in {back:?}");
        }
        assert_eq!(back.len(), 6);
        // read, starred, sent; trash wins over a user label; nothing at all is archived
        let p = place(&ids(&["SENT", "STARRED"]), &m);
        assert_eq!((p.container.as_str(), p.flags.clone()), ("Sent", ids(&["\\Flagged", "\\Seen"])));
        assert_eq!(wanted(&p.container, &p.flags).0, [Target::System("SENT"), Target::System("STARRED")]);
        let p = place(&ids(&["Label_1", "TRASH"]), &m);
        assert_eq!((p.container.as_str(), p.flags.clone()), ("Trash", ids(&["Work/Projects", "\\Seen"])));
        assert_eq!(place(&[], &m).container, ARCHIVE);
        assert!(wanted(ARCHIVE, &ids(&["\\Seen"])).0.is_empty(), "archived: no label at all");
        assert_eq!(
            place(&ids(&["SPAM", "UNREAD"]), &m),
            Placed { container: "Junk".into(), flags: vec![], names: ids(&["SPAM", "UNREAD"]) }
        );
    }

    #[test]
    fn folders_of_other_programs_find_gmails_own_labels() {
        for (folder, id) in
            [("[Gmail]/Sent Mail", "SENT"), ("Sent Items", "SENT"), ("Deleted Items", "TRASH"), ("Junk E-mail", "SPAM"), ("", "INBOX")]
        {
            assert_eq!(wanted(folder, &ids(&["\\Seen"])).0, [Target::System(id)], "{folder}");
        }
        let (t, w) = wanted("Drafts", &ids(&["\\Seen", "\\Answered", "$Forwarded", "NonJunk", "$MDNSent"]));
        assert_eq!(t, [Target::User(DRAFTS_LABEL.into())]);
        for needle in ["a draft", "\\Answered", "$Forwarded", "NonJunk", "$MDNSent"] {
            assert!(w.iter().any(|x| x.contains(needle)), "{needle}: {w:?}");
        }
        // names Gmail keeps for itself, and names with empty levels
        let (t, w) = wanted(" Projects // 2025 ", &ids(&["\\Seen", "Chats"]));
        assert_eq!(t, [Target::User("Projects/2025".into()), Target::User("Chats (imported)".into())]);
        assert_eq!(w.len(), 2, "{w:?}");
        let (t, w) = wanted("/", &ids(&["\\Seen"]));
        assert_eq!(t, [Target::System("INBOX")], "{w:?}");
        assert!(user_label(" / ").is_none());
    }

    #[test]
    fn keywords_are_atoms_and_read_back() {
        for name in ["Receipts", "Work/Projects", "Travel plans", "$money", "Ünïcödé 台北", "a&b", "(x) \"y\" \\z ] 100%*", "😀"] {
            let k = keyword(name);
            assert!(k.chars().all(|c| c.is_ascii_graphic() && !"(){%*\"\\]".contains(c)), "{name}: {k}");
            assert!(!k.starts_with('$') && !k.starts_with('\\'), "{k}");
            assert_eq!(label_of_keyword(&k), name, "{k}");
        }
        assert_eq!(keyword("Receipts"), "Receipts", "plain names stay as they are");
        // a keyword not of ferry's making is kept as it is
        assert_eq!(label_of_keyword("a&b"), "a&b");
        assert_eq!(label_of_keyword("&AGE"), "&AGE");
    }
}
