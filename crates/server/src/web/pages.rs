//! The pages and the forms' handlers.
// handlers return a finished page as their error: it goes straight to the client
#![allow(clippy::result_large_err)]

use super::templates::{Choice, ErrorPage, Field, Home, JobPage, Jobs, Progress, Side, VerticalChoice};
use crate::access::{Caller, Session, session_of, verify_csrf};
use crate::api::download::make_link;
use crate::api::jobs::{Action, act as api_act, create_job, visible};
use crate::api::views::{CreateJob, JobView};
use crate::endpoints::{EndpointInput, offered};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ferry_jobs::{Job, JobState};

/// The visitor's session, or a new one (given to the browser with the page).
pub(crate) fn session(state: &AppState, headers: &HeaderMap) -> (Session, Option<String>) {
    match session_of(headers, &state.keys) {
        Some(s) => (s, None),
        None => {
            let s = Session::new(state.cfg.session_hours);
            let cookie = s.set_cookie(&state.keys);
            (s, Some(cookie))
        }
    }
}

pub(crate) fn page(t: impl Template, status: StatusCode, cookie: Option<String>) -> Response {
    let html = match t.render() {
        Ok(h) => h,
        Err(e) => return ApiError::internal(format!("a page could not be made: {e}")).into_response(),
    };
    let mut res = (status, Html(html)).into_response();
    if let Some(c) = cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    page(ErrorPage { nav: "", title: title.into(), message: message.into() }, status, None)
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such transfer among yours. A transfer is shown only in the browser that started it.",
    )
}

