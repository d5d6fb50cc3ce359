//! The connector protocol's JSON Schemas (`schemas/connector/`) and its OpenAPI document
//! (`docs/connector-protocol.openapi.json`) are generated from ferry's own message types.
//! This test fails when they are stale; `FERRY_BLESS=1 cargo test -p ferry-connectors
//! --test protocol_documents` rewrites them.

use ferry_connectors::remote::{openapi, wire};
use std::path::Path;

fn check(path: &Path, value: &serde_json::Value, stale: &mut Vec<String>) {
    let want = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("FERRY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &want).unwrap();
    } else if std::fs::read_to_string(path).ok().as_deref() != Some(want.as_str()) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn the_protocol_documents_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stale = Vec::new();
    for (name, schema) in wire::schemas() {
        check(&root.join("schemas/connector").join(name), &schema, &mut stale);
    }
    check(&root.join("docs/connector-protocol.openapi.json"), &openapi::document(), &mut stale);
    assert!(stale.is_empty(), "stale {stale:?}: run FERRY_BLESS=1 cargo test -p ferry-connectors --test protocol_documents");
}

#[test]
fn every_reference_of_the_openapi_document_resolves() {
    let doc = openapi::document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in
        ["Service", "Containers", "ItemsPage", "PutItem", "PutResult", "Batch", "BatchResults", "Finish", "Stored", "ErrorBody", "Record"]
    {
        assert!(schemas.contains_key(name), "{name} missing from the components: {:?}", schemas.keys().collect::<Vec<_>>());
    }
    let mut refs = Vec::new();
    fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_owned());
                }
                m.values().for_each(|v| collect(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    collect(&doc, &mut refs);
    assert!(refs.len() > 20);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("a reference outside the components: {r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
}
