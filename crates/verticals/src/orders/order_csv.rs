//! An order history as marketplaces export it to CSV: Amazon's "Your Orders"
//! (`Retail.OrderHistory.1.csv`; newer archives `Your Amazon Orders/Order History.csv`),
//! one row per product line, so an order is as many rows as it has lines, and they need
//! not be next to each other. Columns are found by their header, by the names Amazon has
//! used (`Total Owed` / `Total Amount`, `Quantity` / `Original Quantity`, …); a column the
//! model has no field for is kept in the line's `extra`, as written.
//!
//! As Amazon writes it: a UTF-8 byte order mark; every field quoted (commas inside
//! product names and addresses); money as text (`"13.57"`, `"0"`, a negative one in
//! single quotes, `"'-0.68'"`); `Not Available` / `Not Applicable` for what it does not
//! know (read as absent); `Carrier Name & Tracking Number` as `UPS(1Z…)`; the
//! `Shipment Item Subtotal` repeated on every row of a shipment (kept in `extra`, never
//! summed). A row repeated exactly is kept once (and said so).
//!
//! Memory: every order is held until the end of the file (its rows may come anywhere),
//! about the size of the file's text; over [`MAX_HELD`] bytes the file is refused (no
//! order is handed then). One row is at most [`MAX_ROW`] bytes.

use super::money::{absent, amount, sum};
use super::{Delivery, Found, Order, OrderLine};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ferry_core::content::sha256_hex;
use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

/// The most order data held to merge each order's rows (a file of ~100,000 lines).
pub const MAX_HELD: usize = 64 << 20;
/// The longest row read.
pub const MAX_ROW: u64 = 1 << 20;

/// Reads an order-history CSV, handing each order (its rows merged by order number) to
/// `each` at the end of the file, in the order each was first met (`each` returns false
/// to stop). A row that cannot be read is said in its order's warnings, or, when it names
/// no order, handed at once as Err(why); a file that is not an order history, has a row
/// over [`MAX_ROW`] or orders over [`MAX_HELD`] (their warnings counted), is the Err.
pub fn read_order_history_csv(input: impl Read, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    read_held(input, MAX_HELD, each)
}

/// What a column holds.
#[derive(Clone, Debug, PartialEq)]
enum Col {
    Website,
    OrderId,
    OrderDate,
    Currency,
    UnitPrice,
    UnitTax,
    Shipping,
    Discount,
    Total,
    ProductId,
    Condition,
    Quantity,
    Payment,
    OrderStatus,
    ShipmentStatus,
    ShipDate,
    ShippingOption,
    ShippingAddress,
    BillingAddress,
    Carrier,
    ProductName,
    /// Kept in `extra` under its header.
    Other(String),
}

fn column(header: &str) -> Col {
    let h: String = header.trim().trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
    match h.as_str() {
        "website" | "marketplace" => Col::Website,
        "order id" | "order number" | "orderid" => Col::OrderId,
        "order date" | "orderdate" | "purchase date" => Col::OrderDate,
        "currency" => Col::Currency,
        "unit price" | "purchase price per unit" | "item price" => Col::UnitPrice,
        "unit price tax" => Col::UnitTax,
        "shipping charge" => Col::Shipping,
        "total discounts" => Col::Discount,
        "total owed" | "total amount" | "item total" => Col::Total,
        "asin" | "asin/isbn" | "sku" => Col::ProductId,
        "product condition" | "condition" => Col::Condition,
        "quantity" | "original quantity" => Col::Quantity,
        "payment instrument type" | "payment method type" | "payment method" => Col::Payment,
        "order status" => Col::OrderStatus,
        "shipment status" => Col::ShipmentStatus,
        "ship date" | "shipment date" => Col::ShipDate,
        "shipping option" => Col::ShippingOption,
        "shipping address" => Col::ShippingAddress,
        "billing address" => Col::BillingAddress,
        "carrier name & tracking number" | "carrier name and tracking number" => Col::Carrier,
        "product name" | "title" => Col::ProductName,
        _ => Col::Other(header.trim().trim_start_matches('\u{feff}').trim().to_owned()),
    }
}

