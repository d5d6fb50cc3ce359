//! A Google People API `Person` (https://developers.google.com/people/api/rest/v1/people)
//! and ferry's contact, both ways. What the contact model has no field for (events,
//! relations, IM clients, SIP addresses, user-defined fields) goes into the vCard original
//! as standard properties (ANNIVERSARY, RELATED, IMPP) or `X-GOOGLE-*` ones, so that it
//! is not lost; what a Person cannot hold is a fidelity warning on import.

use ferry_core::model::{Address, Contact, ContactName, TypedValue};
use serde_json::{Value, json};

/// The fields asked for on every read.
pub const PERSON_FIELDS: &str = "names,nicknames,emailAddresses,phoneNumbers,addresses,organizations,birthdays,biographies,urls,photos,memberships,events,relations,imClients,userDefined,sipAddresses,clientData,metadata";

/// The fields ferry writes (`updatePersonFields`).
pub const UPDATE_FIELDS: &str =
    "names,nicknames,emailAddresses,phoneNumbers,addresses,organizations,birthdays,biographies,urls,memberships,clientData";

/// The `clientData` key under which ferry keeps an imported item's key.
pub const KEY: &str = "ferry-key";
/// The `clientData` key of the contact's own UID (the vCard's), which the People API has
/// no field for.
pub const UID: &str = "ferry-uid";

fn list<'a>(p: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    p.get(field).and_then(Value::as_array).into_iter().flatten()
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

fn primary(v: &Value) -> bool {
    v.pointer("/metadata/primary").and_then(Value::as_bool).unwrap_or(false)
}

/// Google's type of an email, phone or address as vCard TYPE values.
fn types_from_google(t: &str) -> Vec<String> {
    let t = t.to_ascii_lowercase();
    match t.as_str() {
        "" => vec![],
        "mobile" => vec!["cell".into()],
        "homefax" => vec!["home".into(), "fax".into()],
        "workfax" => vec!["work".into(), "fax".into()],
        "othefax" | "otherfax" => vec!["fax".into()],
        "workmobile" => vec!["work".into(), "cell".into()],
        "main" | "googlevoice" => vec!["voice".into()],
        other => vec![other.to_owned()],
    }
}

/// vCard TYPE values as Google's type (its own words where it has them).
fn type_to_google(types: &[String], phone: bool) -> Option<String> {
    let has = |t: &str| types.iter().any(|x| x.eq_ignore_ascii_case(t));
    let t = if phone && has("fax") && has("home") {
        "homeFax"
    } else if phone && has("fax") && has("work") {
        "workFax"
    } else if phone && has("fax") {
        "otherFax"
    } else if phone && has("cell") && has("work") {
        "workMobile"
    } else if phone && has("cell") {
        "mobile"
    } else if phone && has("pager") {
        "pager"
    } else if has("home") {
        "home"
    } else if has("work") {
        "work"
    } else if has("other") {
        "other"
    } else {
        return None;
    };
    Some(t.to_owned())
}

fn typed(p: &Value, field: &str) -> Vec<TypedValue> {
    list(p, field)
        .filter(|v| !s(v, "value").is_empty())
        .map(|v| TypedValue { value: s(v, "value").to_owned(), types: types_from_google(s(v, "type")), preferred: primary(v) })
        .collect()
}

fn date(d: &Value) -> Option<String> {
    let (y, m, day) =
        (d.get("year").and_then(Value::as_u64), d.get("month").and_then(Value::as_u64)?, d.get("day").and_then(Value::as_u64)?);
    Some(match y {
        Some(y) if y > 0 => format!("{y:04}-{m:02}-{day:02}"),
        _ => format!("--{m:02}-{day:02}"),
    })
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\n', "\\n")
}

