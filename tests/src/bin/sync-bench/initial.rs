//! `initial_sync_100k_{sqlite,postgres}_s` and `client_peak_mib_{sqlite,postgres}`: a new device
//! of a user who has 100,000 practice records syncs everything, end to end, through a
//! `sync-server` on the embedded SQLite store and through one on Postgres. The device is a
//! process of its own (`sync-bench sync-client`, [`crate::device`]), so its peak memory is
//! measured alone.

use std::path::Path;
use std::process::Command;

use integration_tests::sync::{profile, tune, upsert};
use serde_json::Value;

use crate::device::TOKEN_VAR;
use crate::fixture::{Error, Fixture, Server, User, request};
use crate::{Sizes, figure};

/// The most changes one push may carry (the server's default limit).
const PUSH_BATCH: usize = 10_000;

pub async fn run(fixture: &Fixture, server: &Path, sizes: &Sizes) -> Result<(), Error> {
    let rows = sizes.initial_rows;
    figure("initial_sync_rows", rows as f64);

    // The embedded store: a server of its own over a fresh SQLite file, filled through HTTP as
    // an app's devices would fill it.
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite:{}", dir.path().join("server.db").display());
    let embedded = Server::start(server, &url).await?;
    let user = User::new(7);
    fill(fixture, &embedded.base, &user, rows).await?;
    let (seconds, peak_kib) = device(&embedded.base, &user, rows)?;
    drop(embedded);
    figure("initial_sync_100k_sqlite_s", seconds);
    figure("client_peak_mib_sqlite", peak_kib as f64 / 1024.0);

    let user = fixture.user(6).await?;
    fixture.seed_records(&user, rows).await?;
    let (seconds, peak_kib) = device(&fixture.base, &user, rows)?;
    figure("initial_sync_100k_postgres_s", seconds);
    figure("client_peak_mib_postgres", peak_kib as f64 / 1024.0);
    Ok(())
}

/// Push `user`'s profile, tune and `rows` practice records to the server at `base`.
async fn fill(fixture: &Fixture, base: &str, user: &User, rows: usize) -> Result<(), Error> {
    let at = "2026-11-24T10:00:00.000Z";
    let first = vec![profile(&user.id, at), tune(&user.tune, &user.id, "Tune", at)];
    fixture.sync_at(base, user, request(None, 1, first)).await?;
    let records: Vec<Value> =
        user.records(rows).into_iter().map(|row| upsert("practice_record", row)).collect();
    for batch in records.chunks(PUSH_BATCH) {
        fixture.sync_at(base, user, request(None, 1, batch.to_vec())).await?;
    }
    Ok(())
}

/// Run a device's initial sync from the server at `base` in a child process; its time in
/// seconds and its peak memory in KiB.
fn device(base: &str, user: &User, rows: usize) -> Result<(f64, u64), Error> {
    // This very executable, even when a build has replaced the file meanwhile.
    let output = Command::new("/proc/self/exe")
        .args(["sync-client", "--server", base, "--expect", &rows.to_string()])
        .env(TOKEN_VAR, &user.token)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the sync-client process failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
            .ok_or_else(|| format!("the sync-client process printed no `{name}`: {stdout}"))
    };
    Ok((value("seconds")?.parse()?, value("peak_kib")?.parse()?))
}
