//! The catalog of a SQLite database, read-only.

use super::Catalog;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::str::FromStr;

pub async fn catalog(url: &str) -> Result<Catalog, String> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| e.to_string())?.read_only(true);
    let mut conn = opts.connect().await.map_err(|e| e.to_string())?;
    let mut cat = Catalog::default();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
    for table in tables {
        let columns =
            sqlx::query("SELECT name, pk FROM pragma_table_info(?1)").bind(&table).fetch_all(&mut conn).await.map_err(|e| e.to_string())?;
        for c in columns {
            let name: String = c.get("name");
            // the first column of the primary key: an INTEGER PRIMARY KEY is the rowid,
            // which no index list shows
            if c.get::<i64, _>("pk") == 1 {
                cat.add_index(table.clone(), name.clone());
            }
            cat.add_column(table.clone(), name);
        }
        let leading: Vec<String> =
            sqlx::query_scalar("SELECT ii.name FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii WHERE ii.seqno = 0")
                .bind(&table)
                .fetch_all(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
        for column in leading {
            cat.add_index(table.clone(), column);
        }
    }
    Ok(cat)
}
