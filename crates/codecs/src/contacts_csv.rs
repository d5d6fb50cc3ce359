//! Contacts CSV: read as Google Contacts and Outlook export it; written in Google's
//! layout, which Google Contacts, Outlook and most address books import.

use crate::CodecError;
use ferry_core::model::{Address, Contact, ContactName, TypedValue};
use std::collections::HashMap;
use std::io::{Read, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Google,
    Outlook,
}

/// Which layout a header row is, if any.
pub fn detect(headers: &[String]) -> Option<Layout> {
    let has = |h: &str| headers.iter().any(|x| x == h);
    if has("E-mail 1 - Value") || has("Phone 1 - Value") {
        Some(Layout::Google)
    } else if has("E-mail Address") || (has("First Name") && has("Business Phone")) {
        Some(Layout::Outlook)
    } else {
        None
    }
}

/// One contact per row; a bad row is an error for that row only.
pub struct CsvContactsReader<R: Read> {
    rows: csv::StringRecordsIntoIter<R>,
    index: HashMap<String, usize>,
    layout: Layout,
    row: u64,
}

impl<R: Read> CsvContactsReader<R> {
    pub fn new(input: R) -> Result<Self, CodecError> {
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| CodecError::Syntax { line: 1, reason: format!("cannot read the CSV header: {e}") })?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let layout = detect(&headers).ok_or_else(|| CodecError::Syntax {
            line: 1,
            reason: "the CSV header is neither Google Contacts' nor Outlook's layout".into(),
        })?;
        let index = headers.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
        Ok(CsvContactsReader { rows: r.into_records(), index, layout, row: 1 })
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }
}

/// The values of a Google cell (`a ::: b`).
fn multi(v: &str) -> Vec<String> {
    v.split(":::").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

fn label_types(label: &str) -> (Vec<String>, bool) {
    let mut pref = false;
    let types = label
        .split(":::")
        .map(|s| s.trim().trim_start_matches("* ").to_ascii_lowercase())
        .filter(|s| {
            if s == "* " || s == "*" {
                pref = true;
                return false;
            }
            !s.is_empty()
        })
        .map(|s| if s == "mobile" { "cell".to_owned() } else { s })
        .collect();
    if label.starts_with('*') {
        pref = true;
    }
    (types, pref)
}

impl<R: Read> Iterator for CsvContactsReader<R> {
    type Item = (u64, Result<Contact, CodecError>);

    fn next(&mut self) -> Option<Self::Item> {
        let rec = self.rows.next()?;
        self.row += 1;
        let line = rec.as_ref().ok().and_then(|r| r.position()).map(|p| p.line()).unwrap_or(self.row);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => return Some((line, Err(CodecError::Syntax { line, reason: format!("bad CSV row: {e}") }))),
        };
        let get = |h: &str| -> String { self.index.get(h).and_then(|i| rec.get(*i)).map(|s| s.trim().to_owned()).unwrap_or_default() };
        let c = match self.layout {
            Layout::Google => google_row(&get),
            Layout::Outlook => outlook_row(&get),
        };
        if c.formatted_name.is_empty() && c.emails.is_empty() && c.phones.is_empty() {
            return Some((line, Err(CodecError::Syntax { line, reason: "row has no name, e-mail or phone".into() })));
        }
        Some((line, Ok(c)))
    }
}

fn join_name(parts: &[&str]) -> String {
    parts.iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" ")
}

