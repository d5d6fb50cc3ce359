//! A Microsoft Graph `contact` (https://learn.microsoft.com/graph/api/resources/contact)
//! and ferry's contact, both ways. Graph has room for three email addresses, one mobile
//! phone, one home, business and other address each, a birthday only with its year, one
//! web page: what does not fit is a fidelity warning on import, naming what was left out.

use ferry_codecs::vcard::Property;
use ferry_core::model::{Address, Contact, ContactName, TypedValue};
use serde_json::{Map, Value, json};

/// The fields asked for on every read (`$select`).
pub const SELECT: &str = "id,changeKey,parentFolderId,displayName,givenName,middleName,surname,nickName,title,generation,initials,fileAs,yomiGivenName,yomiSurname,yomiCompanyName,emailAddresses,imAddresses,jobTitle,companyName,department,officeLocation,profession,manager,assistantName,businessHomePage,homePhones,mobilePhone,businessPhones,homeAddress,businessAddress,otherAddress,spouseName,personalNotes,children,birthday,categories";

/// Graph's single-text fields the contact model has no field for, and the vCard property
/// each is kept as (both ways): Apple's names for the phonetic ones, RFC 6350's ROLE for
/// the profession.
const TEXT_PROPS: [(&str, &str); 9] = [
    ("profession", "ROLE"),
    ("officeLocation", "X-MS-OFFICE-LOCATION"),
    ("manager", "X-MANAGER"),
    ("assistantName", "X-ASSISTANT"),
    ("initials", "X-MS-INITIALS"),
    ("fileAs", "X-FILE-AS"),
    ("yomiGivenName", "X-PHONETIC-FIRST-NAME"),
    ("yomiSurname", "X-PHONETIC-LAST-NAME"),
    ("yomiCompanyName", "X-PHONETIC-ORG"),
];

