//! Extraction: from a verified identity, every row the dataset map links to the person,
//! read with indexed look-ups only and streamed into a [`Sink`].
//!
//! The walk. A person is found in the tables with identity columns (`customers` by
//! `email`); the identity values those rows hold (the `customer_id` in `id`) find the
//! person in every other identity table. From there the map's links
//! ([`crate::map::graph::edges`]) are followed both ways:
//!
//! - a row *of the person* (found by identity, or pointing at a row of the person:
//!   an order's `customer_id`, an order line's `order_id`) leads to the rows pointing at
//!   it and to the rows it points at;
//! - a row the person's rows only *point at* (the product an order line names, the
//!   address an order went to) is delivered, and leads on only to what it points at:
//!   never back to the other rows pointing at it (other customers' order lines and
//!   reviews of the same product);
//! - a table with identity columns is entered only by identity: a link into it
//!   (`messages.recipient_id`, `customers.referred_by`) names another person, whose
//!   rows are not the person's.
//!
//! Every look-up is `WHERE column IN (...)` on one column the map names as an identity
//! or link column (which check-map makes sure leads an index), with the values bound as
//! parameters, at most [`Options::chunk`] at a time; never a value spliced into SQL.
//! Which values were looked up is remembered per table, column and kind of row, so a
//! cycle of references (a table linking to itself, two tables linking to each other)
//! ends, and a row reached through two columns (a message the person sent to
//! themselves) is delivered once.
//!
//! Memory. Rows are streamed from the database into the sink one at a time; what is
//! kept are the key values the walk follows (the ids of the person's orders, to find
//! their lines), not the rows. A person's million sign-ins keep nothing; a person with a
//! million orders keeps a million order ids. The keys held are bounded by
//! [`Options::max_keys`]: beyond it the extraction stops with an error rather than
//! exhausting memory.
//!
//! The columns read are the ones the scope includes (as JSON built by the database:
//! `jsonb_build_object`, `JSON_OBJECT`, `json_object`), and the identity and link columns
//! as text, to follow. Withheld columns are never read: their value is `null` in every
//! row ([`OutColumn::withheld`] says why). Left-out columns are neither read nor in the
//! rows. With a look-back (CCPA), a table with a `recorded_at` column gives only rows
//! recorded on or after the cutoff day, and nothing is followed from older rows; a
//! table with identity columns is not cut (the account is the key to everything else).

use crate::check;
use crate::map::{self, DatasetMap, IdentityKind, Problem, split_target};
use crate::scope::{Decision, PartScope};
use chrono::{Months, NaiveDate};
use futures::TryStreamExt;
use serde::Serialize;
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, MySqlConnection, PgConnection, Row, SqliteConnection};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

/// How many key values one look-up binds.
pub const CHUNK: usize = 500;

/// How many key values an extraction may hold before it stops (a few hundred MB at most).
pub const MAX_KEYS: usize = 5_000_000;

/// The longest identity value accepted.
pub const MAX_IDENTITY_BYTES: usize = 1024;

/// A verified identity: its kind and value (`email`, `alice@example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl Identity {
    pub fn new(kind: IdentityKind, value: impl Into<String>) -> Identity {
        Identity { kind, value: value.into() }
    }
}

/// Why an extraction could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the dataset map does not fit the database, so no answer can be drawn from it ({} problem(s)):\n{}",
        .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Map(Vec<Problem>),
    #[error("no table of the dataset map has a {0} identity column, so no person can be found by a {0}")]
    NoIdentity(IdentityKind),
    #[error("the identity value {0}")]
    BadIdentity(String),
    #[error("database \"{database}\": {reason}")]
    Database { database: String, reason: String },
    #[error("database \"{database}\", table \"{table}\": {reason}")]
    Query { database: String, table: String, reason: String },
    #[error(
        "the person's rows lead to more than {limit} key values (last in database \"{database}\", table \"{table}\"): \
         stopped before exhausting memory; raise Options::max_keys on a machine that has it"
    )]
    TooManyKeys { database: String, table: String, limit: usize },
    #[error("{0}")]
    Sink(String),
}

