use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One kind of personal data with one canonical model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Vertical {
    Contacts,
    Calendar,
    Tasks,
    Mail,
    Media,
    Files,
}

impl Vertical {
    pub const ALL: [Vertical; 6] =
        [Vertical::Contacts, Vertical::Calendar, Vertical::Tasks, Vertical::Mail, Vertical::Media, Vertical::Files];

    pub fn as_str(self) -> &'static str {
        match self {
            Vertical::Contacts => "contacts",
            Vertical::Calendar => "calendar",
            Vertical::Tasks => "tasks",
            Vertical::Mail => "mail",
            Vertical::Media => "media",
            Vertical::Files => "files",
        }
    }

    /// Parses a comma-separated list such as `contacts,mail`.
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
}

impl fmt::Display for Vertical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vertical {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Vertical::ALL
            .into_iter()
            .find(|v| v.as_str() == s.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown vertical `{s}`; expected one of: contacts, calendar, tasks, mail, media, files"))
    }
}
