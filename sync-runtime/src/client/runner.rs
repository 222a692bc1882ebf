//! The background loop of a client: a sync at start, then one per burst of signals after a
//! debounce, retried with exponential backoff and jitter after a failure (never sooner than the
//! server's `Retry-After`), until stopped. Next to it, a listener turns the server's pokes
//! (`GET /api/events`, see [`crate::pokes`]) into signals, and reconnects with the same backoff
//! when the stream ends or fails.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::{Client, ClientError, SyncReport};
use crate::pokes::{PokeError, PokeStream};

/// How the background loop paces syncs.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// How long after a signal the sync starts; the signals of that window make one sync.
    pub debounce: Duration,
    /// The wait after a first failure; it doubles with each failure in a row.
    pub backoff_min: Duration,
    /// The longest wait between retries.
    pub backoff_max: Duration,
    /// Whether to listen to the server's pokes.
    pub pokes: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            debounce: Duration::from_secs(2),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            pokes: true,
        }
    }
}

/// What the loop has done so far, for an app's status line (and for tests).
#[derive(Debug, Clone, Default)]
pub struct RunStatus {
    /// Syncs that completed.
    pub syncs: u64,
    /// The last completed sync's report.
    pub last_report: Option<SyncReport>,
    /// Failures in a row; 0 after a success.
    pub failures: u32,
    /// The last failure, as text.
    pub last_error: Option<String>,
    /// Changes in the quarantine after the last completed sync (`last_report` says how many
    /// that sync added): the app lists them with [`Client::quarantine`].
    pub quarantined: usize,
    /// Whether the poke stream is open: from then on every push of the user by another device
    /// signals a sync.
    pub listening: bool,
    /// Times the server answered `resync_required` and the client pulled everything again, over
    /// every sync of the loop (`last_report` has the last sync's).
    pub resyncs: u64,
}

/// The running loop; dropping it stops the loop too.
pub struct SyncHandle {
    stop: watch::Sender<bool>,
    status: watch::Receiver<RunStatus>,
    tasks: Vec<JoinHandle<()>>,
}

impl SyncHandle {
    /// Follow the loop's progress.
    pub fn status(&self) -> watch::Receiver<RunStatus> {
        self.status.clone()
    }

    /// Stop the loop and wait for it: a sync in progress finishes first.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub(super) fn start(client: Arc<Client>, signals: Arc<Notify>, options: RunOptions) -> SyncHandle {
    let (stop, stopped) = watch::channel(false);
    let (status_tx, status) = watch::channel(RunStatus::default());
    let status_tx = Arc::new(status_tx);
    let mut tasks = Vec::new();
    if options.pokes {
        tasks.push(tokio::spawn(listen(
            Arc::clone(&client),
            Arc::clone(&signals),
            options,
            stopped.clone(),
            Arc::clone(&status_tx),
        )));
    }
    tasks.push(tokio::spawn(run(client, signals, options, stopped, status_tx)));
    SyncHandle { stop, status, tasks }
}

async fn run(
    client: Arc<Client>,
    signals: Arc<Notify>,
    options: RunOptions,
    mut stopped: watch::Receiver<bool>,
    status: Arc<watch::Sender<RunStatus>>,
) {
    let mut due = true;
    loop {
        if !due {
            tokio::select! {
                () = signals.notified() => {}
                _ = stopped.changed() => return,
            }
            if !pause(&mut stopped, options.debounce).await {
                return;
            }
        }
        due = false;
        match client.sync_once().await {
            Ok(report) => {
                let quarantined = client.quarantined_count();
                status.send_modify(|s| {
                    s.syncs += 1;
                    s.resyncs += report.resyncs as u64;
                    s.last_report = Some(report);
                    s.failures = 0;
                    match quarantined {
                        Ok(count) => s.quarantined = count,
                        Err(error) => s.last_error = Some(error.to_string()),
                    }
                });
            }
            Err(error) => {
                tracing::warn!(%error, "sync failed; retrying after a backoff");
                let mut failures = 0;
                status.send_modify(|s| {
                    s.failures += 1;
                    s.last_error = Some(error.to_string());
                    failures = s.failures;
                });
                // A server at its limits says how long to stay away; the backoff may be longer.
                let at_least = match &error {
                    ClientError::Refused { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let wait = backoff(&options, failures).max(at_least.unwrap_or_default());
                if !pause(&mut stopped, wait).await {
                    return;
                }
                due = true;
            }
        }
    }
}

/// The poke listener: connect to the event stream, signal a sync for every poke another device
/// caused, and connect again after a backoff when the stream ends. A reconnected stream may have
/// missed pokes, so it signals a sync too.
async fn listen(
    client: Arc<Client>,
    signals: Arc<Notify>,
    options: RunOptions,
    mut stopped: watch::Receiver<bool>,
    status: Arc<watch::Sender<RunStatus>>,
) {
    // No overall timeout: it would cut the stream.
    let http = reqwest::Client::new();
    let url = format!("{}/api/events", client.config.server);
    let me = client.client_id.parse().unwrap_or_default();
    let (mut failures, mut reconnect) = (0, false);
    let mut wait_at_least = Duration::ZERO;
    loop {
        let token = (client.config.token)();
        let connected = tokio::select! {
            connected = PokeStream::connect(&http, &url, &token) => connected,
            _ = stopped.changed() => return,
        };
        match connected {
            Ok(mut stream) => {
                failures = 0;
                status.send_modify(|s| s.listening = true);
                if reconnect {
                    signals.notify_one();
                }
                reconnect = true;
                loop {
                    let next = tokio::select! {
                        next = stream.next() => next,
                        _ = stopped.changed() => return,
                    };
                    match next {
                        Some(Ok(poke)) if poke.concerns(me) => signals.notify_one(),
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            tracing::debug!(%error, "the poke stream failed");
                            break;
                        }
                        None => break,
                    }
                }
                status.send_modify(|s| s.listening = false);
            }
            Err(error) => {
                failures += 1;
                tracing::debug!(%error, "cannot listen to pokes; retrying after a backoff");
                if let PokeError::Status { retry_after: Some(at_least), .. } = error {
                    wait_at_least = at_least;
                }
            }
        }
        let wait = backoff(&options, failures.max(1)).max(std::mem::take(&mut wait_at_least));
        if !pause(&mut stopped, wait).await {
            return;
        }
    }
}

/// Wait `delay`; false when the loop was stopped meanwhile.
async fn pause(stopped: &mut watch::Receiver<bool>, delay: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => !*stopped.borrow(),
        _ = stopped.changed() => false,
    }
}

/// The wait after `failures` failures in a row: doubling from the minimum up to the maximum,
/// then a random point in its upper half, so devices that failed together do not retry together.
fn backoff(options: &RunOptions, failures: u32) -> Duration {
    let doubled = options.backoff_min.saturating_mul(1 << failures.saturating_sub(1).min(20));
    let ceiling = doubled.min(options.backoff_max);
    ceiling.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds() {
        let options = RunOptions {
            debounce: Duration::ZERO,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            pokes: false,
        };
        for (failures, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
            let wait = backoff(&options, failures);
            let ceiling = Duration::from_millis(ceiling);
            assert!(wait <= ceiling && wait >= ceiling / 2, "{failures} failures: {wait:?}");
        }
    }
}
