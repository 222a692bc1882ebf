//! The product in one command: a sync server and two devices of one user, editing, syncing and
//! converging. Run it from the workspace root with `cargo run --example two_devices` (or
//! `cargo run -p sync-runtime --example two_devices --features client`).
//!
//! Everything is real and lives in a temporary directory: the server is the embedded one (a
//! SQLite store) on 127.0.0.1, and each device is a [`Client`] with a SQLite database of its own,
//! made from the generated `sqlite.sql`. The app writes to its tables with plain SQL; generated
//! triggers record each write in an outbox, and `sync_once` pushes the outbox and pulls what
//! other devices wrote. After each step the demo prints the tunes each device holds.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use sync_runtime::auth::{AuthConfig, Authenticator};
use sync_runtime::client::{Client, ClientConfig};
use sync_runtime::engine::{self, Engine};
use sync_runtime::server::{self, AppState, HttpConfig};
use sync_runtime::store::sqlite::SqliteStore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The generated SQLite DDL: the app's tables and the client's sync machinery (the outbox and
/// its triggers).
const SQLITE_DDL: &str = include_str!("../../generated/sql/sqlite.sql");
/// The embedded server's: the same tables with the server's sync machinery instead.
const SERVER_DDL: &str = include_str!("../../generated/sql/sqlite-server.sql");

/// The user both devices belong to. The demo server trusts `Authorization: Bearer <user id>`, as
/// `sync-server --insecure-dev-auth` does; a real one verifies a JWT whose `sub` is this id.
const USER: &str = "00000000-0000-4000-8000-000000000001";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    run(&mut std::io::stdout()).await.map(drop)
}

/// What the two devices hold after one step of the demo.
#[derive(Debug)]
pub struct Step {
    pub caption: &'static str,
    /// Device A's tunes: title by id.
    pub a: BTreeMap<String, String>,
    /// Device B's tunes: title by id.
    pub b: BTreeMap<String, String>,
    /// Local writes each device has not synced yet: (A, B).
    pub unsynced: (i64, i64),
}

/// Run the demo, printing each step to `out`; the steps, for a test to check.
pub async fn run(out: &mut dyn Write) -> Result<Vec<Step>, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let server = DemoServer::start(&dir.path().join("server.db")).await?;
    writeln!(out, "sync server on {}, two devices of user {USER}\n", server.url)?;
    let a = device(&dir.path().join("device-a.db"), &server.url)?;
    let b = device(&dir.path().join("device-b.db"), &server.url)?;
    let mut steps = Vec::new();

    // 1. A creates the user's profile and two tunes with plain SQL; the triggers queue them.
    a.with_db(|db| {
        db.execute_batch(&format!(
            "INSERT INTO user_profile (id, display_name) VALUES ('{USER}', 'Demo player');
             INSERT INTO tune (user_id, title, type) VALUES ('{USER}', 'The Kesh', 'jig');
             INSERT INTO tune (user_id, title, type) VALUES ('{USER}', 'Drowsy Maggie', 'reel');"
        ))
    })?;
    a.sync_once().await?;
    b.sync_once().await?;
    steps.push(Step::show(out, "1. A adds two tunes and syncs; B syncs and has them", &a, &b)?);

    // 2. Both devices rename the same tune while offline. The conflict clock is the row's
    // `last_modified_at`, which the app stamps when it writes; B edits a moment after A (at least
    // a millisecond, the clock's resolution, so that B's edit is the later one).
    let kesh: String = a.with_db(|db| {
        db.query_row("SELECT id FROM tune WHERE title = 'The Kesh'", [], |row| row.get(0))
    })?;
    rename(&a, &kesh, "The Kesh (A's setting)")?;
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    rename(&b, &kesh, "The Kesh (B's setting)")?;
    steps.push(Step::show(out, "2. Offline, A and then B rename The Kesh", &a, &b)?);

    // Whatever order they sync in, the last write wins everywhere: A's push is accepted first,
    // B's later edit replaces it, and A's next sync brings B's edit down.
    a.sync_once().await?;
    b.sync_once().await?;
    a.sync_once().await?;
    steps.push(Step::show(out, "3. A, B, then A sync: B's later edit wins on both", &a, &b)?);

    // 4. A deletes a tune. The server keeps a tombstone, so B learns of the deletion.
    a.with_db(|db| db.execute("DELETE FROM tune WHERE title = 'Drowsy Maggie'", []))?;
    a.sync_once().await?;
    b.sync_once().await?;
    steps.push(Step::show(out, "4. A deletes Drowsy Maggie and syncs; B syncs: gone", &a, &b)?);

    server.stop().await?;
    Ok(steps)
}

