//! What the API answers with: jobs and reports as people and programs see them.

use crate::access::job_key;
use crate::endpoints::{EndpointInput, describe};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use ferry_jobs::{ItemProblem, Job, Report};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A transfer to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"source": {"connector": "example"}, "destination": {"connector": "package"}, "verticals": ["contacts"], "start": false}))]
pub struct CreateJob {
    pub source: EndpointInput,
    pub destination: EndpointInput,
    /// Data types to move (`contacts`, `calendar`, `tasks`, `mail`, `media`, `files`,
    /// `notes`); empty or absent for every one both sides support.
    #[serde(default)]
    pub verticals: Vec<String>,
    /// Read everything, write nothing, report what would move.
    #[serde(default)]
    pub dry_run: bool,
    /// Skip what an earlier job between the same two places moved and what has not
    /// changed since (not for a package).
    #[serde(default)]
    pub incremental: bool,
    /// Queue the job to run at once (default); false leaves it created until
    /// `POST /api/jobs/{id}/start`.
    #[serde(default = "yes")]
    pub start: bool,
}

fn yes() -> bool {
    true
}

/// A job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    /// `created`, `queued`, `running`, `paused`, `completed`, `completed_with_errors`,
    /// `failed` or `cancelled`.
    #[schema(example = "running")]
    pub state: String,
    /// Why it failed or stopped, when it did.
    pub reason: Option<String>,
    pub source: String,
    pub destination: String,
    pub verticals: Vec<String>,
    pub dry_run: bool,
    pub incremental: bool,
    /// A cancel was asked for and the worker running the job has not seen it yet.
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether a package can be downloaded (`POST /api/jobs/{id}/download`).
    pub downloadable: bool,
    /// The job's key, given once, when it is created: send it as `X-Ferry-Job-Key` to see
    /// and control this job without the session that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl JobView {
    pub fn of(state: &AppState, job: &Job) -> JobView {
        JobView {
            id: job.id.clone(),
            state: job.state.as_str().to_owned(),
            reason: job.reason.clone(),
            source: describe(state, &job.spec.source),
            destination: describe(state, &job.spec.destination),
            verticals: job.spec.verticals.iter().map(|v| v.as_str().to_owned()).collect(),
            dry_run: job.spec.options.dry_run,
            incremental: job.spec.options.incremental,
            cancel_requested: job.cancel_requested,
            created_at: job.created_at,
            updated_at: job.updated_at,
            downloadable: crate::api::download::package_of(state, job).is_some(),
            key: None,
        }
    }

    /// The view its creator gets, with the job's key.
    pub fn created(state: &AppState, job: &Job) -> JobView {
        JobView { key: Some(job_key(&state.keys, &job.id)), ..JobView::of(state, job) }
    }
}

/// What a job did, per data type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub job_id: String,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub verticals: Vec<VerticalReportView>,
    pub totals: Counts,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Counts {
    pub found: u64,
    pub transferred: u64,
    pub already_present: u64,
    pub skipped: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerticalReportView {
    pub vertical: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// Each item that failed, with why (at most 1,000 are listed).
    pub failures: Vec<Problem>,
    /// What the destination could not keep of an item (at most 1,000 are listed).
    pub fidelity_warnings: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    pub item: String,
    pub reason: String,
}

fn problems(p: &[ItemProblem]) -> Vec<Problem> {
    p.iter().map(|p| Problem { item: p.item.clone(), reason: p.reason.clone() }).collect()
}

impl From<&Report> for ReportView {
    fn from(r: &Report) -> ReportView {
        let counts = |v: &ferry_jobs::VerticalReport| Counts {
            found: v.found,
            transferred: v.transferred,
            already_present: v.already_present,
            skipped: v.skipped,
            failed: v.failed,
        };
        ReportView {
            job_id: r.job_id.clone(),
            state: r.state.map(|s| s.as_str().to_owned()),
            reason: r.reason.clone(),
            dry_run: r.dry_run,
            verticals: r
                .verticals
                .iter()
                .map(|(v, vr)| VerticalReportView {
                    vertical: v.as_str().to_owned(),
                    counts: counts(vr),
                    failures: problems(&vr.failures),
                    fidelity_warnings: problems(&vr.fidelity_warnings),
                })
                .collect(),
            totals: counts(&r.totals()),
        }
    }
}

/// A link that downloads a job's package without signing in, until it expires.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DownloadLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A session for a person, as `POST /api/session` gives it (the cookie comes with it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// Send it as `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Reports as recently read, by job, for [`ReportCache::TTL`].
#[derive(Default)]
pub struct ReportCache(std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, ReportView)>>);

impl ReportCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_millis(250);

    /// The job's report: a running or queued job's from the store at most once a
    /// [`Self::TTL`]; any other's (at rest, it is what the caller acts on) always fresh.
    pub async fn get(&self, service: &ferry_app::JobService, job: &Job) -> Result<ReportView, ferry_app::AppError> {
        use ferry_jobs::JobState::{Queued, Running};
        let moving = matches!(job.state, Queued | Running);
        if !moving {
            return Ok(ReportView::from(&service.report(&job.id).await?));
        }
        let job = job.id.as_str();
        if let Some((at, r)) = self.0.lock().unwrap().get(job)
            && at.elapsed() < Self::TTL
        {
            return Ok(r.clone());
        }
        let r = ReportView::from(&service.report(job).await?);
        let mut map = self.0.lock().unwrap();
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < Self::TTL);
        }
        map.insert(job.to_owned(), (std::time::Instant::now(), r.clone()));
        Ok(r)
    }
}
