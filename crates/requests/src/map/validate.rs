//! Checking what a dataset map says, reporting every problem at once: duplicate names,
//! link targets that do not exist, columns without an origin or a legal basis, tables
//! that no identity reaches, and columns named twice for different jobs.

use super::{DatasetMap, VerticalKind, graph, split_target};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// One problem of a map, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database \"{}\"", self.database)?;
        if let Some(t) = &self.table {
            write!(f, ", table \"{t}\"")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column \"{c}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem of `map`; empty when it is sound.
pub fn validate(map: &DatasetMap) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut push = |database: &str, table: Option<&str>, column: Option<&str>, message: String| {
        problems.push(Problem {
            database: database.to_string(),
            table: table.map(str::to_string),
            column: column.map(str::to_string),
            message,
        })
    };
    if map.databases.is_empty() {
        push("", None, None, "the map describes no database".to_string());
    }
    let mut db_names = BTreeSet::new();
    for db in &map.databases {
        let d = db.name.as_str();
        if d.trim().is_empty() {
            push(d, None, None, "a database has an empty name".to_string());
        }
        if !db_names.insert(d) {
            push(d, None, None, "two databases have this name".to_string());
        }
        let env_var = db.url.strip_prefix("env:");
        if env_var.is_some_and(|v| v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            push(d, None, None, "its url `env:NAME` must name an environment variable (letters, digits and _)".to_string());
        } else if env_var.is_none()
            && !["postgres://", "postgresql://", "mysql://", "mariadb://", "sqlite:"].iter().any(|p| db.url.starts_with(p))
        {
            push(d, None, None, "its url must start with postgres://, postgresql://, mysql://, mariadb://, sqlite: or env:".to_string());
        }
        if db.tables.is_empty() {
            push(d, None, None, "it has no tables".to_string());
        }
        let mut table_names = BTreeSet::new();
        let tables = db.by_name();
        for t in &db.tables {
            let tn = Some(t.name.as_str());
            if t.name.trim().is_empty() {
                push(d, tn, None, "a table has an empty name".to_string());
            }
            if !table_names.insert(t.name.as_str()) {
                push(d, tn, None, "two tables have this name".to_string());
            }
            if t.columns.is_empty() {
                push(d, tn, None, "it declares no columns".to_string());
            }
            let mut column_names = BTreeSet::new();
            for c in &t.columns {
                let cn = Some(c.name.as_str());
                if c.name.trim().is_empty() {
                    push(d, tn, cn, "a column has an empty name".to_string());
                }
                if !column_names.insert(c.name.as_str()) {
                    push(d, tn, cn, "two columns have this name".to_string());
                }
                if c.origin.is_none() {
                    push(d, tn, cn, "it has no origin (provided, observed or inferred)".to_string());
                }
                if c.basis.is_none() {
                    push(
                        d,
                        tn,
                        cn,
                        "it has no legal basis (consent, contract, legal_obligation, vital_interests, public_task or legitimate_interests)"
                            .to_string(),
                    );
                }
            }
            if let Some(v) = &t.vertical {
                let kind = v.kind;
                for (field, column) in v.mapping() {
                    if !kind.fields().contains(&field) {
                        push(
                            d,
                            tn,
                            None,
                            format!(
                                "its {kind} vertical maps `{field}`, which is not a field of {kind} (those are: {})",
                                kind.fields().join(", ")
                            ),
                        );
                    } else if t.column(column).is_none() {
                        push(
                            d,
                            tn,
                            Some(column),
                            format!(
                                "its {kind} vertical maps `{field}` to column \"{column}\", which is not a declared column of the table \
                                 (declare it as a [[database.table.column]])"
                            ),
                        );
                    }
                }
                for field in kind.required() {
                    if v.column(field).is_none() {
                        push(d, tn, None, format!("its {kind} vertical does not say which column holds `{field}`, which {kind} need"));
                    }
                }
                if v.time_zone.is_some() && (kind != VerticalKind::Events || !v.naive_utc()) {
                    push(
                        d,
                        tn,
                        None,
                        format!(
                            "its {kind} vertical's time_zone must be \"UTC\" (the only zone known), and is for events only; \
                             leave it out for times written as stored"
                        ),
                    );
                }
            }
            for (kind, column) in &t.identity {
                if column.trim().is_empty() {
                    push(d, tn, None, format!("its {kind} identity column has an empty name"));
                }
            }
            for (column, target) in &t.links {
                let cn = Some(column.as_str());
                let Some((target_table, target_column)) = split_target(target) else {
                    push(d, tn, cn, format!("its link target `{target}` is not of the form table.column"));
                    continue;
                };
                match tables.get(target_table) {
                    None => push(d, tn, cn, format!("it links to `{target}`, but the database has no table \"{target_table}\" in the map")),
                    Some(other) if !other.knows_column(target_column) => push(
                        d,
                        tn,
                        cn,
                        format!(
                            "it links to `{target}`, but table \"{target_table}\" has no column \"{target_column}\" in the map \
                             (declare it, or name it as an identity or link column)"
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        let reach = graph::reach(db);
        if reach.order.is_empty() && !db.tables.is_empty() {
            push(d, None, None, "no table has identity columns, so no person can be found in it".to_string());
        }
        for t in &reach.unreachable {
            push(d, Some(t), None, "unreachable: no table with identity columns leads to it through links".to_string());
        }
        for t in &reach.too_deep {
            push(
                d,
                Some(t),
                None,
                format!("reached only through more than {} joins from a table with identity columns", graph::MAX_JOIN_DEPTH),
            );
        }
    }
    problems.sort();
    problems.dedup();
    problems
}
