//! The catalog of a PostgreSQL database: tables in the current schema by their name,
//! every table also as `schema.table`.

use super::Catalog;
use sqlx::{Connection, PgConnection, Row};

pub async fn catalog(url: &str) -> Result<Catalog, String> {
    let mut conn = PgConnection::connect(url).await.map_err(|e| e.to_string())?;
    let mut cat = Catalog::default();
    let columns = sqlx::query(
        "SELECT table_schema::text AS s, table_name::text AS t, column_name::text AS c, table_schema = current_schema() AS here \
         FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    for r in columns {
        let (s, t, c, here): (String, String, String, bool) = (r.get("s"), r.get("t"), r.get("c"), r.get("here"));
        if here {
            cat.add_column(t.clone(), c.clone());
        }
        cat.add_column(format!("{s}.{t}"), c);
    }
    let leading = sqlx::query(
        "SELECT n.nspname::text AS s, c.relname::text AS t, a.attname::text AS c, n.nspname = current_schema() AS here \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    for r in leading {
        let (s, t, c, here): (String, String, String, bool) = (r.get("s"), r.get("t"), r.get("c"), r.get("here"));
        if here {
            cat.add_index(t.clone(), c.clone());
        }
        cat.add_index(format!("{s}.{t}"), c);
    }
    conn.close().await.ok();
    Ok(cat)
}