/// Tuning of an extraction.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Key values bound in one look-up.
    pub chunk: usize,
    /// Key values held at most (see the module's notes on memory).
    pub max_keys: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { chunk: CHUNK, max_keys: MAX_KEYS }
    }
}

/// One column of a table's rows as delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutColumn {
    pub name: String,
    /// Why the column is withheld (its value is `null` in every row), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// A table as delivered: where it is and the columns of its rows, in map order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableOut {
    pub database: String,
    pub table: String,
    pub columns: Vec<OutColumn>,
}

/// Where rows go. Rows of different tables come interleaved, as the walk finds them.
pub trait Sink {
    /// One row of `table`: one value per column of `table.columns`, in that order.
    fn row(&mut self, table: &TableOut, values: Vec<Value>) -> Result<(), String>;
}

/// A sink that keeps every row in memory, by `table` (for tests and small answers).
#[derive(Debug, Default)]
pub struct Collect {
    pub rows: BTreeMap<String, Vec<serde_json::Map<String, Value>>>,
}

impl Sink for Collect {
    fn row(&mut self, table: &TableOut, values: Vec<Value>) -> Result<(), String> {
        let row = table.columns.iter().map(|c| c.name.clone()).zip(values).collect();
        self.rows.entry(table.table.clone()).or_default().push(row);
        Ok(())
    }
}

/// What an extraction found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extracted {
    /// Every table the answer delivers columns of (included or withheld), in map order,
    /// with its number of rows (0 included).
    pub tables: Vec<(TableOut, u64)>,
    /// The first day of the look-back, if the right has one.
    pub since: Option<NaiveDate>,
    /// Look-ups made.
    pub queries: u64,
    /// The most key values held at once.
    pub keys_held: usize,
}

impl Extracted {
    /// Rows delivered in all.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

enum Conn {
    Pg(PgConnection),
    My(MySqlConnection),
    Lite(SqliteConnection),
}

struct Db {
    dialect: Dialect,
    conn: Conn,
    /// (table, column) → the column's type, lower case.
    types: HashMap<(String, String), String>,
}

/// Connections to a map's databases, checked against the map, for any number of
/// extractions.
pub struct Extractor {
    map: DatasetMap,
    dbs: Vec<Db>,
    pub options: Options,
}

impl Extractor {
    /// Connects to every database of `map` and checks the map against them: a map with
    /// problems ([`map::validate`], [`check::compare`]: a table or column the database
    /// lacks, a searched column no index leads) is refused with all of them.
    pub async fn open(map: &DatasetMap) -> Result<Extractor, ExtractError> {
        let mut problems = map::validate(map);
        let mut dbs = Vec::new();
        for db in &map.databases {
            let err = |reason: String| ExtractError::Database { database: db.name.clone(), reason };
            let url = db.resolve_url().map_err(err)?;
            let catalog = check::catalog(&url).await.map_err(|e| err(format!("cannot read it: {e}")))?;
            problems.extend(check::compare(db, &catalog));
            let (dialect, mut conn) = connect(&url).await.map_err(|e| err(format!("cannot connect: {e}")))?;
            let mut types = HashMap::new();
            for t in &db.tables {
                for (column, ty) in column_types(&mut conn, &t.name).await.map_err(err)? {
                    types.insert((t.name.clone(), column), ty);
                }
            }
            dbs.push(Db { dialect, conn, types });
        }
        if !problems.is_empty() {
            problems.sort();
            problems.dedup();
            return Err(ExtractError::Map(problems));
        }
        Ok(Extractor { map: map.clone(), dbs, options: Options::default() })
    }

    /// The map this extractor reads by.
    pub fn map(&self) -> &DatasetMap {
        &self.map
    }

