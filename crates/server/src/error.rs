//! Errors as the API answers them: a JSON object with a stable `code` that programs match
//! on and a `message` a person can act on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferry_app::AppError;
use ferry_jobs::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable: `bad_request`, `unauthenticated`, `forbidden`, `csrf`, `not_found`,
    /// `method_not_allowed`, `conflict`, `missing_credential`, `failed`, `rate_limited`,
    /// `expired`, `unavailable`, `internal`.
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// What went wrong and what to do about it.
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, body: ErrorBody { code, message: message.into() } }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first: open the web app, or POST /api/session for a session cookie, or send an operator's API token as `Authorization: Bearer`",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A job that does not exist and one that is somebody else's look the same: nobody
    /// learns which job ids exist.
    pub fn no_job(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no job `{id}` among yours"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Usage(m) => ApiError::bad_request(m),
            e @ AppError::MissingPassword { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "missing_credential", format!("{e}: give it in the form"))
            }
            e @ (AppError::Busy { .. } | AppError::LeaseLost(_)) => ApiError::conflict(e.to_string()),
            AppError::Store(e) => e.into(),
            AppError::Failed(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "failed", m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchJob(id) => ApiError::no_job(&id),
            StoreError::Busy(_) | StoreError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the job store cannot be reached just now; try again in a moment",
            ),
            StoreError::LeaseLost(m) => ApiError::conflict(m),
            StoreError::Corrupt(m) => {
                tracing::error!("job store: {m}");
                ApiError::internal("the job store holds data this server cannot read; the operator has been told in the log")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.body.code, "{}", self.body.message);
        }
        (self.status, Json(self.body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body, whose rejections are answered like every other error (not as axum's
/// plain text).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "bad_request",
                "send the body as JSON, with `Content-Type: application/json`",
            )),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "bad_request",
                "the request body is larger than this service takes (64 KiB)",
            )),
            Err(e) => Err(ApiError::bad_request(format!("the request body is not what this route takes: {}", e.body_text()))),
        }
    }
}

/// A route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page or route; the API is described at /api/openapi.json")
}

/// A method a route does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method; see /api/openapi.json")
}
