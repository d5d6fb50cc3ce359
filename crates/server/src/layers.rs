//! What wraps every request: a request id and a tracing span (with the id and, on job
//! routes, the job id), the per-client rate limit, the body size limit, metrics, and the
//! security headers on every answer.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Instant;

/// Largest request body: forms and JSON only come in.
const BODY_LIMIT: usize = 64 * 1024;

/// Every page's Content-Security-Policy: its own scripts, styles and images only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
    font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn apply(app: Router<AppState>, state: AppState) -> Router<AppState> {
    app.layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state, observe))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(security_headers))
}

/// A handler that panicked: the client gets the usual JSON error, the log the panic.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal("this request failed inside the server; the operator has been told in the log").into_response()
}

async fn security_headers(req: Request, next: Next) -> Response {
    let https = req.uri().scheme_str() == Some("https");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    // same-origin: a form of this service says where it comes from (`Origin`), which the
    // CSRF check compares; other sites learn nothing
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(h, HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()");
    set(h, header::CACHE_CONTROL, "no-store");
    if https {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    res
}

/// A request id (the client's `X-Request-Id` if it is short and plain, else a new one),
/// a span that every log line of the request carries, and the request's metrics.
async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "(none)".into());
    // the job id, when the route names one (never a download token)
    let job = route
        .starts_with("/api/jobs/{id}")
        .then(|| req.uri().path().split('/').nth(3).unwrap_or_default().to_owned())
        .or_else(|| route.starts_with("/jobs/{id}").then(|| req.uri().path().split('/').nth(2).unwrap_or_default().to_owned()))
        .unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %id, job = %job, method = %req.method(), route = %route);
    req.headers_mut().insert("x-request-id", HeaderValue::from_str(&id).expect("plain"));
    let mut res = {
        use tracing::Instrument;
        next.run(req).instrument(span.clone()).await
    };
    let took = start.elapsed();
    state.metrics.request(&route, res.status().as_u16(), took);
    span.in_scope(|| tracing::debug!(status = res.status().as_u16(), ms = took.as_secs_f64() * 1000.0, "answered"));
    res.headers_mut().insert("x-request-id", HeaderValue::from_str(&id).expect("plain"));
    res
}

/// The per-client limiter for `requests_per_second` a client.
pub fn limiter(requests_per_second: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    let per_second = NonZeroU32::new(requests_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = per_second.saturating_mul(NonZeroU32::new(10).expect("ten"));
    RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
}

/// Requests a second per client IP address, with bursts of ten times as many; health
/// and metrics routes are not limited (probes and scrapers).
async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    let limiter = &state.limiter;
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match limiter.check_key(&ip) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            let secs = wait.as_secs() + 1;
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from your address; try again in {secs} s"),
            )
            .into_response();
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            res
        }
    }
}
