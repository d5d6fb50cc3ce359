//! The standard files of the response package (contacts as vCard, events as iCalendar),
//! on the sample shop loaded into SQLite: what they hold, that they parse, that nothing
//! outside the part's scope reaches them, and the map's vertical declaration checked.

mod shop;

use chrono::NaiveDate;
use ferry_codecs::Limits;
use ferry_codecs::vcard::VcardReader;
use ferry_core::Record;
use ferry_requests::extract::{Extractor, Identity};
use ferry_requests::map::{self, IdentityKind, Vertical, VerticalKind};
use ferry_requests::regime::Regime;
use ferry_requests::response;
use ferry_requests::scope::scope;
use ferry_requests::{Part, RequestKind};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shop::{Kind, with_shop};
use std::io::Cursor;

/// Alice's name, made hard: commas, semicolons, a backslash, a line break, non-ASCII, and
/// long enough to fold.
const HARD_NAME: &str = "Alice \"Ally\" Adams-Ødegård, Jr.; née Smith \\ 日本語テキスト\nsecond line: ¡olé! ünïcödé ünïcödé ünïcödé";

fn hard_name_sql(kind: Kind) -> String {
    let mut name = HARD_NAME.replace('\'', "''");
    if kind == Kind::MariaDb {
        // a backslash starts an escape in MariaDB's string literals
        name = name.replace('\\', "\\\\");
    }
    format!("UPDATE customers SET name = '{name}' WHERE id = 1")
}

/// The shop's map at `url`, with sign-ins as events: the user agent as the summary, the
/// IP address (left out of a portability answer: legitimate interests) as the location;
/// and the customer's referrer (withheld: another person's) as the contact's note.
fn map_with_verticals(url: &str) -> map::DatasetMap {
    let mut m = shop::map_at(url);
    let db = &mut m.databases[0];
    let customers = db.tables.iter_mut().find(|t| t.name == "customers").unwrap();
    let v = customers.vertical.as_mut().expect("the shop's customers are contacts");
    assert_eq!(v.kind, VerticalKind::Contacts);
    v.note = Some("referred_by".into());
    let logins = db.tables.iter_mut().find(|t| t.name == "login_history").unwrap();
    logins.vertical = Some(Vertical {
        kind: VerticalKind::Events,
        uid: Some("id".into()),
        summary: Some("user_agent".into()),
        start: Some("logged_in_at".into()),
        location: Some("ip_address".into()),
        time_zone: Some("UTC".into()),
        ..Default::default()
    });
    assert!(map::validate(&m).is_empty(), "{:?}", map::validate(&m));
    m
}

fn lines_are_folded_crlf(text: &str, what: &str) {
    assert!(text.ends_with("\r\n"), "{what}");
    for line in text.split_terminator("\r\n") {
        assert!(!line.contains(['\r', '\n']), "{what}: a bare line break in {line:?}");
        assert!(line.len() <= 75, "{what}: a line of {} octets: {line:?}", line.len());
    }
}

#[tokio::test]
async fn a_portability_package_holds_contacts_as_vcard_and_events_as_icalendar_sqlite() {
    with_shop(Kind::Sqlite, &[hard_name_sql(Kind::Sqlite)], standard_files).await;
}

#[tokio::test]
async fn a_portability_package_holds_contacts_as_vcard_and_events_as_icalendar_postgres() {
    with_shop(Kind::Postgres, &[hard_name_sql(Kind::Postgres)], standard_files).await;
}

#[tokio::test]
async fn a_portability_package_holds_contacts_as_vcard_and_events_as_icalendar_mariadb() {
    with_shop(Kind::MariaDb, &[hard_name_sql(Kind::MariaDb)], standard_files).await;
}

