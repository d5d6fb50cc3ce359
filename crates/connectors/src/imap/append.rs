//! APPEND, many messages to a command: MULTIAPPEND (RFC 3502) where the server offers it,
//! with non-synchronizing literals (LITERAL+, RFC 7888) so that a command costs one round
//! trip. One command per folder is on the wire at a time; puts for that folder that arrive
//! meanwhile are gathered into the next command (group commit). Each put returns once the
//! server has stored its message, so nothing is confirmed before it is safe.

use super::session::{DEFAULT_BUDGET, Live, Pool};
use ferry_core::ConnectorError;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

/// Messages per command.
const MAX_BATCH: usize = 64;
/// Message bytes per command.
const MAX_BATCH_BYTES: u64 = 16 << 20;

/// A message's bytes: in memory, or spooled to a file (large messages).
pub enum Data {
    Memory(Vec<u8>),
    File(tempfile::TempPath, u64),
}

impl Data {
    pub fn len(&self) -> u64 {
        match self {
            Data::Memory(v) => v.len() as u64,
            Data::File(_, n) => *n,
        }
    }
}

pub struct Message {
    /// A parenthesised flag list, `(\Seen $Label1)`.
    pub flags: String,
    /// INTERNALDATE as an IMAP date-time, quoted.
    pub date: Option<String>,
    pub data: Data,
}

struct Pending {
    id: u64,
    msg: Message,
    done: oneshot::Sender<Result<(), ConnectorError>>,
}

#[derive(Default)]
pub struct Appender {
    /// Per folder, messages waiting for a connection.
    waiting: std::sync::Mutex<HashMap<String, VecDeque<Pending>>>,
    /// Per folder, held by the put whose command is on the wire.
    turns: std::sync::Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    next_id: AtomicU64,
}

fn answer(r: Result<Result<(), ConnectorError>, oneshot::error::RecvError>) -> Result<(), ConnectorError> {
    r.unwrap_or_else(|_| Err(ConnectorError::transient("imap: the append was abandoned")))
}

impl Appender {
    /// Stores `msg` in `folder`, alone or together with other waiting messages.
    pub async fn append(&self, pool: &Pool, folder: &str, msg: Message) -> Result<(), ConnectorError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (done, mut rx) = oneshot::channel();
        self.queue().entry(folder.to_owned()).or_default().push_back(Pending { id, msg, done });
        let turn = self.turns.lock().unwrap_or_else(|e| e.into_inner()).entry(folder.to_owned()).or_default().clone();
        loop {
            // one APPEND at a time per folder: the server locks the folder for each, so
            // parallel appends only queue there; here they gather into the next batch
            let (lease, _turn) = tokio::select! {
                biased;
                r = &mut rx => return answer(r),
                t = turn.lock() => (pool.get().await, t),
            };
            let mut lease = match lease {
                Ok(l) => l,
                Err(e) => {
                    if self.withdraw(folder, id) {
                        return Err(e);
                    }
                    return answer(rx.await);
                }
            };
            let batch = self.take(folder, lease.multiappend);
            if batch.is_empty() {
                // ours was taken by another put, which will answer
                drop(lease);
                return answer(rx.await);
            }
            if let Err(e) = store(&mut lease, folder, batch).await {
                tracing::debug!("imap: dropping a session after {e}");
                lease.discard();
            }
        }
    }

    /// Takes a message back out of the queue; false if a put has taken it already.
    fn withdraw(&self, folder: &str, id: u64) -> bool {
        let mut q = self.queue();
        let Some(list) = q.get_mut(folder) else { return false };
        list.iter().position(|p| p.id == id).and_then(|i| list.remove(i)).is_some()
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Pending>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next command's worth of waiting messages for `folder`. A spooled (large)
    /// message goes alone.
    fn take(&self, folder: &str, many: bool) -> Vec<Pending> {
        let mut q = self.queue();
        let Some(list) = q.get_mut(folder) else { return Vec::new() };
        let mut out = Vec::new();
        let mut bytes = 0;
        while let Some(p) = list.front() {
            let spooled = matches!(p.msg.data, Data::File(..));
            if !out.is_empty() && (!many || spooled || out.len() >= MAX_BATCH || bytes + p.msg.data.len() > MAX_BATCH_BYTES) {
                break;
            }
            bytes += p.msg.data.len();
            out.push(list.pop_front().expect("front"));
            if spooled {
                break;
            }
        }
        out
    }
}

/// Appends a batch and answers each put. On a refusal (NO) of a batch of several, each
/// message is tried alone so that one bad message does not fail the others. Returns an
/// error when the session is no longer usable.
async fn store(live: &mut Live, folder: &str, batch: Vec<Pending>) -> Result<(), String> {
    let msgs: Vec<&Message> = batch.iter().map(|p| &p.msg).collect();
    let first = append_raw(live, folder, &msgs).await;
    let batch = match first {
        Ok(()) => {
            batch.into_iter().for_each(|p| drop(p.done.send(Ok(()))));
            return Ok(());
        }
        Err(Failure::Refused(why)) if batch.len() > 1 => {
            tracing::debug!("imap: {folder} refused a batch ({why}); appending one by one");
            batch
        }
        Err(f) => {
            batch.into_iter().for_each(|p| drop(p.done.send(Err(f.error(folder)))));
            return f.broken();
        }
    };
    for p in batch {
        // after a broken session the rest go unanswered: their puts retry
        match append_raw(live, folder, &[&p.msg]).await {
            Ok(()) => drop(p.done.send(Ok(()))),
            Err(f) => {
                let _ = p.done.send(Err(f.error(folder)));
                f.broken()?;
            }
        }
    }
    Ok(())
}

