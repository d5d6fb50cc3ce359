//! Microsoft To Do through Graph (https://learn.microsoft.com/graph/api/resources/todotask):
//! task lists as containers, tasks both ways. To Do keeps a task's title, body, status,
//! importance, due, start and completion dates and categories. A task's steps (its
//! checklist items, https://learn.microsoft.com/graph/api/resources/checklistitem: a
//! title and a checked state) come out as its subtasks (`parent` set, RELATED-TO in the
//! VTODO), as Google Tasks and CalDAV hold subtasks; a subtask goes in as a step of its
//! parent when the parent went to the same list in the same run, else at the top of the
//! list with a fidelity warning saying why.

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

/// The steps (checklist items) of task `task` of list `list`, each as an item of its own:
/// a subtask of the task. A task gone since it was listed has none.
pub async fn step_items(cfg: &MicrosoftConfig, http: &Http, list: &str, task: &str, container: &str) -> Result<Vec<Item>, ConnectorError> {
    let url = cfg.graph(&format!("/v1.0/me/todo/lists/{}/tasks/{}/checklistItems", enc(list), enc(task)));
    let steps = match api::all(cfg, http, "listing a task's steps", url).await {
        Err(ConnectorError::NotFound(_)) => return Ok(Vec::new()),
        other => other?,
    };
    Ok(steps
        .iter()
        .filter_map(|c| {
            let id = c["id"].as_str().filter(|i| !i.is_empty())?;
            let (t, text) = task_from_step(c, task);
            let version = ferry_core::content::sha256_hex(text.as_bytes());
            Some(Item::of_record(&format!("{task}/checklistItems/{id}"), container, &version, Record::Task(t), "text/calendar", text))
        })
        .collect())
}

/// A step (checklist item) of task `parent` as a subtask of it: its title, and its checked
/// state as completion.
pub fn task_from_step(c: &Value, parent: &str) -> (Task, String) {
    let checked = c["isChecked"].as_bool().unwrap_or(false);
    let when = |f: &str| c[f].as_str().filter(|d| d.len() >= 19).map(|d| format!("{}Z", &d[..19]));
    let t = Task {
        uid: c["id"].as_str().unwrap_or_default().to_owned(),
        summary: c["displayName"].as_str().filter(|x| !x.is_empty()).map(str::to_owned),
        status: Some(if checked { "COMPLETED" } else { "NEEDS-ACTION" }.to_owned()),
        completed: when("checkedDateTime").filter(|_| checked).map(|value| DateOrDateTime { value, tzid: None, date_only: false }),
        parent: Some(parent.to_owned()),
        ..Default::default()
    };
    let stamp = ferry_codecs::todo::stamp(c["checkedDateTime"].as_str().or(c["createdDateTime"].as_str()));
    let text = ferry_codecs::todo::build_todo(&t, &stamp, &[]);
    (t, text)
}

/// A subtask as a step of its parent, and what a step has no place for.
pub fn step_from_task(t: &Task) -> (Value, Vec<String>) {
    let mut w = Vec::new();
    let checked = t.status.as_deref() == Some("COMPLETED");
    let mut g = json!({"displayName": t.summary.clone().unwrap_or_default(), "isChecked": checked});
    if checked && let Some(c) = t.completed.as_ref().filter(|c| c.value.len() >= 19) {
        g["checkedDateTime"] = format!("{}Z", &c.value[..19]).into();
    }
    let what = "To Do's steps keep a title and whether it is done";
    if let Some(s @ ("IN-PROCESS" | "CANCELLED")) = t.status.as_deref() {
        w.push(format!("STATUS: {what}; {s} is kept as not done"));
    }
    for (name, lost) in [
        ("DESCRIPTION", t.description.is_some()),
        ("DUE", t.due.is_some()),
        ("DTSTART", t.start.is_some()),
        ("PRIORITY", t.priority.is_some_and(|p| p > 0)),
        ("PERCENT-COMPLETE", t.percent_complete.is_some_and(|p| p > 0 && p < 100)),
        ("RRULE", t.rrule.is_some()),
        ("VALARM", !t.alarms.is_empty()),
        ("CATEGORIES", !t.categories.is_empty()),
    ] {
        if lost {
            w.push(format!("{name}: {what}; this subtask's is not kept"));
        }
    }
    for p in &t.other_properties {
        w.push(format!("{p}: {what}; not kept"));
    }
    (g, w)
}

/// Where a source task went: a task of the list, or a step of one (which can have no
/// steps of its own).
#[derive(Debug, Clone, PartialEq)]
enum Placed {
    Task(String),
    Step,
}

/// Writes tasks into lists named by their containers (made when missing; "Tasks" for
/// none). A task is found again by its list, title and due date; a step by its task and
/// title.
#[derive(Default)]
pub struct TodoWriter {
    lists: tokio::sync::Mutex<Option<HashMap<String, String>>>,
    /// List id (or list id and task id, for steps) -> (natural key -> (id, fields as written)).
    held: tokio::sync::Mutex<crate::held::Held>,
    /// Where the run's tasks went, for their subtasks.
    placed: crate::parents::Parents<Placed>,
}