/// The order-level columns: taken from an order's first row; a later row that says
/// otherwise keeps its word in its line's `extra`.
fn order_level(c: &Col) -> bool {
    matches!(c, Col::Website | Col::OrderDate | Col::Currency | Col::Payment | Col::OrderStatus | Col::BillingAddress)
}

/// An order being gathered.
struct Held {
    found: Found,
    /// The rows kept (their hash), and the line each was on.
    rows: HashMap<String, u64>,
    /// Order-level columns already set (by index), from the first row.
    first: bool,
}

/// Counts what is read, and refuses to read a row on past the limit (the CSV reader would
/// otherwise hold it whole, however long).
struct Bounded<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    mark: Rc<Cell<u64>>,
}

/// What the CSV reader may hold beyond a row (its buffer).
const BUFFER: usize = 64 * 1024;

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.get() - self.mark.get() > MAX_ROW + BUFFER as u64 {
            return Err(std::io::Error::other(format!("a row longer than {MAX_ROW} bytes")));
        }
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

pub(crate) fn read_held(input: impl Read, max_held: usize, each: &mut dyn FnMut(Result<Found, String>) -> bool) -> Result<(), String> {
    let (read, mark) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let bounded = Bounded { inner: input, read: read.clone(), mark: mark.clone() };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(BUFFER).from_reader(bounded);
    let mut record = csv::ByteRecord::new();
    let bad = |e: csv::Error| format!("not an order history ferry reads: {e}");
    if !rdr.read_byte_record(&mut record).map_err(bad)? {
        return Err("not an order history: the file is empty".into());
    }
    let cols: Vec<Col> = record.iter().map(|h| column(&String::from_utf8_lossy(h))).collect();
    if !cols.contains(&Col::OrderId) || !(cols.contains(&Col::OrderDate) || cols.contains(&Col::ProductName)) {
        let shown: Vec<String> = record.iter().take(8).map(|h| String::from_utf8_lossy(h).into_owned()).collect();
        return Err(format!("not an order history: no `Order ID` and `Order Date` columns (its header: {})", shown.join(", ")));
    }
    let mut orders: Vec<Held> = Vec::new();
    let mut by_number: HashMap<String, usize> = HashMap::new();
    // about the bytes held: the orders' text, a little more for each string and row
    let mut held = 0usize;
    let over = |held: usize| {
        (held > max_held).then(|| {
            format!(
                "over {max_held} bytes of orders: ferry holds every order until the file ends (an order's rows may come anywhere in it) and holds no more; split the file"
            )
        })
    };
    // rows as the file's records count them, the header the first (blank lines are none)
    let mut line = 1u64;
    loop {
        mark.set(rdr.position().byte());
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(bad(e)),
        }
        line += 1;
        let mut not_utf8 = false;
        let fields: Vec<String> = record
            .iter()
            .map(|f| match std::str::from_utf8(f) {
                Ok(s) => s.to_owned(),
                Err(_) => {
                    not_utf8 = true;
                    String::from_utf8_lossy(f).into_owned()
                }
            })
            .collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let number =
            cols.iter().position(|c| *c == Col::OrderId).and_then(|i| fields.get(i)).filter(|n| !absent(n)).map(|n| n.trim().to_owned());
        let Some(number) = number else {
            // no order to say it in: an error of its own, handed now
            if !each(Err(format!("row {line}: a row without an order number: not read"))) {
                return Ok(());
            }
            continue;
        };
        let i = match by_number.get(&number) {
            Some(i) => *i,
            None => {
                held += 3 * number.len() + 512;
                by_number.insert(number.clone(), orders.len());
                orders.push(Held {
                    found: Found {
                        id: number.clone(),
                        container: String::new(),
                        record: Order { number, ..Default::default() },
                        files: vec![],
                        warnings: vec![],
                    },
                    rows: HashMap::new(),
                    first: true,
                });
                orders.len() - 1
            }
        };
        let h = &mut orders[i];
        let said = h.found.warnings.len();
        take(h, &cols, fields, line, not_utf8, &mut held);
        held += h.found.warnings[said..].iter().map(|w| w.len() + 32).sum::<usize>();
        if let Some(e) = over(held) {
            return Err(e);
        }
    }
    for h in orders {
        let mut found = h.found;
        let totals: Option<Vec<&str>> = found.record.lines.iter().map(|l| l.total.as_deref()).collect();
        found.record.total = totals.filter(|t| !t.is_empty()).and_then(sum);
        if !each(Ok(found)) {
            break;
        }
    }
    Ok(())
}

