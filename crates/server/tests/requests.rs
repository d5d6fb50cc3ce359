//! Wrong, hostile and huge requests: each gets a JSON error with a stable code and a
//! message that says what to do, and creates no job.

mod common;

use common::Running;
use serde_json::{Value, json};

async fn post_job(s: &Running, who: &common::Person, body: reqwest::Body, content_type: &str) -> (u16, Value) {
    let res = s
        .client()
        .post(format!("{}/api/jobs", s.url))
        .headers(who.headers())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "every error is JSON ({status})");
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn wrong_requests_get_json_errors_that_say_what_to_do_and_create_nothing() {
    let files = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc", files.path().join("out")).unwrap();
    let s = Running::start(ferry_server::ServeConfig { workers: 0, files_root: Some(files.path().to_owned()), ..Default::default() }).await;
    let p = s.person().await;
    let ex = json!({"connector": "example"});
    let pkg = json!({"connector": "package"});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"source": {"connector": "nosuch", "address": "x"}, "destination": pkg}), "no connector"),
        (json!({"source": pkg, "destination": pkg}), "not offered"),
        (json!({"source": ex, "destination": ex}), "source only"),
        (json!({"source": ex, "destination": pkg, "verticals": ["recipes"]}), "recipes"),
        (json!({"source": ex, "destination": pkg, "incremental": true}), "--incremental"),
        (json!({"source": ex, "destination": {"connector": "imap", "address": "imaps://me:secret@127.0.0.1"}}), "own field"),
        (json!({"source": ex, "destination": {"connector": "imap", "address": "https://127.0.0.1"}}), "imaps://"),
        (json!({"source": ex, "destination": {"connector": "imap", "address": "imaps://me@127.0.0.1"}}), "password"),
        (json!({"source": ex, "destination": {"connector": "dir", "address": "../../etc"}}), "below"),
        (json!({"source": ex, "destination": {"connector": "dir", "address": "/etc"}}), "below"),
        (json!({"source": ex, "destination": {"connector": "dir", "address": "out/x"}}), "leads out"),
        (json!({"source": {"connector": "dir", "address": "missing"}, "destination": pkg}), "does not exist"),
        (json!({"source": ex, "destination": {"connector": "package", "address": "/tmp/x.zip"}}), "no address"),
        (json!({"source": ex, "destination": pkg, "surprise": 1}), "unknown field"),
        (json!({"source": ex}), "destination"),
        (json!([1, 2, 3]), "not what this route takes"),
    ];
    for (body, says) in cases {
        let (status, err) = post_job(&s, &p, serde_json::to_vec(&body).unwrap().into(), "application/json").await;
        assert_eq!(status, 400, "{body}: {err}");
        let msg = err["message"].as_str().unwrap();
        assert!(msg.contains(says), "{body}: `{msg}` should say `{says}`");
        assert!(["bad_request", "missing_credential"].contains(&err["code"].as_str().unwrap()), "{err}");
        assert!(!msg.contains("secret"), "a password is never repeated: {msg}");
    }
    let (status, err) = post_job(&s, &p, "{\"source\": ".into(), "application/json").await;
    assert_eq!((status, err["code"].as_str()), (400, Some("bad_request")), "truncated JSON");
    let (status, _) = post_job(&s, &p, "source=example".into(), "application/x-www-form-urlencoded").await;
    assert_eq!(status, 415, "not JSON");
    let huge = format!("{{\"source\": {{\"connector\": \"{}\"}}}}", "x".repeat(10 << 20));
    let (status, err) = post_job(&s, &p, huge.into(), "application/json").await;
    assert_eq!((status, err["code"].as_str()), (413, Some("bad_request")), "ten megabytes");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, _) = post_job(&s, &p, deep.into(), "application/json").await;
    assert_eq!(status, 413, "deep nesting is over the size limit too");
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let (status, _) = post_job(&s, &p, deep.into(), "application/json").await;
    assert_eq!(status, 400, "nesting within the size limit is refused by the parser, not a crash");
    // nothing was created
    let list: Value = s.client().get(format!("{}/api/jobs", s.url)).headers(p.headers()).send().await.unwrap().json().await.unwrap();
    assert_eq!(list, json!([]));
    // odd ids and routes
    for path in ["/api/jobs/..%2F..%2Fetc", "/api/jobs/%00", &format!("/api/jobs/{}", "a".repeat(5000)), "/api/nothing", "/nothing"] {
        let res = s.client().get(format!("{}{path}", s.url)).headers(p.headers()).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "not_found");
    }
    let res = s.client().delete(format!("{}/api/jobs", s.url)).headers(p.headers()).send().await.unwrap();
    assert_eq!(res.status(), 405);
    for h in ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "x-request-id"] {
        assert!(res.headers().contains_key(h), "{h} on every answer, errors too");
    }
    s.stop().await;
}
