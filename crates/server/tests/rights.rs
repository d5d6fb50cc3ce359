//! The controller side in the service, against a real SQLite copy of the sample shop and
//! the real SMTP server scripts/servers.sh starts: a person asks on the request page and
//! confirms with the code mailed to them; staff draw up the answer, withhold a row, and
//! deliver it sealed; the person downloads it through a signed link, audited. A direct
//! transfer to a second ferry, and requests from an authorized agent (DRP).

mod common;

use base64::Engine;
use common::Running;
use ferry_server::ServeConfig;
use ferry_server::config::{RequestsConfig, TrustedSender};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set: run the tests with scripts/test.sh, which starts the servers"))
}

/// The sample shop in SQLite, and its map pointing at it.
fn shop(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop");
    let db = dir.join("shop.db");
    let o = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.executescript(open(sys.argv[3]).read()); c.commit()"])
        .arg(&db)
        .arg(root.join("schema.sqlite.sql"))
        .arg(root.join("seed.sql"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let map = std::fs::read_to_string(root.join("map.toml")).unwrap().replace("env:SHOP_DATABASE_URL", &format!("sqlite:{}", db.display()));
    let path = dir.join("map.toml");
    std::fs::write(&path, map).unwrap();
    path
}

fn requests_cfg(map: PathBuf) -> RequestsConfig {
    RequestsConfig {
        map,
        company: "Example Shop".into(),
        regime: "gdpr".into(),
        smtp_url: std::env::var("FERRY_TEST_SMTP").ok(),
        smtp_from: Some("privacy@shop.example".into()),
        sender_id: Some("shop.example".into()),
        trusted_senders: Vec::new(),
        drp_business_id: None,
        drp_agents: Vec::new(),
        drp_voluntary_regime: None,
    }
}

async fn start(dir: &Path, requests: RequestsConfig) -> Running {
    let _ = dir;
    Running::start(ServeConfig { workers: 0, insecure_http: true, requests: Some(requests), ..Default::default() }).await
}

/// An operator's API token on `s`.
async fn operator(s: &Running) -> String {
    let token = ferry_server::access::new_token();
    s.state.service.store().create_api_token("staff", &ferry_server::access::token_hash(&token)).await.unwrap();
    token
}

async fn api(s: &Running, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = s.client().request(method, format!("{}{path}", s.url)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The newest code mailed to `to` in the SMTP server's maildir.
fn code_sent_to(to: &str) -> String {
    let maildir = PathBuf::from(env("FERRY_TEST_SMTP_MAILDIR"));
    let mut found: Option<(std::time::SystemTime, String)> = None;
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(maildir.join(sub)).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.lines().any(|l| l.eq_ignore_ascii_case(&format!("To: {to}"))) {
                let modified = e.metadata().unwrap().modified().unwrap();
                let code = text.lines().map(str::trim).find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned);
                if found.as_ref().is_none_or(|(t, _)| modified >= *t) && code.is_some() {
                    found = code.map(|c| (modified, c));
                }
            }
        }
    }
    found.unwrap_or_else(|| panic!("no code for {to}")).1
}

/// A form posted as a browser does, with the page's session cookie.
async fn post_form(s: &Running, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    s.client()
        .post(format!("{}{path}", s.url))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A page's session cookie and the CSRF token of its form.
async fn page(s: &Running, cookie: Option<&str>, path: &str) -> (String, String, String) {
    let mut req = s.client().get(format!("{}{path}", s.url));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let cookie = res
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .or(cookie.map(str::to_owned))
        .unwrap_or_default();
    let html = res.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).map(|r| r.split('"').next().unwrap().to_owned()).unwrap_or_default();
    (cookie, csrf, html)
}

fn open_sealed(bytes: &[u8], passphrase: &str) -> zip::ZipArchive<std::io::Cursor<Vec<u8>>> {
    let decryptor = age::Decryptor::new(bytes).unwrap();
    let identity = age::scrypt::Identity::new(passphrase.to_owned().into());
    let mut plain = Vec::new();
    decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)).unwrap().read_to_end(&mut plain).unwrap();
    zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap()
}

