//! `apply_vs_raw`: a fresh client's initial sync of rows it reads from a loopback server that
//! replays recorded responses instantly, against raw rusqlite inserts of the same rows, already
//! parsed, into a fresh database with the same DDL in one transaction.
//!
//! The responses are recorded once from the real server (pages of 10,000, the server's maximum,
//! which the client asks for too), so the client's figure is its own work only: the HTTP
//! exchange, parsing, applying each page in a transaction with its cursor. No server database is
//! involved in either measurement.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde::Deserialize;
use serde_json::Value;
use sync_runtime::client::{Client, ClientConfig};
use tokio::task::JoinHandle;

use crate::fixture::{Error, Fixture, Paired, User, request};
use crate::pull::PAGE_SIZE;
use crate::{Sizes, figure, figure_spread};

/// Recorded response bodies by the cursor of the request they answer (`None` for the first).
type Pages = HashMap<Option<String>, Bytes>;

pub async fn run(fixture: &Fixture, sizes: &Sizes) -> Result<(), Error> {
    let user = fixture.user(5).await?;
    fixture.seed_records(&user, sizes.apply_rows).await?;
    let pages = record(fixture, &user).await?;
    let inserts = Inserts::parse(&pages)?;
    let expected = sizes.apply_rows + 2; // the user's profile and tune come too
    if inserts.rows.len() != expected {
        return Err(format!("recorded {} rows, expected {expected}", inserts.rows.len()).into());
    }
    let ddl = std::fs::read_to_string(
        integration_tests::workspace_root().join("generated/sql/sqlite.sql"),
    )?;
    let replay = Replay::start(pages).await?;

    // The measurements alternate, so that a busy moment of the machine (the disk, mostly) weighs
    // on each.
    let mut paired = Paired::default();
    for _ in 0..sizes.repetitions {
        paired.ours.push(client_sync(&replay, &user, &ddl, expected).await?);
        paired.raw.push(raw_inserts(&inserts, &ddl)?);
    }
    let (ours_ms, raw_ms) = paired.median_ms();
    figure("apply_rows", sizes.apply_rows as f64);
    figure("apply_ms", ours_ms);
    figure("apply_raw_ms", raw_ms);
    figure_spread("apply_vs_raw", &paired.ratios());
    Ok(())
}

/// Pull every row of `user` from the real server, keeping each response body.
async fn record(fixture: &Fixture, user: &User) -> Result<Pages, Error> {
    #[derive(Deserialize)]
    struct Page {
        cursor: String,
        has_more: bool,
    }
    let mut pages = Pages::new();
    let mut cursor: Option<String> = None;
    loop {
        let body = fixture.sync(user, request(cursor.as_deref(), PAGE_SIZE, Vec::new())).await?;
        let page: Page = serde_json::from_slice(&body)?;
        pages.insert(cursor, Bytes::from(body));
        cursor = Some(page.cursor);
        if !page.has_more {
            return Ok(pages);
        }
    }
}

/// A fresh device's `sync_once` against the replaying server; its wall time.
async fn client_sync(
    replay: &Replay,
    user: &User,
    ddl: &str,
    expected: usize,
) -> Result<Duration, Error> {
    let dir = tempfile::tempdir()?;
    let mut config = ClientConfig::new(format!("http://{}", replay.addr), user.token.clone());
    config.page_size = Some(PAGE_SIZE);
    let client = Client::open(&dir.path().join("device.db"), &generated::SCHEMA, ddl, config)?;
    let start = Instant::now();
    let report = client.sync_once().await?;
    let elapsed = start.elapsed();
    if report.applied.stored != expected {
        return Err(format!(
            "the client stored {} rows, expected {expected}",
            report.applied.stored
        )
        .into());
    }
    Ok(elapsed)
}

/// The pulled rows as raw inserts: one statement per table and column list, and each row's
/// values in their stored form.
struct Inserts {
    statements: Vec<String>,
    /// The statement (an index into `statements`) and values of each row, in pulled order.
    rows: Vec<(usize, Vec<SqlValue>)>,
}

impl Inserts {
    /// Every row of `pages`, in the order the client applies them.
    fn parse(pages: &Pages) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Page {
            changes: Vec<Change>,
            cursor: String,
        }
        #[derive(Deserialize)]
        struct Change {
            table: String,
            row: serde_json::Map<String, Value>,
        }
        let mut inserts = Inserts { statements: Vec::new(), rows: Vec::new() };
        let mut cursor = None;
        while let Some(body) = pages.get(&cursor) {
            let page: Page = serde_json::from_slice(body)?;
            for change in page.changes {
                let names: Vec<String> = change.row.keys().map(|k| format!("\"{k}\"")).collect();
                let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
                let sql = format!(
                    "INSERT INTO \"{}\" ({}) VALUES ({})",
                    change.table,
                    names.join(", "),
                    marks.join(", ")
                );
                let statement = match inserts.statements.iter().position(|s| *s == sql) {
                    Some(known) => known,
                    None => {
                        inserts.statements.push(sql);
                        inserts.statements.len() - 1
                    }
                };
                inserts
                    .rows
                    .push((statement, change.row.into_iter().map(|(_, v)| stored(v)).collect()));
            }
            cursor = Some(page.cursor);
        }
        Ok(inserts)
    }
}

/// The stored form of a wire value in the generated SQLite DDL: timestamps, uuids and text as
/// text, booleans as 0 or 1, JSON as its text.
fn stored(value: Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(b)),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| SqlValue::Real(n.as_f64().unwrap_or_default()), SqlValue::Integer),
        Value::String(s) => SqlValue::Text(s),
        json => SqlValue::Text(json.to_string()),
    }
}

/// The rows inserted by prepared statements in one transaction into a fresh database made with
/// `ddl`, set up as the client sets up its own (WAL, foreign keys off and the outbox triggers
/// silenced while applying); the wall time of the transaction.
fn raw_inserts(inserts: &Inserts, ddl: &str) -> Result<Duration, Error> {
    let dir = tempfile::tempdir()?;
    let mut conn = fresh(&dir.path().join("raw.db"), ddl)?;
    let start = Instant::now();
    let tx = conn.transaction()?;
    tx.execute("UPDATE _sync_client SET applying = 1", [])?;
    for (statement, values) in &inserts.rows {
        tx.prepare_cached(&inserts.statements[*statement])?.execute(params_from_iter(values))?;
    }
    tx.execute("UPDATE _sync_client SET applying = 0", [])?;
    tx.commit()?;
    Ok(start.elapsed())
}

fn fresh(path: &Path, ddl: &str) -> Result<Connection, Error> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(ddl)?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    Ok(conn)
}

/// A loopback HTTP server answering `POST /api/sync` with the recorded body for the request's
/// cursor, instantly.
struct Replay {
    addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl Replay {
    async fn start(pages: Pages) -> Result<Self, Error> {
        let router = axum::Router::new()
            .route("/api/sync", axum::routing::post(answer))
            .with_state(Arc::new(pages));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Replay { addr, task })
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(pages): State<Arc<Pages>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct Asked {
        cursor: Option<String>,
    }
    let asked: Asked = match serde_json::from_slice(&body) {
        Ok(asked) => asked,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("not a sync request: {e}")).into_response();
        }
    };
    match pages.get(&asked.cursor) {
        Some(page) => ([(header::CONTENT_TYPE, "application/json")], page.clone()).into_response(),
        None => {
            (StatusCode::BAD_REQUEST, format!("no recorded page for cursor {:?}", asked.cursor))
                .into_response()
        }
    }
}
