//! A Google People API `Person` (https://developers.google.com/people/api/rest/v1/people)
//! and ferry's contact, both ways. What the contact model has no field for goes into the
//! vCard original as standard properties where vCard has them (ORG's unit for the
//! department, ROLE, ANNIVERSARY, RELATED, IMPP, CALURI, GENDER, LANG, INTEREST,
//! EXPERTISE, PRONOUNS) and as Apple's `X-PHONETIC-*` or `X-GOOGLE-*` ones where it does
//! not, so that it is not lost and is written back from there; what a Person read has
//! beyond that is a source warning, what it cannot hold a fidelity warning on import.

use ferry_codecs::vcard::Property;
use ferry_core::model::{Address, Contact, ContactName, TypedValue};
use serde_json::{Value, json};
use std::collections::HashSet;

/// The fields asked for on every read.
pub const PERSON_FIELDS: &str = "names,nicknames,emailAddresses,phoneNumbers,addresses,organizations,birthdays,biographies,urls,photos,memberships,events,relations,imClients,userDefined,sipAddresses,occupations,locations,externalIds,calendarUrls,miscKeywords,genders,interests,skills,locales,clientData,metadata";

/// The fields ferry writes (`updatePersonFields`).
pub const UPDATE_FIELDS: &str = "names,nicknames,emailAddresses,phoneNumbers,addresses,organizations,birthdays,biographies,urls,memberships,events,relations,imClients,userDefined,sipAddresses,occupations,locations,externalIds,calendarUrls,miscKeywords,genders,interests,locales,clientData";

/// A name's phonetic parts and the properties they are kept as (Apple's names).
const PHONETIC: [(&str, &str); 3] = [
    ("phoneticGivenName", "X-PHONETIC-FIRST-NAME"),
    ("phoneticFamilyName", "X-PHONETIC-LAST-NAME"),
    ("phoneticMiddleName", "X-PHONETIC-MIDDLE-NAME"),
];

/// Fields whose entries are a value and a type, and the property each is kept as
/// (`PROP;TYPE=type:value`): the vCard ones (RFC 6350, RFC 6715) where there is one.
const TYPED_PROPS: [(&str, &str, &str); 7] = [
    ("occupations", "value", "ROLE"),
    ("interests", "value", "INTEREST"),
    ("locales", "value", "LANG"),
    ("calendarUrls", "url", "CALURI"),
    ("externalIds", "value", "X-GOOGLE-EXTERNAL-ID"),
    ("miscKeywords", "value", "X-GOOGLE-KEYWORD"),
    ("locations", "value", "X-GOOGLE-LOCATION"),
];

/// An organization's fields with no place in a vCard.
const ORG_UNCARRIED: [&str; 8] =
    ["jobDescription", "symbol", "domain", "location", "costCenter", "startDate", "endDate", "fullTimeEquivalentMillipercent"];

/// A location's fields with no place in a vCard.
const LOCATION_UNCARRIED: [&str; 4] = ["buildingId", "floor", "floorSection", "deskCode"];