fn manifest(zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>) -> Value {
    let mut text = String::new();
    zip.by_name("manifest.json").unwrap().read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_request_goes_from_the_persons_page_to_a_reviewed_sealed_answer_they_download() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), requests_cfg(shop(dir.path()))).await;
    let token = operator(&s).await;
    // the person asks, on the request page
    let (cookie, csrf, html) = page(&s, None, "/rights").await;
    assert!(html.contains("Example Shop") && !csrf.is_empty(), "{html}");
    let res = post_form(&s, &cookie, "/rights", &[("csrf", &csrf), ("email", "alice@example.com"), ("kind", "both")]).await;
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let id = to.trim_start_matches("/rights/").split('?').next().unwrap().to_owned();
    let key = to.split("key=").nth(1).unwrap().to_owned();
    // a forged key opens nothing
    let res = s.client().get(format!("{}/rights/{id}?key=AAAA", s.url)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let (_, csrf2, html) = page(&s, Some(&cookie), &to).await;
    assert!(html.contains("verifying identity") && html.contains("Confirm that it is you"), "{html}");
    // a wrong code counts; the right one, mailed through the real SMTP server, confirms
    let code = code_sent_to("alice@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = post_form(&s, &cookie, &format!("/rights/{id}/code"), &[("csrf", &csrf2), ("key", &key), ("code", wrong)]).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("4 tries left"));
    let res = post_form(&s, &cookie, &format!("/rights/{id}/code"), &[("csrf", &csrf2), ("key", &key), ("code", &code)]).await;
    assert_eq!(res.status(), 303);
    // staff see it in the queue, with its deadline
    let (st, list) = api(&s, &token, reqwest::Method::GET, "/api/requests", None).await;
    assert_eq!(st, 200, "{list}");
    let mine = list.as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).unwrap().clone();
    assert_eq!(mine["state"], "in_progress");
    assert!(mine["deadline"]["days_left"].as_i64().unwrap() >= 28, "{mine}");
    // not delivered before it is drawn up
    let (st, body) = api(&s, &token, reqwest::Method::POST, &format!("/api/requests/{id}/deliver"), Some(json!({}))).await;
    assert_eq!(st, 409, "{body}");
    let (st, drawn) = api(&s, &token, reqwest::Method::POST, &format!("/api/requests/{id}/answer"), Some(json!({}))).await;
    assert_eq!(st, 200, "{drawn}");
    assert_eq!(drawn["request"]["state"], "ready_for_review");
    let parts: Vec<&str> = drawn["parts"].as_array().unwrap().iter().map(|p| p["part"].as_str().unwrap()).collect();
    assert_eq!(parts, ["portability", "access"]);
    // the preview: a row of Alice's orders, withheld with a reason, is gone when drawn up again
    let (st, preview) = api(&s, &token, reqwest::Method::GET, &format!("/api/requests/{id}/preview"), None).await;
    assert_eq!(st, 200, "{preview}");
    let tables = preview["tables"].as_array().unwrap();
    assert!(!tables.iter().any(|t| t["part"] == "portability" && t["table"] == "invoices"), "portability: no legal-obligation rows");
    let orders = tables.iter().find(|t| t["part"] == "access" && t["table"] == "orders").unwrap();
    let before = orders["rows"].as_u64().unwrap();
    let row = orders["shown"][0]["id"].as_str().unwrap().to_owned();
    let (st, body) = api(
        &s,
        &token,
        reqwest::Method::POST,
        &format!("/api/requests/{id}/withhold"),
        Some(json!({"database": orders["database"], "table": "orders", "row": row, "reason": "names a fraud investigation"})),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (_, preview) = api(&s, &token, reqwest::Method::GET, &format!("/api/requests/{id}/preview"), None).await;
    let orders = preview["tables"].as_array().unwrap().iter().find(|t| t["part"] == "access" && t["table"] == "orders").unwrap();
    assert_eq!(orders["rows"].as_u64().unwrap(), before - 1);
    assert!(!orders["shown"].as_array().unwrap().iter().any(|r| r["id"] == row.as_str()));
    // a row id that is not one is refused
    let (st, _) = api(
        &s,
        &token,
        reqwest::Method::POST,
        &format!("/api/requests/{id}/withhold"),
        Some(json!({"database": "shop", "table": "orders", "row": "'; DROP TABLE orders; --", "reason": "x"})),
    )
    .await;
    assert_eq!(st, 400);
    // delivered sealed, with a passphrase made here and shown once
    let (st, delivered) = api(&s, &token, reqwest::Method::POST, &format!("/api/requests/{id}/deliver"), Some(json!({}))).await;
    assert_eq!(st, 200, "{delivered}");
    assert_eq!(delivered["request"]["state"], "delivered");
    let passphrase = delivered["passphrase"].as_str().unwrap().to_owned();
    let links = delivered["links"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    assert!(!s.data.path().join(format!("answers/{id}/draft")).exists(), "only sealed copies stay");
    let access = links.iter().find(|l| l["file"].as_str().unwrap().ends_with("-access.zip.age")).unwrap();
    let res = s.client().get(access["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    let mut zip = open_sealed(&bytes, &passphrase);
    let m = manifest(&mut zip);
    assert_eq!(m["rows_withheld"][0]["reason"], "names a fraud investigation", "{m}");
    assert!(zip.by_name("report.html").is_ok());
    // an altered link opens nothing; the download is in the audit log
    let forged = access["url"].as_str().unwrap().replace("/answers/", "/answers/x");
    assert_eq!(s.client().get(forged).send().await.unwrap().status(), 404);
    let (_, detail) = api(&s, &token, reqwest::Method::GET, &format!("/api/requests/{id}"), None).await;
    let actions: Vec<&str> = detail["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["received", "code_sent", "code_wrong", "row_withheld", "answer_drawn_up", "ready_for_review→delivered", "downloaded"] {
        assert!(actions.iter().any(|x| x.contains(a)), "{a} in {actions:?}");
    }
    let (st, audit) = api(&s, &token, reqwest::Method::GET, "/api/requests/audit", None).await;
    assert_eq!(st, 200, "the chain verifies: {audit}");
    // the person's page gives fresh links
    let (_, _, html) = page(&s, Some(&cookie), &to).await;
    assert!(html.contains(&format!("{id}-portability.zip.age")), "{html}");
    s.stop().await;
}

#[tokio::test]
async fn staff_pages_show_the_queue_and_history_and_withhold_a_row_from_the_preview() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), requests_cfg(shop(dir.path()))).await;
    let token = operator(&s).await;
    let (st, r) =
        api(&s, &token, reqwest::Method::POST, "/api/requests", Some(json!({"identity": "bob@example.com", "kind": "access"}))).await;
    assert_eq!(st, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    // not signed in: the sign-in form; a wrong token is refused
    let (cookie, csrf, html) = page(&s, None, "/staff").await;
    assert!(html.contains("staff sign-in"), "{html}");
    let res = post_form(&s, &cookie, "/staff/sign-in", &[("csrf", &csrf), ("token", "ferry_wrong")]).await;
    assert_eq!(res.status(), 401);
    let res = post_form(&s, &cookie, "/staff/sign-in", &[("csrf", &csrf), ("token", &token)]).await;
    assert_eq!(res.status(), 303);
    let staff = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    let (_, _, html) = page(&s, Some(&staff), "/staff").await;
    assert!(html.contains(&id) && html.contains("nearest deadline first"), "{html}");
    let (_, scsrf, html) = page(&s, Some(&staff), &format!("/staff/requests/{id}")).await;
    assert!(html.contains("History") && html.contains("received"), "{html}");
    // a form without the staff token is refused
    let res = post_form(&s, &staff, &format!("/staff/requests/{id}/verify"), &[("csrf", "forged"), ("how", "x")]).await;
    assert_eq!(res.status(), 403);
    let res =
        post_form(&s, &staff, &format!("/staff/requests/{id}/verify"), &[("csrf", &scsrf), ("how", "seen at the desk with a passport")])
            .await;
    assert_eq!(res.status(), 200);
    let res = post_form(&s, &staff, &format!("/staff/requests/{id}/draw-up"), &[("csrf", &scsrf)]).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Drawn up for review") && html.contains("Withhold"), "{html}");
    let row = html.split("name=\"row\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let table = html.split("name=\"table\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let database = html.split("name=\"database\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let res = post_form(
        &s,
        &staff,
        &format!("/staff/requests/{id}/withhold"),
        &[("csrf", &scsrf), ("database", &database), ("table", &table), ("row", &row), ("reason", "another customer's complaint")],
    )
    .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("The row is withheld") && !html.contains(&format!("value=\"{row}\"")), "{html}");
    assert!(html.contains("row_withheld"), "the history shows it");
    // refused, with the right to complain
    let res = post_form(
        &s,
        &staff,
        &format!("/staff/requests/{id}/refuse"),
        &[("csrf", &scsrf), ("reason", "excessive"), ("details", "the fourth this month")],
    )
    .await;
    assert!(res.text().await.unwrap().contains("Refused"));
    let (_, r) = api(&s, &token, reqwest::Method::GET, &format!("/api/requests/{id}"), None).await;
    assert_eq!(r["request"]["state"], "refused");
    assert!(r["request"]["refusal"]["complaint"].as_str().unwrap().to_lowercase().contains("supervisory authority"), "{r}");
    // a revoked token ends the sign-in
    let t = s.state.service.store().api_token(&ferry_server::access::token_hash(&token)).await.unwrap().unwrap();
    s.state.service.store().revoke_api_token(&t.id).await.unwrap();
    let (_, _, html) = page(&s, Some(&staff), "/staff").await;
    assert!(html.contains("staff sign-in"));
    s.stop().await;
}

#[tokio::test]
async fn a_package_goes_directly_to_another_companys_ferry_which_takes_only_a_trusted_signed_whole_one() {
    let dir = tempfile::tempdir().unwrap();
    let map = shop(dir.path());
    let sender = start(dir.path(), requests_cfg(map.clone())).await;
    let key = sender.state.rights.as_ref().unwrap().signing.public_key_base64();
    let mut cfg = requests_cfg(map);
    cfg.sender_id = Some("receiver.example".into());
    cfg.trusted_senders = vec![TrustedSender { id: "shop.example".into(), public_key: key }];
    let receiver = start(dir.path(), cfg).await;
    let (st_token, rt_token) = (operator(&sender).await, operator(&receiver).await);
    let (_, r) = api(
        &sender,
        &st_token,
        reqwest::Method::POST,
        "/api/requests",
        Some(json!({"identity": "alice@example.com", "kind": "portability"})),
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    api(&sender, &st_token, reqwest::Method::POST, &format!("/api/requests/{id}/verify"), Some(json!({"how": "signed in"}))).await;
    let (st, _) = api(&sender, &st_token, reqwest::Method::POST, &format!("/api/requests/{id}/answer"), Some(json!({}))).await;
    assert_eq!(st, 200);
    // a ferry that is not there: nothing delivered, staff told to deliver to the person
    let (st, body) =
        api(&sender, &st_token, reqwest::Method::POST, &format!("/api/requests/{id}/transfer"), Some(json!({"to": "http://127.0.0.1:9"})))
            .await;
    assert_eq!(st, 502, "{body}");
    assert!(body["message"].as_str().unwrap().contains("deliver the answer to the person instead"), "{body}");
    let (st, body) =
        api(&sender, &st_token, reqwest::Method::POST, &format!("/api/requests/{id}/transfer"), Some(json!({"to": "ftp://x.example"})))
            .await;
    assert_eq!(st, 400, "{body}");
    let (st, sent) =
        api(&sender, &st_token, reqwest::Method::POST, &format!("/api/requests/{id}/transfer"), Some(json!({"to": receiver.url}))).await;
    assert_eq!(st, 200, "{sent}");
    assert_eq!(sent["request"]["state"], "delivered");
    let (st, got) = api(&receiver, &rt_token, reqwest::Method::GET, "/api/imports", None).await;
    assert_eq!(st, 200);
    assert_eq!(got.as_array().unwrap().len(), 1);
    assert_eq!(got[0]["sender"], "shop.example");
    assert_eq!(got[0]["id"], sent["receipts"][0]["id"]);
    assert!(got[0]["rows"].as_u64().unwrap() > 0, "{got}");
    let (_, detail) = api(&sender, &st_token, reqwest::Method::GET, &format!("/api/requests/{id}"), None).await;
    let actions: Vec<&str> = detail["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"transfer_failed") && actions.contains(&"transferred"), "{actions:?}");
    // hostile imports: unsigned, signed by a stranger, another body than signed, not a package
    let import = format!("{}/api/imports", receiver.url);
    let res = receiver.client().post(&import).body("PK").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let signed = |key: &ferry_requests::signing::SigningKey, sender_id: &str, body: &[u8]| {
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(body));
        ferry_requests::signing::sign(key, sender_id, "POST", &import, &hash, chrono::Utc::now()).unwrap()
    };
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut req = receiver.client().post(&import).body(body);
        for (n, v) in headers {
            req = req.header(n, v);
        }
        req.send()
    };
    let stranger = ferry_requests::signing::SigningKey::generate();
    assert_eq!(send(signed(&stranger, "shop.example", b"PK"), b"PK".to_vec()).await.unwrap().status(), 401);
    let ours = ferry_requests::signing::SigningKey::load_or_create(sender.data.path()).unwrap();
    assert_eq!(send(signed(&ours, "shop.example", b"one body"), b"another body".to_vec()).await.unwrap().status(), 400);
    let headers = signed(&ours, "shop.example", b"not a zip");
    let res = send(headers.clone(), b"not a zip".to_vec()).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("not a ZIP"));
    // the same signed request again is a replay
    let res = send(headers, b"not a zip".to_vec()).await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("replay"));
    // one signed for another receiver is not taken here
    let elsewhere = {
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(b"PK"));
        ferry_requests::signing::sign(&ours, "shop.example", "POST", "https://other.example/api/imports", &hash, chrono::Utc::now())
            .unwrap()
    };
    assert_eq!(send(elsewhere, b"PK".to_vec()).await.unwrap().status(), 401);
    let (_, got) = api(&receiver, &rt_token, reqwest::Method::GET, "/api/imports", None).await;
    assert_eq!(got.as_array().unwrap().len(), 1, "nothing refused was kept");
    let leftovers = std::fs::read_dir(receiver.data.path().join("imports"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("incoming"))
        .count();
    assert_eq!(leftovers, 0);
    sender.stop().await;
    receiver.stop().await;
}

