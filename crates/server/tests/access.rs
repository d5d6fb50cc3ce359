//! Who may do what: every route of the OpenAPI document tried without credentials, with
//! another person's session, with a forged CSRF token, from another site, with another
//! job's key, and with a revoked API token.

mod common;

use common::{Person, Running, create};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every (method, path) of the API document.
fn routes() -> Vec<(Method, String)> {
    let doc: Value = serde_json::from_str(&ferry_server::api::document()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            out.push((m.to_uppercase().parse().unwrap(), path.clone()));
        }
    }
    assert!(out.len() >= 12, "{out:?}");
    out
}

/// Routes anyone may call.
fn public(path: &str) -> bool {
    matches!(path, "/api/connectors" | "/api/session" | "/download/{token}" | "/answers/{token}")
}

/// Routes another company's ferry calls, with a signed request instead of a credential.
fn signed(m: &Method, path: &str) -> bool {
    *m == Method::POST && path == "/api/imports"
}

async fn call(s: &Running, m: &Method, path: &str, job: &str, headers: reqwest::header::HeaderMap) -> (StatusCode, Value) {
    let url = format!("{}{}", s.url, path.replace("{id}", job).replace("{token}", "not-a-token"));
    let mut req = s.client().request(m.clone(), url).headers(headers);
    if path == "/api/jobs" && *m == Method::POST {
        req = req.json(&serde_json::json!({"source": {"connector": "example"}, "destination": {"connector": "package"}, "start": false}));
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body = if res.headers().get("content-type").is_some_and(|c| c.to_str().unwrap().starts_with("application/json")) {
        res.json().await.unwrap()
    } else {
        Value::Null
    };
    (status, body)
}

#[tokio::test]
async fn every_route_refuses_strangers_other_people_forged_requests_and_other_jobs_keys() {
    let s = Running::start(ferry_server::ServeConfig { workers: 0, ..Default::default() }).await;
    let (alice, bob) = (s.person().await, s.person().await);
    let a = create(&s, &alice, false).await;
    let b = create(&s, &bob, false).await;
    let (a_id, a_key) = (a["id"].as_str().unwrap(), a["key"].as_str().unwrap());
    let b_id = b["id"].as_str().unwrap();
    for (m, path) in routes() {
        if signed(&m, &path) {
            continue;
        }
        let names_job = path.starts_with("/api/jobs/{id}");
        let staff_only = path.starts_with("/api/requests") || path == "/api/imports";
        // nobody
        let (st, body) = call(&s, &m, &path, a_id, Default::default()).await;
        if public(&path) {
            assert_ne!(st, StatusCode::UNAUTHORIZED, "{m} {path} is public");
        } else {
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{m} {path} without credentials");
            assert_eq!(body["code"], "unauthenticated", "{m} {path}");
        }
        // another person, with their own valid session and CSRF token
        if staff_only {
            let (st, body) = call(&s, &m, &path, a_id, bob.headers()).await;
            assert_eq!((st, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{m} {path} is staff's, not a person's");
        }
        if names_job {
            let (st, body) = call(&s, &m, &path, a_id, bob.headers()).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path} of Alice's job as Bob");
            assert_eq!(body["code"], "not_found");
            // the same answer as for a job that does not exist: nobody learns which ids do
            let (st2, _) = call(&s, &m, &path, "0000000000000000", bob.headers()).await;
            assert_eq!(st2, StatusCode::NOT_FOUND);
        }
        if m == Method::POST && !public(&path) {
            // Alice's cookie with a forged token, and with none
            let forged = Person { csrf: "Zm9yZ2Vk".into(), ..alice.clone() };
            let (st, body) = call(&s, &m, &path, a_id, forged.headers()).await;
            assert_eq!((st, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf")), "{m} {path} with a forged CSRF token");
            let mut none = alice.headers();
            none.remove("x-csrf-token");
            let (st, _) = call(&s, &m, &path, a_id, none).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{m} {path} without a CSRF token");
            // Bob's token is not Alice's
            let mut swapped = alice.headers();
            swapped.insert("x-csrf-token", bob.csrf.parse().unwrap());
            let (st, _) = call(&s, &m, &path, a_id, swapped).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{m} {path} with another session's CSRF token");
            // from another site, with everything else right
            let mut cross = alice.headers();
            cross.insert("origin", "http://evil.example".parse().unwrap());
            let (st, _) = call(&s, &m, &path, a_id, cross).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{m} {path} from another site");
        }
        // Alice's job key on Bob's job
        if names_job {
            let mut key = reqwest::header::HeaderMap::new();
            key.insert("x-ferry-job-key", a_key.parse().unwrap());
            let (st, body) = call(&s, &m, &path, b_id, key.clone()).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{m} {path} of Bob's job with Alice's job key");
            // and the same for a job that does not exist
            let (st2, body2) = call(&s, &m, &path, "0000000000000000", key).await;
            assert_eq!((st2, &body2["code"]), (StatusCode::UNAUTHORIZED, &body["code"]));
        }
    }
    // a job key reaches its job, from no session at all, and nothing else
    let mut key = reqwest::header::HeaderMap::new();
    key.insert("x-ferry-job-key", a_key.parse().unwrap());
    let (st, body) = call(&s, &Method::GET, "/api/jobs/{id}", a_id, key.clone()).await;
    assert_eq!((st, body["id"].as_str()), (StatusCode::OK, Some(a_id)));
    assert!(body.get("key").is_none(), "the key is given once, at creation");
    let (st, _) = call(&s, &Method::GET, "/api/jobs", a_id, key.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call(&s, &Method::POST, "/api/jobs", a_id, key).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // each person lists their own jobs only
    let (_, list) = call(&s, &Method::GET, "/api/jobs", a_id, bob.headers()).await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&b_id) && !ids.contains(&a_id), "{ids:?}");
    // an operator's token sees every job until it is revoked
    let token = ferry_server::access::new_token();
    let store = s.state.service.store().clone();
    let t = store.create_api_token("test", &ferry_server::access::token_hash(&token)).await.unwrap();
    let mut op = reqwest::header::HeaderMap::new();
    op.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (_, list) = call(&s, &Method::GET, "/api/jobs", a_id, op.clone()).await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&a_id) && ids.contains(&b_id), "{ids:?}");
    let (st, _) = call(&s, &Method::POST, "/api/jobs/{id}/cancel", a_id, op.clone()).await;
    assert_eq!(st, StatusCode::OK, "an operator acts on anyone's job, without CSRF (no cookie)");
    store.revoke_api_token(&t.id).await.unwrap();
    let (st, body) = call(&s, &Method::GET, "/api/jobs", a_id, op).await;
    assert_eq!((st, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let mut wrong = reqwest::header::HeaderMap::new();
    wrong.insert("authorization", "Bearer ferry_guessed".parse().unwrap());
    assert_eq!(call(&s, &Method::GET, "/api/jobs", a_id, wrong).await.0, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn a_session_from_another_site_or_a_tampered_cookie_is_refused() {
    let s = Running::default().await;
    let res = s.client().post(format!("{}/api/session", s.url)).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let alice = s.person().await;
    let tampered = Person { cookie: alice.cookie.replace("ferry_session=", "ferry_session=0"), ..alice.clone() };
    let (st, _) = call(&s, &Method::GET, "/api/jobs", "", tampered.headers()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn a_client_that_asks_too_often_is_told_when_to_come_back() {
    let s = Running::start(ferry_server::ServeConfig { workers: 0, client_requests_per_second: 1, ..Default::default() }).await;
    let mut limited = None;
    for i in 0..40 {
        let res = s.client().get(format!("{}/api/connectors", s.url)).send().await.unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, res.headers()["retry-after"].to_str().unwrap().to_owned(), res.json::<Value>().await.unwrap()));
            break;
        }
    }
    let (i, after, body) = limited.expect("the limit is reached within 40 requests");
    assert!(i >= 10, "a burst of ten passes first ({i})");
    assert!(after.parse::<u64>().unwrap() >= 1);
    assert_eq!(body["code"], "rate_limited");
    // probes are not limited
    let res = s.client().get(format!("{}/healthz", s.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    s.stop().await;
}
