//! Maildir: flags in file names (`:2,FRS`), messages one per file in `cur/` and `new/`,
//! and the folder names of Maildir++ (`.Archive.2012`, modified UTF-7 as Courier and
//! Dovecot write them).

use std::path::Path;

/// Maildir flag letters and the IMAP flags they mean.
const FLAGS: [(char, &str); 6] =
    [('D', "\\Draft"), ('F', "\\Flagged"), ('P', "$Forwarded"), ('R', "\\Answered"), ('S', "\\Seen"), ('T', "\\Deleted")];

/// The separators between a message's unique part and its flags: `:` on most systems,
/// `!` and `;` where a colon cannot be in a file name (Windows, some sync tools).
const INFO_SEPARATORS: [&str; 3] = [":2,", "!2,", ";2,"];

/// Splits a maildir file name into its unique part and its flags. Lowercase letters are
/// Dovecot keywords; `keywords` maps them (from the folder's `dovecot-keywords` file),
/// and a letter without a name there is kept as the keyword `$MaildirKeyword<letter>`.
pub fn parse_name_with<'a>(name: &'a str, keywords: &[(char, String)]) -> (&'a str, Vec<String>) {
    let split = INFO_SEPARATORS.iter().filter_map(|sep| name.rfind(sep).map(|i| (i, sep.len()))).max_by_key(|(i, _)| *i);
    let Some((i, len)) = split else { return (name, Vec::new()) };
    let (unique, letters) = (&name[..i], &name[i + len..]);
    let mut flags: Vec<String> = FLAGS.iter().filter(|(c, _)| letters.contains(*c)).map(|(_, f)| (*f).to_owned()).collect();
    for c in letters.chars().filter(char::is_ascii_lowercase) {
        let k = keywords.iter().find(|(l, _)| *l == c).map(|(_, k)| k.clone()).unwrap_or_else(|| format!("$MaildirKeyword{c}"));
        if !flags.contains(&k) {
            flags.push(k);
        }
    }
    (unique, flags)
}

/// [`parse_name_with`] without a keywords file.
pub fn parse_name(name: &str) -> (&str, Vec<String>) {
    parse_name_with(name, &[])
}

/// Reads a Dovecot `dovecot-keywords` file: lines `<index> <keyword>`, index 0 is `a`.
pub fn parse_keywords(text: &str) -> Vec<(char, String)> {
    text.lines()
        .filter_map(|l| {
            let (n, k) = l.split_once(' ')?;
            let n: u8 = n.trim().parse().ok().filter(|n| *n < 26)?;
            Some(((b'a' + n) as char, k.trim().to_owned()))
        })
        .filter(|(_, k)| !k.is_empty())
        .collect()
}

/// Whether a file name carries maildir flags (`:2,`, `!2,` or `;2,`).
pub fn has_info(name: &str) -> bool {
    INFO_SEPARATORS.iter().any(|s| name.contains(s))
}

/// Whether a file name has the shape of a maildir message: a flags suffix (`:2,`), or
/// the `<seconds>.<unique>.<host>` form deliverers write.
pub fn is_message_name(name: &str) -> bool {
    if name.starts_with('.') {
        return false;
    }
    if has_info(name) {
        return true;
    }
    let mut parts = name.splitn(3, '.');
    let time = parts.next().unwrap_or("");
    !time.is_empty() && time.bytes().all(|b| b.is_ascii_digit()) && parts.next().is_some_and(|p| !p.is_empty()) && parts.next().is_some()
}

/// The `:2,` suffix for IMAP flags (unknown keywords have no maildir letter).
pub fn flag_suffix(flags: &[String]) -> String {
    let mut s = String::from(":2,");
    for (c, f) in FLAGS {
        if flags.iter().any(|x| x.eq_ignore_ascii_case(f)) {
            s.push(c);
        }
    }
    s
}

/// Flags that have no maildir letter; reported as fidelity warnings.
pub fn unrepresentable(flags: &[String]) -> Vec<String> {
    flags.iter().filter(|f| !FLAGS.iter().any(|(_, x)| x.eq_ignore_ascii_case(f)) && !f.eq_ignore_ascii_case("\\Recent")).cloned().collect()
}

