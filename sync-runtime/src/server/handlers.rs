//! The request handlers: `POST /api/sync` (run the engine on the authenticated user's request)
//! and `GET /healthz` (the database answers, and how far pulls are held back).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::{SyncBody, User};
use super::metrics::Metrics;
use crate::engine::Refusal;
use crate::store::Store;

/// `POST /api/sync`: the user is taken before the body, so a request without valid credentials
/// is refused before its body is read. The answer is streamed: the pulled changes go out as the
/// store wrote them, in pieces, each freed once sent (see [`crate::engine::Answer::into_body`]).
pub(super) async fn sync<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(metrics): Extension<Arc<Metrics>>,
    User(user): User,
    SyncBody(request): SyncBody,
) -> Result<Response, ApiError> {
    let pushed = request.changes.len();
    let answer = state.engine.answer(&user, request).await.map_err(ApiError::Refused)?;
    metrics.sync(pushed, answer.changes.len(), &answer.rejected);
    let body = answer.into_body().map_err(|error| {
        tracing::error!(%error, "a sync answer cannot be written as JSON");
        ApiError::Refused(Refusal::Database)
    })?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::CONTENT_LENGTH, HeaderValue::from(body.len())),
    ];
    let pieces = futures_util::stream::iter(body.map(Ok::<_, Infallible>));
    Ok((headers, Body::from_stream(pieces)).into_response())
}

/// `GET /healthz`: 200 when the database answers, with the pull horizon (docs/server.md) so that
/// a long-open transaction holding back every pull is visible; 503 when it does not answer.
pub(super) async fn healthz<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    let schema = state.engine.schema();
    match state.engine.horizon().await {
        Ok(horizon) => Json(json!({
            "status": "ok",
            "schema": schema.name,
            "schema_version": schema.version,
            "pull_horizon": {
                "waiting_transactions": horizon.waiting_transactions,
                "oldest_transaction_age_secs": horizon.oldest_transaction_age_secs,
            },
        }))
        .into_response(),
        Err(refusal) => {
            tracing::warn!(error = %refusal, "health check failed: the database does not answer");
            ApiError::Unavailable(refusal).into_response()
        }
    }
}

pub(super) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound { method: method.to_string(), path: uri.path().to_owned() }
}

pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed { method: method.to_string(), path: uri.path().to_owned() }
}
