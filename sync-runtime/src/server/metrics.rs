//! `GET /metrics` in the Prometheus text format (docs/server.md, Metrics): requests by route and
//! outcome with their latency, changes pushed, rows pulled and rejections by reason, open event
//! streams, and at each scrape the pull horizon and the store's connection pool.
//!
//! Served only when the server has a metrics token, and only to requests that bear it: the
//! figures say how busy the server is and which errors its users meet, which is nobody else's
//! business.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Extension;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::AppState;
use super::error::ApiError;
use crate::protocol::{ErrorCode, Rejected};
use crate::store::{PoolStats, Store};

/// The upper bounds of the latency buckets, in seconds: from a millisecond (an empty sync on a
/// quiet server) to ten seconds (a large push on a loaded database).
const LATENCY_BUCKETS: [f64; 14] =
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];

/// The bearer token `GET /metrics` asks for; its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// `token` as the scrapers will send it; `None` when it is empty (a template left blank),
    /// which would serve the metrics to anyone who sends `Bearer` with nothing after it.
    pub fn new(token: &str) -> Option<MetricsToken> {
        let token = token.trim();
        (!token.is_empty()).then(|| MetricsToken(token.to_owned()))
    }

    /// Whether `given` is the token, compared in time that does not depend on where they differ.
    fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// A request's route (the path pattern it matched, or `unmatched`) and outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
    /// The protocol's error code of the answer, `ok` for a success.
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Every figure of one server; requests share it through an extension.
#[derive(Debug)]
pub(super) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    pushed: Counter,
    pulled: Counter,
    rejected: Family<ReasonLabel, Counter>,
    event_streams: Gauge,
    /// Read from the engine at each scrape, one scrape at a time.
    scraped: Mutex<Scraped>,
}

/// The figures a scrape reads from the engine.
#[derive(Debug, Default)]
struct Scraped {
    database_up: Gauge,
    horizon_waiting: Gauge,
    horizon_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    pool_max: Gauge,
    pool_open: Gauge,
    pool_idle: Gauge,
    pool_waiting: Gauge,
    pool_acquired: Counter,
    pool_waited: Counter,
    pool_wait_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
}

impl Metrics {
    /// The figures of a new server, all zero; `pool` says whether its store has a pool.
    pub(super) fn new(pool: bool) -> Metrics {
        let mut registry = Registry::with_prefix("sync");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, status and protocol error code (ok for a success)",
            requests.clone(),
        );
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's head, by route",
            Unit::Seconds,
            latency.clone(),
        );
        let (pushed, pulled) = (Counter::default(), Counter::default());
        registry.register("changes_pushed", "Changes received in sync requests", pushed.clone());
        registry.register("rows_pulled", "Changes served by pulls", pulled.clone());
        let rejected = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "changes_rejected",
            "Pushed changes the server did not apply, by reason",
            rejected.clone(),
        );
        let event_streams = Gauge::default();
        registry.register(
            "event_streams_open",
            "Open GET /api/events streams",
            event_streams.clone(),
        );
        let scraped = Scraped::default();
        scraped.register(&mut registry, pool);
        Metrics {
            registry,
            requests,
            latency,
            pushed,
            pulled,
            rejected,
            event_streams,
            scraped: Mutex::new(scraped),
        }
    }

    /// Count a sync: `pushed` changes in, `pulled` changes out, and its rejections.
    pub(super) fn sync(&self, pushed: usize, pulled: usize, rejected: &[Rejected]) {
        self.pushed.inc_by(pushed as u64);
        self.pulled.inc_by(pulled as u64);
        for rejected in rejected {
            self.rejected.get_or_create(&ReasonLabel { reason: rejected.reason.as_str() }).inc();
        }
    }

    /// Count an open event stream until the returned guard is dropped.
    pub(super) fn event_stream(&self) -> StreamOpen {
        self.event_streams.inc();
        StreamOpen(self.event_streams.clone())
    }

    fn request(&self, route: String, status: u16, code: &'static str, seconds: f64) {
        self.latency.get_or_create(&RouteLabel { route: route.clone() }).observe(seconds);
        self.requests.get_or_create(&RequestLabels { route, status, code }).inc();
    }
}

