//! `sync-bench`: the sync figures of `cargo xtask bench` (DESIGN section 7), each measured next
//! to its baseline in the same run against the Postgres of `TEST_DATABASE_URL`.
//!
//! - `push_vs_raw`: rows pushed through `POST /api/sync` versus the same rows upserted by one
//!   raw SQL statement (raw time / our time; the target is at least 0.5).
//! - `push_vs_naive`: the seed plan's row-by-row push (look at each row, then write it) versus
//!   ours (its time / ours; the target is at least 10).
//! - `pull_vs_raw`: every row of a user pulled through HTTP, page after page, versus one raw
//!   `SELECT` of the same rows (raw time / ours; the target is at least 0.5).
//! - `pull_mem_1m_over_100k`: the server's peak memory while a client pulls 1,000,000 rows over
//!   its peak while pulling 100,000 (flat is 1.0; lower is better), the server running as its own
//!   process.
//!
//! The server under test is the `sync-server` binary given by `--server`, run as its own process
//! for every figure, so its code is built as a deployment's is.
//!
//! `--quick` divides every size by ten, for CI.

mod fixture;
mod memory;
mod pull;
mod push;

use std::path::PathBuf;
use std::process::ExitCode;

use integration_tests::pg::TestDb;

/// What one run measures.
#[derive(Debug, Clone)]
struct Sizes {
    push_rows: usize,
    naive_rows: usize,
    pull_rows: usize,
    memory_rows: (usize, usize),
}

impl Sizes {
    fn new(quick: bool) -> Self {
        let full = Sizes {
            push_rows: 10_000,
            naive_rows: 10_000,
            pull_rows: 100_000,
            memory_rows: (100_000, 1_000_000),
        };
        if !quick {
            return full;
        }
        Sizes {
            push_rows: full.push_rows / 10,
            naive_rows: full.naive_rows / 10,
            pull_rows: full.pull_rows / 10,
            memory_rows: (full.memory_rows.0 / 10, full.memory_rows.1 / 10),
        }
    }
}

fn main() -> ExitCode {
    let mut quick = false;
    let mut server = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--server" => server = args.next().map(PathBuf::from),
            other => {
                eprintln!(
                    "sync-bench: unknown argument `{other}`; usage: sync-bench [--quick] [--server <sync-server binary>]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let Some(server) = server else {
        eprintln!("sync-bench: --server <path to the sync-server binary> is required");
        return ExitCode::from(2);
    };
    let sizes = Sizes::new(quick);
    // The database is made (and dropped) with the blocking client, outside the async runtime.
    let db = TestDb::new();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        let fixture = fixture::Fixture::start(&db, &server).await?;
        push::run(&fixture, &sizes).await?;
        pull::run(&fixture, &sizes).await?;
        memory::run(&fixture, &server, &sizes).await
    });
    drop(runtime);
    drop(db);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("sync-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Print one figure as `name: value`.
fn figure(name: &str, value: f64) {
    println!("{name}: {value:.2}");
}
