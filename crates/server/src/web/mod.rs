//! The web app: server-rendered pages (askama templates) with htmx, served from the
//! binary.

use crate::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