/// A real folder (not a link) at `path`.
fn real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Whether a folder is a maildir: it has `cur/` and `new/` and `tmp/`, or, as after a copy
/// that drops empty folders (git, ZIP, sync tools), a `cur/` or `new/` holding at least
/// one file named like a message. Links are not followed.
pub fn is_maildir(path: &Path) -> bool {
    if ["cur", "new", "tmp"].iter().all(|d| real_dir(&path.join(d))) {
        return true;
    }
    ["cur", "new"].iter().any(|d| {
        let sub = path.join(d);
        real_dir(&sub) && std::fs::read_dir(&sub).is_ok_and(|rd| rd.flatten().any(|e| is_message_name(&e.file_name().to_string_lossy())))
    })
}

/// The folder path a Maildir++ folder name stands for: `.Archive.2012` -> `Archive/2012`,
/// each level decoded from modified UTF-7 (`.Entw&APw-rfe` -> `Entwürfe`). A name that is
/// not valid modified UTF-7 is kept as written.
pub fn plusplus_folder(name: &str) -> String {
    let name = name.strip_prefix('.').unwrap_or(name);
    name.split('.').filter(|s| !s.is_empty()).map(|s| crate::mutf7::decode(s).unwrap_or_else(|| s.to_owned())).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip() {
        let (u, f) = parse_name("1736150400.M1P100.host:2,FRS");
        assert_eq!(u, "1736150400.M1P100.host");
        assert_eq!(f, ["\\Flagged", "\\Answered", "\\Seen"]);
        assert_eq!(flag_suffix(&f), ":2,FRS");
        assert_eq!(parse_name("plain").1.len(), 0);
        assert_eq!(unrepresentable(&["\\Seen".into(), "$Label1".into()]), ["$Label1"]);
    }

    #[test]
    fn every_separator_keeps_the_flags() {
        for sep in [":2,", "!2,", ";2,"] {
            let name = format!("1700000000.M2P9.box{sep}DRS");
            let (u, f) = parse_name_with(&name, &[]);
            assert_eq!(u, "1700000000.M2P9.box", "{sep}");
            assert_eq!(f, ["\\Draft", "\\Answered", "\\Seen"], "{sep}");
        }
        // a host name with a semicolon does not end the unique part early
        assert_eq!(parse_name("1700000000.M2P9.a;b;2,S"), ("1700000000.M2P9.a;b", vec!["\\Seen".to_owned()]));
    }

    #[test]
    fn dovecot_keyword_letters() {
        let kw = parse_keywords("0 $Junk\n1 Work\nbad line\n");
        assert_eq!(kw, [('a', "$Junk".to_owned()), ('b', "Work".to_owned())]);
        let (_, f) = parse_name_with("1700000000.x.host:2,Sbc", &kw);
        assert_eq!(f, ["\\Seen", "Work", "$MaildirKeywordc"]);
    }

    #[test]
    fn message_names() {
        assert!(is_message_name("1700000000.M2P9.host"));
        assert!(is_message_name("1700000000.1234_5.host,U=7:2,S"));
        assert!(is_message_name("anything;2,S"));
        assert!(!is_message_name(".DS_Store"));
        assert!(!is_message_name("README"));
        assert!(!is_message_name("notes.txt"));
    }

    #[test]
    fn plusplus_names() {
        assert_eq!(plusplus_folder(".Sent"), "Sent");
        assert_eq!(plusplus_folder(".Archive.2012"), "Archive/2012");
        assert_eq!(plusplus_folder(".Entw&APw-rfe"), "Entwürfe");
        assert_eq!(plusplus_folder(".Work.&ZeVnLIqe-"), "Work/日本語");
        assert_eq!(plusplus_folder(".Tom &- Jerry"), "Tom & Jerry");
        assert_eq!(plusplus_folder(".bad&%%-"), "bad&%%-");
    }
}
