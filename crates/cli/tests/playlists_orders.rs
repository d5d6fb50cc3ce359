//! Playlists and orders end to end: XSPF and JSON-LD files in a folder, through a package
//! (which adds each playlist's `.m3u8` and the orders' lines CSV) and back into another
//! folder, byte for byte.

mod common;
use common::*;
use std::io::Read;
use std::path::Path;

fn write(p: &Path, body: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

const ROAD_TRIP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<playlist version="1" xmlns="http://xspf.org/ns/0/">
  <title>Road trip</title>
  <trackList>
    <track>
      <identifier>spotify:track:6h9Qte2xMwUfmvpaYWzHbG</identifier>
      <title>Çà et là</title>
      <creator>Tyler, The Creator</creator>
      <duration>210000</duration>
    </track>
  </trackList>
</playlist>
"#;

const ORDER: &str = r#"{
  "@context": "https://schema.org",
  "@type": "Order",
  "orderNumber": "114-3294629-7497007",
  "orderDate": "2023-05-31T13:00:59.799Z",
  "seller": {"@type": "Organization", "name": "Amazon.com"},
  "partOfInvoice": {"@type": "Invoice", "totalPaymentDue": {"@type": "PriceSpecification", "price": "12.89", "priceCurrency": "USD"}},
  "orderedItem": [{"@type": "OrderItem", "orderQuantity": 1,
    "orderedItem": {"@type": "Product", "name": "Almonds, dark", "productID": "B09LSNJTWF", "offers": {"@type": "Offer", "price": "13.57"}},
    "ferry:total": "12.89"}]
}
"#;

#[test]
fn playlists_and_orders_go_through_a_package_and_back() {
    let t = tempfile::tempdir().unwrap();
    let (src, data) = (t.path().join("src"), t.path().join("data"));
    write(&src.join("playlists/Road trip.xspf"), ROAD_TRIP.as_bytes());
    // names with a dot in them stay two files (and keep their `.m3u8` beside them)
    let named = |title: &str| ROAD_TRIP.replace("<title>Road trip</title>", &format!("<title>{title}</title>"));
    write(&src.join("playlists/Mr. Brightside mix.xspf"), named("Mr. Brightside mix").as_bytes());
    write(&src.join("playlists/Mr. Jones.xspf"), named("Mr. Jones").as_bytes());
    write(&src.join("playlists/broken.xspf"), b"<playlist><trackList><track>");
    write(&src.join("orders/Amazon.com/114-3294629-7497007.jsonld"), ORDER.as_bytes());
    let pkg = t.path().join("p.zip");
    let o = ferry(&data, &["--json", "export", &format!("dir:{}", src.display()), "-o", pkg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "the broken playlist fails alone: {}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = &report["report"]["verticals"];
    assert_eq!((v["playlists"]["transferred"].as_u64(), v["playlists"]["failed"].as_u64()), (Some(3), Some(1)), "{report}");
    assert!(v["playlists"]["failures"][0]["reason"].as_str().unwrap().contains("breaks off"), "{report}");
    assert_eq!(v["orders"]["transferred"], 1, "{report}");
    assert_eq!(v["files"]["transferred"], 0, "no playlist or order is taken for a plain file: {report}");

    let o = ferry(&data, &["verify", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut z = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    for want in [
        "playlists/playlists.jsonl",
        "playlists/default/Road trip.xspf",
        "playlists/default/Road trip.m3u8",
        "playlists/default/Mr. Brightside mix.xspf",
        "playlists/default/Mr. Brightside mix.m3u8",
        "playlists/default/Mr. Jones.xspf",
        "playlists/default/Mr. Jones.m3u8",
        "orders/orders.jsonl",
        "orders/Amazon.com/114-3294629-7497007.jsonld",
        "orders/order_lines.csv",
        "schemas/playlist.schema.json",
        "schemas/order.schema.json",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    let read = |z: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut s = String::new();
        z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    assert_eq!(read(&mut z, "playlists/default/Road trip.xspf"), ROAD_TRIP, "the file as it was read");
    assert_eq!(
        read(&mut z, "playlists/default/Road trip.m3u8"),
        "#EXTM3U\n#PLAYLIST:Road trip\n#EXTINF:210,Tyler, The Creator - Çà et là\nspotify:track:6h9Qte2xMwUfmvpaYWzHbG\n"
    );
    let lines = read(&mut z, "orders/order_lines.csv");
    assert!(lines.starts_with("Order Number,Order Date,Seller,"), "{lines}");
    assert!(
        lines.contains("114-3294629-7497007,2023-05-31T13:00:59.799Z,Amazon.com,,USD,\"Almonds, dark\",B09LSNJTWF,1,13.57,"),
        "{lines}"
    );

    let dst = t.path().join("dst");
    for _ in 0..2 {
        let o = ferry(&data, &["import", pkg.to_str().unwrap(), "--to", &format!("dir:{}", dst.display())]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let files = walk(&dst);
    let bodies: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(bodies.iter().filter(|b| b.as_slice() == ROAD_TRIP.as_bytes()).count(), 1, "{files:?}");
    assert_eq!(bodies.iter().filter(|b| b.as_slice() == ORDER.as_bytes()).count(), 1, "{files:?}");
    assert_eq!(files.iter().filter(|p| p.extension().is_some_and(|e| e == "xspf")).count(), 3, "once each, imported twice: {files:?}");
    assert!(files.iter().any(|p| p.starts_with(dst.join("orders/Amazon.com"))), "the seller's folder is kept: {files:?}");
}