/// A row of an order's: a line of it, or what is said of it (cut short, a repeat).
fn take(h: &mut Held, cols: &[Col], fields: Vec<String>, line: u64, not_utf8: bool, held: &mut usize) {
    if fields.len() < cols.len() {
        let msg = format!("row {line}: {} of the header's {} fields (the file cut short?): not read", fields.len(), cols.len());
        h.found.warnings.push(msg);
        return;
    }
    let hash = sha256_hex(fields.join("\u{1f}").as_bytes());
    if let Some(earlier) = h.rows.get(&hash) {
        h.found.warnings.push(format!("row {line} repeats row {earlier} exactly: kept once"));
        return;
    }
    h.rows.insert(hash, line);
    if not_utf8 {
        h.found.warnings.push(format!("row {line} is not UTF-8 text: read with U+FFFD for what is not"));
    }
    *held += fields.iter().map(String::len).sum::<usize>() + 64 * fields.len() + 256;
    row(h, cols, fields, line);
}

/// One row into its order: a line, and the order's own fields from its first row.
fn row(h: &mut Held, cols: &[Col], fields: Vec<String>, line: u64) {
    let first = std::mem::replace(&mut h.first, false);
    let Found { record: o, warnings, container, .. } = &mut h.found;
    let mut l = OrderLine::default();
    let mut d = Delivery::default();
    for (k, raw) in fields.into_iter().enumerate() {
        if absent(&raw) {
            continue;
        }
        let value = raw.trim().to_owned();
        let Some(col) = cols.get(k) else {
            l.extra.insert(format!("column {}", k + 1), value);
            continue;
        };
        let name = header_name(col);
        if order_level(col) && !first {
            let same = match col {
                Col::Website => o.seller.as_deref() == Some(&value),
                Col::OrderDate => o.date.is_some_and(|d| Some(d) == date(&value)) || o.extra.get(&name) == Some(&value),
                Col::Currency => o.currency.as_deref() == Some(&value),
                Col::Payment => o.payment.as_deref() == Some(&value),
                Col::OrderStatus => o.status.as_deref() == Some(&value),
                _ => o.billing_address.as_deref() == Some(&value),
            };
            if !same {
                l.extra.insert(name, value);
            }
            continue;
        }
        let slot = match col {
            Col::UnitPrice => Some(&mut l.unit_price),
            Col::UnitTax => Some(&mut l.unit_tax),
            Col::Shipping => Some(&mut l.shipping),
            Col::Discount => Some(&mut l.discount),
            Col::Total => Some(&mut l.total),
            _ => None,
        };
        if let Some(slot) = slot {
            match amount(&value) {
                Some(a) => *slot = Some(a),
                None => kept_as_written(warnings, &mut l, line, name, value, "an amount"),
            }
            continue;
        }
        match col {
            Col::Website => {
                *container = value.replace('/', "_");
                o.seller = Some(value);
            }
            Col::OrderDate => match date(&value) {
                Some(d) => o.date = Some(d),
                None => {
                    warnings.push(format!("row {line}: {name} {value:?} is not a date: kept as written in the order's extra"));
                    o.extra.insert(name, value);
                }
            },
            Col::Currency => o.currency = Some(value),
            Col::Payment => o.payment = Some(value),
            Col::OrderStatus => o.status = Some(value),
            Col::BillingAddress => o.billing_address = Some(value),
            Col::ProductId => l.product_id = Some(value),
            Col::Condition => l.condition = Some(value),
            Col::ProductName => l.name = Some(value),
            Col::Quantity => match value.trim_matches('\'').parse::<u32>() {
                Ok(q) => l.quantity = Some(q),
                Err(_) => kept_as_written(warnings, &mut l, line, name, value, "a count"),
            },
            Col::ShipmentStatus => d.status = Some(value),
            Col::ShipDate => match date(&value) {
                Some(t) => d.shipped = Some(t),
                None => kept_as_written(warnings, &mut l, line, name, value, "a date"),
            },
            Col::ShippingOption => d.method = Some(value),
            Col::ShippingAddress => d.address = Some(value),
            Col::Carrier => {
                let (carrier, tracking) = carrier(&value);
                d.carrier = Some(carrier);
                d.tracking = tracking;
            }
            Col::Other(_) => {
                // a header met twice keeps both values
                let mut key = name.clone();
                let mut n = 1;
                while l.extra.contains_key(&key) {
                    n += 1;
                    key = format!("{name} ({n})");
                }
                l.extra.insert(key, value);
            }
            Col::OrderId | Col::UnitPrice | Col::UnitTax | Col::Shipping | Col::Discount | Col::Total => {}
        }
    }
    l.delivery = d;
    o.lines.push(l);
}

