//! ISO 20022 camt.053 bank statements (`BkToCstmrStmt`), any version of the namespace
//! (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.02` to `.13`); camt.052 reports and
//! camt.054 notifications, which hold their entries the same way, are read too. Several
//! statements in one file are read one after the other, as a stream.
//!
//! - `Stmt/Acct`: the account (IBAN or other id, currency, name, the bank's BIC).
//! - `Stmt/Bal`: the balances; the closing booked one (`CLBD`) is the account's.
//! - `Stmt/Ntry`: one transaction, or one per `TxDtls` of a batch whose details each have
//!   their amount: `Amt` with its `Ccy`, `CdtDbtInd` (`DBIT` is negative), `BookgDt` and
//!   `ValDt`, `AcctSvcrRef` (the bank's id), the bank transaction code, and from its
//!   details the counterparty (the creditor of a debit, the debtor of a credit: `Nm` in
//!   version 02, `Pty/Nm` from 08), their account, and `RmtInf/Ustrd` (the description).
//!   Every other value of the entry is kept in the record's `extra` under its path
//!   (`NtryDtls/TxDtls/Refs/EndToEndId`).
//!
//! XML as [`crate::xml`] reads it: streaming, bounded, no entity expanded.

use super::{Finance, Found, Ids, Kind, account_id};
use crate::decimal::{Radix, amount, negate};
use crate::xml::{self, Limits, Node, Step};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use std::io::Read;

/// Reads a camt.053 file from `input`, handing each transaction (and, at the end of each
/// statement, its account) to `each` as soon as it is complete (`each` returns false to
/// stop). An entry that cannot be read is handed as Err(reason) and reading goes on; a
/// file that is not camt, is not well-formed XML, or is cut short, is the function's Err.
pub fn read_camt053(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    read_with(input, Limits::default(), each)
}

