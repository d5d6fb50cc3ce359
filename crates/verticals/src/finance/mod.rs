//! `finance`: bank and card accounts and their transactions. One item is one transaction
//! (or an account, with its balance). Amounts and balances are exact decimal strings, as
//! the bank gave them (`-12.50`), with their currency; the counterparty, the description,
//! the category and the bank's own transaction id are kept as given.
//!
//! Read from OFX (1.x SGML and 2.x XML; QFX is OFX), ISO 20022 camt.053 and the CSV files
//! banks give. Written as OFX 2.2: in a package, one statement per account
//! (`finance/ACCOUNT.ofx`, holding its transactions and its balance, which a money
//! program imports); in a folder, one statement per item. A package also holds every
//! transaction as one CSV file (`finance/transactions.csv`).

pub mod bank_csv;
pub mod camt;
pub mod ofx;
mod ofx_write;

use crate::def::{Codec, Def, DirFile, Per, StandardForm, Table};
use crate::found::{Typed, hash_id};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, NaiveDate};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub use bank_csv::read_bank_csv;
pub use camt::read_camt053;
pub use ofx::read_ofx;

pub const FINANCE: Vertical = Vertical::new("finance");

pub const DEF: Def = Def {
    vertical: FINANCE,
    record_type: "finance",
    schema: || serde_json::to_value(schemars::schema_for!(Finance)).expect("a schema is JSON"),
    records_path: "finance/finance.jsonl",
    standard: Some(StandardForm { media_type: "application/x-ofx", extension: "ofx", per: Per::Framed(&ofx_write::STATEMENT) }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &TABLES,
    item_files: &[],
};

/// One record a finance reader found.
pub type Found = crate::found::Found<Finance>;

/// An account or one transaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finance {
    pub kind: Kind,
    /// The account: its number or IBAN, as the bank gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The account's bank: OFX's BANKID (a routing number), a BIC, a bank code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// The account's type as the source names it (OFX: `CHECKING`, `SAVINGS`, `CREDITCARD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// The account's name or holder, where the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// A transaction's booking (posting) date; an account's balance's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// The time of day with its offset, where the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<FixedOffset>>,
    /// When the money counts (value date; OFX's DTAVAIL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<NaiveDate>,
    /// The amount, exact (`-12.50`): negative leaves the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// ISO 4217 (`EUR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Who paid or was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<String>,
    /// Their account (IBAN or number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty_account: Option<String>,
    /// The description or memo (remittance information, Verwendungszweck).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A transaction: the balance after it, where the source gives it. An account: its
    /// (ledger, closing) balance at `date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<String>,
    /// The category as the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The bank's id of the transaction: OFX's FITID, camt's AcctSvcrRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The transaction's type as the source names it (OFX's TRNTYPE, camt's bank
    /// transaction code, a CSV's Buchungstext).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
    /// An account statement's period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<NaiveDate>,
    /// What ferry does not model, by the source's name for it (a CSV's column, an OFX
    /// tag, a camt element's path), as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Account,
    #[default]
    Transaction,
}

impl Typed for Finance {
    const VERTICAL: Vertical = FINANCE;
    const RECORD_TYPE: &'static str = "finance";
}

impl Finance {
    pub fn of(item: &Item) -> Result<Finance, String> {
        match &item.record {
            Record::Other(r) if r.vertical == FINANCE => r.typed(),
            _ => Err(format!("{} is not a finance item", item.id)),
        }
    }

    fn from_record(record: &Record) -> Option<Finance> {
        match record {
            Record::Other(r) if r.vertical == FINANCE => r.typed().ok(),
            _ => None,
        }
    }
}

/// Ids for records a file gives no id of their own: a hash of what identifies one, and,
/// for the second and later records alike in all of it (two coffees of the same price on
/// the same day), their rank in the file (`#2`): the same file gives the same ids.
#[derive(Default)]
pub(crate) struct Ids {
    seen: HashMap<String, u32>,
}

impl Ids {
    pub(crate) fn id(&mut self, base: String) -> String {
        let n = self.seen.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { base } else { format!("{base}#{n}") }
    }

