//! Folder names both ways: the server's names (modified UTF-7, under the personal
//! namespace's prefix, with its delimiter) to ferry containers (decoded, without the
//! prefix, `/`-separated, special-use folders under their common names) and back.

use super::namespace::Namespace;
use super::session::{Live, imap_err};
use async_imap::types::NameAttribute;
use ferry_codecs::mutf7;
use ferry_core::ConnectorError;
use futures::TryStreamExt;

#[derive(Debug, Clone)]
pub struct Folder {
    /// The server's name (modified UTF-7, with the namespace prefix).
    pub name: String,
    pub delimiter: Option<String>,
    pub special: Option<&'static str>,
    pub selectable: bool,
    /// What the folder is in ferry: INBOX, a special-use name, or the path without the
    /// namespace prefix, decoded, with `/` between levels.
    pub container: String,
}

/// The server's folders and its personal namespace.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub folders: Vec<Folder>,
    pub namespace: Namespace,
}

fn is_inbox(name: &str) -> bool {
    name.eq_ignore_ascii_case("INBOX")
}

/// The container of a server folder (see [`Folder::container`]).
fn container(name: &str, delimiter: Option<&str>, special: Option<&'static str>, ns: &Namespace) -> String {
    if is_inbox(name) {
        return "INBOX".into();
    }
    if let Some(s) = special {
        return s.into();
    }
    // `INBOX.Projects` under the prefix `INBOX.` is `Projects`
    let rest = match name.get(..ns.prefix.len()) {
        Some(p) if !ns.prefix.is_empty() && p.eq_ignore_ascii_case(&ns.prefix) && name.len() > p.len() => &name[p.len()..],
        _ => name,
    };
    let parts: Vec<&str> = match delimiter {
        Some(d) if !d.is_empty() => rest.split(d).collect(),
        _ => vec![rest],
    };
    parts.iter().map(|p| mutf7::decode(p).unwrap_or_else(|| p.to_string())).collect::<Vec<_>>().join("/")
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

pub async fn list(live: &mut Live) -> Result<Tree, ConnectorError> {
    live.allow(super::session::DEFAULT_BUDGET);
    let names: Vec<_> = live
        .session
        .list(Some(""), Some("*"))
        .await
        .map_err(|e| imap_err("listing folders", e))?
        .try_collect()
        .await
        .map_err(|e| imap_err("listing folders", e))?;
    let ns = live.namespace.clone();
    let mut out: Vec<Folder> = names
        .iter()
        .map(|n| {
            let special = special(n.attributes());
            Folder {
                name: n.name().to_owned(),
                delimiter: n.delimiter().map(str::to_owned),
                special,
                selectable: !n.attributes().iter().any(|a| matches!(a, NameAttribute::NoSelect)),
                container: container(n.name(), n.delimiter(), special, &ns),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Tree { folders: out, namespace: ns })
}

impl Tree {
    fn delimiter(&self) -> String {
        self.namespace.delimiter.clone().or_else(|| self.folders.iter().find_map(|f| f.delimiter.clone())).unwrap_or_else(|| "/".into())
    }

    /// A fidelity warning when a level of the path holds the server's delimiter, so that
    /// the server makes more levels of it (`v1.2` on a server with `.`).
    pub fn split_warning(&self, container: &str) -> Option<String> {
        let delim = self.delimiter();
        if delim == "/" || !container.split('/').any(|p| p.contains(delim.as_str())) {
            return None;
        }
        Some(format!(
            "folder `{container}` holds the server's hierarchy delimiter `{delim}`: it is stored as nested folders `{}`",
            self.server_name(container)
        ))
    }

    /// The server's folder for a ferry container: a folder with the same special use, or
    /// the path under the namespace prefix, encoded, with the server's delimiter.
    pub fn server_name(&self, container: &str) -> String {
        if container.is_empty() || is_inbox(container) {
            return "INBOX".into();
        }
        if let Some(f) = self.folders.iter().find(|f| f.special.is_some_and(|s| s.eq_ignore_ascii_case(container))) {
            return f.name.clone();
        }
        let delim = self.delimiter();
        let parts: Vec<&str> = container.split('/').collect();
        let path = parts.iter().map(|p| mutf7::encode(p)).collect::<Vec<_>>().join(&delim);
        // a path under INBOX on a server whose prefix is INBOX already has it
        let prefix = &self.namespace.prefix;
        let under_inbox = is_inbox(parts[0]) && prefix.get(..5).is_some_and(is_inbox) && prefix.get(5..) == Some(delim.as_str());
        if prefix.is_empty() || under_inbox { path } else { format!("{prefix}{path}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, delimiter: &str, special: Option<&'static str>, ns: &Namespace) -> Folder {
        let container = container(name, Some(delimiter), special, ns);
        Folder { name: name.into(), delimiter: Some(delimiter.into()), special, selectable: true, container }
    }

    #[test]
    fn dotted_namespace_maps_both_ways() {
        let ns = Namespace { prefix: "INBOX.".into(), delimiter: Some(".".into()) };
        let tree = Tree {
            folders: vec![
                folder("INBOX", ".", None, &ns),
                folder("INBOX.Projects.2025", ".", None, &ns),
                folder("INBOX.Gel&APY-schte Objekte", ".", None, &ns),
                folder("INBOX.Sent Items", ".", Some("Sent"), &ns),
            ],
            namespace: ns,
        };
        let containers: Vec<&str> = tree.folders.iter().map(|f| f.container.as_str()).collect();
        assert_eq!(containers, ["INBOX", "Projects/2025", "Gelöschte Objekte", "Sent"]);
        for f in &tree.folders {
            assert_eq!(tree.server_name(&f.container), f.name, "{}", f.container);
        }
        assert_eq!(tree.server_name("Archive"), "INBOX.Archive");
        assert_eq!(tree.server_name("INBOX/Old"), "INBOX.Old", "INBOX is not put under INBOX twice");
        assert_eq!(tree.server_name("Tom & Jerry/x"), "INBOX.Tom &- Jerry.x");
        assert_eq!(tree.split_warning("Projects/2025"), None);
        let w = tree.split_warning("Releases/v1.2").unwrap();
        assert!(w.contains("`Releases/v1.2`") && w.contains("`INBOX.Releases.v1.2`"), "{w}");
    }

    #[test]
    fn plain_namespace_maps_both_ways() {
        let ns = Namespace { prefix: String::new(), delimiter: Some("/".into()) };
        let tree = Tree { folders: vec![folder("Gel&APY-schte Objekte/2025", "/", None, &ns)], namespace: ns };
        assert_eq!(tree.folders[0].container, "Gelöschte Objekte/2025");
        assert_eq!(tree.server_name("Gelöschte Objekte/2025"), "Gel&APY-schte Objekte/2025");
        assert_eq!(tree.server_name("INBOX/Old"), "INBOX/Old");
        // a name that is not modified UTF-7 is kept as the server spells it
        assert_eq!(container("a&b", Some("/"), None, &tree.namespace), "a&b");
        // without NAMESPACE: the delimiter LIST gave
        let tree = Tree { folders: vec![folder("INBOX", ".", None, &Namespace::default())], namespace: Namespace::default() };
        assert_eq!(tree.server_name("Projects/2025"), "Projects.2025");
    }
}
