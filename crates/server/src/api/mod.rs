//! The HTTP API under `/api/`, described by the OpenAPI document at `/api/openapi.json`
//! (checked in as docs/openapi.json).

pub mod download;
pub mod events;
pub mod jobs;
pub mod views;

use crate::access::Session;
use crate::endpoints::{ConnectorView, offered};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use utoipa::OpenApi;
use views::SessionView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/connectors", get(connectors))
        .route("/api/session", post(session))
        .route("/api/jobs", get(jobs::list).post(jobs::create))
        .route("/api/jobs/{id}", get(jobs::show))
        .route("/api/jobs/{id}/report", get(jobs::report))
        .route("/api/jobs/{id}/events", get(events::events))
        .route("/api/jobs/{id}/start", post(jobs::start))
        .route("/api/jobs/{id}/pause", post(jobs::pause))
        .route("/api/jobs/{id}/resume", post(jobs::resume))
        .route("/api/jobs/{id}/cancel", post(jobs::cancel))
        .route("/api/jobs/{id}/download", post(download::link))
        .route("/download/{token}", get(download::fetch))
        .route("/api/openapi.json", get(openapi))
}

#[utoipa::path(get, path = "/api/connectors", tag = "connectors",
    responses((status = 200, body = Vec<ConnectorView>, description = "What this server offers as sources and destinations, with the form each takes"),
        (status = 429, body = ErrorBody)))]
async fn connectors(State(state): State<AppState>) -> Json<Vec<ConnectorView>> {
    Json(offered(&state))
}

#[utoipa::path(post, path = "/api/session", tag = "session",
    responses((status = 201, body = SessionView, description = "A new session; its cookie comes in `Set-Cookie`"),
        (status = 403, body = ErrorBody, description = "Asked for from another site"), (status = 429, body = ErrorBody)))]
async fn session(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    // a page of another site must not give its visitor a session of its choosing
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && origin.trim_end_matches('/') != state.public_url
    {
        return Err(ApiError::forbidden("sessions are given to this service's own pages only"));
    }
    let s = Session::new(state.cfg.session_hours);
    let view =
        SessionView { csrf_token: s.csrf(&state.keys), expires_at: chrono::DateTime::from_timestamp(s.expires, 0).unwrap_or_default() };
    Ok((StatusCode::CREATED, [(header::SET_COOKIE, s.set_cookie(&state.keys))], Json(view)).into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "ferry", description = "Move a person's data from one service to another, and prove that nothing was lost.",
        license(name = "Apache-2.0")),
    paths(connectors, session, jobs::create, jobs::list, jobs::show, jobs::report, events::events, jobs::start, jobs::pause,
        jobs::resume, jobs::cancel, download::link, download::fetch,
        crate::rights::api::list, crate::rights::api::create, crate::rights::api::audit, crate::rights::api::show,
        crate::rights::api::verify, crate::rights::api::extend, crate::rights::api::answer, crate::rights::api::preview,
        crate::rights::api::withhold, crate::rights::api::review, crate::rights::api::deliver, crate::rights::api::links,
        crate::rights::api::transfer, crate::rights::api::refuse, crate::rights::api::withdraw, crate::rights::links::fetch,
        crate::rights::transfer::receive, crate::rights::transfer::list),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags((name = "connectors", description = "What can be moved, from where, to where"),
        (name = "session", description = "A person's session"),
        (name = "jobs", description = "Transfers"),
        (name = "requests", description = "Portability and access requests a company answers from its own databases (staff: an operator's API token)"),
        (name = "imports", description = "Packages another company's ferry sends here for a person (signed requests)")),
)]
struct ApiDoc;

/// The ways to authenticate, as the document declares them.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        components.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::access::SESSION_COOKIE))));
        components.add_security_scheme("job_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Ferry-Job-Key"))));
        // every route but the public ones takes one of the three
        let any =
            ["session", "api_token", "job_key"].map(|s| utoipa::openapi::security::SecurityRequirement::new::<_, [&str; 0], &str>(s, []));
        for (path, item) in openapi.paths.paths.iter_mut() {
            if matches!(path.as_str(), "/api/connectors" | "/api/session" | "/download/{token}" | "/answers/{token}") {
                continue;
            }
            if path == "/api/imports" {
                // receiving is signed (X-Ferry-Signature), listing is staff's
                if let Some(op) = item.get.as_mut() {
                    op.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new::<_, [&str; 0], &str>("api_token", [])]);
                }
                continue;
            }
            if path.starts_with("/api/requests") {
                for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                    op.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new::<_, [&str; 0], &str>("api_token", [])]);
                }
                continue;
            }
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                op.security = Some(any.to_vec());
            }
        }
        // a new job's (request's) id leads to the routes of that job (request): for clients, and for fuzzers
        for base in ["/api/jobs", "/api/requests"] {
            let prefix = format!("{base}/{{id}}");
            let ops: Vec<String> = openapi
                .paths
                .paths
                .iter()
                .filter(|(path, _)| path.starts_with(&prefix))
                .flat_map(|(_, item)| [&item.get, &item.post].into_iter().flatten().filter_map(|op| op.operation_id.clone()))
                .collect();
            if let Some(create) = openapi.paths.paths.get_mut(base).and_then(|i| i.post.as_mut())
                && let Some(utoipa::openapi::RefOr::T(created)) = create.responses.responses.get_mut("201")
            {
                for op in ops {
                    let link =
                        utoipa::openapi::link::LinkBuilder::new().operation_id(op.clone()).parameter("id", "$response.body#/id").build();
                    created.links.insert(op, utoipa::openapi::RefOr::T(link));
                }
            }
        }
    }
}

/// The OpenAPI document, as served and as checked in (docs/openapi.json).
pub fn document() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut value = serde_json::to_value(&doc).expect("the document serializes");
    // utoipa writes a link's `operationId` as `operation_id`
    for base in ["~1api~1jobs", "~1api~1requests"] {
        if let Some(links) = value.pointer_mut(&format!("/paths/{base}/post/responses/201/links")).and_then(|l| l.as_object_mut()) {
            for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                if let Some(id) = link.remove("operation_id") {
                    link.insert("operationId".into(), id);
                }
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&value).expect("the document serializes");
    s.push('\n');
    s
}