    /// Streams every row of the person with `identity` that `part` delivers into `sink`.
    /// `as_of` is the day the look-back counts back from. A person with no rows is an
    /// empty answer, not an error.
    pub async fn extract(
        &mut self,
        part: &PartScope,
        identity: &Identity,
        as_of: NaiveDate,
        sink: &mut (dyn Sink + Send),
    ) -> Result<Extracted, ExtractError> {
        if identity.value.len() > MAX_IDENTITY_BYTES {
            return Err(ExtractError::BadIdentity(format!("is longer than {MAX_IDENTITY_BYTES} bytes")));
        }
        if identity.value.contains('\0') {
            return Err(ExtractError::BadIdentity("holds a NUL character, which no database column can match".into()));
        }
        let plan = Plan::new(&self.map, part, as_of)?;
        let starts: Vec<(usize, usize)> = plan.identity_tables(identity.kind).collect();
        if starts.is_empty() {
            return Err(ExtractError::NoIdentity(identity.kind));
        }
        let mut walk = Walk::default();
        for (t, k) in starts {
            walk.pending.entry((plan.tables[t].order, t, k, Mode::Owned)).or_default().insert(identity.value.clone());
            walk.pending_count += 1;
        }
        let mut counts = vec![0u64; plan.tables.len()];
        let options = self.options;
        while let Some((&(order, t, k, mode), _)) = walk.pending.iter().find(|(_, keys)| !keys.is_empty()) {
            let keys = walk.pending.remove(&(order, t, k, mode)).unwrap_or_default();
            walk.pending_count -= keys.len();
            let table = &plan.tables[t];
            let db = &mut self.dbs[table.db];
            let column = &table.keys[k];
            let ty = db.types.get(&(table.name.clone(), column.clone())).cloned().unwrap_or_default();
            let queried = walk.queried.entry((t, k, mode)).or_default();
            let mut todo: Vec<String> = keys.into_iter().filter(|v| !queried.contains(v) && fits(&ty, v)).collect();
            todo.sort_unstable();
            walk.held += todo.len();
            queried.extend(todo.iter().cloned());
            for chunk in todo.chunks(options.chunk.max(1)) {
                // rows with a key fetched before (in the other mode) were delivered then
                let fetched = walk.fetched.entry((t, k)).or_default();
                let before: HashSet<String> = chunk.iter().filter(|v| fetched.contains(*v)).cloned().collect();
                let new = chunk.len() - before.len();
                fetched.extend(chunk.iter().cloned());
                walk.held += new;
                let sql = table.select(db.dialect, k, chunk.len(), &db.types);
                let mut params: Vec<String> = chunk.to_vec();
                params.extend(table.cutoff.clone());
                walk.queries += 1;
                let mut on_row = |json: Option<String>, keys: Vec<Option<String>>| -> Result<(), ExtractError> {
                    let seen_before = keys[k].as_ref().is_some_and(|v| before.contains(v))
                        || table
                            .entries
                            .iter()
                            .any(|&j| j != k && keys[j].as_ref().is_some_and(|v| walk.fetched.get(&(t, j)).is_some_and(|s| s.contains(v))));
                    if !seen_before && !table.out.columns.is_empty() {
                        let values = table.values(json.as_deref()).map_err(|reason| table.error(reason))?;
                        sink.row(&table.out, values).map_err(ExtractError::Sink)?;
                        counts[t] += 1;
                    }
                    for edge in &table.edges {
                        if (edge.forward || mode == Mode::Owned)
                            && let Some(v) = &keys[edge.key]
                        {
                            let to = &plan.tables[edge.to];
                            if walk.pending.entry((to.order, edge.to, edge.to_key, edge.mode())).or_default().insert(v.clone()) {
                                walk.pending_count += 1;
                            }
                        }
                    }
                    for (kind, j) in &table.identity {
                        if let Some(v) = &keys[*j] {
                            for (t2, k2) in plan.identity_tables(*kind) {
                                if walk.pending.entry((plan.tables[t2].order, t2, k2, Mode::Owned)).or_default().insert(v.clone()) {
                                    walk.pending_count += 1;
                                }
                            }
                        }
                    }
                    if walk.held + walk.pending_count > options.max_keys {
                        return Err(too_many(table, options.max_keys));
                    }
                    Ok(())
                };
                let n = table.keys.len();
                let result: Result<(), ExtractError> = async {
                    let q = |e: sqlx::Error| table.error(e.to_string());
                    macro_rules! stream {
                        ($conn:expr) => {{
                            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                            for p in params.drain(..) {
                                query = query.bind(p);
                            }
                            let mut rows = query.fetch($conn);
                            while let Some(row) = rows.try_next().await.map_err(q)? {
                                let json: Option<String> = row.try_get(0).map_err(q)?;
                                let mut keys = Vec::with_capacity(n);
                                for i in 0..n {
                                    keys.push(row.try_get::<Option<String>, _>(i + 1).map_err(q)?);
                                }
                                on_row(json, keys)?;
                            }
                        }};
                    }
                    match &mut db.conn {
                        Conn::Pg(c) => stream!(&mut *c),
                        Conn::My(c) => stream!(&mut *c),
                        Conn::Lite(c) => stream!(&mut *c),
                    }
                    Ok(())
                }
                .await;
                result?;
            }
            walk.peak = walk.peak.max(walk.held + walk.pending_count);
            if walk.held + walk.pending_count > options.max_keys {
                return Err(too_many(table, options.max_keys));
            }
        }
        let tables = plan.tables.iter().zip(counts).filter(|(t, _)| !t.out.columns.is_empty()).map(|(t, n)| (t.out.clone(), n));
        let mut tables: Vec<(TableOut, u64)> = tables.collect();
        let position = |o: &TableOut| plan.map_order.iter().position(|(d, t)| *d == o.database && *t == o.table);
        tables.sort_by_key(|(o, _)| position(o));
        Ok(Extracted { tables, since: plan.since, queries: walk.queries, keys_held: walk.peak })
    }
}

/// Whether a row was reached as the person's (found by identity, or pointing at a row
/// of the person) or only pointed at by the person's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Mode {
    Owned,
    Referenced,
}

