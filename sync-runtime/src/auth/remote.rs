//! A JWKS fetched from a URL: fetched once at startup (a bad document refuses the configuration),
//! cached, refreshed in the background every few minutes, and refetched when a token names a key
//! id the cache does not hold, at most once per [`KID_REFRESH_INTERVAL`] so that a stream of bad
//! tokens cannot make us hammer the identity provider.
//!
//! A failed refresh keeps the keys we have: dropping them would lock every user out while the
//! provider is unreachable, and a rotated-out key is still refused once a refresh succeeds.

use std::error::Error as StdError;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::error::AuthConfigError;
use super::jwks::KeySet;

/// How old the cached keys may get before a request starts a background refresh.
const MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// How long to wait after a refresh attempt (failed or not) before a periodic one.
const RETRY_INTERVAL: Duration = Duration::from_secs(30);
/// The shortest time between two refreshes caused by unknown key ids.
const KID_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// A fetch that takes longer than this fails; an unknown-kid request waits for it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A JWKS document larger than this is refused; real ones hold a handful of keys.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The cached keys of a JWKS URL.
#[derive(Debug)]
pub(crate) struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    /// Held for the whole of a fetch, so that concurrent refreshes collapse into one.
    clock: tokio::sync::Mutex<RefreshClock>,
}

impl RemoteJwks {
    /// Fetches the document once; any failure is a configuration error.
    pub(crate) async fn load(url: &str) -> Result<Arc<RemoteJwks>, AuthConfigError> {
        let url_error = |reason: String| AuthConfigError::JwksUrl { url: url.to_owned(), reason };
        let parsed = reqwest::Url::parse(url).map_err(|e| url_error(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(url_error(format!("the scheme is `{}`", parsed.scheme())));
        }
        let fetch_error =
            |reason: String| AuthConfigError::JwksFetch { url: url.to_owned(), reason };
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("sync-runtime/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| fetch_error(error_chain(&e)))?;
        let document = fetch(&client, url).await.map_err(fetch_error)?;
        let keys = KeySet::parse(&document)
            .map_err(|reason| AuthConfigError::JwksInvalid { origin: url.to_owned(), reason })?;
        Ok(Arc::new(RemoteJwks {
            url: url.to_owned(),
            client,
            keys: RwLock::new(Arc::new(keys)),
            clock: tokio::sync::Mutex::new(RefreshClock::new(Instant::now())),
        }))
    }

    /// The cached keys; starts a background refresh when they are old.
    pub(crate) fn keys(self: &Arc<Self>) -> Arc<KeySet> {
        // A failed try_lock means a refresh is under way, so there is nothing to start.
        if let Ok(mut clock) = self.clock.try_lock() {
            let now = Instant::now();
            if clock.periodic_due(now) {
                clock.attempted_at = now;
                drop(clock);
                let this = Arc::clone(self);
                tokio::spawn(async move {
                    let mut clock = this.clock.lock().await;
                    this.refresh(&mut clock).await;
                });
            }
        }
        self.current()
    }

    /// The keys after refetching the document for a token whose `kid` is not cached, unless
    /// another request just did, or one did less than [`KID_REFRESH_INTERVAL`] ago.
    pub(crate) async fn keys_with_kid(&self, kid: &str) -> Arc<KeySet> {
        let mut clock = self.clock.lock().await;
        let current = self.current();
        let now = Instant::now();
        if current.has_kid(kid) || !clock.kid_refresh_allowed(now) {
            return current;
        }
        clock.kid_refreshed_at = Some(now);
        clock.attempted_at = now;
        self.refresh(&mut clock).await.unwrap_or(current)
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Fetches the document and replaces the cached keys with it; on failure logs why and keeps
    /// the cached keys.
    async fn refresh(&self, clock: &mut RefreshClock) -> Option<Arc<KeySet>> {
        let keys = match fetch(&self.client, &self.url).await.and_then(|doc| KeySet::parse(&doc)) {
            Ok(keys) => Arc::new(keys),
            Err(reason) => {
                tracing::warn!(url = %self.url, %reason, "JWKS refresh failed; keeping the cached keys");
                return None;
            }
        };
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&keys);
        clock.fetched_at = Instant::now();
        tracing::debug!(url = %self.url, "JWKS refreshed");
        Some(keys)
    }
}

/// When the keys were fetched and refetches were tried: the refresh policy, as plain data.
#[derive(Debug)]
struct RefreshClock {
    fetched_at: Instant,
    attempted_at: Instant,
    kid_refreshed_at: Option<Instant>,
}

impl RefreshClock {
    fn new(now: Instant) -> RefreshClock {
        RefreshClock { fetched_at: now, attempted_at: now, kid_refreshed_at: None }
    }

    fn periodic_due(&self, now: Instant) -> bool {
        now.duration_since(self.fetched_at) >= MAX_AGE
            && now.duration_since(self.attempted_at) >= RETRY_INTERVAL
    }

    fn kid_refresh_allowed(&self, now: Instant) -> bool {
        self.kid_refreshed_at.is_none_or(|at| now.duration_since(at) >= KID_REFRESH_INTERVAL)
    }
}

/// GETs the document, refusing an error status and a body over [`MAX_DOCUMENT_BYTES`].
async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    if !response.status().is_success() {
        return Err(format!("the server answered HTTP {}", response.status()));
    }
    let too_large = || format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes");
    if response.content_length().is_some_and(|len| len > MAX_DOCUMENT_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error and its causes on one line: reqwest's own message ("error sending request") says
/// nothing of why, which is in the causes (connection refused, certificate expired).
fn error_chain(error: &dyn StdError) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_refresh_waits_for_max_age_and_retry_interval() {
        let start = Instant::now();
        let mut clock = RefreshClock::new(start);
        assert!(!clock.periodic_due(start + MAX_AGE - Duration::from_secs(1)));
        assert!(clock.periodic_due(start + MAX_AGE));
        // A failed attempt at MAX_AGE holds the next one back for RETRY_INTERVAL.
        clock.attempted_at = start + MAX_AGE;
        assert!(!clock.periodic_due(start + MAX_AGE + RETRY_INTERVAL - Duration::from_secs(1)));
        assert!(clock.periodic_due(start + MAX_AGE + RETRY_INTERVAL));
        // A success restarts the clock.
        clock.fetched_at = start + MAX_AGE + RETRY_INTERVAL;
        assert!(!clock.periodic_due(start + MAX_AGE + RETRY_INTERVAL + Duration::from_secs(60)));
    }

    #[test]
    fn unknown_kid_refreshes_are_rate_limited() {
        let start = Instant::now();
        let mut clock = RefreshClock::new(start);
        // The startup fetch does not count: a key rotated just after startup is picked up.
        assert!(clock.kid_refresh_allowed(start));
        clock.kid_refreshed_at = Some(start);
        assert!(!clock.kid_refresh_allowed(start + KID_REFRESH_INTERVAL - Duration::from_secs(1)));
        assert!(clock.kid_refresh_allowed(start + KID_REFRESH_INTERVAL));
    }
}
