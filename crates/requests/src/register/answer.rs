//! Drawing up a request's answer: a package per part of the request (portability,
//! access), from the company's databases as the map describes them, without the rows
//! staff withheld on review; sealed with age when a key or passphrase is given.

use super::{Register, RegisterError, Result, today};
use crate::extract::{Extractor, Identity as Who};
use crate::lifecycle::{Request, State};
use crate::map::DatasetMap;
use crate::response::{Encryption, Manifest, RowWithheld, seal, write_package_withholding};
use crate::{Part, Regime};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One part of an answer as drawn up.
#[derive(Debug, Clone, Serialize)]
pub struct Drawn {
    pub part: Part,
    /// The package folder, or the sealed file when it was sealed.
    pub path: PathBuf,
    pub sealed: bool,
    pub rows: u64,
    pub tables: usize,
    pub empty: bool,
    pub left_out: usize,
    pub withheld: usize,
    pub rows_withheld: usize,
}

/// The audit action that records a withheld row (its reason is the row as JSON).
pub const ROW_WITHHELD: &str = "row_withheld";

impl Register {
    /// Draws up request `id`'s answer into `output` (created: it must not exist), one
    /// package per part, and marks the request ready for review. On any error the folder
    /// is removed, so that no half answer (a person's data) is left about.
    pub async fn draw_up(
        &self,
        id: &str,
        map: &DatasetMap,
        output: &Path,
        encryption: Option<&Encryption>,
        as_of: Option<NaiveDate>,
        actor: &str,
    ) -> Result<(Request, Regime, Vec<Drawn>)> {
        let mut request = self.find(id).await?;
        let regime = self.regime(&request.regime)?;
        if request.identity.verified.is_none() {
            return Err(RegisterError::Refused(format!("request {id}: the person's identity is not verified yet")));
        }
        if !matches!(request.state, State::InProgress | State::Extended | State::ReadyForReview) {
            return Err(RegisterError::Refused(format!("request {id} is {}: there is no answer to draw up", request.state)));
        }
        let scope = crate::scope::scope(map, &regime, request.kind).map_err(|e| RegisterError::Refused(e.to_string()))?;
        let rows_withheld = self.rows_withheld(id).await?;
        std::fs::create_dir(output)
            .map_err(|e| RegisterError::Refused(format!("{}: {e} (the folder must not exist)", output.display())))?;
        let made = self.write_parts(&request, &regime, &scope, map, output, encryption, as_of, &rows_withheld).await;
        let made = match made {
            Ok(m) => m,
            Err(e) => {
                // made above, by us: nothing of the person's stays behind
                let _ = std::fs::remove_dir_all(output);
                return Err(e);
            }
        };
        let now = Utc::now();
        if request.state != State::ReadyForReview {
            let t = request.ready_for_review()?;
            self.store.record(&request, &t, actor, now).await?;
        }
        let summary: Vec<String> = made.iter().map(|m| format!("{}: {} rows", m.part.as_str(), m.rows)).collect();
        self.store.note(&request, "answer_drawn_up", Some(&summary.join("; ")), actor, now).await?;
        Ok((request, regime, made))
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_parts(
        &self,
        request: &Request,
        regime: &Regime,
        scope: &crate::scope::Scope,
        map: &DatasetMap,
        output: &Path,
        encryption: Option<&Encryption>,
        as_of: Option<NaiveDate>,
        rows_withheld: &[RowWithheld],
    ) -> Result<Vec<Drawn>> {
        let failed = |e: crate::extract::ExtractError| RegisterError::Unavailable(e.to_string());
        let mut extractor = Extractor::open(map).await.map_err(failed)?;
        let who = Who::new(request.identity.kind, request.identity.value.clone());
        let as_of = as_of.unwrap_or_else(today);
        let mut made = Vec::new();
        for part in request.kind.parts() {
            let part_scope = scope
                .part(*part)
                .ok_or_else(|| RegisterError::Refused(format!("the regime {} has no {} right", regime.id, part.as_str())))?;
            let dir = output.join(part.as_str());
            let manifest =
                write_package_withholding(&mut extractor, regime, part_scope, &who, as_of, &dir, rows_withheld).await.map_err(failed)?;
            let path = match encryption {
                Some(e) => {
                    let sealed = output.join(format!("{}-{}.zip.age", request.id, part.as_str()));
                    seal(&dir, &manifest, &sealed, e).map_err(failed)?;
                    // the plain folder is ours, made just above: only the sealed copy stays
                    std::fs::remove_dir_all(&dir).map_err(|e| RegisterError::Unavailable(format!("{}: {e}", dir.display())))?;
                    sealed
                }
                None => dir,
            };
            made.push(drawn(*part, path, encryption.is_some(), &manifest));
        }
        Ok(made)
    }

    /// Withholds one row of request `id`'s answer, with the reason (audited); the answer
    /// must be drawn up again to leave it out.
    pub async fn withhold_row(&self, id: &str, row: &RowWithheld, actor: &str) -> Result<Request> {
        let request = self.find(id).await?;
        if !matches!(request.state, State::InProgress | State::Extended | State::ReadyForReview) {
            return Err(RegisterError::Refused(format!("request {id} is {}: its answer is no longer reviewed", request.state)));
        }
        let valid = |s: &str| !s.trim().is_empty() && s.len() <= 1000 && !s.chars().any(char::is_control);
        if !valid(&row.database) || !valid(&row.table) || !valid(&row.reason) {
            return Err(RegisterError::Refused("a withheld row needs its database, table and a reason (one line)".into()));
        }
        if row.row.len() != 16 || !row.row.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(RegisterError::Refused(format!("`{}` is not a row id (16 hex digits)", row.row)));
        }
        let text = serde_json::to_string(row).expect("a row serializes");
        self.store.note(&request, ROW_WITHHELD, Some(&text), actor, Utc::now()).await?;
        Ok(request)
    }

    /// The rows withheld on review of request `id`, from its audit history.
    pub async fn rows_withheld(&self, id: &str) -> Result<Vec<RowWithheld>> {
        let history = self.store.history(id).await?;
        Ok(history.iter().filter(|e| e.action == ROW_WITHHELD).filter_map(|e| serde_json::from_str(e.reason.as_deref()?).ok()).collect())
    }
}

fn drawn(part: Part, path: PathBuf, sealed: bool, m: &Manifest) -> Drawn {
    Drawn {
        part,
        path,
        sealed,
        rows: m.tables.iter().map(|t| t.rows).sum(),
        tables: m.tables.len(),
        empty: m.empty,
        left_out: m.left_out.len(),
        withheld: m.withheld.len(),
        rows_withheld: m.rows_withheld.len(),
    }
}