fn google_row(get: &dyn Fn(&str) -> String) -> Contact {
    // the 2023 layout says "First Name"; the older one "Given Name" and "Name"
    let given = [get("First Name"), get("Given Name")].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
    let family = [get("Last Name"), get("Family Name")].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
    let additional = [get("Middle Name"), get("Additional Name")].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
    let prefix = [get("Name Prefix")].into_iter().next().unwrap_or_default();
    let suffix = get("Name Suffix");
    let mut c = Contact { vcard_version: "4.0".into(), ..Default::default() };
    c.formatted_name = {
        let n = get("Name");
        if n.is_empty() { join_name(&[&prefix, &given, &additional, &family, &suffix]) } else { n }
    };
    if !(given.is_empty() && family.is_empty()) {
        c.name = Some(ContactName { family, given, additional, prefix, suffix });
    }
    c.nicknames = multi(&get("Nickname"));
    for i in 1..=10 {
        for (kind, list) in [("E-mail", &mut c.emails), ("Phone", &mut c.phones)] {
            let values = multi(&get(&format!("{kind} {i} - Value")));
            let label = [get(&format!("{kind} {i} - Label")), get(&format!("{kind} {i} - Type"))].join("");
            let (types, pref) = label_types(&label);
            for v in values {
                list.push(TypedValue { value: v, types: types.clone(), preferred: pref });
            }
        }
        let street = get(&format!("Address {i} - Street"));
        let city = get(&format!("Address {i} - City"));
        let formatted = get(&format!("Address {i} - Formatted"));
        if !street.is_empty() || !city.is_empty() || !formatted.is_empty() {
            let label = [get(&format!("Address {i} - Label")), get(&format!("Address {i} - Type"))].join("");
            c.addresses.push(Address {
                types: label_types(&label).0,
                po_box: get(&format!("Address {i} - PO Box")),
                extended: get(&format!("Address {i} - Extended Address")),
                street: if street.is_empty() { formatted } else { street },
                locality: city,
                region: get(&format!("Address {i} - Region")),
                postal_code: get(&format!("Address {i} - Postal Code")),
                country: get(&format!("Address {i} - Country")),
            });
        }
        let site = get(&format!("Website {i} - Value"));
        c.urls.extend(multi(&site));
    }
    let org = [get("Organization Name"), get("Organization 1 - Name")].into_iter().find(|s| !s.is_empty());
    c.organization = org;
    c.title = [get("Organization Title"), get("Organization 1 - Title")].into_iter().find(|s| !s.is_empty());
    c.birthday = Some(get("Birthday")).filter(|s| !s.is_empty());
    c.note = Some(get("Notes")).filter(|s| !s.is_empty());
    let labels = [get("Labels"), get("Group Membership")].join(":::");
    // Google's system group: "* myContacts" in the current layout, "* My Contacts" in the old one
    c.categories = multi(&labels)
        .into_iter()
        .map(|l| l.trim_start_matches("* ").to_owned())
        .filter(|l| !l.eq_ignore_ascii_case("myContacts") && !l.eq_ignore_ascii_case("My Contacts"))
        .collect();
    if c.formatted_name.is_empty() {
        c.formatted_name = c.organization.clone().or_else(|| c.emails.first().map(|e| e.value.clone())).unwrap_or_default();
    }
    c
}

fn outlook_row(get: &dyn Fn(&str) -> String) -> Contact {
    let mut c = Contact { vcard_version: "4.0".into(), ..Default::default() };
    let (given, family, additional) = (get("First Name"), get("Last Name"), get("Middle Name"));
    let (prefix, suffix) = (get("Title"), get("Suffix"));
    c.formatted_name = join_name(&[&prefix, &given, &additional, &family, &suffix]);
    if !(given.is_empty() && family.is_empty()) {
        c.name = Some(ContactName { family, given, additional, prefix, suffix });
    }
    c.nicknames = Some(get("Nickname")).filter(|s| !s.is_empty()).into_iter().collect();
    for h in ["E-mail Address", "E-mail 2 Address", "E-mail 3 Address"] {
        let v = get(h);
        if !v.is_empty() {
            c.emails.push(TypedValue { value: v, types: vec![], preferred: h == "E-mail Address" });
        }
    }
    for (h, t) in [
        ("Mobile Phone", "cell"),
        ("Home Phone", "home"),
        ("Home Phone 2", "home"),
        ("Business Phone", "work"),
        ("Business Phone 2", "work"),
        ("Other Phone", "other"),
        ("Business Fax", "fax"),
    ] {
        let v = get(h);
        if !v.is_empty() {
            c.phones.push(TypedValue { value: v, types: vec![t.into()], preferred: false });
        }
    }
    for (prefix, t) in [("Business", "work"), ("Home", "home"), ("Other", "other")] {
        let street = get(&format!("{prefix} Street"));
        let city = get(&format!("{prefix} City"));
        if !street.is_empty() || !city.is_empty() {
            c.addresses.push(Address {
                types: vec![t.into()],
                street,
                locality: city,
                region: get(&format!("{prefix} State")),
                postal_code: get(&format!("{prefix} Postal Code")),
                country: get(&format!("{prefix} Country/Region")),
                ..Default::default()
            });
        }
    }
    c.organization = Some(get("Company")).filter(|s| !s.is_empty());
    c.title = Some(get("Job Title")).filter(|s| !s.is_empty());
    c.birthday = Some(get("Birthday")).filter(|s| !s.is_empty() && s != "0/0/00");
    c.note = Some(get("Notes")).filter(|s| !s.is_empty());
    c.urls = Some(get("Web Page")).filter(|s| !s.is_empty()).into_iter().collect();
    c.categories = get("Categories").split(';').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    if c.formatted_name.is_empty() {
        c.formatted_name = c.organization.clone().or_else(|| c.emails.first().map(|e| e.value.clone())).unwrap_or_default();
    }
    c
}

