//! An order as a schema.org `Order` in JSON-LD (https://schema.org/Order), both ways.
//!
//! Written: `orderNumber`, `orderDate`, `orderStatus` (a schema.org `OrderStatus` where
//! the seller's word maps to one, the word itself kept as `ferry:status`), `seller`,
//! `paymentMethod`, `billingAddress` (a `PostalAddress` whose `description` is the
//! address as the seller wrote it), `partOfInvoice.totalPaymentDue` (the total and the
//! currency), and an `OrderItem` per line in `orderedItem`: `orderQuantity`,
//! `orderItemStatus`, the `Product` (`name`, `productID`, `itemCondition`, its unit price
//! as `offers`) and the `ParcelDelivery` (`trackingNumber`, `provider`,
//! `hasDeliveryMethod`, `deliveryAddress`). What schema.org has no property for (tax,
//! shipping, discount and total of a line, the ship date, the seller's columns ferry does
//! not model) is written with the `ferry:` prefix, `https://ferry.dev/ns#`. Amounts are
//! JSON strings, exactly as the source gave them.
//!
//! Read: that, and an `Order` as others write it (a `@graph`, `acceptedOffer`s instead of
//! `orderedItem`s, numbers for amounts, names as plain strings).

use super::money::amount;
use super::{Delivery, Order, OrderLine, time};
use crate::playlists::date;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const SCHEMA: &str = "https://schema.org/";

/// The order as a JSON-LD document.
pub fn render(o: &Order) -> Value {
    let mut d = Map::new();
    d.insert("@context".into(), json!(["https://schema.org", {"ferry": "https://ferry.dev/ns#"}]));
    d.insert("@type".into(), "Order".into());
    d.insert("orderNumber".into(), o.number.clone().into());
    put(&mut d, "orderDate", o.date.map(time));
    if let Some(s) = &o.status {
        match status_of(s) {
            Some(known) => {
                d.insert("orderStatus".into(), format!("{SCHEMA}{known}").into());
                d.insert("ferry:status".into(), s.clone().into());
            }
            None => {
                d.insert("orderStatus".into(), s.clone().into());
            }
        }
    }
    if let Some(s) = &o.seller {
        d.insert("seller".into(), json!({"@type": "Organization", "name": s}));
    }
    put(&mut d, "paymentMethod", o.payment.clone());
    if let Some(a) = &o.billing_address {
        d.insert("billingAddress".into(), address(a));
    }
    if o.total.is_some() || o.currency.is_some() {
        let mut price = Map::new();
        price.insert("@type".into(), "PriceSpecification".into());
        put(&mut price, "price", o.total.clone());
        put(&mut price, "priceCurrency", o.currency.clone());
        d.insert("partOfInvoice".into(), json!({"@type": "Invoice", "totalPaymentDue": price}));
    }
    let lines: Vec<Value> = o.lines.iter().enumerate().map(|(i, l)| line(i, l, o.currency.as_deref())).collect();
    d.insert("orderedItem".into(), lines.into());
    if !o.extra.is_empty() {
        d.insert("ferry:extra".into(), json!(o.extra));
    }
    Value::Object(d)
}

fn line(i: usize, l: &OrderLine, currency: Option<&str>) -> Value {
    let mut item = Map::new();
    item.insert("@type".into(), "OrderItem".into());
    item.insert("orderItemNumber".into(), (i + 1).to_string().into());
    if let Some(q) = l.quantity {
        item.insert("orderQuantity".into(), q.into());
    }
    put(&mut item, "orderItemStatus", l.delivery.status.clone());
    let mut product = Map::new();
    product.insert("@type".into(), "Product".into());
    put(&mut product, "name", l.name.clone());
    put(&mut product, "productID", l.product_id.clone());
    put(&mut product, "itemCondition", l.condition.clone());
    if let Some(p) = &l.unit_price {
        let mut offer = Map::new();
        offer.insert("@type".into(), "Offer".into());
        offer.insert("price".into(), p.clone().into());
        put(&mut offer, "priceCurrency", currency.map(str::to_owned));
        product.insert("offers".into(), offer.into());
    }
    item.insert("orderedItem".into(), product.into());
    let d = &l.delivery;
    if d.shipped.is_some() || d.method.is_some() || d.address.is_some() || d.carrier.is_some() || d.tracking.is_some() {
        let mut p = Map::new();
        p.insert("@type".into(), "ParcelDelivery".into());
        put(&mut p, "trackingNumber", d.tracking.clone());
        if let Some(c) = &d.carrier {
            p.insert("provider".into(), json!({"@type": "Organization", "name": c}));
        }
        put(&mut p, "hasDeliveryMethod", d.method.clone());
        if let Some(a) = &d.address {
            p.insert("deliveryAddress".into(), address(a));
        }
        put(&mut p, "ferry:shipped", d.shipped.map(time));
        item.insert("orderDelivery".into(), p.into());
    }
    put(&mut item, "ferry:unitTax", l.unit_tax.clone());
    put(&mut item, "ferry:shipping", l.shipping.clone());
    put(&mut item, "ferry:discount", l.discount.clone());
    put(&mut item, "ferry:total", l.total.clone());
    if !l.extra.is_empty() {
        item.insert("ferry:extra".into(), json!(l.extra));
    }
    Value::Object(item)
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<String>) {
    if let Some(v) = v {
        m.insert(key.into(), v.into());
    }
}

