//! The JSON Schemas in the repository's `schemas/` folder are generated from the code.
//! This test fails when they are stale; `FERRY_UPDATE_SCHEMAS=1 cargo test -p
//! ferry-package --test schemas` rewrites them.

use std::path::Path;

#[test]
fn checked_in_schemas_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let update = std::env::var_os("FERRY_UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, schema) in ferry_package::record::schemas() {
        let want = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "stale schemas {stale:?}: run FERRY_UPDATE_SCHEMAS=1 cargo test -p ferry-package --test schemas");
}
