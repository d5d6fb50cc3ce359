//! The catalog of a MySQL or MariaDB database: the tables of the database the URL names.

use super::Catalog;
use sqlx::{Connection, MySqlConnection, Row};

pub async fn catalog(url: &str) -> Result<Catalog, String> {
    let mut conn = MySqlConnection::connect(url).await.map_err(|e| e.to_string())?;
    let mut cat = Catalog::default();
    let columns = sqlx::query(
        "SELECT CAST(table_name AS CHAR) AS t, CAST(column_name AS CHAR) AS c \
         FROM information_schema.columns WHERE table_schema = DATABASE()",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    for r in columns {
        cat.add_column(r.get("t"), r.get("c"));
    }
    let leading = sqlx::query(
        "SELECT CAST(table_name AS CHAR) AS t, CAST(column_name AS CHAR) AS c \
         FROM information_schema.statistics WHERE table_schema = DATABASE() AND seq_in_index = 1",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    for r in leading {
        cat.add_index(r.get("t"), r.get("c"));
    }
    conn.close().await.ok();
    Ok(cat)
}
