//! Statements and histories that are files of a standard format: Apple Health's
//! `export.xml` (its workout routes and clinical records beside it), bank statements
//! (OFX/QFX, ISO 20022 CAMT.053, bank CSV) and an order history CSV.

use super::found::{beside, read_all};
use super::walk::Walk;
use ferry_verticals::finance::{FINANCE, read_bank_csv, read_camt053, read_ofx};
use ferry_verticals::health::{HEALTH, read_apple_health};
use ferry_verticals::orders::ORDERS;
use ferry_verticals::orders::order_csv::read_order_history_csv;
use std::io::Read;

pub fn apple_health(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, HEALTH, |i, each| read_apple_health(i, each), &beside);
}

pub fn ofx(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, FINANCE, |i, each| read_ofx(i, each), &beside);
}

/// XML files that are CAMT statements (by their namespace); others are given back.
pub fn camt(w: &mut Walk, files: Vec<String>) {
    let mut statements = Vec::new();
    for f in files {
        let mut head = Vec::new();
        let read = w.fs.open_file(&f).map(|r| r.take(4096).read_to_end(&mut head));
        if read.is_ok() && String::from_utf8_lossy(&head).contains("urn:iso:std:iso:20022:tech:xsd:camt.05") {
            statements.push(f);
        } else {
            w.unclaim(&f);
        }
    }
    read_all(w, statements, FINANCE, |i, each| read_camt053(i, each), &beside);
}

pub fn bank_csv(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, FINANCE, |i, each| read_bank_csv(i, each), &beside);
}

pub fn orders_csv(w: &mut Walk, files: Vec<String>) {
    read_all(w, files, ORDERS, |i, each| read_order_history_csv(i, each), &beside);
}
