//! The CSV files banks give ("Umsätze exportieren", "Download transactions"): no
//! standard, so the header row is recognised from a table of the names banks give their
//! columns, in English and German (`Date`/`Buchungstag`, `Amount`/`Betrag`,
//! `Debit`+`Credit`/`Soll`+`Haben`, `Payee`/`Beguenstigter/Zahlungspflichtiger`...).
//!
//! What German banks write is read: lines before the header (`Kontonummer:;DE12…`,
//! kept in the account's item), `;` between fields, quoted fields, a decimal comma
//! (`-1.234,56`), a `Soll/Haben` column or an `S`/`H` after the amount, two-digit years,
//! Windows-1252 text, a BOM. The separator is the one that makes a header of the first
//! lines; a slashed date's order (day/month or month/day) is the one its first rows show.
//! A column the table does not know is kept in the record's `extra` under its name,
//! never dropped.

use super::{Finance, Found, Ids, Kind, account_id};
use crate::decimal::{Radix, amount, negate};
use crate::found::hash_id;
use crate::xml::Budgeted;
use chrono::NaiveDate;
use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{Cursor, Read};
use std::rc::Rc;

/// Reads a bank's CSV file from `input`, handing each transaction to `each` as soon as it
/// is read (`each` returns false to stop); an account named in lines before the header
/// comes first. A row that cannot be read is handed as Err(reason) and reading goes on; a
/// file with no header ferry recognises, or a row over its bound, is the function's Err.
pub fn read_bank_csv(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    read_with(input, MAX_RECORD, each)
}

/// The lines looked at for the header, and the bytes.
const HEAD_LINES: usize = 40;
const HEAD_BYTES: usize = 64 * 1024;
const MAX_RECORD: usize = 1 << 20;
/// The rows read ahead to tell a slashed date's order.
const LOOKAHEAD: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Date,
    ValueDate,
    Amount,
    Debit,
    Credit,
    Sign,
    Currency,
    Counterparty,
    CounterpartyAccount,
    Description,
    Type,
    Balance,
    Category,
    TransactionId,
    Account,
    AccountName,
    Bank,
}

/// The names banks give their columns (lowercase, umlauts spelled out, a currency in
/// parentheses taken off).
#[rustfmt::skip]
const COLUMNS: &[(Role, &[&str])] = &[
    (Role::Date, &["date", "booking date", "transaction date", "posting date", "posted date", "buchungstag", "buchungsdatum", "datum", "buchung", "belegdatum", "umsatzdatum", "transaktionsdatum", "completed date"]),
    (Role::ValueDate, &["value date", "valuta", "valutadatum", "wertstellung", "wertstellungsdatum", "valuta datum", "wertstellungstag"]),
    (Role::Amount, &["amount", "betrag", "umsatz", "transaction amount", "betrag in eur", "umsatz in eur"]),
    (Role::Debit, &["debit", "soll", "withdrawal", "withdrawals", "money out", "paid out", "ausgang", "belastung", "debit amount"]),
    (Role::Credit, &["credit", "haben", "deposit", "deposits", "money in", "paid in", "eingang", "gutschrift", "credit amount"]),
    (Role::Sign, &["soll/haben", "s/h", "debit/credit", "credit/debit", "cr/dr", "dr/cr", "d/c"]),
    (Role::Currency, &["currency", "waehrung", "whrg", "whrg.", "ccy"]),
    (Role::Counterparty, &["payee", "name", "counterparty", "beneficiary", "payer", "merchant", "beguenstigter/zahlungspflichtiger", "auftraggeber / beguenstigter", "auftraggeber/beguenstigter", "auftraggeber/empfaenger", "auftraggeber / empfaenger", "empfaenger", "zahlungsempfaenger", "name zahlungsbeteiligter", "zahlungspflichtige*r", "zahlungsempfaenger*in", "gegenpartei", "partner name"]),
    (Role::CounterpartyAccount, &["iban", "kontonummer/iban", "kontonummer", "iban zahlungsbeteiligter", "counterparty iban", "partner iban", "iban / kontonummer", "gegenkonto"]),
    (Role::Description, &["description", "memo", "details", "reference", "verwendungszweck", "buchungsdetails", "purpose", "narrative", "beschreibung", "transaction description"]),
    (Role::Type, &["type", "transaction type", "buchungstext", "umsatzart", "vorgang", "transaktionstyp", "booking text"]),
    (Role::Balance, &["balance", "saldo", "kontostand", "running balance", "saldo nach buchung", "balance after"]),
    (Role::Category, &["category", "kategorie"]),
    (Role::TransactionId, &["transaction id", "transaktions-id", "transaktionsid", "id", "buchungsreferenz", "bank reference"]),
    (Role::Account, &["auftragskonto", "iban auftragskonto", "account", "konto", "account number", "own account"]),
    (Role::AccountName, &["bezeichnung auftragskonto", "account name"]),
    (Role::Bank, &["bic auftragskonto"]),
];

