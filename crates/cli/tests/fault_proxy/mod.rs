//! A fault-injecting TCP proxy for the server-fault tests: it listens on 127.0.0.1:0 in
//! front of a real server and passes bytes through unchanged (TLS too: the test
//! certificate is for 127.0.0.1, whatever the port), except where its plan says to
//!
//! - cut a connection after a number of bytes in one direction (mid-download or
//!   mid-upload),
//! - cut a connection once the client has sent a marker (a request line), before the
//!   server's answer reaches the client: the server did the work, the client never hears,
//! - close a connection that has been quiet for a while (as servers, NATs and load
//!   balancers close idle connections),
//! - delay every forwarded chunk (a slow server or network),
//! - answer a new connection `503 Service Unavailable` (`Retry-After: 1`,
//!   `Connection: close`) instead of forwarding it (plain HTTP upstreams only),
//! - rewrite bytes the client sends (same length), so that the server sees a request
//!   it does not support (plain protocols only).
//!
//! Connections are numbered from 1 in the order they are accepted. Every fault is bounded
//! by a maximum, and counted when it actually fires, so that a test can assert that its
//! faults happened: a fault that never fired proves nothing.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server (an upload, a request).
    Up,
    /// Server to client (a download, an answer).
    Down,
}

/// How a connection is cut.
#[derive(Debug, Clone, Copy)]
pub enum Cut {
    /// After this many bytes have gone through in this direction.
    After(Dir, u64),
    /// Once the client has sent this many bytes (all of them forwarded), at the server's
    /// next answer, before any of it is forwarded: the server did the work (stored the
    /// upload), the client never hears so.
    AnswerLostAfterUp(u64),
}

type ConnRule<T> = Arc<dyn Fn(usize) -> Option<T> + Send + Sync>;

/// What the proxy does to which connection.
#[derive(Clone)]
pub struct Plan {
    /// For connection n (from 1): where to cut it, if at all.
    pub cut: ConnRule<Cut>,
    /// Cuts (of either kind) that may fire in all.
    pub max_cuts: usize,
    /// Once the client has sent one of these markers on a connection (at most the
    /// number given, per marker), the connection is cut before any of the server's
    /// answer is forwarded (plain protocols only).
    pub markers: Vec<(Vec<u8>, usize)>,
    /// Each forwarded chunk waits this long first: (min, max) milliseconds, varied
    /// deterministically per chunk.
    pub delay_ms: Option<(u64, u64)>,
    /// For connection n: answer it 503 instead of forwarding (plain HTTP only).
    pub unavailable: Arc<dyn Fn(usize) -> bool + Send + Sync>,
    /// 503 answers in all.
    pub max_unavailable: usize,
    /// A connection that has carried at least 4 KB and then been quiet this long in both
    /// directions is closed (as servers, NATs and load balancers close idle
    /// connections), at most this many times.
    pub idle_cut: Option<(Duration, usize)>,
    /// Byte strings replaced in what the client sends, each by one of the same length
    /// (so that Content-Length holds): a real server then sees, say, a request it does
    /// not support. Only matches within one chunk.
    pub rewrite: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            cut: Arc::new(|_| None),
            max_cuts: 0,
            markers: Vec::new(),
            delay_ms: None,
            unavailable: Arc::new(|_| false),
            max_unavailable: 0,
            idle_cut: None,
            rewrite: Vec::new(),
        }
    }
}

impl Plan {
    /// Cuts the connections `cut` picks, at most `max` times.
    pub fn cutting(cut: impl Fn(usize) -> Option<Cut> + Send + Sync + 'static, max: usize) -> Plan {
        Plan { cut: Arc::new(cut), max_cuts: max, ..Plan::default() }
    }
}

/// What the proxy did (each counter counts faults that fired, not faults planned).
#[derive(Default, Debug)]
pub struct Stats {
    pub connections: AtomicUsize,
    pub cuts_up: AtomicUsize,
    pub cuts_down: AtomicUsize,
    /// Answers held back after a marker or an upload (the connection cut instead).
    pub lost_answers: AtomicUsize,
    pub unavailable: AtomicUsize,
    pub idle_cuts: AtomicUsize,
    pub delayed_chunks: AtomicUsize,
    /// Replacements made in what clients sent.
    pub rewrites: AtomicUsize,
    pub bytes_up: AtomicU64,
    pub bytes_down: AtomicU64,
    /// Budgets taken (a cut is taken when it fires, a marker cut when it is armed).
    cut_budget: AtomicUsize,
    marker_budget: std::sync::Mutex<Vec<usize>>,
    idle_budget: AtomicUsize,
}

