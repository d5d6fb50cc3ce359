//! The supplementary information an access answer gives beside the data (GDPR Article
//! 15(1)(a)–(h), CCPA 1798.110(a)): purposes, categories, recipients, retention,
//! sources, automated decisions, the person's other rights and where to complain, drawn from the dataset map for
//! the columns in the answer. Only what the regime's right lists is filled in.

use crate::map::{DatasetMap, Origin};
use crate::regime::{Regime, Supplementary};
use crate::scope::{Decision, PartScope};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One category of personal data and how it is processed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Category {
    pub name: String,
    /// `database.table.column`, in map order.
    pub columns: Vec<String>,
    pub purposes: Vec<String>,
    pub recipients: Vec<String>,
    pub retention: Vec<String>,
    pub sources: Vec<String>,
}

/// A decision based solely on automated processing that the person's data feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutomatedDecision {
    pub column: String,
    pub description: String,
}

/// The supplementary information of one part of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Information {
    /// Per category (sorted by name), what is processed for what, given to whom, kept how
    /// long and from where; empty unless the right lists categories.
    pub categories: Vec<Category>,
    pub purposes: Vec<String>,
    pub recipients: Vec<String>,
    pub retention: Vec<String>,
    pub sources: Vec<String>,
    pub automated_decisions: Vec<AutomatedDecision>,
    /// The person's other rights (rectification, erasure, restriction, objection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// The statement of the right to complain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint: Option<String>,
}

/// How a source is told to the person.
pub fn source(origin: Origin) -> &'static str {
    match origin {
        Origin::Provided => "provided by you",
        Origin::Observed => "observed from your use of the service",
        Origin::Inferred => "inferred by us from other data",
    }
}

/// The information `part` of an answer under `regime` gives over `map`: drawn from every
/// column the answer holds (included or withheld; a withheld column is still data held
/// about the person).
pub fn information(map: &DatasetMap, regime: &Regime, part: &PartScope) -> Information {
    let wants = |s: Supplementary| part.supplementary.contains(&s);
    let mut categories: BTreeMap<String, Category> = BTreeMap::new();
    let (mut purposes, mut recipients, mut retention, mut sources) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut automated_decisions = Vec::new();
    for scoped in &part.tables {
        let Some(table) = map.database(&scoped.database).and_then(|db| db.table(&scoped.table)) else { continue };
        for cs in &scoped.columns {
            if matches!(cs.decision, Decision::LeftOut { .. }) {
                continue;
            }
            let Some(c) = table.column(&cs.column) else { continue };
            let place = format!("{}.{}.{}", scoped.database, scoped.table, c.name);
            let name = c.category.clone().unwrap_or_else(|| table.name.clone());
            let cat = categories.entry(name.clone()).or_insert_with(|| Category { name, ..Category::default() });
            cat.columns.push(place.clone());
            add(&mut cat.purposes, c.purpose.as_deref());
            for r in &c.recipients {
                add(&mut cat.recipients, Some(r));
            }
            add(&mut cat.retention, c.retention.as_deref());
            add(&mut cat.sources, c.origin.map(source));
            purposes.extend(c.purpose.clone());
            recipients.extend(c.recipients.iter().cloned());
            retention.extend(c.retention.clone());
            sources.extend(c.origin.map(|o| source(o).to_string()));
            if let Some(d) = &c.automated_decision {
                automated_decisions.push(AutomatedDecision { column: place, description: d.clone() });
            }
        }
    }
    let pick = |s: Supplementary, set: BTreeSet<String>| if wants(s) { set.into_iter().collect() } else { Vec::new() };
    Information {
        categories: if wants(Supplementary::Categories) { categories.into_values().collect() } else { Vec::new() },
        purposes: pick(Supplementary::Purposes, purposes),
        recipients: pick(Supplementary::Recipients, recipients),
        retention: pick(Supplementary::Retention, retention),
        sources: pick(Supplementary::Source, sources),
        automated_decisions: if wants(Supplementary::AutomatedDecisions) { automated_decisions } else { Vec::new() },
        rights: if wants(Supplementary::Rights) { regime.rights.clone() } else { None },
        complaint: wants(Supplementary::Complaint).then(|| regime.complaint_statement()),
    }
}

/// Adds `value` to a list kept in first-seen order, once.
fn add(list: &mut Vec<String>, value: Option<&str>) {
    if let Some(v) = value
        && !list.iter().any(|x| x == v)
    {
        list.push(v.to_string());
    }
}
