//! Bearer tokens against a real OAuth 2.0 authorization server: oidc-provider, started
//! by scripts/servers.sh (FERRY_TEST_OAUTH; scripts/oauth/server.mjs), and a WebDAV
//! resource server of this test's own (axum: PROPFIND, GET, PUT, MKCOL) that takes a
//! request only with a bearer token the authorization server says is active (RFC 7662
//! introspection, on every request).
//!
//! The tokens are obtained as an app connecting an account would: the authorization-code
//! flow with PKCE (RFC 7636, with the `oauth2` crate), its redirects followed with plain
//! HTTP requests, cookies kept, the authorization server's own interaction signing the
//! test user in and granting at once. The token set goes to `ferry` as a token file.
//!
//! Each test starts the real `ferry` binary, counts the token requests at the
//! authorization server, and checks what the resource server holds: every file once.
mod common;

use common::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

const CLIENT_SECRET: &str = "ferry-test-client-secret";
const REDIRECT: &str = "http://127.0.0.1/callback";

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
});

fn issuer() -> String {
    server_env("FERRY_TEST_OAUTH")
}

/// An HTTP client that does not follow redirects (the test follows them itself).
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// oauth2's HTTP calls, through reqwest.
async fn oauth_http(req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = req.into_parts();
    let resp = client().request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
    let (status, headers) = (resp.status(), resp.headers().clone());
    let mut out = oauth2::HttpResponse::new(resp.bytes().await?.to_vec());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// Connects an account: the authorization-code flow with PKCE for `client_id`, as a
/// browser would follow it; returns the token file ferry is given.
async fn connect(client_id: &str) -> serde_json::Value {
    let issuer = issuer();
    let oauth = BasicClient::new(ClientId::new(client_id.into()))
        .set_client_secret(ClientSecret::new(CLIENT_SECRET.into()))
        .set_auth_uri(AuthUrl::new(format!("{issuer}/auth")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{issuer}/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_extra_param("prompt", "consent")
        .set_pkce_challenge(challenge)
        .url();
    let location = browse(url.as_str(), REDIRECT).await;
    let q: BTreeMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some(state.secret().as_str()), "{location}");
    let code = q.get("code").cloned().expect("the flow ends at the redirect URI with a code");
    let token = oauth.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(verifier).request_async(&oauth_http).await.unwrap();
    serde_json::json!({
        "access_token": token.access_token().secret(),
        "refresh_token": token.refresh_token().expect("offline_access gives a refresh token").secret(),
        "expires_in": token.expires_in().map(|d| d.as_secs()),
        "token_type": "Bearer",
        "scope": "openid offline_access",
        "token_endpoint": format!("{issuer}/token"),
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
    })
}

/// A browser at the authorization server: each redirect followed with the cookies set
/// so far, until one leads to a URL starting with `until`, which is returned.
async fn browse(url: &str, until: &str) -> reqwest::Url {
    let http = client();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut next = url.to_owned();
    for _ in 0..12 {
        let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let resp = http.get(&next).header(reqwest::header::COOKIE, jar.join("; ")).send().await.unwrap();
        for c in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        assert!(resp.status().is_redirection(), "{next}: {} {}", resp.status(), resp.text().await.unwrap_or_default());
        let location = resp.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
        let location = reqwest::Url::parse(&next).unwrap().join(&location).unwrap();
        if location.as_str().starts_with(until) {
            return location;
        }
        next = location.to_string();
    }
    panic!("the flow never reached {until}");
}

/// Whether the authorization server says a token is active (as the resource server).
async fn active(token: &str) -> bool {
    let r = client()
        .post(format!("{}/token/introspection", issuer()))
        .basic_auth("resource-server", Some("resource-server-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "introspection: {}", r.status());
    r.json::<serde_json::Value>().await.unwrap()["active"] == true
}

/// Token requests per client and grant type, as the authorization server counted them.
fn token_requests(client_id: &str) -> BTreeMap<String, u64> {
    RT.block_on(async {
        let v: serde_json::Value = client().get(format!("{}/test/counts", issuer())).send().await.unwrap().json().await.unwrap();
        v[client_id].as_object().map(|m| m.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect()).unwrap_or_default()
    })
}

/// What the resource server does to the tokens it is shown, once `after` requests came.
enum Fault {
    None,
    /// Requests that show this access token wait until the authorization server says it
    /// has expired, then are refused as any request with it is.
    HoldUntilExpired {
        after: usize,
        token: String,
    },
    /// Once `after` requests came, the token then shown is ended early by the resource
    /// server (as when a service ends a session): it is refused from then on, whatever the
    /// authorization server says (for tokens a test never sees itself).
    EndTokenEarly {
        after: usize,
    },
    /// The refresh token of this client is revoked at the authorization server (which
    /// revokes the whole grant), as a user disconnecting the app does.
    RevokeGrant {
        after: usize,
        client_id: String,
        refresh_token: String,
    },
}

#[derive(Default)]
struct Dav {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    dirs: Mutex<BTreeSet<String>>,
    /// PUTs that stored a file, per path.
    puts: Mutex<BTreeMap<String, u32>>,
    /// Requests refused with 401.
    refused: AtomicUsize,
    seen: AtomicUsize,
    fault: Mutex<Option<Fault>>,
    /// PUTs past this many are answered 507 Insufficient Storage (0: none are).
    full_after: AtomicUsize,
    /// The last bearer token a request showed.
    last_token: Mutex<String>,
    /// Tokens the resource server ended early.
    ended: Mutex<BTreeSet<String>>,
}

/// The resource server: a WebDAV subset on 127.0.0.1; returns its address.
fn resource_server(fault: Fault) -> (Arc<Dav>, String) {
    let dav = Arc::new(Dav { fault: Mutex::new(Some(fault)), ..Default::default() });
    let listener = RT.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().fallback(handle).with_state(dav.clone());
    RT.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (dav, addr)
}

async fn handle(axum::extract::State(dav): axum::extract::State<Arc<Dav>>, req: axum::extract::Request) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let n = dav.seen.fetch_add(1, Ordering::SeqCst) + 1;
    // the fault, once its time has come (taken out, so it fires once)
    let due = {
        let mut f = dav.fault.lock().unwrap();
        match f.as_ref() {
            Some(Fault::HoldUntilExpired { after, token: t }) if n > *after && *t == token => f.take(),
            Some(Fault::RevokeGrant { after, .. }) if n > *after => f.take(),
            Some(Fault::EndTokenEarly { after }) if n > *after => f.take(),
            _ => None,
        }
    };
    match due {
        Some(Fault::EndTokenEarly { .. }) => {
            dav.ended.lock().unwrap().insert(token.clone());
        }
        Some(Fault::HoldUntilExpired { token, .. }) => {
            let start = Instant::now();
            while active(&token).await {
                assert!(start.elapsed() < Duration::from_secs(60), "the access token never expired");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Some(Fault::RevokeGrant { client_id, refresh_token, .. }) => {
            let r = client()
                .post(format!("{}/token/revocation", issuer()))
                .basic_auth(&client_id, Some(CLIENT_SECRET))
                .form(&[("token", refresh_token.as_str()), ("token_type_hint", "refresh_token")])
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "revocation: {}", r.status());
        }
        _ => {}
    }
    if token.is_empty() || dav.ended.lock().unwrap().contains(&token) || !active(&token).await {
        dav.refused.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::UNAUTHORIZED, [("WWW-Authenticate", "Bearer error=\"invalid_token\"")]).into_response();
    }
    *dav.last_token.lock().unwrap() = token.clone();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let depth = req.headers().get("depth").and_then(|v| v.to_str().ok()).unwrap_or("0").to_owned();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20).await.unwrap();
    let full = dav.full_after.load(Ordering::SeqCst);
    match method.as_str() {
        "PUT" if full > 0 && dav.puts.lock().unwrap().values().sum::<u32>() as usize >= full => {
            StatusCode::INSUFFICIENT_STORAGE.into_response()
        }
        "PUT" => {
            dav.files.lock().unwrap().insert(path.clone(), body.to_vec());
            *dav.puts.lock().unwrap().entry(path).or_default() += 1;
            StatusCode::CREATED.into_response()
        }
        "GET" => match dav.files.lock().unwrap().get(&path) {
            Some(b) => b.clone().into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        "MKCOL" => {
            if dav.dirs.lock().unwrap().insert(path) {
                StatusCode::CREATED.into_response()
            } else {
                StatusCode::METHOD_NOT_ALLOWED.into_response()
            }
        }
        "PROPFIND" => {
            let entry = |href: &str, len: Option<usize>| match len {
                Some(len) => format!(
                    "<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:resourcetype/><d:getcontentlength>{len}</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
                ),
                None => format!(
                    "<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
                ),
            };
            let files = dav.files.lock().unwrap();
            let dirs = dav.dirs.lock().unwrap();
            let mut out = String::new();
            if let Some(b) = files.get(&path) {
                out.push_str(&entry(&path, Some(b.len())));
            } else if dirs.contains(&path) {
                out.push_str(&entry(&path, None));
                if depth == "1" {
                    for (p, b) in files.iter().filter(|(p, _)| p.strip_prefix(&path).is_some_and(|rest| !rest.contains('/'))) {
                        out.push_str(&entry(p, Some(b.len())));
                    }
                }
            } else {
                return StatusCode::NOT_FOUND.into_response();
            }
            let xml = format!(r#"<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:">{out}</d:multistatus>"#);
            (StatusCode::MULTI_STATUS, [("Content-Type", "application/xml; charset=utf-8")], xml).into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

/// `n` small text files, each its own.
fn source(root: &Path, tag: &str, n: usize) -> BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(root).unwrap();
    (0..n)
        .map(|i| {
            let name = format!("{tag}-note-{i:03}.txt");
            let body = format!("note {i} of {tag}\n").repeat(1 + i % 30).into_bytes();
            std::fs::write(root.join(&name), &body).unwrap();
            (name, body)
        })
        .collect()
}

/// The files the resource server holds under `/<folder>/files/`, by name.
fn held(dav: &Dav, folder: &str) -> BTreeMap<String, Vec<u8>> {
    let prefix = format!("/{folder}/files/");
    dav.files.lock().unwrap().iter().filter_map(|(p, b)| p.strip_prefix(&prefix).map(|n| (n.to_owned(), b.clone()))).collect()
}

fn ferry_with_tokens(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .args(["--insecure", "--allow-private-network", "--json"])
        // the requests and the refresh are logged; no secret may be in what is logged
        .env("FERRY_LOG", "ferry_connectors=debug,ferry_engine=info")
        .env_remove("FERRY_PASSWORD")
        .output()
        .unwrap()
}

fn write_tokens(path: &Path, tokens: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(tokens).unwrap()).unwrap();
}

/// No token or client secret in what ferry printed or logged.
fn no_secrets(o: &Output, tokens: &[&serde_json::Value]) {
    let out = text(o);
    for t in tokens {
        for k in ["access_token", "refresh_token"] {
            let secret = t[k].as_str().unwrap();
            assert!(!out.contains(secret), "the {k} is in ferry's output:\n{out}");
        }
    }
    assert!(!out.contains(CLIENT_SECRET), "the client secret is in ferry's output:\n{out}");
}

#[test]
fn an_access_token_that_expires_mid_transfer_is_refreshed_once() {
    let t = tempfile::tempdir().unwrap();
    let want = source(&t.path().join("src"), "a", 60);
    let mut tokens = RT.block_on(connect("ferry-a"));
    assert_eq!(tokens["expires_in"], 4, "ferry-a's first access token lives 4 s (scripts/oauth/server.mjs)");
    // given without its lifetime, so that ferry learns of the expiry from the resource
    // server's 401 (as when a server ends a token early) rather than refreshing ahead
    tokens.as_object_mut().unwrap().remove("expires_in");
    let file = t.path().join("tokens.json");
    write_tokens(&file, &tokens);
    // after 20 requests, requests with the first token wait for it to expire
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (dav, addr) = resource_server(Fault::HoldUntilExpired { after: 20, token: access });
    let before = token_requests("ferry-a");

    let dest = format!("webdav://{addr}/a/");
    let src = format!("dir:{}", t.path().join("src").display());
    let to_file = file.to_str().unwrap();
    let o = ferry_with_tokens(&t.path().join("data"), &["transfer", "--from", &src, "--to", &dest, "--to-token-file", to_file]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = &r["report"]["verticals"]["files"];
    assert_eq!((files["found"].as_u64(), files["transferred"].as_u64(), files["failed"].as_u64()), (Some(60), Some(60), Some(0)), "{r}");

    assert!(dav.fault.lock().unwrap().is_none(), "the token expired mid-transfer");
    assert!(dav.refused.load(Ordering::SeqCst) >= 1, "requests with the expired token were refused");
    let after = token_requests("ferry-a");
    let refreshes = after.get("refresh_token").copied().unwrap_or(0) - before.get("refresh_token").copied().unwrap_or(0);
    assert_eq!(refreshes, 1, "exactly one refresh for every request the expiry refused: {after:?}");
    assert_eq!(after.get("refresh_token_refused"), before.get("refresh_token_refused"), "no refresh refused: {after:?}");
    assert_eq!(held(&dav, "a"), want, "every file, byte for byte");
    assert!(dav.puts.lock().unwrap().values().all(|n| *n == 1), "each stored once: {:?}", dav.puts.lock().unwrap());
    assert!(text(&o).contains("access token refreshed"), "{}", text(&o));
    no_secrets(&o, &[&tokens]);
}

#[test]
fn a_revoked_grant_fails_the_job_until_the_account_is_reconnected() {
    let t = tempfile::tempdir().unwrap();
    let want = source(&t.path().join("src"), "b", 60);
    let tokens = RT.block_on(connect("ferry-b"));
    let file = t.path().join("tokens.json");
    write_tokens(&file, &tokens);
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (dav, addr) = resource_server(Fault::RevokeGrant { after: 20, client_id: "ferry-b".into(), refresh_token });
    let before = token_requests("ferry-b");

    let data = t.path().join("data");
    let dest = format!("webdav://{addr}/b/");
    let src = format!("dir:{}", t.path().join("src").display());
    let o = ferry_with_tokens(&data, &["transfer", "--from", &src, "--to", &dest, "--to-token-file", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "the job fails: {}", text(&o));
    assert!(text(&o).contains("the account's authorization was revoked or expired: reconnect this account"), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["state"], "failed", "{r}");
    let job = r["job"].as_str().unwrap().to_owned();
    let after = token_requests("ferry-b");
    let count = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    assert_eq!(count(&after, "refresh_token_refused") - count(&before, "refresh_token_refused"), 1, "one refresh tried: {after:?}");
    assert_eq!(count(&after, "refresh_token"), count(&before, "refresh_token"), "none granted: {after:?}");
    let part = held(&dav, "b");
    assert!(part.len() < 60, "stopped before the end: {}", part.len());
    assert!(dav.puts.lock().unwrap().values().all(|n| *n == 1), "nothing doubled");
    no_secrets(&o, &[&tokens]);

    // the account connected again: the job resumes with the new token set and finishes
    let again = RT.block_on(connect("ferry-b"));
    let file2 = t.path().join("tokens-again.json");
    write_tokens(&file2, &again);
    let o = ferry_with_tokens(&data, &["resume", &job, "--to-token-file", file2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["report"]["state"], "completed", "{r}");
    assert_eq!(held(&dav, "b"), want, "every file, byte for byte");
    assert!(dav.puts.lock().unwrap().values().all(|n| *n == 1), "each stored once: {:?}", dav.puts.lock().unwrap());
    no_secrets(&o, &[&tokens, &again]);
}

#[test]
fn a_token_about_to_expire_is_refreshed_before_its_first_use() {
    let t = tempfile::tempdir().unwrap();
    let want = source(&t.path().join("src"), "c", 12);
    let tokens = RT.block_on(connect("ferry-c"));
    // 4 s to live, well within ferry's margin: refreshed before the first request
    assert_eq!(tokens["expires_in"], 4);
    let file = t.path().join("tokens.json");
    write_tokens(&file, &tokens);
    let (dav, addr) = resource_server(Fault::None);
    let before = token_requests("ferry-c");
    let src = format!("dir:{}", t.path().join("src").display());
    let o = ferry_with_tokens(
        &t.path().join("data"),
        &["transfer", "--from", &src, "--to", &format!("webdav://{addr}/c/"), "--to-token-file", file.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = token_requests("ferry-c");
    assert_eq!(after.get("refresh_token").copied().unwrap_or(0) - before.get("refresh_token").copied().unwrap_or(0), 1, "{after:?}");
    assert_eq!(dav.refused.load(Ordering::SeqCst), 0, "no request went out with the old token");
    assert_eq!(held(&dav, "c"), want);
    no_secrets(&o, &[&tokens]);
}

#[test]
fn a_resume_refreshes_with_the_token_set_kept_sealed() {
    let t = tempfile::tempdir().unwrap();
    let want = source(&t.path().join("src"), "d", 40);
    // every access token of ferry-d lives 4 s, and each refresh rotates the refresh token
    // (using a spent one revokes the grant): a resume must refresh with the token set
    // kept after the last refresh, not with the one it was first given
    let tokens = RT.block_on(connect("ferry-d"));
    assert_eq!(tokens["expires_in"], 4);
    let file = t.path().join("tokens.json");
    write_tokens(&file, &tokens);
    let (dav, addr) = resource_server(Fault::None);
    // the destination is full after 15 files: the job stops
    dav.full_after.store(15, Ordering::SeqCst);
    let data = t.path().join("data");
    let src = format!("dir:{}", t.path().join("src").display());
    let o = ferry_with_tokens(
        &data,
        &["transfer", "--from", &src, "--to", &format!("webdav://{addr}/d/"), "--to-token-file", file.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("507") && text(&o).contains("the destination is full"), "{}", text(&o));
    let job = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["job"].as_str().unwrap().to_owned();
    let refreshed = token_requests("ferry-d");
    assert!(refreshed.get("refresh_token").copied().unwrap_or(0) >= 1, "refreshed before the first request: {refreshed:?}");
    assert_eq!(held(&dav, "d").len(), 15);
    // the last access token ferry used expires (seen at the authorization server)
    let last = dav.last_token.lock().unwrap().clone();
    RT.block_on(async {
        let start = Instant::now();
        while active(&last).await {
            assert!(start.elapsed() < Duration::from_secs(30), "the access token never expired");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    // room again; resumed with no token file: the kept token set is refreshed
    dav.full_after.store(0, Ordering::SeqCst);
    let o = ferry_with_tokens(&data, &["resume", &job]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = token_requests("ferry-d");
    assert!(after["refresh_token"] > refreshed["refresh_token"], "the resume refreshed: {after:?}");
    assert_eq!(after.get("refresh_token_refused"), None, "no spent refresh token was used: {after:?}");
    assert_eq!(held(&dav, "d"), want);
    assert!(dav.puts.lock().unwrap().values().all(|n| *n == 1), "each stored once: {:?}", dav.puts.lock().unwrap());
    no_secrets(&o, &[&tokens]);
}

/// `ferry serve` with a provider of configuration: a person connects their account in the
/// browser (scripts/browser/oauth.mjs: the authorization-code flow with PKCE through
/// oidc-provider, its `state` bound to the session and used once, another person refused
/// the connection), and moves a folder to it through the resource server, which ends the
/// access token mid-transfer: it is refreshed once; the tokens are revoked at the end.
#[test]
fn an_account_connected_in_the_browser_is_refreshed_mid_transfer_and_revoked_at_the_end() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    assert!(
        root.join("scripts/browser/node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Debian's chromium and scripts/browser's npm packages: scripts/test.sh installs both"
    );
    let t = tempfile::tempdir().unwrap();
    let files = t.path().join("files");
    let want = source(&files.join("mine"), "w", 60);
    let (dav, addr) = resource_server(Fault::EndTokenEarly { after: 20 });
    let config = t.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            r#"
insecure_http = true
allow_private_network = true
files_root = "{files}"

[providers.cloud]
title = "Example Cloud"
connector = "webdav"
address = "webdav://{addr}/web/"
issuer = "{issuer}"
client_id = "ferry-web"
client_secret = "{CLIENT_SECRET}"
extra_authorization_params = {{ prompt = "consent" }}
[providers.cloud.scopes]
read = ["openid", "offline_access"]
write = ["openid", "offline_access"]
"#,
            files = files.display(),
            issuer = issuer(),
        ),
    )
    .unwrap();
    let before = token_requests("ferry-web");
    let serve = Serve::start(&t.path().join("data"), &["--config", config.to_str().unwrap()]);
    let flow = std::process::Command::new("node")
        .arg(root.join("scripts/browser/oauth.mjs"))
        .env("FERRY_URL", &serve.url)
        .env("ARTIFACTS", root.join("target/browser-artifacts"))
        .env("SOURCE_FOLDER", "mine")
        .output()
        .unwrap();
    let (status, log) = serve.stop();
    assert!(flow.status.success(), "the browser found problems:\n{}\n{}", text(&flow), log.join("\n"));
    assert!(status.success());
    assert_eq!(held(&dav, "web"), want, "every file, byte for byte");
    assert!(dav.puts.lock().unwrap().values().all(|n| *n == 1), "each stored once");
    assert!(dav.fault.lock().unwrap().is_none(), "the token was ended mid-transfer");
    assert!(dav.refused.load(Ordering::SeqCst) >= 1, "requests with the ended token were refused");
    let log_text = log.join("\n");
    let after = token_requests("ferry-web");
    let delta = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    assert_eq!(delta("authorization_code"), 1, "one connection: {after:?}");
    assert_eq!(delta("refresh_token"), 1, "one refresh: {after:?}");
    assert!(delta("revocation") >= 1, "the tokens are revoked when the job ends: {after:?}\n{log_text}");
    let last = dav.last_token.lock().unwrap().clone();
    assert!(!RT.block_on(active(&last)), "the last access token is no longer active");
    assert!(log.iter().any(|l| l.contains("tokens were revoked")), "the log says so");
    for l in &log {
        assert!(!l.contains(CLIENT_SECRET) && !l.contains(&last), "a secret in the log: {l}");
    }
}

/// A provider's configuration for `ferry connect` and `ferry serve` (client ferry-web).
fn provider_config(dir: &Path, dav: &str, client_id: &str) -> std::path::PathBuf {
    let path = dir.join("providers.toml");
    std::fs::write(
        &path,
        format!(
            "insecure_http = true\nallow_private_network = true\n\n[providers.cloud]\ntitle = \"Example Cloud\"\n\
             connector = \"webdav\"\naddress = \"webdav://{dav}/web/\"\nissuer = \"{}\"\nclient_id = \"{client_id}\"\n\
             client_secret = \"{CLIENT_SECRET}\"\nextra_authorization_params = {{ prompt = \"consent\" }}\n\
             [providers.cloud.scopes]\nread = [\"openid\", \"offline_access\"]\nwrite = [\"openid\", \"offline_access\"]\n",
            issuer()
        ),
    )
    .unwrap();
    path
}

/// `ferry connect` in a terminal with no browser: it prints the link, a person follows
/// it (here: plain HTTP with cookies), the provider sends the browser back to ferry's
/// loopback listener. The account is listed, used by one transfer (which revokes its
/// tokens at the end), and a second one is removed with its tokens revoked.
#[test]
fn an_account_connected_from_the_command_line_serves_one_transfer_and_is_revoked() {
    use std::io::BufRead;
    let t = tempfile::tempdir().unwrap();
    let want = source(&t.path().join("src"), "c", 30);
    let (dav, addr) = resource_server(Fault::None);
    let config = provider_config(t.path(), &addr, "ferry-cli");
    let data = t.path().join("data");
    let connect = || {
        let mut child = std::process::Command::new(ferry_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(["connect", "cloud", "--for", "destination", "--no-browser", "--allow-private-network", "--config"])
            .arg(&config)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let link = lines.by_ref().map_while(Result::ok).find(|l| l.starts_with("http")).expect("ferry connect prints the link");
        let redirect = reqwest::Url::parse(&link).unwrap().query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
        let back = RT.block_on(browse(&link, &redirect));
        assert!(back.path() == "/oauth/callback", "{back}");
        let answer = RT.block_on(client().get(back.as_str()).send()).unwrap();
        assert_eq!(answer.status(), 200, "ferry's loopback listener takes the answer");
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let before = token_requests("ferry-cli");
    let account = connect();
    let listed = ferry(&data, &["--json", "accounts"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["id"], account.as_str(), "{listed}");
    assert!(!text(&ferry(&data, &["accounts"])).contains(CLIENT_SECRET));

    let src = format!("dir:{}", t.path().join("src").display());
    let o = ferry_with_tokens(&data, &["transfer", "--from", &src, "--to", &format!("webdav://{addr}/cli/"), "--to-account", &account]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(held(&dav, "cli"), want, "every file, byte for byte");
    let listed: serde_json::Value = serde_json::from_slice(&ferry(&data, &["--json", "accounts"]).stdout).unwrap();
    assert_eq!(listed, serde_json::json!([]), "the job took the account");
    let again =
        ferry_with_tokens(&data, &["transfer", "--from", &src, "--to", &format!("webdav://{addr}/cli2/"), "--to-account", &account]);
    assert_eq!(again.status.code(), Some(2), "an account serves one transfer: {}", text(&again));

    let second = connect();
    let removed = ferry(&data, &["accounts", "--allow-private-network", "remove", &second]);
    assert!(removed.status.success(), "{}", text(&removed));
    let after = token_requests("ferry-cli");
    let delta = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    assert_eq!(delta("authorization_code"), 2, "{after:?}");
    assert_eq!(delta("revocation"), 2, "revoked at the job's end and on removal: {after:?}");
    assert_eq!(ferry(&data, &["accounts", "remove", &second]).status.code(), Some(2), "removed once");
}

/// A person at the device authorization page (oidc-provider's own forms): each form
/// found is sent as it stands (its hidden fields and the code filled in), redirects are
/// followed with the cookies set so far, until a page with no form (done).
async fn device_browse(start: &str) -> String {
    let http = client();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut next: (String, Option<Vec<(String, String)>>) = (start.to_owned(), None);
    for _ in 0..20 {
        let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let req = match &next.1 {
            None => http.get(&next.0),
            Some(form) => http.post(&next.0).form(form),
        };
        let resp = req.header(reqwest::header::COOKIE, jar.join("; ")).send().await.unwrap();
        for c in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let here = reqwest::Url::parse(&next.0).unwrap();
        if resp.status().is_redirection() {
            let location = resp.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
            next = (here.join(&location).unwrap().to_string(), None);
            continue;
        }
        assert_eq!(resp.status(), 200, "{}", next.0);
        let page = resp.text().await.unwrap();
        let Some(form) = page.find("<form") else { return page };
        let attr = |tag: &str, name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| tag[i + key.len()..].split('"').next().unwrap().to_owned())
        };
        let form_tag = &page[form..page[form..].find('>').unwrap() + form];
        let action = attr(form_tag, "action").unwrap();
        let fields: Vec<(String, String)> = page[form..]
            .split("<input")
            .skip(1)
            .filter_map(|tag| {
                let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
                Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
            })
            .collect();
        next = (here.join(&action).unwrap().to_string(), Some(fields));
    }
    panic!("the device pages never ended");
}

/// `ferry connect --device` (RFC 8628): it shows the page and the code; a person enters
/// it at the provider (here: its forms sent over HTTP); ferry gets the tokens by polling.
#[test]
fn an_account_connected_with_a_device_code_serves_a_transfer() {
    use std::io::BufRead;
    let t = tempfile::tempdir().unwrap();
    let want = source(&t.path().join("src"), "d", 10);
    let (dav, addr) = resource_server(Fault::None);
    let config = provider_config(t.path(), &addr, "ferry-device");
    let data = t.path().join("data");
    let mut child = std::process::Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["connect", "cloud", "--device", "--for", "destination", "--allow-private-network", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let said: Vec<String> = lines.by_ref().map_while(Result::ok).take(2).collect();
    assert!(said[0].contains("enter the code"), "{said:?}");
    let complete = said[1].strip_prefix("ferry connect: or open ").expect("the page with the code in it");
    let done = RT.block_on(device_browse(complete));
    assert!(!done.contains("<form"), "{done}");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let account = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let src = format!("dir:{}", t.path().join("src").display());
    let o = ferry_with_tokens(&data, &["transfer", "--from", &src, "--to", &format!("webdav://{addr}/dev/"), "--to-account", &account]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(held(&dav, "dev"), want);
}
