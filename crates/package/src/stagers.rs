//! The package writer's own few threads, on which content is copied, hashed and checked.
//! tokio's blocking pool would do the same work, but it starts a thread whenever none is
//! idle at the moment a task arrives, so an export of many small files ran on about 20
//! threads at 8 copies at once, and every thread that allocates keeps allocator memory of
//! its own. A job here never waits on async work, so a fixed number of threads cannot
//! deadlock: jobs wait their turn.

use crate::PackageError;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

pub struct Stagers {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
}

impl Stagers {
    /// `n` threads, which end when the stagers are dropped (once their jobs are done).
    pub fn new(n: usize) -> Result<Stagers, PackageError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("ferry-stage-{i}"))
                .spawn(move || {
                    loop {
                        // the lock is held only while waiting for the next job
                        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        // a job that panics fails alone (its caller hears that it stopped)
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .map_err(|e| PackageError::io("starting the staging threads", e))?;
        }
        Ok(Stagers { tx: Mutex::new(Some(tx)) })
    }

    /// Runs `f` on one of the threads and waits for what it returns.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, PackageError> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done_tx.send(f());
        });
        let sent = match &*self.tx.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(tx) => tx.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(PackageError::Staging("the staging threads have ended".into()));
        }
        done_rx.await.map_err(|_| PackageError::Staging("a staging thread stopped in the middle of a copy".into()))
    }
}

impl Drop for Stagers {
    fn drop(&mut self) {
        // the threads end once the queue is empty and closed
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_few_threads_and_a_panic_fails_only_its_own() {
        let s = Stagers::new(2).unwrap();
        let names: Vec<String> = futures::future::join_all((0..16).map(|i| {
            s.run(move || {
                std::thread::sleep(std::time::Duration::from_millis(2));
                (i, std::thread::current().name().unwrap_or("").to_owned())
            })
        }))
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .enumerate()
        .map(|(i, (j, name))| {
            assert_eq!(i, j);
            name
        })
        .collect();
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.iter().all(|n| n.starts_with("ferry-stage-")), "{distinct:?}");
        assert!(distinct.len() <= 2, "{distinct:?}");
        let panicked = s.run(|| -> u8 { panic!("a hostile job") }).await;
        assert!(matches!(panicked, Err(PackageError::Staging(_))), "{panicked:?}");
        assert_eq!(s.run(|| 7).await.unwrap(), 7, "the thread lives on after a panic");
    }
}