#[derive(Default)]
struct Walk {
    /// (table's reach order, table, key column, mode) → values to look up.
    pending: BTreeMap<(usize, usize, usize, Mode), HashSet<String>>,
    /// Values looked up, per table, key column and mode.
    queried: HashMap<(usize, usize, Mode), HashSet<String>>,
    /// Values looked up, per table and key column, in either mode.
    fetched: HashMap<(usize, usize), HashSet<String>>,
    /// Values in `pending`.
    pending_count: usize,
    /// Values in `queried` and `fetched`.
    held: usize,
    peak: usize,
    queries: u64,
}

/// One link followed out of a table.
struct Edge {
    /// Index of the column in the table's keys.
    key: usize,
    to: usize,
    to_key: usize,
    /// The column references `to` (rather than `to` referencing it).
    forward: bool,
}

impl Edge {
    fn mode(&self) -> Mode {
        if self.forward { Mode::Referenced } else { Mode::Owned }
    }
}

struct TablePlan {
    db: usize,
    name: String,
    /// Position in the search from the identity tables (database by database).
    order: usize,
    out: TableOut,
    /// The included columns, read.
    read: Vec<String>,
    /// Columns read as text, to follow links and identities.
    keys: Vec<String>,
    edges: Vec<Edge>,
    /// Key columns rows are looked up by.
    entries: Vec<usize>,
    identity: Vec<(IdentityKind, usize)>,
    recorded_at: Option<String>,
    /// The look-back's first day, `YYYY-MM-DD`, bound as the last parameter.
    cutoff: Option<String>,
}

struct Plan {
    tables: Vec<TablePlan>,
    since: Option<NaiveDate>,
    map_order: Vec<(String, String)>,
}

