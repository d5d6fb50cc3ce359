//! Google's resumable uploads (https://developers.google.com/drive/api/guides/manage-uploads#resumable;
//! Gmail's `messages.import` takes the same protocol). The initiating request opens a
//! session; the content goes in chunks of a multiple of 256 KiB, each answered with
//! `308 Resume Incomplete` and the range the server holds, the last with the resource.
//! After a lost connection or a server error the session is asked what it holds
//! (`Content-Range: bytes */TOTAL`) and the upload goes on from there; a session the
//! server no longer knows (404) starts the upload over. One chunk is in memory at a time.

use super::api;
use crate::http::Http;
use bytes::Bytes;
use ferry_core::{ConnectorError, Content};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Chunks are multiples of this ("chunks must be multiples of 256 KiB").
pub const QUANTUM: usize = 256 * 1024;

/// Bytes a chunk: `FERRY_GOOGLE_UPLOAD_CHUNK` rounded down to a multiple of 256 KiB
/// (256 KiB to 64 MiB), else 8 MiB.
pub fn chunk_size() -> usize {
    std::env::var("FERRY_GOOGLE_UPLOAD_CHUNK")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(32 * QUANTUM, |n| (n / QUANTUM).clamp(1, 256) * QUANTUM)
}

/// Sessions started over (after 404s, or a server that lost what it held) before giving up.
const MAX_RESTARTS: u32 = 3;
/// Failed sends (or rounds that stored nothing) in a row before giving up.
const MAX_TRIES: u32 = 6;

/// One upload: the request that opens its session, and the content.
pub struct Upload<'a> {
    pub http: &'a Http,
    pub what: &'a str,
    /// The initiating request (metadata and `X-Upload-*` headers), built again for a new
    /// session.
    pub start: &'a (dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    pub content: &'a Content,
    pub chunk: usize,
}

/// What a `PUT` to the session came to.
enum Answer {
    Done(Value),
    /// 308: the server holds this many bytes.
    Holds(u64),
    /// 404: the session is gone.
    Gone,
    Failed(ConnectorError),
}

/// Why a session ended without the resource.
enum Stop {
    /// Start a new session.
    Again(String),
    Fail(ConnectorError),
}

/// The bytes from `start` that are read but not yet held by the server.
#[derive(Default)]
struct Window {
    start: u64,
    data: Vec<u8>,
    eof: bool,
}