/// IM protocols as Google names them, by URI scheme.
const IM_SCHEMES: [(&str, &str); 8] = [
    ("xmpp", "jabber"),
    ("aim", "aim"),
    ("skype", "skype"),
    ("msnim", "msn"),
    ("ymsgr", "yahoo"),
    ("icq", "icq"),
    ("gtalk", "googleTalk"),
    ("qq", "qq"),
];

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
/// model has no field for, and what neither holds (source warnings, each naming the
/// field). `groups` names contact groups by resource name.
pub fn contact_from_person(p: &Value, groups: &dyn Fn(&str) -> Option<String>) -> (Contact, String, Vec<String>) {
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
    let mut not_carried = Vec::new();
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
    let ty = |v: &Value| if s(v, "type").is_empty() { String::new() } else { format!(";TYPE={}", param(s(v, "type"))) };
    if let Some(n) = name {
        for (field, prop) in PHONETIC {
            if !s(n, field).is_empty() {
                extra.push(format!("{prop}:{}", esc(s(n, field))));
            }
        }
        for field in ["phoneticHonorificPrefix", "phoneticHonorificSuffix"] {
            if !s(n, field).is_empty() {
                not_carried.push(format!("names.{field}: the phonetic {} is not carried", s(n, field)));
            }
        }
    }
    // each organization: its name and department as ORG, its title as TITLE; the second
    // and later in groups of their own (`org2.ORG`, `org2.TITLE`)
    let orgs: Vec<&Value> = list(p, "organizations").collect();
    let plain = orgs.len() == 1 && s(orgs[0], "department").is_empty();
    for (i, o) in orgs.iter().enumerate() {
        let group = if i == 0 { String::new() } else { format!("org{}.", i + 1) };
        if !plain {
            extra.push(format!("{group}ORG:{};{}", esc(s(o, "name")), esc(s(o, "department"))));
        }
        if i > 0 && !s(o, "title").is_empty() {
            extra.push(format!("{group}TITLE:{}", esc(s(o, "title"))));
        }
        if i == 0 && !s(o, "phoneticName").is_empty() {
            extra.push(format!("X-PHONETIC-ORG:{}", esc(s(o, "phoneticName"))));
        }
        for field in ORG_UNCARRIED {
            if o.get(field).is_some_and(|v| !v.is_null() && *v != "") {
                not_carried.push(format!("organizations.{field}: the {field} of {} is not carried", s(o, "name")));
            }
        }
    }
    for (field, key, prop) in TYPED_PROPS {
        for v in list(p, field).filter(|v| !s(v, key).is_empty()) {
            extra.push(format!("{prop}{}:{}", ty(v), esc(s(v, key))));
            if field == "locations" {
                for more in LOCATION_UNCARRIED.iter().filter(|f| !s(v, f).is_empty()) {
                    not_carried.push(format!("locations.{more}: the {more} of {} is not carried", s(v, key)));
                }
            }
        }
    }
    for v in list(p, "skills").filter(|v| !s(v, "value").is_empty()) {
        extra.push(format!("EXPERTISE:{}", esc(s(v, "value"))));
    }
    if let Some(g) = list(p, "genders").next() {
        let sex = match s(g, "value").to_ascii_lowercase().as_str() {
            "male" => "M".to_owned(),
            "female" => "F".to_owned(),
            "unspecified" => "U".to_owned(),
            "" => String::new(),
            _ => format!("O;{}", esc(s(g, "value"))),
        };
        if !sex.is_empty() {
            extra.push(format!("GENDER:{sex}"));
        }
        if !s(g, "addressMeAs").is_empty() {
            extra.push(format!("PRONOUNS:{}", esc(s(g, "addressMeAs"))));
        }
    }
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
        extra.push(format!("IMPP{};X-SERVICE-TYPE={}:{}", ty(i), param(s(i, "protocol")), esc(s(i, "username"))));
    }
    for sip in list(p, "sipAddresses") {
        extra.push(format!("IMPP{};X-SERVICE-TYPE=sip:{}", ty(sip), esc(s(sip, "value"))));
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
    (c, card, not_carried)
}

/// A parameter value, quoted when it holds what ends one.
fn param(v: &str) -> String {
    let v = v.replace('"', "'");
    if v.contains([':', ';', ',']) { format!("\"{v}\"") } else { v }
}

/// A date of a vCard (`2010-06-01`, `20100601`, `--0601`, `--06-01`) as Google's date.
fn date_to_google(d: &str) -> Option<Value> {
    let digits: String = d.chars().take_while(|c| *c != 'T').filter(char::is_ascii_digit).collect();
    let num = |s: &str| s.parse::<u32>().ok();
    match (d.starts_with("--"), digits.len()) {
        (true, 4) => Some(json!({"month": num(&digits[..2])?, "day": num(&digits[2..])?})),
        (false, 8) => Some(json!({"year": num(&digits[..4])?, "month": num(&digits[4..6])?, "day": num(&digits[6..])?})),
        _ => None,
    }
}

