//! `sync-bench`: the sync figures of `cargo xtask bench` (docs/bench.md), each measured next
//! to its baseline in the same run against the Postgres of `TEST_DATABASE_URL`.
//!
//! - `push_vs_raw`: rows pushed through `POST /api/sync` versus the same rows upserted by one
//!   raw SQL statement (raw time / our time; the target is at least 0.5).
//! - `push_vs_naive`: the seed plan's row-by-row push (look at each row, then write it) versus
//!   ours (its time / ours; the target is at least 10).
//! - `push_1pct_refused_vs_clean`: a push of which 1% of the changes break a unique key versus the
//!   same push all valid (the clean time / the refused time; the target is at least 0.5).
//! - `pull_vs_raw`: every row of a user pulled through HTTP, page after page, versus one raw
//!   `SELECT` of the same rows (raw time / ours; the target is at least 0.5).
//! - `pull_mem_1m_over_100k`: the server's peak memory while a client pulls 1,000,000 rows over
//!   its peak while pulling 100,000 (flat is 1.0; lower is better), the server running as its own
//!   process.
//! - `apply_vs_raw`: a fresh client's sync of 100,000 pulled rows, replayed instantly by a
//!   loopback server, versus raw rusqlite inserts of the same rows (raw time / ours; the target is
//!   at least 0.5).
//! - `initial_sync_100k_sqlite_s`, `initial_sync_100k_postgres_s`, `client_peak_mib_sqlite`,
//!   `client_peak_mib_postgres`: a new device's initial sync of 100,000 rows end to end, through
//!   the embedded SQLite store and through Postgres: seconds, and the client process's peak
//!   memory.
//! - `sync_rtt_p50_ms_sqlite`, `sync_rtt_p99_ms_sqlite`, `sync_rtt_p50_ms_postgres`,
//!   `sync_rtt_p99_ms_postgres`: 100 clients syncing with empty outboxes for 20 s, the median and
//!   99th percentile round trip on each store ([`latency`]).
//!
//! The server under test is the `sync-server` binary given by `--server`, run as its own process
//! for every figure, so its code is built as a deployment's is.
//!
//! `--quick` divides every size by ten, for CI; `--only <group>` measures one group of figures
//! (push, refused, pull, apply, initial, latency, memory), for whoever works on one. `sync-bench sync-client ...` is the device
//! process of the initial sync figures ([`device`]).

mod apply;
mod device;
mod fixture;
mod initial;
mod latency;
mod memory;
mod pull;
mod push;
mod refused;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use integration_tests::pg::TestDb;

/// The groups of figures, in the order they run; `--only <group>` runs one of them.
const GROUPS: [&str; 7] = ["push", "refused", "pull", "apply", "initial", "latency", "memory"];

/// What one run measures.
#[derive(Debug, Clone)]
struct Sizes {
    push_rows: usize,
    naive_rows: usize,
    pull_rows: usize,
    memory_rows: (usize, usize),
    apply_rows: usize,
    initial_rows: usize,
    /// How often each figure against a baseline is measured (its median and spread are printed).
    repetitions: usize,
    /// Clients syncing at once, and for how long.
    latency: (usize, Duration),
}

impl Sizes {
    fn new(quick: bool) -> Self {
        let full = Sizes {
            push_rows: 10_000,
            naive_rows: 10_000,
            pull_rows: 100_000,
            memory_rows: (100_000, 1_000_000),
            apply_rows: 100_000,
            initial_rows: 100_000,
            repetitions: 5,
            latency: (100, Duration::from_secs(20)),
        };
        if !quick {
            return full;
        }
        Sizes {
            push_rows: full.push_rows / 10,
            naive_rows: full.naive_rows / 10,
            pull_rows: full.pull_rows / 10,
            memory_rows: (full.memory_rows.0 / 10, full.memory_rows.1 / 10),
            apply_rows: full.apply_rows / 10,
            initial_rows: full.initial_rows / 10,
            repetitions: 3,
            latency: (20, Duration::from_secs(2)),
        }
    }
}

fn main() -> ExitCode {
    let mut quick = false;
    let mut server = None;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().is_some_and(|arg| arg == "sync-client") {
        return match device::main(args.skip(1)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&*error),
        };
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--server" => server = args.next().map(PathBuf::from),
            "--only" => only = args.next(),
            other => {
                eprintln!(
                    "sync-bench: unknown argument `{other}`; usage: sync-bench [--quick] \
                     [--only {}] --server <sync-server binary>",
                    GROUPS.join("|")
                );
                return ExitCode::from(2);
            }
        }
    }
    let Some(server) = server else {
        eprintln!("sync-bench: --server <path to the sync-server binary> is required");
        return ExitCode::from(2);
    };
    if let Some(group) = only.as_deref().filter(|g| !GROUPS.contains(g)) {
        eprintln!("sync-bench: --only takes one of {}, not `{group}`", GROUPS.join(", "));
        return ExitCode::from(2);
    }
    let runs = |group: &str| only.as_deref().is_none_or(|only| only == group);
    let sizes = Sizes::new(quick);
    // The database is made (and dropped) with the blocking client, outside the async runtime.
    let db = TestDb::new();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        let fixture = fixture::Fixture::start(&db, &server).await?;
        if runs("push") {
            push::run(&fixture, &sizes).await?;
        }
        if runs("refused") {
            refused::run(&fixture, &sizes).await?;
        }
        if runs("pull") {
            pull::run(&fixture, &sizes).await?;
        }
        if runs("apply") {
            apply::run(&fixture, &sizes).await?;
        }
        if runs("initial") {
            initial::run(&fixture, &server, &sizes).await?;
        }
        if runs("latency") {
            latency::run(&fixture, &server, &sizes).await?;
        }
        if runs("memory") {
            memory::run(&fixture, &server, &sizes).await?;
        }
        Ok::<(), fixture::Error>(())
    });
    drop(runtime);
    drop(db);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&*error),
    }
}

/// Report `error` with its causes; exit 1.
fn fail(error: &dyn std::error::Error) -> ExitCode {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    eprintln!("sync-bench: {message}");
    ExitCode::FAILURE
}

/// Print one figure as `name: value`.
fn figure(name: &str, value: f64) {
    println!("{name}: {value:.2}");
}

/// Print a figure measured several times as `name: median (min-max, n=N)`: the line starts as
/// [`figure`]'s `name: value` does.
fn figure_spread(name: &str, values: &[f64]) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    println!("{name}: {:.2} ({low:.2}-{high:.2}, n={})", median(&sorted), sorted.len());
}

/// The median of `values` (the mean of the middle two of an even count); not empty.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}