/// libsodium's combined form: the signature, then the message, base64.
fn drp_sign(key: &ed25519_dalek::SigningKey, message: &Value) -> String {
    use ed25519_dalek::Signer;
    let text = serde_json::to_vec(message).unwrap();
    let mut bytes = key.sign(&text).to_bytes().to_vec();
    bytes.extend_from_slice(&text);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn an_authorized_agent_sends_an_access_request_follows_it_and_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let agent = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut cfg = requests_cfg(shop(dir.path()));
    cfg.drp_business_id = Some("EXAMPLE_SHOP".into());
    cfg.drp_agents = vec![ferry_requests::drp::AgentEntry {
        id: "CR_AGENT".into(),
        name: None,
        verify_key: base64::engine::general_purpose::STANDARD.encode(agent.verifying_key().as_bytes()),
    }];
    let s = start(dir.path(), cfg).await;
    let token = operator(&s).await;
    let (st, doc) = {
        let res = s.client().get(format!("{}/.well-known/data-rights.json", s.url)).send().await.unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(st, 200);
    assert_eq!(doc["actions"], json!(["access"]), "{doc}");
    let now = chrono::Utc::now();
    let envelope = |extra: Value| {
        let mut m = json!({"agent-id": "CR_AGENT", "business-id": "EXAMPLE_SHOP", "issued-at": now.to_rfc3339(),
            "expires-at": (now + chrono::Duration::minutes(10)).to_rfc3339(), "drp.version": "1.0"});
        m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        m
    };
    // setup: a bearer token for a message the agent signed; another key's message gets nothing
    let res = s.client().post(format!("{}/v1/agent/CR_AGENT", s.url)).body(drp_sign(&agent, &envelope(json!({})))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let bearer = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let other = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let res = s.client().post(format!("{}/v1/agent/CR_AGENT", s.url)).body(drp_sign(&other, &envelope(json!({})))).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // another address than the other tests mail codes to (they read the same maildir)
    let person = format!("drp.{}@example.org", std::process::id());
    let exercise = envelope(json!({"exercise": "access", "regime": "ccpa", "email": person, "agent-request-id": "A-1"}));
    let res = s
        .client()
        .post(format!("{}/v1/data-rights-request", s.url))
        .bearer_auth("nope")
        .body(drp_sign(&agent, &exercise))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "an unknown bearer token");
    let res = s
        .client()
        .post(format!("{}/v1/data-rights-request", s.url))
        .bearer_auth(&bearer)
        .body(drp_sign(&agent, &exercise))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let status: Value = res.json().await.unwrap();
    // a code went to the person, who confirms on their request page: the status says where
    assert_eq!(status["status"], "in_progress", "{status}");
    assert_eq!(status["reason"], "need_user_verification", "{status}");
    assert!(status["user_verification_url"].as_str().unwrap().contains("/rights/R-"), "{status}");
    assert_eq!(code_sent_to(&person).len(), 6);
    assert_eq!(status["agent_request_id"], "A-1");
    let drp_id = status["request_id"].as_str().unwrap().to_owned();
    // deletion is not offered: refused, fatally
    let res = s
        .client()
        .post(format!("{}/v1/data-rights-request", s.url))
        .bearer_auth(&bearer)
        .body(drp_sign(&agent, &envelope(json!({"exercise": "deletion", "regime": "ccpa", "email": person}))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["fatal"], true);
    // it is a request of the register like any other: CCPA, access, made by the agent
    let (_, list) = api(&s, &token, reqwest::Method::GET, "/api/requests", None).await;
    let r = list.as_array().unwrap().iter().find(|r| r["identity"]["value"] == person.as_str()).unwrap().clone();
    assert_eq!((r["regime"].as_str(), r["kind"].as_str()), (Some("ccpa"), Some("access")));
    let id = r["id"].as_str().unwrap();
    let (_, d) = api(&s, &token, reqwest::Method::GET, &format!("/api/requests/{id}"), None).await;
    assert_eq!(d["history"][0]["actor"], "agent:CR_AGENT");
    let res = s.client().get(format!("{}/v1/data-rights-request/{drp_id}", s.url)).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = s
        .client()
        .delete(format!("{}/v1/data-rights-request/{drp_id}", s.url))
        .bearer_auth(&bearer)
        .body(drp_sign(&agent, &json!({"reason": "the person changed their mind"})))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "revoked");
    let (_, d) = api(&s, &token, reqwest::Method::GET, &format!("/api/requests/{id}"), None).await;
    assert_eq!(d["request"]["state"], "withdrawn");
    s.stop().await;
}

#[test]
fn the_requests_configuration_shown_in_the_docs_is_read_as_shown() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/requests.md")).unwrap();
    let block = doc.split("```toml\n").skip(1).map(|b| b.split("```").next().unwrap()).find(|b| b.starts_with("[requests]")).unwrap();
    let cfg: ServeConfig = toml::from_str(block).unwrap();
    let r = cfg.requests.unwrap();
    assert_eq!((r.company.as_str(), r.regime.as_str(), r.sender_id.as_deref()), ("Example Shop", "gdpr", Some("shop.example")));
    // each commented setting is a real one too
    let all: String = block.lines().map(|l| l.trim_start_matches("# ").split("  #").next().unwrap()).collect::<Vec<_>>().join("\n");
    let all = all.replace("BASE64", "AAAA");
    let cfg: Result<ServeConfig, _> = toml::from_str(&all);
    assert!(cfg.is_ok(), "{all}: {cfg:?}");
}