impl Plan {
    fn new(map: &DatasetMap, part: &PartScope, as_of: NaiveDate) -> Result<Plan, ExtractError> {
        let mut tables = Vec::new();
        let mut index: HashMap<(usize, &str), usize> = HashMap::new();
        let since = part.tables.iter().find_map(|t| t.lookback_months).map(|m| cutoff_day(as_of, m));
        let mut map_order = Vec::new();
        for (d, db) in map.databases.iter().enumerate() {
            let reach = map::graph::reach(db);
            for t in &db.tables {
                map_order.push((db.name.clone(), t.name.clone()));
                let scoped = part.tables.iter().find(|s| s.database == db.name && s.table == t.name);
                let decision = |c: &str| scoped.and_then(|s| s.columns.iter().find(|x| x.column == c)).map(|x| &x.decision);
                let mut out = Vec::new();
                let mut read = Vec::new();
                for c in &t.columns {
                    match decision(&c.name) {
                        Some(Decision::Included) => {
                            read.push(c.name.clone());
                            out.push(OutColumn { name: c.name.clone(), withheld: None });
                        }
                        Some(Decision::Withheld { reason }) => out.push(OutColumn { name: c.name.clone(), withheld: Some(reason.clone()) }),
                        Some(Decision::LeftOut { .. }) | None => {}
                    }
                }
                let mut keys: Vec<String> = t.search_columns().into_iter().map(str::to_string).collect();
                // columns other tables' links point at are looked up too
                for other in &db.tables {
                    for target in other.links.values() {
                        if let Some((tt, tc)) = split_target(target)
                            && tt == t.name
                            && !keys.iter().any(|k| k == tc)
                        {
                            keys.push(tc.to_string());
                        }
                    }
                }
                let identity = t
                    .identity
                    .iter()
                    .map(|(kind, c)| (*kind, keys.iter().position(|k| k == c).expect("identity columns are keys")))
                    .collect();
                let cutoff = match (scoped.and_then(|s| s.lookback_months), &t.recorded_at, t.identity.is_empty()) {
                    (Some(months), Some(_), true) => Some(cutoff_day(as_of, months).format("%Y-%m-%d").to_string()),
                    _ => None,
                };
                let position = reach.order.iter().position(|r| r.table == t.name).unwrap_or(MAX_POSITION - 1);
                index.insert((d, t.name.as_str()), tables.len());
                tables.push(TablePlan {
                    db: d,
                    name: t.name.clone(),
                    order: d * MAX_POSITION + position,
                    out: TableOut { database: db.name.clone(), table: t.name.clone(), columns: out },
                    read,
                    keys,
                    edges: Vec::new(),
                    entries: Vec::new(),
                    identity,
                    recorded_at: t.recorded_at.clone(),
                    cutoff,
                });
            }
            for (from, steps) in map::graph::edges(db) {
                let Some(&f) = index.get(&(d, from)) else { continue };
                for step in steps {
                    let Some(&to) = index.get(&(d, step.to_table.as_str())) else { continue };
                    // a table with identity columns is entered by identity only
                    if !map.databases[d].table(&step.to_table).is_some_and(|x| x.identity.is_empty()) {
                        continue;
                    }
                    let forward = db.table(from).is_some_and(|x| {
                        x.links
                            .get(&step.from_column)
                            .is_some_and(|target| split_target(target) == Some((step.to_table.as_str(), step.to_column.as_str())))
                    });
                    let key = tables[f].keys.iter().position(|k| *k == step.from_column).expect("link columns are keys");
                    let to_key = tables[to].keys.iter().position(|k| *k == step.to_column).expect("link targets are keys");
                    tables[f].edges.push(Edge { key, to, to_key, forward });
                    if !tables[to].entries.contains(&to_key) {
                        tables[to].entries.push(to_key);
                    }
                }
            }
            for t in tables.iter_mut().filter(|t| t.db == d) {
                let ids: Vec<usize> = t.identity.iter().map(|(_, k)| *k).collect();
                for k in ids {
                    if !t.entries.contains(&k) {
                        t.entries.push(k);
                    }
                }
            }
        }
        // a table that delivers nothing and leads to nothing that does is not looked up
        // (invoices, in a portability answer)
        let mut useful: Vec<bool> = tables.iter().map(|t| !t.out.columns.is_empty() || !t.identity.is_empty()).collect();
        loop {
            let more: Vec<usize> = (0..tables.len()).filter(|&i| !useful[i] && tables[i].edges.iter().any(|e| useful[e.to])).collect();
            if more.is_empty() {
                break;
            }
            for i in more {
                useful[i] = true;
            }
        }
        for t in &mut tables {
            t.edges.retain(|e| useful[e.to]);
        }
        Ok(Plan { tables, since, map_order })
    }

