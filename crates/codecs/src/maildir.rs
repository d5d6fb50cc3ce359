//! Maildir: flags in file names (`:2,FRS`), messages one per file in `cur/` and `new/`.

/// Maildir flag letters and the IMAP flags they mean.
const FLAGS: [(char, &str); 6] =
    [('D', "\\Draft"), ('F', "\\Flagged"), ('P', "$Forwarded"), ('R', "\\Answered"), ('S', "\\Seen"), ('T', "\\Deleted")];

/// Splits a maildir file name into its unique part and its flags.
pub fn parse_name(name: &str) -> (&str, Vec<String>) {
    match name.rsplit_once(":2,").or_else(|| name.rsplit_once("!2,")) {
        Some((unique, letters)) => {
            let flags = FLAGS.iter().filter(|(c, _)| letters.contains(*c)).map(|(_, f)| (*f).to_owned()).collect();
            (unique, flags)
        }
        None => (name, Vec::new()),
    }
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

/// Whether a folder name is a maildir (it has `cur`, `new` and `tmp`).
pub fn is_maildir(path: &std::path::Path) -> bool {
    ["cur", "new", "tmp"].iter().all(|d| path.join(d).is_dir())
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
}
