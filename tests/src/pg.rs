//! Real Postgres for the tests: a fresh, uniquely named database per test (dropped when the
//! test ends), and values in and out of it in their wire form.
//!
//! Tests that need Postgres never skip: without `TEST_DATABASE_URL` they fail and say how to
//! run them, so a CI run can never pass by testing nothing. The URL may ask for TLS
//! (`sslmode`, `sslrootcert`: docs/server.md); every connection here honours it.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use codegen::ir::{Column, LogicalType, PostgresType, StoredAs};
use postgres::types::ToSql;
use postgres::{Client, Config, Row};
use serde_json::Value;
use sync_meta::database_url::PostgresUrl;

/// A database of its own for one test, with a connection to it.
pub struct TestDb {
    client: Client,
    admin_url: PostgresUrl,
    name: String,
}

impl TestDb {
    /// Create the database (named after the process, a counter and the clock, so parallel tests
    /// and parallel test binaries never collide) and connect to it.
    pub fn new() -> Self {
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => PostgresUrl::parse(&url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is not a Postgres URL: {e}")),
            _ => panic!(
                "TEST_DATABASE_URL is not set: run through `cargo xtask test` or set TEST_DATABASE_URL"
            ),
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").subsec_nanos();
        let name = format!(
            "test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = connect(&admin_url)
            .unwrap_or_else(|e| panic!("{e}; is Postgres running? `cargo xtask test` starts it"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let client = open(&admin_url, &name);
        TestDb { client, admin_url, name }
    }

    /// The connection string of this test's database: `TEST_DATABASE_URL`'s server, user and
    /// parameters (TLS among them).
    pub fn url(&self) -> String {
        self.admin_url.with_database(&self.name).as_str().to_owned()
    }

    /// The database's name, unique in the cluster (a prefix for the test's cluster-wide roles).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Another connection to this test's database, for tests of concurrent transactions.
    pub fn connect(&self) -> Client {
        open(&self.admin_url, &self.name)
    }
}

/// A connection to database `name` on the server of `admin_url`.
fn open(admin_url: &PostgresUrl, name: &str) -> Client {
    let mut client = connect(&admin_url.with_database(name)).unwrap_or_else(|e| panic!("{e}"));
    // Read-back compares text forms of dates and times; make them independent of the
    // server's configuration.
    client
        .batch_execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'")
        .expect("session settings");
    client
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

/// A blocking connection to `url`, with TLS as its `sslmode` and `sslrootcert` say; the error
/// names the URL (redacted) and what failed.
pub fn connect(url: &PostgresUrl) -> Result<Client, String> {
    let config: Config = url.driver_url().parse().map_err(|e| format!("{url}: {e}"))?;
    let tls = pg_tls::connector(url).map_err(|e| e.to_string())?;
    config
        .connect(tls)
        .map_err(|e| format!("cannot connect to {url}: {}", pg_tls::explain(&e, url)))
}

/// An async connection to `url` (with TLS as it says), driven by a task of the current runtime.
pub async fn connect_async(url: &str) -> Result<tokio_postgres::Client, String> {
    let url = PostgresUrl::parse(url).map_err(|e| e.to_string())?;
    let config: tokio_postgres::Config =
        url.driver_url().parse().map_err(|e| format!("{url}: {e}"))?;
    let tls = pg_tls::connector(&url).map_err(|e| e.to_string())?;
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| format!("cannot connect to {url}: {}", pg_tls::explain(&e, &url)))?;
    tokio::spawn(connection);
    Ok(client)
}

impl Deref for TestDb {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for TestDb {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE ends this test's own connection too. A failure here must not turn a test's
        // panic into an abort, so it is reported, not raised.
        let dropped = connect(&self.admin_url).and_then(|mut admin| {
            let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
            admin.batch_execute(&sql).map_err(|e| e.to_string())
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// The SQL placeholder for parameter `n` of a column: uuid, date, timestamp and json values
/// travel as text and are cast by the server, the others as their native Rust types.
pub fn placeholder(col: &Column, n: usize) -> String {
    let cast = match (col.ty, col.storage.postgres, col.storage.stored_as) {
        (LogicalType::Uuid, ..) => "::text::uuid",
        (LogicalType::Date, ..) => "::text::date",
        (LogicalType::Timestamp, Some(PostgresType::Timestamp), _) => "::text::timestamp",
        (LogicalType::Timestamp, ..) => "::text::timestamptz",
        (LogicalType::Json, _, Some(StoredAs::Text)) => "::text",
        (LogicalType::Json, ..) => "::text::jsonb",
        _ => "",
    };
    format!("${n}{cast}")
}

/// A wire value as a parameter for [`placeholder`].
pub fn param(col: &Column, value: &Value) -> Box<dyn ToSql + Sync> {
    let null = value.is_null();
    match (col.ty, col.storage.postgres, col.storage.stored_as) {
        (LogicalType::Boolean, _, Some(StoredAs::Integer)) => {
            Box::new(value.as_bool().map(i32::from))
        }
        (LogicalType::Boolean, ..) => Box::new(value.as_bool()),
        (LogicalType::Integer, ..) => {
            Box::new(value.as_i64().map(|i| i32::try_from(i).expect("an i32")))
        }
        (LogicalType::Bigint, ..) => Box::new(value.as_i64()),
        (LogicalType::Real, Some(PostgresType::Real), _) => {
            Box::new(value.as_f64().map(|f| f as f32))
        }
        (LogicalType::Real, ..) => Box::new(value.as_f64()),
        (LogicalType::Json, ..) => Box::new((!null).then(|| value.to_string())),
        _ => Box::new(value.as_str().map(str::to_owned)),
    }
}

/// A select-list expression that reads a column in a form [`decode`] turns back into wire
/// form (text for types the client has no Rust mapping for).
pub fn read_expr(col: &Column) -> String {
    let c = format!("\"{}\"", col.name);
    match (col.ty, col.storage.postgres) {
        (LogicalType::Uuid | LogicalType::Json, _) => format!("{c}::text"),
        (LogicalType::Date, _) => format!("to_char({c}, 'YYYY-MM-DD')"),
        (LogicalType::Timestamp, Some(PostgresType::Timestamp)) => {
            format!("to_char({c}, '{TIMESTAMP_FORMAT}')")
        }
        (LogicalType::Timestamp, _) => {
            format!("to_char({c} AT TIME ZONE 'UTC', '{TIMESTAMP_FORMAT}')")
        }
        _ => c,
    }
}

const TIMESTAMP_FORMAT: &str = "YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"";

/// Column `i` of a row selected with [`read_expr`], in wire form.
pub fn decode(col: &Column, row: &Row, i: usize) -> Value {
    let json = |v: Option<Value>| v.unwrap_or(Value::Null);
    match (col.ty, col.storage.postgres, col.storage.stored_as) {
        (LogicalType::Boolean, _, Some(StoredAs::Integer)) => {
            json(row.get::<_, Option<i32>>(i).map(|v| match v {
                0 => false.into(),
                1 => true.into(),
                other => panic!("{}: {other} is not a boolean", col.name),
            }))
        }
        (LogicalType::Boolean, ..) => json(row.get::<_, Option<bool>>(i).map(Value::from)),
        (LogicalType::Integer, ..) => json(row.get::<_, Option<i32>>(i).map(Value::from)),
        (LogicalType::Bigint, ..) => json(row.get::<_, Option<i64>>(i).map(Value::from)),
        (LogicalType::Real, Some(PostgresType::Real), _) => {
            json(row.get::<_, Option<f32>>(i).map(|f| Value::from(f64::from(f))))
        }
        (LogicalType::Real, ..) => json(row.get::<_, Option<f64>>(i).map(Value::from)),
        (LogicalType::Json, ..) => json(
            row.get::<_, Option<String>>(i)
                .map(|s| serde_json::from_str(&s).expect("stored JSON is valid")),
        ),
        _ => json(row.get::<_, Option<String>>(i).map(Value::from)),
    }
}