/// What the item's vCard holds beyond the record, as the Person's fields (see
/// [`contact_from_person`]); what has no field is named in `warnings`, and the names of
/// the properties dealt with (carried, or named value by value) go into `done`.
fn fields_from_card(props: &[Property], p: &mut serde_json::Map<String, Value>, warnings: &mut Vec<String>, done: &mut HashSet<String>) {
    fn push(p: &mut serde_json::Map<String, Value>, field: &str, v: Value) {
        if let Some(list) = p.entry(field.to_owned()).or_insert_with(|| Value::Array(vec![])).as_array_mut() {
            list.push(v);
        }
    }
    let typed = |v: Value, prop: &Property| {
        let mut v = v;
        if let Some(t) = prop.types.first() {
            v["type"] = t.clone().into();
        }
        v
    };
    // Google's words for a keyword's type (an enum: anything else is refused)
    const KEYWORD_TYPES: [&str; 10] = [
        "OUTLOOK_BILLING_INFORMATION",
        "OUTLOOK_DIRECTORY_SERVER",
        "OUTLOOK_KEYWORD",
        "OUTLOOK_MILEAGE",
        "OUTLOOK_PRIORITY",
        "OUTLOOK_SENSITIVITY",
        "OUTLOOK_SUBJECT",
        "OUTLOOK_USER",
        "HOME",
        "OTHER",
    ];
    for prop in props {
        let value = prop.value.clone();
        let mut took = true;
        match prop.name.as_str() {
            "RELATED" => push(p, "relations", typed(json!({"person": value}), prop)),
            "X-MANAGER" => push(p, "relations", json!({"person": value, "type": "manager"})),
            "X-ASSISTANT" => push(p, "relations", json!({"person": value, "type": "assistant"})),
            "ANNIVERSARY" | "X-GOOGLE-EVENT" => match date_to_google(&value) {
                Some(date) if prop.name == "ANNIVERSARY" => push(p, "events", json!({"date": date, "type": "anniversary"})),
                Some(date) => push(p, "events", typed(json!({"date": date}), prop)),
                None => warnings.push(format!("{}: `{value}` is not a date Google can keep", prop.name)),
            },
            "IMPP" => {
                let service = prop.param("X-SERVICE-TYPE").unwrap_or_default().to_ascii_lowercase();
                let (scheme, rest) = value.split_once(':').unwrap_or(("", &value));
                if service == "sip" || scheme.eq_ignore_ascii_case("sip") {
                    push(p, "sipAddresses", typed(json!({"value": value}), prop));
                } else {
                    let known = IM_SCHEMES.iter().find(|(s, _)| s.eq_ignore_ascii_case(scheme)).map(|(_, g)| *g);
                    let (protocol, username) = match known {
                        Some(g) => (g.to_owned(), rest.to_owned()),
                        None => (prop.param("X-SERVICE-TYPE").unwrap_or_default().to_owned(), value.clone()),
                    };
                    let mut im = json!({"username": username});
                    if !protocol.is_empty() {
                        im["protocol"] = protocol.into();
                    }
                    push(p, "imClients", typed(im, prop));
                }
            }
            "X-GOOGLE-USERDEFINED" => push(p, "userDefined", json!({"key": prop.param("X-KEY").unwrap_or_default(), "value": value})),
            "X-MS-OFFICE-LOCATION" => push(p, "locations", json!({"value": value, "type": "desk"})),
            "GENDER" => {
                let identity = prop.parts.get(1).filter(|x| !x.is_empty());
                let g = match (prop.parts[0].to_ascii_uppercase().as_str(), identity) {
                    (_, Some(i)) => i.clone(),
                    ("M", _) => "male".into(),
                    ("F", _) => "female".into(),
                    ("O", _) => "other".into(),
                    ("N", _) => "none".into(),
                    _ => "unspecified".into(),
                };
                let genders = p.entry("genders").or_insert_with(|| json!([{}]));
                genders[0]["value"] = g.into();
            }
            "PRONOUNS" => {
                let genders = p.entry("genders").or_insert_with(|| json!([{}]));
                genders[0]["addressMeAs"] = value.into();
            }
            "EXPERTISE" => {
                warnings.push(format!("EXPERTISE: Google's skills are read-only; {value} is not kept"));
            }
            name => match TYPED_PROPS.iter().find(|(_, _, prop_name)| *prop_name == name) {
                Some((field @ ("occupations" | "interests" | "locales"), key, _)) => push(p, field, json!({ *key: value })),
                Some((field @ "miscKeywords", key, _)) => {
                    let mut v = json!({ *key: value });
                    if let Some(t) = prop.types.first().map(|t| t.to_ascii_uppercase()).filter(|t| KEYWORD_TYPES.contains(&t.as_str())) {
                        v["type"] = t.into();
                    }
                    push(p, field, v)
                }
                Some((field, key, _)) => push(p, field, typed(json!({ *key: value }), prop)),
                None => took = false,
            },
        }
        if took {
            done.insert(prop.name.clone());
        }
    }
    if let Some(g) = p.get_mut("genders").and_then(|g| g[0].as_object_mut())
        && !g.contains_key("value")
    {
        // Google wants a gender's value: the pronouns alone go with an unspecified one
        g.insert("value".into(), "unspecified".into());
    }
}