/// A Person as a contact, with a vCard 4.0 original that also holds what the contact
/// model has no field for. `groups` names contact groups by resource name.
pub fn contact_from_person(p: &Value, groups: &dyn Fn(&str) -> Option<String>) -> (Contact, String) {
    let name = list(p, "names").find(|n| primary(n)).or_else(|| list(p, "names").next());
    // the UID ferry kept for it, else Google's own name of it
    let kept = list(p, "clientData").find(|d| d["key"] == UID).and_then(|d| d["value"].as_str());
    let uid = kept.unwrap_or(s(p, "resourceName")).to_owned();
    let mut c = Contact { vcard_version: "4.0".into(), uid: Some(uid), ..Default::default() };
    if let Some(n) = name {
        // the name as written (Google computes displayName from the parts, a title too)
        let written = s(n, "unstructuredName");
        c.formatted_name = if written.is_empty() { s(n, "displayName") } else { written }.to_owned();
        c.name = Some(ContactName {
            family: s(n, "familyName").into(),
            given: s(n, "givenName").into(),
            additional: s(n, "middleName").into(),
            prefix: s(n, "honorificPrefix").into(),
            suffix: s(n, "honorificSuffix").into(),
        });
    }
    c.nicknames = list(p, "nicknames").map(|n| s(n, "value").to_owned()).filter(|n| !n.is_empty()).collect();
    c.emails = typed(p, "emailAddresses");
    c.phones = typed(p, "phoneNumbers");
    c.addresses = list(p, "addresses")
        .map(|a| Address {
            types: types_from_google(s(a, "type")),
            po_box: s(a, "poBox").into(),
            extended: s(a, "extendedAddress").into(),
            street: s(a, "streetAddress").into(),
            locality: s(a, "city").into(),
            region: s(a, "region").into(),
            postal_code: s(a, "postalCode").into(),
            country: s(a, "country").into(),
        })
        .collect();
    if let Some(o) = list(p, "organizations").next() {
        c.organization = Some(s(o, "name").to_owned()).filter(|x| !x.is_empty());
        c.title = Some(s(o, "title").to_owned()).filter(|x| !x.is_empty());
    }
    c.birthday =
        list(p, "birthdays").find_map(|b| b.get("date").and_then(date).or_else(|| Some(s(b, "text").to_owned()).filter(|t| !t.is_empty())));
    c.urls = list(p, "urls").map(|u| s(u, "value").to_owned()).filter(|u| !u.is_empty()).collect();
    c.note = list(p, "biographies").map(|b| s(b, "value").to_owned()).find(|b| !b.is_empty());
    c.categories = list(p, "memberships")
        .filter_map(|m| m.pointer("/contactGroupMembership/contactGroupResourceName").and_then(Value::as_str))
        .filter_map(groups)
        .collect();
    if c.formatted_name.is_empty() {
        c.formatted_name = c.emails.first().map(|e| e.value.clone()).or_else(|| c.organization.clone()).unwrap_or_default();
    }
    // what the model has no field for, as vCard properties
    let mut extra = Vec::new();
    for e in list(p, "events") {
        if let Some(d) = e.get("date").and_then(date) {
            match s(e, "type") {
                "anniversary" => extra.push(format!("ANNIVERSARY:{d}")),
                t => extra.push(format!("X-GOOGLE-EVENT;TYPE={}:{d}", esc(if t.is_empty() { "other" } else { t }))),
            }
        }
    }
    for r in list(p, "relations") {
        extra.push(format!(
            "RELATED;TYPE={};VALUE=text:{}",
            esc(if s(r, "type").is_empty() { "contact" } else { s(r, "type") }),
            esc(s(r, "person"))
        ));
    }
    for i in list(p, "imClients") {
        extra.push(format!("IMPP;X-SERVICE-TYPE={}:{}", esc(s(i, "protocol")), esc(s(i, "username"))));
    }
    for sip in list(p, "sipAddresses") {
        extra.push(format!("IMPP;X-SERVICE-TYPE=sip:{}", esc(s(sip, "value"))));
    }
    for u in list(p, "userDefined") {
        extra.push(format!("X-GOOGLE-USERDEFINED;X-KEY={}:{}", esc(s(u, "key")), esc(s(u, "value"))));
    }
    for ph in list(p, "photos").filter(|ph| !ph.get("default").and_then(Value::as_bool).unwrap_or(false)) {
        let url = s(ph, "url");
        extra.push(format!("PHOTO:{url}"));
        // a data URI (the photo fetched): its media type; a link: Google's photos are JPEG
        let media_type = url.strip_prefix("data:").and_then(|d| d.split(';').next()).unwrap_or("image/jpeg");
        c.photo = Some(media_type.to_owned());
    }
    let card = ferry_codecs::vcard::build_v4_with(&mut c, &extra);
    // the record has a field for the photo: it is no property without one
    c.other_properties.retain(|p| p != "PHOTO");
    (c, card)
}

