//! A Microsoft Graph `contact` (https://learn.microsoft.com/graph/api/resources/contact)
//! and ferry's contact, both ways. Graph has room for three email addresses, one mobile
//! phone, one home, business and other address each, a birthday only with its year, one
//! web page: what does not fit is a fidelity warning on import, naming what was left out.

use ferry_core::model::{Address, Contact, ContactName, TypedValue};
use serde_json::{Map, Value, json};

/// The fields asked for on every read (`$select`).
pub const SELECT: &str = "id,changeKey,parentFolderId,displayName,givenName,middleName,surname,nickName,title,generation,emailAddresses,imAddresses,jobTitle,companyName,department,businessHomePage,homePhones,mobilePhone,businessPhones,homeAddress,businessAddress,otherAddress,spouseName,personalNotes,children,birthday,categories";

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

fn strings<'a>(v: &'a Value, field: &str) -> impl Iterator<Item = &'a str> {
    v.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).filter(|x| !x.is_empty())
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\n', "\\n")
}

fn address(a: &Value, kind: &str) -> Option<Address> {
    let out = Address {
        types: vec![kind.to_owned()],
        street: s(a, "street").into(),
        locality: s(a, "city").into(),
        region: s(a, "state").into(),
        postal_code: s(a, "postalCode").into(),
        country: s(a, "countryOrRegion").into(),
        ..Default::default()
    };
    (!(out.street.is_empty() && out.locality.is_empty() && out.region.is_empty() && out.postal_code.is_empty() && out.country.is_empty()))
        .then_some(out)
}

/// The largest photo Graph keeps for a contact ("smaller than 4 MB").
pub const MAX_PHOTO: usize = 4 << 20;

/// A contact's photo (media type, bytes), or none when it has none (404).
/// https://learn.microsoft.com/graph/api/profilephoto-get
pub async fn photo(
    cfg: &super::config::MicrosoftConfig,
    http: &crate::http::Http,
    id: &str,
) -> Result<Option<(String, Vec<u8>)>, ferry_core::ConnectorError> {
    let url = cfg.graph(&format!("/v1.0/me/contacts/{}/photo/$value", crate::http::encode_component(id)));
    let what = format!("reading the photo of contact {id}");
    let _inflight = super::api::permit(http).await;
    let resp = http.send(&what, &|| http.request("GET", &url)).await?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(super::api::error(&what, resp).await.0);
    }
    let media_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("image/jpeg").to_owned();
    let bytes = crate::http::read_bounded(&what, resp, MAX_PHOTO).await?;
    Ok((!bytes.is_empty()).then_some((media_type, bytes)))
}

/// The contact folders (below the default one).
pub async fn folders(cfg: &super::config::MicrosoftConfig, http: &crate::http::Http) -> Result<Vec<Value>, ferry_core::ConnectorError> {
    super::api::all(cfg, http, "listing contact folders", cfg.graph("/v1.0/me/contactFolders?$top=100&$select=id,displayName")).await
}

