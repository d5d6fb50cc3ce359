//! The sample shop (examples/requests/shop/) loaded into a fresh database: a temporary
//! SQLite file, or a database of its own on the PostgreSQL or MariaDB server of this
//! machine (FERRY_TEST_POSTGRES and FERRY_TEST_MARIADB override where; a missing server
//! fails the test). Each database is dropped when the test is done with it.

#![allow(dead_code)]

use ferry_requests::map::{self, DatasetMap};
use sqlx::{Connection, Executor};
use std::path::{Path, PathBuf};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop")
}

/// The shop's map, pointed at `url`.
pub fn map_at(url: &str) -> DatasetMap {
    let mut m = map::load(&dir().join("map.toml")).unwrap();
    m.databases[0].url = url.to_string();
    m
}

/// The statements of a SQL file: comments dropped, split at `;` ending a line.
pub fn statements(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    let text: String = text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    text.split(";\n").map(str::trim).map(|s| s.trim_end_matches(';').to_string()).filter(|s| !s.is_empty()).collect()
}

fn server(var: &str, default: &str) -> String {
    std::env::var(var).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host = base.find("://").map_or(0, |i| i + 3);
    let base = base[host..].find('/').map_or(base, |i| &base[..host + i]);
    format!("{base}/{db}{}", query.map(|q| format!("?{q}")).unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    MariaDb,
}

/// A loaded shop; [`Shop::drop_it`] removes the database.
pub struct Shop {
    pub kind: Kind,
    pub url: String,
    name: String,
    admin: String,
    _dir: Option<tempfile::TempDir>,
}

impl Shop {
    /// A fresh database of `kind` with the shop's schema, the seed, and `extra` statements.
    pub async fn load(kind: Kind, extra: &[String]) -> Shop {
        let name = format!("ferry_extract_{}", uuid::Uuid::new_v4().simple());
        let (schema, url, admin, dir) = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("shop.db").display());
                ("schema.sqlite.sql", url, String::new(), Some(dir))
            }
            Kind::Postgres => {
                let admin = server("FERRY_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test");
                let mut c =
                    sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {admin}: {e}"));
                c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
                c.close().await.unwrap();
                ("schema.postgres.sql", with_database(&admin, &name), admin, None)
            }
            Kind::MariaDb => {
                let admin = server("FERRY_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test");
                let mut c =
                    sqlx::MySqlConnection::connect(&admin).await.unwrap_or_else(|e| panic!("cannot connect to MariaDB at {admin}: {e}"));
                c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
                c.close().await.unwrap();
                ("schema.mariadb.sql", with_database(&admin, &name), admin, None)
            }
        };
        let shop = Shop { kind, url, name, admin, _dir: dir };
        let mut all = statements(schema);
        all.extend(statements("seed.sql"));
        all.extend(extra.iter().cloned());
        shop.run(&all).await;
        shop
    }

    /// Runs statements on the shop's database.
    pub async fn run(&self, statements: &[String]) {
        match self.kind {
            Kind::Sqlite => {
                let opts: sqlx::sqlite::SqliteConnectOptions =
                    self.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
                let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
                for s in statements {
                    c.execute(sqlx::AssertSqlSafe(s.clone())).await.unwrap_or_else(|e| panic!("{e}: {s}"));
                }
                c.close().await.unwrap();
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                for s in statements {
                    c.execute(sqlx::AssertSqlSafe(s.clone())).await.unwrap_or_else(|e| panic!("{e}: {s}"));
                }
                c.close().await.unwrap();
            }
            Kind::MariaDb => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                for s in statements {
                    c.execute(sqlx::AssertSqlSafe(s.clone())).await.unwrap_or_else(|e| panic!("{e}: {s}"));
                }
                c.close().await.unwrap();
            }
        }
    }

    /// The number of rows of `table` (to see that nothing was changed).
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut c).await.unwrap()
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut c).await.unwrap()
            }
            Kind::MariaDb => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut c).await.unwrap()
            }
        }
    }

    /// Drops the database this shop made (only that one).
    pub async fn drop_it(self) {
        match self.kind {
            Kind::Sqlite => {}
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.admin).await.unwrap();
                c.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {} WITH (FORCE)", self.name))).await.unwrap();
            }
            Kind::MariaDb => {
                let mut c = sqlx::MySqlConnection::connect(&self.admin).await.unwrap();
                c.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {}", self.name))).await.unwrap();
            }
        }
    }
}

/// Runs `test` on a freshly loaded shop of `kind`, then drops the shop's database,
/// whether the test passed or not.
pub async fn with_shop<F, Fut>(kind: Kind, extra: &[String], test: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let shop = Shop::load(kind, extra).await;
    let url = shop.url.clone();
    let outcome = tokio::spawn(test(url)).await;
    shop.drop_it().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
