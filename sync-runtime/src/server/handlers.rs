//! The request handlers: `POST /api/sync` (authenticate, read and parse the body, run the
//! engine) and `GET /healthz` (the database answers, and how far pulls are held back).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::protocol::{SyncRequest, SyncResponse};
use crate::store::Store;

/// `POST /api/sync`: the checks run from the cheapest to the dearest, so a request without valid
/// credentials is refused before its body is read.
pub(super) async fn sync<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SyncResponse>, ApiError> {
    let user = authenticate(&state, &headers).await?;
    require_json(&headers)?;
    let body = read_body(&headers, body, state.http.max_body_bytes).await?;
    let request = parse(&body)?;
    // The body can be megabytes; free it before the engine's transaction rather than after.
    drop(body);
    let response = state.engine.sync(&user, request).await.map_err(ApiError::Refused)?;
    Ok(Json(response))
}

/// The user of the request's bearer token, recorded in the request's log span.
pub(super) async fn authenticate<S>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    // A header that is not ASCII goes to the authenticator as text anyway, so the client learns
    // that its token is malformed rather than that it sent none.
    let authorization =
        headers.get(header::AUTHORIZATION).map(|v| String::from_utf8_lossy(v.as_bytes()));
    let user =
        state.auth.authenticate(authorization.as_deref()).await.map_err(ApiError::Unauthorized)?;
    tracing::Span::current().record("user", tracing::field::display(&user));
    Ok(user)
}

/// `GET /healthz`: 200 when the database answers, with the pull horizon (DESIGN 5.2) so that a
/// long-open transaction holding back every pull is visible; 503 when it does not answer.
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

/// The body must be declared JSON (`application/json`, parameters such as `charset` allowed),
/// so that a form post or a text body is refused for what it is rather than as bad JSON.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::UnsupportedMediaType(None));
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(Some(text.into_owned())))
    }
}

/// The whole body, refused unread when its declared length is over `limit`, and as soon as it
/// passes `limit` when it is streamed without one.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ApiError::BodyTooLarge { limit }),
        Err(error) => Err(ApiError::BodyUnreadable(error.to_string())),
    }
}

/// The request, or what is wrong with it: not JSON at all, or JSON of the wrong shape, with the
/// path of the field at fault (`changes[3].op`). The path is only tracked when the fast parse
/// failed, so a valid request costs one plain parse.
fn parse(body: &[u8]) -> Result<SyncRequest, ApiError> {
    let error = match serde_json::from_slice(body) {
        Ok(request) => return Ok(request),
        Err(error) if !error.is_data() => return Err(ApiError::InvalidJson(error)),
        Err(error) => error,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, SyncRequest>(&mut deserializer) {
        Err(traced) => {
            let path = traced.path().to_string();
            Err(ApiError::InvalidRequest { path, inner: traced.into_inner() })
        }
        // Both parses read the same bytes, so this cannot happen; answer the first error anyway.
        Ok(_) => Err(ApiError::InvalidRequest { path: ".".to_owned(), inner: error }),
    }
}
