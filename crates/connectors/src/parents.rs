//! Where the tasks of a run went, for their subtasks (To Do's steps, Google Tasks'
//! `parent`). The engine puts a page's items a few at a time, so a subtask's write may
//! begin while its parent's is still under way: a write says it began before its first
//! await, and a subtask put after it waits for where the parent went, instead of finding
//! it missing. A parent not being written in this run is none; one whose write failed
//! says so.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// How long a subtask waits for its parent's write to end.
const WAIT: Duration = Duration::from_secs(300);

/// (container, source id or UID) -> where the task went: `None` while its write is under
/// way, `Some(None)` when it failed.
type Places<T> = HashMap<(String, String), watch::Sender<Option<Option<T>>>>;

pub struct Parents<T>(Mutex<Places<T>>);

impl<T> Default for Parents<T> {
    fn default() -> Self {
        Parents(Mutex::new(HashMap::new()))
    }
}

/// A task's write under way: told where it went with [`Begun::done`]; dropped untold (an
/// error), it failed.
pub struct Begun<'a, T> {
    parents: &'a Parents<T>,
    keys: Vec<(String, String)>,
}

impl<T: Clone> Parents<T> {
    /// Says, before the write's first await, that the task of these ids (its item id, its
    /// UID) in `container` is being written.
    pub fn begin(&self, container: &str, ids: &[&str]) -> Begun<'_, T> {
        let mut keys: Vec<(String, String)> = Vec::new();
        for id in ids.iter().filter(|i| !i.is_empty()) {
            let k = (container.to_owned(), (*id).to_owned());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for k in &keys {
            match all.get(k) {
                Some(tx) => {
                    tx.send_replace(None);
                }
                None => {
                    all.insert(k.clone(), watch::channel(None).0);
                }
            }
        }
        Begun { parents: self, keys }
    }

    /// Where task `id` of `container` went, waited for while its write is under way:
    /// `None` when it is not written in this run, `Some(None)` when its write failed.
    pub async fn wait(&self, container: &str, id: &str) -> Option<Option<T>> {
        let mut rx = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&(container.to_owned(), id.to_owned()))?.subscribe();
        let waited = tokio::time::timeout(WAIT, rx.wait_for(Option::is_some)).await;
        Some(waited.ok().and_then(Result::ok).and_then(|v| v.clone()).flatten())
    }
}

impl<T: Clone> Begun<'_, T> {
    pub fn done(&self, place: T) {
        let all = self.parents.0.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            if let Some(tx) = all.get(k) {
                tx.send_replace(Some(Some(place.clone())));
            }
        }
    }
}

impl<T> Drop for Begun<'_, T> {
    fn drop(&mut self) {
        let all = self.parents.0.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            if let Some(tx) = all.get(k) {
                tx.send_if_modified(|v| {
                    let untold = v.is_none();
                    if untold {
                        *v = Some(None);
                    }
                    untold
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subtask_waits_for_its_parent_and_hears_of_a_failure() {
        let p: Parents<String> = Parents::default();
        assert_eq!(p.wait("Home", "t1").await, None, "not written in this run");
        let begun = p.begin("Home", &["t1", "uid-1"]);
        let (place, ()) = tokio::join!(p.wait("Home", "uid-1"), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            begun.done("dest-1".to_owned());
        });
        assert_eq!(place, Some(Some("dest-1".to_owned())), "waited for, by its UID too");
        assert_eq!(p.wait("Work", "t1").await, None, "another list's task is not this one");
        drop(p.begin("Home", &["t2"]));
        assert_eq!(p.wait("Home", "t2").await, Some(None), "a write that ended in an error failed");
        // a retry begins again and is waited for again
        let again = p.begin("Home", &["t2"]);
        again.done("dest-2".to_owned());
        drop(again);
        assert_eq!(p.wait("Home", "t2").await, Some(Some("dest-2".to_owned())), "told, then dropped: still placed");
    }
}
