//! The server's limits on what clients may hold and send (docs/server.md, "Connections and
//! limits"): the settings, the cap of `POST /api/sync` requests in flight (503 `overloaded`
//! beyond it), and the per-user request limiter (429 `rate_limited`), each answered with
//! `Retry-After`. The connection-level settings are applied by [`serve_with`](super::serve_with).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::routing::MethodRouter;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;

use super::error::ApiError;

/// How many seconds a client waits after 503 `overloaded`: requests in flight take milliseconds
/// to a few seconds, so a slot is free again soon.
pub(super) const OVERLOADED_RETRY_AFTER_SECS: u32 = 1;

/// The server's limits; the defaults are meant for production.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long a client has to send a whole request head, from the connection's opening or the
    /// end of its previous answer; so it is also how long a kept-alive connection may stay idle.
    pub header_read_timeout: Duration,
    /// How long a client has to send a whole request body, from the end of its head.
    pub body_read_timeout: Duration,
    /// How long a client may take none of an answer (a large pull page, pokes) while the
    /// connection's buffers are full; then the connection is closed.
    pub write_timeout: Duration,
    /// The most connections served at once; more wait in the listen backlog. Lowered at startup
    /// to what the process's descriptor limit allows (see [`fit_to_descriptors`]).
    pub max_connections: usize,
    /// The most `POST /api/sync` requests served at once; more are answered 503 `overloaded`.
    pub max_in_flight: usize,
    /// The requests each user may make (`POST /api/sync`, `GET /api/events`); `None`: no limit.
    pub per_user: Option<UserRate>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(20),
            body_read_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_in_flight: 128,
            per_user: Some(UserRate::default()),
        }
    }
}

/// A per-user request rate: `per_second` on average, with bursts of up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRate {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Default for UserRate {
    /// Far above what a device syncing by hand or on pokes sends, and enough to page through a
    /// first pull at full speed; a client stuck in a loop is slowed down.
    fn default() -> Self {
        UserRate { per_second: NonZeroU32::new(50).unwrap(), burst: NonZeroU32::new(200).unwrap() }
    }
}

/// Descriptors the server needs besides its connections: the listener, the database pool and
/// the poke listener (or SQLite's files), logs, and the runtime's own.
const RESERVED_DESCRIPTORS: u64 = 64;

/// `max_connections` fitted to the process's descriptor limit (`ulimit -n`): the soft limit is
/// first raised towards the hard one as far as needed, and when that is still too low the cap is
/// lowered so that accepting a connection can never fail for want of a descriptor. Returns the
/// cap and, when it had to be lowered, the limit that lowered it.
pub fn fit_to_descriptors(max_connections: usize) -> (usize, Option<u64>) {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let wanted = max_connections as u64 + RESERVED_DESCRIPTORS;
        let limit = getrlimit(Resource::Nofile);
        let Some(soft) = limit.current else { return (max_connections, None) };
        if soft >= wanted {
            return (max_connections, None);
        }
        let raised = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
        let soft = match setrlimit(
            Resource::Nofile,
            Rlimit { current: Some(raised), maximum: limit.maximum },
        ) {
            Ok(()) => raised,
            Err(_) => soft,
        };
        if soft >= wanted {
            return (max_connections, None);
        }
        let fitted = soft.saturating_sub(RESERVED_DESCRIPTORS).max(1);
        (usize::try_from(fitted).unwrap_or(max_connections), Some(soft))
    }
    #[cfg(not(unix))]
    (max_connections, None)
}

/// `route` with at most `max` requests in flight; one more is answered 503 `overloaded` at once
/// instead of waiting, so a burst cannot pile up requests (and their bodies) in memory.
pub(super) fn cap_in_flight<S>(route: MethodRouter<S>, max: usize) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async { ApiError::Overloaded }))
            .layer(LoadShedLayer::new())
            .layer(ConcurrencyLimitLayer::new(max)),
    )
}

/// How many checks pass between two sweeps of users whose limit has fully recovered, which
/// keeps the limiter's memory to the users active in the last seconds.
const SWEEP_EVERY: u64 = 4096;

/// The per-user limiter, keyed by the token's subject; requests arrive here after the token
/// was verified, so a forged subject cannot use up another user's allowance.
#[derive(Debug)]
pub(super) struct UserLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl UserLimiter {
    pub(super) fn new(rate: UserRate) -> UserLimiter {
        let quota = Quota::per_second(rate.per_second).allow_burst(rate.burst);
        UserLimiter { limiter: RateLimiter::keyed(quota), checks: AtomicU64::new(0) }
    }

    /// Count a request of `user`: refused with the whole seconds until one more is allowed.
    pub(super) fn check(&self, user: &str) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&user.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited { retry_after: whole_seconds(wait) }
        })
    }
}

/// `wait` rounded up to whole seconds, at least one: `Retry-After` counts seconds, and waiting
/// less than asked would be refused again.
fn whole_seconds(wait: Duration) -> u32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_over_the_burst_waits_while_another_is_served() {
        let one = NonZeroU32::new(1).unwrap();
        let limiter = UserLimiter::new(UserRate {
            per_second: one,
            burst: NonZeroU32::MIN.saturating_add(1),
        });
        assert!(limiter.check("a").is_ok() && limiter.check("a").is_ok());
        match limiter.check("a") {
            Err(ApiError::RateLimited { retry_after }) => assert_eq!(retry_after, 1),
            other => panic!("the third request in a second is refused: {other:?}"),
        }
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }
}
