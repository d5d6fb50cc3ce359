//! The web app: server-rendered pages (askama templates in `templates/`), htmx and the
//! style sheet served from the binary. A visitor gets a session cookie on their first
//! page; every form carries the session's CSRF token. The forms to connect a source or a
//! destination are drawn from the connectors' configuration schemas
//! (`GET /api/connectors`), and work without JavaScript (the chosen connector's fields
//! show by CSS alone); htmx refreshes a running job's progress every second.

mod assets;
pub(crate) mod pages;
pub(crate) mod templates;

pub(crate) use pages::error_page;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/transfers", post(pages::start))
        .route("/jobs", get(pages::jobs))
        .route("/jobs/{id}", get(pages::job))
        .route("/jobs/{id}/progress", get(pages::progress))
        .route("/jobs/{id}/{action}", post(pages::act))
        .route("/assets/{name}", get(assets::asset))
        .route("/connect/{provider}", get(crate::oauth::connect))
        .route("/oauth/callback", get(crate::oauth::callback))
}