    /// A transaction's id: the bank's id within its account where it has one, else a hash.
    pub(crate) fn transaction(&mut self, t: &Finance) -> String {
        let account = t.account.as_deref().unwrap_or("");
        let within = |id: &str| if account.is_empty() { id.to_owned() } else { format!("{account}/{id}") };
        let base = match &t.transaction_id {
            Some(id) if !id.is_empty() => within(id),
            _ => {
                let date = t.date.map(|d| d.to_string()).unwrap_or_default();
                let value_date = t.value_date.map(|d| d.to_string()).unwrap_or_default();
                let o = |s: &Option<String>| s.clone().unwrap_or_default();
                let h = hash_id(&[
                    account,
                    &date,
                    &value_date,
                    &o(&t.amount),
                    &o(&t.currency),
                    &o(&t.counterparty),
                    &o(&t.counterparty_account),
                    &o(&t.description),
                    &o(&t.balance),
                    &o(&t.transaction_type),
                ]);
                within(&h)
            }
        };
        self.id(base)
    }
}

/// An account's item id: the account itself.
pub(crate) fn account_id(account: &str) -> String {
    account.to_owned()
}

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("finance") && matches!(f.extension().as_deref(), Some("ofx" | "qfx"))
}

const OFX: &str = "application/x-ofx";

/// The item's OFX statement: the file it was read from, if it was one, else made from
/// its record (an account's statement holds no transaction; a transaction's holds it).
fn write(item: &Item) -> Result<Standard, String> {
    if let Some(o) = &item.original
        && o.media_type == OFX
        && let Ok(text) = std::str::from_utf8(&o.bytes)
    {
        return Ok(Standard { text: text.to_owned(), warnings: vec![] });
    }
    let f = Finance::of(item)?;
    let mut warnings = Vec::new();
    let text = ofx_write::single(&item.id, &f, &mut warnings);
    Ok(Standard { text, warnings })
}

/// The most a folder's OFX file may hold: one statement of one item.
const MAX_FILE: usize = 4 << 20;

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: FINANCE, id: id.to_owned(), location: id.to_owned(), reason };
    if bytes.len() > MAX_FILE {
        return Err(err(format!("larger than {MAX_FILE} bytes: not one item's statement")));
    }
    let mut found = Vec::new();
    ofx::read_ofx(bytes, &mut |f| {
        found.push(f);
        true
    })
    .map_err(err)?;
    let found: Vec<Found> = found.into_iter().collect::<Result<_, _>>().map_err(err)?;
    let transactions: Vec<&Found> = found.iter().filter(|f| f.record.kind == Kind::Transaction).collect();
    let one = match transactions.len() {
        0 => found.iter().find(|f| f.record.kind == Kind::Account).ok_or_else(|| err("an OFX file without an account".into()))?,
        1 => transactions[0],
        n => {
            return Err(err(format!(
                "an OFX statement of {n} transactions: a folder's finance file holds one item (a bank's statements are read by the archive connector)"
            )));
        }
    };
    let record = OtherRecord::new(FINANCE, "finance", &one.record).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: container.to_owned(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: OFX.into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: one.warnings.clone(),
    })
}

/// A CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Every transaction as one CSV file: ISO dates, amounts with a point, one header line;
/// the layout money programs' CSV importers map column by column.
static TABLES: [Table; 1] = [Table {
    path: "finance/transactions.csv",
    header: "Date,Value date,Account,Amount,Currency,Counterparty,Counterparty account,Description,Category,Balance,Transaction ID,Type\n",
    rows: |r| {
        let Some(t) = Finance::from_record(r).filter(|t| t.kind == Kind::Transaction) else { return vec![] };
        let d = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let s = |s: &Option<String>| field(s.as_deref().unwrap_or(""));
        let cells = [
            d(t.date),
            d(t.value_date),
            s(&t.account),
            s(&t.amount),
            s(&t.currency),
            s(&t.counterparty),
            s(&t.counterparty_account),
            s(&t.description),
            s(&t.category),
            s(&t.balance),
            s(&t.transaction_id),
            s(&t.transaction_type),
        ];
        vec![cells.join(",") + "\n"]
    },
    separator: "",
    footer: "",
}];

#[cfg(test)]
mod tests;
