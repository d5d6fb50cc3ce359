//! Microsoft To Do through Graph (https://learn.microsoft.com/graph/api/resources/todotask):
//! task lists as containers, tasks both ways. To Do keeps a task's title, body, status,
//! importance, due, start and completion dates and categories; it has no subtasks (its
//! checklist items are not tasks), so a subtask is placed at the top of its list with a
//! fidelity warning naming its parent.

use super::api;
use super::config::MicrosoftConfig;
use crate::http::Http;
use ferry_core::model::{DateOrDateTime, Task};
use ferry_core::{ConnectorError, Item, PutOutcome, Record};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The task lists: (id, display name).
pub async fn lists(cfg: &MicrosoftConfig, http: &Http) -> Result<Vec<(String, String)>, ConnectorError> {
    Ok(api::named(&api::all(cfg, http, "listing task lists", cfg.graph("/v1.0/me/todo/lists")).await?))
}

/// Graph's `dateTimeTimeZone` as a date (To Do's due and start dates are dates) or a UTC time.
fn date_of(v: &Value, date_only: bool) -> Option<DateOrDateTime> {
    let dt = v["dateTime"].as_str().filter(|d| d.len() >= 10)?;
    Some(match date_only {
        true => DateOrDateTime { value: dt[..10].to_owned(), tzid: None, date_only: true },
        false => DateOrDateTime { value: format!("{}Z", &dt[..dt.len().min(19)]), tzid: None, date_only: false },
    })
}

