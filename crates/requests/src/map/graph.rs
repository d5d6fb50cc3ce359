//! The link graph of one database: tables are nodes, each link `column → table.column`
//! an edge followed in both directions. From the tables with identity columns, a
//! breadth-first search gives the order in which tables are reached and the shortest
//! join path to each; tables it never reaches are unreachable. Join paths stop at
//! [`MAX_JOIN_DEPTH`] joins: a table only reached through more is reported, not joined.

use super::{Database, split_target};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The most joins from an identity table to any table: real schemas need a handful, and
/// the bound keeps a hostile map's paths small.
pub const MAX_JOIN_DEPTH: usize = 32;

/// One join: rows of `to_table` whose `to_column` equals `from_column` of the rows
/// already found in `from_table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub from_table: String,
    pub from_column: String,
    pub to_table: String,
    pub to_column: String,
}

/// A table reached from the identity tables, how far, and by which joins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reached {
    pub table: String,
    /// 0 for a table with identity columns, else the number of joins from the nearest one.
    pub depth: usize,
    /// The joins from an identity table to this one; empty at depth 0.
    pub path: Vec<Step>,
}

/// The outcome of the search over one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// Tables in the order they are reached: identity tables first (in map order), then
    /// by depth.
    pub order: Vec<Reached>,
    /// Tables no identity table leads to, in map order.
    pub unreachable: Vec<String>,
    /// Tables an identity table leads to only through more than [`MAX_JOIN_DEPTH`]
    /// joins, in map order.
    pub too_deep: Vec<String>,
}

impl Reach {
    /// How `table` is reached, if it is.
    pub fn get(&self, table: &str) -> Option<&Reached> {
        self.order.iter().find(|r| r.table == table)
    }
}

/// Every edge of the database's graph, both directions, in map order. Links whose
/// target is not in the map are left out ([`super::validate`] reports them).
pub fn edges(db: &Database) -> BTreeMap<&str, Vec<Step>> {
    let mut out: BTreeMap<&str, Vec<Step>> = BTreeMap::new();
    let tables = db.by_name();
    for t in &db.tables {
        for (column, target) in &t.links {
            let Some((target_table, target_column)) = split_target(target) else { continue };
            let Some(other) = tables.get(target_table) else { continue };
            let forward = Step {
                from_table: t.name.clone(),
                from_column: column.clone(),
                to_table: other.name.clone(),
                to_column: target_column.to_string(),
            };
            let backward = Step {
                from_table: other.name.clone(),
                from_column: target_column.to_string(),
                to_table: t.name.clone(),
                to_column: column.clone(),
            };
            out.entry(t.name.as_str()).or_default().push(forward);
            out.entry(other.name.as_str()).or_default().push(backward);
        }
    }
    out
}

/// Searches `db` from its identity tables.
pub fn reach(db: &Database) -> Reach {
    let edges = edges(db);
    let tables = db.by_name();
    let mut found: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order: Vec<Reached> = Vec::new();
    let mut queue = VecDeque::new();
    for t in db.tables.iter().filter(|t| !t.identity.is_empty()) {
        if !found.contains_key(t.name.as_str()) {
            found.insert(&t.name, order.len());
            order.push(Reached { table: t.name.clone(), depth: 0, path: Vec::new() });
            queue.push_back(t.name.as_str());
        }
    }
    while let Some(table) = queue.pop_front() {
        let here = order[found[table]].clone();
        if here.depth == MAX_JOIN_DEPTH {
            continue;
        }
        for step in edges.get(table).into_iter().flatten() {
            if found.contains_key(step.to_table.as_str()) {
                continue;
            }
            let mut path = here.path.clone();
            path.push(step.clone());
            let name = tables.get(step.to_table.as_str()).map(|t| t.name.as_str()).expect("edges only join tables of the map");
            found.insert(name, order.len());
            order.push(Reached { table: name.to_string(), depth: here.depth + 1, path });
            queue.push_back(name);
        }
    }
    // what lies beyond the depth bound: connected, but not joined
    let mut connected: BTreeSet<&str> = found.keys().copied().collect();
    let mut queue: VecDeque<&str> = order.iter().filter(|r| r.depth == MAX_JOIN_DEPTH).map(|r| r.table.as_str()).collect();
    while let Some(table) = queue.pop_front() {
        for step in edges.get(table).into_iter().flatten() {
            if let Some(t) = tables.get(step.to_table.as_str())
                && connected.insert(t.name.as_str())
            {
                queue.push_back(t.name.as_str());
            }
        }
    }
    let (mut unreachable, mut too_deep) = (Vec::new(), Vec::new());
    for t in db.tables.iter().filter(|t| !found.contains_key(t.name.as_str())) {
        if connected.contains(t.name.as_str()) { too_deep.push(t.name.clone()) } else { unreachable.push(t.name.clone()) }
    }
    Reach { order, unreachable, too_deep }
}