/// Why an APPEND failed: the server refused it (the session is fine), or the session broke.
enum Failure {
    Refused(String),
    Broken(String),
}

impl Failure {
    fn error(&self, folder: &str) -> ConnectorError {
        match self {
            Failure::Refused(why) => super::session::refusal(format!("imap: {folder} refused the message: {why}"), why),
            Failure::Broken(why) => ConnectorError::transient(format!("imap: appending to {folder}: {why}")),
        }
    }
    fn broken(&self) -> Result<(), String> {
        match self {
            Failure::Refused(_) => Ok(()),
            Failure::Broken(why) => Err(why.clone()),
        }
    }
}

fn broken(e: impl std::fmt::Display) -> Failure {
    Failure::Broken(e.to_string())
}

/// A quoted IMAP string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One APPEND command carrying `msgs` (several only when the server offers MULTIAPPEND).
async fn append_raw(live: &mut Live, folder: &str, msgs: &[&Message]) -> Result<(), Failure> {
    let plus = live.literal_plus;
    let head = |m: &Message| {
        let date = m.date.as_deref().map(|d| format!(" {d}")).unwrap_or_default();
        format!("{}{date} {{{}{}}}", m.flags, m.data.len(), if plus { "+" } else { "" })
    };
    live.allow(DEFAULT_BUDGET);
    let tag = live.session.run_command(format!("APPEND {} {}", quoted(folder), head(msgs[0]))).await.map_err(broken)?;
    for (i, m) in msgs.iter().enumerate() {
        if i > 0 {
            live.session.get_mut().write_all(format!(" {}\r\n", head(m)).as_bytes()).await.map_err(broken)?;
        }
        if !plus {
            live.session.get_mut().flush().await.map_err(broken)?;
            // wait for the server's go-ahead, or its refusal
            loop {
                let r = live.session.read_response().await.map_err(broken)?.ok_or_else(|| broken("connection closed"))?;
                match r.parsed() {
                    async_imap::imap_proto::Response::Continue { .. } => break,
                    async_imap::imap_proto::Response::Done { tag: t, status, information, .. } if *t == tag => {
                        return Err(done_failure(status, information.as_deref()));
                    }
                    _ => {}
                }
            }
        }
        let conn = live.session.get_mut();
        match &m.data {
            Data::Memory(v) => conn.write_all(v).await.map_err(broken)?,
            Data::File(path, _) => {
                let mut f = tokio::fs::File::open(path).await.map_err(broken)?;
                tokio::io::copy(&mut f, conn).await.map_err(broken)?;
            }
        }
    }
    let conn = live.session.get_mut();
    conn.write_all(b"\r\n").await.map_err(broken)?;
    conn.flush().await.map_err(broken)?;
    loop {
        let r = live.session.read_response().await.map_err(broken)?.ok_or_else(|| broken("connection closed"))?;
        if let async_imap::imap_proto::Response::Done { tag: t, status, information, .. } = r.parsed()
            && *t == tag
        {
            return match status {
                async_imap::imap_proto::Status::Ok => Ok(()),
                _ => Err(done_failure(status, information.as_deref())),
            };
        }
    }
}

fn done_failure(status: &async_imap::imap_proto::Status, information: Option<&str>) -> Failure {
    let text = information.unwrap_or("").to_owned();
    match status {
        async_imap::imap_proto::Status::No => Failure::Refused(text),
        // a BAD leaves the command's remaining literals unread: the session is out of step
        _ => broken(format!("{status:?} {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: usize) -> Message {
        Message { flags: "()".into(), date: None, data: Data::Memory(vec![b'x'; n]) }
    }

    fn pending(a: &Appender, folder: &str, m: Message) -> oneshot::Receiver<Result<(), ConnectorError>> {
        let (done, rx) = oneshot::channel();
        let id = a.next_id.fetch_add(1, Ordering::Relaxed);
        a.queue().entry(folder.into()).or_default().push_back(Pending { id, msg: m, done });
        rx
    }

    #[test]
    fn batches_are_bounded_by_count_bytes_and_spooled_messages() {
        let a = Appender::default();
        let _rx: Vec<_> = (0..100).map(|_| pending(&a, "INBOX", msg(10))).collect();
        assert_eq!(a.take("INBOX", true).len(), MAX_BATCH);
        assert_eq!(a.take("INBOX", true).len(), 100 - MAX_BATCH);
        assert!(a.take("INBOX", true).is_empty());
        let _rx: Vec<_> = (0..3).map(|_| pending(&a, "A", msg(7 << 20))).collect();
        assert_eq!(a.take("A", true).len(), 2, "16 MiB per command");
        assert_eq!(a.take("A", true).len(), 1);
        let _b = pending(&a, "B", msg(1));
        let _c = pending(&a, "B", msg(1));
        assert_eq!(a.take("B", false).len(), 1, "one at a time without MULTIAPPEND");
        let file = tempfile::NamedTempFile::new().unwrap().into_temp_path();
        let _d = pending(&a, "C", msg(1));
        let _e = pending(&a, "C", Message { flags: "()".into(), date: None, data: Data::File(file, 5) });
        let _f = pending(&a, "C", msg(1));
        assert_eq!(a.take("C", true).len(), 1, "a spooled message is not joined to a batch");
        assert_eq!(a.take("C", true).len(), 1);
        assert_eq!(a.take("C", true).len(), 1);
        assert!(a.take("other", true).is_empty());
    }

    #[test]
    fn folder_names_are_quoted() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
