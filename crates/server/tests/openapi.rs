//! The API's OpenAPI document: checked in as docs/openapi.json, and served.

mod common;

use serde_json::Value;

#[test]
fn the_checked_in_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let now = ferry_server::api::document();
    if std::env::var_os("FERRY_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == now,
        "docs/openapi.json is not the document the server serves; write it again with \
         FERRY_BLESS=1 cargo test -p ferry-server --test openapi"
    );
    let doc: Value = serde_json::from_str(&now).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
}

#[tokio::test]
async fn the_server_serves_it() {
    let s = common::Running::default().await;
    let res = s.client().get(format!("{}/api/openapi.json", s.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), ferry_server::api::document());
    s.stop().await;
}
