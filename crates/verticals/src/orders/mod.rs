//! `orders`: purchase history. An order is one item: its number, date, seller, status,
//! currency, payment, billing address, and its lines (product, quantity, prices, and the
//! line's delivery: status, ship date, method, address, carrier and tracking number).
//! Money is kept exactly as the decimal the source gave (a string, never a float). Its
//! standard file is a schema.org `Order` in JSON-LD (one `.jsonld` per order); a package
//! also holds `orders/order_lines.csv`, one row per line. In a folder:
//! `orders/CONTAINER/*.jsonld`. Readers: an order-history CSV as marketplaces export it
//! ([`order_csv`], Amazon's "Your Orders").

pub mod jsonld;
pub mod money;
pub mod order_csv;

use crate::def::{Codec, Def, DirFile, Per, StandardForm, Table};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use ferry_core::content::sha256_hex;
use ferry_core::{Item, ItemError, Original, OtherRecord, Record, Standard, Vertical};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const ORDERS: Vertical = Vertical::new("orders");

pub const JSONLD_MEDIA_TYPE: &str = "application/ld+json";

pub const DEF: Def = Def {
    vertical: ORDERS,
    record_type: "order",
    schema: || serde_json::to_value(schemars::schema_for!(Order)).expect("a schema is JSON"),
    records_path: "orders/orders.jsonl",
    standard: Some(StandardForm { media_type: JSONLD_MEDIA_TYPE, extension: "jsonld", per: Per::Item }),
    recognises,
    codec: Some(Codec { write, read }),
    tables: &TABLES,
    item_files: &[],
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Order {
    /// The seller's order number.
    pub number: String,
    /// Where it was bought: the marketplace or shop (`Amazon.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
    /// As the seller words it (`Closed`, `Cancelled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ISO 4217 (`USD`), for every amount of the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// What the order cost in all: the exact sum of its lines' totals, where every line
    /// has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// The means of payment as the seller names it (`Visa - 1234`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<String>,
    #[serde(default)]
    pub lines: Vec<OrderLine>,
    /// What the source gave that the model has no field for, by the source's name, as
    /// written (`Purchase Order Number`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// One line of an order: a product, how many, at what price, and how it was delivered.
/// Amounts are decimal strings, in the order's currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The seller's product identifier (Amazon's ASIN, a SKU, an ISBN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// `New`, `Used - Good`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<String>,
    /// Tax on the unit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_tax: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<String>,
    /// Discounts on the line (negative, as Amazon writes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<String>,
    /// What the line cost in all (Amazon's `Total Owed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    #[serde(default, skip_serializing_if = "Delivery::is_empty")]
    pub delivery: Delivery,
    /// What the source gave for this line that the model has no field for, by the
    /// source's name, as written (a gift message, a serial number, the shipment's
    /// subtotal, a value that was not what its column holds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    /// As the seller words it (`Shipped`, `Not yet shipped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped: Option<DateTime<Utc>>,
    /// The shipping option (`standard`, `next-1dc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
}

impl Delivery {
    pub fn is_empty(&self) -> bool {
        *self == Delivery::default()
    }
}

impl Order {
    pub fn of(item: &Item) -> Result<Order, String> {
        match &item.record {
            Record::Other(r) if r.vertical == ORDERS => r.typed(),
            _ => Err(format!("{} is not an order", item.id)),
        }
    }
}

/// An order a reader found, ready to travel (see the archive connector's contract).
pub type Found = crate::found::Found<Order>;

impl crate::found::Typed for Order {
    const VERTICAL: Vertical = ORDERS;
    const RECORD_TYPE: &'static str = "order";
}

fn recognises(f: &DirFile) -> bool {
    f.top() == Some("orders") && matches!(f.extension().as_deref(), Some("jsonld"))
}

/// The order's JSON-LD file: the original as it was read, if it was one, else made from
/// the record.
fn write(item: &Item) -> Result<Standard, String> {
    if let Some(o) = &item.original
        && o.media_type == JSONLD_MEDIA_TYPE
        && let Ok(text) = std::str::from_utf8(&o.bytes)
    {
        return Ok(Standard { text: text.to_owned(), warnings: vec![] });
    }
    let text = serde_json::to_string_pretty(&jsonld::render(&Order::of(item)?)).map_err(|e| e.to_string())?;
    Ok(Standard { text: text + "\n", warnings: vec![] })
}

/// The most an order's file may hold.
const MAX_FILE: usize = 16 << 20;

fn read(id: &str, container: &str, bytes: &[u8]) -> Result<Item, ItemError> {
    let err = |reason: String| ItemError { skipped: false, vertical: ORDERS, id: id.to_owned(), location: id.to_owned(), reason };
    if bytes.len() > MAX_FILE {
        return Err(err(format!("larger than {MAX_FILE} bytes: not one order")));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| err(format!("not JSON ({e})")))?;
    let mut order = jsonld::parse(&value).map_err(err)?;
    if order.number.is_empty() {
        let last = id.rsplit('/').next().unwrap_or(id);
        order.number = last.rsplit_once('.').map_or(last, |(s, _)| s).to_owned();
    }
    let record = OtherRecord::new(ORDERS, "order", &order).map_err(err)?;
    Ok(Item {
        id: id.to_owned(),
        container: container.to_owned(),
        version: sha256_hex(bytes),
        record: Record::Other(record),
        original: Some(Original { media_type: JSONLD_MEDIA_TYPE.into(), bytes: Bytes::copy_from_slice(bytes) }),
        content: None,
        standard: None,
        attachments: vec![],
        references: vec![],
        source_warnings: vec![],
    })
}

pub(crate) fn time(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// One row per order line, for spreadsheets and budgeting tools.
static TABLES: [Table; 1] = [Table {
    path: "orders/order_lines.csv",
    header: "Order Number,Order Date,Seller,Order Status,Currency,Product Name,Product ID,Quantity,Unit Price,Unit Tax,\
Shipping,Discount,Line Total,Shipment Status,Ship Date,Shipping Option,Carrier,Tracking Number\n",
    rows: lines_csv,
}];

fn lines_csv(record: &Record) -> Vec<String> {
    let Record::Other(r) = record else { return vec![] };
    if r.vertical != ORDERS {
        return vec![];
    }
    let Ok(o) = r.typed::<Order>() else { return vec![] };
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    o.lines
        .iter()
        .map(|l| {
            let d = &l.delivery;
            let fields = [
                o.number.clone(),
                o.date.map(time).unwrap_or_default(),
                s(&o.seller),
                s(&o.status),
                s(&o.currency),
                s(&l.name),
                s(&l.product_id),
                l.quantity.map(|q| q.to_string()).unwrap_or_default(),
                s(&l.unit_price),
                s(&l.unit_tax),
                s(&l.shipping),
                s(&l.discount),
                s(&l.total),
                s(&d.status),
                d.shipped.map(time).unwrap_or_default(),
                s(&d.method),
                s(&d.carrier),
                s(&d.tracking),
            ];
            fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",") + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Order {
        Order {
            number: "114-3294629-7497007".into(),
            seller: Some("Amazon.com".into()),
            date: DateTime::parse_from_rfc3339("2023-05-31T13:00:59.799Z").ok().map(|d| d.with_timezone(&Utc)),
            status: Some("Closed".into()),
            currency: Some("USD".into()),
            total: Some("29.38".into()),
            payment: Some("Visa - 0094".into()),
            billing_address: Some("Jo Doe 1 Main St, Springfield".into()),
            lines: vec![
                OrderLine {
                    name: Some("Almonds, \"Dark Chocolate\" 25 oz".into()),
                    product_id: Some("B09LSNJTWF".into()),
                    condition: Some("New".into()),
                    quantity: Some(1),
                    unit_price: Some("13.57".into()),
                    unit_tax: Some("0".into()),
                    shipping: Some("0".into()),
                    discount: Some("-0.68".into()),
                    total: Some("12.89".into()),
                    delivery: Delivery {
                        status: Some("Shipped".into()),
                        shipped: DateTime::parse_from_rfc3339("2023-06-01T10:00:00Z").ok().map(|d| d.with_timezone(&Utc)),
                        method: Some("std-sns-us".into()),
                        address: Some("Jo Doe 1 Main St, Springfield".into()),
                        carrier: Some("UPS".into()),
                        tracking: Some("1Z999AA10123456784".into()),
                    },
                    extra: BTreeMap::from([("Gift Message".into(), "Happy birthday 🎂".into())]),
                },
                OrderLine {
                    name: Some("Cable".into()),
                    quantity: Some(2),
                    unit_price: Some("8.245".into()),
                    total: Some("16.49".into()),
                    ..Default::default()
                },
            ],
            extra: BTreeMap::from([("Purchase Order Number".into(), "PO-1".into())]),
        }
    }

    #[test]
    fn an_order_survives_its_record_its_file_and_the_codec() {
        let o = sample();
        let item =
            Found { id: o.number.clone(), container: "Amazon.com".into(), record: o.clone(), files: vec![], warnings: vec![] }.into_item();
        assert_eq!(Order::of(&item).unwrap(), o);
        let json = serde_json::to_string(&item.record).unwrap();
        assert!(json.contains(r#""type":"order""#) && json.contains(r#""total":"29.38""#), "money stays a string: {json}");
        let text = write(&item).unwrap().text;
        let back = read("orders/Amazon.com/114-3294629-7497007.jsonld", "Amazon.com", text.as_bytes()).unwrap();
        assert_eq!(Order::of(&back).unwrap(), o, "{text}");
        assert_eq!(write(&back).unwrap().text, text, "read from a file, written back as it was");
    }

    #[test]
    fn the_lines_table_has_a_row_per_line() {
        let item = Found { id: "x".into(), container: "".into(), record: sample(), files: vec![], warnings: vec![] }.into_item();
        let rows = (TABLES[0].rows)(&item.record);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            "114-3294629-7497007,2023-05-31T13:00:59.799Z,Amazon.com,Closed,USD,\"Almonds, \"\"Dark Chocolate\"\" 25 oz\",B09LSNJTWF,1,13.57,0,0,-0.68,12.89,Shipped,2023-06-01T10:00:00Z,std-sns-us,UPS,1Z999AA10123456784\n"
        );
        assert_eq!(rows[0].matches(',').count() - 1, TABLES[0].header.matches(',').count(), "as many fields as the header");
        assert!(
            (TABLES[0].rows)(&Record::Other(OtherRecord::new(Vertical::new("notes"), "note", &serde_json::json!({})).unwrap())).is_empty()
        );
    }

    #[test]
    fn jsonld_files_under_orders_are_recognised_and_bad_files_refused() {
        let f = |rel: &'static str| DirFile { rel, name: rel.rsplit('/').next().unwrap(), head: b"" };
        assert!(recognises(&f("orders/Amazon.com/1.jsonld")) && recognises(&f("orders/a.JSONLD")));
        assert!(!recognises(&f("orders/a.json")) && !recognises(&f("a.jsonld")) && !recognises(&f("orders/lines.csv")));
        for (bytes, says) in [(&b"nope"[..], "not JSON"), (br#"{"@type": "Person"}"#, "Person"), (b"[]", "not a JSON-LD Order")] {
            let e = read("orders/x.jsonld", "", bytes).unwrap_err();
            assert!(e.reason.contains(says) && e.vertical == ORDERS, "{says}: {e}");
        }
        assert!(read("orders/x.jsonld", "", &vec![b' '; MAX_FILE + 1]).unwrap_err().reason.contains("larger"));
        // a file without an order number is numbered after its name
        let item = read("orders/shop/A-17.jsonld", "shop", br#"{"@context": "https://schema.org", "@type": "Order"}"#).unwrap();
        assert_eq!(Order::of(&item).unwrap().number, "A-17");
    }
}
