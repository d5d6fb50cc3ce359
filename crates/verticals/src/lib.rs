//! The registry of verticals. Each vertical is one module that declares, in a [`Def`],
//! its name, its record type and JSON Schema, where a package keeps it, its standard
//! format, and how a `dir:` folder holds it. The package writer and reader, the `dir`
//! connector and the schemas generator go through [`all`] and [`find`]; adding a
//! vertical is adding its module and its line in `REGISTRY` below.
//!
//! The first wave (contacts to files) has readers and writers of its own in the codecs,
//! the `dir` connector and the package, made before this registry and streaming large
//! files; its modules declare no [`Codec`]. A vertical added since brings its [`Codec`]:
//! an item to and from one standard-format file.

pub mod conversations;
mod decimal;
mod def;
mod entities;
pub mod finance;
mod first_wave;
pub mod found;
pub mod health;
mod json_stream;
pub mod notes;
pub mod orders;
pub mod playlists;
pub mod social;
pub mod web;
mod xml;

pub use def::{Codec, Def, DirFile, Frame, ItemFile, Per, StandardForm, Table};

use ferry_core::Vertical;

/// One line per vertical, in the order reports list them.
#[rustfmt::skip]
const REGISTRY: &[Def] = &[
    first_wave::CONTACTS,
    first_wave::CALENDAR,
    first_wave::TASKS,
    first_wave::MAIL,
    first_wave::MEDIA,
    first_wave::FILES,
    notes::DEF,
    social::DEF,
    conversations::DEF,
    playlists::DEF,
    orders::DEF,
    health::DEF,
    finance::DEF,
    web::DEF,
];

static DEFS: [Def; REGISTRY.len()] = copy_defs();
/// Every vertical ferry knows, in registry order.
pub static VERTICALS: [Vertical; REGISTRY.len()] = names();

const fn copy_defs() -> [Def; REGISTRY.len()] {
    let mut out = [REGISTRY[0]; REGISTRY.len()];
    let mut i = 0;
    while i < REGISTRY.len() {
        out[i] = REGISTRY[i];
        i += 1;
    }
    out
}

const fn names() -> [Vertical; REGISTRY.len()] {
    let mut out = [REGISTRY[0].vertical; REGISTRY.len()];
    let mut i = 0;
    while i < REGISTRY.len() {
        out[i] = REGISTRY[i].vertical;
        i += 1;
    }
    out
}

/// What the files a package makes from a vertical's records (its `tables`) cannot hold
/// of one record, by vertical: the package reports them as the item's fidelity warnings.
const TABLE_LOSSES: &[(Vertical, Losses)] =
    &[(conversations::CONVERSATIONS, conversations::table_losses), (social::SOCIAL, social::table_losses)];

type Losses = fn(&ferry_core::Record) -> Vec<String>;

/// What the files a package makes from the records besides their own (a vertical's
/// `tables`: the DTI AI conversation file) cannot hold of this one, as fidelity warnings.
pub fn table_losses(record: &ferry_core::Record) -> Vec<String> {
    let v = record.vertical();
    TABLE_LOSSES.iter().filter(|(t, _)| *t == v).flat_map(|(_, f)| f(record)).collect()
}

/// Every vertical's declaration, in registry order.
pub fn all() -> &'static [Def] {
    &DEFS
}

/// A vertical's declaration; `None` for a name this ferry does not know.
pub fn find(v: Vertical) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.vertical == v)
}

/// A known vertical by name, with a message naming the known ones otherwise.
pub fn parse(name: &str) -> Result<Vertical, String> {
    let v: Vertical = name.parse()?;
    find(v).map(|d| d.vertical).ok_or_else(|| {
        format!("unknown vertical `{name}`; expected one of: {}", VERTICALS.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
    })
}

/// Parses a comma-separated list of known verticals (sorted, without repeats).
pub fn parse_list(s: &str) -> Result<Vec<Vertical>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v = parse(part)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vertical_is_declared_once_with_its_own_paths() {
        let mut names = std::collections::HashSet::new();
        let mut paths = std::collections::HashSet::new();
        for d in all() {
            assert!(names.insert(d.vertical), "{} twice", d.vertical);
            assert!(paths.insert(d.records_path), "{} shares {}", d.vertical, d.records_path);
            assert!(d.records_path.starts_with(&format!("{}/", d.vertical)), "{}", d.records_path);
            assert!((d.schema)().is_object(), "{}", d.vertical);
            assert_eq!(d.vertical.as_str().parse::<Vertical>().unwrap(), d.vertical);
        }
        assert_eq!(VERTICALS.len(), all().len());
    }

    #[test]
    fn unknown_names_are_refused_with_the_known_ones() {
        let e = parse_list("contacts,recipes").unwrap_err();
        assert!(e.contains("recipes") && e.contains("contacts, calendar"), "{e}");
        assert_eq!(parse_list("mail, contacts,mail").unwrap(), vec![Vertical::Contacts, Vertical::Mail]);
    }
}