/// A contact as the Person to create or update, and what a Person cannot hold.
/// `group` gives the resource name of a contact group by name.
pub fn person_from_contact(c: &Contact, group: &dyn Fn(&str) -> Option<String>, key: &str) -> (Value, Vec<String>) {
    let mut warnings = Vec::new();
    let mut p = serde_json::Map::new();
    let n = c.name.clone().unwrap_or_default();
    p.insert(
        "names".into(),
        json!([{"unstructuredName": c.formatted_name, "familyName": n.family, "givenName": n.given, "middleName": n.additional,
                "honorificPrefix": n.prefix, "honorificSuffix": n.suffix}]),
    );
    if !c.nicknames.is_empty() {
        p.insert("nicknames".into(), c.nicknames.iter().map(|v| json!({"value": v})).collect());
    }
    let typed_out = |list: &[TypedValue], phone: bool| -> Value {
        list.iter()
            .map(|v| {
                let mut o = json!({"value": v.value});
                if let Some(t) = type_to_google(&v.types, phone) {
                    o["type"] = t.into();
                }
                o
            })
            .collect()
    };
    if !c.emails.is_empty() {
        p.insert("emailAddresses".into(), typed_out(&c.emails, false));
    }
    if !c.phones.is_empty() {
        p.insert("phoneNumbers".into(), typed_out(&c.phones, true));
    }
    if !c.addresses.is_empty() {
        let out: Vec<Value> = c
            .addresses
            .iter()
            .map(|a| {
                let mut o = json!({"poBox": a.po_box, "extendedAddress": a.extended, "streetAddress": a.street, "city": a.locality,
                    "region": a.region, "postalCode": a.postal_code, "country": a.country});
                if let Some(t) = type_to_google(&a.types, false) {
                    o["type"] = t.into();
                }
                o
            })
            .collect();
        p.insert("addresses".into(), out.into());
    }
    if c.organization.is_some() || c.title.is_some() {
        let mut org = serde_json::Map::new();
        for (k, v) in [("name", &c.organization), ("title", &c.title)] {
            if let Some(v) = v {
                org.insert(k.into(), v.clone().into());
            }
        }
        p.insert("organizations".into(), json!([org]));
    }
    if let Some(b) = &c.birthday {
        let parts: Vec<&str> = b.trim_start_matches("--").split('-').collect();
        let num = |s: &str| s.parse::<u32>().ok();
        let d = match (b.starts_with("--"), parts.as_slice()) {
            (true, [m, d]) => num(m).zip(num(d)).map(|(m, d)| json!({"month": m, "day": d})),
            (false, [y, m, d]) => match (num(y), num(m), num(d)) {
                (Some(y), Some(m), Some(d)) => Some(json!({"year": y, "month": m, "day": d})),
                _ => None,
            },
            _ => None,
        };
        match d {
            Some(d) => p.insert("birthdays".into(), json!([{"date": d}])),
            None => p.insert("birthdays".into(), json!([{"text": b}])),
        };
    }
    if !c.urls.is_empty() {
        p.insert("urls".into(), c.urls.iter().map(|u| json!({"value": u})).collect());
    }
    if let Some(note) = &c.note {
        p.insert("biographies".into(), json!([{"value": note, "contentType": "TEXT_PLAIN"}]));
    }
    let memberships: Vec<Value> =
        c.categories.iter().filter_map(|g| group(g)).map(|r| json!({"contactGroupMembership": {"contactGroupResourceName": r}})).collect();
    if !memberships.is_empty() {
        p.insert("memberships".into(), memberships.into());
    }
    let mut data = vec![json!({"key": KEY, "value": key})];
    if let Some(uid) = c.uid.as_deref().filter(|u| !u.is_empty()) {
        data.push(json!({"key": UID, "value": uid}));
    }
    p.insert("clientData".into(), data.into());
    for prop in &c.other_properties {
        warnings.push(format!("{prop}: Google contacts have no place for it"));
    }
    (Value::Object(p), warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_becomes_a_contact_and_keeps_what_the_model_cannot() {
        let p = json!({
            "resourceName": "people/c1", "etag": "e1",
            "names": [{"displayName": "Zoë Ångström", "familyName": "Ångström", "givenName": "Zoë", "metadata": {"primary": true}}],
            "emailAddresses": [{"value": "z@example.org", "type": "home", "metadata": {"primary": true}}, {"value": "w@example.com", "type": "work"}],
            "phoneNumbers": [{"value": "+46 70 1", "type": "mobile"}, {"value": "+46 8 2", "type": "workFax"}],
            "addresses": [{"type": "home", "streetAddress": "Drottninggatan 1", "city": "Stockholm", "postalCode": "111 51", "country": "Sweden"}],
            "birthdays": [{"date": {"month": 2, "day": 29}}],
            "events": [{"date": {"year": 2010, "month": 6, "day": 1}, "type": "anniversary"}],
            "relations": [{"person": "Ada", "type": "spouse"}],
            "userDefined": [{"key": "shoe size", "value": "38"}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/friends"}},
                            {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/myContacts"}}]
        });
        let groups = |r: &str| (r == "contactGroups/friends").then(|| "Friends".to_owned());
        let (c, card) = contact_from_person(&p, &groups);
        assert_eq!(c.formatted_name, "Zoë Ångström");
        assert_eq!(c.emails[0].types, vec!["home"]);
        assert!(c.emails[0].preferred);
        assert_eq!(c.phones[0].types, vec!["cell"]);
        assert_eq!(c.phones[1].types, vec!["work", "fax"]);
        assert_eq!(c.birthday.as_deref(), Some("--02-29"), "a birthday without a year");
        assert_eq!(c.categories, vec!["Friends"], "system groups are not categories");
        for line in ["ANNIVERSARY:2010-06-01", "RELATED;TYPE=spouse;VALUE=text:Ada", "X-GOOGLE-USERDEFINED;X-KEY=shoe size:38"] {
            assert!(card.contains(line), "{line} in {card}");
        }
        assert_eq!(c.other_properties, vec!["ANNIVERSARY", "RELATED", "X-GOOGLE-USERDEFINED"]);
        // and back: the same values, the groups by resource name, the key in clientData
        let (back, warnings) = person_from_contact(&c, &|g| (g == "Friends").then(|| "contactGroups/friends".to_owned()), "k1");
        assert_eq!(back["emailAddresses"][1]["type"], "work");
        assert_eq!(back["phoneNumbers"][0]["type"], "mobile");
        assert_eq!(back["phoneNumbers"][1]["type"], "workFax");
        assert_eq!(back["birthdays"][0]["date"], json!({"month": 2, "day": 29}));
        assert_eq!(back["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"], "contactGroups/friends");
        assert_eq!(back["clientData"][0], json!({"key": KEY, "value": "k1"}));
        assert_eq!(warnings.len(), 3, "each property Google has no place for: {warnings:?}");
    }

    #[test]
    fn a_person_with_nothing_but_an_email_still_has_a_name() {
        let (c, card) = contact_from_person(&json!({"resourceName": "people/c2", "emailAddresses": [{"value": "a@b.c"}]}), &|_| None);
        assert_eq!(c.formatted_name, "a@b.c");
        assert!(card.starts_with("BEGIN:VCARD") && card.trim_end().ends_with("END:VCARD"));
        // a hostile birthday is kept as text, never a panic
        let (c, _) = contact_from_person(&json!({"birthdays": [{"date": {"month": 99, "day": 1e9}}, {"text": "spring"}]}), &|_| None);
        assert!(c.birthday.is_some());
    }
}