fn address(a: &str) -> Value {
    json!({"@type": "PostalAddress", "description": a})
}

/// The schema.org `OrderStatus` a seller's word stands for, where one does.
fn status_of(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "closed" | "shipped" | "delivered" | "complete" | "completed" => "OrderDelivered",
        "cancelled" | "canceled" => "OrderCancelled",
        "returned" | "refunded" => "OrderReturned",
        "new" | "pending" | "authorized" | "processing" | "open" => "OrderProcessing",
        "payment due" | "unpaid" => "OrderPaymentDue",
        "in transit" => "OrderInTransit",
        _ => return None,
    })
}

/// Whether a node's `@type` is `want` (as a name, a prefixed or a full IRI, or in a list).
fn is_type(v: &Value, want: &str) -> bool {
    let one =
        |t: &Value| t.as_str().is_some_and(|t| t == want || t.ends_with(&format!("schema.org/{want}")) || t == format!("schema:{want}"));
    match &v["@type"] {
        Value::Array(a) => a.iter().any(one),
        t => one(t),
    }
}

/// A property's text: a string, a number, or a node's `name` (or `@id`).
fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => return o.get("name").and_then(text).or_else(|| o.get("@id").and_then(text)),
        Value::Array(a) => return a.first().and_then(text),
        _ => return None,
    };
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A property's amount: a decimal string or a JSON number, as `money::amount` reads it.
fn money(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => amount(s),
        Value::Number(n) => amount(&n.to_string()),
        Value::Object(o) => o.get("price").and_then(money).or_else(|| o.get("value").and_then(money)),
        _ => None,
    }
}

fn strip_schema(s: String) -> String {
    ["https://schema.org/", "http://schema.org/", "schema:"].iter().find_map(|p| s.strip_prefix(p)).map(str::to_owned).unwrap_or(s)
}

fn address_text(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => o.get("description").and_then(text).or_else(|| {
            let parts: Vec<String> = ["name", "streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry"]
                .iter()
                .filter_map(|k| o.get(*k).and_then(text))
                .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }),
        v => text(v),
    }
}

fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => vec![],
        v => vec![v],
    }
}

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object().map(|o| o.iter().filter_map(|(k, v)| text(v).map(|t| (k.clone(), t))).collect()).unwrap_or_default()
}

/// An order from a JSON-LD document: its `Order` node (the document, or the first
/// `Order` of its `@graph`).
pub fn parse(doc: &Value) -> Result<Order, String> {
    let node = if is_type(doc, "Order") {
        doc
    } else if let Some(n) = doc["@graph"].as_array().and_then(|g| g.iter().find(|n| is_type(n, "Order"))) {
        n
    } else {
        return Err(match &doc["@type"] {
            Value::Null => "not a JSON-LD Order: it has no @type".into(),
            t => format!("not a JSON-LD Order: its @type is {t}"),
        });
    };
    let invoice = &node["partOfInvoice"]["totalPaymentDue"];
    let mut o = Order {
        number: text(&node["orderNumber"]).or_else(|| text(&node["confirmationNumber"])).unwrap_or_default(),
        seller: text(&node["seller"]).or_else(|| text(&node["merchant"])),
        date: text(&node["orderDate"]).and_then(|d| date(&d)),
        status: text(&node["ferry:status"]).or_else(|| text(&node["orderStatus"]).map(strip_schema)),
        currency: text(&invoice["priceCurrency"]).or_else(|| text(&node["priceCurrency"])),
        total: money(&invoice["price"]).or_else(|| money(&node["price"])),
        payment: text(&node["paymentMethod"]).map(strip_schema).or_else(|| text(&node["paymentMethodId"])),
        billing_address: address_text(&node["billingAddress"]),
        lines: vec![],
        extra: strings(&node["ferry:extra"]),
    };
    for item in list(&node["orderedItem"]) {
        let product = if is_type(item, "OrderItem") { &item["orderedItem"] } else { item };
        let offer = list(&product["offers"]).into_iter().next().unwrap_or(&Value::Null);
        let parcel = &item["orderDelivery"];
        o.lines.push(OrderLine {
            name: text(&product["name"]),
            product_id: text(&product["productID"]).or_else(|| text(&product["sku"])),
            condition: text(&product["itemCondition"]).map(strip_schema),
            quantity: quantity(&item["orderQuantity"]),
            unit_price: money(&offer["price"]),
            unit_tax: money(&item["ferry:unitTax"]),
            shipping: money(&item["ferry:shipping"]),
            discount: money(&item["ferry:discount"]),
            total: money(&item["ferry:total"]),
            delivery: Delivery {
                status: text(&item["orderItemStatus"]).map(strip_schema),
                shipped: text(&parcel["ferry:shipped"]).and_then(|d| date(&d)),
                method: text(&parcel["hasDeliveryMethod"]).map(strip_schema),
                address: address_text(&parcel["deliveryAddress"]),
                carrier: text(&parcel["provider"]).or_else(|| text(&parcel["carrier"])),
                tracking: text(&parcel["trackingNumber"]),
            },
            extra: strings(&item["ferry:extra"]),
        });
        if o.currency.is_none() {
            o.currency = text(&offer["priceCurrency"]);
        }
    }
    // as Google's order markup gives the lines: offers accepted
    if o.lines.is_empty() {
        for offer in list(&node["acceptedOffer"]) {
            o.lines.push(OrderLine {
                name: text(&offer["itemOffered"]["name"]),
                product_id: text(&offer["itemOffered"]["productID"]).or_else(|| text(&offer["itemOffered"]["sku"])),
                quantity: quantity(&offer["eligibleQuantity"]),
                unit_price: money(&offer["price"]),
                ..Default::default()
            });
            if o.currency.is_none() {
                o.currency = text(&offer["priceCurrency"]);
            }
        }
    }
    Ok(o)
}