/// A value that is not what its column holds: kept, as written, in the line's `extra`.
fn kept_as_written(warnings: &mut Vec<String>, l: &mut OrderLine, line: u64, name: String, value: String, what: &str) {
    warnings.push(format!("row {line}: {name} {value:?} is not {what}: kept as written in the line's extra"));
    l.extra.insert(name, value);
}

/// The column's name as a key of `extra`.
fn header_name(c: &Col) -> String {
    match c {
        Col::Other(h) => h.clone(),
        c => match c {
            Col::Website => "Website",
            Col::OrderId => "Order ID",
            Col::OrderDate => "Order Date",
            Col::Currency => "Currency",
            Col::UnitPrice => "Unit Price",
            Col::UnitTax => "Unit Price Tax",
            Col::Shipping => "Shipping Charge",
            Col::Discount => "Total Discounts",
            Col::Total => "Total Owed",
            Col::ProductId => "ASIN",
            Col::Condition => "Product Condition",
            Col::Quantity => "Quantity",
            Col::Payment => "Payment Instrument Type",
            Col::OrderStatus => "Order Status",
            Col::ShipmentStatus => "Shipment Status",
            Col::ShipDate => "Ship Date",
            Col::ShippingOption => "Shipping Option",
            Col::ShippingAddress => "Shipping Address",
            Col::BillingAddress => "Billing Address",
            Col::Carrier => "Carrier Name & Tracking Number",
            Col::ProductName => "Product Name",
            Col::Other(_) => unreachable!(),
        }
        .to_owned(),
    }
}

/// `UPS(1Z999AA10123456784)` as the carrier and the tracking number; anything else as
/// the carrier, as written.
fn carrier(s: &str) -> (String, Option<String>) {
    if let Some((name, rest)) = s.split_once('(')
        && let Some(tracking) = rest.strip_suffix(')')
        && !name.trim().is_empty()
        && !tracking.trim().is_empty()
        && !tracking.contains(['(', ')'])
    {
        return (name.trim().to_owned(), Some(tracking.trim().to_owned()));
    }
    (s.to_owned(), None)
}