/// The IM addresses Outlook keeps (Exchange's ImAddress1 to ImAddress3).
const MAX_IM: usize = 3;

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
/// has no field for: the department as the unit of ORG, the spouse and children as
/// RELATED, IM addresses as IMPP, the profession as ROLE, the phonetic (yomi) names as
/// Apple writes them, the rest of [`TEXT_PROPS`] as X- properties; and its photo (media
/// type, bytes), read apart, as a `data:` URI.
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
    if !s(g, "department").is_empty() {
        // the department is the organization's first unit (RFC 6350 6.6.4)
        extra.push(format!("ORG:{};{}", esc(s(g, "companyName")), esc(s(g, "department"))));
    }
    for (field, prop) in TEXT_PROPS {
        if !s(g, field).is_empty() {
            extra.push(format!("{prop}:{}", esc(s(g, field))));
        }
    }
    if !s(g, "spouseName").is_empty() {
        extra.push(format!("RELATED;TYPE=spouse;VALUE=text:{}", esc(s(g, "spouseName"))));
    }
    for child in strings(g, "children") {
        extra.push(format!("RELATED;TYPE=child;VALUE=text:{}", esc(child)));
    }
    for im in strings(g, "imAddresses") {
        extra.push(format!("IMPP:{}", esc(im)));
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

/// What a Graph contact holds that neither the record nor its card carries: an email
/// address's own display name, where it is not one Outlook makes from the contact (its
/// display name, its given name and surname, the address, either with the address in
/// brackets).
pub fn not_carried(g: &Value) -> Vec<String> {
    let names = [s(g, "displayName").to_owned(), format!("{} {}", s(g, "givenName"), s(g, "surname")).trim().to_owned()];
    let made = |e: &Value| {
        let (name, address) = (s(e, "name"), s(e, "address"));
        name.is_empty() || name == address || names.iter().any(|n| name == n || name == format!("{n} ({address})"))
    };
    g.get("emailAddresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !made(e))
        .map(|e| format!("emailAddresses.name: the name `{}` of {} is not carried", s(e, "name"), s(e, "address")))
        .collect()
}

fn has(types: &[String], t: &str) -> bool {
    types.iter().any(|x| x.eq_ignore_ascii_case(t))
}

/// A contact as the Graph contact to create or update, and each thing Graph had no room
/// for. `original` is the properties of the item's vCard: what the model lacks and Graph
/// has a field for is written from them (see [`contact_from_graph`]); the rest is named.
pub fn graph_from_contact(c: &Contact, original: &[Property]) -> (Value, Vec<String>) {
    let mut w = Vec::new();
    let mut g = Map::new();
    let mut carried = std::collections::HashSet::new();
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
    // ORG with units: the company, the department; a second ORG, or more units, do not fit
    let orgs: Vec<&Property> = original.iter().filter(|p| p.name == "ORG").collect();
    match orgs.first().filter(|o| o.parts.iter().skip(1).any(|u| !u.is_empty())) {
        Some(org) => {
            g.insert("companyName".into(), org.parts[0].clone().into());
            g.insert("department".into(), org.parts[1].clone().into());
            let units: Vec<&str> = org.parts[2..].iter().map(String::as_str).filter(|u| !u.is_empty()).collect();
            if !units.is_empty() {
                w.push(format!("ORG: Microsoft keeps a company and a department; the units {} are not kept", units.join(", ")));
            }
        }
        None => {
            if let Some(o) = &c.organization {
                g.insert("companyName".into(), o.clone().into());
            }
        }
    }
    for org in orgs.iter().skip(1) {
        let title = org.group.as_ref().and_then(|g| original.iter().find(|t| t.name == "TITLE" && t.group.as_ref() == Some(g)));
        let what = org.parts.iter().map(String::as_str).filter(|x| !x.is_empty()).collect::<Vec<_>>().join(", ");
        let what = match title {
            Some(t) => format!("{what} (as {})", t.value),
            None => what,
        };
        w.push(format!("ORG: Microsoft keeps one organization; {what} is not kept"));
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
    for (field, prop) in TEXT_PROPS {
        let mut values = original.iter().filter(|p| p.name == prop && !p.value.is_empty());
        if let Some(first) = values.next() {
            g.insert(field.into(), first.value.clone().into());
            carried.insert(prop);
        }
        for more in values {
            w.push(format!("{prop}: Microsoft keeps one {field}; {} is not kept", more.value));
        }
    }
    // Google's desk location is the office
    for loc in original.iter().filter(|p| p.name == "X-GOOGLE-LOCATION") {
        if loc.has_type("desk") && !g.contains_key("officeLocation") {
            g.insert("officeLocation".into(), loc.value.clone().into());
        } else {
            w.push(format!("X-GOOGLE-LOCATION: Microsoft keeps one office location; {} is not kept", loc.value));
        }
        carried.insert("X-GOOGLE-LOCATION");
    }
    let mut children = Vec::new();
    for r in original.iter().filter(|p| p.name == "RELATED") {
        // Google's relations: its manager and assistant are Graph's own fields too
        let own = [("spouse", "spouseName"), ("manager", "manager"), ("assistant", "assistantName")]
            .into_iter()
            .find(|(t, field)| r.has_type(t) && !g.contains_key(*field));
        if let Some((_, field)) = own {
            g.insert(field.into(), r.value.clone().into());
        } else if r.has_type("child") {
            children.push(r.value.clone());
        } else {
            let kind = if r.types.is_empty() { "contact".to_owned() } else { r.types.join(",") };
            w.push(format!("RELATED: Microsoft keeps a spouse and children; the {kind} {} is not kept", r.value));
        }
        carried.insert("RELATED");
    }
    if !children.is_empty() {
        g.insert("children".into(), children.into());
    }
    let ims: Vec<&str> = original.iter().filter(|p| p.name == "IMPP" && !p.value.is_empty()).map(|p| p.value.as_str()).collect();
    if !ims.is_empty() {
        g.insert("imAddresses".into(), ims.iter().take(MAX_IM).copied().collect::<Vec<_>>().into());
        if ims.len() > MAX_IM {
            w.push(format!("IMPP: Microsoft keeps {MAX_IM} IM addresses; not kept: {}", ims[MAX_IM..].join(", ")));
        }
        carried.insert("IMPP");
    }
    for prop in &c.other_properties {
        if !carried.contains(prop.as_str()) && prop != "ORG" {
            w.push(format!("{prop}: Microsoft contacts have no place for it"));
        }
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
        let (g, w) = graph_from_contact(&c, &[]);
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

    /// A contact as Graph gives it with every field ferry reads (the sample's shape is the
    /// contact resource's), out to a vCard and back: each field lands where it was.
    #[test]
    fn every_field_of_a_rich_graph_contact_goes_out_and_comes_back() {
        let g = json!({
            "@odata.etag": "W/\"EQAAABYAAAB\"", "id": "AAMkAGI2THVSAAA=", "changeKey": "EQAAABYAAAB", "parentFolderId": "AAMkAGI2AAEOAAA=",
            "displayName": "Dr. Yuki Tanaka Jr.", "givenName": "Yuki", "middleName": "Ann", "surname": "Tanaka", "title": "Dr.",
            "generation": "Jr.", "initials": "Y.A.T.", "fileAs": "Tanaka, Yuki", "nickName": "Yu",
            "yomiGivenName": "ゆき", "yomiSurname": "たなか", "yomiCompanyName": "コントソ",
            "emailAddresses": [{"name": "Yuki Tanaka", "address": "yuki@contoso.com"}],
            "imAddresses": ["sip:yuki@contoso.com", "yuki.t@im.example"],
            "jobTitle": "Lead Engineer", "companyName": "Contoso", "department": "R&D; Tokyo", "officeLocation": "Bldg 4/1021",
            "profession": "Engineer", "manager": "Hiro Sato", "assistantName": "Mai Ito",
            "businessHomePage": "https://contoso.example/yuki", "homePhones": [], "mobilePhone": "+81 90 1234 5678",
            "businessPhones": ["+81 3 1234 5678"], "spouseName": "Ken Tanaka", "children": ["Aoi", "Sora"],
            "personalNotes": "Met at the 2019 summit.\nPrefers mornings.", "birthday": "1985-04-12T11:59:00Z",
            "categories": ["Colleagues"],
            "homeAddress": {}, "businessAddress": {"street": "1-2-3 Marunouchi", "city": "Chiyoda", "state": "Tokyo",
                "countryOrRegion": "Japan", "postalCode": "100-0005"}, "otherAddress": {}
        });
        let (c, card) = contact_from_graph(&g, "", None);
        let n = c.name.clone().unwrap();
        assert_eq!((n.prefix.as_str(), n.additional.as_str(), n.suffix.as_str()), ("Dr.", "Ann", "Jr."));
        assert_eq!(c.nicknames, ["Yu"]);
        assert_eq!((c.organization.as_deref(), c.title.as_deref()), (Some("Contoso"), Some("Lead Engineer")));
        assert_eq!(c.note.as_deref(), Some("Met at the 2019 summit.\nPrefers mornings."));
        assert_eq!(c.categories, ["Colleagues"]);
        let unfolded = card.replace("\r\n ", "");
        for line in [
            "ORG:Contoso;R&D\\; Tokyo",
            "ROLE:Engineer",
            "X-MS-OFFICE-LOCATION:Bldg 4/1021",
            "X-MANAGER:Hiro Sato",
            "X-ASSISTANT:Mai Ito",
            "X-MS-INITIALS:Y.A.T.",
            "X-FILE-AS:Tanaka\\, Yuki",
            "X-PHONETIC-FIRST-NAME:ゆき",
            "X-PHONETIC-LAST-NAME:たなか",
            "X-PHONETIC-ORG:コントソ",
            "RELATED;TYPE=spouse;VALUE=text:Ken Tanaka",
            "RELATED;TYPE=child;VALUE=text:Sora",
            "IMPP:sip:yuki@contoso.com",
        ] {
            assert!(unfolded.contains(line), "{line} in {unfolded}");
        }
        assert_eq!(unfolded.matches("\r\nORG:").count(), 1, "one ORG, with its unit: {unfolded}");
        assert!(!c.other_properties.contains(&"ORG".to_owned()), "{:?}", c.other_properties);
        // back: every field Graph has is written again from the record and the card
        let props = ferry_codecs::vcard::properties(card.as_bytes());
        let (back, w) = graph_from_contact(&c, &props);
        assert!(w.is_empty(), "nothing is lost on the way back: {w:?}");
        assert!(not_carried(&g).is_empty(), "the email's name is the contact's own");
        let other = json!({"displayName": "Yuki", "emailAddresses": [{"name": "Y. Tanaka (work)", "address": "y@contoso.com"}]});
        assert_eq!(not_carried(&other), ["emailAddresses.name: the name `Y. Tanaka (work)` of y@contoso.com is not carried"]);
        for field in [
            "givenName",
            "middleName",
            "surname",
            "title",
            "generation",
            "initials",
            "fileAs",
            "nickName",
            "yomiGivenName",
            "yomiSurname",
            "yomiCompanyName",
            "imAddresses",
            "jobTitle",
            "companyName",
            "department",
            "officeLocation",
            "profession",
            "manager",
            "assistantName",
            "businessHomePage",
            "mobilePhone",
            "businessPhones",
            "spouseName",
            "children",
            "personalNotes",
            "categories",
        ] {
            assert_eq!(back[field], g[field], "{field}");
        }
        assert_eq!(back["birthday"], "1985-04-12T00:00:00Z");
        assert_eq!(back["businessAddress"]["city"], "Chiyoda");
    }

    #[test]
    fn what_a_card_holds_beyond_microsofts_fields_is_named() {
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nORG:Analytical Engines;Research;Difference\r\nORG:Royal Society\r\n\
            RELATED;TYPE=friend;VALUE=text:Mary\r\nRELATED;TYPE=spouse;VALUE=text:William\r\nIMPP:xmpp:a@x\r\nIMPP:xmpp:b@x\r\n\
            IMPP:xmpp:c@x\r\nIMPP:xmpp:d@x\r\nX-MANAGER:Charles\r\nX-MANAGER:Augustus\r\nX-PHONETIC-MIDDLE-NAME:Kingu\r\nEND:VCARD\r\n";
        let c = ferry_codecs::vcard::parse_card(card.as_bytes(), 1).unwrap();
        let (g, w) = graph_from_contact(&c, &ferry_codecs::vcard::properties(card.as_bytes()));
        assert_eq!((g["companyName"].as_str(), g["department"].as_str()), (Some("Analytical Engines"), Some("Research")));
        assert_eq!((g["spouseName"].as_str(), g["manager"].as_str()), (Some("William"), Some("Charles")));
        assert_eq!(g["imAddresses"], json!(["xmpp:a@x", "xmpp:b@x", "xmpp:c@x"]));
        let text = w.join("\n");
        for lost in ["units Difference", "Royal Society", "friend Mary", "xmpp:d@x", "Augustus", "X-PHONETIC-MIDDLE-NAME"] {
            assert!(text.contains(lost), "{lost} in {text}");
        }
        assert!(!text.contains("RELATED: Microsoft contacts have no place"), "RELATED is named value by value: {text}");
    }

    /// A Google contact's card: its manager and assistant relations and its desk are
    /// Graph's own fields.
    #[test]
    fn a_google_cards_relations_and_desk_fill_graphs_fields() {
        let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zoë\r\nRELATED;TYPE=manager;VALUE=text:Hiro\r\n\
            RELATED;TYPE=assistant;VALUE=text:Mai\r\nRELATED;TYPE=manager;VALUE=text:Ken\r\nX-GOOGLE-LOCATION;TYPE=desk:Bldg 4\r\n\
            X-GOOGLE-LOCATION;TYPE=grewUp:Oslo\r\nEND:VCARD\r\n";
        let c = ferry_codecs::vcard::parse_card(card.as_bytes(), 1).unwrap();
        let (g, w) = graph_from_contact(&c, &ferry_codecs::vcard::properties(card.as_bytes()));
        assert_eq!((g["manager"].as_str(), g["assistantName"].as_str()), (Some("Hiro"), Some("Mai")));
        assert_eq!(g["officeLocation"], "Bldg 4");
        let text = w.join("\n");
        assert!(text.contains("manager Ken") && text.contains("Oslo"), "{text}");
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
