//! OFX and QFX (Quicken's OFX) bank and card statements: OFX 1.x, SGML, whose header
//! (`OFXHEADER:100`, `ENCODING:USASCII`, `CHARSET:1252`) is followed by elements whose
//! values are not closed (`<TRNAMT>-12.50`); and OFX 2.x, XML (`<?OFX OFXHEADER="200"?>`).
//! Read as a stream of tags, one statement transaction at a time.
//!
//! - `STMTTRN`: TRNTYPE, DTPOSTED (`20240105120000.000[-5:EST]`), DTAVAIL, TRNAMT
//!   (`-12.50` or `-12,50`: "the radix point is indicated with either a period or a
//!   comma"), FITID, NAME or PAYEE, MEMO, the counterparty's account (BANKACCTTO), a
//!   CURRENCY; any other element is kept in the record's `extra` under its tag.
//! - `STMTRS` (bank) and `CCSTMTRS` (card): CURDEF, BANKACCTFROM / CCACCTFROM, the period
//!   (BANKTRANLIST's DTSTART, DTEND), LEDGERBAL (the account's item, at the statement's
//!   end); AVAILBAL in its `extra`.
//! - An investment statement (`INVSTMTRS`) is not read: it is said once, as an error.
//!
//! The header's charset decides the text's encoding (USASCII with 1252, or ISO-8859-1:
//! Windows-1252; UTF-8); an XML file without a declared encoding is UTF-8; text that is
//! not valid in the declared encoding is read as Windows-1252, with a warning.

use super::{Finance, Found, Ids, Kind, account_id};
use crate::decimal::{Radix, amount};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

/// Reads an OFX or QFX file from `input`, handing each transaction (and, at the end of
/// each statement, its account) to `each` as soon as it is complete (`each` returns false
/// to stop). A transaction that cannot be read is handed as Err(reason) and reading goes
/// on; a file that is not OFX, or is cut short, is the function's Err.
pub fn read_ofx(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let charset = header(&mut input)?;
    let mut tokens = Tokens { input, charset, warnings: Vec::new(), queued: None };
    let mut reader = Statements::default();
    let mut pending: Option<Token> = None;
    let mut seen_ofx = false;
    while let Some(token) = pending.take().map(Ok).or_else(|| tokens.next().transpose()).transpose()? {
        let go_on = match token {
            Token::Open(name) => {
                seen_ofx |= name == "OFX";
                if reader.stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nest deeper than {MAX_DEPTH}"));
                }
                match tokens.next()? {
                    Some(Token::Text(value)) => {
                        let warnings = std::mem::take(&mut tokens.warnings);
                        reader.leaf(&name, value, warnings);
                        // an XML file closes the element; an SGML file does not
                        match tokens.next()? {
                            Some(Token::Close(c)) if c == name => {}
                            other => pending = other,
                        }
                        true
                    }
                    other => {
                        pending = other;
                        reader.open(name, each)
                    }
                }
            }
            Token::Close(name) => reader.close(&name, each),
            Token::Text(_) => true,
        };
        if !go_on {
            return Ok(());
        }
    }
    if !seen_ofx {
        return Err("not an OFX file: no <OFX> element".into());
    }
    if let Some(open) = reader.stack.last() {
        let go_on = reader.txn.take().is_none_or(|_| each(Err("a transaction cut short at the end of the file".into())));
        if go_on {
            return Err(format!("the file ends inside <{open}>: it is cut short"));
        }
    }
    Ok(())
}

const MAX_DEPTH: usize = 64;
/// The longest tag and the longest value ferry reads (OFX's values are short: a MEMO is
/// at most 255 characters).
const MAX_TAG: usize = 1024;
const MAX_TEXT: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Charset {
    Utf8,
    Windows1252,
}

