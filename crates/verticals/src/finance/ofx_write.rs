//! OFX 2.2 statements (XML), as money programs import them: a bank statement
//! (`STMTRS`) or, for a card account (`CREDITCARD`), a card statement (`CCSTMTRS`); the
//! account, the currency (`CURDEF`), the period, the transactions, the ledger balance.
//! What a record holds that OFX cannot (a category, a balance after each transaction,
//! the counterparty's account) is said as a fidelity warning; the records keep it all.

use super::{Finance, Kind};
use crate::def::Frame;
use chrono::{NaiveDate, Offset};
use ferry_core::Record;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a statement's head and tail say of its account, gathered over its records.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Summary {
    account: Option<String>,
    bank: Option<String>,
    account_type: Option<String>,
    currency: Option<String>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    balance: Option<String>,
    balance_date: Option<NaiveDate>,
    /// The balance is the account's own (not a transaction's balance after it).
    balance_of_account: bool,
}

fn fold(s: &mut Summary, f: &Finance) {
    let fill = |slot: &mut Option<String>, v: &Option<String>| {
        if slot.is_none() {
            slot.clone_from(v);
        }
    };
    let widen = |s: &mut Summary, d: Option<NaiveDate>| {
        if let Some(d) = d {
            s.start = Some(s.start.map_or(d, |x| x.min(d)));
            s.end = Some(s.end.map_or(d, |x| x.max(d)));
        }
    };
    match f.kind {
        Kind::Account => {
            // the account's own word wins over what its transactions say
            for (slot, v) in [
                (&mut s.account, &f.account),
                (&mut s.bank, &f.bank),
                (&mut s.account_type, &f.account_type),
                (&mut s.currency, &f.currency),
            ] {
                if v.is_some() {
                    slot.clone_from(v);
                }
            }
            if f.balance.is_some() && (!s.balance_of_account || f.date >= s.balance_date) {
                (s.balance, s.balance_date, s.balance_of_account) = (f.balance.clone(), f.date, true);
            }
            widen(s, f.period_start);
            widen(s, f.period_end);
        }
        Kind::Transaction => {
            fill(&mut s.account, &f.account);
            fill(&mut s.bank, &f.bank);
            fill(&mut s.account_type, &f.account_type);
            fill(&mut s.currency, &f.currency);
            widen(s, f.date);
            if !s.balance_of_account && f.balance.is_some() && (s.balance.is_none() || f.date >= s.balance_date) {
                (s.balance, s.balance_date) = (f.balance.clone(), f.date);
            }
        }
    }
}

fn gather(acc: &mut Value, record: &Record) {
    let Some(f) = Finance::from_record(record) else { return };
    let mut s: Summary = serde_json::from_value(acc.take()).unwrap_or_default();
    fold(&mut s, &f);
    *acc = serde_json::to_value(s).expect("a summary is JSON");
}

fn summary(container: &str, gathered: &Value) -> Summary {
    let mut s: Summary = serde_json::from_value(gathered.clone()).unwrap_or_default();
    if s.account.is_none() && !container.is_empty() {
        s.account = Some(container.to_owned());
    }
    s
}

/// A package's statement of one account (its container).
pub(super) static STATEMENT: Frame = Frame {
    gather: Some(gather),
    head: |c, g| head(&summary(c, g)),
    part: |id, r| Finance::from_record(r).filter(|f| f.kind == Kind::Transaction).map(|f| transaction(id, &f, &mut Vec::new())),
    separator: "",
    tail: |c, g| tail(&summary(c, g)),
    order: None,
};

/// One item's own statement: an account's (no transaction), or one transaction's.
pub(super) fn single(id: &str, f: &Finance, warnings: &mut Vec<String>) -> String {
    let mut s = Summary::default();
    fold(&mut s, f);
    let mut out = head(&s);
    match f.kind {
        Kind::Transaction => out.push_str(&transaction(id, f, warnings)),
        Kind::Account => {
            if f.account_name.is_some() {
                warnings.push("account_name: an OFX statement has no place for it".into());
            }
            unheld(&f.extra, warnings);
        }
    }
    out.push_str(&tail(&s));
    out
}

const ACCOUNT_TYPES: [&str; 5] = ["CHECKING", "SAVINGS", "MONEYMRKT", "CREDITLINE", "CD"];
const TRANSACTION_TYPES: [&str; 18] = [
    "CREDIT",
    "DEBIT",
    "INT",
    "DIV",
    "FEE",
    "SRVCHG",
    "DEP",
    "ATM",
    "POS",
    "XFER",
    "CHECK",
    "PAYMENT",
    "CASH",
    "DIRECTDEP",
    "DIRECTDEBIT",
    "REPEATPMT",
    "HOLD",
    "OTHER",
];
/// The STMTTRN elements a record's `extra` may hold (read from an OFX), in their order.
const KEPT_AFTER_FITID: [&str; 8] = ["DTUSER", "CORRECTFITID", "CORRECTACTION", "SRVRTID", "CHECKNUM", "REFNUM", "SIC", "PAYEEID"];

