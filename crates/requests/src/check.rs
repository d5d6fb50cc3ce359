//! check-map: a dataset map against the live databases it describes. Every table and
//! column the map names must exist, and every column ferry searches (identity columns,
//! link columns and the columns links point to) must lead some index, or each request
//! scans the whole table. Reports every problem at once, as [`Problem`]s.

mod mysql;
mod postgres;
mod sqlite;

use crate::map::{Database, DatasetMap, Problem, split_target};
use std::collections::{BTreeMap, BTreeSet};

/// What check-map needs to know of one live database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Table name → its columns and which of them lead an index.
    pub tables: BTreeMap<String, TableInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInfo {
    pub columns: BTreeSet<String>,
    /// Columns that are the first column of some index (a primary key counts).
    pub indexed: BTreeSet<String>,
}

impl Catalog {
    fn add_column(&mut self, table: String, column: String) {
        self.tables.entry(table).or_default().columns.insert(column);
    }

    fn add_index(&mut self, table: String, column: String) {
        self.tables.entry(table).or_default().indexed.insert(column);
    }
}

/// Reads the catalog of the database at `url` (`sqlite:`, `postgres://`, `postgresql://`,
/// `mysql://` or `mariadb://`).
pub async fn catalog(url: &str) -> Result<Catalog, String> {
    if url.starts_with("sqlite:") {
        sqlite::catalog(url).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::catalog(url).await
    } else if let Some(rest) = url.strip_prefix("mariadb://") {
        mysql::catalog(&format!("mysql://{rest}")).await
    } else if url.starts_with("mysql://") {
        mysql::catalog(url).await
    } else {
        Err("unknown kind of database: the url must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://".into())
    }
}

/// Checks every database of `map` against the live one; every problem, sorted.
pub async fn check_map(map: &DatasetMap) -> Vec<Problem> {
    let mut problems = Vec::new();
    for db in &map.databases {
        let problem = |message: String| Problem { database: db.name.clone(), table: None, column: None, message };
        let url = match db.resolve_url() {
            Ok(url) => url,
            Err(e) => {
                problems.push(problem(e));
                continue;
            }
        };
        match catalog(&url).await {
            Ok(cat) => problems.extend(compare(db, &cat)),
            Err(e) => problems.push(problem(format!("cannot read it: {e}"))),
        }
    }
    problems.sort();
    problems
}

/// The problems of `db`'s part of the map against the live `catalog`.
pub fn compare(db: &Database, catalog: &Catalog) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |table: &str, column: Option<&str>, message: String| Problem {
        database: db.name.clone(),
        table: Some(table.to_string()),
        column: column.map(str::to_string),
        message,
    };
    // the columns ferry searches, per table: its own identity and link columns, and
    // the columns other tables' links point to
    let mut searched: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for t in &db.tables {
        searched.entry(&t.name).or_default().extend(t.search_columns());
        for target in t.links.values() {
            if let Some((table, column)) = split_target(target) {
                searched.entry(table).or_default().insert(column);
            }
        }
    }
    for t in &db.tables {
        let Some(live) = catalog.tables.get(&t.name) else {
            problems.push(problem(&t.name, None, "the database has no such table".into()));
            continue;
        };
        let mut named: BTreeSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        named.extend(t.search_columns());
        named.extend(t.recorded_at.as_deref());
        named.extend(searched.get(t.name.as_str()).into_iter().flatten());
        for column in named {
            if !live.columns.contains(column) {
                problems.push(problem(&t.name, Some(column), "the table has no such column".into()));
            } else if searched.get(t.name.as_str()).is_some_and(|s| s.contains(column)) && !live.indexed.contains(column) {
                problems.push(problem(
                    &t.name,
                    Some(column),
                    "no index starts with this column, which ferry searches (an identity or link column): every request would read the whole table"
                        .into(),
                ));
            }
        }
    }
    problems.sort();
    problems
}