impl Stats {
    pub fn cuts(&self) -> usize {
        self.cuts_up.load(Ordering::SeqCst)
            + self.cuts_down.load(Ordering::SeqCst)
            + self.lost_answers.load(Ordering::SeqCst)
            + self.idle_cuts.load(Ordering::SeqCst)
    }
    pub fn summary(&self) -> String {
        format!(
            "connections {}, cuts up {}, cuts down {}, lost answers {}, idle cuts {}, 503s {}, delayed \
                chunks {}, rewrites {}, bytes up {}, bytes down {}",
            self.connections.load(Ordering::SeqCst),
            self.cuts_up.load(Ordering::SeqCst),
            self.cuts_down.load(Ordering::SeqCst),
            self.lost_answers.load(Ordering::SeqCst),
            self.idle_cuts.load(Ordering::SeqCst),
            self.unavailable.load(Ordering::SeqCst),
            self.delayed_chunks.load(Ordering::SeqCst),
            self.rewrites.load(Ordering::SeqCst),
            self.bytes_up.load(Ordering::SeqCst),
            self.bytes_down.load(Ordering::SeqCst),
        )
    }
}

pub struct Proxy {
    /// `127.0.0.1:PORT`, to put in a URI instead of the server's address.
    pub addr: String,
    pub stats: Arc<Stats>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Takes one unit of a bounded budget; false when it is spent.
fn take(counter: &AtomicUsize, max: usize) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1)).is_ok()
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`host:port`), on its own runtime.
    pub fn start(upstream: &str, plan: Plan) -> Proxy {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("proxy runtime");
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("proxy listens");
        let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let stats = Arc::new(Stats::default());
        let (upstream, st, plan) = (upstream.to_owned(), stats.clone(), Arc::new(plan));
        rt.spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                let n = st.connections.fetch_add(1, Ordering::SeqCst) + 1;
                let (upstream, st, plan) = (upstream.clone(), st.clone(), plan.clone());
                tokio::spawn(async move {
                    let _ = client.set_nodelay(true);
                    if (plan.unavailable)(n) && take(&st.unavailable, plan.max_unavailable) {
                        unavailable(client).await;
                        return;
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else { return };
                    let _ = server.set_nodelay(true);
                    serve(n, client, server, &plan, &st).await;
                });
            }
        });
        Proxy { addr, stats, rt: Some(rt) }
    }
}

/// Reads one HTTP request (head and Content-Length body) and answers 503.
async fn unavailable(mut client: TcpStream) {
    let mut req = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tokio::time::timeout(Duration::from_secs(10), client.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => req.extend_from_slice(&buf[..n]),
            _ => return,
        }
        if req.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_ascii_lowercase();
    let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse().ok())).unwrap_or(0);
    // read the body too, so that closing does not reset the connection under the answer
    let mut have = req.len() - head_end;
    while have < len {
        match tokio::time::timeout(Duration::from_secs(10), client.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => have += n,
            _ => break,
        }
    }
    let body = "the server is busy; try again\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: \
            {}\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.shutdown().await;
    // let the client read the answer before the socket goes
    let _ = tokio::time::timeout(Duration::from_secs(2), async { while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {} }).await;
}

