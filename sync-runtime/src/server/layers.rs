//! The layers around the routes: request ids, one log line per request, CORS for browser
//! clients, and a panic answered like any other server failure.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Method, Request, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::HttpConfig;
use super::error::ApiError;

/// The header that carries a request's id, taken from the client or made here.
pub(super) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long browsers may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// `routes` inside, from the outermost: set the request id when the client sent none, echo it in
/// the response, open the request's log span and log its end, answer CORS (so that error answers
/// carry CORS headers too and a browser can read them), and turn a panic into a 500.
pub(super) fn wrap(routes: Router, http: &HttpConfig) -> Router {
    let routes = routes.layer(CatchPanicLayer::custom(panic_response));
    let routes = match cors(http) {
        Some(cors) => routes.layer(cors),
        None => routes,
    };
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(DefaultOnRequest::new().level(Level::DEBUG))
                    .on_response(
                        DefaultOnResponse::new()
                            .level(Level::INFO)
                            .latency_unit(LatencyUnit::Millis),
                    ),
            ),
    )
}

/// The span every log line of a request is written in. `user` and `error` are filled in later,
/// by the handler and by the error answer, so the request's last line says who and why.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request.headers().get(&REQUEST_ID).map(|v| String::from_utf8_lossy(v.as_bytes()));
    tracing::info_span!(
        "request",
        id = %id.as_deref().unwrap_or_default(),
        method = %request.method(),
        path = %request.uri().path(),
        user = tracing::field::Empty,
        error = tracing::field::Empty,
    )
}

/// CORS for the configured origins only; `None` when there are none, so no CORS header is sent.
fn cors(http: &HttpConfig) -> Option<CorsLayer> {
    if http.cors_origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(http.cors_origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .expose_headers([REQUEST_ID])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

/// A panic is a bug of the server: log what it said, answer the generic 500.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = message, "request handler panicked");
    ApiError::Panic.into_response()
}
