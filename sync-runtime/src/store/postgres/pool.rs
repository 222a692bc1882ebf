//! The Postgres store's connections: a URL read with its TLS settings (`sslmode`,
//! `sslrootcert`, docs/server.md), the pool of [`POOL_SIZE`] connections made with them, and
//! connection failures worded with the URL (redacted) and what to change.
//!
//! A database that cannot be reached (refused, timed out, a connection lost mid-request, the
//! server shutting down) is [`StoreError::Unavailable`], which clients get as 503 with
//! `Retry-After`. Nothing needs restarting afterwards: the pool drops a closed connection when it
//! is handed back and makes a new one for the next request, and the poke listener reconnects
//! with backoff.

use std::error::Error as _;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, PoolError, RecyclingMethod};
use pg_tls::MakeRustlsConnect;
use sync_meta::database_url::PostgresUrl;
use tokio_postgres::error::SqlState;

use crate::store::{PoolStats, StoreError};

/// The most connections one server instance opens (besides the poke listener's).
pub(super) const POOL_SIZE: usize = 16;

/// How long a new connection may take when the URL sets no `connect_timeout`: a database that
/// drops packets answers 503 after this, not after the operating system's minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to connect: the driver's configuration and the TLS connector of one URL.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) url: PostgresUrl,
    pub(super) config: tokio_postgres::Config,
    pub(super) tls: MakeRustlsConnect,
}

/// The URL says it all, and shows no password.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("url", &self.url.to_string()).finish_non_exhaustive()
    }
}

impl Target {
    /// Read `url`; `what` names it in messages ("database URL").
    pub(super) fn new(url: &str, what: &str) -> Result<Target, StoreError> {
        let url = PostgresUrl::parse(url)
            .map_err(|e| StoreError::Database(format!("invalid {what}: {e}")))?;
        let mut config = tokio_postgres::Config::from_str(url.driver_url())
            .map_err(|e| StoreError::Database(format!("invalid {what} {url}: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let tls = pg_tls::connector(&url).map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Target { url, config, tls })
    }

    /// A connection failure in words, with the URL (redacted).
    pub(super) fn explain(&self, error: &tokio_postgres::Error) -> String {
        format!("cannot connect to {}: {}", self.url, pg_tls::explain(error, &self.url))
    }
}

/// The pool, with the URL its connections are made from and how its requests waited.
#[derive(Debug)]
pub(super) struct Pool {
    pool: deadpool_postgres::Pool,
    target: Target,
    acquired: AtomicU64,
    waited: AtomicU64,
    wait_micros: AtomicU64,
}

impl Pool {
    pub(super) fn new(target: Target) -> Result<Pool, StoreError> {
        let manager = Manager::from_config(
            target.config.clone(),
            target.tls.clone(),
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build the connection pool: {e}")))?;
        let (acquired, waited, wait_micros) = Default::default();
        Ok(Pool { pool, target, acquired, waited, wait_micros })
    }

    /// A pooled connection, or why none can be had: the database is unavailable.
    pub(super) async fn get(&self) -> Result<Object, StoreError> {
        let idle = self.pool.status().available > 0;
        let start = Instant::now();
        let got = self.pool.get().await;
        self.acquired.fetch_add(1, Ordering::Relaxed);
        if !idle {
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.waited.fetch_add(1, Ordering::Relaxed);
            self.wait_micros.fetch_add(micros, Ordering::Relaxed);
        }
        got.map_err(|e| match e {
            PoolError::Backend(error) => StoreError::Unavailable(self.target.explain(&error)),
            other => {
                StoreError::Unavailable(format!("cannot connect to {}: {other}", self.target.url))
            }
        })
    }

    /// The pool's connections now, and its waits so far.
    pub(super) fn stats(&self) -> PoolStats {
        let status = self.pool.status();
        PoolStats {
            max_size: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: status.waiting,
            acquired: self.acquired.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            wait_seconds: self.wait_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// `error` as [`StoreError::Unavailable`] when it says the database cannot be reached: the
/// connection is closed or broke (an I/O error, a timeout), or the server says it is shutting
/// down, starting, out of connections or that the connection failed (SQLSTATE classes 08 and
/// 57P, and 53300).
pub(super) fn unavailable(error: &tokio_postgres::Error) -> Option<StoreError> {
    let lost = match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08")
                || code.starts_with("57P")
                || *db.code() == SqlState::TOO_MANY_CONNECTIONS
        }
        None => {
            error.is_closed()
                || error.source().is_some_and(|cause| cause.is::<std::io::Error>())
                || error.to_string().contains("timeout")
        }
    };
    let mut message = format!("Postgres: {error}");
    if let Some(cause) = error.source() {
        message.push_str(&format!(": {cause}"));
    }
    lost.then_some(StoreError::Unavailable(message))
}
