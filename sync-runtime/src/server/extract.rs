//! What handlers take from a request, each refused with the protocol's error body: the
//! [`User`] of the bearer token and the [`SyncBody`], declared JSON, within the size limit and
//! parsed with the path of the field at fault. Axum runs them in the handler's argument order, so
//! a handler that takes the user first refuses a request without valid credentials before its
//! body is read.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::AppState;
use super::error::ApiError;
use super::limits::UserLimiter;
use crate::protocol::SyncRequest;
use crate::store::Store;

/// The user of the request's bearer token (its subject, checked to be a user id of the schema:
/// see [`Engine::user`](crate::engine::Engine::user)), recorded in the request's log span, and
/// counted against the user's request limit when the router has one.
#[derive(Debug, Clone)]
pub(super) struct User(pub String);

impl<S: Store> FromRequestParts<Arc<AppState<S>>> for User {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, ApiError> {
        // A header that is not ASCII goes to the authenticator as text anyway, so the client
        // learns that its token is malformed rather than that it sent none.
        let authorization =
            parts.headers.get(header::AUTHORIZATION).map(|v| String::from_utf8_lossy(v.as_bytes()));
        let user = state
            .auth
            .authenticate(authorization.as_deref())
            .await
            .map_err(ApiError::Unauthorized)?;
        tracing::Span::current().record("user", tracing::field::display(&user));
        if let Some(limiter) = parts.extensions.get::<Arc<UserLimiter>>() {
            limiter.check(&user)?;
        }
        let user = state.engine.user(&user).map_err(ApiError::Refused)?;
        Ok(User(user))
    }
}

/// The body of `POST /api/sync`.
#[derive(Debug)]
pub(super) struct SyncBody(pub SyncRequest);

impl<S: Store> FromRequest<Arc<AppState<S>>> for SyncBody {
    type Rejection = ApiError;

    /// The checks run from the cheapest to the dearest: the declared type, the declared length,
    /// the length read, then the parse.
    async fn from_request(request: Request, state: &Arc<AppState<S>>) -> Result<Self, ApiError> {
        require_json(request.headers())?;
        let (parts, body) = request.into_parts();
        let (limit, timeout) = (state.http.max_body_bytes, state.http.limits.body_read_timeout);
        let body = read_body(&parts.headers, body, limit, timeout).await?;
        // The bytes are dropped here, before the engine's transaction rather than after it: the
        // body can be megabytes.
        parse(&body).map(SyncBody)
    }
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

/// The whole body, refused unread when its declared length is over `limit`, as soon as it
/// passes `limit` when it is streamed without one, and when it has not all arrived within
/// `timeout` (a client trickling its body would hold its connection and a slot for ever).
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    let read = tokio::time::timeout(timeout, Limited::new(body, limit).collect());
    match read.await.map_err(|_| ApiError::BodyTimeout(timeout))? {
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