/// Reads the header, up to the first tag, and tells the text's encoding.
fn header(input: &mut BufReader<impl Read>) -> Result<Charset, String> {
    let mut head = Vec::new();
    loop {
        let buf = input.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
        if buf.is_empty() {
            break;
        }
        match buf.iter().position(|&b| b == b'<') {
            Some(i) => {
                head.extend_from_slice(&buf[..i]);
                input.consume(i);
                break;
            }
            None => {
                head.extend_from_slice(buf);
                let n = buf.len();
                input.consume(n);
            }
        }
        if head.len() > 4096 {
            return Err("not an OFX file: no tag in its first 4096 bytes".into());
        }
    }
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        // OFX 2.x (an XML declaration follows), or a file of tags alone
        let first = input.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
        if first.is_empty() {
            return Err("not an OFX file: it is empty".into());
        }
        let decl = String::from_utf8_lossy(&first[..first.len().min(200)]).to_ascii_lowercase();
        let latin = decl.starts_with("<?xml") && decl.split("?>").next().is_some_and(|d| d.contains("1252") || d.contains("8859-1"));
        return Ok(if latin { Charset::Windows1252 } else { Charset::Utf8 });
    }
    let mut fields = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':').ok_or_else(|| format!("not an OFX file: its header line `{}` is not KEY:VALUE", cut(line)))?;
        fields.insert(k.trim().to_ascii_uppercase(), v.trim().to_ascii_uppercase());
    }
    if !fields.contains_key("OFXHEADER") {
        return Err(format!("not an OFX file: it starts with `{}`", cut(text.trim())));
    }
    let encoding = fields.get("ENCODING").map(String::as_str).unwrap_or("USASCII");
    let charset = fields.get("CHARSET").map(String::as_str).unwrap_or("NONE");
    Ok(match (encoding, charset) {
        ("UTF-8" | "UTF8" | "UNICODE", _) | (_, "UTF-8" | "UTF8") => Charset::Utf8,
        _ => Charset::Windows1252,
    })
}

fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

#[derive(Debug, PartialEq)]
enum Token {
    Open(String),
    Close(String),
    Text(String),
}

struct Tokens<R> {
    input: BufReader<R>,
    charset: Charset,
    /// What the last text could not be read as (its encoding).
    warnings: Vec<String>,
    /// A token to give next (the end of an empty element).
    queued: Option<Token>,
}

impl<R: Read> Tokens<R> {
    /// Bytes up to (not with) `end`, at most `max`; `None` at the end of the file.
    fn until(&mut self, end: u8, max: usize, what: &str) -> Result<Option<Vec<u8>>, String> {
        let mut out = Vec::new();
        loop {
            let buf = self.input.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
            if buf.is_empty() {
                return Ok(if out.is_empty() { None } else { Some(out) });
            }
            match buf.iter().position(|&b| b == end) {
                Some(i) => {
                    out.extend_from_slice(&buf[..i]);
                    self.input.consume(i);
                    if out.len() > max {
                        return Err(format!("{what} longer than {max} bytes: not OFX"));
                    }
                    return Ok(Some(out));
                }
                None => {
                    out.extend_from_slice(buf);
                    let n = buf.len();
                    self.input.consume(n);
                }
            }
            if out.len() > max {
                return Err(format!("{what} longer than {max} bytes: not OFX"));
            }
        }
    }

    fn byte(&mut self) -> Result<Option<u8>, String> {
        let buf = self.input.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
        let b = buf.first().copied();
        if b.is_some() {
            self.input.consume(1);
        }
        Ok(b)
    }

    fn decode(&mut self, bytes: &[u8]) -> String {
        match (self.charset, std::str::from_utf8(bytes)) {
            (Charset::Utf8, Ok(s)) => s.to_owned(),
            (Charset::Utf8, Err(_)) => {
                self.warnings.push("text that is not UTF-8, as its file says: read as Windows-1252".into());
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()
            }
            (Charset::Windows1252, _) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
        }
    }

