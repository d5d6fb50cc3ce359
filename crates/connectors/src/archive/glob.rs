//! The file patterns of the layout tables: `/`-separated segments, `**` for any number of
//! folders, `*` and `?` within a segment, `{a,b,c}` for alternatives (a localized folder
//! name: `{Contacts,Kontakte,Contactos}`). ASCII letters match in either case.

/// A pattern made ready once, to match many paths: its segments with their
/// alternatives spelled out.
pub struct Glob {
    segs: Vec<Seg>,
}

enum Seg {
    /// `**`: any number of folders.
    Any,
    /// One name, matching any of these wildcard patterns.
    One(Vec<Vec<u8>>),
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let segs = pattern
            .split('/')
            .map(|s| if s == "**" { Seg::Any } else { Seg::One(expand(s).into_iter().map(String::into_bytes).collect()) })
            .collect();
        Glob { segs }
    }

    pub fn matches(&self, path: &str) -> bool {
        let names: Vec<&[u8]> = path.split('/').map(str::as_bytes).collect();
        match_segments(&self.segs, &names)
    }
}

/// A segment's alternatives: `a{b,c}d{e,}` is `abde`, `abd`, `acde`, `acd`.
fn expand(segment: &str) -> Vec<String> {
    if let Some(open) = segment.find('{')
        && let Some(len) = segment[open..].find('}')
    {
        let (before, after) = (&segment[..open], &segment[open + len + 1..]);
        return segment[open + 1..open + len].split(',').flat_map(|alt| expand(&format!("{before}{alt}{after}"))).collect();
    }
    vec![segment.to_owned()]
}

fn match_segments(pat: &[Seg], names: &[&[u8]]) -> bool {
    match pat.split_first() {
        None => names.is_empty(),
        Some((Seg::Any, rest)) => (0..=names.len()).any(|i| match_segments(rest, &names[i..])),
        Some((Seg::One(alts), rest)) => {
            names.split_first().is_some_and(|(n, nrest)| alts.iter().any(|a| wild(a, n)) && match_segments(rest, nrest))
        }
    }
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
    use super::Glob;

    fn matches(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).matches(path)
    }

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
