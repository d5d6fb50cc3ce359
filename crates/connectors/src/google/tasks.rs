//! Google Tasks (https://developers.google.com/tasks/reference/rest): task lists as
//! containers, tasks both ways. Google keeps a task's title, notes, status, due date
//! (the date only) and completion time, and its parent (subtasks); everything else a
//! task may have (priority, start, categories, repetition, alarms) is a fidelity warning
//! on import.

use super::api;
use super::config::GoogleConfig;
use crate::http::Http;
use async_trait::async_trait;
use ferry_core::model::{DateOrDateTime, Task};
use ferry_core::{ConnectorError, Item, ItemError, Page, PageStream, Record, Vertical};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The task lists: (id, title).
pub async fn lists(cfg: &GoogleConfig, http: &Http) -> Result<Vec<(String, String)>, ConnectorError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10_000 {
        let mut url = cfg.tasks("/tasks/v1/users/@me/lists?maxResults=100");
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={}", crate::http::encode_component(t)));
        }
        let page: Value = api::json(http, "listing task lists", &|| http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        for l in page["items"].as_array().into_iter().flatten() {
            if let (Some(id), Some(title)) = (l["id"].as_str(), l["title"].as_str()) {
                out.push((id.to_owned(), title.to_owned()));
            }
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
    Err(ConnectorError::Fatal("listing task lists: too many pages".into()))
}

/// A Google task as a task and its VTODO.
pub fn task_from_google(g: &Value) -> (Task, String) {
    let s = |f: &str| g[f].as_str().filter(|x| !x.is_empty()).map(str::to_owned);
    let t = Task {
        uid: s("id").unwrap_or_default(),
        summary: s("title"),
        description: s("notes"),
        // Google keeps the date of a due time only
        due: s("due").filter(|d| d.len() >= 10).map(|d| DateOrDateTime { value: d[..10].to_owned(), tzid: None, date_only: true }),
        completed: s("completed").map(|c| DateOrDateTime { value: c, tzid: None, date_only: false }),
        status: Some(if s("status").as_deref() == Some("completed") { "COMPLETED" } else { "NEEDS-ACTION" }.to_owned()),
        parent: s("parent"),
        ..Default::default()
    };
    let extra: Vec<String> =
        g["links"].as_array().into_iter().flatten().filter_map(|l| l["link"].as_str()).map(|l| format!("X-GOOGLE-LINK:{l}")).collect();
    let mut t = t;
    if !extra.is_empty() {
        t.other_properties = vec!["X-GOOGLE-LINK".into()];
    }
    let text = ferry_codecs::todo::build_todo(&t, &ferry_codecs::todo::stamp(g["updated"].as_str()), &extra);
    (t, text)
}

/// A task as a Google task, and what Google has no place for.
pub fn google_from_task(t: &Task) -> (Value, Vec<String>) {
    let mut w = Vec::new();
    let mut g = json!({"title": t.summary.clone().unwrap_or_default()});
    if let Some(n) = &t.description {
        g["notes"] = n.clone().into();
    }
    let done = t.status.as_deref() == Some("COMPLETED");
    g["status"] = if done { "completed" } else { "needsAction" }.into();
    if let Some(d) = &t.due
        && d.value.len() >= 10
    {
        g["due"] = format!("{}T00:00:00.000Z", &d.value[..10]).into();
        if !d.date_only {
            w.push(format!("DUE: Google keeps the due date only; the time of {} is not kept", d.value));
        }
    }
    if done && let Some(c) = &t.completed {
        let v = &c.value;
        if v.len() >= 19 {
            g["completed"] = format!("{}Z", &v[..19]).into();
        }
    }
    if let Some(s) = t.status.as_deref().filter(|s| !matches!(*s, "COMPLETED" | "NEEDS-ACTION")) {
        w.push(format!("STATUS: Google knows done and not done; {s} is kept as not done"));
    }
    if t.priority.is_some_and(|p| p > 0) {
        w.push("PRIORITY: Google tasks have no priority".into());
    }
    if t.start.is_some() {
        w.push("DTSTART: Google tasks have no start date".into());
    }
    if t.rrule.is_some() {
        w.push("RRULE: Google tasks do not repeat through the API".into());
    }
    if !t.alarms.is_empty() {
        w.push("VALARM: Google tasks have no reminders".into());
    }
    if !t.categories.is_empty() {
        w.push(format!("CATEGORIES: Google tasks have none; {} not kept", t.categories.join(", ")));
    }
    for p in &t.other_properties {
        w.push(format!("{p}: Google tasks have no place for it"));
    }
    (g, w)
}

/// Pages through one task list; `updatedMin` lists only what changed since a run.
pub struct TaskPages {
    pub cfg: Arc<GoogleConfig>,
    pub http: Http,
    pub list: String,
    pub title: String,
    pub since: Option<String>,
    pub token: Option<String>,
    pub started: String,
    pub done: bool,
    pub pages: u32,
}

#[async_trait]
impl PageStream for TaskPages {
    async fn next_page(&mut self) -> Result<Option<Page>, ConnectorError> {
        if self.done {
            return Ok(None);
        }
        self.pages += 1;
        if self.pages > 100_000 {
            return Err(ConnectorError::Fatal("listing tasks: too many pages".into()));
        }
        let mut url = self.cfg.tasks(&format!(
            "/tasks/v1/lists/{}/tasks?maxResults=100&showCompleted=true&showHidden=true",
            crate::http::encode_component(&self.list)
        ));
        if let Some(s) = &self.since {
            url.push_str(&format!("&updatedMin={}", crate::http::encode_component(s)));
        }
        if let Some(t) = &self.token {
            url.push_str(&format!("&pageToken={}", crate::http::encode_component(t)));
        }
        let page: Value = api::json(&self.http, "listing tasks", &|| self.http.request("GET", &url)).await.map_err(|(e, _)| e)?;
        let mut items = Vec::new();
        for (n, g) in page["items"].as_array().into_iter().flatten().enumerate() {
            if g["deleted"].as_bool().unwrap_or(false) {
                continue;
            }
            let Some(id) = g["id"].as_str().filter(|i| !i.is_empty()) else {
                items.push(Err(ItemError {
                    skipped: false,
                    vertical: Vertical::Tasks,
                    id: format!("(no id: task {n} of {url})"),
                    location: url.clone(),
                    reason: "Google gave a task without an id".into(),
                }));
                continue;
            };
            let (task, text) = task_from_google(g);
            let version = g["etag"].as_str().or(g["updated"].as_str()).unwrap_or_default();
            items.push(Ok(Item::of_record(id, &self.title, version, Record::Task(task), "text/calendar", text)));
        }
        match page["nextPageToken"].as_str().filter(|t| !t.is_empty()) {
            Some(t) if self.token.as_deref() == Some(t) => {
                return Err(ConnectorError::Fatal("listing tasks: Google gave the same page token again".into()));
            }
            Some(t) => self.token = Some(t.to_owned()),
            None => self.done = true,
        }
        Ok(Some(Page { items, cursor: self.token.clone().filter(|_| !self.done) }))
    }

    /// The time the listing began (a little before, for clocks that differ): the next
    /// run asks for what changed since.
    fn sync_state(&self) -> Option<String> {
        Some(self.started.clone())
    }
}

/// Writes tasks into lists named by their containers (made when missing). A task is found
/// again by its list, title and due date: each list is read once, a task already as it
/// would be written is left alone, one that differs is updated.
pub struct TaskWriter {
    /// List title -> id.
    lists: tokio::sync::Mutex<Option<HashMap<String, String>>>,
    /// The lists' tasks, by title and due date.
    held: tokio::sync::Mutex<crate::held::Held>,
    /// Where the run's tasks went (by source id and UID), for their subtasks.
    placed: crate::parents::Parents<String>,
}

fn natural_key(g: &Value) -> String {
    let due = g["due"].as_str().map(|d| &d[..d.len().min(10)]).unwrap_or_default().to_owned();
    format!("{}\u{1f}{due}", g["title"].as_str().unwrap_or_default().trim())
}

impl TaskWriter {
    pub fn new() -> TaskWriter {
        TaskWriter { lists: Default::default(), held: Default::default(), placed: Default::default() }
    }

    async fn list(&self, cfg: &GoogleConfig, http: &Http, title: &str) -> Result<String, ConnectorError> {
        let title = if title.is_empty() { "My Tasks" } else { title };
        let mut lists = self.lists.lock().await;
        if lists.is_none() {
            *lists = Some(self::lists(cfg, http).await?.into_iter().map(|(id, t)| (t, id)).collect());
        }
        let known = lists.as_mut().expect("just read");
        if let Some(id) = known.get(title) {
            return Ok(id.clone());
        }
        let url = cfg.tasks("/tasks/v1/users/@me/lists");
        let body = json!({"title": title});
        let made: Value = api::json(http, &format!("making task list `{title}`"), &|| api::with_json(http.request("POST", &url), &body))
            .await
            .map_err(|(e, _)| e)?;
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Google made a task list without an id".into()))?.to_owned();
        known.insert(title.to_owned(), id.clone());
        Ok(id)
    }

    pub async fn put(&self, cfg: &GoogleConfig, http: &Http, item: &Item, t: &Task) -> Result<ferry_core::PutOutcome, ConnectorError> {
        // said before the first await: a subtask put after this task waits for it
        let placing = self.placed.begin(&item.container, &[&item.id, &t.uid]);
        let list = self.list(cfg, http, &item.container).await?;
        let (body, mut warnings) = google_from_task(t);
        let key = natural_key(&body);
        {
            let mut held = self.held.lock().await;
            if !held.knows(&list) {
                let mut tasks = Vec::new();
                let mut pages = TaskPages {
                    cfg: Arc::new(cfg.clone()),
                    http: http.clone(),
                    list: list.clone(),
                    title: String::new(),
                    since: None,
                    token: None,
                    started: String::new(),
                    done: false,
                    pages: 0,
                };
                while let Some(page) = pages.next_page().await? {
                    for i in page.items.into_iter().flatten() {
                        if let Record::Task(task) = &i.record {
                            let (g, _) = google_from_task(task);
                            tasks.push((natural_key(&g), i.id.clone(), g));
                        }
                    }
                }
                held.fill(&list, tasks);
            }
        }
        let found = self.held.lock().await.claim(&list, &key, &item.id);
        let id = match found {
            Some((id, g)) if g == body => {
                placing.done(id.clone());
                return Ok(ferry_core::PutOutcome { dest_id: id, created: false, warnings, sha256: None });
            }
            Some((id, _)) => {
                let url = cfg.tasks(&format!(
                    "/tasks/v1/lists/{}/tasks/{}",
                    crate::http::encode_component(&list),
                    crate::http::encode_component(&id)
                ));
                let _: Value = api::json(http, &format!("updating task {id}"), &|| api::with_json(http.request("PATCH", &url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                id
            }
            None => {
                let mut url = cfg.tasks(&format!("/tasks/v1/lists/{}/tasks", crate::http::encode_component(&list)));
                if let Some(p) = &t.parent {
                    match self.placed.wait(&item.container, p).await {
                        Some(Some(parent)) => url.push_str(&format!("?parent={}", crate::http::encode_component(&parent))),
                        Some(None) => warnings.push(format!("RELATED-TO: the parent task {p} was not written; the task is at the top")),
                        None => warnings.push(format!("RELATED-TO: the parent task {p} is not in this list; the task is at the top")),
                    }
                }
                let made: Value =
                    api::json(http, "making a task", &|| api::with_json(http.request("POST", &url), &body)).await.map_err(|(e, _)| e)?;
                made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Google made a task without an id".into()))?.to_owned()
            }
        };
        self.held.lock().await.record(&list, key, id.clone(), body, &item.id);
        placing.done(id.clone());
        Ok(ferry_core::PutOutcome { dest_id: id, created: true, warnings, sha256: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_google_task_and_back() {
        let g = json!({"id": "t1", "title": "Pay", "notes": "rent", "status": "completed", "due": "2025-01-10T00:00:00.000Z",
            "completed": "2025-01-09T08:30:00.000Z", "parent": "t0", "links": [{"link": "https://example.org", "type": "email"}]});
        let (t, text) = task_from_google(&g);
        assert_eq!(t.due.as_ref().map(|d| d.value.as_str()), Some("2025-01-10"));
        assert_eq!(t.status.as_deref(), Some("COMPLETED"));
        assert!(text.contains("X-GOOGLE-LINK:https://example.org") && text.contains("RELATED-TO;RELTYPE=PARENT:t0"), "{text}");
        let (back, w) = google_from_task(&Task { priority: Some(1), categories: vec!["Home".into()], ..t });
        assert_eq!(back["due"], "2025-01-10T00:00:00.000Z");
        assert_eq!(back["status"], "completed");
        assert_eq!(back["completed"], "2025-01-09T08:30:00Z");
        assert!(
            w.iter().any(|x| x.starts_with("PRIORITY"))
                && w.iter().any(|x| x.contains("Home"))
                && w.iter().any(|x| x.starts_with("X-GOOGLE-LINK")),
            "{w:?}"
        );
    }
}
