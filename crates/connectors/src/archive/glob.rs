//! The file patterns of the layout tables: `/`-separated segments, `**` for any number of
//! folders, `*` and `?` within a segment, `{a,b,c}` for alternatives (a localized folder
//! name: `{Contacts,Kontakte,Contactos}`). ASCII letters match in either case.

/// Whether `path` matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|i| match_segments(rest, &segs[i..])),
        Some((p, rest)) => segs.split_first().is_some_and(|(s, srest)| segment(p, s) && match_segments(rest, srest)),
    }
}

/// One segment against one name, alternatives expanded.
fn segment(pattern: &str, name: &str) -> bool {
    if let Some(open) = pattern.find('{')
        && let Some(len) = pattern[open..].find('}')
    {
        let (before, after) = (&pattern[..open], &pattern[open + len + 1..]);
        return pattern[open + 1..open + len].split(',').any(|alt| segment(&format!("{before}{alt}{after}"), name));
    }
    wild(pattern.as_bytes(), name.as_bytes())
}

fn wild(p: &[u8], s: &[u8]) -> bool {
    // iterative match with one backtrack point for the last `*`
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&s[si])) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_as_the_tables_mean_them() {
        assert!(matches("Takeout/{Contacts,Kontakte}/**/*.vcf", "Takeout/Kontakte/Familie/Familie.vcf"));
        assert!(matches("Takeout/{Contacts,Kontakte}/**/*.vcf", "Takeout/Contacts/All Contacts.VCF"));
        assert!(!matches("Takeout/{Contacts,Kontakte}/**/*.vcf", "Takeout/Drive/x.vcf"));
        assert!(matches("data/tweets*.js", "data/tweets-part1.js"));
        assert!(matches("data/tweet?.js", "data/tweets.js"));
        assert!(!matches("data/*.js", "data/sub/x.js"));
        assert!(matches("**", "a/b/c"));
        assert!(matches("**/conversations.json", "conversations.json"));
        assert!(matches("*", "a"));
        assert!(!matches("*", "a/b"));
        // a pathological pattern stays linear enough
        let long = "a".repeat(200);
        assert!(!matches("*a*a*a*a*a*a*a*b", &long));
    }
}