/// The preamble's keys ferry reads: an account, its balance, its currency.
const PREAMBLE_ACCOUNT: [&str; 7] = ["kontonummer", "konto", "iban", "account", "account number", "kontonr.", "konto-nr."];
const PREAMBLE_BALANCE: [&str; 6] = ["kontostand", "saldo", "balance", "aktueller kontostand", "neuer kontostand", "current balance"];
const PREAMBLE_CURRENCY: [&str; 2] = ["waehrung", "currency"];

/// A name as the table holds it, and the currency it carries (`Betrag (EUR)`).
fn normalize(name: &str) -> (String, Option<String>) {
    let mut n = name.trim().trim_matches('"').trim().to_lowercase();
    for (from, to) in [("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")] {
        n = n.replace(from, to);
    }
    let mut currency = None;
    if let Some(open) = n.rfind('(')
        && n.ends_with(')')
    {
        let inner = n[open + 1..n.len() - 1].trim().to_uppercase();
        let inner = if inner == "€" { "EUR".to_owned() } else { inner };
        if inner.len() == 3 && inner.bytes().all(|b| b.is_ascii_uppercase()) {
            currency = Some(inner);
            n.truncate(open);
        }
    }
    let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = n.trim_end_matches(':').trim().to_owned();
    (n, currency)
}