    /// The tables (and their key column) where a person is looked up by `kind`.
    fn identity_tables(&self, kind: IdentityKind) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.tables.iter().enumerate().flat_map(move |(i, t)| t.identity.iter().filter(move |(k, _)| *k == kind).map(move |(_, c)| (i, *c)))
    }
}

impl TablePlan {
    fn error(&self, reason: String) -> ExtractError {
        ExtractError::Query { database: self.out.database.clone(), table: self.name.clone(), reason }
    }

    /// The look-up of `count` values of key column `key`.
    fn select(&self, dialect: Dialect, key: usize, count: usize, types: &HashMap<(String, String), String>) -> String {
        let ident = |s: &str| quote(dialect, s);
        let text = |c: &str| match dialect {
            Dialect::Postgres => format!("CAST({} AS text)", ident(c)),
            Dialect::MySql => format!("CAST({} AS CHAR)", ident(c)),
            Dialect::Sqlite => format!("CAST({} AS TEXT)", ident(c)),
        };
        let param = |n: usize, column: &str| match dialect {
            Dialect::Postgres => {
                let ty = types.get(&(self.name.clone(), column.to_string())).map_or("text", String::as_str);
                format!("CAST(${n} AS {ty})")
            }
            Dialect::MySql => "?".to_string(),
            Dialect::Sqlite => format!("?{n}"),
        };
        let mut sql = format!("SELECT {}", json_object(dialect, &self.read));
        for k in &self.keys {
            sql.push_str(", ");
            sql.push_str(&text(k));
        }
        sql.push_str(" FROM ");
        sql.push_str(&table_ident(dialect, &self.name));
        sql.push_str(" WHERE ");
        sql.push_str(&ident(&self.keys[key]));
        sql.push_str(" IN (");
        for i in 0..count {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&param(i + 1, &self.keys[key]));
        }
        sql.push(')');
        if let (Some(column), Some(_)) = (&self.recorded_at, &self.cutoff) {
            sql.push_str(&format!(" AND {} >= {}", ident(column), param(count + 1, column)));
        }
        sql
    }

    /// A row's values, in the order of `out.columns`, from the JSON object the database built.
    fn values(&self, json: Option<&str>) -> Result<Vec<Value>, String> {
        let mut object: serde_json::Map<String, Value> = match json {
            Some(text) if !self.read.is_empty() => {
                serde_json::from_str(text).map_err(|e| format!("the database gave a row that is not JSON: {e}"))?
            }
            _ => serde_json::Map::new(),
        };
        Ok(self
            .out
            .columns
            .iter()
            .map(|c| if c.withheld.is_some() { Value::Null } else { object.remove(&c.name).unwrap_or(Value::Null) })
            .collect())
    }
}

fn too_many(table: &TablePlan, limit: usize) -> ExtractError {
    ExtractError::TooManyKeys { database: table.out.database.clone(), table: table.name.clone(), limit }
}

