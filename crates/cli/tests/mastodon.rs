//! The `mastodon:` connector against a stand-in Mastodon server that follows the API's
//! published contract (scripts/fakes/mastodon/: the same paths, scopes, `Link` paging,
//! rate-limit headers and errors, and a check of every request ferry sends): an account
//! to a package, and the package into an account at a second server.
mod common;

use common::ferry_service as ferry_social;
use common::*;
use std::path::Path;
use std::process::Command;

/// A token file for a token the stand-in was seeded with (Mastodon's tokens do not expire
/// and come with no refresh token).
fn token_file(dir: &Path, stand: &Stand, token: &str, scope: &str) -> String {
    let path = dir.join(format!("{token}.json"));
    let body = serde_json::json!({"access_token": token, "token_type": "Bearer", "scope": scope,
        "token_endpoint": format!("http://127.0.0.1:{}/oauth/token", stand.port), "client_id": "ferry-test"});
    std::fs::write(&path, body.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A Mastodon stand-in that registers apps and approves alice at once (alice follows one
/// account), and a provider configuration for it (for `ferry connect` and `ferry serve`):
/// the server, its origin, the configuration file.
fn registering_server(dir: &Path) -> (Stand, String, std::path::PathBuf) {
    let one = Stand::start("mastodon", dir, &["--domain", "one.example", "--auto-authorize", "alice"]);
    let seed = serde_json::json!({"accounts": [{"username": "alice"}, {"username": "bob", "domain": "other.example", "known": true}],
        "follows": [{"account": "alice", "target": "bob@other.example"}]});
    one.call("POST", "/_fake/seed", &seed.to_string());
    let origin = format!("http://127.0.0.1:{}", one.port);
    let config = dir.join("providers.toml");
    std::fs::write(
        &config,
        format!(
            "insecure_http = true\nallow_private_network = true\n\n[providers.one]\ntitle = \"Mastodon at one.example\"\n\
             connector = \"mastodon\"\naddress = \"mastodon://one.example?api={origin}\"\nissuer = \"{origin}\"\n\
             client_id = \"registered-at-connection\"\napp_registration = \"{origin}/api/v1/apps\"\n\
             [providers.one.scopes]\nread = [\"read\"]\nwrite = [\"write\", \"follow\"]\n"
        ),
    )
    .unwrap();
    (one, origin, config)
}

/// A 1x1 PNG, base64.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

#[test]
fn a_mastodon_account_goes_to_a_package_and_its_follows_and_lists_into_another_server() {
    let dir = tempfile::tempdir().unwrap();
    let one = Stand::start("mastodon", dir.path(), &["--domain", "one.example"]);
    let remote = |u: &str, d: &str| serde_json::json!({"username": u, "domain": d, "known": true});
    let seed = serde_json::json!({
        "accounts": [{"username": "alice"}, {"username": "dave"}, {"username": "loud"},
            remote("bob", "other.example"), remote("carol", "far.example"), remote("mallory", "bad.example")],
        "follows": [{"account": "alice", "target": "bob@other.example", "reblogs": false, "languages": ["de", "en"]},
                    {"account": "alice", "target": "dave"}, {"account": "alice", "target": "carol@far.example", "notify": true},
                    {"account": "dave", "target": "alice"}],
        "blocks": [{"account": "alice", "target": "mallory@bad.example"}],
        "mutes": [{"account": "alice", "target": "loud", "notifications": false}],
        "domain_blocks": [{"account": "alice", "domain": "spam.example"}],
        "lists": [{"account": "alice", "title": "Friends, close", "replies_policy": "list", "members": ["bob@other.example", "dave"]}],
        "media": [{"account": "alice", "key": "m1", "data_base64": PNG, "content_type": "image/png", "description": "a dot"}],
        "statuses": [
            {"account": "bob@other.example", "key": "sb", "text": "from bob", "created_at": "2021-01-01T10:00:00Z",
             "uri": "https://other.example/users/bob/statuses/1", "url": "https://other.example/@bob/1"},
            {"account": "alice", "key": "s1", "text": "hello #world", "created_at": "2021-05-01T10:00:00Z", "media": ["m1"]},
            {"account": "alice", "key": "s2", "text": "a reply", "created_at": "2021-05-01T11:00:00Z", "in_reply_to": "s1", "visibility": "unlisted"},
            {"account": "alice", "key": "s3", "reblog_of": "sb", "created_at": "2021-05-02T10:00:00Z"}],
        "bookmarks": [{"account": "alice", "status": "sb"}],
        "favourites": [{"account": "alice", "status": "sb"}],
        "tokens": [{"token": "alice-token", "account": "alice", "scopes": "read write follow"}]
    });
    one.call("POST", "/_fake/seed", &seed.to_string());
    let alice = token_file(dir.path(), &one, "alice-token", "read write follow");
    let from = format!("mastodon://one.example?api=http://127.0.0.1:{}", one.port);
    let data = dir.path().join("data");
    let pkg = dir.path().join("social.zip");
    let o = ferry_social(
        &data,
        &["transfer", "--only", "social", "--from", &from, "--from-token-file", &alice, "--to", &format!("package:{}", pkg.display())],
    );
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    let social = &r["report"]["verticals"]["social"];
    // 3 posts, 3 followed, 1 follower, 1 block, 1 mute, 1 domain, 1 like, 1 bookmark, 1 list
    assert_eq!(social["transferred"], 13, "{r}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let read = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap_or_else(|_| panic!("no {name}")), &mut s).unwrap();
        s
    };
    let following = read(&mut zip, "social/following_accounts.csv");
    assert!(following.starts_with("Account address,Show boosts,Notify on new posts,Languages\n"), "{following}");
    assert!(following.contains("bob@other.example,false,false,\"de,en\"\n"), "{following}");
    assert!(following.contains("carol@far.example,true,true,\n") && following.contains("dave@one.example,true,false,\n"), "{following}");
    assert_eq!(read(&mut zip, "social/lists.csv").lines().count(), 2);
    assert!(read(&mut zip, "social/lists.csv").contains("\"Friends, close\",bob@other.example"));
    assert_eq!(read(&mut zip, "social/blocked_accounts.csv"), "mallory@bad.example\n");
    assert_eq!(read(&mut zip, "social/muted_accounts.csv"), "Account address,Hide notifications\nloud@one.example,false\n");
    assert_eq!(read(&mut zip, "social/blocked_domains.csv"), "spam.example\n");
    assert_eq!(read(&mut zip, "social/bookmarks.csv"), "https://other.example/users/bob/statuses/1\n");
    let records = read(&mut zip, "social/social.jsonl");
    let posts: Vec<serde_json::Value> =
        records.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).filter(|r| r["container"] == "outbox").collect();
    assert_eq!(posts.len(), 3, "{records}");
    let with_media = posts.iter().find(|p| p.to_string().contains("hello")).expect("the post with media");
    let attached = &with_media["attached"];
    assert_eq!(attached.as_array().map(Vec::len), Some(1), "{with_media}");
    let media = attached[0]["content"]["path"].as_str().unwrap().to_owned();
    let bytes = {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name(&media).unwrap(), &mut b).unwrap();
        b
    };
    assert!(bytes.starts_with(b"\x89PNG"), "the media's bytes are in the package");
    let reply = posts.iter().find(|p| p.to_string().contains("a reply")).unwrap();
    assert!(reply.to_string().contains("\"inReplyTo\":\"") && reply.to_string().contains("unlisted"), "{reply}");
    assert!(posts.iter().any(|p| p["record"]["kind"] == "repost"), "{posts:?}");
    one.assert_no_violations();

    // into an account at a second server: relations made, posts and followers reported
    let two = Stand::start("mastodon", dir.path(), &["--domain", "two.example"]);
    let seed = serde_json::json!({
        "accounts": [{"username": "erin"}, remote("bob", "other.example"), remote("carol", "far.example"),
            remote("dave", "one.example"), remote("loud", "one.example"), {"username": "mallory", "domain": "bad.example", "known": false}],
        "statuses": [{"account": "bob@other.example", "key": "sb", "text": "from bob", "created_at": "2021-01-01T10:00:00Z",
             "uri": "https://other.example/users/bob/statuses/1", "url": "https://other.example/@bob/1"}],
        "tokens": [{"token": "erin-token", "account": "erin", "scopes": "read write follow"}]
    });
    two.call("POST", "/_fake/seed", &seed.to_string());
    let erin = token_file(dir.path(), &two, "erin-token", "read write follow");
    let to = format!("mastodon://two.example?api=http://127.0.0.1:{}", two.port);
    let back = ["transfer", "--only", "social", "--from", &format!("package:{}", pkg.display()), "--to", &to, "--to-token-file", &erin];
    let o = ferry_social(&data, &back);
    let r = report(&o);
    let social = &r["report"]["verticals"]["social"];
    assert_eq!((social["transferred"].as_u64(), social["failed"].as_u64()), (Some(9), Some(4)), "{}", text(&o));
    let failures = social["failures"].to_string();
    assert!(failures.contains("not importable through the API") && failures.contains("12423"), "{failures}");
    assert!(failures.contains("a follower follows by itself"), "{failures}");
    // what the second server holds now, for erin
    let state = two.call("GET", "/_fake/state", "")["tables"].clone();
    let name = |id: &serde_json::Value| {
        let a = state["accounts"].as_object().unwrap().values().find(|a| a["id"] == *id).unwrap_or_else(|| panic!("no account {id}"));
        match a["domain"].as_str() {
            Some(d) => format!("{}@{d}", a["username"].as_str().unwrap()),
            None => a["username"].as_str().unwrap().to_owned(),
        }
    };
    let rows = |table: &str| state[table].as_object().unwrap().values().cloned().collect::<Vec<_>>();
    let follows: std::collections::BTreeMap<String, serde_json::Value> =
        rows("follows").into_iter().filter(|f| name(&f["account_id"]) == "erin").map(|f| (name(&f["target_id"]), f)).collect();
    assert_eq!(follows.keys().cloned().collect::<Vec<_>>(), ["bob@other.example", "carol@far.example", "dave@one.example"], "{follows:?}");
    assert_eq!(follows["bob@other.example"]["show_reblogs"], false);
    assert_eq!(follows["bob@other.example"]["languages"], serde_json::json!(["de", "en"]));
    assert_eq!(follows["carol@far.example"]["notify"], true);
    let blocks: Vec<String> = rows("blocks").iter().map(|b| name(&b["target_id"])).collect();
    assert_eq!(blocks, ["mallory@bad.example"], "found by a search that resolves it, then blocked");
    let mutes = rows("mutes");
    assert_eq!(
        (mutes.len(), name(&mutes[0]["target_id"]), mutes[0]["hide_notifications"].clone()),
        (1, "loud@one.example".into(), serde_json::json!(false))
    );
    assert_eq!(rows("domain_blocks")[0]["domain"], "spam.example");
    let lists = rows("lists");
    assert_eq!((lists.len(), lists[0]["title"].as_str(), lists[0]["replies_policy"].as_str()), (1, Some("Friends, close"), Some("list")));
    let mut members: Vec<String> = rows("list_accounts").iter().map(|m| name(&m["account_id"])).collect();
    members.sort();
    assert_eq!(members, ["bob@other.example", "dave@one.example"]);
    assert_eq!((rows("favourites").len(), rows("bookmarks").len()), (1, 1), "bob's post liked and bookmarked, found by its URI");
    // a rerun changes nothing
    let r = report(&ferry_social(&data, &back));
    let social = &r["report"]["verticals"]["social"];
    assert_eq!((social["transferred"].as_u64(), social["already_present"].as_u64()), (Some(0), Some(9)), "{r}");
    two.assert_no_violations();
}

/// `ferry connect` with a Mastodon server: ferry registers itself as an app there (for its
/// loopback redirect), the person approves (the stand-in approves at once), the code is
/// exchanged with PKCE, and the account serves a transfer.
#[test]
fn an_account_connected_through_an_app_registered_at_its_server_serves_a_transfer() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let (one, origin, config) = registering_server(dir.path());
    let data = dir.path().join("data");
    let mut child = Command::new(ferry_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["connect", "one", "--for", "source", "--no-browser", "--allow-private-network", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let link = lines.by_ref().map_while(Result::ok).find(|l| l.starts_with("http")).expect("ferry connect prints the link");
    let url = reqwest::Url::parse(&link).unwrap();
    let q: std::collections::BTreeMap<String, String> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"), "PKCE: {link}");
    assert_eq!(q.get("scope").map(String::as_str), Some("read"), "no wider than a source needs: {link}");
    assert!(q["client_id"] != "registered-at-connection", "the client registered for this connection: {link}");
    // the person approves; the server sends the browser back to ferry's loopback listener
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let answer = rt.block_on(async { reqwest::Client::new().get(link.as_str()).send().await.unwrap() });
    assert_eq!(answer.status(), 200, "ferry's loopback listener took the code");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let account = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let pkg = dir.path().join("p.zip");
    let o = ferry_social(
        &data,
        &[
            "transfer",
            "--only",
            "social",
            "--from",
            &format!("mastodon://one.example?api={origin}"),
            "--from-account",
            &account,
            "--to",
            &format!("package:{}", pkg.display()),
        ],
    );
    let r = report(&o);
    assert_eq!(r["report"]["state"], "completed", "{}", text(&o));
    assert_eq!(r["report"]["verticals"]["social"]["transferred"], 1, "{r}");
    one.assert_no_violations();
}

/// The web app's connection flow at a server that registers each client: `ferry serve`
/// registers an app for the connection, sends the browser to the server with that app's
/// client id, and trades the code with that app's secret (that the account then serves a
/// job, the command line's test shows).
#[test]
fn an_account_connected_in_the_web_app_registers_its_own_app_at_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (one, _, config) = registering_server(dir.path());
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--config", config.to_str().unwrap()]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();
    let (authorize, back, home) = rt.block_on(async {
        let start = client.get(format!("{}/connect/one?role=source", serve.url)).send().await.unwrap();
        assert_eq!(start.status(), 303, "off to the server: {:?}", start.headers());
        let cookie = start.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let authorize = location(&start);
        let answer = client.get(&authorize).send().await.unwrap();
        let back = location(&answer);
        let home = client.get(&back).header("cookie", &cookie).send().await.unwrap();
        let text = format!("{} {:?}", home.status(), home.headers());
        (authorize, back, (location(&home), text))
    });
    let url = reqwest::Url::parse(&authorize).unwrap();
    let q: std::collections::BTreeMap<String, String> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert!(q["client_id"] != "registered-at-connection", "the client registered for this connection: {authorize}");
    assert_eq!(q.get("scope").map(String::as_str), Some("read"), "no wider than a source needs: {authorize}");
    assert!(q["redirect_uri"].ends_with("/oauth/callback"), "{authorize}");
    assert!(back.starts_with(&serve.url) && back.contains("code="), "the server sent the browser back: {back}");
    let account = home.0.split("source_account=").nth(1).unwrap_or_else(|| panic!("connected: {}", home.1)).to_owned();
    let serve_url = serve.url.clone();
    let (status, log) = serve.stop();
    assert!(status.success(), "{}", log.join("\n"));
    assert!(!account.is_empty(), "{}", home.1);
    // the server knows the app ferry registered for this connection, and gave its token to it
    let state = one.call("GET", "/_fake/state", "");
    let apps: Vec<&serde_json::Value> = state["tables"]["apps"].as_object().unwrap().values().collect();
    let app = apps.iter().find(|a| a["client_id"] == q["client_id"].as_str()).unwrap_or_else(|| panic!("{apps:?}"));
    assert!(app["redirect_uris"].to_string().contains(&format!("{}/oauth/callback", serve_url)), "{app}");
    let tokens: Vec<&serde_json::Value> =
        state["tables"]["tokens"].as_object().unwrap().values().filter(|t| t["app_id"] == app["id"]).collect();
    assert_eq!(tokens.len(), 1, "the code was traded with the registered app's secret: {tokens:?}");
    assert!(!tokens[0]["scopes"].to_string().contains("write"), "read only, for a source: {tokens:?}");
    one.assert_no_violations();
}