/// A device of [`USER`] with its database at `path`, syncing with the server at `url`.
fn device(path: &Path, url: &str) -> Result<Client, Box<dyn Error>> {
    Ok(Client::open(path, &generated::SCHEMA, SQLITE_DDL, ClientConfig::new(url, USER))?)
}

/// Rename tune `id` on `device`, stamping the edit with the time now.
fn rename(device: &Client, id: &str, title: &str) -> Result<(), Box<dyn Error>> {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    device.with_db(|db| {
        db.execute(
            "UPDATE tune SET title = ?1, last_modified_at = ?2 WHERE id = ?3",
            [title, &now, id],
        )
    })?;
    Ok(())
}

impl Step {
    /// Read both devices' tunes and print them side by side under `caption`.
    fn show(
        out: &mut dyn Write,
        caption: &'static str,
        a: &Client,
        b: &Client,
    ) -> Result<Step, Box<dyn Error>> {
        let step =
            Step { caption, a: tunes(a)?, b: tunes(b)?, unsynced: (unsynced(a)?, unsynced(b)?) };
        writeln!(out, "{caption}")?;
        writeln!(out, "   {:<10} {:<24} device B", "tune", "device A")?;
        let ids: BTreeSet<&String> = step.a.keys().chain(step.b.keys()).collect();
        for id in ids {
            let [on_a, on_b] = [&step.a, &step.b].map(|t| t.get(id).map_or("-", String::as_str));
            writeln!(out, "   {:<10} {on_a:<24} {on_b}", &id[..8])?;
        }
        let (a, b) = step.unsynced;
        writeln!(out, "   unsynced local writes: A {a}, B {b}\n")?;
        Ok(step)
    }
}

/// The tunes `device` holds: title by id.
fn tunes(device: &Client) -> Result<BTreeMap<String, String>, Box<dyn Error>> {
    Ok(device.with_db(|db| {
        db.prepare("SELECT id, title FROM tune")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()
    })?)
}

/// How many of `device`'s local writes wait in its outbox.
fn unsynced(device: &Client) -> Result<i64, Box<dyn Error>> {
    Ok(device.with_db(|db| db.query_row("SELECT count(*) FROM _sync_outbox", [], |r| r.get(0)))?)
}

/// The embedded sync server on a free loopback port.
struct DemoServer {
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl DemoServer {
    async fn start(path: &Path) -> Result<DemoServer, Box<dyn Error>> {
        let store = SqliteStore::open(path, &generated::SCHEMA, SERVER_DDL)?;
        let engine = Engine::new(&generated::SCHEMA, store, engine::Config::default());
        // Development auth keeps the demo free of keys and tokens; never in production.
        let auth = Authenticator::new(AuthConfig { insecure_dev: true, ..AuthConfig::default() });
        let state = AppState { engine, auth: auth.await?, http: HttpConfig::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(server::serve(listener, server::router(Arc::new(state)), shutdown));
        Ok(DemoServer { url, stop, task })
    }

    /// Stop accepting requests and wait for the server to finish.
    async fn stop(self) -> Result<(), Box<dyn Error>> {
        let _ = self.stop.send(());
        Ok(self.task.await??)
    }
}