async fn serve(n: usize, client: TcpStream, server: TcpStream, plan: &Plan, st: &Arc<Stats>) {
    let cut = (plan.cut)(n);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    // set once the client's request (a marker, or enough bytes) reached the server: the
    // server's next bytes are not forwarded, the connection is cut instead
    let armed = Arc::new(AtomicBool::new(false));
    let (cut_tx, mut cut_rx) = tokio::sync::mpsc::channel::<()>(2);
    // milliseconds since `start` of the last byte either way, and bytes down so far
    let start = tokio::time::Instant::now();
    let activity = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let up = pump(n, Dir::Up, cr, sw, cut, plan, st, armed.clone(), cut_tx.clone(), (start, activity.clone()));
    let down = pump(n, Dir::Down, sr, cw, cut, plan, st, armed, cut_tx.clone(), (start, activity.clone()));
    let idle = async {
        let Some((quiet, max)) = plan.idle_cut else { return std::future::pending().await };
        loop {
            tokio::time::sleep(quiet / 4).await;
            let last = Duration::from_millis(activity.0.load(Ordering::SeqCst));
            if activity.1.load(Ordering::SeqCst) >= 4096 && start.elapsed().saturating_sub(last) >= quiet {
                if take(&st.idle_budget, max) {
                    st.idle_cuts.fetch_add(1, Ordering::SeqCst);
                    let _ = cut_tx.send(()).await;
                }
                return std::future::pending().await;
            }
        }
    };
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = idle => {}
        Some(()) = cut_rx.recv() => {
            // a fault: both sockets are dropped (closed) with the pumps
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    n: usize,
    dir: Dir,
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut cut: Option<Cut>,
    plan: &Plan,
    st: &Arc<Stats>,
    armed: Arc<AtomicBool>,
    cut_tx: tokio::sync::mpsc::Sender<()>,
    (start, activity): (tokio::time::Instant, Arc<(AtomicU64, AtomicU64)>),
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut sent: u64 = 0;
    let mut chunk_no: u64 = 0;
    let longest = plan.markers.iter().map(|m| m.0.len()).max().unwrap_or(0);
    // the end of the previous chunk, for a marker split across chunks
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let got = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(k) => k,
        };
        if dir == Dir::Up {
            for (from, to) in &plan.rewrite {
                assert_eq!(from.len(), to.len(), "a rewrite keeps the length");
                let mut i = 0;
                while let Some(at) = buf[i..got].windows(from.len()).position(|w| w == from.as_slice()) {
                    buf[i + at..i + at + from.len()].copy_from_slice(to);
                    st.rewrites.fetch_add(1, Ordering::SeqCst);
                    i += at + from.len();
                }
            }
        }
        let mut chunk = &buf[..got];
        if dir == Dir::Down && armed.load(Ordering::SeqCst) {
            // the client's request reached the server; the answer never reaches the client
            st.lost_answers.fetch_add(1, Ordering::SeqCst);
            let _ = cut_tx.send(()).await;
            return;
        }
        let mut cutting = false;
        if dir == Dir::Up && longest > 0 && !armed.load(Ordering::SeqCst) {
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(chunk);
            for (i, (marker, max)) in plan.markers.iter().enumerate() {
                if window.windows(marker.len()).any(|w| w == marker.as_slice()) {
                    let mut budgets = st.marker_budget.lock().unwrap();
                    budgets.resize(plan.markers.len(), 0);
                    if budgets[i] < *max {
                        budgets[i] += 1;
                        armed.store(true, Ordering::SeqCst);
                    }
                }
            }
            let keep = window.len().min(longest - 1);
            tail = window[window.len() - keep..].to_vec();
        }
        match cut {
            Some(Cut::After(d, limit)) if d == dir && sent + chunk.len() as u64 >= limit => {
                if take(&st.cut_budget, plan.max_cuts) {
                    let counter = if dir == Dir::Up { &st.cuts_up } else { &st.cuts_down };
                    counter.fetch_add(1, Ordering::SeqCst);
                    chunk = &chunk[..(limit - sent) as usize];
                    cutting = true;
                } else {
                    cut = None;
                }
            }
            Some(Cut::AnswerLostAfterUp(limit)) if dir == Dir::Up && sent + chunk.len() as u64 >= limit => {
                // the whole chunk goes on; the answer to it is what gets lost
                if take(&st.cut_budget, plan.max_cuts) {
                    armed.store(true, Ordering::SeqCst);
                }
                cut = None;
            }
            _ => {}
        }
        if let Some((lo, hi)) = plan.delay_ms {
            // deterministic, varied: a small hash of (connection, direction, chunk)
            let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ chunk_no.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (dir == Dir::Up) as u64;
            let ms = lo + (h >> 33) % (hi - lo + 1);
            st.delayed_chunks.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        chunk_no += 1;
        if !chunk.is_empty() && to.write_all(chunk).await.is_err() {
            return;
        }
        sent += chunk.len() as u64;
        let counter = if dir == Dir::Up { &st.bytes_up } else { &st.bytes_down };
        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        activity.0.store(start.elapsed().as_millis() as u64, Ordering::SeqCst);
        if dir == Dir::Down {
            activity.1.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
        if cutting {
            let _ = cut_tx.send(()).await;
            return;
        }
    }
}