pub(super) fn read_with(input: impl Read, limits: Limits, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut wrong: Option<String> = None;
    let mut seen = false;
    let mut statement: Option<Statement> = None;
    let mut ids = Ids::default();
    let is_statement = |name: &str| matches!(name, "Stmt" | "Rpt" | "Ntfctn");
    xml::walk(input, limits, &|parent, _| parent.len() == 3 && is_statement(&parent[2]), &mut |step| match step {
        Step::Open(path) => match path.len() {
            1 if path[0] != "Document" => {
                wrong = Some(format!("its root element is <{}>, not <Document>", path[0]));
                false
            }
            2 if !matches!(path[1].as_str(), "BkToCstmrStmt" | "BkToCstmrAcctRpt" | "BkToCstmrDbtCdtNtfctn") => {
                wrong = Some(format!("its <Document> holds <{}>, not <BkToCstmrStmt>", path[1]));
                false
            }
            2 => {
                seen = true;
                true
            }
            3 if is_statement(&path[2]) => {
                statement = Some(Statement::default());
                true
            }
            _ => true,
        },
        Step::Element(Err(e)) => each(Err(e)),
        Step::Element(Ok((node, warnings))) => match statement.as_mut() {
            Some(s) => s.element(&node, warnings, &mut ids, each),
            None => true,
        },
        Step::Close(path) if path.len() == 3 && is_statement(&path[2]) => match statement.take() {
            Some(s) => s.finish(each),
            None => true,
        },
        Step::Close(_) => true,
    })?;
    match wrong {
        Some(why) => Err(format!("not a camt.053 statement: {why}")),
        None if !seen => Err("not a camt.053 statement: no <Document><BkToCstmrStmt>".into()),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Statement {
    account: Finance,
    warnings: Vec<String>,
    /// The balances met: (type code, signed amount, date).
    balances: Vec<(String, String, Option<NaiveDate>)>,
}

/// A camt date: `Dt` (a day) or `DtTm` (with its offset, or without).
fn when(node: Option<&Node>) -> (Option<NaiveDate>, Option<DateTime<FixedOffset>>) {
    let Some(n) = node else { return (None, None) };
    if let Some(d) = n.text_at("Dt").or_else(|| (n.children.is_empty()).then(|| n.text.trim().to_owned()))
        && let Ok(d) = NaiveDate::parse_from_str(d.get(..10).unwrap_or(&d), "%Y-%m-%d")
    {
        return (Some(d), None);
    }
    if let Some(t) = n.text_at("DtTm") {
        if let Ok(t) = DateTime::parse_from_rfc3339(&t) {
            return (Some(t.date_naive()), Some(t));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f") {
            return (Some(t.date()), None);
        }
    }
    (None, None)
}

/// An amount element (`<Amt Ccy="EUR">12.50</Amt>`), signed by a `CdtDbtInd`.
fn signed(amt: &Node, indicator: Option<&str>) -> Result<(String, Option<String>), String> {
    let a = amount(amt.text.trim(), Radix::Point)?;
    let a = if indicator == Some("DBIT") { negate(&a) } else { a };
    Ok((a, amt.attr("Ccy").map(str::to_owned)))
}

/// A party's name: `Nm` (version 02) or `Pty/Nm` (version 08 and later).
fn party(n: &Node) -> Option<String> {
    n.text_at("Nm").or_else(|| n.text_at("Pty/Nm"))
}

/// An account's id: its IBAN, or another id.
fn account_of(n: &Node) -> Option<String> {
    n.text_at("Id/IBAN").or_else(|| n.text_at("Id/Othr/Id"))
}

/// Every value under `node` that `taken` does not hold, by its path (with `@` for an
/// attribute, `[n]` for the n-th of a repeated element).
fn flatten(node: &Node, prefix: &str, taken: &[&str], into: &mut BTreeMap<String, String>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &node.children {
        let n = seen.entry(c.name.as_str()).or_insert(0);
        *n += 1;
        let path = if prefix.is_empty() { c.name.clone() } else { format!("{prefix}/{}", c.name) };
        if taken.contains(&path.as_str()) {
            continue;
        }
        let key = if *n > 1 { format!("{path}[{n}]") } else { path.clone() };
        for (k, v) in &c.attrs {
            into.insert(format!("{key}@{k}"), v.clone());
        }
        if c.children.is_empty() {
            if !c.text.trim().is_empty() {
                into.insert(key, c.text.trim().to_owned());
            }
        } else {
            flatten(c, &path, taken, into);
        }
    }
}

impl Statement {
    fn element(&mut self, node: &Node, warnings: Vec<String>, ids: &mut Ids, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        let a = &mut self.account;
        match node.name.as_str() {
            "Acct" => {
                a.account = account_of(node);
                a.currency = node.text_at("Ccy");
                a.account_name = node.text_at("Nm").or_else(|| node.text_at("Ownr/Nm"));
                a.bank = node.text_at("Svcr/FinInstnId/BICFI").or_else(|| node.text_at("Svcr/FinInstnId/BIC"));
                a.account_type = node.text_at("Tp/Cd").or_else(|| node.text_at("Tp/Prtry"));
                let taken = ["Id/IBAN", "Id/Othr/Id", "Ccy", "Nm", "Svcr/FinInstnId/BICFI", "Svcr/FinInstnId/BIC", "Tp/Cd", "Tp/Prtry"];
                flatten(node, "Acct", &taken.map(|t| format!("Acct/{t}")).iter().map(String::as_str).collect::<Vec<_>>(), &mut a.extra);
                self.warnings.extend(warnings);
            }
            "Bal" => {
                let code = node.text_at("Tp/CdOrPrtry/Cd").or_else(|| node.text_at("Tp/CdOrPrtry/Prtry")).unwrap_or_else(|| "?".into());
                match node.child("Amt").map(|amt| signed(amt, node.text_at("CdtDbtInd").as_deref())) {
                    Some(Ok((b, ccy))) => {
                        if a.currency.is_none() {
                            a.currency = ccy;
                        }
                        self.balances.push((code, b, when(node.child("Dt")).0));
                    }
                    Some(Err(e)) => self.warnings.push(format!("balance {code}: {e}")),
                    None => self.warnings.push(format!("balance {code} without its amount")),
                }
            }
            "FrToDt" => {
                a.period_start = when(node.child("FrDtTm")).0;
                a.period_end = when(node.child("ToDtTm")).0;
            }
            "Ntry" => return self.entry(node, warnings, ids, each),
            _ => {
                let holder = Node { children: vec![node.clone()], ..Default::default() };
                flatten(&holder, "", &[], &mut a.extra);
            }
        }
        true
    }

    fn entry(&self, n: &Node, mut warnings: Vec<String>, ids: &mut Ids, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        let reference = n.text_at("AcctSvcrRef");
        let what = || reference.clone().or_else(|| n.text_at("NtryRef")).unwrap_or_else(|| "without a reference".into());
        let indicator = n.text_at("CdtDbtInd");
        let Some(amt) = n.child("Amt") else { return each(Err(format!("entry {}: no amount (Amt)", what()))) };
        let (entry_amount, entry_ccy) = match signed(amt, indicator.as_deref()) {
            Ok(a) => a,
            Err(e) => return each(Err(format!("entry {}: {e}", what()))),
        };
        let mut base = Finance {
            kind: Kind::Transaction,
            account: self.account.account.clone(),
            bank: self.account.bank.clone(),
            account_type: self.account.account_type.clone(),
            amount: Some(entry_amount),
            currency: entry_ccy.or_else(|| self.account.currency.clone()),
            transaction_id: reference.clone(),
            ..Default::default()
        };
        (base.date, base.time) = when(n.child("BookgDt"));
        base.value_date = when(n.child("ValDt")).0;
        base.transaction_type =
            match (n.text_at("BkTxCd/Domn/Cd"), n.text_at("BkTxCd/Domn/Fmly/Cd"), n.text_at("BkTxCd/Domn/Fmly/SubFmlyCd")) {
                (Some(d), Some(f), Some(s)) => Some(format!("{d}/{f}/{s}")),
                _ => n.text_at("BkTxCd/Prtry/Cd"),
            };
        let status = n.text_at("Sts/Cd").or_else(|| n.text_at("Sts"));
        let mut taken = vec!["Amt", "CdtDbtInd", "BookgDt", "ValDt", "AcctSvcrRef", "NtryDtls"];
        if status.as_deref() == Some("BOOK") {
            taken.extend(["Sts", "Sts/Cd"]);
        }
        if base.transaction_type.as_deref() == n.text_at("BkTxCd/Prtry/Cd").as_deref() {
            taken.push("BkTxCd/Prtry/Cd");
        }
        let details: Vec<&Node> = n.children("NtryDtls").flat_map(|d| d.children("TxDtls")).collect();
        let batch = details.len() > 1 && details.iter().all(|d| tx_amount(d).is_some());
        if details.len() > 1 && !batch {
            warnings
                .push(format!("a batch of {} transactions without their own amounts: one item, their details in its extra", details.len()));
        }
        if !batch {
            // one item: the entry, with its one detail's parties and description
            let mut t = base;
            if let [d] = details.as_slice() {
                let mut extra = BTreeMap::new();
                detail(d, &mut t, indicator.as_deref(), &mut extra);
                for (k, v) in extra {
                    t.extra.insert(format!("NtryDtls/TxDtls/{k}"), v);
                }
                taken.push("AddtlNtryInf");
                if t.description.is_none() {
                    t.description = n.text_at("AddtlNtryInf");
                } else if let Some(info) = n.text_at("AddtlNtryInf") {
                    t.extra.insert("AddtlNtryInf".into(), info);
                }
            } else {
                t.description = n.text_at("AddtlNtryInf");
                taken.push("AddtlNtryInf");
                let holder = Node { children: n.children("NtryDtls").cloned().collect(), ..Default::default() };
                flatten(&holder, "", &[], &mut t.extra);
            }
            flatten(n, "", &taken, &mut t.extra);
            let id = ids.transaction(&t);
            let container = t.account.clone().unwrap_or_default();
            return each(Ok(Found { id, container, record: t, files: vec![], warnings }));
        }
        // a batch: one item per detail, each with its amount
        let mut shared = BTreeMap::new();
        flatten(n, "", &taken, &mut shared);
        for (i, d) in details.iter().enumerate() {
            let mut t = base.clone();
            t.extra = shared.clone();
            let ind = d.text_at("CdtDbtInd").or_else(|| indicator.clone());
            match tx_amount(d).map(|amt| signed(amt, ind.as_deref())) {
                Some(Ok((a, ccy))) => {
                    t.amount = Some(a);
                    t.currency = ccy.or(t.currency);
                }
                Some(Err(e)) => {
                    if !each(Err(format!("entry {}, detail {}: {e}", what(), i + 1))) {
                        return false;
                    }
                    continue;
                }
                None => unreachable!("a batch's details each have their amount"),
            }
            t.transaction_id = d.text_at("Refs/AcctSvcrRef").or_else(|| reference.as_ref().map(|r| format!("{r}/{}", i + 1)));
            let mut extra = BTreeMap::new();
            detail(d, &mut t, ind.as_deref(), &mut extra);
            for (k, v) in extra {
                t.extra.insert(format!("TxDtls/{k}"), v);
            }
            t.extra.insert("batch".into(), format!("{} of {}", i + 1, details.len()));
            let id = ids.transaction(&t);
            let container = t.account.clone().unwrap_or_default();
            if !each(Ok(Found { id, container, record: t, files: vec![], warnings: warnings.clone() })) {
                return false;
            }
        }
        true
    }

    fn finish(mut self, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        let a = &mut self.account;
        a.kind = Kind::Account;
        // the closing booked balance is the account's; the others are kept
        let chosen = ["CLBD", "CLAV", "ITBD"].iter().find_map(|c| self.balances.iter().position(|(code, ..)| code == c));
        for (i, (code, b, d)) in self.balances.iter().enumerate() {
            if Some(i) == chosen {
                (a.balance, a.date) = (Some(b.clone()), *d);
            } else {
                let day = d.map(|d| format!(" {d}")).unwrap_or_default();
                a.extra.insert(format!("Bal/{code}"), format!("{b}{day}"));
            }
        }
        let Some(number) = a.account.clone() else {
            return each(Err("a statement without its account (Acct/Id)".into()));
        };
        each(Ok(Found { id: account_id(&number), container: number, record: self.account, files: vec![], warnings: self.warnings }))
    }
}

/// A detail's amount: `Amt` (version 08 and later) or `AmtDtls/TxAmt/Amt`.
fn tx_amount(d: &Node) -> Option<&Node> {
    d.child("Amt").or_else(|| d.at("AmtDtls/TxAmt/Amt"))
}

/// A detail's counterparty (the creditor of a debit, the debtor of a credit), their
/// account, its description; the rest of it into `extra`.
fn detail(d: &Node, t: &mut Finance, indicator: Option<&str>, extra: &mut BTreeMap<String, String>) {
    let (them, their_account) = if indicator == Some("DBIT") { ("Cdtr", "CdtrAcct") } else { ("Dbtr", "DbtrAcct") };
    let parties = d.child("RltdPties");
    let mut taken: Vec<String> = vec!["Amt".into(), "AmtDtls/TxAmt/Amt".into(), "CdtDbtInd".into(), "Refs/AcctSvcrRef".into()];
    if let Some(p) = parties.and_then(|p| p.child(them)) {
        t.counterparty = party(p);
        taken.extend([format!("RltdPties/{them}/Nm"), format!("RltdPties/{them}/Pty/Nm")]);
    }
    if let Some(acct) = parties.and_then(|p| p.child(their_account)).and_then(account_of) {
        t.counterparty_account = Some(acct);
        taken.extend([format!("RltdPties/{their_account}/Id/IBAN"), format!("RltdPties/{their_account}/Id/Othr/Id")]);
    }
    let lines: Vec<String> = d
        .child("RmtInf")
        .into_iter()
        .flat_map(|r| r.children("Ustrd"))
        .map(|u| u.text.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if !lines.is_empty() {
        t.description = Some(lines.join(" "));
        taken.push("RmtInf/Ustrd".into());
    } else if let Some(info) = d.text_at("AddtlTxInf") {
        t.description = Some(info);
        taken.push("AddtlTxInf".into());
    }
    if t.transaction_id.is_none() {
        t.transaction_id = d.text_at("Refs/AcctSvcrRef");
    }
    let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
    flatten(d, "", &taken, extra);
}
