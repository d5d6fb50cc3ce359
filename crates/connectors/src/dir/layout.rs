//! How files in a folder map to verticals and containers, both ways.

use ferry_core::Vertical;
use std::path::Path;

/// The vertical a file belongs to, from its name (and, for mbox files without an
/// extension or CSV files, the first bytes, given as `head`).
pub fn classify(name: &str, head: &[u8]) -> Vertical {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "vcf" | "vcard" => Vertical::Contacts,
        "ics" | "ical" | "ifb" => Vertical::Calendar,
        "mbox" | "mbx" | "eml" => Vertical::Mail,
        "csv" if is_contacts_csv(head) => Vertical::Contacts,
        _ if ferry_codecs::media::media_type(name).is_some() => Vertical::Media,
        "" if head.starts_with(b"From ") => Vertical::Mail,
        _ => Vertical::Files,
    }
}

/// Whether classifying `name` needs its first bytes.
pub fn needs_head(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".csv") || !lower.contains('.')
}

fn is_contacts_csv(head: &[u8]) -> bool {
    let first = head.split(|b| *b == b'\n').next().unwrap_or(b"");
    let text = String::from_utf8_lossy(first);
    let headers: Vec<String> = text.split(',').map(|h| h.trim().trim_matches('"').trim_start_matches('\u{feff}').to_owned()).collect();
    ferry_codecs::contacts_csv::detect(&headers).is_some()
}

/// Relative directory of a file as container segments, without a leading folder named
/// after the vertical (`contacts/family` -> `family`).
pub fn container_dirs(rel: &Path, v: Vertical) -> Vec<String> {
    let mut segs: Vec<String> = rel.parent().map(|p| p.iter().map(|s| s.to_string_lossy().into_owned()).collect()).unwrap_or_default();
    let folder = v.as_str();
    if segs.first().is_some_and(|s| {
        s.eq_ignore_ascii_case(folder)
            || (v == Vertical::Tasks && s.eq_ignore_ascii_case("calendar"))
            || (v == Vertical::Calendar && s.eq_ignore_ascii_case("tasks"))
    }) {
        segs.remove(0);
    }
    segs
}

/// Container of a file that holds a whole collection (a `.vcf` with many cards, an
/// `.ics`, an mbox): its directory, or its own name when it sits at the top.
pub fn collection_container(rel: &Path, v: Vertical) -> String {
    let dirs = container_dirs(rel, v);
    let stem = rel.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if v == Vertical::Mail {
        // an mbox file is itself a folder; Thunderbird keeps subfolders in `X.sbd/`
        let mut segs: Vec<String> = dirs.into_iter().map(|d| d.strip_suffix(".sbd").map(str::to_owned).unwrap_or(d)).collect();
        segs.push(stem);
        return segs.join("/");
    }
    if dirs.is_empty() { stem } else { dirs.join("/") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_name_and_head() {
        assert_eq!(classify("a.VCF", b""), Vertical::Contacts);
        assert_eq!(classify("cal.ics", b""), Vertical::Calendar);
        assert_eq!(classify("Inbox", b"From a@b Mon Jan  6 09:00:00 2025\n"), Vertical::Mail);
        assert_eq!(classify("Inbox", b"hello"), Vertical::Files);
        assert_eq!(classify("c.csv", b"First Name,Last Name,E-mail 1 - Value\n"), Vertical::Contacts);
        assert_eq!(classify("summary.csv", b"year,total\n"), Vertical::Files);
        assert_eq!(classify("IMG.JPG", b""), Vertical::Media);
        assert_eq!(classify("notes.txt", b""), Vertical::Files);
    }

    #[test]
    fn containers() {
        assert_eq!(collection_container(Path::new("contacts/family.vcf"), Vertical::Contacts), "family");
        assert_eq!(collection_container(Path::new("contacts/family/abc.vcf"), Vertical::Contacts), "family");
        assert_eq!(collection_container(Path::new("mail/INBOX.mbox"), Vertical::Mail), "INBOX");
        assert_eq!(collection_container(Path::new("mail/Work.sbd/Projects"), Vertical::Mail), "Work/Projects");
        assert_eq!(collection_container(Path::new("calendar/personal.ics"), Vertical::Tasks), "personal");
        assert_eq!(container_dirs(Path::new("media/Holidays 2025/a.jpg"), Vertical::Media), ["Holidays 2025"]);
    }
}