/// Columns of the CSV ferry writes (Google Contacts' layout, three values of each kind).
pub fn google_headers() -> Vec<String> {
    let mut h: Vec<String> = [
        "First Name",
        "Middle Name",
        "Last Name",
        "Name Prefix",
        "Name Suffix",
        "Nickname",
        "Organization Name",
        "Organization Title",
        "Birthday",
        "Notes",
        "Labels",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 1..=3 {
        for k in ["E-mail", "Phone"] {
            h.push(format!("{k} {i} - Label"));
            h.push(format!("{k} {i} - Value"));
        }
        for f in ["Label", "Street", "City", "PO Box", "Region", "Postal Code", "Country", "Extended Address"] {
            h.push(format!("Address {i} - {f}"));
        }
        h.push(format!("Website {i} - Value"));
    }
    h.push("Name".into());
    h.push("Address Book".into());
    h
}

/// Writes contacts as Google Contacts CSV. Values beyond the third of a kind go into the
/// third cell joined with ` ::: `, as Google does.
pub struct CsvContactsWriter<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvContactsWriter<W> {
    pub fn new(out: W) -> Result<Self, CodecError> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(google_headers()).map_err(csv_err)?;
        Ok(CsvContactsWriter { w })
    }

    pub fn write(&mut self, c: &Contact, address_book: &str) -> Result<(), CodecError> {
        self.w.write_record(row(c, address_book)).map_err(csv_err)
    }

    pub fn finish(self) -> Result<W, CodecError> {
        self.w.into_inner().map_err(|e| CodecError::Io(e.into_error()))
    }
}

/// One contact's row as [`CsvContactsWriter::write`] writes it (the bytes of one record,
/// line end included): rows made apart (when each contact is staged) and written one after
/// the other after [`header_bytes`] make the same file as the writer.
pub fn row_bytes(c: &Contact, address_book: &str) -> Result<Vec<u8>, CodecError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(row(c, address_book)).map_err(csv_err)?;
    w.into_inner().map_err(|e| CodecError::Io(e.into_error()))
}

/// The header line, as [`CsvContactsWriter::new`] writes it.
pub fn header_bytes() -> Result<Vec<u8>, CodecError> {
    CsvContactsWriter::new(Vec::new())?.finish()
}

/// A contact's cells, in the order of [`google_headers`].
fn row(c: &Contact, address_book: &str) -> Vec<String> {
    let n = c.name.clone().unwrap_or_default();
    let mut row: Vec<String> = vec![
        n.given,
        n.additional,
        n.family,
        n.prefix,
        n.suffix,
        c.nicknames.join(" ::: "),
        c.organization.clone().unwrap_or_default(),
        c.title.clone().unwrap_or_default(),
        c.birthday.clone().unwrap_or_default(),
        c.note.clone().unwrap_or_default(),
        c.categories.join(" ::: "),
    ];
    let label = |v: &TypedValue| {
        let t = v.types.iter().map(|t| if t == "cell" { "Mobile".to_owned() } else { capitalize(t) }).collect::<Vec<_>>().join(" ::: ");
        if v.preferred { format!("* {t}") } else { t }
    };
    for i in 0..3 {
        for list in [&c.emails, &c.phones] {
            let (l, v) = slot(list, i, |x| (label(x), x.value.clone()));
            row.push(l);
            row.push(v);
        }
        match c.addresses.get(i) {
            Some(a) => row.extend([
                a.types.iter().map(|t| capitalize(t)).collect::<Vec<_>>().join(" ::: "),
                a.street.clone(),
                a.locality.clone(),
                a.po_box.clone(),
                a.region.clone(),
                a.postal_code.clone(),
                a.country.clone(),
                a.extended.clone(),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 8)),
        }
        row.push(if i == 2 {
            c.urls.iter().skip(2).cloned().collect::<Vec<_>>().join(" ::: ")
        } else {
            c.urls.get(i).cloned().unwrap_or_default()
        });
    }
    row.push(c.formatted_name.clone());
    row.push(address_book.to_owned());
    row
}