impl Window {
    async fn fill(&mut self, r: &mut (dyn AsyncRead + Send + Unpin), chunk: usize) -> std::io::Result<()> {
        while !self.eof && self.data.len() < chunk {
            let had = self.data.len();
            self.data.resize(chunk, 0);
            let n = r.read(&mut self.data[had..]).await;
            self.data.truncate(had + *n.as_ref().unwrap_or(&0));
            if n? == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

impl Upload<'_> {
    /// Uploads the content; the resource the last answer holds.
    pub async fn run(&self) -> Result<Value, ConnectorError> {
        let mut restarts = 0;
        loop {
            match self.session().await {
                Ok(v) => return Ok(v),
                Err(Stop::Fail(e)) => return Err(e),
                Err(Stop::Again(why)) if restarts < MAX_RESTARTS => {
                    restarts += 1;
                    tracing::info!(what = self.what, "{why}: the upload starts over");
                }
                Err(Stop::Again(why)) => {
                    return Err(ConnectorError::transient(format!("{}: {why} (started over {MAX_RESTARTS} times)", self.what)));
                }
            }
        }
    }

    /// Opens a session: its address, from `Location` (on the API's own origin only: the
    /// content goes there).
    async fn open(&self) -> Result<String, ConnectorError> {
        let resp = api::send_ok(self.http, self.what, self.start).await.map_err(|(e, _)| e)?;
        let base = resp.url().clone();
        let loc = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ConnectorError::Fatal(format!("{}: Google opened no upload session (no Location)", self.what)))?;
        let url = base.join(loc).map_err(|e| ConnectorError::Fatal(format!("{}: the upload session `{loc}`: {e}", self.what)))?;
        if url.origin() != base.origin() {
            return Err(ConnectorError::Fatal(format!(
                "{}: the upload session is at {}, not at the API's origin; refused",
                self.what,
                url.origin().ascii_serialization()
            )));
        }
        Ok(url.to_string())
    }

    async fn session(&self) -> Result<Value, Stop> {
        let url = self.open().await.map_err(Stop::Fail)?;
        let read_err = |e: std::io::Error| Stop::Fail(ConnectorError::from_io(&format!("{}: reading the content", self.what), e));
        let mut reader = self.content.open_verified().await.map_err(read_err)?;
        let mut w = Window::default();
        let mut idle = 0;
        loop {
            w.fill(&mut reader, self.chunk).await.map_err(read_err)?;
            let total = if w.eof { Some(w.end()) } else { self.content.size };
            let range = match total {
                Some(t) if w.data.is_empty() => format!("bytes */{t}"),
                t => format!("bytes {}-{}/{}", w.start, w.end().saturating_sub(1), t.map_or("*".to_owned(), |t| t.to_string())),
            };
            let mut answer = self.put(&url, &range, Bytes::copy_from_slice(&w.data)).await;
            let mut tries = 0;
            let held = loop {
                match answer {
                    Answer::Done(v) => return Ok(v),
                    Answer::Gone => return Err(Stop::Again("the upload session expired".into())),
                    Answer::Holds(n) => break n,
                    Answer::Failed(e) if e.is_transient() && tries < MAX_TRIES => {
                        tries += 1;
                        let wait = e
                            .throttled_until()
                            .map(|t| t.saturating_duration_since(std::time::Instant::now()))
                            .unwrap_or(Duration::from_millis(250 << tries.min(7)))
                            .min(Duration::from_secs(60));
                        tracing::info!(what = self.what, error = %e, "an upload chunk failed; asking what the server holds");
                        tokio::time::sleep(wait).await;
                        let status = match total {
                            Some(t) => format!("bytes */{t}"),
                            None => "bytes */*".to_owned(),
                        };
                        answer = self.put(&url, &status, Bytes::new()).await;
                    }
                    Answer::Failed(e) => return Err(Stop::Fail(e)),
                }
            };
            if held < w.start {
                return Err(Stop::Again(format!("the server holds {held} bytes, less than the {} it held before", w.start)));
            }
            if held > w.end() {
                return Err(Stop::Fail(ConnectorError::Fatal(format!(
                    "{}: the server says it holds {held} bytes, more than the {} sent",
                    self.what,
                    w.end()
                ))));
            }
            idle = if held == w.start { idle + 1 } else { 0 };
            if idle > MAX_TRIES {
                return Err(Stop::Fail(ConnectorError::transient(format!("{}: the server keeps none of what is sent", self.what))));
            }
            w.data.drain(..(held - w.start) as usize);
            w.start = held;
        }
    }

    /// One `PUT` to the session.
    async fn put(&self, url: &str, range: &str, body: Bytes) -> Answer {
        let sent = self
            .http
            .send(self.what, &|| self.http.request("PUT", url).header(reqwest::header::CONTENT_RANGE, range).body(body.clone()))
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return Answer::Failed(e),
        };
        match resp.status().as_u16() {
            200 | 201 => match api::read_json(self.what, resp).await {
                Ok(v) => Answer::Done(v),
                Err(e) => Answer::Failed(e),
            },
            308 => match held(&resp) {
                Some(n) => Answer::Holds(n),
                None => Answer::Failed(ConnectorError::Fatal(format!(
                    "{}: the upload session's Range `{:?}` cannot be read",
                    self.what,
                    resp.headers().get(reqwest::header::RANGE)
                ))),
            },
            404 => Answer::Gone,
            _ => Answer::Failed(api::error(self.what, resp).await.0),
        }
    }
}