/// The dates order histories carry, in forms that say which is the month: RFC 3339
/// (`2023-05-31T13:00:59.799Z`), without a zone (UTC), with a space, or a bare date
/// (midnight UTC). `05/06/2023` says neither, and is not read as a date.
fn date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = s.trim_end_matches(" UTC").trim_end_matches('Z');
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amazon's header, as its "Your Orders" request gives it.
    const HEADER: &str = "\"Website\",\"Order ID\",\"Order Date\",\"Purchase Order Number\",\"Currency\",\"Unit Price\",\"Unit Price Tax\",\"Shipping Charge\",\"Total Discounts\",\"Total Owed\",\"Shipment Item Subtotal\",\"Shipment Item Subtotal Tax\",\"ASIN\",\"Product Condition\",\"Quantity\",\"Payment Instrument Type\",\"Order Status\",\"Shipment Status\",\"Ship Date\",\"Shipping Option\",\"Shipping Address\",\"Billing Address\",\"Carrier Name & Tracking Number\",\"Product Name\",\"Gift Message\",\"Gift Sender Name\",\"Gift Recipient Contact Details\",\"Item Serial Number\"";

    /// A row in Amazon's form, every field quoted.
    #[allow(clippy::too_many_arguments)]
    fn row(
        order: &str,
        date: &str,
        unit: &str,
        discount: &str,
        total: &str,
        asin: &str,
        qty: &str,
        status: &str,
        carrier: &str,
        name: &str,
    ) -> String {
        let f = [
            "Amazon.com",
            order,
            date,
            "Not Applicable",
            "USD",
            unit,
            "0",
            "0",
            discount,
            total,
            "Not Available",
            "Not Available",
            asin,
            "New",
            qty,
            "Visa - 0094",
            status,
            "Shipped",
            "2023-06-01T10:00:00Z",
            "std-us",
            "Jo Doe, 1 Main St, Springfield, IL 62701",
            "Jo Doe, 1 Main St",
            carrier,
            name,
            "Not Available",
            "Not Available",
            "Not Available",
            "Not Available",
        ];
        f.iter().map(|x| format!("\"{}\"", x.replace('"', "\"\""))).collect::<Vec<_>>().join(",")
    }

    fn read(text: &str) -> (Vec<Result<Found, String>>, Result<(), String>) {
        let mut out = Vec::new();
        let r = read_order_history_csv(text.as_bytes(), &mut |f| {
            out.push(f);
            true
        });
        (out, r)
    }

    fn ok(found: &[Result<Found, String>]) -> Vec<&Found> {
        found.iter().filter_map(|f| f.as_ref().ok()).collect()
    }

    #[test]
    fn rows_of_an_order_merge_wherever_they_are_and_money_stays_exact() {
        let a1 = row(
            "114-1",
            "2023-05-31T13:00:59.799Z",
            "13.57",
            "'-0.68'",
            "12.89",
            "B09LSNJTWF",
            "1",
            "Closed",
            "UPS(1Z999AA10123456784)",
            "Almonds, Dark \"Chocolate\"",
        );
        let b1 = row("114-2", "2023-06-02T08:00:00Z", "5", "0", "5", "B000000002", "2", "Closed", "Not Available", "Kabel – 2 m, weiß");
        let a2 = row("114-1", "2023-05-31T13:00:59.799Z", "0.1", "0", "0.1", "B000000003", "1", "Closed", "AMZN_US(TBA123)", "Sticker");
        let text = format!("\u{feff}{HEADER}\r\n{a1}\r\n{b1}\r\n{a2}\r\n");
        let (found, r) = read(&text);
        r.unwrap();
        let found = ok(&found);
        assert_eq!(found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["114-1", "114-2"], "in the order first met");
        let a = &found[0];
        assert_eq!((a.container.as_str(), a.record.seller.as_deref()), ("Amazon.com", Some("Amazon.com")));
        assert_eq!(a.record.lines.len(), 2);
        assert_eq!(a.record.total.as_deref(), Some("12.99"), "12.89 + 0.1, exactly");
        assert_eq!(a.record.date, date("2023-05-31T13:00:59.799Z"));
        assert_eq!(
            (a.record.status.as_deref(), a.record.payment.as_deref(), a.record.currency.as_deref()),
            (Some("Closed"), Some("Visa - 0094"), Some("USD"))
        );
        let l = &a.record.lines[0];
        assert_eq!(l.name.as_deref(), Some("Almonds, Dark \"Chocolate\""));
        assert_eq!(
            (l.unit_price.as_deref(), l.discount.as_deref(), l.total.as_deref(), l.unit_tax.as_deref()),
            (Some("13.57"), Some("-0.68"), Some("12.89"), Some("0"))
        );
        assert_eq!((l.quantity, l.product_id.as_deref(), l.condition.as_deref()), (Some(1), Some("B09LSNJTWF"), Some("New")));
        assert_eq!((l.delivery.carrier.as_deref(), l.delivery.tracking.as_deref()), (Some("UPS"), Some("1Z999AA10123456784")));
        assert_eq!(l.delivery.address.as_deref(), Some("Jo Doe, 1 Main St, Springfield, IL 62701"));
        assert_eq!(l.delivery.shipped, date("2023-06-01T10:00:00Z"));
        assert!(l.extra.is_empty(), "Not Available and Not Applicable are absent, not kept: {:?}", l.extra);
        assert_eq!(a.record.lines[1].delivery.tracking.as_deref(), Some("TBA123"));
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        assert_eq!(found[1].record.lines[0].name.as_deref(), Some("Kabel – 2 m, weiß"));
        assert_eq!(found[1].record.total.as_deref(), Some("5"));
    }

    #[test]
    fn oddities_are_kept_or_said_never_dropped_silently() {
        let dup = row("114-3", "2023-01-01T00:00:00Z", "1.00", "0", "1.00", "B1", "1", "Closed", "Not Available", "Thing");
        let bad_money =
            row("114-3", "2023-01-01T00:00:00Z", "about 3", "0", "Not Available", "B2", "1.5", "Cancelled", "Not Available", "Other");
        let bad_date = row("114-4", "05/06/2023", "1", "0", "1", "B3", "1", "Closed", "Not Available", "X");
        let mut no_order = row("", "2023-01-01", "1", "0", "1", "B4", "1", "Closed", "", "Y");
        no_order = no_order.replacen("\"Amazon.com\",\"\"", "\"Amazon.com\",\"Not Available\"", 1);
        let text = format!("{HEADER}\n{dup}\n{bad_money}\n\n{dup}\n{bad_date}\n{no_order}\n\"Amazon.com\",\"114-4\",\"2023-01-01\"\n");
        let (found, r) = read(&text);
        r.unwrap();
        let errors: Vec<&String> = found.iter().filter_map(|f| f.as_ref().err()).collect();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("row 6: a row without an order number"), "{errors:?}");
        let found = ok(&found);
        let o = &found[0];
        assert_eq!(o.record.lines.len(), 2, "the repeated row kept once");
        let w = o.warnings.join("\n");
        assert!(w.contains("row 4 repeats row 2 exactly: kept once"), "{w}");
        assert!(w.contains("Unit Price \"about 3\" is not an amount"), "{w}");
        assert!(w.contains("Quantity \"1.5\" is not a count"), "{w}");
        let l = &o.record.lines[1];
        assert_eq!((l.unit_price.as_deref(), l.quantity, l.total.as_deref()), (None, None, None));
        assert_eq!(l.extra.get("Unit Price").map(String::as_str), Some("about 3"));
        assert_eq!(l.extra.get("Order Status").map(String::as_str), Some("Cancelled"), "a line that says otherwise keeps its word");
        assert_eq!(o.record.status.as_deref(), Some("Closed"));
        assert_eq!(o.record.total, None, "a line without a total: no order total");
        let d = &found[1];
        assert_eq!((d.record.date, d.record.extra.get("Order Date").map(String::as_str)), (None, Some("05/06/2023")));
        assert!(d.warnings.iter().any(|w| w.contains("cut short")), "a short row is said: {:?}", d.warnings);
        assert_eq!(d.record.lines.len(), 1);
    }

    #[test]
    fn other_headers_amazon_has_used_and_unknown_columns() {
        let text = "Order ID,Order Date,Product Name,Original Quantity,Total Amount,Unit Price,Website,Color,Color\n\
                    D01-1,2024-02-03T04:05:06Z,\"Lamp, tall\",2,\"$1,234.50\",617.25,Amazon.de/x,red,blue\n\
                    D01-1,2024-02-03T04:05:06Z,Bulb,1,3,3,Amazon.de/x,,,surplus\n";
        let (found, r) = read(text);
        r.unwrap();
        let o = ok(&found)[0];
        assert_eq!(o.container, "Amazon.de_x", "a seller is one folder");
        let l = &o.record.lines[0];
        assert_eq!((l.quantity, l.total.as_deref(), l.unit_price.as_deref()), (Some(2), Some("1234.50"), Some("617.25")));
        assert_eq!((l.extra.get("Color").map(String::as_str), l.extra.get("Color (2)").map(String::as_str)), (Some("red"), Some("blue")));
        assert_eq!(o.record.lines[1].extra.get("column 10").map(String::as_str), Some("surplus"));
        assert_eq!(o.record.total.as_deref(), Some("1237.50"));
    }

    #[test]
    fn not_an_order_history_empty_or_hostile() {
        assert!(read("").1.unwrap_err().contains("empty"));
        assert!(read("Name,Email\na,b\n").1.unwrap_err().contains("no `Order ID`"));
        assert!(read("\"Order ID\"\n1\n").1.unwrap_err().contains("no `Order ID` and `Order Date`"));
        // a header alone: no orders, no error
        let (found, r) = read(&format!("{HEADER}\n"));
        r.unwrap();
        assert!(found.is_empty());
        // not UTF-8: read, and said
        let mut bytes = b"Order ID,Order Date,Product Name\n1,2024-01-01,".to_vec();
        bytes.extend_from_slice(b"Caf\xe9\n");
        let mut out = Vec::new();
        read_order_history_csv(&bytes[..], &mut |f| {
            out.push(f.unwrap());
            true
        })
        .unwrap();
        assert_eq!(out[0].record.lines[0].name.as_deref(), Some("Caf\u{fffd}"));
        assert!(out[0].warnings[0].contains("not UTF-8"));
        // one endless row (an unclosed quote) is refused, not held
        let endless = format!("Order ID,Order Date\n1,\"{}", "x".repeat(3 * MAX_ROW as usize));
        assert!(read(&endless).1.unwrap_err().contains("longer than"));
        // a cut in a quoted field: the rows before it stand
        let cut = format!(
            "{HEADER}\n{}\n\"Amazon.com\",\"114-9\",\"2023-01",
            row("114-8", "2023-01-01", "1", "0", "1", "B", "1", "Closed", "", "P")
        );
        let (found, r) = read(&cut);
        r.unwrap();
        assert_eq!(ok(&found).len(), 2);
        assert!(ok(&found)[1].warnings[0].contains("cut short"));
    }

    #[test]
    fn orders_over_the_memory_bound_refuse_the_file_and_stopping_stops() {
        let rows: Vec<String> =
            (0..200).map(|i| row(&format!("114-{i}"), "2023-01-01", "1", "0", "1", "B", "1", "Closed", "", "P")).collect();
        let text = format!("{HEADER}\n{}\n", rows.join("\n"));
        let mut handed = 0;
        let e = read_held(text.as_bytes(), 20_000, &mut |_| {
            handed += 1;
            true
        })
        .unwrap_err();
        assert!(e.contains("over 20000 bytes") && e.contains("split the file"), "{e}");
        assert_eq!(handed, 0, "nothing handed when the file is refused");
        // a row repeated without end: what is said of it counts against the bound too
        let one = row("114-1", "2023-01-01", "1", "0", "1", "B", "1", "Closed", "", "P");
        let repeated = format!("{HEADER}\n{}\n", vec![one; 2000].join("\n"));
        let e = read_held(repeated.as_bytes(), 100_000, &mut |_| true).unwrap_err();
        assert!(e.contains("over 100000 bytes"), "{e}");
        let mut n = 0;
        read_order_history_csv(text.as_bytes(), &mut |_| {
            n += 1;
            n < 3
        })
        .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn carriers_and_dates() {
        assert_eq!(carrier("UPS(1Z9)"), ("UPS".into(), Some("1Z9".into())));
        assert_eq!(carrier("USPS(1), UPS(2)"), ("USPS(1), UPS(2)".into(), None));
        assert_eq!(carrier("DHL"), ("DHL".into(), None));
        assert_eq!(date("2023-05-31 13:00:59 UTC"), date("2023-05-31T13:00:59Z"));
        assert_eq!(date("2023-05-31"), date("2023-05-31T00:00:00Z"));
        assert_eq!(date("31.05.2023"), None);
    }
}