    fn next(&mut self) -> Result<Option<Token>, String> {
        if let Some(t) = self.queued.take() {
            return Ok(Some(t));
        }
        loop {
            match self.byte()? {
                None => return Ok(None),
                Some(b'<') => {
                    let Some(tag) = self.until(b'>', MAX_TAG, "a tag")? else {
                        return Err("the file ends inside a tag: it is cut short".into());
                    };
                    if self.byte()?.is_none() {
                        return Err("the file ends inside a tag: it is cut short".into());
                    }
                    let tag = String::from_utf8_lossy(&tag);
                    let tag = tag.trim();
                    if tag.starts_with('?') || tag.starts_with('!') {
                        if tag.starts_with("!--") && !tag.ends_with("--") {
                            self.skip_comment()?;
                        }
                        continue;
                    }
                    if let Some(name) = tag.strip_prefix('/') {
                        return Ok(Some(Token::Close(name.trim().to_ascii_uppercase())));
                    }
                    let (name, empty) = match tag.strip_suffix('/') {
                        Some(n) => (n.trim(), true),
                        None => (tag, false),
                    };
                    let name = name.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    if name.is_empty() {
                        return Err("an empty tag `<>`: not OFX".into());
                    }
                    if empty {
                        // `<MEMO/>`: an element with no value, closed at once
                        self.queued = Some(Token::Close(name.clone()));
                    }
                    return Ok(Some(Token::Open(name)));
                }
                Some(first) => {
                    let mut bytes = vec![first];
                    if let Some(rest) = self.until(b'<', MAX_TEXT, "a value")? {
                        bytes.extend_from_slice(&rest);
                    }
                    let text = crate::entities::decode(&self.decode(&bytes));
                    // a value broken over lines is one value
                    let text = text.split(['\r', '\n']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
                    if !text.is_empty() {
                        return Ok(Some(Token::Text(text)));
                    }
                }
            }
        }
    }

    fn skip_comment(&mut self) -> Result<(), String> {
        let mut last = [0u8; 2];
        loop {
            match self.byte()? {
                None => return Err("the file ends inside a comment: it is cut short".into()),
                Some(b'>') if last == *b"--" => return Ok(()),
                Some(b) => last = [last[1], b],
            }
        }
    }
}

/// OFX's date and time: `YYYYMMDD[HHMMSS[.XXX]][[offset[:name]]]`; the offset in hours
/// (GMT if none). The date is as written; the time, with its offset, if there is one.
pub(crate) fn datetime(s: &str) -> Option<(NaiveDate, Option<chrono::DateTime<FixedOffset>>)> {
    let s = s.trim();
    let (main, zone) = match s.split_once('[') {
        Some((m, z)) => (m.trim(), Some(z.trim_end_matches(']'))),
        None => (s, None),
    };
    let main = main.split('.').next()?;
    if main.len() < 8 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(&main[..8], "%Y%m%d").ok()?;
    let time = match main.len() {
        8 => return Some((date, None)),
        12 => NaiveTime::parse_from_str(&main[8..], "%H%M").ok()?,
        14 => NaiveTime::parse_from_str(&main[8..], "%H%M%S").ok()?,
        _ => return None,
    };
    let hours = zone.map(|z| z.split(':').next().unwrap_or("0").trim()).filter(|h| !h.is_empty()).unwrap_or("0");
    let (sign, digits) = match hours.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, hours.strip_prefix('+').unwrap_or(hours)),
    };
    let (h, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let minutes = h.parse::<i32>().ok()? * 60 + (format!("0.{frac}").parse::<f64>().ok()? * 60.0).round() as i32;
    let offset = FixedOffset::east_opt(sign * minutes * 60)?;
    let at = offset.from_local_datetime(&NaiveDateTime::new(date, time)).single()?;
    Some((date, Some(at)))
}

/// The state of the statements being read.
#[derive(Default)]
struct Statements {
    stack: Vec<String>,
    statement: Option<Statement>,
    txn: Option<(Finance, Vec<String>)>,
    ids: Ids,
    said_investments: bool,
}

#[derive(Default)]
struct Statement {
    account: Finance,
    warnings: Vec<String>,
}

/// The aggregates whose elements a reader tells apart.
const KNOWN: [&str; 14] = [
    "STMTTRN",
    "PAYEE",
    "BANKACCTTO",
    "CCACCTTO",
    "CURRENCY",
    "ORIGCURRENCY",
    "BANKACCTFROM",
    "CCACCTFROM",
    "LEDGERBAL",
    "AVAILBAL",
    "BANKTRANLIST",
    "STMTRS",
    "CCSTMTRS",
    "INVSTMTRS",
];

impl Statements {
    fn within(&self) -> Option<&str> {
        self.stack.iter().rev().find(|a| KNOWN.contains(&a.as_str())).map(String::as_str)
    }

    fn open(&mut self, name: String, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        let go_on = match name.as_str() {
            "STMTRS" | "CCSTMTRS" => {
                let mut account = Finance { kind: Kind::Account, ..Default::default() };
                if name == "CCSTMTRS" {
                    account.account_type = Some("CREDITCARD".into());
                }
                self.statement = Some(Statement { account, warnings: Vec::new() });
                true
            }
            "STMTTRN" if self.statement.is_some() => {
                let a = &self.statement.as_ref().expect("checked").account;
                let t = Finance {
                    account: a.account.clone(),
                    bank: a.bank.clone(),
                    account_type: a.account_type.clone(),
                    currency: a.currency.clone(),
                    ..Default::default()
                };
                self.txn = Some((t, Vec::new()));
                true
            }
            "INVSTMTRS" if !self.said_investments => {
                self.said_investments = true;
                each(Err("an investment statement (INVSTMTRS): ferry reads bank and card statements only".into()))
            }
            _ => true,
        };
        self.stack.push(name);
        go_on
    }

    fn close(&mut self, name: &str, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        // an SGML file may leave open what it closes implicitly: close up to `name`
        let Some(at) = self.stack.iter().rposition(|a| a == name) else { return true };
        while self.stack.len() > at {
            let closed = self.stack.pop().expect("above at");
            let go_on = match closed.as_str() {
                "STMTTRN" => self.finish_transaction(each),
                "STMTRS" | "CCSTMTRS" => self.finish_statement(each),
                _ => true,
            };
            if !go_on {
                return false;
            }
        }
        true
    }