fn role(name: &str) -> Option<Role> {
    let (n, _) = normalize(name);
    COLUMNS.iter().find(|(_, names)| names.contains(&n.as_str())).map(|(r, _)| *r)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Charset {
    Utf8,
    Windows1252,
}

fn decode(bytes: &[u8], charset: Charset, warnings: &mut Vec<String>) -> String {
    match (charset, std::str::from_utf8(bytes)) {
        (Charset::Utf8, Ok(s)) => s.to_owned(),
        (Charset::Utf8, Err(_)) => {
            warnings.push("text that is not UTF-8: read as Windows-1252".into());
            encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()
        }
        (Charset::Windows1252, _) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// A line's fields (quotes as CSV has them), for finding the header.
fn fields(line: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut chars) = (String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => out.push(std::mem::take(&mut cur).trim().to_owned()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

/// Which column is which, from the header row.
struct Columns {
    names: Vec<String>,
    roles: Vec<Option<Role>>,
    /// The column of a currency that is a balance's, not the amount's (ING's second
    /// `Währung`).
    balance_currency: Option<usize>,
    /// The currency a column's name carries (`Betrag (EUR)`).
    named_currency: Option<String>,
    german: bool,
}

impl Columns {
    fn of(header: &[String]) -> Columns {
        let mut roles: Vec<Option<Role>> = Vec::new();
        let mut balance_currency = None;
        let mut named_currency = None;
        let mut german = false;
        for (i, name) in header.iter().enumerate() {
            let (n, ccy) = normalize(name);
            german |= ["buchung", "betrag", "umsatz", "waehrung", "verwendungszweck", "soll", "haben", "valuta", "wertstellung", "saldo"]
                .iter()
                .any(|g| n.contains(g));
            let mut r = role(name);
            if matches!(r, Some(Role::Amount | Role::Debit | Role::Credit)) && named_currency.is_none() {
                named_currency = ccy;
            }
            // a currency right after the balance is the balance's
            if r == Some(Role::Currency) && i > 0 && roles[i - 1] == Some(Role::Balance) && header.len() > i + 1 {
                balance_currency = Some(i);
                r = None;
            }
            // a role taken already: the later column is kept as it is
            if r.is_some() && roles.contains(&r) {
                r = None;
            }
            roles.push(r);
        }
        Columns { names: header.to_vec(), roles, balance_currency, named_currency, german }
    }

    fn has(&self, r: Role) -> bool {
        self.roles.contains(&Some(r))
    }

    fn is_header(&self) -> bool {
        self.has(Role::Date) && (self.has(Role::Amount) || self.has(Role::Debit) || self.has(Role::Credit))
    }

    fn known(&self) -> usize {
        self.roles.iter().filter(|r| r.is_some()).count()
    }

    fn at(&self, row: &[String], r: Role) -> Option<String> {
        let i = self.roles.iter().position(|x| *x == Some(r))?;
        row.get(i).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }
}

/// A slashed (or dashed) date's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    DayFirst,
    MonthFirst,
}

/// Reads a date as banks write it; `None` if it is none.
fn date(s: &str, order: Order) -> Option<NaiveDate> {
    let s = s.trim();
    let day_part = s.split(['T', ' ']).next().unwrap_or(s);
    // chrono's `%Y` takes `24` as the year 24: a two-digit year is read with `%y`
    let parts: Vec<&str> = day_part.split(['.', '/', '-']).collect();
    let short_year =
        parts.len() == 3 && parts[0].len() <= 2 && parts[2].len() == 2 && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if short_year {
        let formats: &[&str] = match order {
            Order::DayFirst => &["%d.%m.%y", "%d/%m/%y", "%d-%m-%y"],
            Order::MonthFirst => &["%d.%m.%y", "%m/%d/%y", "%m-%d-%y"],
        };
        return formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(day_part, f).ok())
            .or_else(|| NaiveDate::parse_from_str(s, "%d-%b-%y").ok());
    }
    for (text, formats) in [
        (day_part, &["%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d", "%Y.%m.%d"][..]),
        (s, &["%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y"][..]),
    ] {
        for f in formats {
            if let Ok(d) = NaiveDate::parse_from_str(text, f) {
                return Some(d);
            }
        }
    }
    if day_part.len() == 8 && day_part.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(day_part, "%Y%m%d").ok();
    }
    let formats: &[&str] = match order {
        Order::DayFirst => &["%d/%m/%Y", "%d-%m-%Y"],
        Order::MonthFirst => &["%m/%d/%Y", "%m-%d-%Y"],
    };
    formats.iter().find_map(|f| NaiveDate::parse_from_str(day_part, f).ok())
}

/// What a slashed date says of its order: `Some` if its first or second number is over 12.
fn order_shown(s: &str) -> Option<Order> {
    let p: Vec<&str> = s.trim().split(['/', '-']).collect();
    if p.len() != 3 || p[0].len() > 2 || !p.iter().all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (a, b) = (p[0].parse::<u32>().ok()?, p[1].parse::<u32>().ok()?);
    match (a > 12, b > 12) {
        (true, false) => Some(Order::DayFirst),
        (false, true) => Some(Order::MonthFirst),
        _ => None,
    }
}

/// The radix of one amount: the last of `.` and `,` if both are there; the one there if
/// it is not followed by exactly three digits; the file's otherwise (`1.234`).
fn radix(s: &str, german: bool) -> Radix {
    let (dot, comma) = (s.rfind('.'), s.rfind(','));
    match (dot, comma) {
        (Some(d), Some(c)) => {
            if d > c {
                Radix::Point
            } else {
                Radix::Comma
            }
        }
        (Some(i), None) | (None, Some(i)) => {
            let after = s[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
            let point = s.as_bytes()[i] == b'.';
            match (after == 3 && s.matches(['.', ',']).count() == 1, point) {
                (true, _) if german => Radix::Comma,
                (true, _) => Radix::Point,
                (false, true) => Radix::Point,
                (false, false) => Radix::Comma,
            }
        }
        (None, None) => Radix::Point,
    }
}

/// An amount cell, with an `S`/`H` (or `D`/`C`, `DR`/`CR`) after it.
fn amount_cell(s: &str, german: bool) -> Result<String, String> {
    let t = s.trim();
    let (t, sign) = match t.rsplit_once(' ') {
        Some((v, m)) if matches!(m.to_ascii_uppercase().as_str(), "S" | "D" | "DR") => (v, Some(false)),
        Some((v, m)) if matches!(m.to_ascii_uppercase().as_str(), "H" | "C" | "CR") => (v, Some(true)),
        _ => (t, None),
    };
    let a = amount(t, radix(t, german))?;
    Ok(match sign {
        Some(false) if !a.starts_with('-') => negate(&a),
        _ => a,
    })
}

fn debit_sign(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "s" | "d" | "dr" | "debit" | "soll" | "-" | "db" => Some(true),
        "h" | "c" | "cr" | "credit" | "haben" | "+" => Some(false),
        _ => None,
    }
}

pub(super) fn read_with(
    mut input: impl Read,
    max_record: usize,
    each: &mut dyn FnMut(Result<Found, String>) -> bool,
) -> Result<(), String> {
    // the head: enough lines to find the header in
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut eof = false;
    while head.len() < HEAD_BYTES && head.iter().filter(|&&b| b == b'\n').count() < HEAD_LINES {
        let n = loop {
            match input.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("cannot read: {e}")),
            }
        };
        if n == 0 {
            eof = true;
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    if head.starts_with(b"\xef\xbb\xbf") {
        head.drain(..3);
    }
    if head.iter().take(4096).any(|&b| b == 0) {
        return Err("not a CSV file: it holds NUL bytes".into());
    }
    let complete = if eof { head.len() } else { head.iter().rposition(|&b| b == b'\n').map_or(head.len(), |i| i + 1) };
    let charset = match std::str::from_utf8(&head[..complete]) {
        Ok(_) => Charset::Utf8,
        Err(_) => Charset::Windows1252,
    };
    // the header: the first line whose fields, by some separator, name a date and an amount
    let mut found = None;
    let mut offset = 0;
    let mut lines = Vec::new();
    for raw in head[..complete].split_inclusive(|&b| b == b'\n').take(HEAD_LINES) {
        let line = decode(raw, charset, &mut Vec::new());
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        let best = [';', ',', '\t', '|']
            .into_iter()
            .map(|sep| (sep, Columns::of(&fields(&line, sep))))
            .filter(|(_, c)| c.is_header())
            .max_by_key(|(_, c)| c.known());
        if let Some((sep, _)) = best {
            found = Some(sep);
            break;
        }
        lines.push(line);
        offset += raw.len();
    }
    let Some(sep) = found else {
        return Err(format!(
            "not a bank CSV ferry recognises: none of its first {HEAD_LINES} lines names a date column and an amount column (such as Date and Amount, or Buchungstag and Betrag)"
        ));
    };
    // the lines before the header: the account, its balance, the rest kept as written
    let mut account = Finance { kind: Kind::Account, ..Default::default() };
    let mut preamble_warnings = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let cells: Vec<String> = fields(line, sep).into_iter().filter(|c| !c.is_empty()).collect();
        let Some(first) = cells.first() else { continue };
        let (key, _) = normalize(first);
        match cells.get(1) {
            Some(v) if PREAMBLE_ACCOUNT.contains(&key.as_str()) => {
                // `DE12 1203 0000 1234 5678 90 / Girokonto`: the number, then its name
                let (number, name) = v.split_once(" / ").unwrap_or((v, ""));
                account.account = Some(number.replace(' ', ""));
                account.account_name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
            }
            Some(v) if PREAMBLE_BALANCE.contains(&key.as_str()) => match amount_cell(v, true) {
                Ok(b) => account.balance = Some(b),
                Err(e) => {
                    preamble_warnings.push(format!("{first}: {e}"));
                    account.extra.insert(first.clone(), cells[1..].join(" "));
                }
            },
            Some(v) if PREAMBLE_CURRENCY.contains(&key.as_str()) => account.currency = Some(v.clone()),
            Some(_) => {
                account.extra.insert(first.trim_end_matches(':').to_owned(), cells[1..].join(" "));
            }
            None => {
                account.extra.insert(format!("line {}", i + 1), first.clone());
            }
        }
    }
    let preamble_account = account.account.clone();
    if account.account.is_some() || account.balance.is_some() || !account.extra.is_empty() {
        let id = match &account.account {
            Some(a) => account_id(a),
            None => format!("account/{}", hash_id(&account.extra.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]).collect::<Vec<_>>())),
        };
        let container = account.account.clone().unwrap_or_default();
        if !each(Ok(Found { id, container, record: account, files: vec![], warnings: preamble_warnings })) {
            return Ok(());
        }
    }
    // the rows, from the header on, as CSV; each bounded
    let left = Rc::new(Cell::new(max_record));
    let rest = Cursor::new(head.split_off(offset)).chain(input);
    let source = Budgeted { inner: rest, left: left.clone() };
    let mut reader = csv::ReaderBuilder::new().delimiter(sep as u8).has_headers(false).flexible(true).from_reader(source);
    let mut record = csv::ByteRecord::new();
    let mut read_row = |warnings: &mut Vec<String>| -> Result<Option<(Vec<String>, u64)>, String> {
        left.set(max_record);
        match reader.read_byte_record(&mut record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line()) + lines.len() as u64;
                Ok(Some((record.iter().map(|f| decode(f, charset, warnings)).collect(), line)))
            }
            Err(_) if left.get() == 0 => Err(format!("a row longer than {max_record} bytes: not a bank's CSV")),
            Err(e) => Err(format!("not CSV: {e}")),
        }
    };
    let Some((header, _)) = read_row(&mut Vec::new())? else { return Err("the header row cannot be read again".into()) };
    let columns = Columns::of(&header);
    let mut rows: VecDeque<(Vec<String>, u64, Vec<String>)> = VecDeque::new();
    // read ahead to tell the dates' order
    let date_columns: Vec<usize> =
        columns.roles.iter().enumerate().filter(|(_, r)| matches!(r, Some(Role::Date | Role::ValueDate))).map(|(i, _)| i).collect();
    let mut order = None;
    let mut conflict = false;
    // a row that cannot be read fails the file after the rows before it
    let mut failed = None;
    while rows.len() < LOOKAHEAD {
        let mut w = Vec::new();
        let (cells, line) = match read_row(&mut w) {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        for &i in &date_columns {
            match (order, cells.get(i).and_then(|c| order_shown(c))) {
                (None, Some(o)) => order = Some(o),
                (Some(a), Some(b)) if a != b => conflict = true,
                _ => {}
            }
        }
        rows.push_back((cells, line, w));
    }
    if conflict {
        return Err("its dates are written both day first and month first".into());
    }
    let assumed = order.is_none();
    let order = order.unwrap_or(Order::DayFirst);
    let mut ids = Ids::default();
    loop {
        let (cells, line, mut warnings) = match rows.pop_front() {
            Some(r) => r,
            None if failed.is_some() => break,
            None => {
                let mut w = Vec::new();
                match read_row(&mut w)? {
                    Some((cells, line)) => (cells, line, w),
                    None => break,
                }
            }
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let t = row(&columns, &cells, order, assumed, preamble_account.as_deref(), &mut warnings);
        let go_on = match t {
            Ok(t) => {
                let id = ids.transaction(&t);
                let container = t.account.clone().unwrap_or_default();
                each(Ok(Found { id, container, record: t, files: vec![], warnings }))
            }
            Err(e) => each(Err(format!("line {line}: {e}"))),
        };
        if !go_on {
            return Ok(());
        }
    }
    failed.map_or(Ok(()), Err)
}

/// One row as a transaction.
fn row(
    c: &Columns,
    cells: &[String],
    order: Order,
    assumed: bool,
    account: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Finance, String> {
    let mut t = Finance { kind: Kind::Transaction, ..Default::default() };
    let date_cell = c.at(cells, Role::Date);
    t.date = date_cell.as_deref().and_then(|d| date(d, order));
    let amount_cell_text = c.at(cells, Role::Amount);
    let money = match (&amount_cell_text, c.at(cells, Role::Debit), c.at(cells, Role::Credit)) {
        (Some(a), _, _) => Some(amount_cell(a, c.german).map_err(|e| format!("its amount: {e}"))?),
        (None, Some(d), None) => {
            let d = amount_cell(&d, c.german).map_err(|e| format!("its debit: {e}"))?;
            Some(if d.starts_with('-') { d } else { negate(&d) })
        }
        (None, None, Some(cr)) => Some(amount_cell(&cr, c.german).map_err(|e| format!("its credit: {e}"))?),
        (None, Some(d), Some(cr)) => {
            // both filled: one of them is zero
            let d = amount_cell(&d, c.german).map_err(|e| format!("its debit: {e}"))?;
            let cr = amount_cell(&cr, c.german).map_err(|e| format!("its credit: {e}"))?;
            let zero = |s: &str| s.trim_start_matches('-').bytes().all(|b| b == b'0' || b == b'.');
            match (zero(&d), zero(&cr)) {
                (true, _) => Some(cr),
                (_, true) => Some(if d.starts_with('-') { d } else { negate(&d) }),
                _ => return Err(format!("both a debit ({d}) and a credit ({cr})")),
            }
        }
        (None, None, None) => None,
    };
    let Some(mut money) = money else {
        return Err(match date_cell {
            Some(_) => "no amount".into(),
            None => format!("neither a date nor an amount: `{}`", cells.join(" | ").chars().take(80).collect::<String>()),
        });
    };
    if t.date.is_none() {
        match date_cell {
            Some(d) => return Err(format!("its date `{d}` is not a date")),
            None => return Err("no date".into()),
        }
    }
    if let Some(s) = c.at(cells, Role::Sign) {
        match debit_sign(&s) {
            Some(true) if !money.starts_with('-') => money = negate(&money),
            Some(_) => {}
            None => warnings.push(format!("debit/credit mark `{s}` not understood: the amount is as written")),
        }
    }
    t.amount = Some(money);
    t.value_date = c.at(cells, Role::ValueDate).and_then(|d| date(&d, order));
    t.currency = c.at(cells, Role::Currency).or_else(|| c.named_currency.clone());
    t.counterparty = c.at(cells, Role::Counterparty);
    t.counterparty_account = c.at(cells, Role::CounterpartyAccount).map(|a| a.replace(' ', ""));
    t.description = c.at(cells, Role::Description);
    t.transaction_type = c.at(cells, Role::Type);
    t.category = c.at(cells, Role::Category);
    t.transaction_id = c.at(cells, Role::TransactionId);
    t.account = c.at(cells, Role::Account).map(|a| a.replace(' ', "")).or_else(|| account.map(str::to_owned));
    t.account_name = c.at(cells, Role::AccountName);
    t.bank = c.at(cells, Role::Bank);
    if let Some(b) = c.at(cells, Role::Balance) {
        match amount_cell(&b, c.german) {
            Ok(b) => t.balance = Some(b),
            Err(e) => {
                warnings.push(format!("its balance: {e}"));
                t.extra.insert(c.names[c.roles.iter().position(|r| *r == Some(Role::Balance)).expect("has it")].clone(), b);
            }
        }
    }
    let day_or_month_first = |d: &str| {
        let p: Vec<&str> = d.trim().split(['/', '-']).collect();
        p.len() == 3 && p[0].len() <= 2 && p.iter().all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
    };
    if assumed && date_cell.as_deref().is_some_and(day_or_month_first) {
        warnings.push("its date could be day/month or month/day: read day first".into());
    }
    // what the table does not know: kept under the column's name
    let mut seen = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        let known = c.roles.get(i).copied().flatten().is_some();
        if known || cell.trim().is_empty() {
            continue;
        }
        let name = c.names.get(i).cloned().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| format!("column {}", i + 1));
        let n = seen.entry(name.clone()).or_insert(0);
        *n += 1;
        let key = if Some(i) == c.balance_currency {
            format!("{name} (balance)")
        } else if *n > 1 {
            format!("{name} ({n})")
        } else {
            name
        };
        t.extra.insert(key, cell.trim().to_owned());
    }
    Ok(t)
}