/// A form's fields, in order (a name may repeat).
pub(crate) fn fields(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A form posted with the session's CSRF token, from this service's own page.
pub(crate) fn checked(state: &AppState, headers: &HeaderMap, form: &[(String, String)]) -> Result<Session, Response> {
    let Some(s) = session_of(headers, &state.keys) else {
        return Err(error_page(StatusCode::FORBIDDEN, "Your session has ended", "Open the start page again and fill in the form anew."));
    };
    if !verify_csrf(headers, &s, &state.keys, &state.public_url, field(form, "csrf")) {
        return Err(error_page(StatusCode::FORBIDDEN, "This form has expired", "Reload the page and send the form again."));
    }
    Ok(s)
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let (s, cookie) = session(&state, &headers);
    // back from a provider: `?destination_connector=NAME&destination_account=ID`, shown
    // connected if the account is this visitor's
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let mut sent = Vec::new();
    for role in ["source", "destination"] {
        if let (Some(c), Some(a)) = (field(&query, &format!("{role}_connector")), field(&query, &format!("{role}_account")))
            && crate::oauth::is_theirs(&state, &s.owner(), a, c).await
        {
            sent.push((format!("{role}_connector"), c.to_owned()));
            sent.push((format!("{role}_account:{c}"), a.to_owned()));
        }
    }
    page(form(&state, &s, &sent, None), StatusCode::OK, cookie)
}

/// The transfer form, filled in with what was sent (never a password).
fn form(state: &AppState, s: &Session, sent: &[(String, String)], error: Option<String>) -> Home {
    let offered = offered(state);
    let chosen_verticals: Vec<&str> = sent.iter().filter(|(n, _)| n == "verticals").map(|(_, v)| v.as_str()).collect();
    let verticals = ferry_verticals::VERTICALS
        .iter()
        .map(|v| VerticalChoice { name: v.as_str().into(), label: label(v.as_str()), chosen: chosen_verticals.contains(&v.as_str()) })
        .collect();
    let side = |role: &'static str, step: u8, title: &'static str, default: &str| {
        let chosen = field(sent, &format!("{role}_connector")).unwrap_or(default).to_owned();
        let connectors = offered
            .iter()
            .filter(|c| if role == "source" { !c.exports.is_empty() } else { !c.imports.is_empty() })
            .map(|c| Choice {
                connect_url: state.cfg.providers.contains_key(&c.name).then(|| format!("/connect/{}?role={role}", c.name)),
                account: field(sent, &format!("{role}_account:{}", c.name)).map(str::to_owned),
                name: c.name.clone(),
                title: state.cfg.providers.get(&c.name).map_or_else(|| title_of(&c.name), |p| p.title.clone()),
                description: c.description.clone(),
                chosen: c.name == chosen,
                fields: if state.cfg.providers.contains_key(&c.name) { serde_json::Value::Null } else { c.config["properties"].clone() }
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(name, p)| {
                                let password = p["format"] == "password";
                                Field {
                                    name: name.clone(),
                                    title: p["title"].as_str().unwrap_or(name).to_owned(),
                                    kind: if password { "password" } else { "text" },
                                    help: p["description"].as_str().unwrap_or_default().to_owned(),
                                    value: if password {
                                        String::new()
                                    } else {
                                        field(sent, &format!("{role}_{name}:{}", c.name)).unwrap_or_default().to_owned()
                                    },
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        Side { role, step, title, connectors }
    };
    Home {
        nav: "new",
        csrf: s.csrf(&state.keys),
        error,
        verticals,
        sides: vec![side("source", 2, "Where it comes from", "example"), side("destination", 3, "Where it goes", "package")],
        dry_run: field(sent, "dry_run").is_some(),
    }
}

fn label(vertical: &str) -> String {
    match vertical {
        "contacts" => "Contacts".into(),
        "calendar" => "Calendars".into(),
        "tasks" => "Tasks".into(),
        "mail" => "Mail".into(),
        "media" => "Photos and videos".into(),
        "files" => "Files".into(),
        "notes" => "Notes".into(),
        other => other.replace('_', " "),
    }
}

fn title_of(connector: &str) -> String {
    match connector {
        "example" => "Example account".into(),
        "package" => "Download a package".into(),
        "dir" => "A folder on this server".into(),
        "imap" => "Mail server (IMAP)".into(),
        "caldav" => "Calendar server (CalDAV)".into(),
        "carddav" => "Contacts server (CardDAV)".into(),
        "webdav" => "File server (WebDAV)".into(),
        other => other.into(),
    }
}

pub async fn start(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let sent = fields(&body);
    let s = match checked(&state, &headers, &sent) {
        Ok(s) => s,
        Err(res) => return res,
    };
    let side = |role: &str| {
        let connector = field(&sent, &format!("{role}_connector")).unwrap_or_default().to_owned();
        EndpointInput {
            address: field(&sent, &format!("{role}_address:{connector}")).unwrap_or_default().to_owned(),
            password: field(&sent, &format!("{role}_password:{connector}")).map(str::to_owned),
            account: field(&sent, &format!("{role}_account:{connector}")).map(str::to_owned),
            connector,
        }
    };
    let req = CreateJob {
        source: side("source"),
        destination: side("destination"),
        verticals: sent.iter().filter(|(n, _)| n == "verticals").map(|(_, v)| v.clone()).collect(),
        dry_run: field(&sent, "dry_run").is_some(),
        incremental: false,
        start: true,
    };
    match create_job(&state, &Caller::Person(s.clone()), &req).await {
        Ok(job) => Redirect::to(&format!("/jobs/{}", job.id)).into_response(),
        Err(e) => {
            let status = if e.status.is_server_error() { e.status } else { StatusCode::BAD_REQUEST };
            page(form(&state, &s, &sent, Some(e.body.message)), status, None)
        }
    }
}

pub async fn jobs(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (s, cookie) = session(&state, &headers);
    let jobs = match state.service.store().jobs(Some(&s.owner()), 200).await {
        Ok(j) => j,
        Err(e) => return ApiError::from(e).into_response(),
    };
    page(Jobs { nav: "jobs", jobs: jobs.iter().map(|j| JobView::of(&state, j)).collect() }, StatusCode::OK, cookie)
}

/// The job of the visitor, if it is theirs.
async fn theirs(state: &AppState, headers: &HeaderMap, id: &str) -> Result<(Session, Job), Response> {
    let Some(s) = session_of(headers, &state.keys) else { return Err(not_found()) };
    match visible(state, &Caller::Person(s.clone()), id).await {
        Ok(job) => Ok((s, job)),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(not_found()),
        Err(e) => Err(e.into_response()),
    }
}

pub async fn job(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (s, job) = match theirs(&state, &headers, &id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let progress = match progress_of(&state, &s, &job).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    page(JobPage { nav: "jobs", job: JobView::of(&state, &job), progress }, StatusCode::OK, None)
}

pub async fn progress(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (s, job) = match theirs(&state, &headers, &id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match progress_of(&state, &s, &job).await {
        Ok(html) => Html(html).into_response(),
        Err(res) => res,
    }
}

async fn progress_of(state: &AppState, s: &Session, job: &Job) -> Result<String, Response> {
    let report = state.reports.get(&state.service, job).await.map_err(|e| ApiError::from(e).into_response())?;
    let live = matches!(job.state, JobState::Created | JobState::Authorizing | JobState::Queued | JobState::Running);
    let t = &report.totals;
    let status = match job.state {
        JobState::Created | JobState::Authorizing => "Created; not started yet.".to_owned(),
        JobState::Queued => "Waiting for its turn…".to_owned(),
        JobState::Running => format!("Moving your data… {} item(s) so far.", t.found),
        JobState::Paused => "Paused. Resume it to go on where it stopped.".to_owned(),
        JobState::Completed if report.dry_run => format!("Trial done: {} item(s) would move, nothing was written.", t.found),
        JobState::Completed => format!("Done: all {} item(s) are at the destination.", t.found),
        JobState::CompletedWithErrors => format!("Done, but {} item(s) failed: see why below.", t.failed),
        JobState::Failed => "Stopped on an error. You can resume it once the cause is fixed.".to_owned(),
        JobState::Cancelled => "Cancelled.".to_owned(),
    };
    let view = JobView::of(state, job);
    Progress {
        report,
        csrf: s.csrf(&state.keys),
        live,
        status,
        can_pause: matches!(job.state, JobState::Queued | JobState::Running),
        can_resume: matches!(job.state, JobState::Paused | JobState::Failed | JobState::Created),
        can_cancel: !job.state.is_final(),
        job: view,
    }
    .render()
    .map_err(|e| ApiError::internal(format!("a page could not be made: {e}")).into_response())
}

pub async fn act(State(state): State<AppState>, headers: HeaderMap, Path((id, action)): Path<(String, String)>, body: Bytes) -> Response {
    let sent = fields(&body);
    let s = match checked(&state, &headers, &sent) {
        Ok(s) => s,
        Err(res) => return res,
    };
    let caller = Caller::Person(s);
    let back = Redirect::to(&format!("/jobs/{id}")).into_response();
    let action = match action.as_str() {
        "pause" => Action::Pause,
        "resume" => Action::Resume,
        "cancel" => Action::Cancel,
        "download" => {
            let job = match visible(&state, &caller, &id).await {
                Ok(j) => j,
                Err(_) => return not_found(),
            };
            return match make_link(&state, &job) {
                Ok(link) => Redirect::to(&link.url).into_response(),
                Err(e) => error_page(e.status, "No package to download", &e.body.message),
            };
        }
        _ => return not_found(),
    };
    match api_act(&state, &caller, &id, action).await {
        Ok(_) => back,
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found(),
        Err(e) => error_page(e.status, "That did not work", &e.body.message),
    }
}