    fn finish_transaction(&mut self, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        let Some((mut t, warnings)) = self.txn.take() else { return true };
        let Some(raw) = t.extra.remove("TRNAMT") else {
            let id = t.transaction_id.as_deref().unwrap_or("?");
            return each(Err(format!("transaction {id}: no amount (TRNAMT)")));
        };
        match amount(&raw, Radix::Either) {
            Ok(a) => t.amount = Some(a),
            Err(e) => {
                let id = t.transaction_id.as_deref().unwrap_or("?");
                return each(Err(format!("transaction {id}: TRNAMT {e}")));
            }
        }
        if t.counterparty.is_none() {
            t.counterparty = t.extra.remove("EXTDNAME");
        }
        let id = self.ids.transaction(&t);
        let container = t.account.clone().unwrap_or_default();
        each(Ok(Found { id, container, record: t, files: vec![], warnings }))
    }

    fn finish_statement(&mut self, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> bool {
        let Some(Statement { account, warnings }) = self.statement.take() else { return true };
        let Some(number) = account.account.clone() else {
            return each(Err("a statement without its account (ACCTID)".into()));
        };
        each(Ok(Found { id: account_id(&number), container: number, record: account, files: vec![], warnings }))
    }

    fn leaf(&mut self, name: &str, value: String, mut warnings: Vec<String>) {
        let within = self.within().unwrap_or("").to_owned();
        let date = |v: &str, w: &mut Vec<String>| match datetime(v) {
            Some(d) => Some(d),
            None => {
                w.push(format!("{name} `{v}` is not an OFX date"));
                None
            }
        };
        if let Some((t, tw)) = self
            .txn
            .as_mut()
            .filter(|_| matches!(within.as_str(), "STMTTRN" | "PAYEE" | "BANKACCTTO" | "CCACCTTO" | "CURRENCY" | "ORIGCURRENCY"))
        {
            tw.append(&mut warnings);
            match (within.as_str(), name) {
                ("STMTTRN", "TRNTYPE") => t.transaction_type = Some(value),
                ("STMTTRN", "DTPOSTED") => match date(&value, tw) {
                    Some((d, time)) => (t.date, t.time) = (Some(d), time),
                    None => {
                        t.extra.insert(name.into(), value);
                    }
                },
                ("STMTTRN", "DTAVAIL") => match date(&value, tw) {
                    Some((d, _)) => t.value_date = Some(d),
                    None => {
                        t.extra.insert(name.into(), value);
                    }
                },
                ("STMTTRN", "FITID") => t.transaction_id = Some(value),
                ("STMTTRN", "NAME") | ("PAYEE", "NAME") => t.counterparty = Some(value),
                ("STMTTRN", "MEMO") => t.description = Some(value),
                ("BANKACCTTO" | "CCACCTTO", "ACCTID") => t.counterparty_account = Some(value),
                ("CURRENCY" | "ORIGCURRENCY", "CURSYM") => {
                    t.extra.insert(format!("{within}/CURSYM"), value.clone());
                    if within == "CURRENCY" {
                        t.currency = Some(value);
                    }
                }
                ("STMTTRN", _) => {
                    t.extra.insert(name.into(), value);
                }
                _ => {
                    t.extra.insert(format!("{within}/{name}"), value);
                }
            }
            return;
        }
        let Some(s) = self.statement.as_mut() else { return };
        s.warnings.append(&mut warnings);
        let a = &mut s.account;
        match (within.as_str(), name) {
            ("STMTRS" | "CCSTMTRS", "CURDEF") => a.currency = Some(value),
            ("BANKACCTFROM" | "CCACCTFROM", "ACCTID") => a.account = Some(value),
            ("BANKACCTFROM", "BANKID") => a.bank = Some(value),
            ("BANKACCTFROM", "ACCTTYPE") => a.account_type = Some(value),
            ("BANKTRANLIST", "DTSTART") => a.period_start = date(&value, &mut s.warnings).map(|d| d.0),
            ("BANKTRANLIST", "DTEND") => a.period_end = date(&value, &mut s.warnings).map(|d| d.0),
            ("LEDGERBAL", "BALAMT") => match amount(&value, Radix::Either) {
                Ok(b) => a.balance = Some(b),
                Err(e) => {
                    s.warnings.push(format!("LEDGERBAL: {e}"));
                    a.extra.insert("LEDGERBAL/BALAMT".into(), value);
                }
            },
            ("LEDGERBAL", "DTASOF") => a.date = date(&value, &mut s.warnings).map(|d| d.0),
            ("STMTRS" | "CCSTMTRS", _) => {
                a.extra.insert(name.into(), value);
            }
            (w, _) if !w.is_empty() => {
                a.extra.insert(format!("{w}/{name}"), value);
            }
            _ => {}
        }
    }
}
