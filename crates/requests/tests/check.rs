//! check-map against real databases: a temporary SQLite file, and fresh databases on
//! the PostgreSQL and MariaDB servers of this machine (FERRY_TEST_POSTGRES and
//! FERRY_TEST_MARIADB override where), each holding the example shop's tables with the
//! same three faults.

use ferry_requests::check::{self, Catalog, TableInfo};
use ferry_requests::map::{self, DatasetMap};
use sqlx::{Connection, Executor};
use std::path::Path;

fn shop() -> DatasetMap {
    map::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop-map.toml")).unwrap()
}

/// The shop's tables, in SQL all three databases take, with three faults: no index on
/// orders.customer_id, no support_tickets.cc_recipients column, no recommendations table.
const SHOP_DDL: [&str; 7] = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(255), newsletter BOOLEAN, fraud_score INTEGER)",
    "CREATE UNIQUE INDEX customers_email ON customers (email)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40), shipping_address VARCHAR(255), \
     invoice_number VARCHAR(40))",
    "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product VARCHAR(255), quantity INTEGER, price_cents INTEGER)",
    "CREATE INDEX order_items_order ON order_items (order_id, product)",
    "CREATE TABLE support_tickets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, opened_at VARCHAR(40), message VARCHAR(2000), \
     agent_notes VARCHAR(2000))",
    "CREATE INDEX support_tickets_customer ON support_tickets (customer_id)",
];

const WANT: [&str; 3] = [
    "database \"shop\", table \"orders\", column \"customer_id\": no index starts with this column, which ferry searches (an identity or link column): every request would read the whole table",
    "database \"shop\", table \"recommendations\": the database has no such table",
    "database \"shop\", table \"support_tickets\", column \"cc_recipients\": the table has no such column",
];

async fn check_at(url: String) -> Vec<String> {
    let mut m = shop();
    m.databases[0].url = url;
    check::check_map(&m).await.iter().map(ToString::to_string).collect()
}

#[test]
fn compare_reports_missing_tables_columns_and_indexes_at_once() {
    let m = shop();
    let mut cat = Catalog::default();
    let mut customers = TableInfo::default();
    customers.columns.extend(["id", "email", "name", "newsletter"].map(String::from));
    customers.indexed.insert("id".into());
    cat.tables.insert("customers".into(), customers);
    let got: Vec<String> = check::compare(&m.databases[0], &cat).iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "database \"shop\", table \"customers\", column \"email\": no index starts with this column, which ferry searches (an identity or link column): every request would read the whole table",
            "database \"shop\", table \"customers\", column \"fraud_score\": the table has no such column",
            "database \"shop\", table \"order_items\": the database has no such table",
            "database \"shop\", table \"orders\": the database has no such table",
            "database \"shop\", table \"recommendations\": the database has no such table",
            "database \"shop\", table \"support_tickets\": the database has no such table",
        ]
    );
}

#[tokio::test]
async fn check_map_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let url = format!("sqlite:{}", path.display());
    {
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        for ddl in SHOP_DDL {
            conn.execute(ddl).await.unwrap();
        }
        conn.close().await.unwrap();
    }
    assert_eq!(check_at(url.clone()).await, WANT);
    // the url may come from the environment (looked up here by a stand-in: setting a
    // variable while other test threads read the environment is not sound)
    let mut db = shop().databases.remove(0);
    db.url = "env:SHOP_URL".into();
    let resolved = db.resolve_url_with(|var| (var == "SHOP_URL").then(|| url.clone())).unwrap();
    assert_eq!(check_at(resolved).await, WANT);
    assert_eq!(
        check_at("env:FERRY_REQUESTS_TEST_NOT_SET".into()).await,
        ["database \"shop\": its url names the environment variable FERRY_REQUESTS_TEST_NOT_SET, which is not set"]
    );
    // an unreadable database is one problem, not a panic, and no file is made
    let missing = dir.path().join("missing.db");
    let got = check_at(format!("sqlite:{}", missing.display())).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("database \"shop\": cannot read it:"), "{}", got[0]);
    assert!(!missing.exists());
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host = base.find("://").map_or(0, |i| i + 3);
    let base = base[host..].find('/').map_or(base, |i| &base[..host + i]);
    format!("{base}/{db}{}", query.map(|q| format!("?{q}")).unwrap_or_default())
}

fn server(var: &str, default: &str) -> String {
    std::env::var(var).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string())
}

#[tokio::test]
async fn check_map_on_postgres() {
    let server = server("FERRY_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test");
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {server}: {e}"));
    let name = format!("ferry_check_{}", uuid::Uuid::new_v4().simple());
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    let url = with_database(&server, &name);
    let outcome = tokio::spawn(async move {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        for ddl in SHOP_DDL {
            conn.execute(ddl).await.unwrap();
        }
        conn.close().await.unwrap();
        assert_eq!(check_at(url.clone()).await, WANT);
        // tables are also known as schema.table
        let cat = check::catalog(&url).await.unwrap();
        assert!(cat.tables["public.orders"].columns.contains("customer_id"));
        assert!(cat.tables["orders"].indexed.contains("id"));
    })
    .await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn check_map_on_mariadb() {
    let server = server("FERRY_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test");
    let mut admin = sqlx::MySqlConnection::connect(&server).await.unwrap_or_else(|e| panic!("cannot connect to MariaDB at {server}: {e}"));
    let name = format!("ferry_check_{}", uuid::Uuid::new_v4().simple());
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    let url = with_database(&server, &name);
    let outcome = tokio::spawn(async move {
        let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
        for ddl in SHOP_DDL {
            conn.execute(ddl).await.unwrap();
        }
        conn.close().await.unwrap();
        assert_eq!(check_at(url.clone()).await, WANT);
        // the mariadb:// spelling reads the same database
        assert_eq!(check_at(url.replacen("mysql://", "mariadb://", 1)).await, WANT);
    })
    .await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
