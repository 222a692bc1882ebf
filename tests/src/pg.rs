//! Real Postgres for the tests: a fresh, uniquely named database per test (dropped when the
//! test ends), and values in and out of it in their wire form.
//!
//! Tests that need Postgres never skip: without `TEST_DATABASE_URL` they fail and say how to
//! run them, so a CI run can never pass by testing nothing.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use codegen::ir::{Column, LogicalType, PostgresType, StoredAs};
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row};
use serde_json::Value;

/// A database of its own for one test, with a connection to it.
pub struct TestDb {
    client: Client,
    admin_url: String,
    name: String,
}

impl TestDb {
    /// Create the database (named after the process, a counter and the clock, so parallel tests
    /// and parallel test binaries never collide) and connect to it.
    pub fn new() -> Self {
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
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
        let mut admin = connect(&admin_url);
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let client = open(&admin_url, &name);
        TestDb { client, admin_url, name }
    }

    /// The connection string of this test's database.
    pub fn url(&self) -> String {
        let mut config: Config = self.admin_url.parse().expect("TEST_DATABASE_URL is a valid URL");
        config.dbname(&self.name);
        let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres");
        match password {
            Some(password) => format!("postgres://{user}:{password}@{host}:{port}/{}", self.name),
            None => format!("postgres://{user}@{host}:{port}/{}", self.name),
        }
    }

    /// Another connection to this test's database, for tests of concurrent transactions.
    pub fn connect(&self) -> Client {
        open(&self.admin_url, &self.name)
    }
}

/// A connection to database `name` on the server of `admin_url`.
fn open(admin_url: &str, name: &str) -> Client {
    let mut config: Config = admin_url.parse().expect("TEST_DATABASE_URL is a valid URL");
    config.dbname(name);
    let mut client = config
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the new database {name}: {e}"));
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

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot connect to TEST_DATABASE_URL: {e}; is Postgres running? `cargo xtask test` starts it"
        )
    })
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
        let dropped = Client::connect(&self.admin_url, NoTls).and_then(|mut admin| {
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
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
