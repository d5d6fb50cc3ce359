//! Folder names both ways: the server's names (with its delimiter) to ferry containers
//! (`/`-separated, special-use folders under their common names) and back.

use super::session::{Live, imap_err};
use async_imap::types::NameAttribute;
use ferry_core::ConnectorError;
use futures::TryStreamExt;

#[derive(Debug, Clone)]
pub struct Folder {
    /// The server's name.
    pub name: String,
    pub delimiter: Option<String>,
    pub special: Option<&'static str>,
    pub selectable: bool,
}

impl Folder {
    /// The container this folder is in ferry: INBOX, a special-use name, or the path
    /// with `/` between levels.
    pub fn container(&self) -> String {
        if self.name.eq_ignore_ascii_case("INBOX") {
            return "INBOX".into();
        }
        if let Some(s) = self.special {
            return s.into();
        }
        match &self.delimiter {
            Some(d) if d != "/" => self.name.replace(d.as_str(), "/"),
            _ => self.name.clone(),
        }
    }
}

fn special(attrs: &[NameAttribute<'_>]) -> Option<&'static str> {
    attrs.iter().find_map(|a| match a {
        NameAttribute::Sent => Some("Sent"),
        NameAttribute::Drafts => Some("Drafts"),
        NameAttribute::Trash => Some("Trash"),
        NameAttribute::Junk => Some("Junk"),
        NameAttribute::Archive => Some("Archive"),
        _ => None,
    })
}

pub async fn list(live: &mut Live) -> Result<Vec<Folder>, ConnectorError> {
    live.allow(super::session::DEFAULT_BUDGET);
    let names: Vec<_> = live
        .session
        .list(Some(""), Some("*"))
        .await
        .map_err(|e| imap_err("listing folders", e))?
        .try_collect()
        .await
        .map_err(|e| imap_err("listing folders", e))?;
    let mut out: Vec<Folder> = names
        .iter()
        .map(|n| Folder {
            name: n.name().to_owned(),
            delimiter: n.delimiter().map(str::to_owned),
            special: special(n.attributes()),
            selectable: !n.attributes().iter().any(|a| matches!(a, NameAttribute::NoSelect)),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The server's folder for a ferry container: a folder with the same special use, or the
/// path with the server's delimiter.
pub fn server_name(container: &str, folders: &[Folder]) -> String {
    if container.is_empty() || container.eq_ignore_ascii_case("INBOX") {
        return "INBOX".into();
    }
    if let Some(f) = folders.iter().find(|f| f.special.is_some_and(|s| s.eq_ignore_ascii_case(container))) {
        return f.name.clone();
    }
    let delim = folders.iter().find_map(|f| f.delimiter.clone()).unwrap_or_else(|| "/".into());
    container.replace('/', &delim)
}