/// A route's latency histogram, made when the route is first answered.
fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Scraped {
    fn register(&self, registry: &mut Registry, pool: bool) {
        registry.register(
            "database_up",
            "1 when the database answered the last scrape, else 0",
            self.database_up.clone(),
        );
        registry.register(
            "pull_horizon_waiting_transactions",
            "Finished transactions that pulls do not serve yet because an older one is open",
            self.horizon_waiting.clone(),
        );
        registry.register_with_unit(
            "pull_horizon_oldest_transaction_age",
            "How long the oldest open writing transaction of the database has been open (0: none)",
            Unit::Seconds,
            self.horizon_age.clone(),
        );
        if !pool {
            return;
        }
        let gauges = [
            ("db_pool_max_connections", "The most connections the pool opens", &self.pool_max),
            ("db_pool_open_connections", "Connections open, idle or in use", &self.pool_open),
            ("db_pool_idle_connections", "Open connections no request holds", &self.pool_idle),
            ("db_pool_waiting_requests", "Requests waiting for a connection", &self.pool_waiting),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        registry.register(
            "db_pool_acquired",
            "Connections handed out by the pool",
            self.pool_acquired.clone(),
        );
        registry.register(
            "db_pool_waits",
            "Connections handed out that found none idle and waited for one",
            self.pool_waited.clone(),
        );
        registry.register_with_unit(
            "db_pool_wait",
            "Time spent waiting for a connection",
            Unit::Seconds,
            self.pool_wait_seconds.clone(),
        );
    }

    fn pool(&self, stats: PoolStats) {
        let gauge =
            |gauge: &Gauge, value: usize| gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        gauge(&self.pool_max, stats.max_size);
        gauge(&self.pool_open, stats.open);
        gauge(&self.pool_idle, stats.idle);
        gauge(&self.pool_waiting, stats.waiting);
        // The pool counts; the counters catch up with it (scrapes take turns, so never twice).
        self.pool_acquired.inc_by(stats.acquired.saturating_sub(self.pool_acquired.get()));
        self.pool_waited.inc_by(stats.waited.saturating_sub(self.pool_waited.get()));
        self.pool_wait_seconds.inc_by((stats.wait_seconds - self.pool_wait_seconds.get()).max(0.0));
    }
}

/// Keeps an event stream counted as open while it lives.
#[derive(Debug)]
pub(super) struct StreamOpen(Gauge);

impl Drop for StreamOpen {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The layer that counts every request: its route, status and error code (which
/// [`ApiError`]'s answers carry as an extension), and how long until its answer's head.
pub(super) async fn track(
    State(metrics): State<Arc<Metrics>>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    // Unknown paths share one label, so that a scan of random paths adds no series.
    let route = route.map_or_else(|| "unmatched".to_owned(), |r| r.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    let code = response.extensions().get::<ErrorCode>().map_or("ok", |code| code.as_str());
    metrics.request(route, response.status().as_u16(), code, start.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`, for a request that bears the metrics token: the engine's figures read now,
/// then everything in the Prometheus text format.
pub(super) async fn metrics<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(metrics): Extension<Arc<Metrics>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let expected = state.http.metrics_token.as_ref().expect("routed only with a metrics token");
    let authorization = headers.get(header::AUTHORIZATION);
    let authorization = authorization.map(|v| String::from_utf8_lossy(v.as_bytes()));
    let token =
        crate::auth::bearer_token(authorization.as_deref()).map_err(ApiError::Unauthorized)?;
    if !expected.matches(token) {
        return Err(ApiError::WrongMetricsToken);
    }
    let horizon = state.engine.horizon().await;
    let pool = state.engine.pool();
    let text = {
        let scraped = metrics.scraped.lock().unwrap_or_else(PoisonError::into_inner);
        scraped.database_up.set(i64::from(horizon.is_ok()));
        if let Ok(horizon) = &horizon {
            scraped.horizon_waiting.set(horizon.waiting_transactions);
            scraped.horizon_age.set(horizon.oldest_transaction_age_secs.unwrap_or(0.0));
        }
        if let Some(pool) = pool {
            scraped.pool(pool);
        }
        let mut text = String::new();
        prometheus_text::encode(&mut text, &metrics.registry).expect("writing to a String");
        text
    };
    let content_type = HeaderValue::from_static(prometheus_text::CONTENT_TYPE);
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}
