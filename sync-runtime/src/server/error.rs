//! Error answers: every refusal of the HTTP layer and of the engine as a status and the
//! protocol's `{"error": {...}}` body, with its code recorded in the request's log line.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::engine::Refusal;
use crate::protocol::{SyncError, SyncErrorResponse};

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("{0}")]
    Unauthorized(AuthError),
    #[error(
        "the body must be JSON: send `Content-Type: application/json`{}",
        match .0 { Some(got) => format!(", not `{got}`"), None => String::new() }
    )]
    UnsupportedMediaType(Option<String>),
    #[error("the body is larger than the limit of {limit} bytes: send fewer changes per request")]
    BodyTooLarge { limit: usize },
    #[error("the body could not be read: {0}")]
    BodyUnreadable(String),
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(serde_json::Error),
    /// JSON that is not a sync request; the path names the field (`changes[3].op`).
    #[error("the body is not a sync request: at `{path}`: {inner}")]
    InvalidRequest { path: String, inner: serde_json::Error },
    #[error(
        "no route for {method} {path}: the sync server serves POST /api/sync, GET /api/events and \
         GET /healthz"
    )]
    NotFound { method: String, path: String },
    #[error("{path} does not take {method}")]
    MethodNotAllowed { method: String, path: String },
    /// The database could not be reached for a health check.
    #[error("{}", .0.error.message)]
    Unavailable(Refusal),
    /// The engine refused the request; its status and body are answered as they are.
    #[error("{0}")]
    Refused(Refusal),
    #[error("the server failed while handling the request; it is logged with the request id")]
    Panic,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyUnreadable(_)
            | ApiError::InvalidJson(_)
            | ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Refused(refusal) => {
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Panic => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &str {
        match self {
            ApiError::Unauthorized(error) => error.code(),
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::BodyUnreadable(_) => "body_unreadable",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidRequest { .. } => "invalid_request",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unavailable(_) => "database_unavailable",
            ApiError::Refused(refusal) => &refusal.error.code,
            ApiError::Panic => "internal",
        }
    }

    fn into_body(self) -> SyncError {
        let code = self.code().to_owned();
        match self {
            ApiError::Refused(refusal) => *refusal.error,
            other => {
                SyncError { code, message: other.to_string(), table: None, key: None, column: None }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        tracing::Span::current().record("error", tracing::field::display(self.code()));
        let challenge = match &self {
            ApiError::Unauthorized(AuthError::MissingHeader) => Some("Bearer"),
            ApiError::Unauthorized(_) => Some("Bearer error=\"invalid_token\""),
            _ => None,
        };
        let mut response =
            (status, Json(SyncErrorResponse { error: self.into_body() })).into_response();
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}