fn enc(s: &str) -> String {
    crate::http::encode_component(s)
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
        let placing = self.placed.begin(&item.container, &[&item.id, &t.uid]);
        let mut top_warning = None;
        if let Some(p) = &t.parent {
            let why = match self.placed.wait(&item.container, p).await {
                Some(Some(Placed::Task(parent))) if t.summary.as_deref().is_some_and(|s| !s.trim().is_empty()) => {
                    let list = self.list(cfg, http, &item.container).await?;
                    let out = self.put_step(cfg, http, item, t, &list, &parent).await?;
                    placing.done(Placed::Step);
                    return Ok(out);
                }
                Some(Some(Placed::Task(_))) => "a step needs a title".to_owned(),
                Some(Some(Placed::Step)) => format!("its parent {p} is a step in To Do, and a step has no steps"),
                Some(None) => format!("its parent {p} was not written"),
                None => format!("its parent {p} is not in this list (or was not written in this run)"),
            };
            top_warning =
                Some(format!("RELATED-TO: not a step of its parent task in To Do ({why}); this subtask is at the top of its list"));
        }
        let mut out = self.put_task(cfg, http, item, t).await?;
        out.warnings.extend(top_warning);
        placing.done(Placed::Task(out.dest_id.clone()));
        Ok(out)
    }

    /// A subtask as a step of task `parent` of list `list`: found again by its title.
    async fn put_step(
        &self,
        cfg: &MicrosoftConfig,
        http: &Http,
        item: &Item,
        t: &Task,
        list: &str,
        parent: &str,
    ) -> Result<PutOutcome, ConnectorError> {
        let (body, warnings) = step_from_task(t);
        // what is compared: the title and the state (Graph writes the time its own way)
        let kept = |g: &Value| json!({"displayName": g["displayName"], "isChecked": g["isChecked"].as_bool().unwrap_or(false)});
        let key = body["displayName"].as_str().unwrap_or_default().trim().to_owned();
        let steps_url = cfg.graph(&format!("/v1.0/me/todo/lists/{}/tasks/{}/checklistItems", enc(list), enc(parent)));
        let held_at = format!("{list}\u{1f}{parent}");
        {
            let mut held = self.held.lock().await;
            if !held.knows(&held_at) {
                let steps = api::all(cfg, http, "reading a task's steps", steps_url.clone()).await?;
                held.fill(
                    &held_at,
                    steps.iter().filter_map(|c| {
                        Some((c["displayName"].as_str().unwrap_or_default().trim().to_owned(), c["id"].as_str()?.to_owned(), kept(c)))
                    }),
                );
            }
        }
        let found = self.held.lock().await.claim(&held_at, &key, &item.id);
        let dest = |id: &str| format!("{parent}/checklistItems/{id}");
        let id = match found {
            Some((id, g)) if g == kept(&body) => return Ok(PutOutcome { dest_id: dest(&id), created: false, warnings, sha256: None }),
            Some((id, _)) => {
                let url = format!("{steps_url}/{}", enc(&id));
                let _: Value = api::json(http, &format!("updating step {id}"), &|| api::with_json(http.request("PATCH", &url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                id
            }
            None => {
                let made: Value = api::json(http, "making a step", &|| api::with_json(http.request("POST", &steps_url), &body))
                    .await
                    .map_err(|(e, _)| e)?;
                made["id"].as_str().ok_or_else(|| ConnectorError::Fatal("Graph made a step without an id".into()))?.to_owned()
            }
        };
        self.held.lock().await.record(&held_at, key, id.clone(), kept(&body), &item.id);
        Ok(PutOutcome { dest_id: dest(&id), created: true, warnings, sha256: None })
    }

    async fn put_task(&self, cfg: &MicrosoftConfig, http: &Http, item: &Item, t: &Task) -> Result<PutOutcome, ConnectorError> {
        let list = self.list(cfg, http, &item.container).await?;
        let (body, warnings) = graph_from_task(t);
        let key = natural_key(&body);
        let tasks_url = cfg.graph(&format!("/v1.0/me/todo/lists/{}/tasks", enc(&list)));
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
                let url = format!("{tasks_url}/{}", enc(&id));
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
        assert!(w.iter().any(|x| x.starts_with("X-MS-TODO-STATUS")), "{w:?}");
    }

    /// Checklist items as Graph lists them (todotask-list-checklistitems).
    #[test]
    fn a_step_is_a_subtask_of_its_task_and_goes_back_as_a_step() {
        let listed = json!({"value": [
            {"displayName": "Create draft", "createdDateTime": "2021-11-17T05:22:14.2207813Z", "isChecked": false,
             "id": "51d8a471-2e9d-4f53-9937-c33a8742d28f"},
            {"displayName": "Review with the team", "createdDateTime": "2021-11-17T05:22:43.0916521Z", "isChecked": true,
             "checkedDateTime": "2021-11-18T09:00:01.1234567Z", "id": "a7720293-4ef9-45da-9056-e000796889fa"}
        ]});
        let (open, text) = task_from_step(&listed["value"][0], "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AZ7t6JRezX06Ecidn-vkzXAABPDii4gAA");
        assert_eq!(open.uid, "51d8a471-2e9d-4f53-9937-c33a8742d28f");
        assert_eq!((open.summary.as_deref(), open.status.as_deref()), (Some("Create draft"), Some("NEEDS-ACTION")));
        assert_eq!(open.parent.as_deref(), Some("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AZ7t6JRezX06Ecidn-vkzXAABPDii4gAA"));
        assert!(
            text.replace("\r\n ", "")
                .contains("RELATED-TO;RELTYPE=PARENT:AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AZ7t6JRezX06Ecidn-vkzXAABPDii4gAA"),
            "{text}"
        );
        let (done, _) = task_from_step(&listed["value"][1], "t1");
        assert_eq!(done.status.as_deref(), Some("COMPLETED"));
        assert_eq!(done.completed.as_ref().map(|c| c.value.as_str()), Some("2021-11-18T09:00:01Z"));
        let (back, w) = step_from_task(&done);
        assert_eq!(back, json!({"displayName": "Review with the team", "isChecked": true, "checkedDateTime": "2021-11-18T09:00:01Z"}));
        assert!(w.is_empty(), "{w:?}");
        // a richer subtask: what a step cannot hold is named
        let rich = Task {
            description: Some("notes".into()),
            due: Some(DateOrDateTime { value: "2025-01-10".into(), tzid: None, date_only: true }),
            priority: Some(1),
            categories: vec!["Home".into()],
            status: Some("IN-PROCESS".into()),
            other_properties: vec!["X-GOOGLE-LINK".into()],
            ..open
        };
        let (back, w) = step_from_task(&rich);
        assert_eq!(back, json!({"displayName": "Create draft", "isChecked": false}));
        let text = w.join("\n");
        for lost in ["DESCRIPTION", "DUE", "PRIORITY", "CATEGORIES", "IN-PROCESS", "X-GOOGLE-LINK"] {
            assert!(text.contains(lost), "{lost} in {text}");
        }
    }

    fn task_item(id: &str, title: &str, parent: Option<&str>) -> Item {
        let t = Task { uid: id.into(), summary: Some(title.into()), parent: parent.map(str::to_owned), ..Default::default() };
        Item::of_record(id, "Home", "v1", Record::Task(t), "text/calendar", String::new())
    }

    /// A parent and its subtask put at once (as the engine puts a page): the subtask waits
    /// for its parent and becomes its step; one whose parent is not written is at the top.
    #[tokio::test]
    async fn a_subtask_goes_in_as_a_step_of_its_parent_written_in_the_same_run() {
        use crate::mock::{Answer, Request, serve};
        let url = serve(|r: Request| async move {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/v1.0/me/todo/lists") => Answer::new(200, r#"{"value": [{"id": "L1", "displayName": "Home"}]}"#),
                ("GET", "/v1.0/me/todo/lists/L1/tasks") => Answer::new(200, r#"{"value": []}"#),
                ("POST", "/v1.0/me/todo/lists/L1/tasks") => {
                    // the parent's write is slow: the subtask must wait for it
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    let id = if body["title"] == "Pay the rent" { "T-parent" } else { "T-other" };
                    Answer::new(201, &json!({"id": id, "title": body["title"]}).to_string())
                }
                ("GET", "/v1.0/me/todo/lists/L1/tasks/T-parent/checklistItems") => Answer::new(200, r#"{"value": []}"#),
                ("POST", "/v1.0/me/todo/lists/L1/tasks/T-parent/checklistItems") => {
                    assert_eq!(body, json!({"displayName": "Find the receipt", "isChecked": false}));
                    Answer::new(201, r#"{"id": "c-1", "displayName": "Find the receipt", "isChecked": false}"#)
                }
                other => panic!("unexpected {other:?}"),
            }
        })
        .await;
        let (cfg, http, _) = super::super::api::test_side(&url);
        let w = TodoWriter::default();
        let (parent, child, orphan) = (
            task_item("g-1", "Pay the rent", None),
            task_item("g-2", "Find the receipt", Some("g-1")),
            task_item("g-3", "Lost", Some("g-9")),
        );
        async fn put(w: &TodoWriter, cfg: &MicrosoftConfig, http: &Http, i: &Item) -> Result<PutOutcome, ConnectorError> {
            let Record::Task(t) = &i.record else { unreachable!() };
            w.put(cfg, http, i, t).await
        }
        let (p, c, o) = tokio::join!(put(&w, &cfg, &http, &parent), put(&w, &cfg, &http, &child), put(&w, &cfg, &http, &orphan));
        let (p, c, o) = (p.unwrap(), c.unwrap(), o.unwrap());
        assert_eq!(p.dest_id, "T-parent");
        assert_eq!(c.dest_id, "T-parent/checklistItems/c-1");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(o.dest_id, "T-other");
        assert!(o.warnings.iter().any(|x| x.contains("parent g-9 is not in this list")), "{:?}", o.warnings);
    }
}