/// Alice's portability answer, on the shop at `url` (Alice's name made hard).
async fn standard_files(url: String) {
    {
        let m = map_with_verticals(&url);
        let mut ex = Extractor::open(&m).await.unwrap_or_else(|e| panic!("{e}"));
        let gdpr = Regime::builtin("gdpr").unwrap();
        let portability = scope(&m, &gdpr, RequestKind::Portability).unwrap().part(Part::Portability).unwrap().clone();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let identity = Identity::new(IdentityKind::Email, "alice@example.com");
        let manifest = response::write_package(&mut ex, &gdpr, &portability, &identity, as_of, &dir).await.unwrap();

        // the vCard: one card, Alice's, read back by the codecs' reader (calcard beneath)
        let vcf = std::fs::read_to_string(dir.join("data/shop/customers.vcf")).unwrap();
        lines_are_folded_crlf(&vcf, "customers.vcf");
        assert!(vcf.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"), "{vcf}");
        let cards: Vec<_> = VcardReader::new(vcf.as_bytes(), Limits::default()).collect::<Result<_, _>>().unwrap();
        assert_eq!(cards.len(), 1, "{vcf}");
        let c = &cards[0].contact;
        assert_eq!(c.formatted_name, HARD_NAME, "{vcf}");
        assert_eq!(c.emails.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), ["alice@example.com"]);
        assert_eq!(c.phones.iter().map(|e| e.value.as_str()).collect::<Vec<_>>(), ["+44 20 7946 0001"]);
        assert_eq!(c.uid.as_deref(), Some("1"));
        // the referrer is withheld: no note, and Bob's number nowhere
        assert_eq!(c.note, None, "{vcf}");
        assert!(!vcf.contains("NOTE"), "{vcf}");

        // the calendar: Alice's three sign-ins, at their times (UTC), without the IP address
        let ics = std::fs::read_to_string(dir.join("data/shop/login_history.ics")).unwrap();
        lines_are_folded_crlf(&ics, "login_history.ics");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"), "{ics}");
        assert!(ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        for ip in ["198.51.100.7", "203.0.113.20"] {
            assert!(!ics.contains(ip), "a left-out column reached the calendar: {ics}");
        }
        assert!(!ics.contains("LOCATION"), "{ics}");
        assert!(ics.contains("DTSTART:20240601T080000Z\r\n"), "{ics}");
        let mut parts = ferry_codecs::vevent::event_parts(ics.as_bytes()).unwrap();
        parts.sort_by(|a, b| a.event.uid.cmp(&b.event.uid));
        let got: Vec<(&str, &str, Option<&str>)> = parts
            .iter()
            .map(|p| (p.event.uid.as_str(), p.event.start.as_ref().unwrap().value.as_str(), p.event.summary.as_deref()))
            .collect();
        let starts: Vec<String> = got.iter().map(|(_, s, _)| s.chars().filter(char::is_ascii_alphanumeric).collect()).collect();
        assert_eq!(starts, ["20240601T080000Z", "20250801T211500Z", "20260601T074500Z"], "{got:?}");
        assert_eq!(
            got.iter().map(|g| (g.0, g.2)).collect::<Vec<_>>(),
            [("1", Some("Firefox 126 on Linux")), ("2", Some("Firefox 141 on Linux")), ("3", Some("Safari on iPhone"))]
        );
        assert!(parts.iter().all(|p| p.event.location.is_none()));
        // and the same in the parser of the codecs' calendar reader
        let objects: Vec<_> =
            ferry_codecs::ical::IcsReader::new(Cursor::new(ics.as_bytes()), Limits::default()).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(objects.len(), 3);
        assert!(objects.iter().all(|o| matches!(o.record, Record::Event(_))));

        // the manifest lists both, hashed, and says which table they are of
        for path in ["data/shop/customers.vcf", "data/shop/login_history.ics"] {
            let f = manifest.files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("{path} not listed"));
            let bytes = std::fs::read(dir.join(path)).unwrap();
            assert_eq!((f.bytes, f.sha256.as_str()), (bytes.len() as u64, hex::encode(Sha256::digest(&bytes)).as_str()), "{path}");
        }
        let on_disk: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let table = |name: &str| on_disk["tables"].as_array().unwrap().iter().find(|t| t["table"] == name).unwrap().clone();
        let customers = table("customers");
        assert_eq!(customers["standard"]["path"], "data/shop/customers.vcf");
        assert_eq!(customers["standard"]["media_type"], "text/vcard");
        assert_eq!(customers["standard"]["records"], 1);
        assert_eq!(
            customers["standard"]["fields"],
            serde_json::json!({"uid": "id", "full_name": "name", "email": "email", "phone": "phone"})
        );
        let logins = table("login_history");
        assert_eq!(logins["standard"]["kind"], "events");
        assert_eq!(logins["standard"]["records"], 3);
        assert!(logins["standard"]["fields"].get("location").is_none());
        // a table with no vertical has none
        assert!(table("orders").get("standard").is_none());
        assert!(!dir.join("data/shop/orders.vcf").exists() && !dir.join("data/shop/orders.ics").exists());
        let schema: Value = serde_json::from_slice(&std::fs::read(dir.join("schemas/shop/customers.schema.json")).unwrap()).unwrap();
        assert_eq!(schema["x-standard-file"]["path"], "data/shop/customers.vcf");
        // the sealed package carries them too: every file of the manifest is listed
        assert!(manifest.files.iter().all(|f| dir.join(&f.path).is_file()));
    }
}

