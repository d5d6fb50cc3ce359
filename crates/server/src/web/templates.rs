//! The pages' data, one struct per template.

use crate::api::views::{JobView, ReportView};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home {
    pub nav: &'static str,
    pub csrf: String,
    pub error: Option<String>,
    pub verticals: Vec<VerticalChoice>,
    pub sides: Vec<Side>,
    pub dry_run: bool,
}

pub struct VerticalChoice {
    pub name: String,
    pub label: String,
    pub chosen: bool,
}

/// The source's or the destination's choices.
pub struct Side {
    pub role: &'static str,
    pub step: u8,
    pub title: &'static str,
    pub connectors: Vec<Choice>,
}

pub struct Choice {
    /// For a provider's account: where to connect it.
    pub connect_url: Option<String>,
    /// The account connected, if it is.
    pub account: Option<String>,
    pub name: String,
    pub title: String,
    pub description: String,
    pub chosen: bool,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub name: String,
    pub title: String,
    /// `text` or `password`.
    pub kind: &'static str,
    pub help: String,
    /// What was typed before (never a password).
    pub value: String,
}

#[derive(Template)]
#[template(path = "job.html")]
pub struct JobPage {
    pub nav: &'static str,
    pub job: JobView,
    /// The rendered [`Progress`].
    pub progress: String,
}

#[derive(Template)]
#[template(path = "progress.html")]
pub struct Progress {
    pub job: JobView,
    pub report: ReportView,
    pub csrf: String,
    /// Still moving: the section refreshes itself.
    pub live: bool,
    pub status: String,
    pub can_pause: bool,
    pub can_resume: bool,
    pub can_cancel: bool,
}

#[derive(Template)]
#[template(path = "jobs.html")]
pub struct Jobs {
    pub nav: &'static str,
    pub jobs: Vec<JobView>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub nav: &'static str,
    pub title: String,
    pub message: String,
}

/// The request page: a person asks for their data.
#[derive(Template)]
#[template(path = "rights_new.html")]
pub struct RightsNew {
    pub nav: &'static str,
    pub company: String,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
}

/// A person's request, as they follow it.
#[derive(Template)]
#[template(path = "rights_request.html")]
pub struct RightsRequest {
    pub nav: &'static str,
    pub id: String,
    pub key: String,
    pub csrf: String,
    pub received: String,
    pub state: String,
    pub due: Option<String>,
    pub verifying: bool,
    pub refusal: Option<String>,
    pub links: Vec<crate::rights::views::AnswerLink>,
    pub links_until: String,
    pub message: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff_signin.html")]
pub struct StaffSignIn {
    pub nav: &'static str,
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff_queue.html")]
pub struct StaffQueue {
    pub nav: &'static str,
    pub requests: Vec<crate::rights::views::RequestView>,
}

#[derive(Template)]
#[template(path = "staff_request.html")]
pub struct StaffRequest {
    pub nav: &'static str,
    pub d: crate::rights::views::RequestDetail,
    pub csrf: String,
    pub reasons: Vec<&'static str>,
    pub preview: Vec<PreviewTablePage>,
    pub message: Option<String>,
    pub error: Option<String>,
}

/// A table of the draft as the staff page shows it: cells as text.
pub struct PreviewTablePage {
    pub part: String,
    pub database: String,
    pub table: String,
    pub rows: u64,
    pub fields: Vec<String>,
    pub rows_shown: Vec<PreviewRowPage>,
}

pub struct PreviewRowPage {
    pub id: String,
    pub cells: Vec<String>,
}
