//! `sync-bench sync-client`: one device's initial sync in a process of its own, so that its peak
//! memory is the client's alone. It opens a fresh client with the default configuration (as an
//! app would), syncs once to the end, checks what it holds, and prints `seconds`, `peak_kib` and
//! `rows` lines for the parent to read.
//!
//! Arguments: `--server <base URL> --expect <practice records>`; the bearer token comes from
//! `SYNC_BENCH_TOKEN`.

use std::time::Instant;

use integration_tests::server_process::peak_kib;
use sync_runtime::client::{Client, ClientConfig};

use crate::fixture::Error;

/// The table whose rows the initial sync is made of.
pub const TABLE: &str = "practice_record";

/// The environment variable the parent passes the user's token in.
pub const TOKEN_VAR: &str = "SYNC_BENCH_TOKEN";

pub fn main(mut args: impl Iterator<Item = String>) -> Result<(), Error> {
    let (mut server, mut expect) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server" => server = args.next(),
            "--expect" => expect = args.next().map(|n| n.parse::<usize>()).transpose()?,
            other => return Err(format!("sync-client: unknown argument `{other}`").into()),
        }
    }
    let (Some(server), Some(expect)) = (server, expect) else {
        return Err("sync-client: --server <base URL> and --expect <rows> are required".into());
    };
    let token =
        std::env::var(TOKEN_VAR).map_err(|_| format!("sync-client: {TOKEN_VAR} is unset"))?;
    let ddl = std::fs::read_to_string(
        integration_tests::workspace_root().join("generated/sql/sqlite.sql"),
    )?;
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let start = Instant::now();
    let config = ClientConfig::new(server, token);
    let client = Client::open(&dir.path().join("device.db"), &generated::SCHEMA, &ddl, config)?;
    runtime.block_on(client.sync_once())?;
    let seconds = start.elapsed().as_secs_f64();
    let rows: i64 = client.with_db(|conn| {
        conn.query_row(&format!("SELECT count(*) FROM {TABLE}"), [], |row| row.get(0))
    })?;
    if usize::try_from(rows)? != expect {
        return Err(format!(
            "sync-client: the device holds {rows} {TABLE} rows, expected {expect}"
        )
        .into());
    }
    println!("seconds: {seconds}");
    println!("peak_kib: {}", peak_kib(std::process::id())?);
    println!("rows: {rows}");
    Ok(())
}