#[tokio::test]
async fn a_person_without_rows_in_a_vertical_table_gets_no_standard_file_and_dates_stay_dates() {
    // sign-ins as all-day events (a date column made for it), with an end
    let extra = [
        "ALTER TABLE login_history ADD COLUMN day TEXT".to_string(),
        "UPDATE login_history SET day = substr(logged_in_at, 1, 10)".to_string(),
        "UPDATE login_history SET day = 'soon' WHERE id = 3".to_string(),
        "UPDATE orders SET shipping_address_id = NULL WHERE customer_id = 1".to_string(),
        "DELETE FROM addresses WHERE customer_id = 1".to_string(),
    ];
    with_shop(Kind::Sqlite, &extra, |url| async move {
        let mut m = shop::map_at(&url);
        let db = &mut m.databases[0];
        let logins = db.tables.iter_mut().find(|t| t.name == "login_history").unwrap();
        let mut day = logins.columns[0].clone();
        day.name = "day".into();
        logins.columns.push(day);
        logins.vertical = Some(Vertical {
            kind: VerticalKind::Events,
            summary: Some("user_agent".into()),
            start: Some("day".into()),
            ..Default::default()
        });
        // a contact whose only field is withheld has nothing to show: no card, no file
        let customers = db.tables.iter_mut().find(|t| t.name == "customers").unwrap();
        customers.vertical = Some(Vertical { kind: VerticalKind::Contacts, full_name: Some("referred_by".into()), ..Default::default() });
        let addresses = db.tables.iter_mut().find(|t| t.name == "addresses").unwrap();
        addresses.vertical = Some(Vertical {
            kind: VerticalKind::Contacts,
            full_name: Some("label".into()),
            street: Some("street".into()),
            ..Default::default()
        });
        let mut ex = Extractor::open(&m).await.unwrap_or_else(|e| panic!("{e}"));
        let gdpr = Regime::builtin("gdpr").unwrap();
        let portability = scope(&m, &gdpr, RequestKind::Portability).unwrap().part(Part::Portability).unwrap().clone();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let identity = Identity::new(IdentityKind::Email, "alice@example.com");
        let manifest = response::write_package(&mut ex, &gdpr, &portability, &identity, as_of, &dir).await.unwrap();
        assert!(!dir.join("data/shop/addresses.vcf").exists(), "no rows, no file");
        assert!(manifest.tables.iter().find(|t| t.table == "addresses").unwrap().standard.is_none());
        let ics = std::fs::read_to_string(dir.join("data/shop/login_history.ics")).unwrap();
        assert!(ics.contains("DTSTART;VALUE=DATE:20240601\r\n"), "{ics}");
        // no UID column: each event still has one, the same for the same row
        let uids: Vec<&str> = ics.lines().filter_map(|l| l.strip_prefix("UID:")).collect();
        assert_eq!(uids.len(), 2, "{ics}");
        assert!(uids.iter().all(|u| u.ends_with("@ferry")));
        // a start that is no date: the row is not an event (it is in the other files)
        let logins = manifest.tables.iter().find(|t| t.table == "login_history").unwrap();
        let st = logins.standard.as_ref().unwrap();
        assert_eq!((st.records, st.skipped, logins.rows), (2, 1, 3));
        assert!(!dir.join("data/shop/customers.vcf").exists());
        assert!(manifest.tables.iter().find(|t| t.table == "customers").unwrap().standard.is_none());
        assert!(!manifest.files.iter().any(|f| f.path.ends_with(".vcf")));
    })
    .await;
}

#[test]
fn a_vertical_naming_a_missing_column_or_lacking_a_required_field_is_reported_with_every_problem() {
    let text = r#"
[[database]]
name = "shop"
url = "sqlite:shop.db"

[[database.table]]
name = "customers"
identity = { email = "email" }

[database.table.vertical]
kind = "contacts"
email = "mail"
summary = "email"

[[database.table.column]]
name = "email"
origin = "provided"
basis = "contract"

[[database.table]]
name = "visits"
links = { customer_id = "customers.id" }
vertical = { kind = "events", summary = "what", time_zone = "Europe/Paris" }

[[database.table.column]]
name = "what"
origin = "provided"
basis = "contract"
"#;
    let m = map::parse(text).unwrap();
    let problems: Vec<String> = map::validate(&m).iter().map(ToString::to_string).collect();
    let all = problems.join("\n");
    for want in [
        r#"database "shop", table "customers", column "mail": its contacts vertical maps `email` to column "mail", which is not a declared column"#,
        r#"database "shop", table "customers": its contacts vertical maps `summary`, which is not a field of contacts"#,
        r#"database "shop", table "customers": its contacts vertical does not say which column holds `full_name`"#,
        r#"database "shop", table "visits": its events vertical does not say which column holds `start`"#,
        r#"database "shop", table "visits": its events vertical's time_zone must be "UTC""#,
    ] {
        assert!(all.contains(want), "missing\n  {want}\nin\n{all}");
    }
    // an unknown kind or field is refused as the map is read, naming the table
    let bad = text
        .replace(r#"kind = "contacts""#, r#"kind = "recipes""#)
        .replace("vertical = { kind = \"events\",", "vertical = { kind = \"events\", colour = \"x\",");
    let err = map::parse(&bad).unwrap_err().to_string();
    assert!(err.contains(r#"table "customers": unknown variant `recipes`, expected `contacts` or `events`"#), "{err}");
    assert!(err.contains(r#"table "visits": unknown field `colour`"#), "{err}");
}

#[test]
fn the_sample_shops_customers_are_contacts() {
    let m = shop::map_at("sqlite:unused");
    let customers = m.databases[0].table("customers").unwrap();
    let v = customers.vertical.as_ref().unwrap();
    assert_eq!((v.kind, v.full_name.as_deref(), v.email.as_deref()), (VerticalKind::Contacts, Some("name"), Some("email")));
    assert!(map::validate(&m).is_empty());
}
