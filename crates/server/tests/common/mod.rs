//! A server on 127.0.0.1 for the tests, in this process, over a SQLite store in a
//! temporary data directory, and a person's session to call it with.

#![allow(dead_code)]

use ferry_server::{ServeConfig, Server};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub struct Running {
    pub url: String,
    pub data: tempfile::TempDir,
    pub stop: ferry_app::CancellationToken,
    pub state: ferry_server::state::AppState,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn start(cfg: ServeConfig) -> Running {
        ferry_connectors::net::ensure_crypto_provider();
        let data = tempfile::tempdir().unwrap();
        let service = ferry_app::JobService::open("", data.path()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cfg = ServeConfig { listen: addr, ..cfg };
        let server = Server::new(service, cfg, data.path()).unwrap();
        let (stop, state) = (server.stopper(), server.state.clone());
        let task = tokio::spawn(async move { server.serve(listener).await.unwrap() });
        Running { url: format!("http://{addr}"), data, stop, state, task: Some(task) }
    }

    pub async fn default() -> Running {
        Self::start(ServeConfig { workers: 1, ..Default::default() }).await
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }

    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// A new person: their cookie and CSRF token.
    pub async fn person(&self) -> Person {
        let res = self.client().post(format!("{}/api/session", self.url)).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict"), "{cookie}");
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        Person { cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned() }
    }
}

#[derive(Clone)]
pub struct Person {
    pub cookie: String,
    pub csrf: String,
}

impl Person {
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("cookie", self.cookie.parse().unwrap());
        h.insert("x-csrf-token", self.csrf.parse().unwrap());
        h
    }
}

/// Creates a job for `who` from the example account to a package; `start` queues it.
pub async fn create(s: &Running, who: &Person, start: bool) -> Value {
    let body = json!({"source": {"connector": "example"}, "destination": {"connector": "package"}, "start": start});
    let res = s.client().post(format!("{}/api/jobs", s.url)).headers(who.headers()).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}