/// A To Do task as a task and its VTODO.
pub fn task_from_graph(g: &Value) -> (Task, String) {
    let s = |f: &str| g[f].as_str().filter(|x| !x.is_empty()).map(str::to_owned);
    let status = match g["status"].as_str().unwrap_or("notStarted") {
        "completed" => "COMPLETED",
        "inProgress" => "IN-PROCESS",
        _ => "NEEDS-ACTION",
    };
    let t = Task {
        uid: s("id").unwrap_or_default(),
        summary: s("title"),
        description: g["body"]["content"].as_str().filter(|c| !c.is_empty()).map(str::to_owned),
        start: date_of(&g["startDateTime"], true),
        due: date_of(&g["dueDateTime"], true),
        completed: date_of(&g["completedDateTime"], false),
        status: Some(status.to_owned()),
        priority: match g["importance"].as_str() {
            Some("high") => Some(1),
            Some("low") => Some(9),
            _ => None,
        },
        categories: g["categories"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
        ..Default::default()
    };
    let mut extra = Vec::new();
    if let Some(st @ ("waitingOnOthers" | "deferred")) = g["status"].as_str() {
        extra.push(format!("X-MS-TODO-STATUS:{st}"));
    }
    if g["body"]["contentType"] == "html" {
        extra.push("X-MS-BODY-TYPE:html".to_owned());
    }
    let mut t = t;
    t.other_properties = extra.iter().filter_map(|l| l.split(':').next()).map(str::to_owned).collect();
    let text = ferry_codecs::todo::build_todo(&t, &ferry_codecs::todo::stamp(g["lastModifiedDateTime"].as_str()), &extra);
    (t, text)
}

/// A task as a To Do task, and what To Do has no place for.
pub fn graph_from_task(t: &Task) -> (Value, Vec<String>) {
    let mut w = Vec::new();
    let mut g = json!({"title": t.summary.clone().unwrap_or_default()});
    if let Some(d) = &t.description {
        g["body"] = json!({"content": d, "contentType": "text"});
    }
    g["status"] = match t.status.as_deref() {
        Some("COMPLETED") => "completed",
        Some("IN-PROCESS") => "inProgress",
        _ => "notStarted",
    }
    .into();
    if t.status.as_deref() == Some("CANCELLED") {
        w.push("STATUS: To Do has no cancelled tasks; kept as not started".into());
    }
    let day =
        |d: &DateOrDateTime| (d.value.len() >= 10).then(|| json!({"dateTime": format!("{}T00:00:00", &d.value[..10]), "timeZone": "UTC"}));
    for (field, name, v) in [("dueDateTime", "DUE", &t.due), ("startDateTime", "DTSTART", &t.start)] {
        if let Some(d) = v {
            match day(d) {
                Some(x) => g[field] = x,
                None => w.push(format!("{name}: `{}` is not a date To Do can keep", d.value)),
            }
            if !d.date_only {
                w.push(format!("{name}: To Do keeps the date only; the time of {} is not kept", d.value));
            }
        }
    }
    if let Some(c) = &t.completed
        && c.value.len() >= 19
    {
        g["completedDateTime"] = json!({"dateTime": &c.value[..19], "timeZone": "UTC"});
    }
    match t.priority {
        Some(1..=4) => g["importance"] = "high".into(),
        Some(6..=9) => g["importance"] = "low".into(),
        _ => {}
    }
    if !t.categories.is_empty() {
        g["categories"] = t.categories.clone().into();
    }
    if let Some(p) = &t.parent {
        w.push(format!("RELATED-TO: To Do has no subtasks; this subtask of {p} is at the top of its list"));
    }
    if t.rrule.is_some() {
        w.push("RRULE: the repetition is not carried to To Do yet".into());
    }
    if !t.alarms.is_empty() {
        w.push("VALARM: the reminders are not carried to To Do yet".into());
    }
    for p in &t.other_properties {
        w.push(format!("{p}: To Do has no place for it"));
    }
    (g, w)
}

/// Writes tasks into lists named by their containers (made when missing; "Tasks" for
/// none). A task is found again by its list, title and due date.
#[derive(Default)]
pub struct TodoWriter {
    lists: tokio::sync::Mutex<Option<HashMap<String, String>>>,
    /// List id -> (natural key -> (task id, fields as written)).
    held: tokio::sync::Mutex<crate::held::Held>,
}

fn natural_key(g: &Value) -> String {
    let due = g["dueDateTime"]["dateTime"].as_str().map(|d| &d[..d.len().min(10)]).unwrap_or_default().to_owned();
    format!("{}\u{1f}{due}", g["title"].as_str().unwrap_or_default().trim())
}

impl TodoWriter {
    async fn list(&self, cfg: &MicrosoftConfig, http: &Http, name: &str) -> Result<String, ConnectorError> {
        let name = if name.is_empty() { "Tasks" } else { name };
        let mut lists = self.lists.lock().await;
        if lists.is_none() {
            *lists = Some(self::lists(cfg, http).await?.into_iter().map(|(id, n)| (n, id)).collect());
        }
        let known = lists.as_mut().expect("just read");
        if let Some(id) = known.get(name) {
            return Ok(id.clone());
        }
        let url = cfg.graph("/v1.0/me/todo/lists");
        let body = json!({"displayName": name});
        let made: Value = api::json(http, &format!("making task list `{name}`"), &|| api::with_json(http.request("POST", &url), &body))
            .await
            .map_err(|(e, _)| e)?;
        let id = made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a task list without an id".into()))?.to_owned();
        known.insert(name.to_owned(), id.clone());
        Ok(id)
    }

    pub async fn put(&self, cfg: &MicrosoftConfig, http: &Http, item: &Item, t: &Task) -> Result<PutOutcome, ConnectorError> {
        let list = self.list(cfg, http, &item.container).await?;
        let (body, warnings) = graph_from_task(t);
        let key = natural_key(&body);
        let tasks_url = cfg.graph(&format!("/v1.0/me/todo/lists/{}/tasks", crate::http::encode_component(&list)));
        {
            let mut held = self.held.lock().await;
            if !held.knows(&list) {
                let mut tasks = Vec::new();
                for g in api::all(cfg, http, "reading the list's tasks", tasks_url.clone()).await? {
                    if let Some(id) = g["id"].as_str() {
                        let (task, _) = task_from_graph(&g);
                        let (as_written, _) = graph_from_task(&task);
                        tasks.push((natural_key(&as_written), id.to_owned(), as_written));
                    }
                }
                held.fill(&list, tasks);
            }
        }
        let found = self.held.lock().await.claim(&list, &key, &item.id);
        let id = match found {
            Some((id, g)) if g == body => return Ok(PutOutcome { dest_id: id, created: false, warnings, sha256: None }),
            Some((id, _)) => {
                let url = format!("{tasks_url}/{}", crate::http::encode_component(&id));
                let _: Value = api::json(http, &format!("updating task {id}"), &|| api::with_json(http.request("PATCH", &url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                id
            }
            None => {
                let made: Value = api::json(http, "making a task", &|| api::with_json(http.request("POST", &tasks_url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a task without an id".into()))?.to_owned()
            }
        };
        self.held.lock().await.record(&list, key, id.clone(), body, &item.id);
        Ok(PutOutcome { dest_id: id, created: true, warnings, sha256: None })
    }
}

/// The item of a task Graph listed in list `list`.
pub fn item(g: &Value, id: &str, list: &str) -> Item {
    let (task, text) = task_from_graph(g);
    let version = g["lastModifiedDateTime"].as_str().or(g["@odata.etag"].as_str()).unwrap_or_default();
    Item::of_record(id, list, version, Record::Task(task), "text/calendar", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_to_do_task_and_back_and_what_to_do_cannot_keep() {
        let g = json!({"id": "AAk1", "title": "Pay", "body": {"content": "rent", "contentType": "text"}, "status": "waitingOnOthers",
            "importance": "high", "dueDateTime": {"dateTime": "2025-01-10T00:00:00.0000000", "timeZone": "UTC"}, "categories": ["Home"]});
        let (t, text) = task_from_graph(&g);
        assert_eq!(t.priority, Some(1));
        assert_eq!(t.due.as_ref().map(|d| d.value.as_str()), Some("2025-01-10"));
        assert!(text.contains("X-MS-TODO-STATUS:waitingOnOthers"), "{text}");
        let (back, w) = graph_from_task(&Task { parent: Some("p".into()), ..t });
        assert_eq!(back["importance"], "high");
        assert_eq!(back["dueDateTime"], json!({"dateTime": "2025-01-10T00:00:00", "timeZone": "UTC"}));
        assert!(w.iter().any(|x| x.contains("subtask of p")) && w.iter().any(|x| x.starts_with("X-MS-TODO-STATUS")), "{w:?}");
    }
}