fn card(s: &Summary) -> bool {
    s.account_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("CREDITCARD"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn day(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn head(s: &Summary) -> String {
    let server = s.end.or(s.balance_date).map_or_else(|| "19700101".to_owned(), day);
    let currency = s.currency.as_deref().unwrap_or("XXX");
    let account = esc(s.account.as_deref().unwrap_or("UNKNOWN"));
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
         <?OFX OFXHEADER=\"200\" VERSION=\"220\" SECURITY=\"NONE\" OLDFILEUID=\"NONE\" NEWFILEUID=\"NONE\"?>\n<OFX>\n",
    );
    out.push_str(&format!(
        "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><DTSERVER>{server}</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>\n"
    ));
    let status = "<TRNUID>0</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>";
    if card(s) {
        out.push_str(&format!(
            "<CREDITCARDMSGSRSV1><CCSTMTTRNRS>{status}\n<CCSTMTRS><CURDEF>{}</CURDEF><CCACCTFROM><ACCTID>{account}</ACCTID></CCACCTFROM>\n",
            esc(currency)
        ));
    } else {
        let kind = s.account_type.as_deref().map(str::to_ascii_uppercase).filter(|t| ACCOUNT_TYPES.contains(&t.as_str()));
        out.push_str(&format!(
            "<BANKMSGSRSV1><STMTTRNRS>{status}\n<STMTRS><CURDEF>{}</CURDEF><BANKACCTFROM><BANKID>{}</BANKID><ACCTID>{account}</ACCTID><ACCTTYPE>{}</ACCTTYPE></BANKACCTFROM>\n",
            esc(currency),
            esc(s.bank.as_deref().unwrap_or("0")),
            kind.as_deref().unwrap_or("CHECKING")
        ));
    }
    let (start, end) = (s.start.map_or_else(|| server.clone(), day), s.end.map_or_else(|| server.clone(), day));
    out.push_str(&format!("<BANKTRANLIST><DTSTART>{start}</DTSTART><DTEND>{end}</DTEND>\n"));
    out
}

fn tail(s: &Summary) -> String {
    let mut out = String::from("</BANKTRANLIST>\n");
    if let Some(b) = &s.balance {
        let asof = s.balance_date.or(s.end).map_or_else(|| "19700101".to_owned(), day);
        out.push_str(&format!("<LEDGERBAL><BALAMT>{}</BALAMT><DTASOF>{asof}</DTASOF></LEDGERBAL>\n", esc(b)));
    }
    out.push_str(if card(s) {
        "</CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>\n</OFX>\n"
    } else {
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\n</OFX>\n"
    });
    out
}

/// At most `max` characters of `s`, and whether it was cut.
fn cut(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (s[..i].to_owned(), true),
        None => (s.to_owned(), false),
    }
}

fn unheld(extra: &std::collections::BTreeMap<String, String>, warnings: &mut Vec<String>) {
    for k in extra.keys().filter(|k| !KEPT_AFTER_FITID.contains(&k.as_str())) {
        warnings.push(format!("{k}: an OFX statement has no place for it"));
    }
}

/// One `STMTTRN`.
fn transaction(id: &str, f: &Finance, warnings: &mut Vec<String>) -> String {
    let amount = f.amount.as_deref().unwrap_or("0");
    let kind = match f.transaction_type.as_deref().map(str::to_ascii_uppercase) {
        Some(t) if TRANSACTION_TYPES.contains(&t.as_str()) => t,
        _ if amount.starts_with('-') => "DEBIT".into(),
        _ => "CREDIT".into(),
    };
    let posted = match (f.time, f.date) {
        (Some(t), _) => {
            let secs = t.offset().fix().local_minus_utc();
            if secs % 3600 == 0 {
                format!("{}[{}]", t.format("%Y%m%d%H%M%S"), secs / 3600)
            } else {
                format!("{}[0:GMT]", t.naive_utc().format("%Y%m%d%H%M%S"))
            }
        }
        (None, Some(d)) => day(d),
        (None, None) => {
            warnings.push("date: none known, the statement says 19700101".into());
            "19700101".into()
        }
    };
    let mut out = format!("<STMTTRN><TRNTYPE>{kind}</TRNTYPE><DTPOSTED>{posted}</DTPOSTED>");
    if let Some(v) = f.value_date {
        out.push_str(&format!("<DTAVAIL>{}</DTAVAIL>", day(v)));
    }
    let fitid = f.transaction_id.clone().unwrap_or_else(|| {
        warnings.push("transaction_id: none from the bank; the OFX's FITID is ferry's id of the item".into());
        id.to_owned()
    });
    out.push_str(&format!("<TRNAMT>{}</TRNAMT><FITID>{}</FITID>", esc(amount), esc(&cut(&fitid, 255).0)));
    for k in KEPT_AFTER_FITID {
        if let Some(v) = f.extra.get(k) {
            out.push_str(&format!("<{k}>{}</{k}>", esc(v)));
        }
    }
    if let Some(n) = &f.counterparty {
        let (name, was_cut) = cut(n, 32);
        if was_cut {
            warnings.push("counterparty: cut to OFX's 32 characters".into());
        }
        out.push_str(&format!("<NAME>{}</NAME>", esc(&name)));
    }
    if let Some(m) = &f.description {
        let (memo, was_cut) = cut(m, 255);
        if was_cut {
            warnings.push("description: cut to OFX's 255 characters".into());
        }
        out.push_str(&format!("<MEMO>{}</MEMO>", esc(&memo)));
    }
    out.push_str("</STMTTRN>\n");
    for (name, held) in [
        ("category", &f.category),
        ("counterparty_account", &f.counterparty_account),
        ("balance", &f.balance),
        ("account_name", &f.account_name),
    ] {
        if held.is_some() {
            warnings.push(format!("{name}: an OFX transaction has no place for it"));
        }
    }
    unheld(&f.extra, warnings);
    out
}
