//! Where things go in a package.

use ferry_core::Vertical;
use ferry_verticals::Per;

/// The canonical records of a vertical, as its module in the registry declares them;
/// empty for a vertical this ferry does not know.
pub fn records_path(v: Vertical) -> &'static str {
    ferry_verticals::find(v).map_or("", |d| d.records_path)
}

/// The contacts CSV (Google Contacts layout).
pub const CONTACTS_CSV: &str = "contacts/contacts.csv";

/// A container name as a relative path whose every segment is safe on every file
/// system: no `..`, no separators or reserved characters, no control characters.
pub fn safe_container(container: &str) -> String {
    let segs: Vec<String> = container.split('/').filter(|s| !s.is_empty()).map(safe_segment).collect();
    if segs.is_empty() { "default".into() } else { segs.join("/") }
}

pub fn safe_segment(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = out.trim_end_matches(['.', ' ']).trim_start();
    out = if trimmed.is_empty() || trimmed == "." || trimmed == ".." { "_".into() } else { trimmed.to_owned() };
    if out.len() > 200 {
        let mut cut = 200;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// Standard-format file of one container, for a vertical whose standard files hold a
/// container each (a vCard address book, an mbox, a framed FHIR Bundle).
pub fn standard_path(v: Vertical, container: &str) -> Option<String> {
    let form = ferry_verticals::find(v)?.standard.filter(|f| matches!(f.per, Per::Container | Per::Framed(_)))?;
    Some(format!("{v}/{}.{}", safe_container(container), form.extension))
}

/// Where an item's attached files go: `VERTICAL/attachments/KEY/NAME`, KEY from the
/// item's id, names made safe and unique within the item.
pub fn attachment_paths(v: Vertical, id: &str, names: &[&str]) -> Vec<String> {
    use sha2::Digest;
    let key = hex::encode(&sha2::Sha256::digest(format!("{v}\0{id}").as_bytes())[..8]);
    let mut used = std::collections::HashSet::new();
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut name = safe_segment(n);
            if !used.insert(name.to_lowercase()) {
                name = format!("{i}-{name}");
                used.insert(name.to_lowercase());
            }
            format!("{v}/attachments/{key}/{name}")
        })
        .collect()
}

/// A checked relative path: `/`-separated, no empty, `.` or `..` segments, not absolute,
/// no backslashes or drive letters.
pub fn check_relative(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Err("absolute path".into());
    }
    if path.contains('\\') {
        return Err("backslash in path".into());
    }
    if path.len() >= 2 && path.as_bytes()[1] == b':' {
        return Err("drive letter in path".into());
    }
    if path.contains('\0') {
        return Err("NUL in path".into());
    }
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(format!("path segment `{seg}` is not allowed"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_made_safe() {
        assert_eq!(safe_container("Work/Projects"), "Work/Projects");
        assert_eq!(safe_container("../../etc"), "_/_/etc");
        assert_eq!(safe_container(""), "default");
        assert_eq!(safe_container("a:b*c"), "a_b_c");
        assert_eq!(safe_segment("Zoë's \u{7}photos"), "Zoë's _photos");
    }

    #[test]
    fn attachment_paths_are_safe_and_unique_per_item() {
        let v = Vertical::new("notes");
        let p = attachment_paths(v, "notes/a.md", &["../../etc/passwd", "a.png", "A.PNG", "a.png", ""]);
        assert_eq!(p.len(), 5);
        assert!(p.iter().all(|p| check_relative(p).is_ok() && p.starts_with("notes/attachments/")), "{p:?}");
        let unique: std::collections::HashSet<String> = p.iter().map(|p| p.to_lowercase()).collect();
        assert_eq!(unique.len(), 5, "{p:?}");
        assert_ne!(attachment_paths(v, "notes/b.md", &["a.png"]), attachment_paths(v, "notes/a.md", &["a.png"]));
    }

    #[test]
    fn relative_paths_are_checked() {
        assert!(check_relative("media/a/b.jpg").is_ok());
        for bad in ["../x", "/etc/passwd", "a/../b", "a//b", "C:/x", "a\\b", ""] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
    }
}
