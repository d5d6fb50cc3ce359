//! Extraction and the response package, on the sample shop (examples/requests/shop/)
//! loaded into real SQLite, PostgreSQL and MariaDB databases: what each right gives
//! Alice (customer 1), what it leaves out and withholds, and bad input.

mod shop;

use chrono::NaiveDate;
use ferry_requests::extract::{Collect, ExtractError, Extractor, Identity};
use ferry_requests::map::{self, IdentityKind};
use ferry_requests::regime::Regime;
use ferry_requests::response::{self, Encryption};
use ferry_requests::scope::{PartScope, scope};
use ferry_requests::{Part, RequestKind};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shop::{Kind, with_shop};
use std::collections::BTreeMap;
use std::path::Path;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

fn part(regime: &str, kind: RequestKind, part: Part) -> PartScope {
    let m = shop::map_at("sqlite:unused");
    scope(&m, &Regime::builtin(regime).unwrap(), kind).unwrap().part(part).unwrap().clone()
}

fn email(value: &str) -> Identity {
    Identity::new(IdentityKind::Email, value)
}

/// The rows of each table file of a package, by table.
fn package_rows(dir: &Path) -> BTreeMap<String, Vec<serde_json::Map<String, Value>>> {
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for t in manifest["tables"].as_array().unwrap() {
        let Some(path) = t["jsonl"].as_str() else { continue };
        let text = std::fs::read_to_string(dir.join(path)).unwrap();
        let rows: Vec<serde_json::Map<String, Value>> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len() as u64, t["rows"].as_u64().unwrap());
        out.insert(t["table"].as_str().unwrap().to_string(), rows);
    }
    out
}

/// Each table's `id`s, sorted.
fn ids(rows: &BTreeMap<String, Vec<serde_json::Map<String, Value>>>) -> BTreeMap<String, Vec<i64>> {
    rows.iter()
        .map(|(t, rows)| {
            let mut ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap_or_else(|| panic!("{t}: {r:?}"))).collect();
            ids.sort_unstable();
            (t.clone(), ids)
        })
        .collect()
}

fn want(tables: &[(&str, &[i64])]) -> BTreeMap<String, Vec<i64>> {
    tables.iter().map(|(t, ids)| (t.to_string(), ids.to_vec())).collect()
}

/// Every file of the package as text, to search for what must not be there.
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                text.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    text
}

/// What the other customers hold that is not Alice's: none of it may reach her answer.
const NOT_ALICES: [&str; 7] = [
    "bob@example.com",
    "Carol Clark",
    "Saucer Road",
    "The lid rattles.",
    "My favourite mug.",
    "Rattling lid",
    "Offered a replacement lid.",
];