/// The i-th of a list for a CSV cell; the last slot takes the rest.
fn slot<T>(list: &[T], i: usize, f: impl Fn(&T) -> (String, String)) -> (String, String) {
    if i < 2 {
        return list.get(i).map(&f).unwrap_or_default();
    }
    let rest: Vec<(String, String)> = list.iter().skip(2).map(f).collect();
    if rest.is_empty() {
        return Default::default();
    }
    (rest[0].0.clone(), rest.iter().map(|r| r.1.clone()).collect::<Vec<_>>().join(" ::: "))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn csv_err(e: csv::Error) -> CodecError {
    CodecError::Io(std::io::Error::other(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_google_csv() {
        let data = "First Name,Middle Name,Last Name,Nickname,Birthday,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,Organization Name,Organization Title\n\
Ada,,Lovelace,,1815-12-10,\"Likes, commas\",* myContacts ::: Friends,* Home,ada@example.org,Work,ada@work.example,Mobile,+44 \
    1 ::: +44 2,Analytical Engines,Countess\n";
        let rows: Vec<_> = CsvContactsReader::new(data.as_bytes()).unwrap().collect();
        let c = rows[0].1.as_ref().unwrap();
        assert_eq!(c.formatted_name, "Ada Lovelace");
        assert_eq!(c.emails.len(), 2);
        assert!(c.emails[0].preferred);
        assert_eq!(c.phones.len(), 2);
        assert_eq!(c.phones[0].types, ["cell"]);
        assert_eq!(c.categories, ["Friends"]);
        assert_eq!(c.note.as_deref(), Some("Likes, commas"));
    }

    #[test]
    fn reads_outlook_csv() {
        let data = "\u{feff}First Name,Middle Name,Last Name,Title,Suffix,E-mail Address,Business Phone,Mobile \
            Phone,Company,Job Title,Business Street,Business City,Categories\nGrace,,Hopper,Rear Admiral,,grace@navy.example,+1 \
            555,+1 556,US Navy,Computer Scientist,1 Pentagon,Arlington,Navy;Pioneers\n";
        let mut r = CsvContactsReader::new(data.as_bytes()).unwrap();
        assert_eq!(r.layout(), Layout::Outlook);
        let c = r.next().unwrap().1.unwrap();
        assert_eq!(c.formatted_name, "Rear Admiral Grace Hopper");
        assert_eq!(c.phones.len(), 2);
        assert_eq!(c.addresses[0].locality, "Arlington");
        assert_eq!(c.categories, ["Navy", "Pioneers"]);
    }

    #[test]
    fn written_csv_reads_back() {
        let c = Contact {
            formatted_name: "Zoë Müller".into(),
            name: Some(ContactName { given: "Zoë".into(), family: "Müller".into(), ..Default::default() }),
            emails: (0..4).map(|i| TypedValue { value: format!("z{i}@x"), types: vec!["home".into()], preferred: i == 0 }).collect(),
            phones: vec![TypedValue { value: "+49 1".into(), types: vec!["cell".into()], preferred: false }],
            organization: Some("ACME, Inc.".into()),
            note: Some("line 1\nline 2".into()),
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        let mut w = CsvContactsWriter::new(Vec::new()).unwrap();
        w.write(&c, "family").unwrap();
        let out = w.finish().unwrap();
        let back = CsvContactsReader::new(&out[..]).unwrap().next().unwrap().1.unwrap();
        assert_eq!(back.formatted_name, c.formatted_name);
        assert_eq!(back.emails.iter().map(|e| &e.value).collect::<Vec<_>>(), c.emails.iter().map(|e| &e.value).collect::<Vec<_>>());
        assert_eq!(back.phones[0].types, ["cell"]);
        assert_eq!(back.note, c.note);
        assert_eq!(back.organization, c.organization);
    }

    #[test]
    fn unknown_layout_is_an_error() {
        assert!(CsvContactsReader::new("a,b\n1,2\n".as_bytes()).is_err());
    }
}
