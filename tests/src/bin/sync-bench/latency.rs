//! `sync_rtt_p50_ms_{sqlite,postgres}` and `sync_rtt_p99_ms_{sqlite,postgres}`: many clients at
//! once (100; 20 with `--quick`), each a user of its own on a connection of its own, sync with an
//! empty outbox (no changes, the cursor of their last answer) back to back for 20 s (2 s), through
//! a `sync-server` on the embedded SQLite store and through one on Postgres. Each round trip is
//! timed from sending the request to having read the whole answer; the figures are the median and
//! the 99th percentile of all of them.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::fixture::{Error, Fixture, Server, User, request};
use crate::{Sizes, figure};

/// The users of the clients are numbered from here, clear of the other figures' users.
const FIRST_USER: u32 = 20_000;

/// The fields of an answer a client keeps.
#[derive(Deserialize)]
struct Answer {
    cursor: String,
}

pub async fn run(fixture: &Fixture, server: &Path, sizes: &Sizes) -> Result<(), Error> {
    let (clients, seconds) = sizes.latency;
    figure("sync_rtt_clients", clients as f64);
    figure("sync_rtt_seconds", seconds.as_secs_f64());

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite:{}", dir.path().join("server.db").display());
    let embedded = Server::start(server, &url).await?;
    let (p50, p99) = round_trips(&embedded.base, clients, seconds).await?;
    drop(embedded);
    figure("sync_rtt_p50_ms_sqlite", p50);
    figure("sync_rtt_p99_ms_sqlite", p99);

    let (p50, p99) = round_trips(&fixture.base, clients, seconds).await?;
    figure("sync_rtt_p50_ms_postgres", p50);
    figure("sync_rtt_p99_ms_postgres", p99);
    Ok(())
}

/// `clients` clients syncing against `base` for `seconds`: the p50 and p99 round trip in ms.
async fn round_trips(base: &str, clients: usize, seconds: Duration) -> Result<(f64, f64), Error> {
    let start = Instant::now() + Duration::from_millis(500);
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let user = User::new(FIRST_USER + u32::try_from(n).expect("a few clients"));
            tokio::spawn(client(format!("{base}/api/sync"), user, start, start + seconds))
        })
        .collect();
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.map_err(|e| format!("a bench client failed: {e}"))??);
    }
    if times.is_empty() {
        return Err("no sync completed".into());
    }
    times.sort_unstable();
    let at = |quantile: f64| {
        let index = ((times.len() as f64 * quantile).ceil() as usize).clamp(1, times.len()) - 1;
        times[index].as_secs_f64() * 1e3
    };
    Ok((at(0.50), at(0.99)))
}

/// One client: a first sync for its cursor, then syncs back to back from `start` until `end`,
/// each timed. Errors are `String`s so that the task's result can cross threads.
async fn client(
    url: String,
    user: User,
    start: Instant,
    end: Instant,
) -> Result<Vec<Duration>, String> {
    // A client of its own: its own kept-alive connection, as each device has.
    let http = reqwest::Client::new();
    let sync = async |cursor: Option<&str>| -> Result<String, String> {
        let response = http
            .post(&url)
            .bearer_auth(&user.token)
            .header("content-type", "application/json")
            .body(request(cursor, 100, Vec::new()))
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("sync answered {status}: {}", String::from_utf8_lossy(&body)));
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok(answer.cursor)
    };
    let mut cursor = sync(None).await?;
    tokio::time::sleep_until(start.into()).await;
    let mut times = Vec::new();
    while Instant::now() < end {
        let sent = Instant::now();
        cursor = sync(Some(&cursor)).await?;
        times.push(sent.elapsed());
    }
    Ok(times)
}