/// A Graph contact as a contact, with a vCard 4.0 original that also holds what the model
/// has no field for (the spouse and children as RELATED, IM addresses as IMPP) and its
/// photo (media type, bytes), read apart, as a `data:` URI.
pub fn contact_from_graph(g: &Value, folder: &str, photo: Option<(&str, &[u8])>) -> (Contact, String) {
    // the card's UID as ferry keeps it, else Graph's id
    let uid = super::importer::uid_of(g).unwrap_or(s(g, "id"));
    let mut c = Contact { vcard_version: "4.0".into(), uid: Some(uid.to_owned()), ..Default::default() };
    c.formatted_name = s(g, "displayName").to_owned();
    c.name = Some(ContactName {
        family: s(g, "surname").into(),
        given: s(g, "givenName").into(),
        additional: s(g, "middleName").into(),
        prefix: s(g, "title").into(),
        suffix: s(g, "generation").into(),
    });
    c.nicknames = Some(s(g, "nickName").to_owned()).filter(|n| !n.is_empty()).into_iter().collect();
    c.emails = g
        .get("emailAddresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !s(e, "address").is_empty())
        .map(|e| TypedValue { value: s(e, "address").to_owned(), types: vec![], preferred: false })
        .collect();
    let phone =
        |v: &str, t: &[&str]| TypedValue { value: v.to_owned(), types: t.iter().map(|x| x.to_string()).collect(), preferred: false };
    c.phones.extend(Some(s(g, "mobilePhone")).filter(|m| !m.is_empty()).map(|m| phone(m, &["cell"])));
    c.phones.extend(strings(g, "homePhones").map(|p| phone(p, &["home"])));
    c.phones.extend(strings(g, "businessPhones").map(|p| phone(p, &["work"])));
    for (field, kind) in [("homeAddress", "home"), ("businessAddress", "work"), ("otherAddress", "other")] {
        if let Some(a) = g.get(field).and_then(|a| address(a, kind)) {
            c.addresses.push(a);
        }
    }
    c.organization = Some(s(g, "companyName").to_owned()).filter(|x| !x.is_empty());
    c.title = Some(s(g, "jobTitle").to_owned()).filter(|x| !x.is_empty());
    c.birthday = Some(s(g, "birthday")).filter(|b| b.len() >= 10).map(|b| b[..10].to_owned());
    c.urls = Some(s(g, "businessHomePage").to_owned()).filter(|u| !u.is_empty()).into_iter().collect();
    c.note = Some(s(g, "personalNotes").to_owned()).filter(|n| !n.is_empty());
    c.categories = strings(g, "categories").map(str::to_owned).collect();
    if !folder.is_empty() && !c.categories.iter().any(|x| x == folder) {
        c.categories.insert(0, folder.to_owned());
    }
    if c.formatted_name.is_empty() {
        c.formatted_name = c.emails.first().map(|e| e.value.clone()).or_else(|| c.organization.clone()).unwrap_or_default();
    }
    let mut extra = Vec::new();
    if !s(g, "spouseName").is_empty() {
        extra.push(format!("RELATED;TYPE=spouse;VALUE=text:{}", esc(s(g, "spouseName"))));
    }
    for child in strings(g, "children") {
        extra.push(format!("RELATED;TYPE=child;VALUE=text:{}", esc(child)));
    }
    for im in strings(g, "imAddresses") {
        extra.push(format!("IMPP:{}", esc(im)));
    }
    if !s(g, "department").is_empty() {
        extra.push(format!("X-MS-DEPARTMENT:{}", esc(s(g, "department"))));
    }
    if let Some((media_type, bytes)) = photo {
        use base64::Engine;
        extra.push(format!("PHOTO:data:{media_type};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)));
        c.photo = Some(media_type.to_owned());
    }
    let card = ferry_codecs::vcard::build_v4_with(&mut c, &extra);
    // the record has a field for the photo: it is no property without one
    c.other_properties.retain(|p| p != "PHOTO");
    (c, card)
}

fn has(types: &[String], t: &str) -> bool {
    types.iter().any(|x| x.eq_ignore_ascii_case(t))
}

/// A contact as the Graph contact to create or update, and each thing Graph had no room
/// for. The `original` vCard's properties the model lacks are named too.
pub fn graph_from_contact(c: &Contact) -> (Value, Vec<String>) {
    let mut w = Vec::new();
    let mut g = Map::new();
    let n = c.name.clone().unwrap_or_default();
    g.insert("displayName".into(), c.formatted_name.clone().into());
    for (k, v) in
        [("surname", &n.family), ("givenName", &n.given), ("middleName", &n.additional), ("title", &n.prefix), ("generation", &n.suffix)]
    {
        if !v.is_empty() {
            g.insert(k.into(), v.clone().into());
        }
    }
    if let Some((first, rest)) = c.nicknames.split_first() {
        g.insert("nickName".into(), first.clone().into());
        if !rest.is_empty() {
            w.push(format!("NICKNAME: Microsoft keeps one nickname; {} more not kept ({})", rest.len(), rest.join(", ")));
        }
    }
    let emails: Vec<Value> = c.emails.iter().take(3).map(|e| json!({"address": e.value, "name": c.formatted_name})).collect();
    if c.emails.len() > 3 {
        let lost: Vec<&str> = c.emails[3..].iter().map(|e| e.value.as_str()).collect();
        w.push(format!("EMAIL: Microsoft keeps three email addresses; not kept: {}", lost.join(", ")));
    }
    if !emails.is_empty() {
        g.insert("emailAddresses".into(), emails.into());
    }
    let (mut mobile, mut home, mut work) = (None, Vec::new(), Vec::new());
    for p in &c.phones {
        if has(&p.types, "fax") {
            w.push(format!("TEL: the fax number {} has no place in a Microsoft contact", p.value));
        } else if has(&p.types, "cell") && mobile.is_none() {
            mobile = Some(p.value.clone());
        } else if has(&p.types, "work") {
            work.push(p.value.clone());
        } else {
            home.push(p.value.clone());
        }
    }
    if let Some(m) = mobile {
        g.insert("mobilePhone".into(), m.into());
    }
    if !home.is_empty() {
        g.insert("homePhones".into(), home.into());
    }
    if !work.is_empty() {
        g.insert("businessPhones".into(), work.into());
    }
    let mut taken = std::collections::HashSet::new();
    for a in &c.addresses {
        let field = if has(&a.types, "work") {
            "businessAddress"
        } else if has(&a.types, "home") {
            "homeAddress"
        } else {
            "otherAddress"
        };
        let field = if taken.contains(field) { "otherAddress" } else { field };
        if !taken.insert(field) {
            w.push(format!("ADR: Microsoft keeps one home, work and other address; not kept: {}, {}", a.street, a.locality));
            continue;
        }
        let mut street = a.street.clone();
        for extra in [&a.extended, &a.po_box] {
            if !extra.is_empty() {
                street = if street.is_empty() { extra.clone() } else { format!("{street}\n{extra}") };
            }
        }
        g.insert(
            field.into(),
            json!({"street": street, "city": a.locality, "state": a.region, "postalCode": a.postal_code, "countryOrRegion": a.country}),
        );
    }
    if let Some(o) = &c.organization {
        g.insert("companyName".into(), o.clone().into());
    }
    if let Some(t) = &c.title {
        g.insert("jobTitle".into(), t.clone().into());
    }
    match c.birthday.as_deref() {
        Some(b) if b.len() == 10 && !b.starts_with("--") => {
            g.insert("birthday".into(), format!("{b}T00:00:00Z").into());
        }
        Some(b) => w.push(format!("BDAY: Microsoft needs a birthday's year; {b} not kept")),
        None => {}
    }
    if let Some((first, rest)) = c.urls.split_first() {
        g.insert("businessHomePage".into(), first.clone().into());
        if !rest.is_empty() {
            w.push(format!("URL: Microsoft keeps one web page; not kept: {}", rest.join(", ")));
        }
    }
    if let Some(note) = &c.note {
        g.insert("personalNotes".into(), note.clone().into());
    }
    if !c.categories.is_empty() {
        g.insert("categories".into(), c.categories.clone().into());
    }
    for prop in &c.other_properties {
        w.push(format!("{prop}: Microsoft contacts have no place for it"));
    }
    (Value::Object(g), w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_microsoft_has_no_room_for_is_named() {
        let c = Contact {
            formatted_name: "Zoë Ångström".into(),
            emails: (0..5).map(|i| TypedValue { value: format!("z{i}@example.org"), ..Default::default() }).collect(),
            phones: vec![
                TypedValue { value: "+46 70".into(), types: vec!["cell".into()], preferred: true },
                TypedValue { value: "+46 8".into(), types: vec!["work".into(), "fax".into()], preferred: false },
                TypedValue { value: "+46 9".into(), types: vec!["work".into()], preferred: false },
            ],
            addresses: vec![
                Address {
                    types: vec!["home".into()],
                    street: "Drottninggatan 1".into(),
                    locality: "Stockholm".into(),
                    ..Default::default()
                },
                Address { types: vec!["home".into()], street: "Sommarvägen 2".into(), locality: "Visby".into(), ..Default::default() },
                Address { types: vec!["home".into()], street: "Third 3".into(), locality: "Lund".into(), ..Default::default() },
            ],
            birthday: Some("--02-29".into()),
            other_properties: vec!["ANNIVERSARY".into(), "X-GOOGLE-USERDEFINED".into()],
            vcard_version: "4.0".into(),
            ..Default::default()
        };
        let (g, w) = graph_from_contact(&c);
        assert_eq!(g["emailAddresses"].as_array().unwrap().len(), 3);
        assert_eq!(g["mobilePhone"], "+46 70");
        assert_eq!(g["businessPhones"], json!(["+46 9"]));
        assert_eq!(g["homeAddress"]["city"], "Stockholm");
        assert_eq!(g["otherAddress"]["city"], "Visby", "a second home address goes to the other address");
        let text = w.join("\n");
        for lost in
            ["z3@example.org, z4@example.org", "fax number +46 8", "Third 3, Lund", "--02-29", "ANNIVERSARY", "X-GOOGLE-USERDEFINED"]
        {
            assert!(text.contains(lost), "{lost} in {text}");
        }
        assert!(g.get("birthday").is_none());
    }

    #[test]
    fn a_graph_contact_becomes_a_contact_and_keeps_what_the_model_cannot() {
        let g = json!({"id": "AAMk1", "displayName": "Ada L", "givenName": "Ada", "surname": "L",
            "emailAddresses": [{"address": "ada@example.org", "name": "Ada"}], "mobilePhone": "+44 7",
            "businessPhones": ["+44 20"], "homeAddress": {"street": "1 St", "city": "London", "countryOrRegion": "UK"},
            "birthday": "1815-12-10T00:00:00Z", "spouseName": "William", "children": ["Byron"], "categories": ["Friends"]});
        let (c, card) = contact_from_graph(&g, "Family", None);
        assert_eq!(c.uid.as_deref(), Some("AAMk1"), "without the UID ferry keeps, Graph's id");
        assert_eq!(c.birthday.as_deref(), Some("1815-12-10"));
        assert_eq!(c.phones[0].types, vec!["cell"]);
        assert_eq!(c.categories, vec!["Family", "Friends"]);
        assert!(card.contains("RELATED;TYPE=spouse;VALUE=text:William") && card.contains("RELATED;TYPE=child;VALUE=text:Byron"), "{card}");
        let (c, _) = contact_from_graph(&json!({"birthday": "x", "emailAddresses": [{"address": 7}]}), "", None);
        assert!(c.birthday.is_none() && c.emails.is_empty(), "hostile values are skipped, never a panic");
        let mut kept = g.clone();
        kept[super::super::importer::EXT] = json!([{"id": super::super::importer::UID_PROP, "value": "ada@example.org-card"}]);
        let (c, card) = contact_from_graph(&kept, "Family", None);
        assert_eq!(c.uid.as_deref(), Some("ada@example.org-card"));
        assert!(card.contains("UID:ada@example.org-card"), "{card}");
        // the photo, read apart, goes into the card as itself
        let png = b"\x89PNG\r\n\x1a\n-the-rest";
        let (c, card) = contact_from_graph(&g, "Family", Some(("image/png", png)));
        assert_eq!(c.photo.as_deref(), Some("image/png"));
        assert!(!c.other_properties.iter().any(|p| p == "PHOTO"), "{:?}", c.other_properties);
        assert_eq!(ferry_codecs::vcard::photo_bytes(card.as_bytes()), Some(("image/png".to_owned(), png.to_vec())), "{card}");
    }
}