/// Portability, access and CCPA answers for Alice on one kind of database.
async fn alice(url: String) {
    let m = shop::map_at(&url);
    let mut ex = Extractor::open(&m).await.unwrap_or_else(|e| panic!("{e}"));
    let gdpr = Regime::builtin("gdpr").unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // Article 20: the provided and observed rows on consent or contract
    let portability = part("gdpr", RequestKind::Portability, Part::Portability);
    let dir = tmp.path().join("portability");
    let manifest = response::write_package(&mut ex, &gdpr, &portability, &email("alice@example.com"), as_of(), &dir).await.unwrap();
    let rows = package_rows(&dir);
    assert_eq!(
        ids(&rows),
        want(&[
            ("addresses", &[1, 2]),
            ("customers", &[1]),
            ("login_history", &[1, 2, 3]),
            ("marketing_consents", &[1, 2, 3]),
            ("messages", &[1, 2, 4]),
            ("order_lines", &[1, 2, 3, 4, 5]),
            ("orders", &[1, 2, 3]),
            ("products", &[1, 2, 3, 4]),
            ("reviews", &[1, 2]),
            ("support_tickets", &[1, 2]),
        ])
    );
    // not the recommendation score, not the invoices (legal obligation), not the staff notes
    let listed: Vec<&str> = manifest.tables.iter().map(|t| t.table.as_str()).collect();
    for absent in ["recommendation_scores", "invoices", "ticket_notes"] {
        assert!(!listed.contains(&absent), "{absent} in {listed:?}");
        assert!(!dir.join(format!("data/shop/{absent}.jsonl")).exists());
    }
    let left_out: Vec<&str> = manifest.left_out.iter().flat_map(|o| o.columns.iter().map(String::as_str)).collect();
    for c in ["shop.recommendation_scores.score", "shop.invoices.number", "shop.ticket_notes.note", "shop.login_history.ip_address"] {
        assert!(left_out.contains(&c), "{c} not in {left_out:?}");
    }
    let inferred = manifest.left_out.iter().find(|o| o.reason.starts_with("inferred data is outside Article 20(1)")).unwrap();
    assert!(inferred.columns.contains(&"shop.recommendation_scores.score".to_string()));
    // a sign-in's IP address (legitimate interests) is left out of the rows, the rest kept
    assert_eq!(rows["login_history"][0].keys().collect::<Vec<_>>(), ["id", "logged_in_at", "user_agent"]);
    // other people's data: withheld, null, with the reason
    let withheld: Vec<&str> = manifest.withheld.iter().flat_map(|o| o.columns.iter().map(String::as_str)).collect();
    assert_eq!(withheld, ["shop.customers.referred_by", "shop.messages.body"]);
    assert!(rows["messages"].iter().all(|r| r["body"].is_null() && r["subject"].is_string()));
    assert!(rows["customers"][0]["referred_by"].is_null());
    let customers = manifest.tables.iter().find(|t| t.table == "customers").unwrap();
    assert!(customers.withheld["referred_by"].contains("Article 20(4)"));
    assert_eq!(rows["customers"][0]["email"], "alice@example.com");
    // nothing of the other customers: not Bob's review of the same teapot, not Bob's
    // account, which messages and the referral point to
    let text = all_text(&dir);
    for other in NOT_ALICES {
        assert!(!text.contains(other), "`{other}` is in Alice's portability package");
    }
    // the files are what the manifest says
    for f in &manifest.files {
        let bytes = std::fs::read(dir.join(&f.path)).unwrap();
        assert_eq!(bytes.len() as u64, f.bytes, "{}", f.path);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), f.sha256, "{}", f.path);
    }
    assert!(!dir.join("report.html").exists(), "a portability answer has no report");
    let csv = std::fs::read_to_string(dir.join("data/shop/messages.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap(), "id,sent_at,subject,body");
    assert_eq!(csv.lines().count(), 4);
    let schema: Value = serde_json::from_slice(&std::fs::read(dir.join("schemas/shop/messages.schema.json")).unwrap()).unwrap();
    assert!(schema["properties"]["subject"]["description"].as_str().unwrap().starts_with("The message's subject."));
    assert_eq!(schema["properties"]["body"]["type"], "null");
    assert!(schema["properties"]["body"]["x-withheld"].as_str().unwrap().contains("other people's personal data"));

    // Article 15: all of it, with the supplementary information
    let access = part("gdpr", RequestKind::Access, Part::Access);
    let dir = tmp.path().join("access");
    let manifest = response::write_package(&mut ex, &gdpr, &access, &email("alice@example.com"), as_of(), &dir).await.unwrap();
    let rows = package_rows(&dir);
    assert_eq!(
        ids(&rows),
        want(&[
            ("addresses", &[1, 2]),
            ("customers", &[1]),
            ("invoices", &[1, 2, 3]),
            ("login_history", &[1, 2, 3]),
            ("marketing_consents", &[1, 2, 3]),
            ("messages", &[1, 2, 4]),
            ("order_lines", &[1, 2, 3, 4, 5]),
            ("orders", &[1, 2, 3]),
            ("products", &[1, 2, 3, 4]),
            ("recommendation_scores", &[1]),
            ("reviews", &[1, 2]),
            ("support_tickets", &[1, 2]),
            ("ticket_notes", &[1, 2]),
        ])
    );
    assert!(manifest.left_out.is_empty());
    assert!(rows["login_history"].iter().all(|r| r["ip_address"].is_string()));
    assert!(rows["messages"].iter().all(|r| r["body"].is_null()));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for needed in [
        "Tax authority",                                                 // a recipient
        "10 years after the end of the financial year",                  // a retention
        "inferred by us from other data",                                // a source
        "Every night a model scores",                                    // the automated decision
        "Article 77 GDPR",                                               // the complaint statement
        "Article 16 GDPR",                                               // the other rights
        "Pours without a drip. &lt;b&gt;Lovely&lt;/b&gt; &amp; sturdy.", // escaped
        "INV-2026-0042",
    ] {
        assert!(html.contains(needed), "the report lacks `{needed}`");
    }
    assert!(!html.contains("<b>Lovely"), "the report does not escape the data");
    assert!(html.contains("<td class=\"withheld\""));
    let text = all_text(&dir);
    for other in NOT_ALICES {
        assert!(!text.contains(other), "`{other}` is in Alice's access package");
    }

    // CCPA right to know: inferred data too, and only the last 12 months
    let ccpa = Regime::builtin("ccpa").unwrap();
    let know = part("ccpa", RequestKind::Access, Part::Access);
    let dir = tmp.path().join("ccpa");
    let manifest = response::write_package(&mut ex, &ccpa, &know, &email("alice@example.com"), as_of(), &dir).await.unwrap();
    assert_eq!(manifest.recorded_since, NaiveDate::from_ymd_opt(2025, 6, 30));
    assert_eq!(
        ids(&package_rows(&dir)),
        want(&[
            ("addresses", &[1, 2]),
            ("customers", &[1]),
            ("invoices", &[2, 3]),
            ("login_history", &[2, 3]),
            ("marketing_consents", &[2, 3]),
            ("messages", &[1, 2]),
            ("order_lines", &[3, 4, 5]),
            ("orders", &[2, 3]),
            ("products", &[2, 3, 4]),
            ("recommendation_scores", &[1]),
            ("reviews", &[2]),
            ("support_tickets", &[2]),
            ("ticket_notes", &[2]),
        ])
    );
    let withheld: Vec<&str> = manifest.withheld.iter().flat_map(|o| o.columns.iter().map(String::as_str)).collect();
    assert_eq!(withheld, ["shop.customers.referred_by", "shop.messages.body"]);
    assert!(std::fs::read_to_string(dir.join("report.html")).unwrap().contains("on or after 2025-06-30"));

    // bad input: SQL in the identity is a value, nothing else
    for hostile in ["alice@example.com' OR '1'='1", "x'); DROP TABLE customers; --", "\" OR \"\"=\"", "%", "alice@example.com\\"] {
        let mut sink = Collect::default();
        let got = ex.extract(&portability, &email(hostile), as_of(), &mut sink).await.unwrap();
        assert_eq!(got.rows(), 0, "{hostile}");
        assert!(sink.rows.is_empty());
    }
    let mut sink = Collect::default();
    let got = ex.extract(&portability, &Identity::new(IdentityKind::CustomerId, "1 OR 1=1"), as_of(), &mut sink).await.unwrap();
    assert_eq!(got.rows(), 0);
    // an address with a quote in it is found like any other
    let mut sink = Collect::default();
    ex.extract(&portability, &email("dara.o'brien@example.com"), as_of(), &mut sink).await.unwrap();
    assert_eq!(sink.rows["customers"][0]["name"], "Dara O'Brien");
    assert_eq!(sink.rows["orders"].len(), 1);
    // found by customer number, the same answer as by email
    let mut by_id = Collect::default();
    ex.extract(&portability, &Identity::new(IdentityKind::CustomerId, "1"), as_of(), &mut by_id).await.unwrap();
    let mut by_email = Collect::default();
    ex.extract(&portability, &email("alice@example.com"), as_of(), &mut by_email).await.unwrap();
    let count = |c: &Collect| c.rows.iter().map(|(t, r)| (t.clone(), r.len())).collect::<Vec<_>>();
    assert_eq!(count(&by_id), count(&by_email));

    // a person with no records: an honest empty answer (the identity, shown in the
    // report, is escaped like everything else)
    let dir = tmp.path().join("nobody");
    let nobody = email("<script>alert(1)</script>@example.com");
    let manifest = response::write_package(&mut ex, &gdpr, &access, &nobody, as_of(), &dir).await.unwrap();
    assert!(manifest.empty);
    assert!(manifest.statement.starts_with("We found no personal data about you"), "{}", manifest.statement);
    assert!(manifest.tables.iter().all(|t| t.rows == 0 && t.jsonl.is_none()));
    assert_eq!(manifest.tables.len(), 13);
    assert!(!dir.join("data").exists());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("We found no personal data about you"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@example.com") && !html.contains("<script>"));
    // an account and nothing else
    let mut sink = Collect::default();
    ex.extract(&access, &email("erin@example.com"), as_of(), &mut sink).await.unwrap();
    assert_eq!(sink.rows.keys().collect::<Vec<_>>(), ["customers"]);
    drop(ex);
}

#[tokio::test]
async fn alices_answers_from_sqlite() {
    with_shop(Kind::Sqlite, &[], alice).await;
}

#[tokio::test]
async fn alices_answers_from_postgres() {
    with_shop(Kind::Postgres, &[], alice).await;
}

#[tokio::test]
async fn alices_answers_from_mariadb() {
    with_shop(Kind::MariaDb, &[], alice).await;
}

#[tokio::test]
async fn small_chunks_give_the_same_rows_and_the_key_bound_stops_a_runaway() {
    with_shop(Kind::Sqlite, &[], |url| async move {
        let m = shop::map_at(&url);
        let access = part("gdpr", RequestKind::Access, Part::Access);
        let mut ex = Extractor::open(&m).await.unwrap();
        let mut whole = Collect::default();
        let a = ex.extract(&access, &email("alice@example.com"), as_of(), &mut whole).await.unwrap();
        ex.options.chunk = 1;
        let mut chunked = Collect::default();
        let b = ex.extract(&access, &email("alice@example.com"), as_of(), &mut chunked).await.unwrap();
        let sorted = |c: &Collect| {
            c.rows
                .iter()
                .map(|(t, rows)| {
                    (t.clone(), {
                        let mut v: Vec<String> = rows.iter().map(|r| Value::Object(r.clone()).to_string()).collect();
                        v.sort();
                        v
                    })
                })
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(sorted(&whole), sorted(&chunked));
        assert!(b.queries > a.queries);
        ex.options.max_keys = 5;
        let err = ex.extract(&access, &email("alice@example.com"), as_of(), &mut Collect::default()).await.unwrap_err();
        assert!(matches!(err, ExtractError::TooManyKeys { .. }), "{err}");
        assert!(err.to_string().contains("more than 5 key values"), "{err}");
        // a package that fails half-way is not left on disk
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("failed");
        let gdpr = Regime::builtin("gdpr").unwrap();
        assert!(response::write_package(&mut ex, &gdpr, &access, &email("alice@example.com"), as_of(), &dir).await.is_err());
        assert!(!dir.exists());
    })
    .await;
}

#[tokio::test]
async fn a_map_naming_a_missing_column_is_refused_with_every_problem() {
    with_shop(Kind::Sqlite, &["DROP INDEX reviews_product".to_string()], |url| async move {
        let mut m = shop::map_at(&url);
        let customers = &mut m.databases[0].tables[0];
        let mut extra = customers.columns[1].clone();
        extra.name = "loyalty_points".into();
        customers.columns.push(extra);
        let err = Extractor::open(&m).await.err().expect("refused");
        let text = err.to_string();
        assert!(text.starts_with("the dataset map does not fit the database"), "{text}");
        assert!(text.contains("table \"customers\", column \"loyalty_points\": the table has no such column"), "{text}");
        assert!(text.contains("table \"reviews\", column \"product_id\": no index starts with this column"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn an_identity_kind_the_map_lacks_and_an_oversized_identity_are_clear_errors() {
    with_shop(Kind::Sqlite, &[], |url| async move {
        let m = shop::map_at(&url);
        let mut ex = Extractor::open(&m).await.unwrap();
        let p = part("gdpr", RequestKind::Portability, Part::Portability);
        let err =
            ex.extract(&p, &Identity::new(IdentityKind::Phone, "+44 20 7946 0001"), as_of(), &mut Collect::default()).await.unwrap_err();
        assert_eq!(err.to_string(), "no table of the dataset map has a phone identity column, so no person can be found by a phone");
        let err = ex.extract(&p, &email(&"a".repeat(5000)), as_of(), &mut Collect::default()).await.unwrap_err();
        assert_eq!(err.to_string(), "the identity value is longer than 1024 bytes");
        let err = ex.extract(&p, &email("a\0b"), as_of(), &mut Collect::default()).await.unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    })
    .await;
}

const CYCLE_MAP: &str = r#"
[[database]]
name = "loop"
url = "sqlite:unused"

[[database.table]]
name = "people"
identity = { email = "email", account_id = "id" }
[[database.table.column]]
name = "email"
origin = "provided"
basis = "contract"

[[database.table]]
name = "a"
links = { person_id = "people.id", b_id = "b.id", parent_id = "a.id" }
[[database.table.column]]
name = "id"
origin = "observed"
basis = "contract"

[[database.table]]
name = "b"
links = { a_id = "a.id" }
[[database.table.column]]
name = "id"
origin = "observed"
basis = "contract"
"#;

#[tokio::test]
async fn a_cycle_of_references_ends_and_gives_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("loop.db").display());
    {
        use sqlx::{Connection, Executor};
        let opts = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        for s in [
            "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL)",
            "CREATE INDEX people_email ON people (email)",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, person_id INTEGER, b_id INTEGER, parent_id INTEGER)",
            "CREATE INDEX a_person ON a (person_id)",
            "CREATE INDEX a_b ON a (b_id)",
            "CREATE INDEX a_parent ON a (parent_id)",
            "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER)",
            "CREATE INDEX b_a ON b (a_id)",
            "INSERT INTO people VALUES (1, 'me@example.com'), (2, 'other@example.com')",
            // a → b → a, a → a: a1 and a2 are mine and point at each other through b
            "INSERT INTO a VALUES (1, 1, 1, 2), (2, 1, 2, 1), (3, 2, 3, NULL)",
            "INSERT INTO b VALUES (1, 2), (2, 1), (3, 3)",
        ] {
            c.execute(s).await.unwrap();
        }
        c.close().await.unwrap();
    }
    let mut m = map::parse(CYCLE_MAP).unwrap();
    m.databases[0].url = url;
    assert_eq!(map::validate(&m), Vec::new());
    let access = scope(&m, &Regime::builtin("gdpr").unwrap(), RequestKind::Access).unwrap().part(Part::Access).unwrap().clone();
    let mut ex = Extractor::open(&m).await.unwrap();
    let mut sink = Collect::default();
    ex.extract(&access, &email("me@example.com"), as_of(), &mut sink).await.unwrap();
    let got: BTreeMap<String, Vec<i64>> = sink
        .rows
        .iter()
        .filter(|(t, _)| *t != "people")
        .map(|(t, rows)| {
            let mut v: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
            v.sort_unstable();
            (t.clone(), v)
        })
        .collect();
    assert_eq!(got, want(&[("a", &[1, 2]), ("b", &[1, 2])]));
    assert_eq!(sink.rows["people"].len(), 1);
}

#[tokio::test]
async fn a_sealed_package_opens_with_the_passphrase_or_the_key_and_holds_the_files() {
    with_shop(Kind::Sqlite, &[], |url| async move {
        let m = shop::map_at(&url);
        let mut ex = Extractor::open(&m).await.unwrap();
        let gdpr = Regime::builtin("gdpr").unwrap();
        let p = part("gdpr", RequestKind::Portability, Part::Portability);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("package");
        let manifest = response::write_package(&mut ex, &gdpr, &p, &email("alice@example.com"), as_of(), &dir).await.unwrap();
        let key = age::x25519::Identity::generate();
        let sealed = tmp.path().join("package.zip.age");
        response::seal(&dir, &manifest, &sealed, &Encryption::Recipients(vec![key.to_public()])).unwrap();
        let bytes = std::fs::read(&sealed).unwrap();
        assert!(bytes.starts_with(b"age-encryption.org/v1"));
        assert!(!bytes.windows(17).any(|w| w == b"alice@example.com"), "plaintext in the sealed file");
        let plain = age::decrypt(&key, &bytes).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap();
        assert_eq!(zip.len(), manifest.files.len() + 1);
        let mut read = |name: &str| {
            let mut f = zip.by_name(name).unwrap();
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut v).unwrap();
            v
        };
        assert_eq!(read("manifest.json"), std::fs::read(dir.join("manifest.json")).unwrap());
        for f in &manifest.files {
            assert_eq!(hex::encode(Sha256::digest(read(&f.path))), f.sha256);
        }
        let sealed2 = tmp.path().join("package2.zip.age");
        let pass = age::secrecy::SecretString::from("correct horse battery staple".to_string());
        response::seal(&dir, &manifest, &sealed2, &Encryption::Passphrase(pass.clone())).unwrap();
        let plain = age::decrypt(&age::scrypt::Identity::new(pass), &std::fs::read(&sealed2).unwrap()).unwrap();
        assert!(zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap().by_name("manifest.json").is_ok());
        let wrong = age::scrypt::Identity::new(age::secrecy::SecretString::from("wrong".to_string()));
        assert!(age::decrypt(&wrong, &std::fs::read(&sealed2).unwrap()).is_err());
        // sealing never overwrites
        assert!(response::seal(&dir, &manifest, &sealed2, &Encryption::Recipients(vec![key.to_public()])).is_err());
    })
    .await;
}

const TWO_DATABASES: &str = r#"
[[database]]
name = "shop"
url = "sqlite:unused"

[[database.table]]
name = "customers"
identity = { email = "email", customer_id = "id" }
[[database.table.column]]
name = "email"
origin = "provided"
basis = "contract"

[[database.table]]
name = "orders"
links = { customer_id = "customers.id" }
[[database.table.column]]
name = "id"
origin = "observed"
basis = "contract"

[[database.table]]
name = "newsletter"
identity = { email = "address" }
[[database.table.column]]
name = "address"
origin = "provided"
basis = "consent"

# the call centre's database knows customers only by their number
[[database]]
name = "crm"
url = "sqlite:unused"

[[database.table]]
name = "calls"
identity = { customer_id = "customer_number" }
[[database.table.column]]
name = "id"
origin = "observed"
basis = "contract"
[[database.table.column]]
name = "summary"
origin = "observed"
basis = "contract"
"#;

#[tokio::test]
async fn an_identity_found_in_one_database_finds_the_person_in_another() {
    use sqlx::{Connection, Executor};
    let dir = tempfile::tempdir().unwrap();
    let shop_url = format!("sqlite:{}", dir.path().join("shop.db").display());
    let crm_url = format!("sqlite:{}", dir.path().join("crm.db").display());
    for (url, statements) in [
        (
            &shop_url,
            vec![
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL)",
                "CREATE UNIQUE INDEX customers_email ON customers (email)",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL)",
                "CREATE INDEX orders_customer ON orders (customer_id)",
                "CREATE TABLE newsletter (address TEXT PRIMARY KEY)",
                "INSERT INTO customers VALUES (7, 'kim@example.com'), (8, 'lee@example.com')",
                "INSERT INTO orders VALUES (1, 7), (2, 8), (3, 7)",
                "INSERT INTO newsletter VALUES ('kim@example.com')",
            ],
        ),
        (
            &crm_url,
            vec![
                "CREATE TABLE calls (id INTEGER PRIMARY KEY, customer_number INTEGER NOT NULL, summary TEXT)",
                "CREATE INDEX calls_customer ON calls (customer_number)",
                "INSERT INTO calls VALUES (1, 7, 'Asked about a refund'), (2, 8, 'Changed address'), (3, 7, 'Thanked us')",
            ],
        ),
    ] {
        let opts = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        for s in statements {
            c.execute(s).await.unwrap();
        }
        c.close().await.unwrap();
    }
    let mut m = map::parse(TWO_DATABASES).unwrap();
    m.databases[0].url = shop_url;
    m.databases[1].url = crm_url;
    assert_eq!(map::validate(&m), Vec::new());
    let p = scope(&m, &Regime::builtin("gdpr").unwrap(), RequestKind::Portability).unwrap().part(Part::Portability).unwrap().clone();
    let mut ex = Extractor::open(&m).await.unwrap();
    let mut sink = Collect::default();
    let got = ex.extract(&p, &email("kim@example.com"), as_of(), &mut sink).await.unwrap();
    let summaries: Vec<&str> = sink.rows["calls"].iter().map(|r| r["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries.len(), 2);
    assert!(summaries.contains(&"Asked about a refund") && summaries.contains(&"Thanked us"));
    assert_eq!(sink.rows["orders"].len(), 2);
    assert_eq!(sink.rows["newsletter"].len(), 1);
    assert_eq!(sink.rows["customers"].len(), 1);
    assert_eq!(got.rows(), 6);
    assert_eq!(
        got.tables.iter().map(|(t, _)| format!("{}.{}", t.database, t.table)).collect::<Vec<_>>(),
        ["shop.customers", "shop.orders", "shop.newsletter", "crm.calls"]
    );
}
