//! The OpenAPI 3.1 document of the connector protocol, made from the message schemas of
//! [`super::wire`]: every schema's `$defs` become components, so that the document stands
//! alone. Checked in at `docs/connector-protocol.openapi.json`.

use serde_json::{Map, Value, json};

/// Rewrites `#/$defs/X` references to `#/components/schemas/X`.
fn rehome(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            m.values_mut().for_each(rehome);
        }
        Value::Array(a) => a.iter_mut().for_each(rehome),
        _ => {}
    }
}

fn components() -> Map<String, Value> {
    let mut out = Map::new();
    for (file, mut schema) in super::wire::schemas() {
        rehome(&mut schema);
        let obj = schema.as_object_mut().expect("a schema is an object");
        if let Some(Value::Object(defs)) = obj.remove("$defs") {
            out.extend(defs);
        }
        for k in ["$schema", "$id"] {
            obj.remove(k);
        }
        let name = obj.get("title").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| file.to_owned());
        out.insert(name, schema);
    }
    out
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn answer(description: &str, name: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema(name)}}})
}

fn errors() -> Value {
    json!({"description": "a typed error (see docs/connector-protocol.md)", "content": {"application/json": {"schema": schema("ErrorBody")}}})
}

fn op(summary: &str, params: Value, body: Option<Value>, ok: (&str, Value)) -> Value {
    let mut o = json!({"summary": summary, "parameters": params, "responses": {ok.0: ok.1, "default": errors()}});
    if let Some(b) = body {
        o["requestBody"] = b;
    }
    o
}

fn query(name: &str, required: bool, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn json_body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema(name)}}})
}

/// The whole document.
pub fn document() -> Value {
    let page = || {
        json!([
            path_param("id", "the container's id"),
            query("limit", false, "items at most (capped by page_size_max)"),
            query("cursor", false, "the previous page's next_cursor"),
        ])
    };
    let mut changes = page();
    changes.as_array_mut().unwrap().push(query("since", true, "a sync token of an earlier listing"));
    let sha = || json!([path_param("sha256", "lower-case hex SHA-256 of the bytes")]);
    let bytes =
        json!({"description": "the bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ferry connector protocol",
            "version": super::wire::PROTOCOL,
            "description": "What a service answers so that ferry can export from it and import into it. See docs/connector-protocol.md.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "servers": [{"url": "https://service.example/base"}],
        "security": [{"bearer": []}, {"signature": []}],
        "paths": {
            "/": {"get": {
                "summary": "Describe the service", "security": [],
                "responses": {"200": answer("what the service offers", "Service"), "default": errors()}
            }},
            "/containers": {"get": op("List the containers of a vertical",
                json!([query("vertical", true, "contacts, calendar, tasks, mail, media, files, notes, ...")]), None,
                ("200", answer("the containers", "Containers")))},
            "/containers/{id}/items": {"get": op("One page of a container's items", page(), None,
                ("200", answer("a page", "ItemsPage")))},
            "/containers/{id}/changes": {"get": op("One page of what changed since a sync token (410 sync_token_expired: list in full)",
                changes, None, ("200", answer("a page", "ItemsPage")))},
            "/content/{sha256}": {
                "get": op("Read a content stream", sha(), None, ("200", bytes.clone())),
                "head": op("Whether the service holds a content stream", sha(), None, ("200", json!({"description": "held"}))),
                "put": op("Store a content stream under its hash", sha(), Some(json!({"required": true, "content": bytes["content"].clone()})),
                    ("201", answer("stored", "Stored")))
            },
            "/items/{vertical}/{id}": {"put": op("Put one item (idempotent on source, vertical and id)",
                json!([path_param("vertical", "the item's vertical"), path_param("id", "the item's id, percent-encoded as one segment")]),
                Some(json_body("PutItem")), ("201", answer("put (200: already held)", "PutResult")))},
            "/batch": {"post": op("Put several items", json!([]), Some(json_body("Batch")),
                ("200", answer("one result per item, in order", "BatchResults")))},
            "/finish": {"post": op("A transfer into the service is complete", json!([]), Some(json_body("Finish")),
                ("204", json!({"description": "noted"})))}
        },
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an OAuth 2.0 access token"},
                "signature": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "Ferry-HMAC-SHA256 keyId=\"…\", signature=\"…\" with Ferry-Timestamp and Ferry-Content-SHA256 (see docs/connector-protocol.md)"}
            }
        }
    })
}