fn quantity(v: &Value) -> Option<u32> {
    match v {
        Value::Object(o) => o.get("value").and_then(quantity),
        v => text(v).and_then(|s| s.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_schema_org_where_schema_org_has_a_place() {
        let doc = render(&crate::orders::tests::sample());
        assert_eq!(doc["@type"], "Order");
        assert_eq!(doc["orderStatus"], "https://schema.org/OrderDelivered");
        assert_eq!(doc["ferry:status"], "Closed");
        assert_eq!(
            doc["partOfInvoice"]["totalPaymentDue"],
            json!({"@type": "PriceSpecification", "price": "29.38", "priceCurrency": "USD"})
        );
        let line = &doc["orderedItem"][0];
        assert_eq!(line["orderedItem"]["offers"]["price"], "13.57", "a string: exact");
        assert_eq!(line["orderDelivery"]["provider"]["name"], "UPS");
        assert_eq!(line["ferry:discount"], "-0.68");
        // a word that maps to no OrderStatus is the status itself
        let mut o = crate::orders::tests::sample();
        o.status = Some("Partially shipped".into());
        let doc = render(&o);
        assert_eq!((doc["orderStatus"].as_str(), doc.get("ferry:status")), (Some("Partially shipped"), None));
        assert_eq!(parse(&doc).unwrap().status.as_deref(), Some("Partially shipped"));
    }

    #[test]
    fn orders_as_others_write_them() {
        // Google's order markup: acceptedOffer, numbers, a seller as a name, in a @graph
        let doc = json!({"@context": "http://schema.org", "@graph": [{"@type": "Person", "name": "x"}, {
            "@type": "http://schema.org/Order", "merchant": {"@type": "Organization", "name": "Shop"},
            "orderNumber": 123456, "priceCurrency": "EUR", "price": 29.99, "orderStatus": "http://schema.org/OrderProcessing",
            "orderDate": "2024-03-01", "billingAddress": {"@type": "PostalAddress", "streetAddress": "1 Rue", "addressLocality": "Paris"},
            "acceptedOffer": {"@type": "Offer", "itemOffered": {"@type": "Product", "name": "Lampe", "sku": "L-1"}, "price": "29.99",
                "eligibleQuantity": {"@type": "QuantitativeValue", "value": 1}}}]});
        let o = parse(&doc).unwrap();
        assert_eq!(
            (o.number.as_str(), o.seller.as_deref(), o.currency.as_deref(), o.total.as_deref()),
            ("123456", Some("Shop"), Some("EUR"), Some("29.99"))
        );
        assert_eq!(
            (o.status.as_deref(), o.date, o.billing_address.as_deref()),
            (Some("OrderProcessing"), date("2024-03-01"), Some("1 Rue, Paris"))
        );
        assert_eq!(o.lines.len(), 1);
        assert_eq!(
            (o.lines[0].name.as_deref(), o.lines[0].product_id.as_deref(), o.lines[0].quantity, o.lines[0].unit_price.as_deref()),
            (Some("Lampe"), Some("L-1"), Some(1), Some("29.99"))
        );
        // a Product straight in orderedItem
        let o = parse(&json!({"@type": "Order", "orderNumber": "A", "orderedItem": {"@type": "Product", "name": "P", "offers": [{"price": "1.50", "priceCurrency": "GBP"}]}})).unwrap();
        assert_eq!(
            (o.lines[0].name.as_deref(), o.lines[0].unit_price.as_deref(), o.currency.as_deref()),
            (Some("P"), Some("1.50"), Some("GBP"))
        );
        assert!(parse(&json!({"@type": ["Thing", "Order"]})).is_ok());
        assert!(parse(&json!({"name": "x"})).unwrap_err().contains("no @type"));
    }
}