/// Whether `value` can be in a column of type `ty`: an integer column holds only
/// integers (MySQL would otherwise compare `'abc'` as 0, PostgreSQL refuse the cast).
fn fits(ty: &str, value: &str) -> bool {
    let word = ty.split(['(', ' ']).next().unwrap_or_default();
    let integer = ["int", "integer", "smallint", "bigint", "tinyint", "mediumint", "int2", "int4", "int8"].contains(&word);
    !integer || value.parse::<i64>().is_ok()
}

/// The first day of a look-back of `months` before `as_of`.
fn cutoff_day(as_of: NaiveDate, months: u32) -> NaiveDate {
    as_of.checked_sub_months(Months::new(months)).unwrap_or(NaiveDate::MIN)
}

/// Tables per database, for ordering the walk (a map holds at most 5,000 in all).
const MAX_POSITION: usize = 1_000_000;

fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// A table name, `schema.table` quoted part by part.
fn table_ident(dialect: Dialect, name: &str) -> String {
    name.split('.').map(|part| quote(dialect, part)).collect::<Vec<_>>().join(".")
}

fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An expression giving the columns as one JSON object, as text.
fn json_object(dialect: Dialect, columns: &[String]) -> String {
    if columns.is_empty() {
        return "NULL".to_string();
    }
    // PostgreSQL takes at most 100 arguments to a function, SQLite 127 by default
    let parts: Vec<String> = columns
        .chunks(40)
        .map(|chunk| {
            let pairs: Vec<String> = chunk.iter().map(|c| format!("{}, {}", string_literal(c), quote(dialect, c))).collect();
            let f = match dialect {
                Dialect::Postgres => "jsonb_build_object",
                Dialect::MySql => "JSON_OBJECT",
                Dialect::Sqlite => "json_object",
            };
            format!("{f}({})", pairs.join(", "))
        })
        .collect();
    match dialect {
        Dialect::Postgres => format!("CAST(({}) AS text)", parts.join(" || ")),
        Dialect::MySql => parts.into_iter().reduce(|a, b| format!("JSON_MERGE_PATCH({a}, {b})")).expect("columns"),
        Dialect::Sqlite => parts.into_iter().reduce(|a, b| format!("json_patch({a}, {b})")).expect("columns"),
    }
}

async fn connect(url: &str) -> Result<(Dialect, Conn), String> {
    if url.starts_with("sqlite:") {
        let opts = SqliteConnectOptions::from_str(url).map_err(|e| e.to_string())?.read_only(true);
        Ok((Dialect::Sqlite, Conn::Lite(opts.connect().await.map_err(|e| e.to_string())?)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Dialect::Postgres, Conn::Pg(PgConnection::connect(url).await.map_err(|e| e.to_string())?)))
    } else if let Some(rest) = url.strip_prefix("mariadb://") {
        Ok((Dialect::MySql, Conn::My(MySqlConnection::connect(&format!("mysql://{rest}")).await.map_err(|e| e.to_string())?)))
    } else if url.starts_with("mysql://") {
        Ok((Dialect::MySql, Conn::My(MySqlConnection::connect(url).await.map_err(|e| e.to_string())?)))
    } else {
        Err("unknown kind of database: the url must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://".into())
    }
}

/// The columns of `table` and their types, lower case.
async fn column_types(conn: &mut Conn, table: &str) -> Result<Vec<(String, String)>, String> {
    let rows: Vec<(String, String)> = match conn {
        Conn::Pg(c) => sqlx::query_as(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
        )
        .bind(table_ident(Dialect::Postgres, table))
        .fetch_all(c)
        .await
        .map_err(|e| e.to_string())?,
        Conn::My(c) => sqlx::query_as(
            "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ?",
        )
        .bind(table)
        .fetch_all(c)
        .await
        .map_err(|e| e.to_string())?,
        Conn::Lite(c) => {
            sqlx::query_as("SELECT name, type FROM pragma_table_info(?1)").bind(table).fetch_all(c).await.map_err(|e| e.to_string())?
        }
    };
    Ok(rows.into_iter().map(|(c, t)| (c, t.to_lowercase())).collect())
}