/// A contact as the Person to create or update, and what a Person cannot hold.
/// `original` is the properties of the item's vCard, `group` gives the resource name of a
/// contact group by name.
pub fn person_from_contact(c: &Contact, original: &[Property], group: &dyn Fn(&str) -> Option<String>, key: &str) -> (Value, Vec<String>) {
    let mut warnings = Vec::new();
    let mut done = HashSet::new();
    let mut p = serde_json::Map::new();
    let n = c.name.clone().unwrap_or_default();
    let mut name = json!({"unstructuredName": c.formatted_name, "familyName": n.family, "givenName": n.given, "middleName": n.additional,
            "honorificPrefix": n.prefix, "honorificSuffix": n.suffix});
    for (field, prop) in PHONETIC {
        if let Some(v) = original.iter().find(|x| x.name == prop) {
            name[field] = v.value.clone().into();
            done.insert(prop.to_owned());
        }
    }
    p.insert("names".into(), json!([name]));
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
    // ORG with its unit (the department), each; the first one's title is the record's, a
    // later one's the TITLE of its group
    let orgs: Vec<&Property> = original.iter().filter(|x| x.name == "ORG").collect();
    if !orgs.is_empty() {
        let mut out = Vec::new();
        for (i, o) in orgs.iter().enumerate() {
            let mut org = json!({"name": o.parts[0]});
            if let Some(d) = o.parts.get(1).filter(|d| !d.is_empty()) {
                org["department"] = d.clone().into();
            }
            let units: Vec<&str> = o.parts.iter().skip(2).map(String::as_str).filter(|u| !u.is_empty()).collect();
            if !units.is_empty() {
                warnings.push(format!("ORG: Google keeps an organization's department; the units {} are not kept", units.join(", ")));
            }
            let title = match i {
                0 => c.title.clone(),
                _ => o
                    .group
                    .as_ref()
                    .and_then(|g| original.iter().find(|t| t.name == "TITLE" && t.group.as_ref() == Some(g)))
                    .map(|t| t.value.clone()),
            };
            if let Some(t) = title {
                org["title"] = t.into();
            }
            if i == 0
                && let Some(ph) = original.iter().find(|x| x.name == "X-PHONETIC-ORG")
            {
                org["phoneticName"] = ph.value.clone().into();
            }
            out.push(org);
        }
        p.insert("organizations".into(), out.into());
    } else if c.organization.is_some() || c.title.is_some() {
        let mut org = serde_json::Map::new();
        for (k, v) in [("name", &c.organization), ("title", &c.title)] {
            if let Some(v) = v {
                org.insert(k.into(), v.clone().into());
            }
        }
        if let Some(ph) = original.iter().find(|x| x.name == "X-PHONETIC-ORG") {
            org.insert("phoneticName".into(), ph.value.clone().into());
        }
        p.insert("organizations".into(), json!([org]));
    }
    if p.contains_key("organizations") && original.iter().any(|x| x.name == "X-PHONETIC-ORG") {
        done.insert("X-PHONETIC-ORG".to_owned());
    }
    fields_from_card(original, &mut p, &mut warnings, &mut done);
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
    for prop in c.other_properties.iter().filter(|x| !done.contains(*x)) {
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
        let (c, card, not_carried) = contact_from_person(&p, &groups);
        assert!(not_carried.is_empty(), "{not_carried:?}");
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
        let props = ferry_codecs::vcard::properties(card.as_bytes());
        let (back, warnings) = person_from_contact(&c, &props, &|g| (g == "Friends").then(|| "contactGroups/friends".to_owned()), "k1");
        assert_eq!(back["emailAddresses"][1]["type"], "work");
        assert_eq!(back["phoneNumbers"][0]["type"], "mobile");
        assert_eq!(back["phoneNumbers"][1]["type"], "workFax");
        assert_eq!(back["birthdays"][0]["date"], json!({"month": 2, "day": 29}));
        assert_eq!(back["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"], "contactGroups/friends");
        assert_eq!(back["clientData"][0], json!({"key": KEY, "value": "k1"}));
        assert!(warnings.is_empty(), "what the card holds goes back where it was: {warnings:?}");
        assert_eq!(back["events"], json!([{"date": {"year": 2010, "month": 6, "day": 1}, "type": "anniversary"}]));
        assert_eq!(back["relations"], json!([{"person": "Ada", "type": "spouse"}]));
        assert_eq!(back["userDefined"], json!([{"key": "shoe size", "value": "38"}]));
        // without the card, each is named
        let (_, warnings) = person_from_contact(&c, &[], &|_| None, "k1");
        assert_eq!(warnings.len(), 3, "each property Google has no place for: {warnings:?}");
    }

    #[test]
    fn a_person_with_nothing_but_an_email_still_has_a_name() {
        let (c, card, _) = contact_from_person(&json!({"resourceName": "people/c2", "emailAddresses": [{"value": "a@b.c"}]}), &|_| None);
        assert_eq!(c.formatted_name, "a@b.c");
        assert!(card.starts_with("BEGIN:VCARD") && card.trim_end().ends_with("END:VCARD"));
        // a hostile birthday is kept as text, never a panic
        let (c, _, _) = contact_from_person(&json!({"birthdays": [{"date": {"month": 99, "day": 1e9}}, {"text": "spring"}]}), &|_| None);
        assert!(c.birthday.is_some());
    }

    /// A Person with every field the brief names, shaped as people.get answers it.
    fn rich_person() -> Value {
        json!({
            "resourceName": "people/c7433842915729473582", "etag": "%EgwBAj0LPwc5Pj8uNy4aBAECBQciDHFWSjJvbkVyL2xJPQ==",
            "metadata": {"sources": [{"type": "CONTACT", "id": "6708b9e30a1bfe2e", "etag": "#qVJ2onEr/lI="}], "objectType": "PERSON"},
            "names": [{"metadata": {"primary": true, "source": {"type": "CONTACT", "id": "6708b9e30a1bfe2e"}},
                "displayName": "Yuki Tanaka", "familyName": "Tanaka", "givenName": "Yuki", "displayNameLastFirst": "Tanaka, Yuki",
                "unstructuredName": "Yuki Tanaka", "phoneticFamilyName": "たなか", "phoneticGivenName": "ゆき", "phoneticHonorificPrefix": "はかせ"}],
            "organizations": [
                {"metadata": {"primary": true}, "type": "work", "formattedType": "Work", "name": "Contoso", "department": "R&D",
                 "title": "Lead Engineer", "phoneticName": "コントソ", "symbol": "CTSO", "location": "Tokyo"},
                {"name": "Tokyo University", "title": "Lecturer", "type": "school", "formattedType": "School",
                 "startDate": {"year": 2015, "month": 4, "day": 1}}
            ],
            "occupations": [{"metadata": {"primary": true}, "value": "Engineer"}],
            "relations": [{"person": "Ken", "type": "spouse", "formattedType": "Spouse"},
                          {"person": "Hiro Sato", "type": "manager", "formattedType": "Manager"}],
            "events": [{"date": {"year": 2012, "month": 5, "day": 20}, "type": "anniversary", "formattedType": "Anniversary"},
                       {"date": {"month": 9, "day": 1}, "type": "first day", "formattedType": "first day"}],
            "imClients": [{"username": "yuki.t", "type": "work", "formattedType": "Work", "protocol": "skype", "formattedProtocol": "Skype"}],
            "sipAddresses": [{"value": "sip:yuki@contoso.com", "type": "work", "formattedType": "Work"}],
            "userDefined": [{"key": "badge", "value": "4411"}],
            "locations": [{"value": "Bldg 4", "type": "desk", "current": true, "buildingId": "B4", "floor": "10"}],
            "externalIds": [{"value": "E-1021", "type": "account", "formattedType": "Account"}],
            "calendarUrls": [{"url": "https://calendar.example/yuki", "type": "availability", "formattedType": "Availability"}],
            "miscKeywords": [{"value": "VIP", "type": "OUTLOOK_KEYWORD", "formattedType": "Outlook keyword"}],
            "genders": [{"value": "female", "formattedValue": "Female", "addressMeAs": "she/her"}],
            "interests": [{"value": "go"}],
            "skills": [{"value": "Rust"}],
            "locales": [{"value": "ja-JP"}]
        })
    }

    #[test]
    fn every_field_of_a_rich_person_is_carried_or_named_both_ways() {
        let p = rich_person();
        let (c, card, not_carried) = contact_from_person(&p, &|_| None);
        assert_eq!((c.organization.as_deref(), c.title.as_deref()), (Some("Contoso"), Some("Lead Engineer")));
        let unfolded = card.replace("\r\n ", "");
        for line in [
            "\r\nORG:Contoso;R&D\r\n",
            "org2.ORG:Tokyo University;\r\n",
            "org2.TITLE:Lecturer",
            "X-PHONETIC-FIRST-NAME:ゆき",
            "X-PHONETIC-LAST-NAME:たなか",
            "X-PHONETIC-ORG:コントソ",
            "ROLE:Engineer",
            "RELATED;TYPE=manager;VALUE=text:Hiro Sato",
            "ANNIVERSARY:2012-05-20",
            "X-GOOGLE-EVENT;TYPE=first day:--09-01",
            "IMPP;TYPE=work;X-SERVICE-TYPE=skype:yuki.t",
            "IMPP;TYPE=work;X-SERVICE-TYPE=sip:sip:yuki@contoso.com",
            "X-GOOGLE-USERDEFINED;X-KEY=badge:4411",
            "X-GOOGLE-LOCATION;TYPE=desk:Bldg 4",
            "X-GOOGLE-EXTERNAL-ID;TYPE=account:E-1021",
            "CALURI;TYPE=availability:https://calendar.example/yuki",
            "X-GOOGLE-KEYWORD;TYPE=OUTLOOK_KEYWORD:VIP",
            "GENDER:F",
            "PRONOUNS:she/her",
            "INTEREST:go",
            "EXPERTISE:Rust",
            "LANG:ja-JP",
        ] {
            assert!(unfolded.contains(line), "{line:?} in {unfolded}");
        }
        let named = not_carried.join("\n");
        for lost in [
            "phoneticHonorificPrefix",
            "symbol of Contoso",
            "location of Contoso",
            "startDate of Tokyo University",
            "floor of Bldg 4",
            "buildingId",
        ] {
            assert!(named.contains(lost), "{lost} in {named}");
        }
        assert_eq!(not_carried.len(), 6, "{not_carried:?}");
        // the card read again (as a package holds it) still has the first job as the contact's
        let again = ferry_codecs::vcard::parse_card(card.as_bytes(), 1).unwrap();
        assert_eq!((again.organization.as_deref(), again.title.as_deref()), (Some("Contoso, R&D"), Some("Lead Engineer")));
        // and back to Google
        let props = ferry_codecs::vcard::properties(card.as_bytes());
        let (back, w) = person_from_contact(&c, &props, &|_| None, "k");
        assert_eq!(w, vec!["EXPERTISE: Google's skills are read-only; Rust is not kept".to_owned()]);
        assert_eq!(back["names"][0]["phoneticGivenName"], "ゆき");
        assert_eq!(back["names"][0]["phoneticFamilyName"], "たなか");
        assert_eq!(
            back["organizations"],
            json!([{"name": "Contoso", "department": "R&D", "title": "Lead Engineer", "phoneticName": "コントソ"},
                   {"name": "Tokyo University", "title": "Lecturer"}])
        );
        for field in [
            "occupations",
            "relations",
            "events",
            "imClients",
            "sipAddresses",
            "userDefined",
            "externalIds",
            "calendarUrls",
            "miscKeywords",
            "interests",
            "locales",
        ] {
            let strip = |v: &Value| -> Value {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|x| {
                        let mut x = x.clone();
                        for k in ["metadata", "formattedType", "formattedProtocol"] {
                            x.as_object_mut().unwrap().remove(k);
                        }
                        x
                    })
                    .collect()
            };
            assert_eq!(strip(&back[field]), strip(&p[field]), "{field}");
        }
        assert_eq!(back["locations"], json!([{"value": "Bldg 4", "type": "desk"}]));
        assert_eq!(back["genders"], json!([{"value": "female", "addressMeAs": "she/her"}]));
    }

    /// What Microsoft's contacts and Apple's cards carry reaches Google's fields.
    #[test]
    fn a_card_from_elsewhere_fills_googles_fields() {
        let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada\r\nORG:Engines;Research;Analysis\r\nX-MANAGER:Charles\r\n\
            X-ASSISTANT:Mary\r\nX-MS-OFFICE-LOCATION:Room 2\r\nIMPP:xmpp:ada@example.org\r\nGENDER:O;non-binary\r\n\
            ANNIVERSARY:20100601\r\nX-MS-INITIALS:A.L.\r\nEND:VCARD\r\n";
        let c = ferry_codecs::vcard::parse_card(card.as_bytes(), 1).unwrap();
        let (p, w) = person_from_contact(&c, &ferry_codecs::vcard::properties(card.as_bytes()), &|_| None, "k");
        assert_eq!(p["organizations"], json!([{"name": "Engines", "department": "Research"}]));
        assert_eq!(p["relations"], json!([{"person": "Charles", "type": "manager"}, {"person": "Mary", "type": "assistant"}]));
        assert_eq!(p["locations"], json!([{"value": "Room 2", "type": "desk"}]));
        assert_eq!(p["imClients"], json!([{"username": "ada@example.org", "protocol": "jabber"}]));
        assert_eq!(p["genders"], json!([{"value": "non-binary"}]));
        assert_eq!(p["events"], json!([{"date": {"year": 2010, "month": 6, "day": 1}, "type": "anniversary"}]));
        let text = w.join("\n");
        assert!(text.contains("units Analysis") && text.contains("X-MS-INITIALS"), "{text}");
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
