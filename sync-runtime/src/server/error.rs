//! Error answers: every refusal of the HTTP layer and of the engine as a status and the
//! protocol's `{"error": {...}}` body, with its code recorded in the request's log line. A code
//! always comes with the same status, so [`status`] is the one table of statuses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::engine::Refusal;
use crate::protocol::{ErrorCode, SyncError, SyncErrorResponse};

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
    #[error(
        "the body did not arrive within {} s of the request's head: send it faster, or in \
         smaller requests",
        .0.as_secs_f64()
    )]
    BodyTimeout(std::time::Duration),
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
    #[error("{0}")]
    Unavailable(Refusal),
    /// The engine refused the request; the body names where, when the refusal knows.
    #[error("{0}")]
    Refused(Refusal),
    #[error("the server failed while handling the request; it is logged with the request id")]
    Panic,
    #[error(
        "this user sent more requests than the server allows each user; retry in {retry_after} s"
    )]
    RateLimited { retry_after: u32 },
    #[error(
        "the server is serving as many requests as it takes at once; retry in {} s",
        super::limits::OVERLOADED_RETRY_AFTER_SECS
    )]
    Overloaded,
    /// `GET /metrics` with a bearer token that is not the server's metrics token.
    #[error("the bearer token is not this server's metrics token (--metrics-token)")]
    WrongMetricsToken,
}

impl ApiError {
    fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthorized(error) => error.code(),
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            ApiError::BodyUnreadable(_) | ApiError::BodyTimeout(_) => ErrorCode::BodyUnreadable,
            ApiError::InvalidJson(_) => ErrorCode::InvalidJson,
            ApiError::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            ApiError::Refused(refusal) => refusal.code(),
            ApiError::Panic => ErrorCode::Internal,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Overloaded => ErrorCode::Overloaded,
            ApiError::WrongMetricsToken => ErrorCode::BadSignature,
        }
    }

    fn into_body(self) -> SyncError {
        let at = match &self {
            ApiError::Refused(refusal) => refusal.location(),
            _ => None,
        };
        SyncError {
            code: self.code(),
            message: self.to_string(),
            table: at.and_then(|at| at.table.clone()),
            key: at.and_then(|at| at.key.clone()),
            column: at.and_then(|at| at.column.clone()),
        }
    }
}

/// The status of every answer with `code`.
fn status(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        MissingAuthorization
        | NotBearer
        | EmptyToken
        | MalformedToken
        | UnsignedToken
        | UnsupportedAlgorithm
        | AlgorithmNotConfigured
        | MissingKid
        | UnknownKid
        | KeyAlgorithmMismatch
        | BadSignature
        | TokenExpired
        | TokenNotYetValid
        | WrongAudience
        | MissingClaim
        | InvalidClaim
        | MissingSubject
        | InvalidDevUserId => StatusCode::UNAUTHORIZED,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyTooLarge | TooManyChanges => StatusCode::PAYLOAD_TOO_LARGE,
        BodyUnreadable | InvalidJson | InvalidRequest | InvalidPageSize | BadCursor
        | UnknownTable | InvalidRow | UnknownColumn | MissingKey | MissingColumn | InvalidValue
        | NullValue | DuplicateChange | DeleteNotSupported | NotSyncable => StatusCode::BAD_REQUEST,
        UpgradeRequired => StatusCode::UPGRADE_REQUIRED,
        UnsupportedSchemaVersion | ConstraintViolation => StatusCode::CONFLICT,
        Forbidden => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ResyncRequired => StatusCode::GONE,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Overloaded | Busy | DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// How many seconds a client should wait before it tries again after an answer with `code`: a
/// moment after a conflict or when the server is full, longer while the database cannot be
/// reached. A per-user limit says itself when the user may send again.
fn retry_after(code: ErrorCode) -> Option<u32> {
    match code {
        ErrorCode::Busy => Some(1),
        ErrorCode::Overloaded => Some(super::limits::OVERLOADED_RETRY_AFTER_SECS),
        ErrorCode::DatabaseUnavailable => Some(5),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        tracing::Span::current().record("error", tracing::field::display(code));
        let challenge = match &self {
            ApiError::Unauthorized(AuthError::MissingHeader) => Some("Bearer"),
            ApiError::Unauthorized(_) | ApiError::WrongMetricsToken => {
                Some("Bearer error=\"invalid_token\"")
            }
            _ => None,
        };
        let retry = match &self {
            ApiError::RateLimited { retry_after } => Some(*retry_after),
            _ => retry_after(code),
        };
        let mut response =
            (status(code), Json(SyncErrorResponse { error: self.into_body() })).into_response();
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(seconds) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        // For the request counts of `/metrics`, by code.
        response.extensions_mut().insert(code);
        response
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use serde_json::{Value, json};

    use super::*;
    use crate::engine::{Invalid, Located};

    /// The status and the JSON body `error` is answered with.
    async fn answer(error: ApiError) -> (StatusCode, Value) {
        let response = error.into_response();
        let status = response.status();
        let body = response.into_body().collect().await.expect("a body in memory").to_bytes();
        (status, serde_json::from_slice(&body).expect("a JSON body"))
    }

    /// The engine's refusals that no bad request provokes, and a refusal of a change, which
    /// names its place in the body.
    #[tokio::test]
    async fn refusals_are_answered_with_their_codes_status() {
        let busy = json!({ "error": { "code": "busy",
            "message": "concurrent writes to the same rows kept conflicting; retry the sync" } });
        assert_eq!(
            answer(ApiError::Refused(Refusal::Busy)).await,
            (StatusCode::SERVICE_UNAVAILABLE, busy)
        );
        let failed = json!({ "error": { "code": "internal",
            "message": "the server's database failed; retry later" } });
        assert_eq!(
            answer(ApiError::Refused(Refusal::Database)).await,
            (StatusCode::INTERNAL_SERVER_ERROR, failed.clone())
        );
        let mut unavailable = failed;
        unavailable["error"]["code"] = json!("database_unavailable");
        assert_eq!(
            answer(ApiError::Unavailable(Refusal::Database)).await,
            (StatusCode::SERVICE_UNAVAILABLE, unavailable)
        );
        let key = json!({ "id": 1 }).as_object().cloned().expect("an object");
        let at = Located::table("tune", "a sentence").key(&key).column("title");
        let invalid = json!({ "error": { "code": "null_value", "message": "a sentence",
            "table": "tune", "key": { "id": 1 }, "column": "title" } });
        assert_eq!(
            answer(ApiError::Refused(Refusal::invalid(Invalid::NullValue, at))).await,
            (StatusCode::BAD_REQUEST, invalid)
        );
    }
}