/// The bytes a 308 says the server holds (`Range: bytes=0-N`; none without `Range`).
fn held(resp: &reqwest::Response) -> Option<u64> {
    let Some(v) = resp.headers().get(reqwest::header::RANGE) else { return Some(0) };
    let last: u64 = v.to_str().ok()?.trim().strip_prefix("bytes=0-")?.parse().ok()?;
    last.checked_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Answer as Reply, serve};
    use std::sync::{Arc, Mutex};

    /// A session server: what it holds, and the faults it plays, by request number.
    #[derive(Default)]
    struct Server {
        data: Vec<u8>,
        total: Option<usize>,
        sessions: u32,
        puts: u32,
        /// PUT numbers (from 1) that lose the connection after storing the chunk.
        drop_after_store: Vec<u32>,
        /// PUT numbers answered 503 without storing.
        fail: Vec<u32>,
        /// PUT numbers answered 404 (the session expired).
        expire: Vec<u32>,
        ranges: Vec<String>,
    }

    async fn server(s: Arc<Mutex<Server>>) -> String {
        serve(move |r| {
            let s = s.clone();
            async move {
                let mut s = s.lock().unwrap();
                if r.method == "POST" {
                    s.sessions += 1;
                    s.data.clear();
                    s.total = r.header("x-upload-content-length").and_then(|v| v.parse().ok());
                    return Reply::new(200, "").with("Location", &format!("/upload?upload_id={}", s.sessions));
                }
                s.puts += 1;
                let n = s.puts;
                let range = r.header("content-range").unwrap_or_default().to_owned();
                s.ranges.push(range.clone());
                if s.expire.contains(&n) {
                    return Reply::new(404, "");
                }
                if s.fail.contains(&n) {
                    return Reply::new(503, "");
                }
                let (span, total) = range.strip_prefix("bytes ").unwrap().split_once('/').unwrap();
                if total != "*" {
                    s.total = Some(total.parse().unwrap());
                }
                if span != "*" {
                    let (a, b) = span.split_once('-').unwrap();
                    let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
                    assert!(a <= s.data.len(), "no gap: {range} after {}", s.data.len());
                    assert_eq!(r.body.len(), b - a + 1, "{range}");
                    let last = s.total == Some(b + 1);
                    assert!(last || r.body.len() % QUANTUM == 0, "a chunk not of whole quanta: {range}");
                    let keep = s.data.len() - a;
                    s.data.extend_from_slice(&r.body[keep..]);
                } else {
                    assert!(r.body.is_empty());
                }
                if s.drop_after_store.contains(&n) {
                    return Reply::new(0, "");
                }
                if Some(s.data.len()) == s.total {
                    return Reply::new(200, r#"{"id": "done"}"#);
                }
                match s.data.len() {
                    0 => Reply::new(308, ""),
                    n => Reply::new(308, "").with("Range", &format!("bytes=0-{}", n - 1)),
                }
            }
        })
        .await
    }

    async fn upload(url: &str, content: &Content) -> Result<Value, ConnectorError> {
        let settings = crate::Settings { allow_private_network: true, insecure: true, ..Default::default() };
        let http = Http::new(&settings, "").unwrap();
        let start_url = format!("{url}/upload/start");
        let size = content.size;
        let start = || {
            let mut r = http.request("POST", &start_url);
            if let Some(n) = size {
                r = r.header("X-Upload-Content-Length", n);
            }
            r
        };
        Upload { http: &http, what: "uploading", start: &start, content, chunk: QUANTUM }.run().await
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test]
    async fn chunks_of_whole_quanta_and_a_last_one_make_the_file() {
        for (n, known) in [(QUANTUM * 3 + 5, true), (QUANTUM * 2, false), (QUANTUM * 2, true), (10, false), (0, true)] {
            let s = Arc::new(Mutex::new(Server::default()));
            let url = server(s.clone()).await;
            let data = bytes(n);
            let mut content = Content::from_bytes("application/octet-stream", data.clone().into());
            if !known {
                content.size = None;
                content.sha256 = None;
            }
            let v = upload(&url, &content).await.unwrap();
            assert_eq!(v["id"], "done");
            let s = s.lock().unwrap();
            assert_eq!(s.data, data, "{n} bytes, size known: {known}");
            assert_eq!(s.sessions, 1);
            assert_eq!(s.puts as usize, n.div_ceil(QUANTUM).max(1) + usize::from(!known && n % QUANTUM == 0), "{:?}", s.ranges);
        }
    }

    #[tokio::test]
    async fn a_lost_connection_or_a_server_error_resumes_where_the_server_is() {
        let s = Arc::new(Mutex::new(Server { drop_after_store: vec![2], fail: vec![4], ..Default::default() }));
        let url = server(s.clone()).await;
        let data = bytes(QUANTUM * 4 + 100);
        let v = upload(&url, &Content::from_bytes("application/octet-stream", data.clone().into())).await.unwrap();
        assert_eq!(v["id"], "done");
        let s = s.lock().unwrap();
        assert_eq!(s.data, data);
        assert_eq!(s.sessions, 1, "the same session all along: {:?}", s.ranges);
        // the second chunk's answer was lost: the status query says it is held, and the
        // third goes next; the fourth PUT (the third chunk) failed and is asked about again
        let total = data.len();
        assert_eq!(s.ranges[2], format!("bytes */{total}"), "{:?}", s.ranges);
        assert_eq!(s.ranges[3], format!("bytes {}-{}/{total}", 2 * QUANTUM, 3 * QUANTUM - 1));
        assert_eq!(s.ranges[4], format!("bytes */{total}"));
        assert_eq!(s.ranges[5], format!("bytes {}-{}/{total}", 2 * QUANTUM, 3 * QUANTUM - 1));
    }

    #[tokio::test]
    async fn an_expired_session_starts_the_upload_over_and_gives_up_in_the_end() {
        let s = Arc::new(Mutex::new(Server { expire: vec![2], ..Default::default() }));
        let url = server(s.clone()).await;
        let data = bytes(QUANTUM * 2 + 1);
        let content = Content::from_bytes("application/octet-stream", data.clone().into());
        upload(&url, &content).await.unwrap();
        {
            let s = s.lock().unwrap();
            assert_eq!((s.sessions, s.data.clone()), (2, data), "a new session from the first byte: {:?}", s.ranges);
        }
        let s = Arc::new(Mutex::new(Server { expire: (1..100).collect(), ..Default::default() }));
        let url = server(s.clone()).await;
        let e = upload(&url, &content).await.unwrap_err();
        assert!(e.is_transient() && e.to_string().contains("started over"), "{e}");
    }
}
