use std::fmt;

/// A connector address: `scheme:rest`, such as `dir:/home/me/export` or
/// `imaps://me@mail.example.org`. A bare path is not an endpoint; callers decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: String,
    /// Everything after `scheme:`.
    pub rest: String,
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = s.split_once(':').ok_or_else(|| {
            format!("`{s}` is not a connector URI; write it as SCHEME:ADDRESS, for example dir:./out or package:export.zip")
        })?;
        if scheme.is_empty()
            || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
            || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return Err(format!("`{s}` does not start with a URI scheme such as dir: or package:"));
        }
        if rest.is_empty() {
            return Err(format!("`{s}` names no address after `{scheme}:`"));
        }
        Ok(Endpoint { scheme: scheme.to_ascii_lowercase(), rest: rest.to_owned() })
    }

    /// For path-like schemes: the path, with an optional `//` prefix removed.
    pub fn path(&self) -> &str {
        self.rest.strip_prefix("//").unwrap_or(&self.rest)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, self.rest)
    }
}
