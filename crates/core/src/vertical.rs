use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// One kind of personal data with one canonical model, by name. What ferry can do with a
/// vertical (its record type, schema, package paths, standard formats, how a folder
/// holds it) is declared by its module in the registry (`ferry-verticals`); here it is a
/// name, cheap to copy and compare. The six of the first wave are constants.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vertical(&'static str);

#[allow(non_upper_case_globals)]
impl Vertical {
    pub const Contacts: Vertical = Vertical("contacts");
    pub const Calendar: Vertical = Vertical("calendar");
    pub const Tasks: Vertical = Vertical("tasks");
    pub const Mail: Vertical = Vertical("mail");
    pub const Media: Vertical = Vertical("media");
    pub const Files: Vertical = Vertical("files");

    /// The first wave, in the order reports list them (later verticals follow, by name).
    pub const FIRST_WAVE: [Vertical; 6] =
        [Vertical::Contacts, Vertical::Calendar, Vertical::Tasks, Vertical::Mail, Vertical::Media, Vertical::Files];

    /// A vertical module's own constant: `pub const NOTES: Vertical = Vertical::new("notes")`.
    /// The name is lowercase ASCII letters, digits and `_`, starting with a letter.
    pub const fn new(name: &'static str) -> Vertical {
        Vertical(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// Parses a comma-separated list such as `contacts,mail` (sorted, without repeats).
    pub fn parse_list(s: &str) -> Result<Vec<Vertical>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let v: Vertical = part.parse()?;
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out.sort();
        Ok(out)
    }

    fn rank(self) -> usize {
        Vertical::FIRST_WAVE.iter().position(|v| *v == self).unwrap_or(usize::MAX)
    }
}

/// Names read from outside (a package, a job store, a command line) are kept once for the
/// life of the process; at most this many different ones, so that hostile input cannot
/// grow it without end.
const MAX_NAMES: usize = 256;
static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

fn intern(name: &str) -> Result<&'static str, String> {
    if let Some(v) = Vertical::FIRST_WAVE.iter().find(|v| v.0 == name) {
        return Ok(v.0);
    }
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(n) = names.get(name) {
        return Ok(n);
    }
    if names.len() >= MAX_NAMES {
        return Err(format!("too many different vertical names; `{name}` is not taken"));
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    Ok(leaked)
}

impl PartialOrd for Vertical {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Vertical {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank(), self.0).cmp(&(other.rank(), other.0))
    }
}

impl fmt::Display for Vertical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Vertical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for Vertical {
    type Err = String;
    /// Any well-formed name: whether ferry knows the vertical is the registry's to say.
    fn from_str(s: &str) -> Result<Self, String> {
        let name = s.trim().to_ascii_lowercase();
        let ok = name.len() <= 32
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(format!("`{s}` is not a vertical name (such as contacts, calendar, tasks, mail, media, files)"));
        }
        intern(&name).map(Vertical)
    }
}

impl Serialize for Vertical {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Vertical {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Vertical {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Vertical".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_order_and_stay_bounded() {
        assert_eq!("Contacts".parse::<Vertical>().unwrap(), Vertical::Contacts);
        let notes: Vertical = "notes".parse().unwrap();
        assert_eq!(notes, Vertical::new("notes"));
        assert!(Vertical::Files < notes && Vertical::Contacts < Vertical::Calendar);
        for bad in ["", "1x", "a-b", "x/../y", &"a".repeat(33)] {
            assert!(bad.parse::<Vertical>().is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&Vertical::Mail).unwrap(), "\"mail\"");
        assert_eq!(serde_json::from_str::<Vertical>("\"tasks\"").unwrap(), Vertical::Tasks);
        // many different names from hostile input: refused past the bound, not kept
        let taken = (0..400).filter(|i| format!("hostile{i}").parse::<Vertical>().is_ok()).count();
        assert!(taken <= MAX_NAMES, "{taken}");
    }
}
