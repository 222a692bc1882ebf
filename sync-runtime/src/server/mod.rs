//! The HTTP layer of the sync server (docs/server.md): `POST /api/sync`, `GET /api/events`
//! (server pokes) and `GET /healthz` over an [`Engine`], with auth, body limits, CORS, request ids,
//! logs and graceful shutdown.
//!
//! The engine decides what a sync means; this module only turns HTTP into engine calls and
//! answers into HTTP. Every error answer carries the protocol's [`SyncErrorResponse`] body with
//! an [`ErrorCode`], whose status the code decides; bad input is always a 4xx, and a 500 only
//! comes from the server's own failures.
//!
//! [`SyncErrorResponse`]: crate::protocol::SyncErrorResponse
//! [`ErrorCode`]: crate::protocol::ErrorCode

mod config;
mod conn;
mod error;
mod events;
mod extract;
mod handlers;
mod layers;
mod limits;
mod metrics;

use std::future::Future;
use std::sync::Arc;

use axum::http::HeaderValue;
use axum::routing::{get, post};
use axum::{Extension, Router, middleware};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use self::config::{ConfigError, cors_origin};
pub use self::limits::{Limits, UserRate, fit_to_descriptors};
pub use self::metrics::MetricsToken;
use crate::auth::Authenticator;
use crate::engine::Engine;
use crate::store::Store;

/// The default limit of a request body: 16 MiB, room for the engine's default 10,000 changes of
/// rows of a kilobyte and more.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The settings of the HTTP layer itself; the engine's limits are in its own config.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The largest request body accepted; larger ones are answered 413 unread.
    pub max_body_bytes: usize,
    /// Origins that browsers may call from (`https://app.example`). Empty: no CORS headers at
    /// all, so browsers only call from the server's own origin.
    pub cors_origins: Vec<HeaderValue>,
    /// The bearer token `GET /metrics` asks for; `None`: no `/metrics` route at all.
    pub metrics_token: Option<MetricsToken>,
    /// Timeouts, caps and per-user limits (docs/server.md, "Connections and limits").
    pub limits: Limits,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cors_origins: Vec::new(),
            metrics_token: None,
            limits: Limits::default(),
        }
    }
}

/// Everything a request handler needs, shared by all requests.
#[derive(Debug)]
pub struct AppState<S> {
    pub engine: Engine<S>,
    pub auth: Authenticator,
    pub http: HttpConfig,
}

/// The server's routes with every layer: request ids, the request log, CORS, and answers in the
/// protocol's error shape for unknown paths, wrong methods and panics.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> Router {
    let http = state.http.clone();
    let metrics = Arc::new(metrics::Metrics::new(state.engine.pool().is_some()));
    let mut routes = Router::new()
        .route(
            "/api/sync",
            limits::cap_in_flight(post(handlers::sync::<S>), http.limits.max_in_flight),
        )
        .route("/api/events", get(events::events::<S>))
        .route("/healthz", get(handlers::healthz::<S>));
    if http.metrics_token.is_some() {
        routes = routes.route("/metrics", get(metrics::metrics::<S>));
    }
    let routes = routes
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn_with_state(Arc::clone(&metrics), metrics::track))
        .layer(Extension(metrics));
    let routes = match http.limits.per_user {
        Some(rate) => routes.layer(Extension(Arc::new(limits::UserLimiter::new(rate)))),
        None => routes,
    };
    layers::wrap(routes, &http)
}

/// [`serve_with`] the default [`Limits`] of connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, &Limits::default(), shutdown).await
}

/// Serve `router` on `listener` with the connection settings of `limits` (the header read
/// timeout, the cap of connections) until `shutdown` completes, then stop accepting connections,
/// end the open event streams, and return once every request in flight has been answered.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // An event stream never ends on its own: graceful shutdown would wait for it for ever.
    let (stop_streams, stopping) = watch::channel(false);
    let router = router.layer(Extension(events::Stopping(stopping)));
    let shutdown = async move {
        shutdown.await;
        let _ = stop_streams.send(true);
    };
    conn::serve(listener, router, limits, shutdown).await
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM (what container runtimes send to stop).
/// The SIGTERM handler is installed when this is called, not when the future is first polled,
/// so a signal sent as soon as the server says it is serving is not the default (a kill).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let interrupt = async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::error!(%error, "cannot listen for SIGINT; stop the server with SIGTERM");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM; stop the server with SIGINT");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = interrupt => tracing::info!("SIGINT received: finishing requests in flight"),
            () = terminate => tracing::info!("SIGTERM received: finishing requests in flight"),
        }
    }
}
