//! Applying a regime to a dataset map: for each part of a request (portability,
//! access), every column of every table is included, left out (the right does not
//! cover it, with the reason) or withheld (it holds other people's data). What is left
//! out or withheld is also listed by reason, for the package to state.

use crate::kind::{Part, RequestKind};
use crate::map::{Basis, Column, DatasetMap, Origin};
use crate::regime::{Regime, RegimeError, Right, Supplementary};
use serde::Serialize;

/// What happens to one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Delivered.
    Included,
    /// Not covered by the right: not delivered, and the package says why.
    LeftOut { reason: String },
    /// Covered, but holds other people's data: redacted, shown as withheld, with why.
    Withheld { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnScope {
    pub column: String,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableScope {
    pub database: String,
    pub table: String,
    pub columns: Vec<ColumnScope>,
    /// Only rows recorded in this many months before the request are delivered (a
    /// right with a look-back period, on a table with a `recorded_at` column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookback_months: Option<u32>,
}

/// Columns left out or withheld for one reason, and their categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Omission {
    pub reason: String,
    /// `database.table.column`, in map order.
    pub columns: Vec<String>,
    /// Their categories (a column's `category`, else its table's name), sorted.
    pub categories: Vec<String>,
}

/// The scope of one part of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartScope {
    pub part: Part,
    pub right: String,
    pub article: String,
    pub tables: Vec<TableScope>,
    pub left_out: Vec<Omission>,
    pub withheld: Vec<Omission>,
    pub supplementary: Vec<Supplementary>,
}

/// The scope of a whole request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub regime: String,
    pub kind: RequestKind,
    pub parts: Vec<PartScope>,
}

impl Scope {
    /// The scope of `part`, if the request has it.
    pub fn part(&self, part: Part) -> Option<&PartScope> {
        self.parts.iter().find(|p| p.part == part)
    }
}

impl PartScope {
    /// The decision on `table.column` (the first database holding such a table).
    pub fn decision(&self, table: &str, column: &str) -> Option<&Decision> {
        self.tables.iter().filter(|t| t.table == table).flat_map(|t| &t.columns).find(|c| c.column == column).map(|c| &c.decision)
    }
}

/// The scope of a request of `kind` under `regime` over `map`. A kind whose right the
/// regime lacks is an error; for [`RequestKind::Both`], the parts the regime has.
pub fn scope(map: &DatasetMap, regime: &Regime, kind: RequestKind) -> Result<Scope, RegimeError> {
    let mut parts = Vec::new();
    for &part in kind.parts() {
        match regime.right(part) {
            Ok(right) => parts.push(part_scope(map, part, right)),
            Err(e) if kind != RequestKind::Both => return Err(e),
            Err(_) => {}
        }
    }
    if parts.is_empty() {
        return Err(RegimeError::NoSuchRight { regime: regime.id.clone(), part: "portability or access" });
    }
    Ok(Scope { regime: regime.id.clone(), kind, parts })
}

fn part_scope(map: &DatasetMap, part: Part, right: &Right) -> PartScope {
    let mut tables = Vec::new();
    let mut left_out: Vec<Omission> = Vec::new();
    let mut withheld: Vec<Omission> = Vec::new();
    for db in &map.databases {
        for t in &db.tables {
            let mut columns = Vec::new();
            for c in &t.columns {
                let decision = decide(right, c);
                let category = c.category.clone().unwrap_or_else(|| t.name.clone());
                let place = format!("{}.{}.{}", db.name, t.name, c.name);
                match &decision {
                    Decision::Included => {}
                    Decision::LeftOut { reason } => note(&mut left_out, reason, place, category),
                    Decision::Withheld { reason } => note(&mut withheld, reason, place, category),
                }
                columns.push(ColumnScope { column: c.name.clone(), decision });
            }
            let lookback_months = t.recorded_at.as_ref().and(right.lookback_months);
            tables.push(TableScope { database: db.name.clone(), table: t.name.clone(), columns, lookback_months });
        }
    }
    PartScope {
        part,
        right: right.right.clone(),
        article: right.article.clone(),
        tables,
        left_out,
        withheld,
        supplementary: right.supplementary.clone(),
    }
}

fn decide(right: &Right, c: &Column) -> Decision {
    let covered = match (c.origin, c.basis) {
        (Some(origin), Some(basis)) => right.covers(origin, basis, c.automated),
        _ => {
            // an incomplete map: included only where the right covers every origin and
            // basis anyway (access), never guessed into a narrower right
            let all_covered = Origin::ALL.iter().all(|o| right.origins.contains(o)) && Basis::ALL.iter().all(|b| right.bases.contains(b));
            if all_covered && (!right.automated_only || c.automated) {
                Ok(())
            } else {
                Err("the dataset map does not give its origin and legal basis, so it cannot be shown to be covered".to_string())
            }
        }
    };
    match covered {
        Err(reason) => Decision::LeftOut { reason },
        Ok(()) if c.others_data => Decision::Withheld { reason: right.others_withheld.clone() },
        Ok(()) => Decision::Included,
    }
}

fn note(list: &mut Vec<Omission>, reason: &str, place: String, category: String) {
    let entry = match list.iter().position(|o| o.reason == reason) {
        Some(i) => &mut list[i],
        None => {
            list.push(Omission { reason: reason.to_string(), columns: Vec::new(), categories: Vec::new() });
            list.last_mut().expect("just pushed")
        }
    };
    entry.columns.push(place);
    if let Err(i) = entry.categories.binary_search(&category) {
        entry.categories.insert(i, category);
    }
}
